"""The sender's claim reads due rows in the order it takes them, and stops at a batch

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07

A claim takes the pending rows due, and the rows whose lease ran out, oldest first (`due_at`,
then `id`). With the index on (`status`, `due_at`) alone, PostgreSQL read every row due and
sorted them for each batch of 20: with 10,000 digests due at 09:00, 7.7 ms a claim (their
`due_at` is the same, so the index's order does not settle theirs). With `id` in the index,
each status is read in the claim's own order and the read stops at the batch
(docs/PERFORMANCE.md, second round, section 79). It replaces `ix_notification_status_due`, whose
columns it begins with.
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
