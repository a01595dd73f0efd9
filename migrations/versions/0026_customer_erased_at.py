"""An erased customer is marked so, and leaves every list of things to do

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07

`/crm erase` kept an anonymised row of the customer for the counts ("Erased customer #N"), but
left it in the revisit cadence, its open follow-ups in their assignees' lists, and among the
check-ins and the regrade suggestions: digests went on naming "Erased customer #N", about whom
nobody could do anything. The erase now stamps `erased_at`, turns the customer's revisits off and
takes its follow-ups out of the lists (`follow_up.customer_lost`, which the lists already read
for a lost customer). The customers erased before are found by their erase in the audit trail
and treated alike.

A merge now moves the audit records of the customer merged away to the one kept. Those of the
merges before stay on the deleted customer's id, which SQLite gives the next customer added
when it was the highest: they are set to no customer (as an export of all customers is), so that
no new customer shows another's history. Those a new customer took already stay (the data alone
cannot tell them from its own). The downgrade drops the column and leaves the rest as it is.
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# Its erase, not an erase of a customer deleted since (a merge) whose id SQLite gave a newer one.
ERASES = ("FROM audit_event WHERE audit_event.team_id = customer.team_id AND audit_event.entity = 'customer' "
          "AND audit_event.action = 'erase' AND audit_event.entity_id = customer.id "
          "AND audit_event.at >= customer.created_at")  # fmt: skip


def upgrade() -> None:
    op.add_column("customer", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(f"UPDATE customer SET erased_at = (SELECT max(audit_event.at) {ERASES}), next_revisit = NULL, "
               f"revisits_enabled = false WHERE EXISTS (SELECT 1 {ERASES})")  # fmt: skip
    op.execute("UPDATE follow_up SET customer_lost = true "
               "WHERE customer_id IN (SELECT id FROM customer WHERE erased_at IS NOT NULL)")  # fmt: skip
    # Records whose customer is gone: merged away. (Those a new customer already took with the id
    # cannot be told from its own by the data alone; they stay, and its erase empties them too.)
    op.execute("UPDATE audit_event SET entity_id = NULL WHERE entity = 'customer' AND entity_id IS NOT NULL "
               "AND NOT EXISTS (SELECT 1 FROM customer WHERE customer.id = audit_event.entity_id "
               "AND customer.team_id = audit_event.team_id)")  # fmt: skip


def downgrade() -> None:
    op.drop_column("customer", "erased_at")  # SQLite drops a column in place: its triggers stay
