"""The migrations build exactly the schema the models describe, on this test run's database."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from cryptography.fernet import Fernet
from sqlalchemy import Engine, PrimaryKeyConstraint, UniqueConstraint, select, text
from sqlalchemy.orm import Session

from bot.storage import crypto
from bot.storage.db import alembic_config, make_engine, upgrade
from bot.storage.models import (
    AuditEvent,
    Base,
    Complaint,
    ComplaintEvent,
    Customer,
    Member,
    Notification,
)
from bot.storage.schema import include_in_comparison

WHEN = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)  # what the migration tests act as of


# SQLite's expression index is not read back (SQLAlchemy) and so not compared (Alembic).
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index ix_search_line_initial")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index 'ix_search_line_initial'")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index ix_search_line_initials")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index 'ix_search_line_initials'")
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
        # The one exception says why (an OAuth state exists before its workspace is known).
        assert "team_id" in table.columns or table.info.get("unscoped"), table.name


def test_every_foreign_key_is_the_start_of_an_index():
    """Deleting a row looks up the rows that refer to it (a workspace's purge deletes every touch
    and customer it has): without an index that begins with the referring columns, each look reads
    the whole table, every team's rows (migration 0028)."""
    unindexed = []
    for table in Base.metadata.sorted_tables:
        # Indexes on both databases (not one's alone), the primary key and unique constraints.
        starts = [[c.name for c in index.columns] for index in table.indexes if "only_on" not in index.info]
        starts += [[c.name for c in constraint.columns] for constraint in table.constraints
                   if isinstance(constraint, (PrimaryKeyConstraint, UniqueConstraint))]  # fmt: skip
        for key in table.foreign_key_constraints:
            columns = [c.name for c in key.columns]
            if not any(start[: len(columns)] == columns for start in starts):
                unindexed.append(f"{table.name}({', '.join(columns)})")
    assert unindexed == []


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


def test_0005_leaves_email_and_phone_out_of_the_search_text_when_keys_are_set(tmp_path):
    engine = _customers_before(tmp_path, "0004", [{"name": "Acme Ltd", "email": "buyer@acme.com", "phone": "+86 139"}])
    crypto.configure(Fernet.generate_key().decode())  # migrations/env.py tells 0005, which imports no keys itself
    try:
        upgrade(engine, "0005")
    finally:
        crypto.configure(None)
    with engine.connect() as conn:
        doc = conn.execute(text("SELECT search_doc FROM customer")).scalar()
    engine.dispose()
    assert doc == "\nacme ltd\n\t\n"


def test_0009_keeps_every_row_readable_and_what_refers_to_it(tmp_path):
    engine = _customers_before(tmp_path, "0008", [{"name": "Acme Ltd", "title": "Buyer", "search_doc": "\nacme ltd\n"}])
    with engine.begin() as conn:
        for sql in (
            "INSERT INTO member (team_id, user_id, name, is_slack_admin, digest_enabled, created_at) "
            "VALUES ('T1', 'U1', 'Li Wei', 0, 1, '2026-11-25')",
            "INSERT INTO complaint (id, team_id, number, customer_id, title, severity, state, author_id, opened_at, "
            "cycle, escalation_level, created_at, updated_at) VALUES (1, 'T1', 1, 1, 'Late delivery', 'normal', "
            "'resolved', 'U1', '2026-11-25', 1, 0, '2026-11-25', '2026-11-25')",
            "INSERT INTO complaint_event (team_id, complaint_id, kind, note, at) VALUES ('T1', 1, 'state', 'Refunded', "
            "'2026-11-25')",
            "INSERT INTO audit_event (team_id, action, entity, entity_id, changes, at) VALUES ('T1', 'update', "
            "'customer', 1, '{\"email\": [\"a@example.com\", \"b@example.com\"]}', '2026-11-25')",
            "INSERT INTO notification (team_id, key, kind, channel, payload, status, due_at, attempts, created_at) "
            "VALUES ('T1', 'k', 'digest', 'U1', '{\"text\": \"hi\"}', 'sent', '2026-11-25', 1, '2026-11-25')",
        ):
            conn.execute(text(sql))
    upgrade(engine, "0009")
    with Session(engine) as session:
        assert session.scalars(select(Customer.title)).one() == "Buyer"
        assert session.scalars(select(Member.name)).one() == "Li Wei"
        assert session.scalars(select(Complaint.title)).one() == "Late delivery"
        assert session.scalars(select(ComplaintEvent.note)).one() == "Refunded"  # not dropped with the old table
        assert session.scalars(select(AuditEvent.changes)).one() == {"email": ["a@example.com", "b@example.com"]}
        assert session.scalars(select(Notification.payload)).one() == {"text": "hi"}
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1  # on again once migrations are done
        conn.execute(text("UPDATE customer SET search_doc = '\nacme trading\n'"))  # the full-text triggers still run
        assert conn.execute(text("SELECT rowid FROM customer_fts WHERE customer_fts MATCH 'trading'")).all() == [(1,)]
        conn.rollback()
    engine.dispose()


