"""An index that reads an owner's revisits in the order the due lists show them

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

`/crm due`, the App Home and the digest show an owner's first revisits due (and then those of
the next days) by day, then name. Measured at full scale on PostgreSQL (docs/PERFORMANCE.md,
second round): once psycopg prepared the statement (from its fifth run), PostgreSQL's
generic plan read all of the busiest owner's 3,117 revisits due through
`ix_customer_owner_due` (team_id, owner_id, next_revisit, revisits_enabled, created_at) and
sorted them to show 10 (9.2 ms; the custom plan's incremental sort took 0.3 ms).
`ix_customer_owner_revisits` (team_id, owner_id, next_revisit, name_key) over the customers
with revisits on holds that order, so a page is its first entries (0.2 ms with either plan)
and the counts are read from it alone. `ix_customer_owner_due` stays for the reports.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_customer_owner_revisits", "customer", ["team_id", "owner_id", "next_revisit", "name_key"],
                    postgresql_where=sa.text("revisits_enabled IS true"),
                    sqlite_where=sa.text("revisits_enabled IS 1"))  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_customer_owner_revisits", table_name="customer")
