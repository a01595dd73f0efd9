"""The migrations build exactly the schema the models describe, on this test run's database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.storage.db import alembic_config
from bot.storage.models import Base


def test_models_and_migrations_agree(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_database_is_at_the_single_head(engine):
    script = ScriptDirectory.from_config(alembic_config(engine))
    assert len(script.get_heads()) == 1
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == script.get_current_head()


def test_every_table_is_scoped_by_team():
    for table in Base.metadata.sorted_tables:
        assert "team_id" in table.columns, table.name
