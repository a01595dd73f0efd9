"""Command line: `python -m bot [serve|play|db upgrade|import|export|backup]` (see CONTRACT.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys

from bot import datatools, logs
from bot.config import Settings, SettingsError, load_settings
from bot.storage import crypto
from bot.storage.db import make_engine, refresh_statistics, upgrade


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="touchbase, customers in Slack")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="apply migrations, then serve Slack (the default when Slack credentials are set)")
    play = sub.add_parser("play", help="try it without Slack: a local page that behaves like Slack (the default "
                                       "when no Slack credentials are set)")
    play.add_argument("--port", type=int, help="the page's port (default: PORT, 3000)")
    play.add_argument("--empty", action="store_true", help="start afresh with an empty workspace, no demo data")
    play.add_argument("--reset", action="store_true", help="start the demo afresh (a new playground.db)")
    sub.add_parser("worker", help="run the scheduler alone (reminders, digests, delivery)")
    sweep = sub.add_parser("sweep", help="run every scheduled job once, deliver what is due, exit")
    sweep.add_argument("--at", help="the instant to run as of, ISO-8601, e.g. 2026-12-01T09:00:00+08:00")
    db = sub.add_parser("db", help="database tools")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply pending migrations")
    datatools.add_parsers(sub)
    return parser


def serve(settings: Settings) -> None:
    from bot import server

    settings.require_slack()
    if not settings.socket_mode:
        settings.require("slack_signing_secret")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    refresh_statistics(engine)  # SQLite plans by them (bot.storage.db); the scheduler keeps them fresh
    if not settings.encryption_keys:
        logging.getLogger("bot").warning("ENCRYPTION_KEYS is not set: personal data is stored unencrypted")
    if settings.slack_bot_token and settings.slack_client_id:
        logging.getLogger("bot").warning("SLACK_BOT_TOKEN is set: serving its one workspace; the OAuth client is unused")
    if settings.socket_mode:
        server.serve_socket_mode(settings)
    else:
        server.serve_scheduled_http(settings)


def parse_instant(value: str | None) -> dt.datetime | None:
    """`--at`: an ISO-8601 instant; without an offset it is read as UTC."""
    if value is None:
        return None
    try:
        instant = dt.datetime.fromisoformat(value)
    except ValueError:
        raise SettingsError(f"--at {value!r} is not an ISO-8601 instant, e.g. 2026-12-01T09:00:00+08:00") from None
    return instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)


def has_slack_credentials(settings: Settings) -> bool:
    multi = getattr(settings, "slack_client_id", None) and getattr(settings, "slack_client_secret", None)
    return bool(settings.slack_bot_token or multi)


def play(settings: Settings, args: argparse.Namespace) -> None:
    from bot.playground import play as run

    run(settings, port=getattr(args, "port", None), empty=getattr(args, "empty", False),
        reset=getattr(args, "reset", False))  # fmt: skip


def worker(settings: Settings) -> None:
    from bot.heap import settle_heap
    from bot.scheduler.runner import SERVE_PID, Scheduler

    settings.require_slack()
    serve = os.environ.get(SERVE_PID)
    scheduler = Scheduler(settings)
    settle_heap()  # the sender's full collections scan what it sends, not the modules (bot.heap)
    scheduler.run_forever(stop_without=int(serve) if serve and serve.isdecimal() and serve.isascii() else None)


def sweep(settings: Settings, at: str | None) -> None:
    from bot.scheduler.runner import Scheduler

    instant = parse_instant(at)
    settings.require_slack()
    scheduler = Scheduler(settings)
    try:
        print(scheduler.sweep(instant).line())
    finally:
        scheduler.leave()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.configure()
    try:
        settings = load_settings()
        logs.configure(settings.log_format)
        crypto.configure(settings.encryption_keys)
        if args.command == "db":
            upgrade(make_engine(settings.database_url))
        elif args.command in datatools.COMMANDS:
            return datatools.run(args, settings)
        elif args.command == "worker":
            worker(settings)
        elif args.command == "sweep":
            sweep(settings, args.at)
        elif args.command == "play":
            play(settings, args)
        elif args.command is None and not has_slack_credentials(settings):
            print("touchbase: no Slack credentials (SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET); "
                  "starting the playground instead (see README, Try it without Slack)", flush=True)
            play(settings, args)
        else:
            serve(settings)
    except SettingsError as err:
        print(f"touchbase: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
