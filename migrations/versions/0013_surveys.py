"""Customer surveys: the question a customer is asked in its channel after a resolution, and
where a satisfaction score came from

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10

- `satisfaction_score.source`: `checkin` (an owner's check-in: every score stored so far) or
  `survey` (the customer's own answer), so reports count them apart.
- `survey`: one row per complaint and resolution cycle asked about in a linked channel: where
  it was posted, the SHA-256 of the token its buttons carry, and the answer once given.

The new NOT NULL column is added with a server default, so SQLite adds it without copying
the table and the scores already stored read `checkin`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("satisfaction_score", sa.Column("source", sa.String(length=16), server_default="checkin",
                                                  nullable=False))  # fmt: skip
    op.create_table(
        "survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(length=32), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"], name=op.f("fk_survey_complaint_id_complaint"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], name=op.f("fk_survey_customer_id_customer"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["workspace.team_id"], name=op.f("fk_survey_team_id_workspace"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_survey_token_hash")),
        sa.UniqueConstraint("team_id", "complaint_id", "cycle", name=op.f("uq_survey_team_id_complaint_id_cycle")),
    )  # fmt: skip
    op.create_index("ix_survey_customer_id", "survey", ["customer_id"], unique=False)
    op.create_index("ix_survey_complaint_id", "survey", ["complaint_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_survey_complaint_id", table_name="survey")
    op.drop_index("ix_survey_customer_id", table_name="survey")
    op.drop_table("survey")
    with op.batch_alter_table("satisfaction_score") as batch:
        batch.drop_column("source")
