"""Search: the lines of each customer's search text, for exact and prefix matches by index

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

A search matching many customers ranks the exact and prefix matches first. A trigram index
cannot find them (a line's beginning is a word's beginning to it), so PostgreSQL took them
from every contains match: 50 ms for `example.cn`, which half the e-mails contain and no
line begins with (docs/PERFORMANCE.md). `search_line` holds each line of `search_doc` and
each pinyin token, with the name key: the matches of a rare prefix are a range of its
primary key, sorted; those of a common one are found walking `ix_search_line_name` in name
order. The search text is cut to `DOC_BYTES` first (no ordinary customer comes near it), so
that on PostgreSQL `ix_customer_name_search` can hold it beside the name: a search walks
the names in order from that index alone, as SQLite does with `ix_customer_search`.
Filling the table reads every customer once (about a minute at 100,000 customers). The cut
and the lines are computed by a frozen copy (below) of the search's own functions at commit
49a71f6, so that this migration gives the same result whenever it runs.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BATCH = 2000

# --- Frozen copy of bot.storage.search (DOC_BYTES, capped, search_lines) as of commit
# 49a71f6. A migration never imports bot: editing the search later must not change what
# this migration writes. Do not edit it; tests/test_migrations.py compares it with the live code.

DOC_BYTES = 1600  # the most a search text may take, in UTF-8; see the module's docstring


def capped(doc: str) -> str:
    """`doc` cut to `DOC_BYTES`, still ending in a newline."""
    data = doc.encode()
    return doc if len(data) <= DOC_BYTES else data[: DOC_BYTES - 1].decode(errors="ignore") + "\n"


def search_lines(doc: str | None, key: str | None) -> set[str]:
    """The lines of a search text (before its tags) and the tokens of a pinyin key: what an
    exact or prefix match is matched against."""
    lines = (doc or "").split("\t", 1)[0].split("\n") + (key or "").split(" ")
    return {line for line in lines if line}


# --- End of the frozen copy.


def upgrade() -> None:
    conn = op.get_bind()
    line_type = sa.Text(collation="C") if conn.dialect.name == "postgresql" else sa.Text()
    op.create_table(
        "search_line",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("line", line_type, nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], name=op.f("fk_search_line_customer_id_customer"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["workspace.team_id"], name=op.f("fk_search_line_team_id_workspace"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "line", "name_key", "customer_id", name=op.f("pk_search_line")),
    )  # fmt: skip
    op.create_index("ix_search_line_customer_id", "search_line", ["customer_id"], unique=False)
    op.create_index("ix_search_line_name", "search_line", ["team_id", "name_key", "customer_id", "line"])
    customer = sa.table("customer", sa.column("id"), sa.column("team_id"), sa.column("name_key"),
                        sa.column("search_doc"), sa.column("search_key"))  # fmt: skip
    line = sa.table("search_line", sa.column("team_id"), sa.column("line"), sa.column("name_key"),
                    sa.column("customer_id"))  # fmt: skip
    cut = customer.update().where(customer.c.id == sa.bindparam("cid")).values(search_doc=sa.bindparam("doc"))
    last = 0
    while True:
        rows = conn.execute(sa.select(customer).where(customer.c.id > last).order_by(customer.c.id).limit(BATCH)).all()
        if not rows:
            break
        long = [{"cid": r.id, "doc": capped(r.search_doc)} for r in rows
                if r.search_doc and len(r.search_doc.encode()) > DOC_BYTES]  # fmt: skip
        if long:
            conn.execute(cut, long)
        docs = {r.id: capped(r.search_doc) if r.search_doc else None for r in rows}
        lines = [{"team_id": r.team_id, "line": text, "name_key": r.name_key, "customer_id": r.id}
                 for r in rows for text in search_lines(docs[r.id], r.search_key)]  # fmt: skip
        if lines:
            conn.execute(line.insert(), lines)
        last = rows[-1].id
    if conn.dialect.name == "postgresql":
        op.create_index("ix_customer_name_search", "customer", ["team_id", "name_key"],
                        postgresql_include=["id", "search_doc"])  # fmt: skip
        op.execute("ANALYZE search_line")  # which of the two a prefix takes depends on its statistics


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_customer_name_search", table_name="customer")
    op.drop_index("ix_search_line_name", table_name="search_line")
    op.drop_index("ix_search_line_customer_id", table_name="search_line")
    op.drop_table("search_line")
