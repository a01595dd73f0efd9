"""Engine, sessions and migrations.

A session is one unit of work, and a unit of work acts as of one instant (bot.clock): open it
with `unit_of_work(factory, now=…)` (or `factory(info={CLOCK: now})`). Rows it inserts get
that instant in the columns of `CREATED_COLUMNS` left empty, and rows it changes get it in
`updated_at`. A session without its instant that tries to stamp a row fails loudly.
"""

from __future__ import annotations

import atexit
import datetime as dt
import fcntl
import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    BindParameter,
    Connection,
    Engine,
    Integer,
    bindparam,
    create_engine,
    event,
    inspect,
    make_url,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, SessionTransaction, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from bot.storage.models import Base

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
log = logging.getLogger(__name__)

# On SQLite, whether this thread's transactions take the single write lock up front. Requests
# that only read (type-ahead, find, show, reports) don't, so they never queue behind writers
# and never make writers queue behind them (see `reading`).
_write_intent: ContextVar[bool] = ContextVar("write_intent", default=True)


@contextmanager
def reading() -> Iterator[None]:
    """Transactions begun inside only read (SQLite: a deferred BEGIN). A rare write in them
    still works, unless another writer committed meanwhile: then it fails and rolls back."""
    token = _write_intent.set(False)
    try:
        yield
    finally:
        _write_intent.reset(token)


def begin_reading() -> Token[bool]:
    """Like `reading()`, for a unit of work that begins here and ends elsewhere (a request)."""
    return _write_intent.set(False)


def end_reading(token: Token[bool] | None) -> None:
    if token is not None:
        _write_intent.reset(token)


def written(value: Any) -> BindParameter[Any]:
    """`value` (a list: each of its items) written into the statement rather than bound, for a
    statement whose best plan depends on it. psycopg prepares a statement from its fifth
    execution, and PostgreSQL may then plan it once for every value (a generic plan): for
    `team_id = $1` it takes the team for an average workspace, for a bound prefix or `LIMIT` it
    cannot tell how many rows match or are asked for. A big team's complaint list then read
    all 50,000 of its complaints (19 ms against 4), and a one-letter search sorted every line
    it matched (61 ms against 0.2; docs/PERFORMANCE.md, section 37). Written in, the values are
    planned for; SQLAlchemy quotes them."""
    return bindparam(None, value, expanding=isinstance(value, list), literal_execute=True)


def bucket_of(team_id: str) -> int:
    """A workspace's bucket, 0 to 2**28 - 1: the first seven hex digits of its team id's MD5
    (a spread, not a secret). The senders' shares split the workspaces by its slot
    (bot.scheduler.shares); `workspace_bucket` reckons the same in SQL."""
    return int(hashlib.md5(team_id.encode(), usedforsecurity=False).hexdigest()[:7], 16)


class workspace_bucket(FunctionElement[int]):  # a SQL function, named as one
    """`bucket_of(team_id)` in SQL: PostgreSQL's own md5, and on SQLite the function that
    `make_engine` gives each connection."""

    type = Integer()
    name = "touchbase_bucket"
    inherit_cache = True


@compiles(workspace_bucket)
def _bucket_sqlite(element: workspace_bucket, compiler: SQLCompiler, **kw: Any) -> str:
    return f"touchbase_bucket({compiler.process(element.clauses, **kw)})"


@compiles(workspace_bucket, "postgresql")
def _bucket_postgresql(element: workspace_bucket, compiler: SQLCompiler, **kw: Any) -> str:
    return f"('x' || substr(md5({compiler.process(element.clauses, **kw)}), 1, 7))::bit(28)::int"


def _sqlite_bucket(team_id: str | None) -> int | None:
    return None if team_id is None else bucket_of(team_id)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        turns, gate, checkpoints = _writers_of(make_url(url).database)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30,
                                                  "factory": _turn_taking(turns, gate, checkpoints)})  # fmt: skip

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            # Let SQLAlchemy, not pysqlite, issue BEGIN: pysqlite's own handling breaks
            # SAVEPOINTs and leaves the write lock held (see SQLAlchemy's pysqlite notes).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            # WAL lets readers go on while one writer writes; foreign keys are off by default.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            if checkpoints is not None:  # they run on a thread of their own (Checkpoints)
                cursor.execute("PRAGMA wal_autocheckpoint=0")
            # Erased personal data must not linger in free pages of the file.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()
            dbapi_connection.create_function("touchbase_bucket", 1, _sqlite_bucket, deterministic=True)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):  # type: ignore[no-untyped-def]
            # IMMEDIATE takes the single write lock up front: a transaction that reads and
            # then writes can never fail half-way because another writer went first.
            if not _write_intent.get():
                connection.exec_driver_sql("BEGIN")
                return
            raw = connection.connection.dbapi_connection
            raw.take_turn()
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                raw.end_turn()
                raise

        return engine
    engine = create_engine(url, pool_size=10, max_overflow=10)
    _ping_when_idle(engine)
    return engine


