"""Serving Slack: gunicorn (HTTP mode) or Socket Mode connections, `WEB_CONCURRENCY` processes
either way, with the scheduler beside them.

Stopping (SIGTERM from a deploy, systemd or `docker stop`) is graceful: gunicorn stops taking
connections and lets each worker finish its requests in flight (`graceful_timeout`); a worker
then finishes the work its requests left for after the answer (`worker_exit`: bot.later,
bounded by `LATER_GRACE`); the master then stops the scheduler it started beside the
workers (`on_exit`: SIGTERM to its `worker`, whose sender puts the rows it holds back to
pending) and exits 0. In Socket Mode each connection process closes its connection once the
envelopes it began are acked, and the process that started them then stops the scheduler.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from slack_bolt import App

from bot import later, logs, metrics
from bot.app import create_app, create_wsgi
from bot.config import Settings, SettingsError
from bot.heap import settle_heap
from bot.storage import crypto
from bot.storage.db import make_engine, make_session_factory

log = logging.getLogger(__name__)

GRACEFUL_SECONDS = 30  # gunicorn: how long a stopping worker may take before it is killed
LATER_GRACE = 10.0  # of those, how long for the work left after the answers


def build_wsgi(settings: Settings) -> Any:
    engine = make_engine(settings.database_url)
    return create_wsgi(create_app(settings, make_session_factory(engine)), engine)


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn with its settings given here rather than on a command line."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Built in each worker after the fork, so no database connection crosses a fork.
        return build_wsgi(self.settings)


def http_options(settings: Settings, *, host: str = "0.0.0.0") -> dict[str, Any]:
    """gunicorn's settings for HTTP mode (the benchmarks serve with these too, on localhost)."""
    return {
        "bind": f"{host}:{settings.port}",
        "worker_class": "gthread",
        "workers": settings.web_concurrency,
        "threads": settings.gunicorn_threads,
        "timeout": 30,
        "graceful_timeout": GRACEFUL_SECONDS,
        "accesslog": None,  # bot.app writes one line per request
        "loglevel": "info",
        # Before any worker starts: no values of an earlier run in PROMETHEUS_MULTIPROC_DIR.
        "on_starting": lambda _arbiter: metrics.prepare_multiprocess_dir(),
        # In the worker, once it has built the app: its heap out of the collector's sight.
        "post_worker_init": lambda _worker: settle_heap(),
        # In the worker, once its requests in flight are answered: the work they left.
        "worker_exit": lambda _arbiter, _worker: later.shutdown(timeout=LATER_GRACE),
        # In the master: a worker gone, its live values with it.
        "child_exit": lambda _arbiter, worker: metrics.process_gone(worker.pid),
    }


def serve_http(settings: Settings, *, on_ready: Any = None, on_exit: Any = None) -> None:
    options = http_options(settings)
    if on_ready:
        options["when_ready"] = lambda _server: on_ready()
    if on_exit:
        options["on_exit"] = lambda _server: on_exit()
    _Gunicorn(settings, options).run()


class _Stop(Exception):
    """SIGTERM or Ctrl-C, raised in the main thread while it sleeps."""


def _stop(*_: Any) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)  # a second signal ends the process at once
    raise _Stop


SOCKET_MODE_MAX_CONNECTIONS = 10  # Slack's limit for one app


def serve_socket_mode(settings: Settings) -> None:
    """Socket Mode with /healthz and /metrics on PORT and the scheduler alongside, until
    SIGTERM (or Ctrl-C): then the connections close, the HTTP server and the scheduler stop,
    and `serve` exits 0. One connection is served in this process, more each in its own."""
    from bot.socketmode import SocketModeServer

    assert settings.slack_app_token
    if settings.web_concurrency > SOCKET_MODE_MAX_CONNECTIONS:
        raise SettingsError(f"setting WEB_CONCURRENCY is too high for Socket Mode: Slack opens at most "
                            f"{SOCKET_MODE_MAX_CONNECTIONS} connections for an app")  # fmt: skip
    if settings.web_concurrency > 1:
        serve_socket_mode_processes(settings)
        return
    server = scheduler = None
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stop)
    try:
        engine = make_engine(settings.database_url)
        app = create_app(settings, make_session_factory(engine))
        settle_heap()
        server = SocketModeServer(app, engine, settings.slack_app_token, threads=settings.gunicorn_threads,
                                  port=settings.port).start()  # fmt: skip
        scheduler = start_scheduler(settings)
        while True:
            time.sleep(3600)
    except _Stop:
        log.info("stopping")
    finally:
        if server is not None:
            server.stop()
        if scheduler is not None:
            scheduler.shutdown()  # the sender puts back what it holds


def socket_app(settings: Settings) -> App:
    """The bot's app, as a connection process builds it."""
    return create_app(settings, make_session_factory(make_engine(settings.database_url)))