def test_0011_gives_stored_customers_their_stage_and_its_history(tmp_path):
    engine = _customers_before(tmp_path, "0009", [{"name": "Once Ltd"}, {"name": "Twice Ltd"}, {"name": "Never Ltd"}])
    with engine.begin() as conn:
        for customer, day in ((1, "2026-11-26"), (2, "2026-11-28"), (2, "2026-11-27"), (2, "2026-11-30")):
            conn.execute(text("INSERT INTO touch (team_id, customer_id, author_id, kind, summary, happened_at, "
                              "created_at, updated_at) VALUES ('T1', :c, 'U1', 'call', 's', :d, :d, :d)"),
                         {"c": customer, "d": day})  # fmt: skip
    upgrade(engine, "0011")
    with Session(engine) as session:
        # The columns 0011 knows (the model has more since: a whole row would not be read here).
        columns = select(Customer.name, Customer.stage, Customer.stage_since, Customer.value)
        stages = {name: (stage, since.date().isoformat(), value) for name, stage, since, value in session.execute(columns)}
        history = session.execute(text("SELECT customer_id, from_stage, to_stage, substr(at, 1, 10) FROM stage_change "
                                       "ORDER BY customer_id, id")).all()  # fmt: skip
    with engine.connect() as conn:
        conn.execute(text("UPDATE customer SET search_doc = '\nacme trading\n' WHERE id = 1"))  # the triggers still run
        assert conn.execute(text("SELECT rowid FROM customer_fts WHERE customer_fts MATCH 'trading'")).all() == [(1,)]
        conn.rollback()
    engine.dispose()
    # Two touches or more: active since the second (by when it happened); else new since added.
    assert stages == {"Once Ltd": ("new", "2026-11-25", None), "Twice Ltd": ("active", "2026-11-28", None),
                      "Never Ltd": ("new", "2026-11-25", None)}  # fmt: skip
    assert history == [(1, None, "new", "2026-11-25"), (2, None, "new", "2026-11-25"),
                       (2, "new", "active", "2026-11-28"), (3, None, "new", "2026-11-25")]  # fmt: skip


def _touch_with_follow_up(conn, customer: int) -> None:
    """A touch of customer `customer` in team T1 with an open follow-up, as rows of the older schema."""
    conn.execute(text("INSERT INTO touch (team_id, customer_id, author_id, kind, summary, happened_at, "
                      "created_at, updated_at) VALUES ('T1', :c, 'U1', 'call', 's', :d, :d, :d)"),
                 {"c": customer, "d": "2026-11-26"})  # fmt: skip
    conn.execute(text("INSERT INTO follow_up (team_id, customer_id, touch_id, assignee_id, due_on, created_at) "
                      "VALUES ('T1', :c, (SELECT max(id) FROM touch), 'U1', '2026-11-30', '2026-11-26')"),
                 {"c": customer})  # fmt: skip


def test_0015_marks_the_follow_ups_of_customers_already_lost(tmp_path):
    engine = _customers_before(tmp_path, "0014", [{"name": "Gone Ltd", "stage": "lost"}, {"name": "Here Ltd"}])
    with engine.begin() as conn:
        for customer in (1, 2, 1):
            _touch_with_follow_up(conn, customer)
    upgrade(engine, "0015")
    with engine.connect() as conn:
        marked = conn.execute(text("SELECT customer_id, customer_lost FROM follow_up ORDER BY id")).all()
    engine.dispose()
    assert marked == [(1, 1), (2, 0), (1, 1)]


