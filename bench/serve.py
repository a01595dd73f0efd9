"""The server stack under test, started by `bench.run` as a child process:

    python -m bench.serve touchbase   # the bot, exactly as `python -m bot serve` builds it
    python -m bench.serve noop        # the same stack answering with a bare bolt handler
    python -m bench.serve sender      # the worker's sender beside the bot, without the jobs
    python -m bench.serve socket      # the bot in Socket Mode (SLACK_APP_TOKEN), as `serve` runs it
    python -m bench.serve noop-socket # the no-op app over the same Socket Mode connection

Both read their settings from the environment like `python -m bot serve` and run gunicorn
(gthread) with `bot.server.http_options`, bound to 127.0.0.1. The no-op app differs only
in its listeners: a bolt `App` with `process_before_response=True` whose listeners ack and
nothing else, behind the same WSGI adapter and `/healthz`, so the ratio of the two is what
touchbase's own work costs on top of bolt, the signature check and gunicorn. In Socket Mode
both run as `serve` does with `SLACK_APP_TOKEN` instead: `WEB_CONCURRENCY` connection
processes (`bot.server.serve_socket_mode_processes`), or with 1, `bot.socketmode.SocketModeServer`
in this process (the connection, and /healthz on PORT).
"""

from __future__ import annotations

import re
import signal
import sys
import time
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import server
from bot.app import create_wsgi
from bot.config import Settings, load_settings
from bot.heap import settle_heap
from bot.storage.db import make_engine

ANY = re.compile(".*")


def noop_app(settings: Settings) -> App:
    app = App(
        client=WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url),
        signing_secret=settings.slack_signing_secret,
        process_before_response=True,
        token_verification_enabled=False,
        request_verification_enabled=not settings.socket_mode,  # over Socket Mode nothing is signed
    )

    def just_ack(ack: Ack) -> None:
        ack()

    app.command(ANY)(just_ack)
    app.action(ANY)(just_ack)
    app.options(ANY)(just_ack)
    app.view(ANY)(just_ack)
    app.shortcut(ANY)(just_ack)
    app.event(ANY)(just_ack)
    return app


def build_noop_wsgi(settings: Settings) -> Any:
    engine = make_engine(settings.database_url)
    return create_wsgi(noop_app(settings), engine)


class _BenchGunicorn(server._Gunicorn):
    def __init__(self, settings: Settings, options: dict[str, Any], which: str) -> None:
        self.which = which
        super().__init__(settings, options)

    def load(self) -> Any:
        # As in production, built in each worker after the fork.
        return server.build_wsgi(self.settings) if self.which == "touchbase" else build_noop_wsgi(self.settings)


SENDER_READY = "bench.serve sender: delivering"


def run_sender(settings: Settings) -> None:
    """The part of `python -m bot worker` the requests rely on, beside the web workers: every
    DELIVER_EVERY seconds, the App Homes they asked for (services.home.asked_homes), sent as the
    worker's sender sends them (its lanes and pacers). Nothing else of the outbox: the jobs
    would write the generated team's digests in the middle of a run, and the other benchmarks
    (`sweep`, `delivery`, `workspaces`) write rows of their own that are theirs to send or
    count. Ends on SIGTERM."""
    from bot.clock import elapsed, wall
    from bot.scheduler.runner import DELIVER_EVERY, DELIVER_WITHIN, Scheduler

    scheduler = Scheduler(settings)
    sender = scheduler.sender
    signal.signal(signal.SIGTERM, lambda *_: scheduler.stopping.set() or sender.stop())
    print(SENDER_READY, flush=True)  # the runner measures nothing before: a start-up is not a request's cost
    while not scheduler.stopping.is_set():
        started = elapsed()
        sender.deliver(now=wall(), deadline=sender.clock() + DELIVER_WITHIN, asked_only=True)
        while not scheduler.stopping.is_set() and elapsed() - started < DELIVER_EVERY:
            time.sleep(0.05)


def run_socket_mode(settings: Settings, which: str) -> None:
    """The bot (or the no-op app) over Socket Mode, as `serve` runs it with `SLACK_APP_TOKEN`
    but without the scheduler; /healthz on PORT. Ends on SIGTERM."""
    from bot.socketmode import SocketModeServer

    assert settings.slack_app_token, "Socket Mode needs SLACK_APP_TOKEN"
    make_app = server.socket_app if which == "socket" else noop_app
    if settings.web_concurrency > 1:
        server.serve_socket_mode_processes(settings, make_app, host="127.0.0.1")
        return
    engine = make_engine(settings.database_url)
    app = make_app(settings)
    settle_heap()
    socket_server = SocketModeServer(app, engine, settings.slack_app_token, threads=settings.gunicorn_threads,
                                     port=settings.port, host="127.0.0.1")  # fmt: skip
    stopping: list[int] = []  # a flag, not an Event: setting one from a handler can deadlock its wait
    signal.signal(signal.SIGTERM, lambda signum, _frame: stopping.append(signum))
    socket_server.start()
    try:
        while not stopping:
            time.sleep(0.2)
    finally:
        socket_server.stop()


def main(argv: list[str]) -> int:
    which = argv[0] if argv else "touchbase"
    if which not in ("touchbase", "noop", "sender", "socket", "noop-socket"):
        print("usage: python -m bench.serve touchbase|noop|sender|socket|noop-socket", file=sys.stderr)
        return 2
    # Only the environment the runner gave: a developer's `.env` (a Socket Mode token would
    # switch the signature check off) must not change what is measured.
    settings = load_settings(_env_file=None)
    if which == "sender":
        run_sender(settings)
        return 0
    if which in ("socket", "noop-socket"):
        run_socket_mode(settings, which)
        return 0
    options = server.http_options(settings, host="127.0.0.1")
    options["loglevel"] = "warning"  # the runner reads the log only when a server fails to start
    _BenchGunicorn(settings, options, which).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
