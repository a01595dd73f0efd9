"""The outbox's rows as the jobs write them: one per message, unique by its key in the
workspace, `pending` until the sender (scheduler.outbox) claims and sends it.

Writing is `INSERT … ON CONFLICT (team_id, key) DO NOTHING`: the key names what is sent (kind,
target, due date or level), so a repeated sweep, or a second worker racing the first, creates
each notification once. Most rows carry their message; `enqueue_select` writes many in one
`INSERT … SELECT` holding only what a message is about, rendered when sent."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, exists, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.services.notices import NAMES
from bot.storage.models import PENDING, Notification


def notification(
    *,
    now: dt.datetime,
    team_id: str,
    key: str,
    kind: str,
    channel: str,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    due_at: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    meta: dict[str, Any] | None = None,
    customers: Iterable[int] = (),
) -> dict[str, Any]:
    """The values of one notification row, for `enqueue_many`. `now` is the instant the
    writer acts as of (a sweep's `--at`): the row is created then and due then by default.
    `customers`: those its text names (`services.notices.forget` finds it by them when one is erased)."""
    payload: dict[str, Any] = {"text": text, "blocks": blocks or None, **(meta or {})}
    if customers:
        payload[NAMES] = sorted(set(customers))
    if expires_at is not None:
        payload["expires_at"] = expires_at.astimezone(dt.UTC).isoformat()
    return {
        "team_id": team_id, "key": key[:300], "kind": kind, "channel": channel, "payload": payload,
        "status": PENDING, "due_at": due_at or now, "attempts": 0, "created_at": now,
    }  # fmt: skip


def enqueue_many(session: Session, rows: list[dict[str, Any]]) -> int:
    """Write the notifications whose key is new; returns how many were written.

    One statement, built once, with the rows bound in batches (SQLAlchemy's "insertmanyvalues",
    within each database's limit on bound values). Written into the statement instead, each
    batch's values made a new statement to compile: 2,535 digests took 380-470 ms on SQLite,
    where this takes 71-75 (PostgreSQL: 614-827 against 342-376; docs/PERFORMANCE.md)."""
    if not rows:
        return 0
    if session.autoflush:  # what the session holds (a workspace just made) is written first, as `execute` would
        session.flush()
    return len(session.connection().execute(_new_rows(session.get_bind().dialect.name), rows).all())


@functools.cache
def _new_rows(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(Notification).on_conflict_do_nothing(index_elements=["team_id", "key"]).returning(Notification.id)


def written_keys(session: Session, team_id: str, keys: list[str]) -> set[str]:
    """Which of these outbox keys of the workspace are written already: what a job that runs
    every minute looks for, in a transaction that only reads, before it writes again."""
    if not keys:
        return set()
    found = select(Notification.key).where(Notification.team_id == team_id, Notification.key.in_(keys))
    return set(session.scalars(found))


# The columns an `enqueue_select` query yields, in this order.
SELECT_COLUMNS = ("team_id", "key", "kind", "channel", "payload", "status", "due_at", "attempts", "created_at")


def enqueue_select(session: Session, query: Select[Any]) -> int:
    """Write the rows `query` yields (`SELECT_COLUMNS`) whose key is new, in one
    `INSERT … SELECT`: no row passes through Python, so time and memory stay those of the
    database's own work however many rows there are. Returns how many were written."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Notification).from_select(list(SELECT_COLUMNS), query)
    stmt = stmt.on_conflict_do_nothing(index_elements=["team_id", "key"])
    if dialect == "postgresql":  # psycopg reports no rowcount here: count what comes back, in SQL
        written = stmt.returning(Notification.id).cte("written")
        return int(session.scalar(select(func.count()).select_from(written)) or 0)
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def enqueue(session: Session, *, now: dt.datetime, **values: Any) -> bool:
    """Write one notification unless one with this key exists; True when it was written.
    `now`: the instant the writer acts as of (see `notification`)."""
    return enqueue_many(session, [notification(now=now, **values)]) == 1


def any_new(session: Session, query: Select[Any]) -> bool:
    """Whether `query` (as `enqueue_select` takes it) yields a row whose key is not written yet:
    read first, in a transaction that only reads, by a job that runs every minute and most
    minutes finds its rows written already (its `INSERT … SELECT` would otherwise hold SQLite's
    write turn to write nothing). It stops at the first new row."""
    rows = query.subquery()
    team_id, key = list(rows.c)[:2]
    written = exists().where(Notification.team_id == team_id, Notification.key == key)
    return session.scalar(select(literal(1)).select_from(rows).where(~written).limit(1)) is not None
