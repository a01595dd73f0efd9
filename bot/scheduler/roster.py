"""The senders running, among which the workspaces are shared out (SENDER_SHARE=auto).

A sender with `auto` is a row of `outbox_sender` while it runs. Every `BEAT` (10 s) it beats:
it writes when it was last seen, removes the rows of senders not seen for `SENDER_GONE` (60 s)
(stopped without a word: SIGKILL, a machine lost) and takes its share among the senders whose
rows are left (bot.scheduler.shares: the slots it scores highest for, by its id). A claim beats
when one is due (`share()`); so does the worker's tick every second (bot.scheduler.runner), so
that a run whose claims wait (its lanes full, a write turn) still beats. A sender that stops
removes its row (`leave`): the others count one fewer at their next beat, within `BEAT`; for a
sender that dies, within `SENDER_GONE` + `BEAT`.

So workers started alike (a Procfile's `worker` scaled to three) share the workspaces out among
those running, as fixed shares (`k/n`) do among those configured, without a share that waits
for a worker that is down. When a sender joins or leaves, only the workspaces of the slots it
wins or won change sender. Between two beats senders may count each other differently for a
moment: such a workspace is then sent for by two of them (a row is still claimed by one: nothing
goes twice, only the workspace's budget is kept by two for a few seconds) or by none (its rows
wait for the next beat).

Seen-times are on the real clock (`wall`), as leases are: they are about processes running now,
and the workers' clocks must agree as they must for leases. A row seen more than `SENDER_GONE`
ahead of a sender's clock is removed too, so a process whose clock ran ahead cannot hold a share
for ever.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.scheduler.shares import EVERYTHING, Share
from bot.storage.db import unit_of_work
from bot.storage.models import SENDER_GONE, OutboxSender, sender_seen_within

log = logging.getLogger(__name__)

BEAT = dt.timedelta(seconds=10)  # between a sender's beats: how soon the others see it come or go


class Roster:
    """One sender's place among the senders running: `share()` is its share now."""

    def __init__(self, factory: sessionmaker[Session], *, wall: Callable[[], dt.datetime]) -> None:
        self.factory = factory
        self.wall = wall
        self.id = uuid.uuid4().hex
        self._lock = threading.Lock()  # the delivery's claims, the worker's tick and a stop may ask at once
        self._beaten: dt.datetime | None = None
        self._left = False
        self._share = EVERYTHING

    def share(self) -> Share:
        """This sender's share among the senders seen, beating first if due.
        A beat that fails once the sender has joined keeps the share it had (and is tried again
        at the next claim); one that fails before, fails the claim, as the database would."""
        with self._lock:
            now = self.wall()
            # A clock set back since the last beat beats too, rather than waiting for it to catch up.
            due = self._beaten is None or not self._beaten <= now < self._beaten + BEAT
            if self._left or not due:
                return self._share
            try:
                share = self._beat(now)
            except SQLAlchemyError as exc:
                if self._beaten is None:
                    raise
                log.warning("the senders running could not be counted (%s); sending for share %d/%d meanwhile",
                            type(exc).__name__, self._share.k, self._share.n)  # fmt: skip
                return self._share
            if share != self._share or self._beaten is None:
                log.info("sending for share %d/%d of the senders running, as %s", share.k, share.n, self.id)
            self._share, self._beaten = share, now
            return self._share

    def _beat(self, now: dt.datetime) -> Share:
        with unit_of_work(self.factory, now=None) as session:
            session.execute(_seen(session.get_bind().dialect.name), {"id": self.id, "seen_at": now})
            session.execute(delete(OutboxSender).where(~sender_seen_within(now)))
            running = tuple(session.scalars(select(OutboxSender.id).order_by(OutboxSender.id)))
        return _share_among(self.id, running)

    def leave(self) -> None:
        """This sender stops: its row goes, and the others count one fewer at their next beat.
        It does not join again (a claim still under way keeps the share it had)."""
        with self._lock:
            if self._left or self._beaten is None:
                self._left = True
                return  # never joined, or gone already
            self._left = True
            try:
                with unit_of_work(self.factory, now=None) as session:
                    session.execute(delete(OutboxSender).where(OutboxSender.id == self.id))
            except SQLAlchemyError as exc:  # a stop goes on: the others find this sender gone in time
                log.warning("could not leave the senders running (%s); the others take its share over "
                            "once it has been unseen for %ds", type(exc).__name__, SENDER_GONE.total_seconds())  # fmt: skip


@functools.lru_cache(maxsize=4)  # the same senders beat after beat: their share is worked out once
def _share_among(me: str, running: tuple[str, ...]) -> Share:
    return Share.among(me, running)


@functools.cache
def _seen(dialect: str) -> Any:
    """A sender's row written, or its seen-time moved on if it is there."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(OutboxSender)
    return stmt.on_conflict_do_update(index_elements=["id"], set_={"seen_at": stmt.excluded.seen_at})
