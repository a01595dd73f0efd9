"""Search: one folded text per customer, its Han characters, and indexes that serve them

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

`find` and the customer pickers matched `lower(column) LIKE '%text%'` over six columns of
the customer table: a pass over every customer's whole row for every search (250 ms at
100,000 customers). `customer.search_doc` holds the searched fields folded, one line each
(bot.storage.search), so one `instr` / `strpos` per customer decides a match; on SQLite the
index (team_id, name_key, search_doc, search_key) holds everything a search reads, in name
order, so it neither reads the table nor sorts; on PostgreSQL pg_trgm GIN indexes on it and
on the pinyin key serve `LIKE '%text%'` from three characters on. `search_gram` holds each customer's Han characters,
for Chinese queries of one or two characters. The text is computed by a frozen copy (below)
of the functions the models' listeners used at commit 49a71f6, so that this migration
computes the same text whenever it runs; should the live ones change, a new migration
refills both.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 1000

# --- Frozen copy of bot.storage.search (search_doc, fold, capped, han) and of
# bot.storage.crypto.is_token as of commit 49a71f6. A migration never imports bot: editing
# the search later must not change what this migration writes. Do not edit it;
# tests/test_migrations.py compares it with the live code. One change: the live search_doc
# asks the process's keys (`crypto.keyring() is None`); this one is told (`encrypting`,
# which migrations/env.py hands over from the same keys).

_TOKEN_PREFIX = "gAAAAA"  # every Fernet token starts with its version byte 0x80


def is_token(value: str) -> bool:
    return value.startswith(_TOKEN_PREFIX)


def fold(text: str) -> str:
    """Case-folded with spaces collapsed: how names are compared and searched."""
    return " ".join(text.split()).casefold()


def search_doc(
    *, name: str, company: str | None, contact_name: str | None, email: str | None, phone: str | None,
    tags: str | None, encrypting: bool,
) -> str:  # fmt: skip
    personal = [email, phone] if not encrypting else []
    # The short lines first: should a very long company or contact reach the cap, they lose out.
    lines = [fold(v) for v in (name, *personal, company, contact_name) if v and not is_token(v)]
    return capped("\n" + "".join(f"{line}\n" for line in lines if line) + "\t" + (fold(tags) if tags else "") + "\n")


DOC_BYTES = 1600  # the most a search text may take, in UTF-8; see the module's docstring


def capped(doc: str) -> str:
    """`doc` cut to `DOC_BYTES`, still ending in a newline."""
    data = doc.encode()
    return doc if len(data) <= DOC_BYTES else data[: DOC_BYTES - 1].decode(errors="ignore") + "\n"


def han(text: str) -> set[str]:
    """The distinct Han characters of `text` (CJK unified ideographs and extension A)."""
    return {ch for ch in text if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"}


# --- End of the frozen copy.


def _encrypting() -> bool:
    """Whether this run stores personal fields encrypted (ENCRYPTION_KEYS set), as env.py says."""
    config = op.get_context().config
    return bool(config is not None and config.attributes.get("encrypting"))


def upgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_doc", sa.Text(), nullable=True))
    op.create_table(
        "search_gram",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("gram", sa.String(length=4), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], name=op.f("fk_search_gram_customer_id_customer"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["workspace.team_id"], name=op.f("fk_search_gram_team_id_workspace"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "gram", "customer_id", name=op.f("pk_search_gram")),
    )  # fmt: skip
    op.create_index("ix_search_gram_customer_id", "search_gram", ["customer_id"], unique=False)
    gram = sa.table("search_gram", sa.column("team_id"), sa.column("gram"), sa.column("customer_id"))
    customer = sa.table("customer", sa.column("id"), sa.column("team_id"), sa.column("name"), sa.column("company"),
                        sa.column("contact_name"), sa.column("email"), sa.column("phone"), sa.column("tags"),
                        sa.column("search_doc"))  # fmt: skip
    conn = op.get_bind()
    fill = customer.update().where(customer.c.id == sa.bindparam("cid")).values(search_doc=sa.bindparam("doc"))
    encrypting = _encrypting()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(customer).where(customer.c.id > last).order_by(customer.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        docs = {r.id: search_doc(name=r.name, company=r.company, contact_name=r.contact_name, email=r.email,
                                 phone=r.phone, tags=r.tags, encrypting=encrypting) for r in rows}  # fmt: skip
        conn.execute(fill, [{"cid": cid, "doc": doc} for cid, doc in docs.items()])
        grams = [{"team_id": r.team_id, "gram": g, "customer_id": r.id} for r in rows for g in han(docs[r.id])]
        if grams:
            conn.execute(gram.insert(), grams)
        last = rows[-1].id
    if conn.dialect.name == "sqlite":
        op.create_index("ix_customer_search", "customer", ["team_id", "name_key", "search_doc", "search_key"])
    if conn.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index("ix_customer_search_trgm", "customer", ["search_doc"], postgresql_using="gin",
                        postgresql_ops={"search_doc": "gin_trgm_ops"})  # fmt: skip
        op.create_index("ix_customer_search_key_trgm", "customer", ["search_key"], postgresql_using="gin",
                        postgresql_ops={"search_key": "gin_trgm_ops"})  # fmt: skip
        op.execute("ANALYZE customer")  # statistics of the new column, so searches are planned well at once


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_customer_search", table_name="customer")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_customer_search_key_trgm", table_name="customer")
        op.drop_index("ix_customer_search_trgm", table_name="customer")
    op.drop_index("ix_search_gram_customer_id", table_name="search_gram")
    op.drop_table("search_gram")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("search_doc")