# A pooled connection idle longer than this is pinged before it is used: one that the server
# closed meanwhile (a restart, an idle timeout) is replaced, and the request never sees it.
# SQLAlchemy's `pool_pre_ping` pings at every checkout, a round trip per request to save only
# connections that were just in use; a busy process reuses each within milliseconds. (A server
# restarted within those seconds fails the requests that were using it, once.)
PING_AFTER_IDLE = 5.0  # seconds


def _elapsed() -> float:
    """As bot.clock.elapsed (which storage may not import): a monotonic clock freezegun leaves alone."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:  # a new connection answered just now
        record.info["idle_since"] = _elapsed()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if _elapsed() - record.info.get("idle_since", float("-inf")) <= PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool drops this connection and checks out another (a fresh one if need be).
            raise DisconnectionError(f"a pooled connection no longer answers: {exc}") from exc


TURN_WAIT = 30.0  # seconds a writer waits for its turn before it goes on without (SQLite's own timeout)

# Told of each write turn of this process once it is given back: how long the writer waited for
# it and how long it held it, in seconds (None: it gave up after TURN_WAIT and went on without
# it); bot.metrics counts them. While every write waits for the one turn, writes a second can be
# no more than 1 ÷ the time a write holds it.
turn_observers: list[Callable[[float, float | None], None]] = []


def _tell(waited: float, held: float | None) -> None:
    for observe in turn_observers:
        try:
            observe(waited, held)
        except Exception:  # noqa: BLE001 - counting a turn must never fail the commit it ends
            log.warning("a write turn could not be counted", exc_info=True)


class _TurnTaking(sqlite3.Connection):
    """A SQLite connection whose write transactions take turns with the other threads of this
    process before `BEGIN IMMEDIATE`, and give the turn back when they end.

    SQLite lets one writer in at a time and makes the others poll: its busy handler sleeps
    1, 2, 5, 10 … then 100 ms between looks, so under a burst of writes the lock often lies
    free while every waiter sleeps, and who gets it next is luck. Waiting on a lock of our own
    wakes the next writer as the last one commits, in turn. The writer whose turn it is then
    queues with the other processes' at the `Gate`, so that they take turns too."""

    turns: threading.Lock
    gate: Gate | None
    checkpoints: Checkpoints | None
    holds = False
    taken_at = waited = 0.0  # of the turn held (take_turn)

    def take_turn(self) -> None:
        # After TURN_WAIT go on anyway and let SQLite decide. (At the gate there is no time
        # limit: see `Gate`.)
        asked = _elapsed()
        self.holds = self.turns.acquire(timeout=TURN_WAIT)
        if self.holds and self.gate is not None:
            try:
                self.gate.enter()
            except BaseException:
                self.end_turn(tell=False)  # no turn was taken
                raise
        self.taken_at = _elapsed()
        self.waited = self.taken_at - asked
        if not self.holds:
            _tell(self.waited, None)  # the longest waits are counted too, as waits

    def end_turn(self, *, tell: bool = True) -> None:
        if self.holds:
            self.holds = False
            held = _elapsed() - self.taken_at
            if self.gate is not None:
                self.gate.leave()  # first: a writer of another process is woken before this one's next
            self.turns.release()
            if tell:
                _tell(self.waited, held)

    def commit(self) -> None:
        wrote = self.holds
        try:
            super().commit()
        finally:
            self.end_turn()
        if wrote and self.checkpoints is not None:
            self.checkpoints.soon()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.end_turn()


_WRITERS: dict[tuple[int, str], tuple[threading.Lock, Gate, Checkpoints]] = {}
_WRITERS_LOCK = threading.Lock()


