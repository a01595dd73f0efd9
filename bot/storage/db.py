"""Engine, sessions and migrations.

A session is one unit of work, and a unit of work acts as of one instant (bot.clock): open it
with `unit_of_work(factory, now=…)` (or `factory(info={CLOCK: now})`). Rows it inserts get
that instant in the columns of `CREATED_COLUMNS` left empty, and rows it changes get it in
`updated_at`. A session without its instant that tries to stamp a row fails loudly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"

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


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

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
            # Erased personal data must not linger in free pages of the file.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):  # type: ignore[no-untyped-def]
            # IMMEDIATE takes the single write lock up front: a transaction that reads and
            # then writes can never fail half-way because another writer went first.
            connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


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
        for name in (*CREATED_COLUMNS, UPDATED_COLUMN):
            if name in _columns(row) and getattr(row, name) is None:
                setattr(row, name, now_of(session))
    for row in session.dirty:
        if UPDATED_COLUMN in _columns(row) and session.is_modified(row, include_collections=False):
            setattr(row, UPDATED_COLUMN, now_of(session))


def _columns(row: Any) -> Any:
    return inspect(row).mapper.columns.keys()


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


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "the database does not answer"
        return False


def purge_freed_pages(engine: Engine) -> None:
    """After an erase commits: on SQLite, move the pages out of the WAL into the main file
    (where `secure_delete` has zeroed the old bytes) and empty the WAL."""
    if engine.dialect.name != "sqlite":
        return
    connection = engine.raw_connection()
    try:
        connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