def test_0026_takes_the_customers_erased_before_out_of_the_lists(tmp_path):
    engine = _customers_before(tmp_path, "0025", [
        {"name": "Erased customer #1", "next_revisit": "2026-12-01"},
        {"name": "Kept Ltd", "next_revisit": "2026-12-01"},
        # Its id was an erased customer's, merged away before it was added (SQLite reuses a last id).
        {"name": "New Ltd", "next_revisit": "2026-12-01", "created_at": "2026-11-28 09:00:00.000000"}])  # fmt: skip
    with engine.begin() as conn:
        for customer in (1, 2):
            _touch_with_follow_up(conn, customer)
        for action, customer, at in (("update", 2, "2026-11-26 08:00:00.000000"), ("erase", 1, "2026-11-27 08:00:00.000000"),
                                     ("erase", 3, "2026-11-27 09:00:00.000000"),
                                     ("merge", 4, "2026-11-27 10:00:00.000000")):  # its customer merged away
            conn.execute(text("INSERT INTO audit_event (team_id, actor_id, action, entity, entity_id, changes, at) "
                              "VALUES ('T1', 'U1', :a, 'customer', :c, '{}', :at)"), {"a": action, "c": customer, "at": at})
    upgrade(engine, "0026")
    with Session(engine) as session:
        customers = session.execute(select(Customer.name, Customer.erased_at, Customer.next_revisit,
                                           Customer.revisits_enabled).order_by(Customer.id)).all()  # fmt: skip
        marked = session.execute(text("SELECT customer_id, customer_lost FROM follow_up ORDER BY id")).all()
        trail = session.execute(text("SELECT action, entity_id FROM audit_event ORDER BY id")).all()
    engine.dispose()
    assert customers == [("Erased customer #1", dt.datetime(2026, 11, 27, 8, tzinfo=dt.UTC), None, False),
                         ("Kept Ltd", None, dt.date(2026, 12, 1), True),
                         ("New Ltd", None, dt.date(2026, 12, 1), True)]  # fmt: skip
    assert marked == [(1, 1), (2, 0)]
    assert trail == [("update", 2), ("erase", 1), ("erase", 3), ("merge", None)]


def test_0020_adds_the_domains_of_stored_e_mails_as_lines_and_takes_them_back(tmp_path):
    docs = {"Acme Ltd": "\nacme ltd\nbuyer@eu.acme.com\n\t\n",
            "Both Ltd": "\nboth ltd\nli@both.cn\nboth.cn\n\t\n",  # the domain is a line already
            "Tagged": "\ntagged\n\tsales@x.com\n",  # in the tags: not a line
            "Odd Ltd": "\nodd ltd\nme@work ltd\n\t\n"}  # fmt: skip  # not an address
    engine = _customers_before(tmp_path, "0019", [{"name": name, "search_doc": doc} for name, doc in docs.items()])
    with engine.begin() as conn:  # the lines the search wrote before 0020
        for number, doc in enumerate(docs.values(), 1):
            for line in {line for line in doc.split("\t")[0].split("\n") if line}:
                conn.execute(text("INSERT INTO search_line (team_id, line, name_key, customer_id) "
                                  "SELECT team_id, :line, name_key, id FROM customer WHERE number = :n"),
                             {"line": line, "n": number})  # fmt: skip

    def lines() -> set[tuple[str, str]]:
        with engine.connect() as conn:
            query = text("SELECT c.name, l.line FROM search_line l JOIN customer c ON c.id = l.customer_id")
            return {(name, line) for name, line in conn.execute(query)}

    before = lines()
    upgrade(engine, "0020")
    assert lines() - before == {("Acme Ltd", "eu.acme.com"), ("Acme Ltd", "acme.com")} and before <= lines()
    command.downgrade(alembic_config(engine), "0019")
    assert lines() == before
    engine.dispose()


