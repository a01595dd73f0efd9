"""The migrations build exactly the schema the models describe, on this test run's database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.storage.db import alembic_config
from bot.storage.models import Base, include_in_comparison


def test_models_and_migrations_agree(engine):
    with engine.connect() as conn:
        opts = {"compare_type": True, "include_object": include_in_comparison(conn.dialect.name)}
        context = MigrationContext.configure(conn, opts=opts)
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


def test_0005_fills_the_search_text_and_han_characters_of_existing_customers(tmp_path):
    from sqlalchemy import text

    from bot.storage.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0004")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO workspace (team_id, settings, last_customer_number, last_complaint_number, created_at) "
                          "VALUES ('T1', '{}', 2, 0, '2026-11-25')"))  # fmt: skip
        for number, name, email, tags in ((1, "张伟", None, "重点"), (2, "Acme  Ltd", "Buyer@Acme.com", None)):
            conn.execute(
                text("INSERT INTO customer (team_id, number, name, name_key, email, tags, revisits_enabled, "
                     "created_at, updated_at) VALUES ('T1', :n, :name, :name, :email, :tags, 1, '2026-11-25', "
                     "'2026-11-25')"),
                {"n": number, "name": name, "email": email, "tags": tags},
            )  # fmt: skip
    upgrade(engine, "0005")
    with engine.connect() as conn:
        docs = dict(conn.execute(text("SELECT name, search_doc FROM customer")).all())
        grams = sorted(conn.execute(text("SELECT gram FROM search_gram")).scalars())
    engine.dispose()
    assert docs == {"张伟": "\n张伟\n\t重点\n", "Acme  Ltd": "\nacme ltd\nbuyer@acme.com\n\t\n"}
    assert grams == sorted("张伟重点")
