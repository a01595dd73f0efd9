"""Pinyin search keys of customers: `zhangwei`, `zw` find 张伟

Revision ID: 0004
Revises: 0003r
Create Date: 2026-11-25

Adds `customer.search_key` and fills it for existing rows. The key is computed with the
same function the models' listener uses (bot.storage.pinyin); should that function change
its output later, a new migration refills the column.
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.pinyin import search_key

revision = "0004"
down_revision = "0003r"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_key", sa.Text(), nullable=True))
    customer = sa.table("customer", sa.column("id"), sa.column("name"), sa.column("company"),
                        sa.column("contact_name"), sa.column("search_key"))  # fmt: skip
    conn = op.get_bind()
    rows = conn.execute(sa.select(customer.c.id, customer.c.name, customer.c.company, customer.c.contact_name))
    for row in rows.all():
        key = search_key(row.name, row.company, row.contact_name)
        if key is not None:
            conn.execute(customer.update().where(customer.c.id == row.id).values(search_key=key))


def downgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("search_key")
