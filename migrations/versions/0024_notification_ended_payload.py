"""What an outbox message said is not kept once it has ended

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06

A row of the outbox (`notification`) that was sent, failed for good, expired or was cancelled
now keeps whom it was for and what became of it, but not what it said: its digest named
customers, its warning a complaint's title, and `/crm erase` could not find them there (the
payload is one encrypted document), so an erased customer stayed named in every message sent
about them. The sender writes an empty payload as each row ends; this empties the rows that
ended before. Nothing reads them: the admins' list of failed sends shows the recipient, the kind
and Slack's error. The texts cannot be brought back: the downgrade leaves the rows as they are.
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # '{}' written plain reads as an empty document with or without ENCRYPTION_KEYS
    # (bot.storage.crypto.EncryptedJSON reads plain JSON as it is).
    op.execute("UPDATE notification SET payload = '{}' "
               "WHERE status IN ('sent', 'failed', 'expired', 'cancelled') AND payload <> '{}'")


def downgrade() -> None:
    pass
