"""Statements whose best plan depends on their values carry those values instead of binding
them. psycopg prepares a statement from its fifth execution, and PostgreSQL may then plan it
once for every value: for a big team among many small ones that plan filtered a team's every
complaint to list 25 of them, and sorted every line of a one-letter prefix to offer 20
(docs/PERFORMANCE.md, section 37). So the complaint list and the search must not leave the
team, the prefix or the page size to a placeholder; the other statements may."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from bot.services import complaints, find
from bot.services.find import resolve_customer, search_customers
from tests.helpers import add_complaint, add_customer, as_admin, ask_homes
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


def test_the_complaint_list_walks_its_index_in_order_with_the_team_written_in(session):
    """The page's ids are the first of an index walk (migration 0022): the team's active
    complaints in `ix_complaint_list`, one assignee's in `ix_complaint_assignee_list`, with no
    sort of every active complaint (section 43)."""
    customer = add_customer(session, "Acme")
    for n in range(3):
        add_complaint(session, customer.id, f"Late {n}", now=NOW, assignee_id="U0000001")
    with selects(session) as sent:
        for view in complaints.LIST_VIEWS:
            listed = complaints.list_complaints(session=session, viewer=as_admin(), view=view, now=NOW)
            assert len(listed) == (0 if view == "overdue" else 3)
    ordering = [(s, p) for s, p in sent if "ORDER BY complaint.list_due" in s]
    assert len(ordering) == len(complaints.LIST_VIEWS)
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:  # a handful of rows: make PostgreSQL show which index it can use, not scan
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("SET LOCAL enable_bitmapscan = off"))
    for (statement, parameters), view in zip(ordering, complaints.LIST_VIEWS, strict=True):
        assert f"'{TEAM}'" in statement and TEAM not in bound(parameters)
        plan = str(session.connection().exec_driver_sql(
            ("EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN ") + statement, parameters).all())  # fmt: skip
        index = "ix_complaint_assignee_list" if view == "mine" else "ix_complaint_list"
        assert re.search(rf"\b{index}\b", plan), plan
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


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
def test_short_prefixes_read_the_lines_of_their_first_characters_in_name_order(session, monkeypatch, few):
    """A prefix of one character walks `ix_search_line_initial`; a longer one that begins many
    lines walks `ix_search_line_initials` (its first two characters): the database uses each
    only for the expression the index holds (sections 39 and 42)."""
    monkeypatch.setattr(find, "_FEW", few)
    for n in (2, 0, 1):
        add_customer(session, f"Zhang Wei {n}")
    add_customer(session, "Acme Zhuhai")
    with selects(session) as sent:
        for typed in ("z", "zh", "zha"):
            found, _ = search_customers(session=session, viewer=as_admin(), text=typed)
            expected = ["Zhang Wei 0", "Zhang Wei 1", "Zhang Wei 2"] + (["Acme Zhuhai"] if typed != "zha" else [])
            assert [c.name for c in found] == expected  # prefix, contains
    walks = [(s, p) for s, p in sent if "substr(" in s]
    assert "substr(search_line.line, 1, 1) = 'z'" in walks[0][0]
    if few == 1:
        assert len(walks) == 3 and "substr(search_line.line, 1, 2) = 'zh'" in walks[1][0]
        assert "substr(search_line.line, 1, 2) = 'zh'" in walks[2][0] and "'zha'" in walks[2][0]
    else:
        assert len(walks) == 1  # `zh` and `zha` are ranges of the primary key, sorted
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:  # a handful of rows: make PostgreSQL show which index it can use, not scan
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("SET LOCAL enable_bitmapscan = off"))
    for i, (statement, parameters) in enumerate(walks):
        plan = session.connection().exec_driver_sql(("EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN ") + statement,
                                                    parameters).all()  # fmt: skip
        index = "ix_search_line_initial" if i == 0 else "ix_search_line_initials"
        assert re.search(rf"\b{index}\b", str(plan)), plan


def test_who_acts_is_read_in_one_statement_with_the_workspace(session, engine):
    """A request's first read: the workspace and the member together, one round trip; the
    settings, the locale and the time zone after it read nothing more."""
    from bot.context import RequestContext
    from bot.storage.db import CLOCK, make_session_factory
    from bot.storage.models import Member

    add_customer(session, "Acme")  # the workspace's row
    session.add(Member(team_id=TEAM, user_id="U0000001", tz="Asia/Shanghai", locale="zh-CN",
                       profile_fetched_at=NOW))  # fmt: skip
    session.commit()
    rq = RequestContext(session=make_session_factory(engine)(info={CLOCK: NOW}), team_id=TEAM, user_id="U0000001",
                        now=NOW, surface="test", directory=None)  # type: ignore[arg-type]
    with selects(rq.session) as sent:
        assert (rq.viewer.user_id, rq.locale, rq.tz, rq.settings.language) == ("U0000001", "zh-CN", "Asia/Shanghai", None)
    rq.finish()
    assert len(sent) == 1 and "FROM workspace LEFT OUTER JOIN member" in sent[0][0]


def test_a_first_request_still_makes_the_workspace_and_the_member(engine):
    from bot.context import RequestContext
    from bot.storage.db import CLOCK, make_session_factory
    from bot.storage.models import Member, Workspace

    rq = RequestContext(session=make_session_factory(engine)(info={CLOCK: NOW}), team_id="T0000NEW1", user_id="U0000009",
                        now=NOW, surface="test", directory=None)  # type: ignore[arg-type]
    assert rq.viewer.user_id == "U0000009"
    rq.finish()
    with make_session_factory(engine)() as check:
        assert check.get(Workspace, "T0000NEW1") is not None
        assert check.scalars(select(Member.user_id).where(Member.team_id == "T0000NEW1")).all() == ["U0000009"]


def test_a_pooled_connection_the_server_closed_while_idle_is_replaced_unseen(engine, monkeypatch):
    """No ping per request: a connection back from the pool is pinged only after it sat idle,
    and one the server closed meanwhile (a restart, an idle timeout) is replaced before use."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a server that closes connections: PostgreSQL")
    from bot.storage import db
    from bot.storage.db import make_engine

    fresh = make_engine(engine.url.render_as_string(hide_password=False))
    pings: list[object] = []
    ping = fresh.dialect.do_ping
    monkeypatch.setattr(fresh.dialect, "do_ping", lambda dbapi_connection: pings.append(dbapi_connection) or ping(dbapi_connection))
    try:
        with fresh.connect() as conn:  # a new connection: not pinged
            first = conn.scalar(text("SELECT pg_backend_pid()"))
        with fresh.connect() as conn:  # just back in the pool: not pinged, the same connection
            assert conn.scalar(text("SELECT pg_backend_pid()")) == first
        assert pings == []
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            admin.commit()
        monkeypatch.setattr(db, "PING_AFTER_IDLE", -1.0)  # as if it had sat idle
        with fresh.connect() as conn:
            again = conn.scalar(text("SELECT pg_backend_pid()"))
        assert again != first and len(pings) == 2  # the dead one, then its replacement (every one is "idle" now)
    finally:
        fresh.dispose()


