"""The senders running, among which the workspaces are shared out (SENDER_SHARE=auto)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07

With `SENDER_SHARE=auto`, each worker's sender keeps a row here while it runs, the time it was
last seen, and takes a share of the workspaces by its place among the rows
(bot.scheduler.roster): workers started alike, such as a Procfile's `worker` scaled to two,
share the workspaces out without being told their shares. No personal data; no workspace's.
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_sender",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("outbox_sender")