def connection_process(make_app: Callable[[Settings], App], settings: Settings, slot: int, opened: Any,
                       reports: Any) -> None:  # fmt: skip
    """A Socket Mode connection process (spawned by `socketmode.ConnectionProcesses`): the app
    built by `make_app`, one connection, until SIGTERM. Ctrl-C reaches every process of the
    terminal's group: this one leaves it to the process that started it, which sends SIGTERM
    (it started this one's interpreter with Ctrl-C blocked already)."""
    from bot.socketmode import serve_connection

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stopping: list[int] = []  # a flag, not an Event: see serve_connection
    signal.signal(signal.SIGTERM, lambda signum, _frame: stopping.append(signum))
    logs.configure(settings.log_format)
    crypto.configure(settings.encryption_keys)
    app = make_app(settings)
    settle_heap()
    assert settings.slack_app_token
    serve_connection(app, settings.slack_app_token, slot, opened, reports, lambda: bool(stopping),
                     threads=settings.gunicorn_threads)  # fmt: skip
    later.shutdown(timeout=LATER_GRACE)


def serve_socket_mode_processes(settings: Settings, make_app: Callable[[Settings], App] = socket_app, *,
                                host: str = "0.0.0.0") -> None:  # fmt: skip
    """`WEB_CONCURRENCY` connection processes, /healthz and /metrics here, and the scheduler as
    a `worker` beside them (as over HTTP), until SIGTERM or Ctrl-C. The processes' metrics add
    up in PROMETHEUS_MULTIPROC_DIR, a directory of this run's own when it is not set."""
    from bot.socketmode import ConnectionProcesses

    stopping: list[int] = []  # the signal handler only notes it: nothing is cut short in the middle
    processes = None
    scheduler = SchedulerProcess(settings)
    own_dir = None

    def note(signum: int, _frame: Any) -> None:
        if stopping:  # a second signal ends it at once, the processes it started with it
            scheduler.kill()
            if processes is not None:
                processes.kill()
            if own_dir is not None:
                shutil.rmtree(own_dir, ignore_errors=True)
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        stopping.append(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, note)
    if os.environ.get(metrics.MULTIPROC_DIR):
        metrics.prepare_multiprocess_dir()
    else:  # before any process that counts starts: they read it as they import prometheus_client
        own_dir = os.environ[metrics.MULTIPROC_DIR] = tempfile.mkdtemp(prefix="touchbase-metrics-")
    try:
        engine = make_engine(settings.database_url)
        processes = ConnectionProcesses(connection_process, (make_app, settings), settings.web_concurrency, engine,
                                        port=settings.port, host=host)  # fmt: skip
        if processes.start(until=lambda: bool(stopping)) and not stopping:
            scheduler.start()
        while not stopping:
            time.sleep(0.2)
            if not stopping:
                processes.watch()
        log.info("stopping")
    finally:
        scheduler.tell_to_stop()  # it puts back what it holds while the connections finish
        if processes is not None:
            processes.stop()
        scheduler.stop()
        if own_dir is not None:
            shutil.rmtree(own_dir, ignore_errors=True)
            del os.environ[metrics.MULTIPROC_DIR]


def start_scheduler(settings: Settings) -> Any:
    """The scheduler in this process unless SCHEDULER_ENABLED=false (then a `worker` runs it)."""
    if not settings.scheduler_enabled:
        return None
    from bot.scheduler.runner import Scheduler

    return Scheduler(settings).start_background()


class SchedulerProcess:
    """The scheduler as `python -m bot worker`, a child of the serving process, unless
    SCHEDULER_ENABLED=false; stopped with SIGTERM, waiting for it to put back what it holds. If
    this process is killed outright, the worker notices it is gone and stops by itself.

    Not a thread of the serving process: gunicorn's master forks its workers (at start, and
    again whenever one is replaced), and a fork copies the locks other threads hold at that
    instant (logging, the database pool, metrics) into a child that can never release them; a
    worker forked while the scheduler was busy hung on its first request."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.scheduler_enabled
        self.process: subprocess.Popen[bytes] | None = None
        self._told = False

    def start(self) -> None:
        from bot.scheduler.runner import SERVE_PID
        from bot.socketmode import ctrl_c_blocked

        if self.enabled:
            with ctrl_c_blocked():  # stopped by SIGTERM from here (`stop`), also on Ctrl-C
                self.process = subprocess.Popen([sys.executable, "-m", "bot", "worker"],
                                                env=os.environ | {SERVE_PID: str(os.getpid())})  # fmt: skip
            log.info("scheduler started beside the serving processes (pid %s)", self.process.pid)

    def tell_to_stop(self) -> None:
        """SIGTERM, once; `stop` waits for it."""
        if self.process is not None and self.process.poll() is None and not self._told:
            self._told = True
            self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.tell_to_stop()
        try:
            self.process.wait(timeout=GRACEFUL_SECONDS)
        except subprocess.TimeoutExpired:  # its claimed rows go back when their lease runs out
            log.warning("the scheduler did not stop in %ss; killed", GRACEFUL_SECONDS)
            self.process.kill()
            self.process.wait()


def serve_scheduled_http(settings: Settings) -> None:
    """gunicorn, with the scheduler beside it (`SchedulerProcess`), started once gunicorn
    listens (one scheduler however many web workers) and stopped when gunicorn exits."""
    scheduler = SchedulerProcess(settings)
    serve_http(settings, on_ready=scheduler.start, on_exit=scheduler.stop)
