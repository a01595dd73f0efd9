"""The migrations build exactly the schema the models describe, on this test run's database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from bot.storage.db import alembic_config, make_engine, upgrade
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


def _customers_before(tmp_path, revision: str, rows: list[dict[str, object]]) -> Engine:
    """A database at `revision` holding these customers (name, and any other columns) in team T1."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, revision)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO workspace (team_id, settings, last_customer_number, last_complaint_number, created_at) "
                          "VALUES ('T1', '{}', :n, 0, '2026-11-25')"), {"n": len(rows)})  # fmt: skip
        for number, row in enumerate(rows, 1):
            values = {"team_id": "T1", "number": number, "name_key": row["name"], "revisits_enabled": True,
                      "created_at": "2026-11-25", "updated_at": "2026-11-25", **row}  # fmt: skip
            conn.execute(text(f"INSERT INTO customer ({', '.join(values)}) VALUES ({', '.join(':' + k for k in values)})"),
                         values)  # fmt: skip
    return engine


def test_0004_fills_the_pinyin_key_of_existing_customers(tmp_path):
    engine = _customers_before(tmp_path, "0003r", [{"name": "张伟"}, {"name": "Acme Ltd"}])
    upgrade(engine, "0004")
    with engine.connect() as conn:
        keys = dict(conn.execute(text("SELECT name, search_key FROM customer")).all())
    engine.dispose()
    assert keys == {"张伟": " zhangwei zw wei ", "Acme Ltd": None}


def test_0005_fills_the_search_text_and_han_characters_of_existing_customers(tmp_path):
    engine = _customers_before(tmp_path, "0004", [{"name": "张伟", "tags": "重点"},
                                                  {"name": "Acme  Ltd", "email": "Buyer@Acme.com"}])  # fmt: skip
    upgrade(engine, "0005")
    with engine.connect() as conn:
        docs = dict(conn.execute(text("SELECT name, search_doc FROM customer")).all())
        grams = sorted(conn.execute(text("SELECT gram FROM search_gram")).scalars())
    engine.dispose()
    assert docs == {"张伟": "\n张伟\n\t重点\n", "Acme  Ltd": "\nacme ltd\nbuyer@acme.com\n\t\n"}
    assert grams == sorted("张伟重点")
