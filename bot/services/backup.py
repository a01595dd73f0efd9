"""`python -m bot backup`: a consistent copy of the SQLite database while the bot runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    pass


def backup_sqlite(database_url: str, out: Path) -> None:
    """SQLite's online backup API copies a consistent snapshot, even while others write."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            "backup copies SQLite databases; for PostgreSQL use pg_dump (see README, Backups)"
        )
    if not url.database or not Path(url.database).exists():
        raise BackupError(f"no database file at {url.database}")
    out.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(url.database)
    target = sqlite3.connect(out)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()
