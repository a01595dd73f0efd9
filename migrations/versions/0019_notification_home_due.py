"""The App Homes waiting to be published, by their own index: the sender takes them first

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02

A request that changes what someone's App Home shows now asks for it through the outbox (a row
of kind `home`, one per person, rendered and published by the sender), so that the work of
building and publishing it runs in the worker, not in the process answering Slack
(docs/PERFORMANCE.md, second round, section 40). Each claim takes the due Homes first; at
09:00 thousands of digests may be due before them, and `ix_notification_status_due` would
walk all of them to find the few Homes. This partial index holds only the Home rows, one per
person who ever had a change shown.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    where = sa.text("kind = 'home'")
    op.create_index("ix_notification_home_due", "notification", ["status", "due_at"],
                    postgresql_where=where, sqlite_where=where)  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_notification_home_due", table_name="notification")
