"""Every foreign key has an index that begins with its columns

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07

Deleting a row checks each table that refers to it for the rows that do (and deletes them, on
cascade). `revisit_done.customer_id`, `revisit_done.touch_id` and `satisfaction_score.customer_id`
had no index of their own: each customer or touch deleted read every team's rows of those tables,
on SQLite and PostgreSQL alike. A workspace's purge deletes all of its customers and touches, so
it read them once a touch, every other workspace's included.
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_revisit_done_customer_id", "revisit_done", ["customer_id"])
    op.create_index("ix_revisit_done_touch_id", "revisit_done", ["touch_id"])
    op.create_index("ix_satisfaction_score_customer_id", "satisfaction_score", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_satisfaction_score_customer_id", table_name="satisfaction_score")
    op.drop_index("ix_revisit_done_touch_id", table_name="revisit_done")
    op.drop_index("ix_revisit_done_customer_id", table_name="revisit_done")
