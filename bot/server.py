"""Serving Slack: gunicorn (HTTP mode) or a Socket Mode connection."""

from __future__ import annotations

import logging
import os
from typing import Any

from gunicorn.app.base import BaseApplication

from bot import metrics
from bot.app import create_app, create_wsgi
from bot.config import Settings
from bot.storage.db import make_engine, make_session_factory

log = logging.getLogger(__name__)


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
        "workers": int(os.environ.get("WEB_CONCURRENCY", "2")),
        "threads": int(os.environ.get("GUNICORN_THREADS", "8")),
        "timeout": 30,
        "accesslog": None,  # bot.app writes one line per request
        "loglevel": "info",
        # Before any worker starts: no values of an earlier run in PROMETHEUS_MULTIPROC_DIR.
        "on_starting": lambda _arbiter: metrics.prepare_multiprocess_dir(),
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


def serve_socket_mode(settings: Settings) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app = create_app(settings, make_session_factory(make_engine(settings.database_url)))
    scheduler = start_scheduler(settings)
    try:
        SocketModeHandler(app, settings.slack_app_token).start()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


def start_scheduler(settings: Settings) -> Any:
    """The scheduler in this process unless SCHEDULER_ENABLED=false (then a `worker` runs it)."""
    if not settings.scheduler_enabled:
        return None
    from bot.scheduler.runner import Scheduler

    return Scheduler(settings).start_background()


def serve_scheduled_http(settings: Settings) -> None:
    """gunicorn, with the scheduler in its master process: started once the workers are
    ready (one scheduler however many web workers), stopped when gunicorn exits."""
    running: dict[str, Any] = {}

    def on_ready() -> None:
        running["scheduler"] = start_scheduler(settings)

    def on_exit() -> None:
        if running.get("scheduler") is not None:
            running["scheduler"].shutdown(wait=False)

    serve_http(settings, on_ready=on_ready, on_exit=on_exit)
