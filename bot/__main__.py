"""Command line: `python -m bot [serve|db upgrade|import|export|backup]` (see CONTRACT.md)."""

from __future__ import annotations

import argparse
import logging
import sys

from bot import datatools
from bot.config import Settings, SettingsError, load_settings
from bot.storage import crypto
from bot.storage.db import make_engine, upgrade


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="touchbase, customers in Slack")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="apply migrations, then serve Slack (the default)")
    db = sub.add_parser("db", help="database tools")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply pending migrations")
    datatools.add_parsers(sub)
    return parser


def serve(settings: Settings) -> None:
    from bot import server

    settings.require("slack_bot_token")
    if not settings.socket_mode:
        settings.require("slack_signing_secret")
    upgrade(make_engine(settings.database_url))
    if not settings.encryption_keys:
        logging.getLogger("bot").warning("ENCRYPTION_KEYS is not set: personal data is stored unencrypted")
    if settings.socket_mode:
        server.serve_socket_mode(settings)
    else:
        server.serve_http(settings)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        crypto.configure(settings.encryption_keys)
        if args.command == "db":
            upgrade(make_engine(settings.database_url))
        elif args.command in datatools.COMMANDS:
            return datatools.run(args, settings)
        else:
            serve(settings)
    except SettingsError as err:
        print(f"touchbase: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
