"""What became of the messages Slack took, written fenced on the lease each row carries.

That is the sender's most frequent write (bot.scheduler.outbox). The lanes' outcomes of one moment
come together (`GroupCommit`, bot.scheduler.pacing) and are written in one transaction, in the
rows' order (two writers lock rows alike). A message sent keeps whom it was for and what became
of it, not what it said; a request's DM is deleted once Slack has it (services.notices: one a
touch, not kept for good). An outcome that writes no row was fenced off: the row changed hands
(its lease ran out and another process claimed it), or an App Home was asked for again while it
was sent and is pending again, as it should be.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import logging
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, literal_column, update
from sqlalchemy.orm import Session, sessionmaker

from bot.scheduler.claims import HOME, SAID
from bot.storage.db import unit_of_work
from bot.storage.models import SENDING, SENT, Notification

log = logging.getLogger(__name__)

# Each statement built once (building an ORM UPDATE for each message cost more than the
# database's work on it).
_SENT = (
    update(Notification.__table__)
    .where(Notification.id == bindparam("row_id"), Notification.status == SENDING,
           Notification.due_at == bindparam("lease", type_=Notification.__table__.c.due_at.type))
    .values(status=SENT, attempts=bindparam("row_attempts"), sent_at=bindparam("row_sent_at"),
            message_ts=bindparam("row_ts"), last_error=bindparam("row_note"),
            payload=literal_column("'{}'"))  # plain: it holds nothing, and reads with or without keys
)  # fmt: skip
_SAID_SENT = delete(Notification.__table__).where(
    Notification.id == bindparam("row_id"), Notification.status == SENDING,
    Notification.due_at == bindparam("lease", type_=Notification.__table__.c.due_at.type),
)


class Taken(NamedTuple):
    """A message Slack took, its outcome to write."""

    row: Notification
    now: dt.datetime
    ts: str | None
    note: str | None


class _NotAll(Exception):
    """A statement for many rows wrote fewer than it was given (`Outcomes._together`)."""


def fenced(row: Notification, written: int) -> bool:
    """Whether an outcome wrote its row (`written`: the rows it wrote); logs why not."""
    if written != 1:
        if row.kind == HOME:  # asked for again while it was sent: pending again, as it should be
            log.info("App Home %s asked for again while it was being sent", row.id)
        else:
            log.warning("notification %s changed hands while it was being sent", row.id)
        return False
    return True


class Outcomes:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def write(self, taken: Sequence[Taken]) -> list[bool]:
        """The outcomes of messages Slack took, in one transaction, in the rows' order; for each,
        whether it was written. If the transaction fails, each is written on its own, so that one
        row's error (a deadlock, a constraint) leaves only that row to its lease."""
        ordered = sorted(taken, key=lambda one: one.row.id)
        try:
            counts: list[int | None] = [*self._together(ordered)]
        except Exception:
            if len(taken) == 1:
                raise
            log.warning("%d outcomes could not be written together: each on its own", len(taken), exc_info=True)
            counts = [self._alone(one) for one in ordered]
        written = {one.row.id: n for one, n in zip(ordered, counts, strict=True)}
        return [(n := written[one.row.id]) is not None and fenced(one.row, n) for one in taken]

    def _alone(self, one: Taken) -> int | None:
        """One outcome in a transaction of its own; None if it cannot be written (its lease runs
        out and it goes again, as any outcome not written)."""
        try:
            return self._together([one])[0]
        except Exception:  # noqa: BLE001 - one row's error must not cost the others theirs
            log.exception("notification %s: its outcome could not be written", one.row.id)
            return None

    def _together(self, taken: Sequence[Taken]) -> list[int]:
        """Rows written, for each. Consecutive rows of a kind go in one call of their statement
        for them all (the driver's `executemany`: the statement's Python work once, not once a
        row); when it writes fewer rows than it was given (one changed hands, or an App Home was
        asked for again), that transaction is undone and each row is written on its own, to
        tell which."""
        if len(taken) > 1:
            with contextlib.suppress(_NotAll), unit_of_work(self.factory, now=None) as session:
                connection = session.connection()
                for said, run in itertools.groupby(taken, key=lambda one: one.row.kind == SAID):
                    values = [_values(one) for one in run]
                    if connection.execute(_SAID_SENT if said else _SENT, values).rowcount != len(values):
                        raise _NotAll()
                return [1] * len(taken)
        with unit_of_work(self.factory, now=None) as session:
            connection = session.connection()
            return [connection.execute(_SAID_SENT if one.row.kind == SAID else _SENT, _values(one)).rowcount
                    for one in taken]  # fmt: skip


def _values(one: Taken) -> dict[str, Any]:
    """The values `_SENT` (or `_SAID_SENT`, which uses the first two) binds for one message."""
    row = one.row
    return {"row_id": row.id, "lease": row.due_at, "row_attempts": row.attempts, "row_sent_at": one.now,
            "row_ts": one.ts, "row_note": one.note}  # fmt: skip