def _in_the_file_alone(path: Path) -> int:
    """The rows of `t` in the database file without its WAL (a copy of the file alone): what a
    checkpoint has copied back (0 while a checkpoint is half-way through the file)."""
    import shutil
    import sqlite3

    alone = path.with_name("alone.db")
    shutil.copyfile(path, alone)
    connection = sqlite3.connect(alone)
    try:
        if connection.execute("SELECT 1 FROM sqlite_master WHERE name = 't'").fetchone() is None:
            return 0
        return connection.execute("SELECT count(*) FROM t").fetchone()[0]
    except sqlite3.DatabaseError:  # copied while the checkpoint wrote it
        return 0
    finally:
        connection.close()


@pytest.mark.parametrize("checkpointer", ["runs", "stopped"])
def test_a_commit_leaves_the_sqlite_checkpoint_to_a_thread_of_its_own(tmp_path, monkeypatch, checkpointer):
    """SQLite would checkpoint in the committing connection once the WAL passed 1,000 pages,
    and that request waited for the copy and the file's sync (up to half a second). A commit that wrote
    wakes the checkpoint thread instead: the rows reach the database file without any
    connection of the app's checkpointing (stopped, they stay in the WAL)."""
    from bot.storage.db import Checkpoints, make_engine

    monkeypatch.setattr(Checkpoints, "GATHER", 0.01)
    if checkpointer == "stopped":
        monkeypatch.setattr(Checkpoints, "soon", lambda self: None)
    path = tmp_path / "touchbase.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x TEXT)"))
            assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
        with engine.begin() as conn:
            for n in range(1200):  # past SQLite's own threshold (1,000 pages), had it been on
                conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": f"{n:04}" + "x" * 4000})
        deadline = time.monotonic() + 10
        while checkpointer == "runs" and _in_the_file_alone(path) < 1200 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _in_the_file_alone(path) == (1200 if checkpointer == "runs" else 0)
    finally:
        engine.dispose()


