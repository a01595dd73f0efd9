"""SQLite: a trigram full-text index over the search text, kept by triggers

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

With the covering index of 0005 a search that matches few customers still read every
customer of the team once: 30-35 ms at 100,000 customers (docs/PERFORMANCE.md). SQLite's
FTS5 with the trigram tokenizer indexes every three characters of `search_doc` and
`search_key` (newlines included, so `\nki` finds a line beginning with "ki"), the way
pg_trgm does on PostgreSQL: a pattern of three characters or more is looked up, not
scanned. `customer_fts` is an external-content table (the text stays in `customer` alone);
triggers keep it in step with every insert, change and delete, however the row is written.
PostgreSQL needs nothing here (its trigram indexes are in 0005).
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FTS = "customer_fts"
COLUMNS = "search_doc, search_key, team_id"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(f"CREATE VIRTUAL TABLE {FTS} USING fts5(search_doc, search_key, team_id UNINDEXED, "
               "content='customer', content_rowid='id', tokenize='trigram')")  # fmt: skip
    new = "new.id, new.search_doc, new.search_key, new.team_id"
    old = "'delete', old.id, old.search_doc, old.search_key, old.team_id"
    op.execute(f"CREATE TRIGGER {FTS}_insert AFTER INSERT ON customer BEGIN "
               f"INSERT INTO {FTS} (rowid, {COLUMNS}) VALUES ({new}); END")  # fmt: skip
    op.execute(f"CREATE TRIGGER {FTS}_delete AFTER DELETE ON customer BEGIN "
               f"INSERT INTO {FTS} ({FTS}, rowid, {COLUMNS}) VALUES ({old}); END")  # fmt: skip
    op.execute(f"CREATE TRIGGER {FTS}_update AFTER UPDATE OF search_doc, search_key ON customer BEGIN "
               f"INSERT INTO {FTS} ({FTS}, rowid, {COLUMNS}) VALUES ({old}); "
               f"INSERT INTO {FTS} (rowid, {COLUMNS}) VALUES ({new}); END")  # fmt: skip
    op.execute(f"INSERT INTO {FTS} ({FTS}) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER {FTS}_{trigger}")
    op.execute(f"DROP TABLE {FTS}")
