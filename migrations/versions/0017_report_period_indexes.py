"""Indexes that hold what the reports read of a period's complaints and follow-ups

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

The month report (docs/PERFORMANCE.md, second round, section 27) counts a period's complaints
opened, answered and resolved by assignee, the complaints still open at its end, their
response and resolution times, and the follow-ups due in it. Each read went through an index
of (team_id, date) and then the table for the other columns: at 50,000 complaints on SQLite,
tens of thousands of row lookups per report. These four indexes hold the columns those reads
need after the date, so each is read from the index alone; they replace the four (team_id,
date) indexes, of which they have the same prefix.
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

NEW = {
    "ix_complaint_period_opened": ("complaint", ["team_id", "opened_at", "assignee_id"]),
    "ix_complaint_period_answered": ("complaint", ["team_id", "first_response_at", "first_response_due", "assignee_id",
                                                   "opened_at"]),
    "ix_complaint_period_resolved": ("complaint", ["team_id", "resolved_at", "opened_at", "assignee_id",
                                                   "resolution_due", "satisfaction"]),
    "ix_follow_up_period_due": ("follow_up", ["team_id", "due_on", "assignee_id", "done_on", "done_at"]),
}  # fmt: skip
OLD = {
    "ix_complaint_team_opened_at": ("complaint", ["team_id", "opened_at"]),
    "ix_complaint_team_first_response_at": ("complaint", ["team_id", "first_response_at"]),
    "ix_complaint_team_resolved_at": ("complaint", ["team_id", "resolved_at"]),
    "ix_follow_up_team_due_on": ("follow_up", ["team_id", "due_on"]),
}


def upgrade() -> None:
    for name, (table, columns) in NEW.items():
        op.create_index(name, table, columns)
    for name, (table, _) in OLD.items():
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, (table, columns) in OLD.items():
        op.create_index(name, table, columns)
    for name, (table, _) in NEW.items():
        op.drop_index(name, table_name=table)