def test_a_process_that_ends_just_after_it_wrote_checkpoints_before_it_goes(tmp_path):
    """A command (an import, an erase) may end within the checkpoint thread's gathering: it
    checkpoints at exit, or the readers of the processes still open (the bot) would look up
    every page in the WAL it left."""
    import sqlite3
    import subprocess
    import sys

    path = tmp_path / "touchbase.db"
    script = (
        "import sys; from sqlalchemy import text; from bot.storage.db import make_engine\n"
        "with make_engine(sys.argv[1]).begin() as conn:\n"
        "    conn.execute(text('INSERT INTO t VALUES (1)'))\n"
    )
    # The running bot keeps the file open (and so the last connection of the command to close
    # is not the file's last, which would checkpoint by itself).
    bot_still_open = sqlite3.connect(path, isolation_level=None)
    try:
        bot_still_open.execute("PRAGMA journal_mode=WAL")
        bot_still_open.execute("CREATE TABLE t (x TEXT)")
        assert bot_still_open.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
        assert bot_still_open.execute("SELECT count(*) FROM t").fetchone()[0] == 0
        subprocess.run([sys.executable, "-c", script, f"sqlite:///{path}"], check=True, timeout=60)
        assert _in_the_file_alone(path) == 1
    finally:
        bot_still_open.close()


