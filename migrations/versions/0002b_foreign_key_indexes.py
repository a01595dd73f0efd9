"""indexes on the child side of cascading foreign keys

Revision ID: 0002b
Revises: 0002
Create Date: 2026-11-25

Deleting a customer (or a complaint) makes the database find its touches, complaints and
complaint events by `customer_id` / `complaint_id` alone. The existing indexes lead with
`team_id`, so neither PostgreSQL nor SQLite can use them for that lookup and each delete
scans the whole child table. On PostgreSQL with 100k touches, deleting a customer with 8
touches took 8.0 ms, 7.4 of them in the touch cascade; 0.9 ms with these indexes. The scan
grows with the table (see docs/PERFORMANCE.md, "Deleting a customer").
"""

from alembic import op


revision = '0002b'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_touch_customer_id', 'touch', ['customer_id'], unique=False)
    op.create_index('ix_complaint_customer_id', 'complaint', ['customer_id'], unique=False)
    op.create_index('ix_complaint_event_complaint_id', 'complaint_event', ['complaint_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_complaint_event_complaint_id', table_name='complaint_event')
    op.drop_index('ix_complaint_customer_id', table_name='complaint')
    op.drop_index('ix_touch_customer_id', table_name='touch')
