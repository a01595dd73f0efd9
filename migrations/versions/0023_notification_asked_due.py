"""What a request asks the sender for, by one index: App Homes and a request's DMs go first

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06

A request that writes something someone is told of by DM (the author's "touch saved", an
assignee's "follow-up given to you") now writes that DM into the outbox in its own transaction
(a row of kind `said`), as it asks for App Homes (kind `home`, migration 0019): the worker's
sender posts it, not a thread of the process that answers Slack (docs/PERFORMANCE.md, second
round, section 66). Like a Home, a DM asked for by a request goes before any backlog of digests,
so the claim looks for both kinds first; this partial index, which holds only those rows,
replaces `ix_notification_home_due`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    where = sa.text("kind IN ('home', 'said')")
    op.create_index("ix_notification_asked_due", "notification", ["status", "due_at"],
                    postgresql_where=where, sqlite_where=where)  # fmt: skip
    op.drop_index("ix_notification_home_due", table_name="notification")


def downgrade() -> None:
    where = sa.text("kind = 'home'")
    op.create_index("ix_notification_home_due", "notification", ["status", "due_at"],
                    postgresql_where=where, sqlite_where=where)  # fmt: skip
    op.drop_index("ix_notification_asked_due", table_name="notification")