def test_writers_of_two_processes_queue_at_the_gate_beside_the_sqlite_file(tmp_path):
    """The processes writing to one SQLite file queue for it at a `flock` beside it (bot.storage.db.Gate),
    woken as it is let go, rather than polling SQLite's lock (whose waiters sleep up to 100 ms
    between looks while the other process's writers hand it on)."""
    import fcntl
    import os
    import subprocess
    import sys

    from bot.storage.db import make_engine, reading

    path = tmp_path / "touchbase.db"
    url = f"sqlite:///{path}"
    engine, again = make_engine(url), make_engine(url)  # two engines of one process: one turn, one gate
    turns = f"{path}-turns"

    def gate_is_free() -> bool:
        fd = os.open(turns, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        finally:
            os.close(fd)  # (closing lets go of what it took)

    # Another process, whose SQLite does not wait at all: it writes only if the gate held it back.
    other_process = (
        "import sys; from sqlalchemy import event, text; from bot.storage.db import make_engine\n"
        "engine = make_engine(sys.argv[1])\n"
        "event.listen(engine, 'connect', lambda dbapi_connection, _: dbapi_connection.execute('PRAGMA busy_timeout = 0'))\n"
        "with engine.begin() as conn:\n"
        "    conn.execute(text(\"INSERT INTO t VALUES ('second')\"))\n"
    )

    def waiting_at_the_gate() -> bool:  # a flock queued on the file (Linux lists it with "->")
        inode = f":{os.stat(turns).st_ino} "
        return any("->" in line and "FLOCK" in line and inode in line for line in Path("/proc/locks").read_text().splitlines())

    waiting: subprocess.Popen[bytes] | None = None
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x TEXT)"))
        assert gate_is_free()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES ('first')"))
            assert not gate_is_free()  # held by the writer whose turn it is, until its transaction ends
            with reading(), again.connect() as reader:  # reading does not queue
                assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0
            waiting = subprocess.Popen([sys.executable, "-c", other_process, url])
            deadline = time.monotonic() + 60
            while not waiting_at_the_gate() and waiting.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            assert waiting_at_the_gate()
        assert waiting.wait(30) == 0  # let in as this transaction ended: SQLite's lock was free
        assert gate_is_free()
        with again.connect() as conn:
            assert conn.execute(text("SELECT x FROM t ORDER BY rowid")).scalars().all() == ["first", "second"]
    finally:
        if waiting is not None and waiting.poll() is None:
            waiting.kill()
        engine.dispose()
        again.dispose()


def test_the_senders_claim_finds_what_requests_asked_for_by_its_own_index(session, settings, engine):
    """Each claim looks first for what requests asked for (scheduler.outbox: App Homes and
    DMs): with `kind IN ('home', 'said')` written into the statement, both databases read
    `ix_notification_asked_due`, however many digests are due before them (migrations 0019,
    0023)."""
    from bot.scheduler.runner import Scheduler
    from bot.storage.db import make_session_factory

    add_customer(session, "Acme")
    ask_homes(session, now=NOW, team=TEAM, people=["U0000001"])
    session.commit()
    sender = Scheduler(settings, make_session_factory(engine), pacer=None, home_pacer=None).sender
    sender.wall = lambda: NOW
    with selects(session) as sent:
        ids, _lease = sender.claim(now=NOW, exclude=set(), asked_only=True)
    assert len(ids) == 1
    asked = [(s, p) for s, p in sent if "'home'" in s]
    assert len(asked) == 4 and all("notification.kind IN ('home', 'said')" in s for s, _ in asked)  # looked, taken
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("SET LOCAL enable_bitmapscan = off"))
    for statement, parameters in asked:  # the Homes', then the DMs'
        statement = statement.replace(" FOR UPDATE SKIP LOCKED", "")
        plan = session.connection().exec_driver_sql(("EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN ") + statement,
                                                    parameters).all()  # fmt: skip
        assert "ix_notification_asked_due" in str(plan), plan


