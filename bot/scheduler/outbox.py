"""The outbox: jobs write notification rows; the sender claims, posts and marks them.

Writing (`scheduler.rows.enqueue`) is `INSERT … ON CONFLICT (team_id, key) DO NOTHING`: the
key names what is sent (kind, target, due date or level), so a repeated sweep, or a second
worker racing the first, creates each notification once.

Sending (`Sender.deliver`) claims due rows in a short transaction (PostgreSQL: `SELECT … FOR
UPDATE SKIP LOCKED`, so two workers never claim the same row; SQLite: the single writer), marks
them `sending` with a lease, posts each one and marks it `sent` only when Slack said `ok`. A
worker killed mid-batch leaves `sending` rows whose lease runs out; the next claim takes them
back. At most the messages in flight at the crash can go twice (one per lane: a lane records
what Slack took, with the other lanes' of the moment, before it sends the next); a row marked
`sent` never goes again (but an App Home, which goes again each time it is asked for). The claimed rows are
read once per claim; one whose lease still has more than half its length and the retry budget
to run is posted as read (no other process may take it before then), else its lease is renewed
first; either way the outcome (and the attempt) is written fenced on the lease the row carries.
So a message costs one write, and the lanes' outcomes of the same moment share one transaction
(bot.scheduler.outcomes).
A run's claims take no more than its lanes have room for (waiting for half of it first: a claim
costs about as much for 64 rows as for 20), so rows are never held while a claim waits to hand
them over; and a channel, which goes at about one message a second, is given a burst's worth at a
time, so that one person's backlog does not fill the room while every other channel waits.

Row states: `pending` -> `sending` -> `sent` | `failed` (permanent Slack error, kept with
`last_error` for admins) | `expired` (a digest whose day is over: the next digest has it, or
a message rendered at send time about something no longer due) | `cancelled` (touchbase was
uninstalled from the workspace, or is not installed there: never sent, never retried).
`due_at` means "not before": the due instant while pending (already moved out of quiet
hours), the lease's end while sending, the next try after a transient failure.

Most rows carry their message, until it ends: a row sent, failed, expired or cancelled keeps
whom it was for and what became of it, not what it said (a digest names customers, a warning
a complaint's title: once sent they are Slack's, and a customer erased later is not left named
in the outbox). A job that writes many rows at once (`rows.enqueue_select`, one
`INSERT … SELECT`) stores only what a message is about (`payload["render"]` names a renderer,
the rest its arguments); the sender renders it when it posts, from the data as it is then.

An App Home is a row too (`services.home.asked_homes`: kind `home`, one row per person, rendered
when sent and published with `views.publish`): a request that changes what someone's Home shows
asks for it again in its own transaction, so the work of building and publishing it runs in the
process that sends (the `worker`), not in the one that answers Slack. Asking again while the
row is pending changes nothing (the Home is built from the data as it is when it is sent: a
burst of changes is one publish); asking while it is being sent makes it pending again. Before it
is built (a Home waits for its turn first), the sender takes it back and builds it with that
change, one publish; after, the change is published too (the send's outcome, fenced on its
lease, is then not written). Each claim takes the Homes that are due first, so a backlog of
digests does not hold them up. A Home is due, built and tried again on the real clock (`wall`),
whatever instant a run acts as of. So is a DM a request asked for (services.notices: kind
`said`, e.g. the author's "touch saved", a new complaint's assignee's; scheduler.said builds
those for others), which is claimed with the Homes and, once Slack has it, deleted rather than
marked `sent`. Homes are paced apart from messages (`home_pacer`: Slack's
budget for `views.publish`, one person's Home at a time) and sent on lanes of their own: a Home
waits in its lane for its turn, and a burst of Homes would otherwise hold every lane while the
messages behind them waited for the Homes' budget rather than their own. With several senders, a Home asked for again while one of them
publishes it can be published by another first; the older one may then land last, until the
next change.

Retries are our own loop, not slack_sdk's retry handlers (the sender's client has none), so
the rules are in one place and tested: `429` waits `Retry-After`; `5xx` and network errors
back off exponentially; both within `retry_budget` seconds per message, after which the row
goes back to pending for a later run. Any other `ok: false` is permanent. (This is the one
place besides bot/notify.py holding a WebClient: it needs Slack's raw answer, status code
and `Retry-After`, which the `Notifier` protocol deliberately hides.)

Several senders (one per `worker`) may share the workspaces out (`share`, SENDER_SHARE `k/n`):
each then claims the rows of the workspaces in its share alone (bot.scheduler.shares: slots of
a hash of the team id), so a workspace's messages all go through one process, whose pacer keeps
its budget, and the processes together send for many workspaces at once on as many cores.
A share whose worker is not running waits for it: its rows stay pending and go when it is back.
With SENDER_SHARE `auto` the shares are among the senders running instead
(bot.scheduler.roster), and a sender that stops or dies has its share taken over.

Each row is sent with its workspace's client (`clients(team_id)`: the one bot token, or in
many-workspace mode that workspace's installation, bot.oauth); a workspace without one gets
its rows cancelled. On a stop (`stop()`) the sender finishes the message in flight, gives up
waiting to retry, and puts every row it still holds back to pending at once rather than
leaving it `sending` until its lease runs out.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot import metrics
from bot.i18n import t
from bot.notify import Directory, SlackDirectory
from bot.scheduler.claims import ASKED, HOME, SAID, Due
from bot.scheduler.outcomes import Outcomes, Taken, fenced
from bot.scheduler.pacing import GroupCommit, Lanes, Pacer
from bot.scheduler.shares import Share
from bot.services.notices import Said, drop, naming_erased, say
from bot.storage.db import reading, unit_of_work
from bot.storage.models import CANCELLED, EXPIRED, FAILED, PENDING, SENDING, Notification

log = logging.getLogger(__name__)

CLAIM_AGAIN = 0.2  # seconds: how often a run looks for what came due while it is still sending
UNKNOWN_RENDERER_WAIT = dt.timedelta(minutes=5)  # before a row a newer version wrote is looked at again
RENDER_TRIES = 5  # a row whose rendering meets a database error is tried this often in all, backing off
# Slack errors worth another try; every other `ok: false` is permanent (channel_not_found,
# user_not_found, account_inactive, is_archived, not_in_channel, invalid_blocks, …).
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "service_unavailable", "request_timeout"})


@dataclass(frozen=True)
class Upload:
    """A file posted in the message's thread once the message is sent (a report's chart)."""

    filename: str
    content: bytes
    title: str


@dataclass(frozen=True)
class Rendered:
    text: str
    blocks: list[dict[str, Any]]
    uploads: tuple[Upload, ...] = ()
    view: dict[str, Any] | None = None  # an App Home: published to the row's person, not posted


# Renderers of rows written without their message: `payload["render"]` names one; it gets a
# session, the payload and who the people of the row's workspace are (Slack profiles, read
# with its token), and returns the message, or None when there is nothing to say any more
# (the row is then marked expired).
Renderer = Callable[[Session, dict[str, Any], Directory], Rendered | None]
RENDERERS: dict[str, Renderer] = {}


def register_renderer(name: str) -> Callable[[Renderer], Renderer]:
    def add(fn: Renderer) -> Renderer:
        RENDERERS[name] = fn
        return fn

    return add


def _backoff(attempts: int) -> dt.timedelta:
    """How long a row waits after its `attempts`-th try failed for now: a minute, doubling, at most an hour."""
    return dt.timedelta(seconds=min(3600.0, 30.0 * 2 ** min(attempts, 7)))


def failures(session: Session, *, team_id: str, limit: int = 20) -> list[Notification]:
    """The team's sends that failed for good, newest first: what admins are shown."""
    query = (
        select(Notification)
        .where(Notification.team_id == team_id, Notification.status == FAILED, Notification.kind != HOME)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


@dataclass
class Delivery:
    """What one `deliver` run did (counts of rows)."""

    sent: int = 0
    failed: int = 0
    expired: int = 0
    cancelled: int = 0
    retry_later: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, other: Delivery) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.expired += other.expired
        self.cancelled += other.cancelled
        self.retry_later += other.retry_later
        for error, n in other.errors.items():
            self.errors[error] = self.errors.get(error, 0) + n