def test_0022_keeps_the_list_deadline_and_rank_of_stored_complaints_and_takes_them_back(tmp_path):
    engine = _customers_before(tmp_path, "0021", [{"name": "Acme Ltd"}])
    # (number, severity, state, cycle, first_response_at, first_response_due, resolution_due, paused_at)
    complaints = [
        (1, "high", "open", 1, None, "2026-11-25 10:00:00.000000", "2026-11-26 10:00:00.000000", None),
        (2, "urgent", "in_progress", 1, "2026-11-25 09:00:00.000000", "2026-11-25 10:00:00.000000",
         "2026-11-26 10:00:00.000000", None),  # answered: the resolution's runs
        (3, "low", "waiting", 1, "2026-11-25 09:00:00.000000", None, "2026-11-26 10:00:00.000000",
         "2026-11-25 12:00:00.000000"),  # paused in time: none runs
        (4, "normal", "waiting", 1, "2026-11-25 09:00:00.000000", None, "2026-11-26 10:00:00.000000",
         "2026-11-27 12:00:00.000000"),  # paused after its deadline: the missed one
        (5, "normal", "open", 2, None, "2026-11-25 10:00:00.000000", "2026-11-28 10:00:00.000000", None),  # reopened
        (6, "odd", "resolved", 1, None, "2026-11-25 10:00:00.000000", "2026-11-26 10:00:00.000000", None),
    ]  # fmt: skip
    with engine.begin() as conn:
        for number, severity, state, cycle, answered, first_due, resolution_due, paused in complaints:
            conn.execute(text(
                "INSERT INTO complaint (team_id, number, customer_id, title, severity, state, author_id, opened_at, "
                "cycle, escalation_level, first_response_at, first_response_due, resolution_due, paused_at, "
                "created_at, updated_at) VALUES ('T1', :n, 1, 'x', :s, :state, 'U1', '2026-11-25 08:00:00.000000', "
                ":cycle, 0, :answered, :first_due, :resolution_due, :paused, '2026-11-25', '2026-11-25')"),
                {"n": number, "s": severity, "state": state, "cycle": cycle, "answered": answered,
                 "first_due": first_due, "resolution_due": resolution_due, "paused": paused})  # fmt: skip
    upgrade(engine, "0022")
    with Session(engine) as session:
        got = {c.number: (c.list_due and c.list_due.strftime("%m-%d %H:%M"), c.list_rank)
               for c in session.scalars(select(Complaint))}  # fmt: skip
    assert got == {1: ("11-25 10:00", 1), 2: ("11-26 10:00", 0), 3: ("12-31 00:00", 3),  # 9999-12-31: none runs
                   4: ("11-26 10:00", 2), 5: ("11-28 10:00", 2), 6: (None, 9)}  # fmt: skip
    command.downgrade(alembic_config(engine), "0021")
    with engine.connect() as conn:
        columns = {row[1] for row in conn.execute(text("PRAGMA table_xinfo(complaint)"))}
        indexes = {row[1] for row in conn.execute(text("PRAGMA index_list(complaint)"))}
    assert not {"list_due", "list_rank"} & columns and "ix_complaint_clocks" in indexes
    assert not {"ix_complaint_list", "ix_complaint_assignee_list"} & indexes
    engine.dispose()


def test_0024_empties_what_ended_messages_said_and_keeps_what_waits(tmp_path):
    engine = _customers_before(tmp_path, "0023", [{"name": "Zhou Logistics"}])
    crypto.configure(Fernet.generate_key().decode())  # as a team with ENCRYPTION_KEYS stored them
    try:
        with Session(engine) as session:
            for status in ("pending", "sending", "sent", "failed", "expired", "cancelled"):
                session.add(Notification(team_id="T1", key=status, kind="digest", channel="U1", status=status,
                                         payload={"text": "Zhou Logistics is due"}, due_at=WHEN, attempts=1,
                                         created_at=WHEN))  # fmt: skip
            session.commit()
        upgrade(engine, "0024")
        with Session(engine) as session:
            kept = {n.key: n.payload for n in session.scalars(select(Notification))}
        waiting = {"text": "Zhou Logistics is due"}
        assert kept == {"pending": waiting, "sending": waiting, "sent": {}, "failed": {}, "expired": {}, "cancelled": {}}
    finally:
        crypto.configure(None)
    engine.dispose()