def test_the_senders_claim_reads_the_due_rows_in_its_own_order_and_stops_at_its_batch(session, settings, engine):
    """A morning's digests all due at one instant, sent for by a share of the workspaces: each
    status's rows are read in the claim's order along `ix_notification_status_due_id` (migration
    0027), not all read and sorted, on both databases and as each plans it from its statistics;
    only the two reads' batches are sorted together."""
    from bot.scheduler.outbox import Sender
    from bot.scheduler.rows import enqueue_many, notification
    from bot.scheduler.shares import Share
    from bot.services.workspaces import get_workspace
    from bot.storage.db import make_session_factory, refresh_statistics
    from bot.storage.models import Notification

    teams = [f"T{n:08d}" for n in range(40)]
    for team in teams:
        get_workspace(session, team)
    enqueue_many(session, [notification(now=NOW, team_id=team, key=f"digest:{n}", kind="digest", channel=f"U{n:08d}",
                                        text="due") for n in range(2000) for team in [teams[n % 40]]])  # fmt: skip
    session.commit()
    postgresql = session.get_bind().dialect.name == "postgresql"
    refresh_statistics(engine)  # SQLite's; PostgreSQL's:
    if postgresql:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE notification"))
    sender = Sender(make_session_factory(engine), lambda _team: None, wall=lambda: NOW, share=Share.fixed(1, 2))
    with selects(session) as sent:
        ids, _lease = sender.claim(now=NOW, exclude=set(), look=False)
    claimed = session.scalars(select(Notification.team_id).where(Notification.id.in_(ids))).all()
    assert len(claimed) == 20 and all(Share.fixed(1, 2).has(team) for team in claimed)
    rest = [(s, p) for s, p in sent if "UNION ALL" in s]
    assert len(rest) == 1, "the claim reads each status on its own"
    [(statement, parameters)] = rest
    plan = str(session.connection().exec_driver_sql(
        ("EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN ") + statement, parameters).all())  # fmt: skip
    session.rollback()
    assert plan.count("ix_notification_status_due_id") == 2, plan  # pending, and leases run out
    assert "Seq Scan" not in plan and not re.search(r"SCAN notification(?! USING)", plan), plan  # nor the whole table
    if postgresql:  # nor a bitmap of the rows due, sorted: only the outer sort of the two batches
        assert "Bitmap" not in plan and "Sort Key: notification." not in plan, plan
    else:
        assert plan.count("TEMP B-TREE") == 1, plan


def test_due_reads_each_list_once_however_many_items_it_shows(slack, fake, session):
    """`/crm due` reads each list in one statement with what its items show (a customer's
    listed columns, a follow-up's customer and touch, a complaint's number, title and
    severity): rendering them asks for nothing more, so two more items of each kind cost no
    statement (a lazy load per item would cost one each)."""
    from freezegun import freeze_time
    from sqlalchemy import update

    from bot.storage.models import Customer
    from tests.slackclient import USER

    today = NOW.date()

    def more_items(first: int) -> None:
        for n in range(first, first + 2):
            customer = add_customer(session, f"Customer {n}", owner_id=USER)
            add_complaint(session, customer.id, f"Late {n}", now=NOW, assignee_id=USER)
            with freeze_time(NOW):
                slack.command(f"touch Customer {n}")
                slack.submit(fake.last("views.open")["view"], {"Summary": "called", "Next step": f"quote {n}",
                                                               "Next step due": today.isoformat()})  # fmt: skip
            session.execute(update(Customer).where(Customer.id == customer.id)
                            .values(next_revisit=today - dt.timedelta(days=n)))  # the touch moved it on  # fmt: skip
            session.commit()

    def statements_of_due(shown: int) -> int:
        with freeze_time(NOW), selects(session) as sent:
            reply = slack.command("due")
        text = reply.shown
        assert all(f"Customer {n}" in text and f"quote {n}" in text and f"Late {n}" in text for n in range(shown))
        return len(sent)

    more_items(0)
    few = statements_of_due(2)
    more_items(2)
    assert statements_of_due(4) == few


@pytest.mark.parametrize("ref", ["#1", "Acme Ltd", "acme"])
def test_a_customer_named_in_a_command_is_read_once_for_its_card(slack, session, ref):
    """`/crm show <customer>`: the customer the argument names was read with the viewer's
    conditions, so the door lets the card through without reading the row again."""
    add_customer(session, "Acme Ltd")
    with selects(session) as sent:
        assert "Acme Ltd" in slack.command(f"show {ref}").shown
    rows = [s for s, _ in sent if s.lstrip().startswith("SELECT customer.id, customer.team_id, customer.number")]
    assert rows and not [s for s in rows if "customer.id = " in s], rows  # named, then not read by id again