def _writers_of(database: str | None) -> tuple[threading.Lock, Gate | None, Checkpoints | None]:
    """What the writers to one SQLite file share in this process, whichever engine they use
    (the web app's and the in-process scheduler's): one turn, one place at the `Gate`, one
    checkpoint thread. Keyed by process too: after a fork, the child has its own. A database in
    memory is one connection's: a turn of its own, and neither of the others."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return threading.Lock(), None, None
    path = str(Path(database).absolute())
    with _WRITERS_LOCK:
        shared = _WRITERS.get((os.getpid(), path))
        if shared is None:
            shared = _WRITERS[os.getpid(), path] = (threading.Lock(), Gate(path), Checkpoints(path))
        return shared


def _turn_taking(turns: threading.Lock, gate: Gate | None, checkpoints: Checkpoints | None) -> type[_TurnTaking]:
    return type("TurnTaking", (_TurnTaking,), {"turns": turns, "gate": gate, "checkpoints": checkpoints})


class Gate:
    """Where the processes writing to one SQLite file queue for its write lock: an exclusive
    `flock` on a file beside it (`<database>-turns`), taken by the one writer of this process
    whose turn it is (`_TurnTaking`), released when its transaction ends.

    Without it, the writers of other processes met at SQLite's lock, whose waiters sleep
    between looks (up to 100 ms): while one process had writers queued, its own next writer
    took the lock as the last one let it go, and another process's waited seconds (a burst
    of touches answered by two gunicorn workers: p99 1.7 s, one worker's writers starved).
    The kernel wakes a waiting `flock` as it is released. SQLite's lock stays the guard: a
    program that does not queue here (the sqlite3 shell) meets it as before, and where the
    file cannot be made or locked (a directory it may not write to, a file system without
    `flock`) the writers meet at SQLite's lock alone, as before.

    The wait has no time limit (`flock` has none): while another process holds the gate and
    does not move (stopped with Ctrl-Z in the middle of a write), this process's writer whose
    turn it is waits for it; its other writers wait 30 s for their turn, and SQLite's 30 s
    after it, and then fail, as they did before the gate."""

    def __init__(self, path: str) -> None:
        self.path = f"{path}-turns"
        self.fd: int | None = None
        self.usable = True
        self.held = False

    def enter(self) -> None:
        if not self.usable:
            return
        try:
            if self.fd is None:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except OSError as exc:
            log.warning("SQLite's writers queue at its lock alone: %s cannot be locked (%s)", self.path, exc)
            self.usable = False
            return
        self.held = True

    def leave(self) -> None:
        if self.held and self.fd is not None:
            self.held = False
            fcntl.flock(self.fd, fcntl.LOCK_UN)


class Checkpoints:
    """SQLite's checkpoints (the WAL's pages copied back into the database file, and the file
    synced) on a thread of their own, not on the thread that commits.

    SQLite checkpoints by itself when a commit takes the WAL past 1,000 pages, in the
    committing connection: every forty touches or so, one request waited for the copy and the
    file's sync (up to half a second on a virtual machine's disk), and with it every writer
    queued behind it. Here the connections leave that to this thread: the commit of a
    transaction that took the write turn wakes it, and it checkpoints what the commits of the
    next `GATHER` seconds wrote, in PASSIVE mode (it waits for no reader and no writer; what
    readers still use is tried again), until `IDLE` seconds pass without a write. Each process
    writing to the file runs one; they share the WAL and whichever comes first copies it.

    No checkpoint runs while the process forks (`_CHECKPOINTING`): gunicorn's master applies
    the migrations, and so writes, before it forks its workers, and a fork in the middle of a
    SQLite call would copy SQLite's locks, held, into the child."""

    GATHER = 0.5  # seconds of commits checkpointed together
    IDLE = 30.0  # seconds without a write before the thread ends (the next write starts it again)

    def __init__(self, path: str) -> None:
        # mode=rw: never create the file again if it went away (a test's temporary database).
        self.uri = f"{Path(path).as_uri()}?mode=rw"
        self.wanted = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        # A process that ends just after it wrote (a command, a worker stopping) checkpoints
        # before it goes: readers look up every page in a WAL not yet copied.
        atexit.register(self._at_exit)

    def soon(self) -> None:
        with self.lock:
            self.wanted.set()
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="sqlite-checkpoints", daemon=True)
                self.thread.start()

    def _at_exit(self) -> None:
        if self.wanted.is_set() or self.thread is not None:  # it wrote, and may not be copied yet
            self.checkpoint()  # (after the thread's, if it is in the middle of one)

    def _run(self) -> None:
        try:
            while True:
                if not self.wanted.wait(self.IDLE):
                    with self.lock:  # (with `soon`'s: a commit now finds no thread, and starts one)
                        if not self.wanted.is_set():
                            self.thread = None
                            return
                    continue
                time.sleep(self.GATHER)
                self.wanted.clear()
                if not self.checkpoint():
                    self.wanted.set()  # readers held some pages back: again after the next gathering
        except BaseException:
            with self.lock:
                self.thread = None  # the next commit starts another
            raise

    def checkpoint(self) -> bool:
        """One PASSIVE checkpoint; whether it copied the whole WAL (or there is nothing to do)."""
        with _CHECKPOINTING:
            try:
                connection = sqlite3.connect(self.uri, uri=True, timeout=1)
            except sqlite3.Error:
                return True  # the file went away: nothing to do
            try:
                _busy, log_frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                return log_frames <= 0 or copied >= log_frames
            except sqlite3.Error as exc:
                log.warning("SQLite checkpoint of %s failed: %s", self.uri, exc)
                return True  # the next write asks again
            finally:
                connection.close()


