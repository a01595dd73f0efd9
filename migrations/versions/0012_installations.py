"""Many workspaces: installations through OAuth, one-time OAuth states, uninstalls and purges

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

`installation` holds each workspace's bot token (and refresh token when Slack rotates
tokens), written by the OAuth flow and deleted when the app is uninstalled there;
`oauth_state` the one-time states of the flow (hashed), which exist before any workspace
is known and so carry no team; `workspace.uninstalled_at` starts the retention period after
which the purge job deletes the workspace's data, and `workspace_purge` records each purge
(counts only) after the data is gone. New tables and a nullable column: instant on any size.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workspace") as batch_op:
        batch_op.add_column(sa.Column("uninstalled_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("app_id", sa.String(length=32), nullable=True),
        sa.Column("bot_id", sa.String(length=32), nullable=True),
        sa.Column("bot_user_id", sa.String(length=32), nullable=True),
        sa.Column("bot_token", sa.Text(), nullable=False),
        sa.Column("bot_refresh_token", sa.Text(), nullable=True),
        sa.Column("bot_token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bot_scopes", sa.Text(), nullable=True),
        sa.Column("installer_id", sa.String(length=32), nullable=True),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["workspace.team_id"], name=op.f("fk_installation_team_id_workspace"),
                                ondelete="CASCADE"),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installation")),
        sa.UniqueConstraint("team_id", name=op.f("uq_installation_team_id")),
    )
    op.create_table(
        "oauth_state",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_oauth_state")),
    )
    op.create_table(
        "workspace_purge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("uninstalled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_purge")),
    )
    op.create_index("ix_workspace_purge_team_id", "workspace_purge", ["team_id"])


def downgrade() -> None:
    op.drop_index("ix_workspace_purge_team_id", table_name="workspace_purge")
    op.drop_table("workspace_purge")
    op.drop_table("oauth_state")
    op.drop_table("installation")
    with op.batch_alter_table("workspace") as batch_op:
        batch_op.drop_column("uninstalled_at")