def test_the_complaint_list_reads_as_many_statements_however_long_its_page(session):
    """The page's ids, its complaints and their customers, each with what the list shows:
    rendering asks for nothing more (not a description, not a customer's other fields), so two
    more complaints cost no statement."""
    from bot.views.complaints import complaint_list

    def statements_of_list(count: int) -> int:
        with selects(session) as sent:
            cards = complaints.list_complaints(session=session, viewer=as_admin(), view="open", now=NOW)
            complaint_list("en", "open", cards, limit=complaints.LIST_LIMIT)
            complaint_list("en", "open", cards, limit=complaints.LIST_LIMIT, as_table=False)
        assert len(cards) == count and {k.customer.name for k in cards} == {f"Customer {n}" for n in range(count)}
        session.rollback()
        return len(sent)

    for n in range(4):
        customer = add_customer(session, f"Customer {n}")
        add_complaint(session, customer.id, f"Late {n}", now=NOW, description="a long story " * 50)
        session.expire_all()  # as a request finds them: not in the session
        if n == 1:
            few = statements_of_list(2)
    assert statements_of_list(4) == few


def test_a_profile_card_reads_as_many_statements_however_many_open_complaints(slack, session):
    """The card's open complaints are read with what it shows of them: two more cost no
    statement (a lazy load of a description per complaint would cost one each)."""
    customer = add_customer(session, "Acme Ltd")

    def more_complaints(first: int) -> None:
        for n in range(first, first + 2):
            add_complaint(session, customer.id, f"Late {n}", now=NOW, description="a long story " * 50)

    def statements_of_card(count: int) -> int:
        with selects(session) as sent:
            shown = slack.command("show Acme Ltd").shown
        assert all(f"Late {n}" in shown for n in range(count)) and "a long story" not in shown
        return len(sent)

    more_complaints(0)
    few = statements_of_card(2)
    more_complaints(2)
    assert statements_of_card(4) == few



def test_a_long_pattern_is_looked_up_by_a_few_of_its_trigrams_and_matched_whole(session, monkeypatch):
    """SQLite's full-text table reads every trigram of a phrase (section 47): a long pattern is
    looked up by `SPREAD` of them, spread over it. The customers holding those but not the
    pattern are left out; when more than the candidates' limit hold them, the phrase decides.
    Han text is looked up there as well."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's full-text table")
    monkeypatch.setattr(find, "WALK_FIRST", 0)  # past the first names: the full-text lookup answers
    monkeypatch.setattr(find, "SEARCH_CANDIDATES", 2)
    add_customer(session, "Zed ab1cd2ef3gh")  # the pattern, whole
    for n in range(30):  # the spread trigrams of `ab1cd2ef3gh` (ab1, cd2, 2ef, 3gh), not the pattern
        add_customer(session, f"ab1 cd2 2ef 3gh {n:02d}")

    def search(text: str) -> tuple[list[str], list[object]]:
        with selects(session) as sent:
            found, _ = search_customers(session=session, viewer=as_admin(), text=text)
        return [c.name for c in found], [bound(p)[0] for s, p in sent if "MATCH" in s]

    def spread(*trigrams: str) -> str:
        return "(" + " AND ".join(f'search_doc : "{t}"' for t in trigrams) + ")"

    assert search("b1cd2ef3") == (["Zed ab1cd2ef3gh"], [spread("b1c", "cd2", "d2e", "ef3")])
    # 30 customers hold its spread trigrams, more than the candidates' limit: then the phrase
    assert search("ab1cd2ef3gh") == (["Zed ab1cd2ef3gh"],
                                     [spread("ab1", "cd2", "2ef", "3gh"), 'search_doc : "ab1cd2ef3gh"'])  # fmt: skip
    # no more trigrams than SPREAD: the phrase alone
    assert search("ef3gh") == (["Zed ab1cd2ef3gh"], ['search_doc : "ef3gh"'])
    # Han text too, rather than among the holders of its first two characters (search_gram)
    add_customer(session, "昆明天成医药")
    add_customer(session, "昆明天气")
    assert search("天成医药") == (["昆明天成医药"], ['search_doc : "天成医药"'])
