"""What a sender's claim takes (`Sender.claim`, bot.scheduler.outbox): the due rows, in order.

What requests asked for comes first (`ASKED`: App Homes, then their DMs), then the rest: the
pending rows due as of the run's instant and the rows whose lease ran out. A claim takes at most
`homes` Homes and `room` messages, which the run's lanes have room for.

A channel goes at about one message a second, so a claim gives it at most a burst's worth
(`CHANNEL_BURST`), less what the run's lanes already hold for it (`given`, by `team:channel`): one
that has its burst is left out, and a read that meets a channel's burst is read again without it.
Else one person's backlog (a touch author's DMs) would fill the lanes' room, and every other
channel would wait for it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, tuple_, union_all
from sqlalchemy.orm import Session

from bot.scheduler.pacing import CHANNEL_BURST
from bot.services.home import HOME_KIND
from bot.services.notices import SAID_KIND
from bot.storage.db import written
from bot.storage.models import PENDING, SENDING, Notification

HOME = HOME_KIND  # a person's App Home (services.home.asked_homes)
SAID = SAID_KIND  # a DM a request asked for (services.notices)
ASKED = [HOME, SAID]  # what requests ask for: claimed first, due on the real clock
READS = 4  # reads of one kind a claim makes at most, each without the channels whose burst it met


@dataclass(frozen=True)
class Due:
    now: dt.datetime  # what is due as of: the run's instant (a sweep may run "as of" another)
    wall: dt.datetime  # the real clock: what requests asked for is due on it, and leases run out on it
    homes: int  # at most this many Homes
    room: int  # at most this many messages
    only: tuple[Any, ...]  # this process's conditions: not a row it has open, its share
    given: Mapping[str, int] | None  # the messages the lanes hold a channel (None: no burst kept to)
    asked_only: bool = False  # what requests asked for alone

    def ids(self, session: Session, *, lock: bool) -> list[int]:
        """The rows' ids, in the order they go; `lock`: PostgreSQL locks them, skipping rows another
        claim holds (a look first reads without)."""
        ids = [row.id for row in session.execute(_taken(self._asked(HOME), self.homes, lock))] if self.homes > 0 else []
        held = Counter(self.given or {})
        left_out = {key for key, n in held.items() if n >= CHANNEL_BURST}  # the channels with their burst
        left = self.room
        for query in (self._said,) if self.asked_only else (self._said, self._rest):
            for _read in range(READS):
                if left <= 0:
                    break
                more = [Notification.id.not_in(ids)] if ids else []  # read again: not those taken
                if left_out:
                    more.append(tuple_(Notification.team_id, Notification.channel)
                                .not_in(sorted(tuple(key.split(":", 1)) for key in left_out)))  # fmt: skip
                met_a_burst = False
                for row_id, team_id, channel in session.execute(query(left, lock, *more)):
                    key = f"{team_id}:{channel}"
                    if self.given is not None and held[key] >= CHANNEL_BURST:
                        met_a_burst = True
                        continue
                    held[key] += 1
                    ids.append(row_id)
                    left -= 1
                    if self.given is not None and held[key] >= CHANNEL_BURST:
                        left_out.add(key)
                if not met_a_burst:
                    break
        return ids

    def _asked(self, kind: str, *more: Any) -> Select[Any]:
        """What requests asked for, by its own index (ix_notification_asked_due), due on the real
        clock: a Home is built as things are when it is sent, a DM tells of what was just done,
        whatever instant the run acts as of, and a long run (a backlog of digests) still takes
        the ones asked for after it began. The index's condition is written in (its planner
        matches it as written), each kind's beside it."""
        n = Notification
        return (select(n.id, n.team_id, n.channel)
                .where(n.kind.in_(written(ASKED)), n.kind == written(kind), n.due_at <= self.wall,
                       n.status.in_((PENDING, SENDING)), *self.only, *more)
                .order_by(n.due_at, n.id))  # fmt: skip

    def _said(self, room: int, lock: bool, *more: Any) -> Select[Any]:
        """The DMs requests asked for, in the order they go."""
        return _taken(self._asked(SAID, *more), room, lock)

    def _rest(self, room: int, lock: bool, *more: Any) -> Select[Any]:
        """The pending rows due as of `now`, and the rows whose lease ran out, each read in
        ix_notification_status_due_id's order, so that each read stops at the claim's room (one
        read of both, by an OR, read and sorted every row due: docs/PERFORMANCE.md, section 79)."""

        def of(status: str, until: dt.datetime) -> Select[Any]:
            n = Notification
            query = (select(n.id, n.due_at, n.team_id, n.channel)
                     .where(n.status == status, n.due_at <= until, n.kind.not_in(ASKED), *self.only, *more)
                     .order_by(n.due_at, n.id))  # fmt: skip
            rows = _taken(query, room, lock).subquery()  # a subquery: PostgreSQL locks none in a UNION
            return select(rows.c.id, rows.c.due_at, rows.c.team_id, rows.c.channel)

        both = union_all(of(PENDING, self.now), of(SENDING, self.wall)).subquery()
        return select(both.c.id, both.c.team_id, both.c.channel).order_by(both.c.due_at, both.c.id).limit(room)


def _taken(query: Select[Any], room: int, lock: bool) -> Select[Any]:
    return query.limit(room).with_for_update(skip_locked=True) if lock else query.limit(room)
