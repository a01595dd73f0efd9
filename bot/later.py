"""Work a listener leaves for after Slack has its answer.

With `process_before_response=True` Slack hears back only when the listener returns, so a
listener that also posts a DM and republishes two App Homes makes the user wait for three
Web API round trips (50–300 ms each against real Slack). Such follow-ups that the user does
not need to see the answer go through `RequestContext.after(work)`: once the request's unit
of work has committed, `AfterResponse` runs them on a small thread pool, each batch with a
fresh request context (its own session) so nothing of the finished request is reused. They
read (an App Home is a few queries), so on SQLite they begin deferred and never hold the
write lock the next request's save needs. A request that failed leaves nothing for later.

Tests wait for this work with `wait_idle()`, so what they assert is deterministic.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from bot.storage.db import reading

if TYPE_CHECKING:
    from bot.app import RequestContext

log = logging.getLogger(__name__)

Work = Callable[["RequestContext"], None]
_POOLS: weakref.WeakSet[AfterResponse] = weakref.WeakSet()


class AfterResponse:
    def __init__(self, session_factory: sessionmaker[Session], *, workers: int = 4) -> None:
        self.factory = session_factory
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="after-response")
        self._pending = 0
        self._idle = threading.Condition()
        _POOLS.add(self)

    def submit(self, tb: RequestContext, work: list[Work]) -> None:
        with self._idle:
            self._pending += 1
        self.pool.submit(self._run, tb, work)

    def _run(self, tb: RequestContext, work: list[Work]) -> None:
        try:
            with reading():  # follow-ups read (App Homes); on SQLite they must not hold the write lock
                self._run_all(tb.fresh(self.factory()), work)
        except Exception:  # noqa: BLE001 - a thread of the pool must not die of it
            log.exception("work after the response could not run")
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    @staticmethod
    def _run_all(later: RequestContext, work: list[Work]) -> None:
        try:
            for item in work:
                try:
                    item(later)
                except Exception:  # noqa: BLE001 - one follow-up's failure must not stop the others
                    later.session.rollback()
                    log.exception("work after the response failed")
        finally:
            later.finish()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)


def wait_idle(timeout: float = 30.0) -> bool:
    """Wait until every app in this process has run the work its requests left."""
    return all(pool.wait_idle(timeout) for pool in list(_POOLS))