# Held around each checkpoint, and by the thread that forks while it forks.
_CHECKPOINTING = threading.Lock()
os.register_at_fork(before=_CHECKPOINTING.acquire, after_in_parent=_CHECKPOINTING.release,
                    after_in_child=_CHECKPOINTING.release)  # fmt: skip


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


CLOCK = "touchbase.now"  # session.info key: the instant the unit of work acts as of
CREATED_COLUMNS = ("created_at", "opened_at", "recorded_at", "at", "due_at", "stage_since")  # when a row came to be
UPDATED_COLUMN = "updated_at"


class MissingClock(RuntimeError):
    """A session stamped a row without knowing its unit of work's instant."""


def now_of(session: Session) -> dt.datetime:
    """The instant the session's unit of work acts as of."""
    now = session.info.get(CLOCK)
    if now is None:
        raise MissingClock("this session has no instant: open it with unit_of_work(factory, now=...)")
    return now


@event.listens_for(Session, "before_flush")
def _stamp(session: Session, _context: Any, _instances: Any) -> None:
    for row in session.new:
        _stamp_new(session, row)
    for row in session.dirty:
        if UPDATED_COLUMN in _columns(row) and session.is_modified(row, include_collections=False):
            setattr(row, UPDATED_COLUMN, now_of(session))


def _stamp_new(session: Session, row: Any) -> None:
    """A new row's `created_at` and the like, where not given: the unit of work's instant."""
    columns = _columns(row)
    for name in (*CREATED_COLUMNS, UPDATED_COLUMN):
        if name in columns and getattr(row, name) is None:
            setattr(row, name, now_of(session))


def _columns(row: Any) -> Any:
    return inspect(row).mapper.columns.keys()


Row = TypeVar("Row", bound=Base)
_INSERTED = "touchbase.inserted"  # session.info: rows `inserted` put in, with the transaction they were written in


def inserted(session: Session, row: Row) -> Row:
    """`row` (new, its values given) written at once with a plain insert, then in the session as
    the persistent row it now is, with its new key: no unit of work (no flush step, no read of
    the key, no history), and nothing else pending is flushed first. It is stamped as a flush
    would stamp it (`_stamp`). A rollback of the transaction (or savepoint) that wrote it takes
    it out of the session again, as it would a row the session had flushed itself."""
    written = _insert(session, row, unique=None)
    assert written is not None  # a plain insert writes its row or raises
    return written


def inserted_unless_there(session: Session, row: Row, *, unique: tuple[str, ...]) -> Row | None:
    """`inserted`, unless a row with the same values in the `unique` columns (a unique
    constraint's) is there already, or is being written by another transaction (the database
    waits for it): then nothing is written, and None. One statement (`INSERT … ON CONFLICT DO
    NOTHING`), where a savepoint around a plain insert would take two more."""
    return _insert(session, row, unique=unique)


def _insert(session: Session, row: Row, *, unique: tuple[str, ...] | None) -> Row | None:
    _stamp_new(session, row)
    table, columns, key_attributes = _shape(type(row))
    given = row.__dict__
    values = {column: given[attribute] for attribute, column in columns if attribute in given}
    with session.no_autoflush:
        if unique is None:
            key = session.execute(table.insert(), values).inserted_primary_key
        else:
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            statement = insert(table).on_conflict_do_nothing(index_elements=list(unique))
            key = session.execute(statement.returning(*table.primary_key.columns), values).first()
            if key is None:
                return None
    for attribute, value in zip(key_attributes, key, strict=True):
        setattr(row, attribute, value)
    make_transient_to_detached(row)
    session.add(row)
    writing = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_INSERTED, []).append((writing, row))
    return row


