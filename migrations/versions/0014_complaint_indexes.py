"""Indexes for a team's open complaints: one person's, oldest first, and the list by its clocks

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

Measured at 50,000 complaints (10,000 active) on SQLite (docs/PERFORMANCE.md, second round):

- `/crm due` and the App Home list the viewer's open complaints, oldest first: through
  (team_id, assignee_id) the busiest assignee's 8,847 complaints were read and sorted to show
  20 (17 ms). `ix_complaint_team_assignee_opened` (team_id, assignee_id, opened_at) reads them
  in date order and stops; it replaces (team_id, assignee_id), of which it is the same prefix.
- `/crm complaints` orders every active complaint by its clocks: without an index holding
  them SQLite read each complaint's row (a scan of the table once it had statistics: 36 ms).
  `ix_complaint_clocks` holds the columns of the order, so the page's ids come from the index
  alone (9 ms); PostgreSQL includes the id for an index-only scan.
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

CLOCKS = ["team_id", "state", "severity", "cycle", "first_response_at", "first_response_due", "resolution_due",
          "paused_at", "number"]


def upgrade() -> None:
    op.create_index("ix_complaint_team_assignee_opened", "complaint", ["team_id", "assignee_id", "opened_at"])
    op.drop_index("ix_complaint_team_assignee", table_name="complaint")
    op.create_index("ix_complaint_clocks", "complaint", CLOCKS, postgresql_include=["id"])


def downgrade() -> None:
    op.drop_index("ix_complaint_clocks", table_name="complaint")
    op.create_index("ix_complaint_team_assignee", "complaint", ["team_id", "assignee_id"])
    op.drop_index("ix_complaint_team_assignee_opened", table_name="complaint")
