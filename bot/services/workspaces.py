"""Workspaces: created on first contact; `TeamSettings` is the team's own configuration."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.storage.models import Workspace


class TeamSettings(BaseModel):
    """Stored as JSON on the workspace row, so new settings need no migration."""

    tz: str | None = None  # None: TZ_DEFAULT
    language: str | None = None  # None: each user's Slack locale
    visibility: str = "open"  # open / owner
    revisit_days: dict[str, int] = Field(default_factory=lambda: {"A": 7, "B": 30, "C": 90})
    digest_time: str = "09:00"
    escalation_channel: str | None = None
    complaints_channel: str | None = None
    # Quiet hours (bot.scheduler.hours): outside these, in each member's own time zone, only
    # urgent escalations are sent. Days are ISO weekdays, 1 = Monday.
    working_hours: str = "09:00-18:00"
    working_days: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5])


def get_workspace(session: Session, team_id: str) -> Workspace:
    """The team's row, created on its first request (safe when two first requests race)."""
    workspace = session.get(Workspace, team_id)
    if workspace is not None:
        return workspace
    dialect = session.get_bind().dialect.name
    values = {"team_id": team_id, "settings": {}, "last_customer_number": 0, "last_complaint_number": 0}
    if dialect == "postgresql":
        stmt = postgresql.insert(Workspace).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(Workspace).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - other backends are not supported
        stmt = insert(Workspace).values(values)
    session.execute(stmt)
    return session.get_one(Workspace, team_id)


def team_settings(session: Session, team_id: str) -> TeamSettings:
    return TeamSettings.model_validate(get_workspace(session, team_id).settings)


def next_number(session: Session, team_id: str, counter: str) -> int:
    """Take the next `#N` from a workspace counter atomically; numbers are never reused."""
    column = getattr(Workspace, counter)
    stmt = (
        update(Workspace)
        .where(Workspace.team_id == team_id)
        .values({column: column + 1})
        .returning(column)
    )
    return session.execute(stmt).scalar_one()