def updated(session: Session, row: Row, values: dict[str, Any]) -> None:
    """`values` (attribute: value) written to the persistent `row` at once with a plain UPDATE by
    its key, and set on the row as what the database holds: no unit of work (no flush step, no
    history, no mapper events), and nothing else pending is flushed first. As a flush would, it
    writes only the values that differ from the row's, and stamps `updated_at` when it writes.
    Only for columns nothing derives anything from at a flush (a customer's dates, not its name
    or contact: `models._search_key`) and that do not change who sees the row (not its owner:
    the door keeps its answers, `access._forget_seen_if_who_sees_changed`). A rollback of the
    transaction (or savepoint) that wrote it expires the row, as it would a row the session had
    flushed."""
    values = {attribute: value for attribute, value in values.items() if getattr(row, attribute) != value}
    if not values:
        return
    table = _shape(type(row))[0]
    if UPDATED_COLUMN in table.c:
        values[UPDATED_COLUMN] = now_of(session)
    key = inspect(row).identity
    assert key is not None and len(key) == 1, "a persistent row with a one-column key"
    params = {f"new_{attribute}": value for attribute, value in values.items()}
    session.connection().execute(_update_of(type(row), tuple(values)), {**params, "row_key": key[0]})
    for attribute, value in values.items():
        set_committed_value(row, attribute, value)
    writing = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_UPDATED, []).append((writing, row))


_UPDATED = "touchbase.updated"  # session.info: rows `updated` wrote, with the transaction they were written in


@cache
def _update_of(model: type[Base], attributes: tuple[str, ...]) -> Any:
    """The UPDATE of these attributes' columns by the key (built once per set: building it anew
    costs about as much as running it)."""
    mapper = inspect(model)
    [key] = mapper.primary_key
    columns = {mapper.get_property(a).columns[0].key: bindparam(f"new_{a}") for a in attributes}
    return mapper.local_table.update().where(key == bindparam("row_key")).values(columns)


@cache
def _shape(model: type[Base]) -> tuple[Any, tuple[tuple[str, str], ...], tuple[str, ...]]:
    """A model's table, its (attribute, column) names and its key's attributes."""
    mapper = inspect(model)
    columns = tuple((prop.key, prop.columns[0].key) for prop in mapper.column_attrs)
    return mapper.local_table, columns, tuple(mapper.get_property_by_column(c).key for c in mapper.primary_key)


@event.listens_for(Session, "after_soft_rollback")
def _forget_written(session: Session, rolled_back: SessionTransaction) -> None:
    for row in _written_within(session, _INSERTED, rolled_back):
        session.expunge(row)
    for row in _written_within(session, _UPDATED, rolled_back):
        session.expire(row)  # read again when next used: what the database holds now


def _written_within(session: Session, kind: str, rolled_back: SessionTransaction) -> list[Any]:
    """The rows of `session.info[kind]` written within `rolled_back` that are still in the
    session; they leave the list."""
    written = session.info.get(kind)
    if not written:
        return []
    session.info[kind] = [(writing, row) for writing, row in written if not _within(writing, rolled_back)]
    return [row for writing, row in written if _within(writing, rolled_back) and row in session]


