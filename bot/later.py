"""Work a listener leaves for after Slack has its answer: the one way to do work later.

With `process_before_response=True` Slack hears back only when the listener returns, so a
listener that also posted a DM would make the person wait for a Web API round trip (50–300 ms
against real Slack), and a failed DM would fail the request that saved the record. Such
follow-ups go through `RequestContext.after(work)`: once the request's unit of work has
committed, `AfterResponse` runs them on a small thread pool, each batch with a `FollowUp`
context (its own session as of the request's instant, and the notifier), each item on its own,
so one failure does not stop the others. They mostly read (an App Home opened is a few
queries), so on SQLite they begin deferred and do not hold the write lock the next request's
save needs. A request that failed leaves nothing for later. What must survive a crash, or costs
CPU the answers need, goes through the outbox (bot.scheduler.outbox) instead: the App Homes a
change asks for are built and published by the worker's sender (services.home.asked_homes).

Work of which the latest ask is enough (an App Home opened shows things as they are when it
is built) is left as `Latest(key, work, every)`: asks under one key run one at a time, at
most once every `every` seconds, with the context of the latest ask; the first ask after a
quiet spell runs at once.

The notifier a batch gets is its workspace's (`notifiers(team_id)`: in many-workspace mode it
carries that workspace's token), and its log lines carry the request's id (bot.logs). On a
stop (`shutdown`) no new work is taken and the work already handed over is finished, for a
bounded time (asks waiting for their turn run at once): a process stopping for a deploy does
not drop the DMs of its last requests.

Tests wait for this work with `wait_idle()` (which runs what waits for its turn at once), so
what they assert is deterministic.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import elapsed
from bot.i18n import t
from bot.logs import REQUEST_ID
from bot.notify import Notifier
from bot.storage.db import CLOCK, reading

if TYPE_CHECKING:
    from bot.context import FollowUp, RequestContext, Work

log = logging.getLogger(__name__)

_POOLS: weakref.WeakSet[AfterResponse] = weakref.WeakSet()


@dataclass(frozen=True)
class Latest:
    """Work of which the latest ask under `key` is enough, run at most once every `every` seconds."""

    key: Hashable
    work: Work
    every: float

    def __call__(self, later: FollowUp) -> None:
        self.work(later)


@dataclass
class _Turns:
    """One key's asks: the latest not yet run, whether one runs, when the last one started."""

    ask: tuple[RequestContext, Latest, str | None] | None = None  # with the asking request's id
    running: bool = False
    started: float = float("-inf")
    every: float = 0.0


