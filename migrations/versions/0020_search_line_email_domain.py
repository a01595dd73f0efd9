"""Search: an e-mail's domains are lines of their own, so a search for one is read in name order

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03

`/crm find example.cn` was the slowest search at full scale (docs/PERFORMANCE.md, second round,
section 42): half the customers' e-mails are at a subdomain of `example.cn`
(`ming.sun@wantong.example.cn`), which begins no line of the search text, so every one of
them was a "contains" match, and the page in name order walked the Latin names before
reaching the Chinese ones that hold it (22–29 ms on SQLite, 53 ms on PostgreSQL at the
median). The domains of a line that is an e-mail address are now lines too
(`bot.storage.search.search_lines`: `wantong.example.cn` and `example.cn`, not the top level
`cn`): a domain is an exact match and its beginning a prefix one, read in name order from
`search_line`'s primary key. This adds those lines for the customers already stored (the
search text holds e-mails only without encryption keys; with them there is no line to add).
The rule is a frozen copy (below) of the search's at the commit that added it, so that this
migration gives the same result whenever it runs.
"""

import re
from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

BATCH = 5000

# --- Frozen copy of bot.storage.search's rule as of this migration. A migration never imports
# bot: editing the search later must not change what this migration writes. Do not edit it;
# tests/test_migrations.py compares it with the live code.
EMAIL = re.compile(r"[^@\s]+@([^@\s]+)")  # a line that is an e-mail address, and its domain


def lines_before(doc: str | None, key: str | None) -> set[str]:
    """The lines migration 0008 and the search until this one wrote for a customer."""
    lines = (doc or "").split("\t", 1)[0].split("\n") + (key or "").split(" ")
    return {line for line in lines if line}


def domains(lines: set[str]) -> set[str]:
    """The domains of the lines that are e-mail addresses, each with the domains above it but
    the top level (`wantong.example.cn`, `example.cn`)."""
    found: set[str] = set()
    for line in lines:
        if "@" in line and (m := EMAIL.fullmatch(line)):
            labels = m[1].split(".")
            found |= {m[1]} | {".".join(labels[i:]) for i in range(1, len(labels) - 1) if labels[i]}
    return found


# --- End of the frozen copy.

customer = sa.table("customer", sa.column("id"), sa.column("team_id"), sa.column("name_key"),
                    sa.column("search_doc"), sa.column("search_key"))  # fmt: skip
search_line = sa.table("search_line", sa.column("team_id"), sa.column("line"), sa.column("name_key"),
                       sa.column("customer_id"))  # fmt: skip


def _domain_lines() -> Iterator[list[dict[str, object]]]:
    """Per batch of customers with an `@` in their search text, the domain lines they lack
    (each batch read whole before it is given, so the caller may write between batches)."""
    conn, last = op.get_bind(), 0
    while True:
        rows = conn.execute(sa.select(customer).where(customer.c.id > last, customer.c.search_doc.like("%@%"))
                            .order_by(customer.c.id).limit(BATCH)).all()  # fmt: skip
        if not rows:
            return
        yield [{"team_id": r.team_id, "line": domain, "name_key": r.name_key, "customer_id": r.id}
               for r in rows for before in [lines_before(r.search_doc, r.search_key)]
               for domain in sorted(domains(before) - before)]  # fmt: skip
        last = rows[-1].id


def upgrade() -> None:
    conn = op.get_bind()
    for batch in _domain_lines():
        if batch:
            conn.execute(search_line.insert(), batch)
    if conn.dialect.name == "postgresql":
        op.execute("ANALYZE search_line")


def downgrade() -> None:
    conn = op.get_bind()
    gone = search_line.delete().where(search_line.c.customer_id == sa.bindparam("cid"),
                                      search_line.c.line == sa.bindparam("domain"))
    for batch in _domain_lines():
        if batch:
            conn.execute(gone, [{"cid": row["customer_id"], "domain": row["line"]} for row in batch])
