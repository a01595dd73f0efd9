"""The sender's claim reads due rows in the order it takes them, and stops at a batch

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07

A claim takes the pending rows due, and the rows whose lease ran out, oldest first (`due_at`,
then `id`), now reading each status on its own. With the index on (`status`, `due_at`) alone,
PostgreSQL still read every row due and sorted them for each batch of 20: a morning's digests
are all due at one instant, and the index's order does not settle theirs (7.2 ms a claim with
10,000 due). With `id` in the index, each status is read in the claim's own order and the read
stops at the batch (3.5 ms; docs/PERFORMANCE.md, second round, section 79). SQLite's indexes end
in the row id already. It replaces `ix_notification_status_due`, whose columns it begins with.
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_notification_status_due_id", "notification", ["status", "due_at", "id"])
    op.drop_index("ix_notification_status_due", table_name="notification")


def downgrade() -> None:
    op.create_index("ix_notification_status_due", "notification", ["status", "due_at"])
    op.drop_index("ix_notification_status_due_id", table_name="notification")