class AfterResponse:
    def __init__(
        self, session_factory: sessionmaker[Session], notifiers: Callable[[str], Notifier], *, workers: int = 4
    ) -> None:
        self.factory = session_factory
        self.notifiers = notifiers  # team_id -> the notifier that reaches that workspace
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="after-response")
        self._pending = 0
        self._idle = threading.Condition()
        self._turns: dict[Hashable, _Turns] = {}
        self._due: list[tuple[float, int, Hashable]] = []  # (when, tiebreak, key): a key's next look
        self._seq = 0
        self._hurry = 0  # wait_idle() or shutdown() is waiting: asks run without waiting for their turn
        self._timer: threading.Thread | None = None
        self._closed = False
        _POOLS.add(self)

    def submit(self, rq: RequestContext, work: list[Work]) -> None:
        with self._idle:
            if self._closed:  # stopping: the record is saved, only its courtesy is dropped
                log.warning("stopping: work after the response of a late request was not run")
                return
        plain = [w for w in work if not isinstance(w, Latest)]
        for latest in (w for w in work if isinstance(w, Latest)):
            self._ask(rq, latest)
        if plain:
            with self._idle:
                self._pending += 1
            self.pool.submit(self._run, rq, plain, REQUEST_ID.get())

    # --- the latest ask is enough ---------------------------------------------------------

    def _ask(self, rq: RequestContext, latest: Latest) -> None:
        with self._idle:
            turns = self._turns.setdefault(latest.key, _Turns())
            if turns.ask is None:
                self._pending += 1  # counted from the ask until a run has taken it
            turns.ask = (rq, latest, REQUEST_ID.get())
            self._take_turn(latest.key, turns)

    def _take_turn(self, key: Hashable, turns: _Turns) -> None:
        """Start the key's latest ask if it is its turn, else look again when it is (lock held)."""
        if turns.running or turns.ask is None:
            return
        rq, latest, request_id = turns.ask
        due = turns.started + latest.every
        if self._hurry or elapsed() >= due:
            turns.ask, turns.running, turns.started, turns.every = None, True, elapsed(), latest.every
            self.pool.submit(self._run_latest, key, rq, latest, request_id)
        else:
            self._look_at(due, key)

    def _look_at(self, when: float, key: Hashable) -> None:
        self._seq += 1
        heapq.heappush(self._due, (when, self._seq, key))
        if self._timer is None:
            self._timer = threading.Thread(target=self._keep_time, name="after-response-turns", daemon=True)
            self._timer.start()
        self._idle.notify_all()

    def _run_latest(self, key: Hashable, rq: RequestContext, latest: Latest, request_id: str | None) -> None:
        try:
            self._run(rq, [latest.work], request_id)
        finally:
            with self._idle:
                turns = self._turns[key]
                turns.running = False
                if turns.ask is not None:
                    self._take_turn(key, turns)
                else:
                    self._look_at(turns.started + latest.every, key)  # to forget the key then

    def _keep_time(self) -> None:
        """Start each key's waiting ask when its turn comes; ends when nothing waits (the next
        `_look_at` starts it again)."""
        while True:
            with self._idle:
                now = elapsed()
                while self._due and (self._due[0][0] <= now or self._hurry):
                    _, _, key = heapq.heappop(self._due)
                    turns = self._turns.get(key)
                    if turns is None:
                        continue
                    if turns.ask is None and not turns.running:
                        if now >= turns.started + turns.every:
                            del self._turns[key]  # quiet since its last turn: nothing to remember
                    else:
                        self._take_turn(key, turns)
                if not self._due:
                    self._timer = None
                    return
                left = self._due[0][0] - now
            # Short relative sleeps, not a timed wait on the condition: those stay right under a
            # shifted clock (CI's faketime), where a timed wait never ended.
            time.sleep(min(max(left, 0.0), 0.05))

    def _run(self, rq: RequestContext, work: list[Work], request_id: str | None) -> None:
        token = REQUEST_ID.set(request_id)  # the request's log lines and its follow-up's share the id
        try:
            with reading():  # follow-ups read (App Homes); on SQLite they must not hold the write lock
                later = rq.follow_up(self.factory(info={CLOCK: rq.now}), self.notifiers(rq.team_id))
                try:
                    for item in work:
                        try:
                            item(later)
                            later.session.commit()
                        except Exception as exc:  # noqa: BLE001 - one follow-up's failure must not stop the others
                            later.session.rollback()
                            log.exception("work after the response failed")
                            self._tell(later, exc)
                finally:
                    later.session.close()
        except Exception:  # noqa: BLE001 - a thread of the pool must not die of it
            log.exception("work after the response could not run")
        finally:
            REQUEST_ID.reset(token)
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def _tell(self, later: FollowUp, exc: Exception) -> None:
        """The record is saved; what failed was a message that goes with it: say so to the
        person who acted (once, and only that: if this DM fails too, it is logged)."""
        if not later.user_id:
            return
        reason = getattr(getattr(exc, "response", None), "get", lambda _key: None)("error") or str(exc) or "error"
        try:
            later.notifier.dm(later.user_id, text=t(later.locale, "error.courtesy", error=str(reason)[:200]))
        except Exception:  # noqa: BLE001 - nothing more to try
            log.warning("could not tell %s that a follow-up failed", later.user_id)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        with self._idle:
            self._hurry += 1
            try:
                for key, turns in list(self._turns.items()):
                    self._take_turn(key, turns)
                return self._idle.wait_for(lambda: self._pending == 0, timeout)
            finally:
                self._hurry -= 1

    def shutdown(self, *, wait: bool = True, timeout: float = 10.0) -> bool:
        """Take no more work; with `wait`, finish what was handed over, for at most `timeout`
        seconds. True when nothing was left unfinished."""
        with self._idle:
            self._closed = True
            self._hurry += 1  # what waits for its turn runs now (and for good: no more asks come)
            for key, turns in list(self._turns.items()):
                self._take_turn(key, turns)
            self._idle.notify_all()
        # Short relative sleeps, not a timed wait: those stay right under a shifted clock (CI's faketime).
        end = elapsed() + (timeout if wait else 0.0)
        while self._pending and elapsed() < end:
            time.sleep(0.05)
        done = self._pending == 0
        if not done:
            log.warning("stopping with work after the response unfinished")
        self.pool.shutdown(wait=False, cancel_futures=not done)
        return done


def wait_idle(timeout: float = 30.0) -> bool:
    """Wait until every app in this process has run the work its requests left."""
    return all(pool.wait_idle(timeout) for pool in list(_POOLS))


def shutdown(*, timeout: float = 10.0) -> bool:
    """Stopping the process: every app's work after the response finished, within `timeout`
    seconds in all."""
    deadline = elapsed() + timeout
    done = [pool.shutdown(wait=True, timeout=max(0.0, deadline - elapsed())) for pool in list(_POOLS)]
    return all(done)
