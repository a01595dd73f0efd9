"""An index of the search lines by their first two characters, then name: longer prefixes in name order

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03

A prefix that begins many lines is read in name order from the lines of its first character
(`ix_search_line_initial`, migration 0018), skipping those that do not begin with the rest.
Since migration 0020 an e-mail's domains are lines too, and a domain that half the customers
share (`example.cn` at full scale, docs/PERFORMANCE.md, second round, section 42) fills its
first character's lines: on PostgreSQL a type-ahead of `eva` skipped 18,489 of them to find 21
(15 ms). `ix_search_line_initials` (team_id, the first two characters, name_key,
customer_id, line) holds each pair's lines in name order, so a prefix of two characters or
more walks the lines of its first two (0.2 ms for `eva`). One character still walks the
first index.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_search_line_initials", "search_line",
                    ["team_id", sa.text("substr(line, 1, 2)"), "name_key", "customer_id", "line"])  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_search_line_initials", table_name="search_line")