@event.listens_for(Session, "after_transaction_end")
def _written_kept(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost ended: its rows are the database's now, or gone
        session.info.pop(_INSERTED, None)
        session.info.pop(_UPDATED, None)


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@contextmanager
def unit_of_work(factory: sessionmaker[Session], *, now: dt.datetime | None) -> Iterator[Session]:
    """One unit of work as of `now`: commit on success, roll back on any error, always close.
    (`now=None` is for work that stamps nothing: it fails if it tries.)"""
    session = factory(info={CLOCK: now} if now is not None else {})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def refresh_statistics(engine: Engine, *, at_least: int = 1000) -> list[str]:
    """SQLite: ANALYZE each table of `at_least` rows whose planner statistics are missing (for
    the table or one of its indexes), were taken at under half or over twice its rows, or at
    under half the teams whose rows it holds now (`_more_teams`); returns the tables analysed.

    Without statistics SQLite guesses, and at 100,000 customers it guesses wrong: it walks a
    team's whole index of complaints in date order to find one person's few, or a team's
    customers to find 25 by id. PostgreSQL keeps its own (autovacuum); SQLite needs someone to
    ask, so `serve` and `worker` call this at start and the scheduler every hour."""
    if engine.dialect.name != "sqlite":
        return []
    stale = []
    with reading(), engine.connect() as connection:  # counting takes no write lock
        has_stats = connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'").first() is not None
        workspaces = connection.exec_driver_sql("SELECT count(*) FROM workspace").scalar() or 0
        for table in Base.metadata.sorted_tables:
            rows = connection.exec_driver_sql(f'SELECT count(*) FROM "{table.name}"').scalar() or 0
            known, unmeasured = None, True
            if has_stats:
                stat = connection.exec_driver_sql("SELECT stat FROM sqlite_stat1 WHERE tbl = ? LIMIT 1",
                                                  (table.name,)).scalar()  # fmt: skip
                known = int(str(stat).split()[0]) if stat else None
                # An index made since (by a migration) has no statistics of its own yet. (A
                # partial index may hold no rows, and ANALYZE writes none for it: not those.)
                unmeasured = connection.exec_driver_sql(
                    "SELECT 1 FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql NOT LIKE '% WHERE %' "
                    "AND name NOT IN (SELECT idx FROM sqlite_stat1 WHERE tbl = ? AND idx IS NOT NULL) LIMIT 1",
                    (table.name, table.name)).first() is not None  # fmt: skip
            if rows >= at_least and (not known or unmeasured or not known / 2 <= rows <= known * 2
                                     or _more_teams(connection, table.name, workspaces)):
                stale.append(table.name)
    for name in stale:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'ANALYZE "{name}"')
    return stale


def _more_teams(connection: Connection, table: str, workspaces: int) -> bool:
    """Whether the table holds rows of over twice as many teams as its statistics say. Taken
    when one big team filled it, they tell the planner that a team's rows are all the rows,
    and it scans the table for a small team's: a workspace's deletion scanned 2.6 million
    search lines (docs/PERFORMANCE.md, section 71). Counted by seeking in the index, one team
    at a time, no further than the answer needs; not at all while there are not that many
    workspaces."""
    indexes = ("SELECT s.idx, s.stat FROM sqlite_stat1 s JOIN sqlite_master m ON m.type = 'index' AND m.name = s.idx "
               "WHERE s.tbl = ? AND coalesce(m.sql, '') NOT LIKE '% WHERE %'")  # not a partial index
    for idx, stat in connection.exec_driver_sql(indexes, (table,)).all():
        first = connection.exec_driver_sql("SELECT name FROM pragma_index_info(?) WHERE seqno = 0", (idx,)).scalar()
        numbers = str(stat).split()
        if first != "team_id" or len(numbers) < 2 or not int(numbers[1]):
            continue
        teams_then = max(1, round(int(numbers[0]) / int(numbers[1])))
        if workspaces <= 2 * teams_then:
            return False
        seen, last = 0, ""
        while seen <= 2 * teams_then:
            last = connection.exec_driver_sql(
                f"SELECT team_id FROM {_quoted(table)} INDEXED BY {_quoted(idx)} WHERE team_id > ? "
                "ORDER BY team_id LIMIT 1", (last,)).scalar()  # fmt: skip
            if last is None:
                return False
            seen += 1
        return True
    return False


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "the database does not answer"
        return False


def purge_freed_pages(engine: Engine) -> None:
    """After an erase commits: on SQLite, move the pages out of the WAL into the main file
    (where `secure_delete` has zeroed the old bytes) and empty the WAL.

    SQLite refuses a checkpoint at once (busy, nothing done) while another runs: this
    process's (`Checkpoints`) is waited for, another process's is asked again, for up to
    `TURN_WAIT` seconds. Until the WAL is emptied it and the main file's old pages still hold
    what was erased."""
    if engine.dialect.name != "sqlite":
        return
    connection = engine.raw_connection()
    try:
        deadline = _elapsed() + TURN_WAIT
        while True:
            with _CHECKPOINTING:
                busy, _log_frames, _copied = connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return
            if _elapsed() >= deadline:
                log.warning("the WAL could not be emptied after an erase: what was erased stays on disk until the "
                            "next checkpoint")  # fmt: skip
                return
            time.sleep(0.05)  # a short relative sleep: right under a shifted clock too
    finally:
        connection.close()
