"""Lifecycle and value: a customer's value and stage, the history of stages, follow-ups

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

- `customer.value`: the yearly value in whole units of the team's currency (none until typed).
- `customer.stage` and `stage_since`: prospect / new / active / at_risk / lost. Customers
  already stored become `active` since their second touch when they have two touches or
  more, else `new` since they were added (the rules of services.lifecycle, applied to the
  past). `stage_change` gets their history accordingly: `new` when added, `active` at the
  second touch; the churn report counts from it.
- `follow_up`: a touch's next step with a due day and an assignee.
- `workspace.stages_checked_at`: when the scheduler last scored the customers' health for
  their stage (once an hour per team).
- `ix_customer_owner_kinds` also holds the stage and the value, so the reports' value by owner
  and grade is read from the index alone, as the customer counts are (0006).

The new NOT NULL columns are added with a server default, which SQLite needs to add a column
without copying the table (a copy would lose the search triggers of 0007); `stage_since`'s
default is only a placeholder that every row is given a real value over, and PostgreSQL
drops it at the end. On a large database this reads every customer's touches once by
index (a few seconds per 100,000 customers).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

PLACEHOLDER = "1970-01-01 00:00:00"
OWNER_KINDS = ["team_id", "owner_id", "grade", "segment", "created_at"]

SECOND_TOUCH = (
    "(SELECT t.happened_at FROM touch t WHERE t.customer_id = customer.id "
    "ORDER BY t.happened_at, t.id LIMIT 1 OFFSET 1)"
)


def upgrade() -> None:
    op.add_column("workspace", sa.Column("stages_checked_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("customer", sa.Column("value", sa.BigInteger(), nullable=True))
    op.add_column("customer", sa.Column("stage", sa.String(length=16), server_default="new", nullable=False))
    op.add_column("customer", sa.Column("stage_since", sa.DateTime(timezone=True), server_default=PLACEHOLDER,
                                        nullable=False))  # fmt: skip
    op.create_index("ix_customer_team_stage", "customer", ["team_id", "stage"], unique=False)
    op.drop_index("ix_customer_owner_kinds", table_name="customer")
    op.create_index("ix_customer_owner_kinds", "customer", OWNER_KINDS + ["stage", "value"], unique=False)

    op.create_table(
        "stage_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("from_stage", sa.String(length=16), nullable=True),
        sa.Column("to_stage", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=True),
        sa.Column("owner_id", sa.String(length=32), nullable=True),
        sa.Column("value", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=24), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], name=op.f("fk_stage_change_customer_id_customer"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["workspace.team_id"], name=op.f("fk_stage_change_team_id_workspace"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_change")),
    )  # fmt: skip
    op.create_index("ix_stage_change_team_at", "stage_change", ["team_id", "at", "from_stage", "to_stage"], unique=False)
    op.create_index("ix_stage_change_customer_at", "stage_change", ["customer_id", "at"], unique=False)

    op.create_table(
        "follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("touch_id", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.String(length=32), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("done_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], name=op.f("fk_follow_up_customer_id_customer"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["workspace.team_id"], name=op.f("fk_follow_up_team_id_workspace"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["touch_id"], ["touch.id"], name=op.f("fk_follow_up_touch_id_touch"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up")),
    )  # fmt: skip
    op.create_index("ix_follow_up_assignee_due", "follow_up", ["team_id", "assignee_id", "done_at", "due_on"], unique=False)
    op.create_index("ix_follow_up_team_due_on", "follow_up", ["team_id", "due_on"], unique=False)
    op.create_index("ix_follow_up_customer_id", "follow_up", ["customer_id"], unique=False)
    op.create_index("ix_follow_up_touch_id", "follow_up", ["touch_id"], unique=False)

    # The stages of the customers already stored, and their history.
    op.execute("UPDATE customer SET stage = 'new', stage_since = created_at")
    op.execute(
        f"UPDATE customer SET stage = 'active', stage_since = CASE WHEN {SECOND_TOUCH} > created_at "
        f"THEN {SECOND_TOUCH} ELSE created_at END WHERE {SECOND_TOUCH} IS NOT NULL"
    )
    op.execute(
        "INSERT INTO stage_change (team_id, customer_id, from_stage, to_stage, at, owner_id) "
        "SELECT team_id, id, NULL, 'new', created_at, owner_id FROM customer ORDER BY id"
    )
    op.execute(
        "INSERT INTO stage_change (team_id, customer_id, from_stage, to_stage, at, owner_id) "
        "SELECT team_id, id, 'new', 'active', stage_since, owner_id FROM customer WHERE stage = 'active' ORDER BY id"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("customer", "stage_since", server_default=None)


def downgrade() -> None:
    op.drop_index("ix_follow_up_touch_id", table_name="follow_up")
    op.drop_index("ix_follow_up_customer_id", table_name="follow_up")
    op.drop_index("ix_follow_up_team_due_on", table_name="follow_up")
    op.drop_index("ix_follow_up_assignee_due", table_name="follow_up")
    op.drop_table("follow_up")
    op.drop_index("ix_stage_change_customer_at", table_name="stage_change")
    op.drop_index("ix_stage_change_team_at", table_name="stage_change")
    op.drop_table("stage_change")
    op.drop_index("ix_customer_owner_kinds", table_name="customer")
    op.create_index("ix_customer_owner_kinds", "customer", OWNER_KINDS, unique=False)
    op.drop_index("ix_customer_team_stage", table_name="customer")
    # SQLite copies the table to drop a column; the copy loses the search triggers of 0007.
    sqlite = op.get_bind().dialect.name == "sqlite"
    triggers = op.get_bind().execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                                             "AND tbl_name = 'customer'")).scalars().all() if sqlite else []  # fmt: skip
    with op.batch_alter_table("customer") as batch:
        batch.drop_column("stage_since")
        batch.drop_column("stage")
        batch.drop_column("value")
    for sql in triggers:
        op.execute(sql)
    with op.batch_alter_table("workspace") as batch:
        batch.drop_column("stages_checked_at")
