"""The data tools of the command line: `import`, `export`, `backup` (see README, Data protection)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from bot import oauth
from bot.clock import wall
from bot.config import Settings
from bot.metrics import MeteredWebClient
from bot.services import importer
from bot.services.backup import BackupError, backup_sqlite
from bot.storage import crypto, rotation
from bot.storage.db import make_engine, make_session_factory, unit_of_work, upgrade
from bot.storage.models import Base

COMMANDS = ("import", "export", "backup", "rotate-keys")


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    imp = sub.add_parser("import", help="add or update customers from a CSV file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--team", required=True, help="the Slack team id (T…) the customers belong to")
    imp.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    imp.add_argument("--skip-bad-rows", action="store_true", help="write the good rows of a file with bad ones")
    exp = sub.add_parser("export", help="write every table of a team as CSV files")
    exp.add_argument("--team", required=True)
    exp.add_argument("--out", required=True, type=Path, help="a folder")
    bak = sub.add_parser("backup", help="a consistent copy of the SQLite database, safe while the bot runs")
    bak.add_argument("--out", required=True, type=Path)
    sub.add_parser("rotate-keys", help="re-encrypt personal data with the newest of ENCRYPTION_KEYS")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "backup":
        try:
            backup_sqlite(settings.database_url, args.out)
        except BackupError as err:
            print(f"touchbase: {err}", file=sys.stderr)
            return 2
        print(f"backup written to {args.out}")
        return 0
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = make_session_factory(engine)
    if args.command == "rotate-keys":
        if not settings.encryption_keys:
            print("touchbase: setting ENCRYPTION_KEYS is missing; see README, Data protection", file=sys.stderr)
            return 2
        try:
            with engine.begin() as connection:  # all or nothing
                count = rotation.rotate_all(connection, list(Base.metadata.sorted_tables))
        except crypto.WrongKeysError as err:
            print(f"touchbase: ENCRYPTION_KEYS cannot decrypt the stored data ({err}): put the key it was "
                  "written with after the new one, then run rotate-keys again", file=sys.stderr)  # fmt: skip
            return 2
        print(f"{count} rows re-encrypted with the newest key")
        return 0
    if args.command == "export":
        with unit_of_work(factory, now=wall()) as session:
            for path in importer.export_tables(session=session, team_id=args.team, out=args.out):
                print(path)
        return 0
    return _import(args, settings, factory)


def _import(args: argparse.Namespace, settings: Settings, factory: object) -> int:
    """Check the whole file first (printing each bad row), then write it in one transaction."""
    owner_of = _owner_lookup(settings, factory, args.team)  # type: ignore[arg-type]
    try:
        checked = importer.check(path=args.file, owner_of=owner_of, say=print)
        if args.dry_run or (checked.bad and not args.skip_bad_rows):
            verdict = "nothing written" + (" (dry run)" if args.dry_run else "")
            print(f"{checked.good} good rows, {checked.bad} bad; {verdict}")
            return 1 if checked.bad else 0
        with unit_of_work(factory, now=wall()) as session:  # type: ignore[arg-type]
            report = importer.write(session=session, team_id=args.team, path=args.file, owner_of=owner_of,
                                    say=print, skip_bad_rows=args.skip_bad_rows)  # fmt: skip
    except (OSError, importer.ImportFileError) as err:
        print(f"touchbase: {err}", file=sys.stderr)
        return 1
    except importer.BadRowFound:
        print("nothing written")
        return 1
    print(f"{report.created} created, {report.updated} updated, {report.bad} bad rows skipped")
    return 0


def _owner_lookup(settings: Settings, factory: sessionmaker[Session], team_id: str):  # type: ignore[no-untyped-def]
    """Owner emails become Slack ids through `users.lookupByEmail`, asked with the team's token
    (SLACK_BOT_TOKEN, or the team's installation in many-workspace mode)."""
    client = None
    if settings.slack_bot_token or settings.multi_workspace:
        clients = oauth.clients(settings, factory, clock=wall,
                                make=lambda token: MeteredWebClient(token=token, base_url=settings.slack_api_url))  # fmt: skip
        client = clients.client_for(team_id)
    cache: dict[str, str | None] = {}

    def owner_of(email: str) -> str | None:
        if client is None:
            return None
        if email not in cache:
            try:
                cache[email] = client.users_lookupByEmail(email=email)["user"]["id"]
            except (SlackApiError, OSError):
                cache[email] = None
        return cache[email]

    return owner_of
