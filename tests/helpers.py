"""Small helpers shared by the tests."""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from bot.services import notices
from bot.services.access import Viewer
from bot.services.complaints import ComplaintInput, create_complaint
from bot.services.customers import CustomerInput, create_customer
from bot.services.home import asked_homes
from bot.services.workspaces import get_workspace
from bot.storage.models import Base, Customer
from tests.slackclient import TEAM, USER

# Under libfaketime (CI's run with the date years ahead) Python's timed waits never end: it
# shifts the monotonic clock but not their deadlines (sem_clockwait). Tests made of such waits
# (the Socket Mode client's Event.wait loops, a lock acquired with a timeout) read no date.
# (libfaketime 0.9.10's FAKETIME_DONT_FAKE_MONOTONIC=1 ends those waits, but then every
# `time.sleep` fails with EINVAL: its clock_nanosleep still moves the deadline by the offset.)
needs_timed_waits = pytest.mark.skipif(
    "faketime" in os.environ.get("LD_PRELOAD", ""), reason="timed waits never end under libfaketime"
)

# The bot reads a `.env` in its working directory: subprocess tests run it where there is none,
# so a developer's own .env (README, step 3) cannot change what they see.
NO_DOTENV = tempfile.mkdtemp(prefix="touchbase-tests-")


def as_admin(user: str = USER, team: str = TEAM) -> Viewer:
    """A viewer who sees and may do everything, acting as `user`: for setting data up."""
    return Viewer(team_id=team, user_id=user, sees_all=True, admin=True)


def add_customer(session: Session, name: str, *, team: str = TEAM, actor: str = USER, **fields: object) -> Customer:
    """A customer made through the service, as the modal would."""
    get_workspace(session, team)
    customer = create_customer(session=session, viewer=as_admin(actor, team), data=CustomerInput(name=name, **fields),
                               surface="test")  # fmt: skip
    session.commit()
    return customer


def add_complaint(
    session: Session, customer_id: int, title: str, *, now: dt.datetime, team: str = TEAM, **fields: object
) -> None:
    """A complaint logged through the service by an admin at `now`, as the modal would."""
    create_complaint(session=session, viewer=as_admin(team=team), data=ComplaintInput(customer=customer_id, title=title,
                     **fields), permalink=None, surface="test", now=now)  # fmt: skip
    session.commit()


def customers_of(session: Session, team: str = TEAM) -> list[Customer]:
    session.expire_all()
    rows = list(session.scalars(select(Customer).where(Customer.team_id == team).order_by(Customer.id)))
    session.commit()  # end the read: on SQLite every transaction holds the write lock
    return rows


def stored(session: Session, model: type[Any]) -> list[Any]:
    """Every row of `model` as the database holds it now (what the bot's own sessions wrote),
    in id order."""
    session.expire_all()
    rows = list(session.scalars(select(model).order_by(model.id)))
    session.commit()  # end the read: on SQLite every transaction holds the write lock
    return rows


Row = dict[str, Any]


def database_rows(
    engine: Engine, keep: Callable[[str, Row], Row | None] = lambda _table, row: row
) -> dict[str, list[str]]:
    """Every table's rows as the database holds them (encrypted fields as stored), to compare
    before and after requests that must change nothing; `keep(table, row)` may leave out a row
    (None) or some of its columns that a request may legitimately write."""
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = (keep(table.name, dict(r)) for r in conn.exec_driver_sql(f"SELECT * FROM {table.name}").mappings())
            out[table.name] = sorted(repr(sorted(r.items())) for r in rows if r is not None)
    return out


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> tuple[Samples, str]:
    """`GET /metrics` of the server at `url`, parsed as Prometheus parses it: its samples and its text."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as resp:
        assert resp.status == 200
        content_type = resp.headers["Content-Type"]
        body = resp.read().decode()
    assert content_type.startswith("text/plain; version=")  # Prometheus' text format
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    return samples, body


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value (0 when it is not there yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much a sample grew between two scrapes."""
    return value(after, name, **labels) - value(before, name, **labels)


def children_of(pid: int, marked: bytes) -> list[int]:
    """The pids of the processes `pid` started (from its main thread) whose command line holds `marked`."""
    children = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [child for child in children if marked in Path(f"/proc/{child}/cmdline").read_bytes()]


def running(pid: int) -> bool:
    """Whether process `pid` still runs (an ended one no parent has reaped yet is a zombie)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def eventually(probe: Any, what: str, timeout: float = 30.0) -> Any:
    """Wait for `probe()` to give something true (a background thread's work), and return it."""
    deadline = time.monotonic() + timeout
    while not (found := probe()):
        assert time.monotonic() < deadline, f"waited {timeout:.0f} s for {what}"
        time.sleep(0.05)
    return found


@contextmanager
def lock_waits(engine) -> Iterator[Callable[[], int]]:  # type: ignore[no-untyped-def]
    """How many of the database's sessions wait for a lock (PostgreSQL), looked at afresh each time."""
    query = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watching:
        yield lambda: int(watching.execute(query).scalar() or 0)


def goes_through(pool: Executor, write: Callable[[], object], seconds: float = 5) -> bool:
    """Whether `write`, run on another thread (its own connection), is done within `seconds`:
    what a transaction that is reading meanwhile lets other writers do."""
    try:
        pool.submit(write).result(timeout=seconds)
    except TimeoutError:
        return False
    return True


def until(done: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.01)


def errors_logged(caplog) -> list[logging.LogRecord]:  # type: ignore[no-untyped-def]
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def ask_homes(session: Session, *, now: dt.datetime, team: str, people: list[str]) -> None:
    """Ask for these people's App Homes, as a request that changed what they show does."""
    notices.ask(session=session, rows=asked_homes(now=now, team_id=team, user_ids=people, default_tz="UTC"))
