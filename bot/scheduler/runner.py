"""Running the jobs and the sender: once (`sweep`), or periodically under APScheduler.

APScheduler keeps its jobs in memory (no shared job store: its docs say a store must never
be shared between processes); what makes several processes safe is the data, the keys and
the claims of the outbox. Any number of `serve` / `worker` processes may run these.

Each workspace is reached with its own client (bot.oauth: the bot token, or in many-workspace
mode the workspace's installation). `shutdown()` stops cleanly: no new run starts, the jobs
stop between two workspaces, the sender finishes the message in flight and puts the rows it
holds back to pending (none is left `sending` until its lease runs out).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import Session, sessionmaker

from bot import metrics, oauth
from bot.clock import elapsed, wall
from bot.config import AUTO_SHARE, Settings
from bot.notify import Directory, SlackDirectory
from bot.scheduler import jobs
from bot.scheduler.outbox import Delivery, Sender, sender_client
from bot.scheduler.pacing import Pacer, home_pacer
from bot.scheduler.roster import Roster
from bot.scheduler.shares import Share
from bot.storage.db import make_engine, make_session_factory, refresh_statistics

log = logging.getLogger(__name__)

JOBS_EVERY = 60  # seconds: digests are per minute at most
DELIVER_EVERY = 1  # seconds: an App Home asked for, a notice "as it happens" goes out within a second or two
DELIVER_WITHIN = 50  # seconds: a run ends then (the next carries on), so that a stop is never held up long
SWEEP_DELIVERY_SECONDS = 75  # `sweep` delivers, retrying, for about a minute before it exits
STATISTICS_EVERY = 3600  # seconds: SQLite's planner statistics looked at (storage.db.refresh_statistics)
# Set by `serve` for the `worker` it starts: the serving process's pid, whose end ends the worker.
SERVE_PID = "TOUCHBASE_SERVE_PID"
SEND_LANES = 16  # messages in flight at once: Slack answers in 50-200 ms, a workspace takes ~10/s
SEND_BATCH = 4 * SEND_LANES  # rows a claim takes at most (and no more than the lanes have room for)


@dataclass
class SweepReport:
    at: dt.datetime
    written: dict[str, int]
    delivery: Delivery

    def line(self) -> str:
        d = self.delivery
        return (
            f"sweep at {self.at.isoformat()}: {sum(self.written.values())} written, {d.sent} sent, "
            f"{d.failed} failed, {d.expired} expired, {d.cancelled} cancelled, {d.retry_later} left for a later try"
        )


class Scheduler:
    """The jobs and the sender over one database, reaching each workspace with its own token."""

    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session] | None = None,
        clients: oauth.Clients | None = None,
        **sender_options: Any,
    ) -> None:
        self.settings = settings
        self.factory = session_factory or make_session_factory(make_engine(settings.database_url))
        self.clients = clients or oauth.clients(
            settings, self.factory, make=lambda token: sender_client(token, settings.slack_api_url), clock=wall
        )
        self.stopping = threading.Event()
        self._running: BaseScheduler | None = None
        lease = settings.scheduler_lease_seconds
        sender_options.setdefault("lease", lease)
        # A message's retries must end well within its lease, or another worker could take
        # the row back while this one is still trying it.
        sender_options.setdefault("retry_budget", min(60.0, lease / 3))
        # At Slack's pace (bot.scheduler.pacing): a few messages in flight, each workspace
        # within its budget, rather than one at a time or as fast as Slack answers.
        sender_options.setdefault("pacer", Pacer())
        sender_options.setdefault("home_pacer", home_pacer())
        sender_options.setdefault("lanes", SEND_LANES)
        sender_options.setdefault("batch_size", SEND_BATCH)
        # SENDER_SHARE=auto: a share among the senders running, which this one joins on its first claim.
        self.roster = Roster(self.factory, wall=wall) if settings.sender_share == AUTO_SHARE else None
        fixed = Share.fixed(*settings.share) if settings.share else None
        sender_options.setdefault("share", self.roster.share if self.roster else fixed)
        self.sender = Sender(self.factory, self.clients.client_for, wall=wall, **sender_options)
        self._statistics_at = float("-inf")
        self._delivering = threading.Lock()

    def directory(self, team_id: str) -> Directory | None:
        """Who the people of a workspace are, asked with that workspace's token."""
        client = self.clients.client_for(team_id)
        return SlackDirectory(client) if client is not None else None

    # The instant a run acts as of is decided here, at the top, and handed down: the jobs,
    # the rows they write and the delivery all read it, never the wall clock.

    def run_jobs(self, now: dt.datetime) -> dict[str, int]:
        return jobs.run_jobs(self.factory, now=now, directories=self.directory, default_tz=self.settings.tz_default,
                             retention=dt.timedelta(days=self.settings.uninstalled_retention_days),
                             stopping=self.stopping.is_set)  # fmt: skip

    def deliver(self, now: dt.datetime, *, within: float | None = None) -> Delivery:
        deadline = self.sender.clock() + within if within is not None else None
        started = time.perf_counter()
        delivery = self.sender.deliver(now=now, deadline=deadline)
        metrics.observe_job("deliver", time.perf_counter() - started, ok=True)
        return delivery

    def sweep(self, at: dt.datetime | None = None, *, within: float = SWEEP_DELIVERY_SECONDS) -> SweepReport:
        """Every job once as of `at` (default: the wall clock's now), then deliver what is due then."""
        at = at or wall()
        written = self.run_jobs(at)
        return SweepReport(at, written, self.deliver(at, within=within))

    def leave(self) -> None:
        """This process sends no more: with SENDER_SHARE=auto the other senders take its share
        over at their next beat (bot.scheduler.roster)."""
        if self.roster is not None:
            self.roster.leave()

    # --- periodic ---------------------------------------------------------------------

    def _jobs_tick(self) -> None:
        self.run_jobs(wall())
        if elapsed() - self._statistics_at >= STATISTICS_EVERY:
            self._statistics_at = elapsed()
            if analysed := refresh_statistics(self.factory.kw["bind"]):
                log.info("planner statistics refreshed: %s", ", ".join(analysed))

    def _deliver_tick(self) -> None:
        if self.roster is not None:
            self.roster.share()  # a beat when one is due, even while a long run's claims wait
        if not self._delivering.acquire(blocking=False):
            return  # the run before is still sending (a backlog): it claims what comes due meanwhile
        try:
            self.deliver(wall(), within=DELIVER_WITHIN)
        finally:
            self._delivering.release()

    def _add_jobs(self, scheduler: BackgroundScheduler | BlockingScheduler) -> None:
        start = wall()
        # Run at start too: a restart catches up at once (stale digests collapse, see jobs).
        common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None, "next_run_time": start}
        scheduler.add_job(self._jobs_tick, "interval", seconds=JOBS_EVERY, id="jobs", **common)
        # Two at once: a tick during a long run returns at once (`_deliver_tick`) instead of
        # APScheduler warning every second that the job is still running.
        scheduler.add_job(self._deliver_tick, "interval", seconds=DELIVER_EVERY, id="deliver", **{**common, "max_instances": 2})

    def start_background(self) -> Scheduler:
        """In `serve` in Socket Mode: a thread of this process. Stop it with `shutdown()`. (Over
        HTTP `serve` runs a `worker` beside gunicorn instead: bot.server.)"""
        scheduler = BackgroundScheduler(timezone=dt.UTC)
        self._add_jobs(scheduler)
        scheduler.start()
        self._running = scheduler
        log.info("scheduler started in-process")
        return self

    def shutdown(self, wait: bool = True) -> None:
        """Stop: no new run; the running ones end soon (the jobs between two workspaces, the
        sender after the message in flight, its other rows back to pending). With `wait`, return
        once they have ended (bounded by one Web API call's timeout)."""
        self.stopping.set()
        self.sender.stop()
        if self._running is not None and self._running.running:
            with contextlib.suppress(SchedulerNotRunningError):  # another stop (Ctrl-C, SIGTERM) came first
                self._running.shutdown(wait=wait)
        self.leave()
        log.info("scheduler stopped")

    def run_forever(self, *, stop_without: int | None = None) -> None:
        """`worker`: the scheduler alone, until SIGTERM / Ctrl-C, or until the process
        `stop_without` (the `serve` that started it) is gone."""
        scheduler = BlockingScheduler(timezone=dt.UTC)
        self._add_jobs(scheduler)
        self._running = scheduler

        # SIGTERM (a deploy, `docker stop`) ends the worker cleanly: the send in progress
        # finishes, the rows it still holds go back to pending, and it exits 0. A SIGKILL is
        # covered by the leases.
        asked = False

        def stop(*_: Any) -> None:
            # Not in the handler itself: it interrupts the main thread, which may hold the
            # very locks shutdown() takes.
            nonlocal asked
            if asked or self.stopping.is_set():  # a second SIGTERM, or one after Ctrl-C: the stop goes on
                return
            asked = True
            if scheduler.running:
                threading.Thread(target=self.shutdown, kwargs={"wait": True}).start()
            else:  # still starting up
                raise SystemExit(0)

        signal.signal(signal.SIGTERM, stop)
        if stop_without is not None:
            threading.Thread(target=self._stop_without, args=(stop_without,), name="parent-watch", daemon=True).start()
        log.info("worker started: jobs every %ss, delivery every %ss%s", JOBS_EVERY, DELIVER_EVERY, self._sharing())
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            self.shutdown(wait=True)

    def _sharing(self) -> str:
        share = self.sender.share
        if callable(share):
            return ", sending for a share among the senders running (SENDER_SHARE=auto)"
        return f", sending for share {share.k}/{share.n}" if share and share.n > 1 else ""

    def _stop_without(self, parent: int) -> None:
        """SIGTERM to this worker, so that it stops as on any SIGTERM, once `parent` is no longer
        its parent: `serve` was killed outright (SIGKILL, the OOM killer) and could not stop it."""
        while os.getppid() == parent:
            time.sleep(1)  # not a timed wait on `stopping`: those never end under libfaketime (CI)
            if self.stopping.is_set():  # stopping anyway
                return
        log.warning("worker: the process that started it (pid %s) is gone; stopping", parent)
        os.kill(os.getpid(), signal.SIGTERM)
