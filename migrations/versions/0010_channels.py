"""Linked channels: a channel that is a customer's, and the customer messages there with their
response clocks

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08

Two new tables, nothing else changes: `channel_link` (`/crm link <customer> #channel`) and
`channel_message` (one row per message of the customer in a linked channel: when it was
written, when its owner is reminded, whether someone answered, and the touch it was logged
as). No message text is stored here; the touch keeps it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("linked_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], name="fk_channel_link_customer_id_customer",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["workspace.team_id"], name="fk_channel_link_team_id_workspace",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_channel_link"),
        sa.UniqueConstraint("team_id", "channel_id", name="uq_channel_link_team_id_channel_id"),
    )  # fmt: skip
    op.create_index("ix_channel_link_customer_id", "channel_link", ["customer_id"])
    op.create_table(
        "channel_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("thread_key", sa.String(length=32), nullable=False),
        sa.Column("speaker_id", sa.String(length=32), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(length=32), nullable=True),
        sa.Column("touch_id", sa.Integer(), nullable=True),
        sa.Column("permalink", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["channel_link.id"], name="fk_channel_message_link_id_channel_link",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["workspace.team_id"], name="fk_channel_message_team_id_workspace",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["touch_id"], ["touch.id"], name="fk_channel_message_touch_id_touch",
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_channel_message"),
        sa.UniqueConstraint("team_id", "channel_id", "ts", name="uq_channel_message_team_id_channel_id_ts"),
    )  # fmt: skip
    op.create_index("ix_channel_message_waiting", "channel_message", ["team_id", "state", "due_at"])
    op.create_index("ix_channel_message_thread", "channel_message", ["team_id", "channel_id", "thread_key", "sent_at"])
    op.create_index("ix_channel_message_link_id", "channel_message", ["link_id"])
    op.create_index("ix_channel_message_touch_id", "channel_message", ["touch_id"])


def downgrade() -> None:
    op.drop_table("channel_message")
    op.drop_table("channel_link")
