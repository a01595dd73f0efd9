"""An index of the search lines by their first character, then name: common prefixes in name order

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

A type-ahead of one or two characters lists the customers with a line beginning with them, in
name order. Measured at full scale (docs/PERFORMANCE.md, second round, section 39), both
databases walked `ix_search_line_name` in name order until enough lines matched: for a rare
first letter (`u`: 1,277 lines of 1.5 million) or a pinyin one (`j`, `x`, `zh`: the lines of
Chinese names, which sort after every Latin name) that walk read most of the team's lines,
24–57 ms warm and 88–272 ms when its pages were not in memory. `ix_search_line_initial`
(team_id, the line's first character, name_key, customer_id, line) holds each first character's
lines in name order, so a one-character prefix reads its first matches and stops (0.1–0.3 ms),
and a longer prefix that begins many lines walks its first character's lines only. A prefix
that begins few lines is read from the primary key and sorted, as before. Nothing reads
`ix_search_line_name` any more (no scan of it in PostgreSQL's statistics over the search
benchmark; SQLite's plans use the primary key), so it goes: one index less to keep on every
change of a customer's search text.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_search_line_initial", "search_line",
                    ["team_id", sa.text("substr(line, 1, 1)"), "name_key", "customer_id", "line"])  # fmt: skip
    op.drop_index("ix_search_line_name", table_name="search_line")


def downgrade() -> None:
    op.create_index("ix_search_line_name", "search_line", ["team_id", "name_key", "customer_id", "line"])
    op.drop_index("ix_search_line_initial", table_name="search_line")
