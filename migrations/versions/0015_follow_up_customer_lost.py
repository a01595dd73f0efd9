"""Whether a follow-up's customer is lost, kept on the follow-up, so a person's open
follow-ups are counted from one index

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

`/crm due`, the App Home and the digest count a person's open follow-ups that are not of a
lost customer. Measured at full scale on PostgreSQL (docs/PERFORMANCE.md, second round), the
busiest assignee's count joined 2,708 follow-ups to their customers, one probe each, to
leave out the lost ones: 22 ms of a 30 ms `/crm due`. `follow_up.customer_lost` holds it
(services.lifecycle keeps it when a customer is marked lost or won back), and
`ix_follow_up_assignee_open` (team_id, assignee_id, customer_lost, due_on, id) over the open
follow-ups only (`done_at IS NULL`) replaces `ix_follow_up_assignee_due` (team_id,
assignee_id, done_at, due_on): the count is read from the index alone (1 ms), and the first
five in (due_on, id) order are its first five entries. With `done_at` a column of the index
instead of its condition, PostgreSQL's generic plan of the prepared statement (psycopg's,
from the fifth execution) did not see the index's order, joined all 2,539 to their
customers and touches, then sorted them (37 ms).

The NOT NULL column is added with a server default, so SQLite adds it without copying the
table; the follow-ups of customers already lost are then marked.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("follow_up", sa.Column("customer_lost", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE follow_up SET customer_lost = true "
               "WHERE customer_id IN (SELECT id FROM customer WHERE stage = 'lost')")  # fmt: skip
    op.create_index("ix_follow_up_assignee_open", "follow_up", ["team_id", "assignee_id", "customer_lost", "due_on", "id"],
                    postgresql_where=sa.text("done_at IS NULL"), sqlite_where=sa.text("done_at IS NULL"))  # fmt: skip
    op.drop_index("ix_follow_up_assignee_due", table_name="follow_up")


def downgrade() -> None:
    op.create_index("ix_follow_up_assignee_due", "follow_up", ["team_id", "assignee_id", "done_at", "due_on"])
    op.drop_index("ix_follow_up_assignee_open", table_name="follow_up")
    with op.batch_alter_table("follow_up") as batch:
        batch.drop_column("customer_lost")
