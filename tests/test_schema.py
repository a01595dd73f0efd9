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


def test_0004_fills_the_pinyin_key_of_existing_customers(tmp_path):
    from sqlalchemy import text

    from bot.storage.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0003r")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO workspace (team_id, settings, last_customer_number, last_complaint_number, created_at) "
                          "VALUES ('T1', '{}', 2, 0, '2026-11-25')"))  # fmt: skip
        for number, name in ((1, "张伟"), (2, "Acme Ltd")):
            conn.execute(
                text("INSERT INTO customer (team_id, number, name, name_key, revisits_enabled, created_at, updated_at) "
                     "VALUES ('T1', :n, :name, :name, 1, '2026-11-25', '2026-11-25')"),
                {"n": number, "name": name},
            )  # fmt: skip
    upgrade(engine, "0004")
    with engine.connect() as conn:
        keys = dict(conn.execute(text("SELECT name, search_key FROM customer")).all())
    engine.dispose()
    assert keys == {"张伟": " zhangwei zw wei ", "Acme Ltd": None}
