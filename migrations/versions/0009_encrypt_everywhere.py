"""Encrypted everywhere: the audit trail's values, the outbox's messages, complaint titles and
notes, customers' job titles and members' names become text columns that can hold a token

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

With ENCRYPTION_KEYS set these columns hold Fernet tokens: longer than the lengths their
text was limited to (those limits stay, as input rules) and, for `audit_event.changes` and
`notification.payload`, not JSON (each document is encrypted whole). So they become TEXT.
Rows already stored are kept as they are and read as they are (plain text, plain JSON);
`python -m bot rotate-keys` encrypts them.

PostgreSQL changes the types in place. SQLite cannot, so batch mode copies each table into a
new one; env.py turns SQLite's foreign-key enforcement off while migrations run, as such a
copy requires (dropping the old `customer` or `complaint` would otherwise delete every row
that refers to it). The copy of `customer` loses its triggers (those of 0007, which keep the
full-text index): they are read before and made again after.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# table, column, type before, nullable
COLUMNS = [
    ("audit_event", "changes", sa.JSON(), False),
    ("notification", "payload", sa.JSON(), False),
    ("complaint", "title", sa.String(length=300), False),
    ("customer", "title", sa.String(length=200), True),
    ("member", "name", sa.String(length=200), True),
]
TOKEN = "gAAAAA%"  # how every Fernet token begins


def _retype(table: str, column: str, *, to: sa.types.TypeEngine, was: sa.types.TypeEngine, nullable: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        using = f"{column}::json" if isinstance(to, sa.JSON) else f"{column}::text"
        op.alter_column(table, column, type_=to, existing_type=was, existing_nullable=nullable, postgresql_using=using)
        return
    triggers = op.get_bind().execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
                                     {"t": table}).scalars().all()  # fmt: skip
    with op.batch_alter_table(table, recreate="always") as batch_op:
        batch_op.alter_column(column, type_=to, existing_type=was, existing_nullable=nullable)
    for sql in triggers:  # dropped with the old table
        op.execute(sql)


def _foreign_key_check() -> None:
    """SQLite: before this migration commits, no row refers to a row that is gone."""
    if op.get_bind().dialect.name == "sqlite":
        dangling = op.get_bind().execute(sa.text("PRAGMA foreign_key_check")).all()
        if dangling:
            raise RuntimeError(f"0009: rows refer to rows that are gone: {dangling[:5]}")


def upgrade() -> None:
    for table, column, old, nullable in COLUMNS:
        _retype(table, column, to=sa.Text(), was=old, nullable=nullable)
    _foreign_key_check()


def downgrade() -> None:
    """Only for plain data: a token is no JSON, and longer than the old lengths."""
    for table, column, _old, _nullable in COLUMNS:
        query = sa.text(f"SELECT count(*) FROM {table} WHERE {column} LIKE :token")
        if encrypted := op.get_bind().scalar(query, {"token": TOKEN}):
            raise RuntimeError(f"0009 cannot be undone: {table}.{column} holds {encrypted} encrypted values")
    for table, column, old, nullable in reversed(COLUMNS):
        _retype(table, column, to=old, was=sa.Text(), nullable=nullable)
    _foreign_key_check()
