"""Keyed hashes of customers' email and phone, for lookups that work when encrypted

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Existing rows were stored before encryption existed, so their hashes use the public lookup
key (see bot.storage.crypto); `rotate-keys` rehashes them once keys are set.
"""

import hashlib
import hmac

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _hash(kind: str, value: str | None) -> str | None:
    if not value:
        return None
    norm = "".join(c for c in value if c.isdigit()) if kind == "phone" else value.strip().casefold()
    if not norm:
        return None
    return hmac.new(b"touchbase-lookup", f"{kind}:{norm}".encode(), hashlib.sha256).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("phone_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_customer_team_email_hash", "customer", ["team_id", "email_hash"], unique=False)
    op.create_index("ix_customer_team_phone_hash", "customer", ["team_id", "phone_hash"], unique=False)
    customer = sa.table("customer", sa.column("id"), sa.column("email"), sa.column("phone"),
                        sa.column("email_hash"), sa.column("phone_hash"))  # fmt: skip
    conn = op.get_bind()
    for row in conn.execute(sa.select(customer.c.id, customer.c.email, customer.c.phone)).all():
        conn.execute(
            customer.update()
            .where(customer.c.id == row.id)
            .values(email_hash=_hash("email", row.email), phone_hash=_hash("phone", row.phone))
        )


def downgrade() -> None:
    op.drop_index("ix_customer_team_phone_hash", table_name="customer")
    op.drop_index("ix_customer_team_email_hash", table_name="customer")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("phone_hash")
        batch_op.drop_column("email_hash")
