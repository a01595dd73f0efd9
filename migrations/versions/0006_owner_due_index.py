"""Indexes that answer the due lists and the reports' counts by themselves

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Measured at 100,000 customers and 1,000,000 touches on SQLite (docs/PERFORMANCE.md):

- `/crm due`, the App Home and the digest count an owner's revisits due and in the next
  week; through (team_id, owner_id) that read each of the busiest owner's rows for its date
  (40 ms). `ix_customer_owner_due` (team_id, owner_id, next_revisit, revisits_enabled,
  created_at) answers the count, and the reports' overdue counts, from the index.
- The month report read the whole customer table five times (150-170 ms each) for counts by
  owner, grade and segment; `ix_customer_owner_kinds` (team_id, owner_id, grade, segment,
  created_at) answers them from the index, in group order.
- The touches of a period were counted by author with their distinct customers through
  (team_id, happened_at), reading each touch (300 ms for a month); the index now also holds
  the author and customer.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_customer_owner_due", "customer",
                    ["team_id", "owner_id", "next_revisit", "revisits_enabled", "created_at"])  # fmt: skip
    op.create_index("ix_customer_owner_kinds", "customer", ["team_id", "owner_id", "grade", "segment", "created_at"])
    op.drop_index("ix_touch_team_happened_at", table_name="touch")
    op.create_index("ix_touch_team_happened_at", "touch", ["team_id", "happened_at", "author_id", "customer_id"])


def downgrade() -> None:
    op.drop_index("ix_touch_team_happened_at", table_name="touch")
    op.create_index("ix_touch_team_happened_at", "touch", ["team_id", "happened_at"])
    op.drop_index("ix_customer_owner_kinds", table_name="customer")
    op.drop_index("ix_customer_owner_due", table_name="customer")