class _Transient(Exception):
    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


class _Stopped(Exception):
    """The process is stopping: the row goes back to pending instead of waiting to retry."""


def sender_client(token: str | None, base_url: str, *, timeout: int = 15) -> WebClient:
    """A WebClient without slack_sdk's own retry handlers: the sender's loop does retries."""
    return metrics.MeteredWebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])


class Sender:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clients: Callable[[str], WebClient | None],
        *,
        lease: float = 300.0,
        retry_budget: float = 60.0,
        batch_size: int = 20,
        wall: Callable[[], dt.datetime],
        sleep: Callable[[float], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        pacer: Pacer | None = None,
        home_pacer: Pacer | None = None,
        lanes: int = 1,
        share: Share | Callable[[], Share] | None = None,
    ) -> None:
        self.factory = session_factory
        self.clients = clients  # team_id -> the client with that workspace's token, or None
        self.stopping = threading.Event()
        self._clients_lock = threading.Lock()
        self.pacer = pacer  # None: post as fast as Slack answers (bot.scheduler.pacing)
        self.home_pacer = home_pacer  # the App Homes': `views.publish` has a budget of its own
        self.lanes = lanes  # messages in flight at once
        # Send for a share of the workspaces alone (SENDER_SHARE: bot.scheduler.shares), so that
        # each workspace's messages go through one process, which keeps its budget (`pacer`); or
        # a function that says the share now (`auto`: bot.scheduler.roster).
        self.share = share
        self.lease = dt.timedelta(seconds=lease)
        self.retry_budget = retry_budget
        self.batch_size = batch_size
        self.wall = wall  # the real time, for leases only (they guard against real crashes)
        # Waiting to retry ends early when the process stops (tests give their own).
        self.sleep = sleep or self._pause
        self.clock = clock
        # The lanes' outcomes written together: the Homes' apart from the messages', as their lanes
        # are (a Home's row that a request holds locked must not hold up every message's).
        self.outcomes = Outcomes(session_factory)
        self._grouped = {home: GroupCommit(self.outcomes.write) for home in (False, True)}

    # --- claiming -----------------------------------------------------------------------

    def claim(
        self, *, now: dt.datetime, exclude: set[int], asked_only: bool = False, look: bool = True,
        homes: int | None = None, room: int | None = None, given: Mapping[str, int] | None = None,
    ) -> tuple[list[int], dt.datetime]:  # fmt: skip
        """Take due rows (and rows whose lease ran out) for this process (which, and in what
        order: bot.scheduler.claims); returns their ids and the lease they now carry (this claim's
        fencing token). `asked_only`: what requests asked for alone. At most `homes` Homes and
        `room` messages (None: `batch_size`; never more); `given`: the messages a run's lanes hold
        for each channel (`team:channel`), so that a channel is given a burst's worth at a time.
        `look`: read first whether anything is due, before taking the write lock (a run's first
        claim; the next follow a full one).

        `now` decides what is due (a sweep may run "as of" another instant); leases are
        always on the real clock (`wall`), as they guard against a process dying now.
        """
        wall = self.wall()
        lease = wall + self.lease
        share = self.share() if callable(self.share) else self.share
        due = Due(now=now, wall=wall, given=given, asked_only=asked_only,
                  homes=self.batch_size if homes is None else min(homes, self.batch_size),
                  room=self.batch_size if room is None else min(room, self.batch_size),
                  only=((Notification.id.not_in(exclude),) if exclude else ())
                  + ((share.of(Notification.team_id),) if share and share.n > 1 else ()))  # fmt: skip
        # A look first, in a transaction that only reads: with nothing due (most runs, once a
        # second) SQLite's write lock, which the requests' saves need, is not taken.
        if look:
            with reading(), unit_of_work(self.factory, now=None) as session:
                if not due.ids(session, lock=False):
                    return [], lease
        with unit_of_work(self.factory, now=None) as session:
            ids = due.ids(session, lock=True)
            if ids:
                claimed = update(Notification).where(Notification.id.in_(ids))
                session.execute(claimed.values(status=SENDING, due_at=lease))
        return ids, lease

    def _renew(self, row_id: int, lease: dt.datetime) -> Notification | None:
        """Extend this row's lease just before posting; None when it is no longer ours (our
        lease ran out and another process claimed it, or it was finished meanwhile)."""
        with unit_of_work(self.factory, now=None) as session:
            row = session.get(Notification, row_id, with_for_update=True)
            if row is None or row.status != SENDING or row.due_at != lease:
                return None
            row.due_at = self.wall() + self.lease
            row.attempts += 1
            session.flush()
            session.expunge(row)
            return row

    def _held(self, row: Notification, lease: dt.datetime) -> Notification | None:
        """The row as claimed, when its lease leaves time to post it (more than half the lease
        and the retry budget left): no renewal is written, since no other process may take it
        before the lease runs out. Else, or for a row not read at the claim, `_renew`."""
        left = lease - self.wall()
        if row.status != SENDING or row.due_at != lease or left <= self.lease / 2 + dt.timedelta(seconds=self.retry_budget):
            return self._renew(row.id, lease)
        row.attempts += 1  # written with the outcome (`_finish`)
        return row

    def _ours_to_build(self, row: Notification) -> bool:
        """Whether an App Home that has waited for its turn is still this sender's to build. One
        asked for again meanwhile (pending again, due) is taken back on a new lease, its first try
        with the payload the request wrote, so that it is built with that change and published
        once, rather than published now and again after. False when another sender has taken it
        since, or has given it back due later (or it is gone): that is left as it is."""
        this = (Notification.id == row.id, Notification.team_id == row.team_id, Notification.key == row.key)
        with reading(), unit_of_work(self.factory, now=None) as session:
            found = session.execute(select(Notification.status, Notification.due_at, Notification.payload)
                                    .where(*this)).one_or_none()  # fmt: skip
        if found is not None and found.status == SENDING and found.due_at == row.due_at:
            return True
        if found is None or found.status != PENDING:
            return False
        wall = self.wall()
        lease = wall + self.lease
        with unit_of_work(self.factory, now=None) as session:
            taken = session.execute(
                update(Notification)
                .where(*this, Notification.status == PENDING, Notification.due_at <= wall)
                .values(status=SENDING, due_at=lease, attempts=1)
            ).rowcount
        if taken != 1:
            return False
        row.due_at, row.attempts, row.payload = lease, 1, found.payload
        log.info("App Home %s asked for again while it waited for its turn: built with that change", row.id)
        return True

    def _finish(self, row: Notification, **values: Any) -> bool:
        """Record the outcome, fenced on the lease we hold (a stolen row is not overwritten). A
        row that ends keeps its recipient and outcome, not what it said."""
        if values.get("status") in (FAILED, EXPIRED, CANCELLED):
            values["payload"] = {}
        with unit_of_work(self.factory, now=None) as session:
            result = session.execute(
                update(Notification)
                .where(Notification.id == row.id, Notification.status == SENDING, Notification.due_at == row.due_at)
                .values(attempts=row.attempts, **values)
            )
            return fenced(row, result.rowcount)

    def _sent(self, row: Notification, *, now: dt.datetime, ts: str | None, note: str | None) -> bool:
        """`_finish` for a message Slack took: written with the other lanes' taken meanwhile, in
        one transaction (`GroupCommit`)."""
        return self._grouped[row.kind == HOME](Taken(row, now, ts, note))

    def _tell_refused(self, row: Notification, error: str) -> None:
        """A request's DM that Slack refused for good (the assignee's of a follow-up): the
        person who acted is told so, once (`payload["if_refused"]`, services.notices), as a
        courtesy that failed after the answer is (bot.later)."""
        told = row.payload.get("if_refused") if row.kind == SAID else None
        if not told:
            return
        text = t(told.get("locale"), "error.courtesy", error=error[:200])
        with unit_of_work(self.factory, now=None) as session:
            say(session=session, now=self.wall(), team_id=row.team_id,
                said=[Said(told["user_id"], f"refused:{row.id}", {"text": text})])  # fmt: skip

    # --- sending ------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop soon: the message in flight finishes, the rows still held go back to pending."""
        self.stopping.set()

    def _pause(self, seconds: float) -> None:
        """Wait before a retry, in short sleeps, ending early on `stop()`. (Short relative
        sleeps rather than a timed wait on the event: those stay right under a shifted clock,
        such as CI's faketime run.)"""
        end = self.clock() + seconds
        while not self.stopping.is_set() and (left := end - self.clock()) > 0:
            time.sleep(min(left, 0.1))

    def deliver(self, *, now: dt.datetime, deadline: float | None = None, asked_only: bool = False) -> Delivery:
        """Send everything due at `now`, the instant this run acts as of (`asked_only`: what
        requests asked for alone, App Homes and DMs); stops when nothing is due and nothing is
        being sent, at `deadline` (a `clock()` value) or on `stop()`. Each row is tried once per
        run, but an App Home asked for again meanwhile.

        App Homes are sent on lanes of their own and claimed only while those have room: a
        burst of Homes, each waiting for its turn in Slack's budget for them, would otherwise
        hold every lane, and the DMs and messages behind them would wait for the Homes' budget
        rather than their own. While anything is being sent, the run goes on claiming what comes
        due (a DM asked for meanwhile goes at once, not after the slowest Home)."""
        report = Delivery()
        # The rows tried in this run that a claim could still match (given back to pending, in
        # flight), so that each is tried once per run. Not every row tried: the claim excludes
        # these by bound values, and excluding the thousands already sent made each claim
        # slower than the last (docs/PERFORMANCE.md).
        open_: set[int] = set()
        clients: dict[str, WebClient | None] = {}  # each workspace's client, asked for once per run
        lanes, home_lanes = Lanes(self.lanes), Lanes(self.lanes)
        # One lane sends each row as it is claimed, in the claim's order; several are keyed by
        # `team:channel`, and a claim then gives a channel a burst's worth at a time.
        keyed = self.lanes > 1
        counting = threading.Lock()

        def going() -> bool:
            return not self.stopping.is_set() and (deadline is None or self.clock() < deadline)

        def send(row_id: int, lease: dt.datetime, claimed: Notification) -> None:
            if not going():  # out of time: back to pending for the next run (a Home: due now on the real clock).
                self._release(row_id, lease, self._as_of(claimed, now))
                return
            one = Delivery()
            self._deliver_one(row_id, lease, one, now=now, deadline=deadline, clients=clients, claimed=claimed)
            with counting:
                report.add(one)
                # Done for good, or an App Home (a claim matches it again only once asked for again).
                home = claimed.kind == HOME
                if one.sent or one.failed or one.expired or one.cancelled or home:
                    open_.discard(row_id)

        full = False  # the last claim took a whole batch: more is likely due, no need to look first
        try:
            while going():
                # A claim takes no more than the lanes have room for, so that `submit` never waits
                # and the next claim (a DM asked for meanwhile) is not held up. It waits (a while)
                # for half their room first: a claim costs about as much for 20 rows as for 64
                # (docs/PERFORMANCE.md, section 86).
                room = lanes.wait_for_room(lanes.size // 2, CLAIM_AGAIN) if keyed else self.batch_size
                homes = home_lanes.room_left()
                if not going() or (not room and not homes):
                    continue
                with counting:
                    exclude = set(open_)
                given = lanes.backlog() if keyed else None
                # Whether anything was being sent as the claim began: a channel left out of it
                # then may be done with by the time it ends, with more of its messages due.
                idle = not given and homes == home_lanes.size
                ids, lease = self.claim(now=now, exclude=exclude, asked_only=asked_only, look=not full,
                                        homes=homes, room=room, given=given)  # fmt: skip
                if not ids:
                    if idle:
                        break  # nothing due, nothing being sent
                    self._pause(CLAIM_AGAIN)
                    full = False
                    continue
                rows = self._rows(ids, lease)
                full = bool(room) and sum(row.kind != HOME for row in rows.values()) >= room
                with counting:
                    open_.update(ids)
                for row_id in ids:
                    if (row := rows.get(row_id)) is None:
                        continue  # gone since the claim: dropped as naming an erased customer, or its workspace's purged
                    # A lane per workspace and channel: one channel's messages keep their order.
                    lane = f"{row.team_id}:{row.channel}" if keyed else ""
                    pool = home_lanes if row.kind == HOME else lanes
                    pool.submit(lane, lambda row_id=row_id, lease=lease, row=row: send(row_id, lease, row))
        finally:
            lanes.close()
            home_lanes.close()
        for result in ("sent", "failed", "expired", "cancelled", "retry_later"):
            metrics.observe_delivery(result, getattr(report, result))
        return report

    def _rows(self, ids: list[int], lease: dt.datetime) -> dict[int, Notification]:
        """The rows just claimed, as they are now (detached): read once per claim, not once per row.
        One that names a customer erased since it was written is dropped, not sent
        (services.notices: built from what a job read before the erase committed, or back from
        a failed try with what it said), while it is still ours (`lease`)."""
        with reading(), unit_of_work(self.factory, now=None) as session:  # SQLite's write turn only to drop
            rows = {row.id: row for row in session.scalars(select(Notification).where(Notification.id.in_(ids)))}
            erased = [row.id for row in naming_erased(session, [r for r in rows.values() if r.status == SENDING])]
            session.expunge_all()
        if erased:
            with unit_of_work(self.factory, now=None) as session:
                for row_id in erased:
                    log.info("notification %s names an erased customer: not sent", row_id)
                    row = session.get(Notification, row_id, with_for_update=True)
                    if row is not None and row.status == SENDING and row.due_at == lease:
                        drop(session, row)
                    del rows[row_id]
        return rows

    def _client(self, team_id: str, clients: dict[str, WebClient | None]) -> WebClient | None:
        with self._clients_lock:  # the lanes share one run's clients
            if team_id not in clients:
                clients[team_id] = self.clients(team_id)
            return clients[team_id]

    def _as_of(self, row: Notification | None, now: dt.datetime) -> dt.datetime:
        """The instant a row is handled as of: the run's, but that of what a request asked for
        (an App Home, a DM), which is due, built and tried again on the real clock (see
        `claim`), whatever instant the run acts as of."""
        return self.wall() if row is not None and row.kind in ASKED else now

    def _release(self, row_id: int, lease: dt.datetime, now: dt.datetime) -> None:
        with unit_of_work(self.factory, now=None) as session:
            session.execute(
                update(Notification)
                .where(Notification.id == row_id, Notification.status == SENDING, Notification.due_at == lease)
                .values(status=PENDING, due_at=now)
            )

    def _deliver_one(
        self, row_id: int, lease: dt.datetime, report: Delivery, *, now: dt.datetime, deadline: float | None,
        clients: dict[str, WebClient | None] | None = None, claimed: Notification | None = None,
    ) -> None:  # fmt: skip
        clients = {} if clients is None else clients
        row = self._renew(row_id, lease) if claimed is None else self._held(claimed, lease)
        if row is None:
            return
        now = self._as_of(row, now)
        expires = row.payload.get("expires_at")
        if expires and dt.datetime.fromisoformat(expires) <= now:
            self._finish(row, status=EXPIRED, last_error="expired")
            report.expired += 1
            return
        try:
            client = self._client(row.team_id, clients)
        except Exception as exc:  # noqa: BLE001 - a token that cannot be renewed now: a later run tries again
            log.warning("notification %s: no client for %s now: %s", row.key, row.team_id, exc)
            self._finish(row, status=PENDING, last_error="token unavailable", due_at=now + dt.timedelta(minutes=1))
            report.retry_later += 1
            return
        if client is None:  # not installed there (any more): nothing is sent to that workspace
            self._finish(row, status=CANCELLED, last_error="not installed")
            report.cancelled += 1
            return
        uploads: tuple[Upload, ...] = ()
        paced = False
        if row.kind == HOME:  # its turn first, then built: the Home shows things as they are when it goes
            try:
                self._pace(row, self.clock(), self._budget(deadline))
            except _Transient as exc:  # its turn is beyond the retry budget: back until then
                self._finish(row, status=PENDING, due_at=now + dt.timedelta(seconds=exc.wait or 1.0))
                report.retry_later += 1
                return
            except _Stopped:
                self._finish(row, status=PENDING, due_at=now)
                report.retry_later += 1
                return
            paced = True
            if not self._ours_to_build(row):
                return
        if render := row.payload.get("render"):
            if render not in RENDERERS:  # written by a newer version during a rolling upgrade: its workers send it
                log.warning("notification %s needs the renderer %r, which this version lacks", row.key, render)
                self._finish(row, status=PENDING, last_error="unknown renderer", due_at=now + UNKNOWN_RENDERER_WAIT)
                report.retry_later += 1
                return
            try:
                message = self._render(row.payload, now, SlackDirectory(client))
            except Exception as exc:  # noqa: BLE001 - a bad row must not stop the others
                if isinstance(exc, OperationalError) and row.attempts < RENDER_TRIES:  # the database, for now
                    log.warning("notification %s could not be rendered, tried again later: %s", row.key, exc.orig)
                    self._finish(row, status=PENDING, last_error="render failed", due_at=now + _backoff(row.attempts))
                    report.retry_later += 1
                    return
                log.exception("notification %s could not be rendered", row.key)
                self._finish(row, status=FAILED, last_error="render failed")
                report.failed += 1
                return
            if message is None:
                self._finish(row, status=EXPIRED, last_error="no longer due")
                report.expired += 1
                return
            row.payload = {**row.payload, "text": message.text, "blocks": message.blocks, "view": message.view}
            uploads = message.uploads
        try:
            ts = self._post_with_retries(client, row, self._budget(deadline), paced=paced)
        except _Stopped:
            self._finish(row, status=PENDING, due_at=now)
            report.retry_later += 1
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            log.warning("notification %s to %s failed for good: %s", row.key, row.channel, error)
            self._finish(row, status=FAILED, last_error=error)
            self._tell_refused(row, error)
            report.failed += 1
            report.errors[error] = report.errors.get(error, 0) + 1
        except _Transient as exc:
            # Its turn in Slack's budget is beyond what this run may wait (the retry budget, or
            # the run's deadline): back at that turn, not after a failure's backoff.
            wait = exc.wait if exc.reason == "ratelimited" else None
            later = _backoff(row.attempts) if wait is None else dt.timedelta(seconds=wait)
            self._finish(row, status=PENDING, last_error=exc.reason, due_at=now + later)
            report.retry_later += 1
        else:
            # The message is out: a failed upload is recorded, not retried (that would post it twice).
            note = self._upload(client, row, ts, uploads) if uploads else None
            if self._sent(row, now=now, ts=ts, note=note):
                report.sent += 1

    def _upload(self, client: WebClient, row: Notification, thread_ts: str | None,
                uploads: tuple[Upload, ...]) -> str | None:  # fmt: skip
        for upload in uploads:
            try:
                client.files_upload_v2(channel=row.channel, thread_ts=thread_ts, content=upload.content,
                                            filename=upload.filename, title=upload.title)  # fmt: skip
            except (SlackApiError, OSError) as exc:
                log.warning("notification %s: uploading %s failed: %s", row.key, upload.filename, exc)
                return f"upload of {upload.filename} failed: {exc}"[:500]
        return None

    def _budget(self, deadline: float | None) -> float:
        """How long a message may still wait for its turn or retry: the retry budget, within
        the run's deadline."""
        return self.retry_budget if deadline is None else min(self.retry_budget, deadline - self.clock())

    def _render(self, payload: dict[str, Any], now: dt.datetime, directory: Directory) -> Rendered | None:
        # Renderers read: on SQLite they must not hold the write lock the requests' saves need
        # while they build a message (an App Home is a dozen reads). As of `now`: a Home's "today".
        with reading(), unit_of_work(self.factory, now=now) as session:
            return RENDERERS[payload["render"]](session, payload, directory)

    def _post_with_retries(
        self, client: WebClient, row: Notification, budget: float, *, paced: bool = False
    ) -> str | None:
        started = self.clock()
        pacer = self._pacer(row)
        backoff = 0.5
        # A first try (unless its turn was taken already) and a try after a 429 wait for their
        # turn; backoff spaces the others.
        turn = not paced
        while True:
            if turn:
                self._pace(row, started, budget)
            try:
                ts = self._post(client, row)
            except _Transient as exc:
                wait = exc.wait if exc.wait is not None else backoff
                backoff = min(backoff * 2, 8.0)
                turn = exc.reason == "ratelimited" and pacer is not None
                if turn:
                    assert pacer is not None
                    pacer.refused(row.team_id, row.channel, wait)  # the pause is the pacer's to keep
                    continue
                if self.clock() + wait - started > budget:
                    raise
                if self.stopping.is_set():
                    raise _Stopped() from exc
                log.info("notification %s: %s; trying again in %.1fs", row.key, exc.reason, wait)
                self.sleep(wait)
                if self.stopping.is_set():
                    raise _Stopped() from exc
            else:
                if pacer is not None:
                    pacer.accepted(row.team_id)
                return ts

    def _pacer(self, row: Notification) -> Pacer | None:
        """Messages and App Homes are paced apart: Slack budgets each method on its own, and a
        `429` for a Home must not hold up an escalation."""
        return self.home_pacer if row.kind == HOME else self.pacer

    def _pace(self, row: Notification, started: float, budget: float) -> None:
        """Wait for the message's turn within Slack's budgets for its workspace and channel
        (bot.scheduler.pacing); a turn beyond the retry budget gives the row back for a later
        run (`_Transient`), and so does stopping meanwhile (`_Stopped`)."""
        pacer = self._pacer(row)
        if pacer is None:
            return
        # Once more if a 429 elsewhere paused the workspace meanwhile, or if this lane woke
        # long after its turn (`Pacer.late`).
        for _ in range(2):
            left = budget - (self.clock() - started)
            wait = pacer.reserve(row.team_id, row.channel, within=left)
            if wait <= 0:
                return
            if wait > left:  # its turn not taken
                raise _Transient("ratelimited", wait)
            turn = pacer.clock() + wait
            self.sleep(wait)
            if self.stopping.is_set():
                raise _Stopped()
            if pacer.paused_until(row.team_id) <= pacer.clock() and not pacer.late(turn):
                return

    def _post(self, client: WebClient, row: Notification) -> str | None:
        payload = row.payload
        try:
            if payload.get("view"):
                client.views_publish(user_id=row.channel, view=payload["view"])
                return None
            response = client.chat_postMessage(
                channel=row.channel, text=payload.get("text") or "", blocks=payload.get("blocks") or None
            )
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error") or "")
            if status == 429 or error == "ratelimited":
                retry_after = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
                raise _Transient("ratelimited", float(retry_after or 1)) from exc
            if status >= 500 or error in TRANSIENT_ERRORS:
                raise _Transient(f"http {status}" if status >= 500 else error) from exc
            raise
        except OSError as exc:  # connection refused, reset, timeout
            raise _Transient(f"network: {exc}") from exc
        return response.get("ts")
