"""Sending at Slack's pace: when each message may go, and how many go at once.

Slack holds an app to limits per workspace (https://docs.slack.dev/apis/web-api/rate-limits):
`chat.postMessage` about one message per second per channel, with short bursts, and a
workspace-wide budget of "several hundred messages per minute". A sender that posts as fast
as it can is answered `429` and told to wait, and waits longer than if it had kept to the
budget; so the outbox's sender paces itself with a `Pacer`: `reserve(team, channel)` says how
long to wait before the next message there keeps within both budgets. A `429` that comes all
the same (the budget is lower than assumed, or another process posts too) pauses that
workspace for its `Retry-After` and slows it down; each message Slack accepts speeds it up
again, never beyond the assumed budget.

`Lanes` runs the sends of one delivery on a few threads: a Slack answer takes 50-200 ms,
so one message at a time would not reach even one workspace's budget, and many workspaces
are served side by side. Messages to one channel go one at a time, in the order given.
`GroupCommit` writes the outcomes that the lanes finish at about the same time in one
transaction rather than one each.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.clock import elapsed

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

# What Slack documents: one message per second per channel with short bursts; the workspace
# budget is "several hundred per minute", and this sender assumes 600, keeping 10 % below.
CHANNEL_RATE, CHANNEL_BURST = 1.0, 3
WORKSPACE_PER_MINUTE = 600
MARGIN = 0.9
SLOWEST = 1 / 60  # per second: however many 429s, a workspace is never slowed below this
# App Homes (`views.publish`) have a budget of their own, Slack's Tier 4 ("100+ per minute"),
# and one person's Home goes at most once every HOME_SPACING seconds: a burst of their
# changes waits for one build as things are then.
HOME_PER_MINUTE = 100
HOME_SPACING = 3.0  # seconds
ROOM_POLL = 0.005  # seconds: how often `Lanes.wait_for_room` looks


@dataclass
class _Bucket:
    """GCRA, i.e. a token bucket kept as one instant: the next message conforms from
    `tat - tolerance` on."""

    interval: float
    tolerance: float
    tat: float = 0.0

    def earliest(self, now: float) -> float:
        return max(now, self.tat - self.tolerance)

    def take(self, at: float) -> None:
        self.tat = max(self.tat, at) + self.interval


class Pacer:
    def __init__(
        self,
        *,
        per_minute: float = WORKSPACE_PER_MINUTE * MARGIN,
        channel_rate: float = CHANNEL_RATE,
        channel_burst: int = CHANNEL_BURST,
        burst: int | None = None,
        clock: Callable[[], float] = elapsed,
    ) -> None:
        self.fastest = 60.0 / per_minute  # seconds between two messages of a workspace
        self.burst = burst or max(1, round(per_minute / 60))  # default: a second's worth at once
        self.channel_interval, self.channel_burst = 1.0 / channel_rate, channel_burst
        self.clock = clock
        self.lock = threading.Lock()
        self.workspaces: dict[str, _Bucket] = {}
        self.channels: dict[tuple[str, str], _Bucket] = {}
        self.paused: dict[str, float] = {}  # workspace -> until (a 429's Retry-After)

    def _workspace(self, team_id: str) -> _Bucket:
        found = self.workspaces.get(team_id)
        if found is None:
            found = self.workspaces[team_id] = _Bucket(self.fastest, (self.burst - 1) * self.fastest)
        return found

    def _channel(self, team_id: str, channel: str) -> _Bucket:
        found = self.channels.get((team_id, channel))
        if found is None:
            if len(self.channels) > 100_000:  # forget channels whose budget is back in full
                now = self.clock()
                self.channels = {k: b for k, b in self.channels.items() if b.tat > now}
            tolerance = (self.channel_burst - 1) * self.channel_interval
            found = self.channels[team_id, channel] = _Bucket(self.channel_interval, tolerance)
        return found

    def reserve(self, team_id: str, channel: str, *, within: float | None = None) -> float:
        """Seconds to wait before posting to `channel` of `team_id`; the slot is taken, unless
        the wait is longer than `within` seconds (a sender that will not wait so long leaves
        the slot to the next message, rather than pushing every later one back)."""
        with self.lock:
            now = self.clock()
            ws, ch = self._workspace(team_id), self._channel(team_id, channel)
            at = max(ws.earliest(now), ch.earliest(now), self.paused.get(team_id, now))
            if within is None or at <= now or at - now <= within:
                ws.take(at)
                ch.take(at)
            return at - now

    def late(self, turn: float) -> bool:
        """Whether a message whose turn was `turn` (a `clock()` value) would now go later than a
        burst's span after it (at least one message's interval: a sleep always overruns a
        little): the process stalled (a pause to collect garbage, a write lock held through a
        checkpoint), and the messages whose turns fell in the stall would all go at once,
        beyond the burst Slack allows. Such a message takes a new turn instead."""
        return self.clock() - turn > max(self.burst - 1, 1) * self.fastest

    def paused_until(self, team_id: str) -> float:
        with self.lock:
            return self.paused.get(team_id, 0.0)

    def accepted(self, team_id: str) -> None:
        """Slack took a message: a slowed workspace speeds up again, a little at a time."""
        with self.lock:
            ws = self.workspaces.get(team_id)
            if ws is not None and ws.interval > self.fastest:
                ws.interval = max(self.fastest, ws.interval * 0.98)

    def refused(self, team_id: str, channel: str, retry_after: float) -> None:
        """Slack answered 429: nothing goes to this workspace before `retry_after` seconds
        from now, and its messages are spaced a quarter wider."""
        with self.lock:
            now = self.clock()
            until = now + retry_after
            self.paused[team_id] = max(self.paused.get(team_id, 0.0), until)
            ws = self._workspace(team_id)
            ws.interval = min(1 / SLOWEST, ws.interval * 1.25)
            ws.tat = max(ws.tat, until)
            ch = self._channel(team_id, channel)
            ch.tat = max(ch.tat, until)
        log.info("Slack asked to wait %.1fs before posting more in %s", retry_after, team_id)


class Lanes:
    """`count` threads running the tasks given to them; one key's tasks (a channel's) run one
    at a time, in the order given. At most `room` tasks wait or run at once (six a lane unless
    told): `submit` blocks when they are that many. The sender claims no more rows than there
    is room for, once half of it is free (`wait_for_room`), so rows are claimed only as fast as
    they are sent, and the lanes still hold three rounds of work while it claims.

    Any idle thread takes the first waiting task whose key has none running. (A thread per
    key's hash left lanes idle while others had a backlog: at Slack's real pace, 22 % of the
    lanes' time idle with every place taken; docs/PERFORMANCE.md.)

    With one lane the tasks run at once, on the caller's thread."""

    def __init__(self, count: int, *, room: int | None = None) -> None:
        self.count = count
        self.size = room or 6 * count
        self.room = threading.Semaphore(self.size)
        self.given = 0  # tasks waiting or running
        self._waiting: deque[tuple[str, Callable[[], None]]] = deque()
        self._running: set[str] = set()  # the keys with a task running
        self._changed = threading.Condition()
        self._closing = False
        self.threads: list[threading.Thread] = []  # started with the first task (most runs have none)

    def submit(self, key: str, task: Callable[[], None]) -> None:
        if self.count <= 1:
            task()
            return
        self.room.acquire()
        with self._changed:
            if not self.threads:
                for n in range(self.count):
                    thread = threading.Thread(target=self._run, name=f"send-{n}", daemon=True)
                    self.threads.append(thread)
                    thread.start()
            self.given += 1
            self._waiting.append((key, task))
            self._changed.notify()

    def backlog(self) -> Counter[str]:
        """How many tasks each key has given and not yet done (waiting or running)."""
        with self._changed:
            given = Counter(key for key, _task in self._waiting)
            given.update(self._running)
        return given

    def room_left(self) -> int:
        """How many tasks `submit` takes now without waiting."""
        if self.count <= 1:
            return self.size
        with self._changed:
            return self.size - self.given

    def wait_for_room(self, at_least: int, timeout: float) -> int:
        """Wait until `submit` takes at least this many tasks without waiting, or `timeout`
        seconds; returns the room left then. Short sleeps, not a timed wait on a condition: a
        timed wait never ended under a shifted clock (CI's faketime run; see `Sender._pause`)."""
        if self.count <= 1:
            return self.size
        end = elapsed() + timeout
        while (room := self.room_left()) < at_least and elapsed() < end:
            time.sleep(ROOM_POLL)
        return room

    def _take(self) -> tuple[str, Callable[[], None]] | None:
        """The first waiting task whose key has none running (called holding `_changed`)."""
        for n, (key, task) in enumerate(self._waiting):
            if key not in self._running:
                del self._waiting[n]
                self._running.add(key)
                return key, task
        return None

    def _run(self) -> None:
        while True:
            with self._changed:
                while (found := self._take()) is None:
                    if self._closing and not self._waiting:
                        return
                    self._changed.wait()
            key, task = found
            try:
                task()
            except Exception:  # noqa: BLE001 - a lane must outlive a task's failure
                log.exception("a send failed unexpectedly")
            finally:
                self.room.release()
                with self._changed:
                    self.given -= 1
                    self._running.discard(key)
                    self._changed.notify_all()  # the key's next task, or the end, may wait on it

    def close(self) -> None:
        """Wait until every task given has run."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        for thread in self.threads:
            thread.join()


class GroupCommit(Generic[Item, Result]):
    """`write(items)` for items that several threads give at about the same time, in one call:
    the first thread to give one writes every item waiting then, the others wait for it and get
    their own item's result; those given meanwhile are written next, together, by one of them.
    (A group commit: the lanes' outcomes, one transaction each, queued for SQLite's one write
    turn; docs/PERFORMANCE.md.) If `write` raises, every item of that call raises it."""

    def __init__(self, write: Callable[[Sequence[Item]], Sequence[Result]]) -> None:
        self._write = write
        self._changed = threading.Condition()
        self._waiting: list[_Slot[Item, Result]] = []
        self._writing = False

    def __call__(self, item: Item) -> Result:
        slot: _Slot[Item, Result] = _Slot(item)
        with self._changed:
            self._waiting.append(slot)
            while self._writing and not slot.done:
                self._changed.wait()
            if slot.done:
                return slot.result()
            self._writing = True
            batch, self._waiting = self._waiting, []
        try:
            results = self._write([s.item for s in batch])
            for s, result in zip(batch, results, strict=True):
                s.value = result
        except BaseException as exc:
            for s in batch:
                s.error = exc
            raise
        finally:
            with self._changed:
                for s in batch:
                    s.done = True
                self._writing = False
                self._changed.notify_all()
        return slot.result()


class _Slot(Generic[Item, Result]):
    __slots__ = ("item", "done", "value", "error")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.done = False
        self.value: Result | None = None
        self.error: BaseException | None = None

    def result(self) -> Result:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


def home_pacer() -> Pacer:
    """The App Homes' pacer: Slack's budget for `views.publish`, one person's Home at a time."""
    return Pacer(per_minute=HOME_PER_MINUTE * MARGIN, channel_rate=1 / HOME_SPACING, channel_burst=1)
