"""SQLite plans its queries by statistics that nobody takes unless asked (PostgreSQL's
autovacuum takes its own): `refresh_statistics` takes them for tables that have none or have
grown or shrunk since, and only for those."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.storage.db import refresh_statistics
from tests.helpers import add_customer


def test_tables_without_or_with_stale_statistics_are_analysed_once(engine, session):
    if engine.dialect.name != "sqlite":
        assert refresh_statistics(engine) == []  # autovacuum's work there
        pytest.skip("statistics are taken by PostgreSQL itself")
    for n in range(12):
        add_customer(session, f"Customer {n}")
    assert "customer" in refresh_statistics(engine, at_least=10)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'customer'")).scalar()
    assert "customer" not in refresh_statistics(engine, at_least=10)  # fresh: nothing to do
    for n in range(12, 30):
        add_customer(session, f"Customer {n}")
    assert "customer" in refresh_statistics(engine, at_least=10)  # more than twice the rows since
    with engine.begin() as conn:  # as a migration adds an index, and a partial one that holds no rows
        conn.execute(text("CREATE INDEX ix_test_customer_name ON customer (team_id, name_key)"))
        conn.execute(text("CREATE INDEX ix_test_customer_none ON customer (team_id) WHERE name_key = 'nobody'"))
    assert "customer" in refresh_statistics(engine, at_least=10)  # the new index has none yet
    assert "customer" not in refresh_statistics(engine, at_least=10)  # ANALYZE writes none for the empty one
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_test_customer_name"))
        conn.execute(text("DROP INDEX ix_test_customer_none"))
    with engine.begin() as conn:  # the other tests plan without them, as before
        conn.execute(text("DELETE FROM sqlite_stat1"))


def test_a_table_holding_rows_of_many_more_teams_than_its_statistics_say_is_analysed_again(engine, session):
    """Statistics taken while one team filled the table say a team's rows are all its rows; the
    planner then scans the table for a small team's (a workspace's deletion scanned millions of
    search lines). New teams with few rows do not double the table, yet are counted."""
    if engine.dialect.name != "sqlite":
        pytest.skip("statistics are taken by PostgreSQL itself")
    try:
        for n in range(30):
            add_customer(session, f"Customer {n}")
        assert "customer" in refresh_statistics(engine, at_least=10)
        assert "customer" not in refresh_statistics(engine, at_least=10)
        for team in range(4):  # 4 new workspaces of one customer: 34 rows, not twice 30; 5 teams, not 1
            add_customer(session, f"Small {team}", team=f"T0SMALL{team:02d}")
        assert "customer" in refresh_statistics(engine, at_least=10)
        with engine.connect() as conn:
            stat = conn.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'customer' "
                                     "AND idx = 'ix_customer_team_stage'")).scalar()  # fmt: skip
        rows, per_team = map(int, stat.split()[:2])
        assert rows == 34 and per_team < 34  # a team's rows are no longer all the rows
        assert "customer" not in refresh_statistics(engine, at_least=10)
    finally:
        with engine.begin() as conn:  # the other tests plan without them, as before
            conn.execute(text("DELETE FROM sqlite_stat1"))
