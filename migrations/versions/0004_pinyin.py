"""Pinyin search keys of customers: `zhangwei`, `zw` find 张伟

Revision ID: 0004
Revises: 0003r
Create Date: 2026-11-25

Adds `customer.search_key` and fills it for existing rows. The key is computed by a frozen
copy (below) of the function the models' listener uses (bot.storage.pinyin), so that this
migration computes the same keys whenever it runs; should the live function change its
output later, a new migration refills the column.
"""

import re

import sqlalchemy as sa
from alembic import op
from pypinyin import Style, lazy_pinyin, pinyin

revision = "0004"
down_revision = "0003r"
branch_labels = None
depends_on = None

# --- Frozen copy of bot.storage.pinyin (search_key and what it calls) as of commit 49a71f6.
# A migration never imports bot: editing the search later must not change what this
# migration writes. Do not edit it; tests/test_migrations.py compares it with the live code.

_LATIN = re.compile(r"[0-9a-z]+")
_SUFFIXES = 8  # tokens from at most this many later syllables: names stay short keys


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


def _syllables(text: str) -> list[str]:
    out: list[str] = []
    for part in lazy_pinyin(text):
        out.extend(_LATIN.findall(part.lower()))
    return out


def _tokens(syllables: list[str]) -> list[str]:
    tokens = ["".join(syllables), "".join(s[0] for s in syllables)]
    tokens += ["".join(syllables[i:]) for i in range(1, min(len(syllables), _SUFFIXES))]
    return tokens


def pinyin_tokens(text: str | None) -> list[str]:
    """The tokens one name adds to a search key; none for a name without Chinese."""
    if not text or not has_chinese(text):
        return []
    text = text.strip()
    syllables = _syllables(text)
    if not syllables:
        return []
    tokens = _tokens(syllables)
    if has_chinese(text[0]):
        for reading in pinyin(text[0], style=Style.NORMAL, heteronym=True)[0]:
            if reading != syllables[0] and _LATIN.fullmatch(reading):
                tokens += _tokens([reading, *syllables[1:]])[:2]
    tokens += [tok.replace("v", "u") for tok in tokens if "v" in tok]  # 绿 lv, as many type lu
    return tokens


def search_key(*texts: str | None) -> str | None:
    tokens = list(dict.fromkeys(tok for text in texts for tok in pinyin_tokens(text) if tok))
    return f" {' '.join(tokens)} " if tokens else None


# --- End of the frozen copy.


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
