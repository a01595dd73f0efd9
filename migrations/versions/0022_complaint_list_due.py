"""The complaint list's order kept by the database: each active complaint's deadline and rank

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03

`/crm complaints` ordered a team's active complaints by expressions over their clocks, computed
for every one of them before the 25 most urgent could be taken: 6 of SQLite's 14 ms at 9,892
active complaints, growing with them (docs/PERFORMANCE.md, second round, section 43). The
database now keeps two generated columns (virtual on SQLite, stored on PostgreSQL):

- `list_due`: the deadline that runs first (the first response's in the first cycle until
  answered, the resolution's unless paused), or the resolution's when it was missed before a
  pause; 9999-12-31 when none runs; NULL once the complaint is no longer active.
- `list_rank`: the severity's rank (urgent 0, high 1, normal 2, low 3).

A complaint is overdue when its `list_due` is at or before the first working instant from now,
so the list is a walk of `ix_complaint_list` (team, list_due, list_rank, number) or, for one
assignee's, `ix_complaint_assignee_list`, stopped after a page. They replace
`ix_complaint_clocks` (migration 0014), which held the columns of the old order.

The expressions are copied here as they are today (a migration never imports the code).
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

ACTIVE = "state IN ('open', 'acknowledged', 'waiting', 'in_progress')"
FIRST_RUNS = "CASE WHEN cycle = 1 AND first_response_at IS NULL THEN first_response_due END"
RESOLUTION_RUNS = "CASE WHEN paused_at IS NULL OR resolution_due <= paused_at THEN resolution_due END"
FAR = {"sqlite": "'9999-12-31 00:00:00.000000'", "postgresql": "TIMESTAMPTZ '9999-12-31 00:00:00+00'"}
LEAST = {"sqlite": "min", "postgresql": "least"}
RANK = "CASE severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 WHEN 'low' THEN 3 ELSE 9 END"
CLOCKS = ["team_id", "state", "severity", "cycle", "first_response_at", "first_response_due", "resolution_due",
          "paused_at", "number"]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    far = FAR[dialect]
    due = f"CASE WHEN {ACTIVE} THEN {LEAST[dialect]}(coalesce({FIRST_RUNS}, {far}), coalesce({RESOLUTION_RUNS}, {far})) END"
    stored = dialect == "postgresql"  # SQLite adds only virtual ones to a table; PostgreSQL before 18, only stored
    op.add_column("complaint", sa.Column("list_due", sa.DateTime(timezone=True), sa.Computed(due, persisted=stored)))
    op.add_column("complaint", sa.Column("list_rank", sa.Integer(), sa.Computed(RANK, persisted=stored)))
    op.create_index("ix_complaint_list", "complaint", ["team_id", "list_due", "list_rank", "number"])
    op.create_index("ix_complaint_assignee_list", "complaint",
                    ["team_id", "assignee_id", "list_due", "list_rank", "number"])  # fmt: skip
    op.drop_index("ix_complaint_clocks", table_name="complaint")


def downgrade() -> None:
    op.create_index("ix_complaint_clocks", "complaint", CLOCKS, postgresql_include=["id"])
    op.drop_index("ix_complaint_assignee_list", table_name="complaint")
    op.drop_index("ix_complaint_list", table_name="complaint")
    op.drop_column("complaint", "list_rank")
    op.drop_column("complaint", "list_due")
