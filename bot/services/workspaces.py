"""Workspaces: created on first contact; `TeamSettings` is the team's own configuration."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Select, String, and_, bindparam, event, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction

from bot.storage.db import now_of
from bot.storage.models import Member, Workspace

# --- complaints: SLA policy and business calendar ---------------------------------------
DEFAULT_WORKING_HOURS = {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
DEFAULT_RESPONSE_TARGETS = {"A": "1h", "B": "4h", "C": "8h"}


class SlaTarget(BaseModel):
    """One severity's targets: "30m", "8h", or "3d" (business days, see services.complaints)."""

    first_response: str
    resolution: str
    calendar_hours: bool = False  # True: the clocks run 24/7, ignoring the business calendar


def default_sla() -> dict[str, SlaTarget]:
    return {
        "urgent": SlaTarget(first_response="1h", resolution="8h"),
        "high": SlaTarget(first_response="4h", resolution="24h"),
        "normal": SlaTarget(first_response="8h", resolution="3d"),
        "low": SlaTarget(first_response="24h", resolution="10d"),
    }


class TeamSettings(BaseModel):
    """Stored as JSON on the workspace row, so new settings need no migration."""

    tz: str | None = None  # None: TZ_DEFAULT
    language: str | None = None  # None: each user's Slack locale
    visibility: str = "open"  # open / owner
    revisit_days: dict[str, int] = Field(default_factory=lambda: {"A": 7, "B": 30, "C": 90})
    digest_time: str = "09:00"
    escalation_channel: str | None = None
    complaints_channel: str | None = None
    report_channel: str | None = None  # the weekly report, Monday 09:00 team time
    # complaints: business calendar and SLA policy (services.calendar, services.complaints)
    working_hours: dict[str, list[str]] = Field(default_factory=lambda: {d: list(h) for d, h in DEFAULT_WORKING_HOURS.items()})
    holidays_country: str | None = None  # e.g. "CN": public holidays and weekend make-up days
    days_off: list[dt.date] = Field(default_factory=list)  # the team's own holidays
    sla: dict[str, SlaTarget] = Field(default_factory=default_sla)
    sla_warning_share: float = 0.8  # warn when this share of a target is used
    escalation_level2_share: float = 1.5  # level 2 at this multiple of the resolution target
    escalation_level3_share: float = 2.0  # level 3 at this multiple of the resolution target
    # linked channels (services.channels): how soon a customer's message is answered, per
    # grade, in business time ("1h", "30m", "1d"), and the emoji that offers "Log complaint"
    response_targets: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_RESPONSE_TARGETS))
    complaint_emoji: str = "rotating_light"
    currency: str = "CNY"  # ISO 4217: what customers' values are counted in
    # a resolved complaint of a customer with a linked channel asks it for its satisfaction
    # there (services.surveys)
    customer_survey: bool = True



DEFAULT_GRADE = "B"  # the revisit interval of a customer without a grade


def revisit_interval(settings: TeamSettings, grade: str | None) -> dt.timedelta:
    """How long after a touch the customer's next revisit falls, by its grade."""
    return dt.timedelta(days=settings.revisit_days.get(grade or DEFAULT_GRADE, 30))


def get_workspace(session: Session, team_id: str) -> Workspace:
    """The team's row, created on its first request (safe when two first requests race)."""
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        workspace = _create_workspace(session, team_id)
    return _hold(session, workspace)


def locked_workspace(session: Session, team_id: str) -> Workspace:
    """The team's row read afresh and locked until the transaction ends (PostgreSQL; SQLite's
    write turn holds every row), for a change made from what it holds (its settings): the row
    the request read first may be older than a change committed since, which would be lost."""
    get_workspace(session, team_id)  # created if missing
    return _hold(session, session.get_one(Workspace, team_id, with_for_update=True, populate_existing=True))


def workspace_and_member(*, session: Session, team_id: str, user_id: str) -> tuple[Workspace, Member | None]:
    """The team's row and one member's (None if they have none yet), in one statement: a
    request's first read, a round trip fewer than reading them one after the other. The team's
    row is created if missing, as by `get_workspace`."""
    held = session.info.get(_HELD, {}).get(team_id)
    if held is None:
        row = session.execute(_with_member(), {"team_id": team_id, "user_id": user_id}).first()
        if row is not None:
            return _hold(session, row[0]), row[1]
    workspace = get_workspace(session, team_id)
    return workspace, session.scalar(select(Member).where(Member.team_id == team_id, Member.user_id == user_id))


@cache
def _with_member() -> Select[Any]:
    """`workspace_and_member`'s statement, built once (every request reads it first; building
    it anew cost about as much as running it); its values bound per request."""
    team_id, user_id = bindparam("team_id", type_=String()), bindparam("user_id", type_=String())
    pair = and_(Member.team_id == Workspace.team_id, Member.user_id == user_id)
    return select(Workspace, Member).outerjoin(Member, pair).where(Workspace.team_id == team_id)


def _hold(session: Session, workspace: Workspace) -> Workspace:
    # The session's identity map holds rows weakly: once the caller lets go of the row, the
    # next call (a request asks for the language, the member, the settings…) would read it
    # again. It is held until the transaction ends, so each transaction reads it once.
    session.info.setdefault(_HELD, {})[workspace.team_id] = workspace
    return workspace


_HELD = "touchbase.workspaces"


@event.listens_for(Session, "after_transaction_end")
def _let_go(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(_HELD, None)


def _create_workspace(session: Session, team_id: str) -> Workspace:
    dialect = session.get_bind().dialect.name
    values = {"team_id": team_id, "settings": {}, "last_customer_number": 0, "last_complaint_number": 0,
              "created_at": now_of(session)}
    if dialect == "postgresql":
        stmt = postgresql.insert(Workspace).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(Workspace).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - other backends are not supported
        stmt = insert(Workspace).values(values)
    try:
        with session.begin_nested():
            session.execute(stmt)
    except OperationalError:
        # A request that only reads met a writer (SQLite): the row is made by a later request.
        return Workspace(team_id=team_id, settings={}, last_customer_number=0, last_complaint_number=0)
    return session.get_one(Workspace, team_id)


def team_settings(session: Session, team_id: str) -> TeamSettings:
    return settings_of(get_workspace(session, team_id))


def settings_of(workspace: Workspace) -> TeamSettings:
    """A workspace's settings as read from its row (defaults for what it does not say)."""
    return TeamSettings.model_validate(workspace.settings)


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
