"""Statements whose best plan depends on their values carry those values instead of binding
them. psycopg prepares a statement from its fifth execution, and PostgreSQL may then plan it
once for every value: for a big team among many small ones that plan filtered a team's every
complaint to list 25 of them, and sorted every line of a one-letter prefix to offer 20
(docs/PERFORMANCE.md, section 37). So the complaint list and the search must not leave the
team, the prefix or the page size to a placeholder; the other statements may."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from bot.services import complaints, find
from bot.services.find import resolve_customer, search_customers
from tests.helpers import add_customer, as_admin
from tests.slackclient import TEAM

NOW = dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC)


@contextmanager
def selects(session: Session) -> Iterator[list[tuple[str, object]]]:
    """The SELECTs sent while inside, with their bound values."""
    sent: list[tuple[str, object]] = []

    def seen(_conn, _cursor, statement, parameters, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def bound(parameters: object) -> list[object]:
    return list(parameters.values() if isinstance(parameters, dict) else parameters or ())  # type: ignore[union-attr]


def test_the_complaint_lists_ordering_statement_carries_the_team_and_the_states(session):
    add_customer(session, "Acme")
    with selects(session) as sent:
        for view in complaints.LIST_VIEWS:
            complaints.list_complaints(session=session, viewer=as_admin(), view=view, now=NOW)
    ordering = [(s, p) for s, p in sent if "ORDER BY CASE" in s]
    assert len(ordering) == len(complaints.LIST_VIEWS)
    for statement, parameters in ordering:
        assert f"'{TEAM}'" in statement and "'in_progress'" in statement
        assert TEAM not in bound(parameters) and "in_progress" not in bound(parameters)


def test_a_search_carries_its_team_its_prefix_and_its_page_size(session):
    for name in ("Lambda Trading", "Lin Wei", "Luo Fang"):
        add_customer(session, name)
    with selects(session) as sent:
        found, _ = search_customers(session=session, viewer=as_admin(), text="l")
        contained, _ = search_customers(session=session, viewer=as_admin(), text="ang")
        resolve_customer(session=session, viewer=as_admin(), ref="lu")
    assert {c.name for c in found} == {"Lambda Trading", "Lin Wei", "Luo Fang"}
    assert [c.name for c in contained] == ["Luo Fang"]
    searching = [(s, p) for s, p in sent if "search_line" in s or " LIKE " in s]
    assert any("search_doc LIKE" in s for s, _ in searching), "no search read the customers' text"
    assert searching, "the search read no lines and no names"
    for statement, parameters in searching:
        values = bound(parameters)
        assert TEAM not in values, statement  # where the team is asked for, it is written in
        assert re.search(r"LIMIT \d+", statement), statement
    assert all(f"'{TEAM}'" in s for s, _ in searching if "team_id" in s)
    prefix = next(s for s, _ in searching if "substr(" in s)
    assert "substr(search_line.line, 1, 1) = 'l'" in prefix


@pytest.mark.parametrize("few", [200, 1], ids=["few lines begin zh", "many lines begin zh"])
def test_short_prefixes_read_the_lines_of_their_first_character_in_name_order(session, monkeypatch, few):
    """A prefix of one character, or a longer one that begins many lines, walks
    `ix_search_line_initial`: the database uses it only for the expression the index holds
    (section 39)."""
    monkeypatch.setattr(find, "_FEW", few)
    for n in (2, 0, 1):
        add_customer(session, f"Zhang Wei {n}")
    add_customer(session, "Acme Zhuhai")
    with selects(session) as sent:
        for typed in ("z", "zh"):
            found, _ = search_customers(session=session, viewer=as_admin(), text=typed)
            assert [c.name for c in found] == ["Zhang Wei 0", "Zhang Wei 1", "Zhang Wei 2", "Acme Zhuhai"]  # prefix, contains
    walks = [(s, p) for s, p in sent if "substr(" in s]
    assert "substr(search_line.line, 1, 1) = 'z'" in walks[0][0]
    if few == 1:
        assert len(walks) == 2 and "substr(search_line.line, 1, 2) = 'zh'" in walks[1][0]
    else:
        assert len(walks) == 1  # `zh` is a range of the primary key, sorted
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:  # a handful of rows: make PostgreSQL show which index it can use, not scan
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("SET LOCAL enable_bitmapscan = off"))
    for statement, parameters in walks:
        plan = session.connection().exec_driver_sql(("EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN ") + statement,
                                                    parameters).all()  # fmt: skip
        assert "ix_search_line_initial" in str(plan), plan
