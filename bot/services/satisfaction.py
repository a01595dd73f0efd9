"""Satisfaction scores (1-5): recorded by an owner at a check-in, after talking to the customer,
or given by the customer itself answering a survey in its linked channel (services.surveys).
Each score says which (`source`: "checkin" or "survey"), so reports count them apart; customer
health reads both, with the scores given when a complaint is resolved.

A check-in is due when a customer's last check-in (or, never checked in, its creation) is
older than its grade's check-in interval: A quarterly, B twice a year, C yearly. `checkins_due`
is what the scheduler's check-in job calls to DM each owner `blocks.checkin_blocks` (buttons 1-5);
the job itself belongs to the scheduler. A score of 1 or 2 alerts the team leads at once: a DM
each, written into the outbox with the score, built in their language when it is sent
(scheduler.said).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, func, literal, or_, select
from sqlalchemy.orm import Session

from bot.services import access, audit, notices
from bot.services.access import Viewer
from bot.services.errors import UserError
from bot.services.members import is_admin
from bot.services.workspaces import DEFAULT_GRADE
from bot.storage.models import SCORE_SOURCES, Customer, Member, Notification, SatisfactionScore

CHECKIN_DAYS = {"A": 91, "B": 182, "C": 365}
ALERT_AT_OR_BELOW = 2
CHECKINS_READ = 500  # due customers read per run: each owner is asked about a few
SCORES = range(1, 6)


def team_leads(*, session: Session, team_id: str) -> list[str]:
    """Who hears of a low score: members with the `lead` role, else the admins.
    (When `/crm settings` stores its Leads list, read it here.)"""
    members = session.scalars(select(Member).where(Member.team_id == team_id)).all()
    leads = [m.user_id for m in members if m.role == "lead"]
    return leads or [m.user_id for m in members if is_admin(m)]


@dataclass(frozen=True)
class Recorded:
    customer: Customer
    score: SatisfactionScore


def record_satisfaction(
    *, session: Session, viewer: Viewer, customer_id: int, score: int, surface: str, now: dt.datetime,
    source: str = "checkin", recorded_by: str | None = None, survey_id: int | None = None,
    told_by: dict[str, Any] | None = None,
) -> Recorded:  # fmt: skip
    """Keep a score for a customer the viewer sees, given by `recorded_by` (default: the viewer,
    an owner at a check-in; a survey's answer, `survey_id`, names the customer's person who
    clicked). A score of 1 or 2 alerts the leads (but the one who gave it). `told_by`: who acted and
    their language, told if Slack refuses a lead's alert (None: a customer's person, no one to tell)."""
    if score not in SCORES:
        raise UserError("satisfaction.invalid")
    if source not in SCORE_SOURCES:
        raise ValueError(f"unknown source of a score: {source}")
    by = recorded_by or viewer.user_id
    if by is None:
        raise ValueError("a score needs who gave it")
    customer = access.customer(session, viewer, customer_id, to_record=True)
    row = SatisfactionScore(team_id=viewer.team_id, customer_id=customer.id, score=score, recorded_by=by,
                            recorded_at=now, source=source)  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session=session, team_id=viewer.team_id, actor_id=by, action="create", entity="satisfaction",
        entity_id=row.id, surface=surface,
        changes={"customer_id": [None, customer.id], "score": [None, score], "source": [None, source]},
    )  # fmt: skip
    if score <= ALERT_AT_OR_BELOW:
        leads = [lead for lead in team_leads(session=session, team_id=viewer.team_id) if lead != by]
        _alert(session, row, leads, now=now, survey_id=survey_id, told_by=told_by)
    return Recorded(customer, row)


def _alert(session: Session, score: SatisfactionScore, leads: list[str], *, now: dt.datetime,
           survey_id: int | None, told_by: dict[str, Any] | None) -> None:  # fmt: skip
    """Each lead's DM of a low score, into the outbox with it (scheduler.said builds it)."""
    said = [notices.Said(lead, f"{notices.LOW_SCORE}:{score.id}:{lead}", {
        "render": notices.LOW_SCORE, "team_id": score.team_id, "user_id": lead, "score_id": score.id,
        "survey_id": survey_id, notices.NAMES: [score.customer_id],
        **({"if_refused": told_by} if told_by else {})}) for lead in leads]  # fmt: skip
    notices.say(session=session, now=now, team_id=score.team_id, said=said)


def checkin_key(owner_id: str, today: dt.date) -> str:
    """The outbox key of an owner's check-in DM for the ISO week of `today`: one a week."""
    return f"checkin:{owner_id}:{_week(today)}"


def _week(today: dt.date) -> str:
    year, week, _ = today.isocalendar()
    return f"{year}-W{week:02d}"


def checkins_due(*, session: Session, team_id: str, today: dt.date, limit: int | None = None) -> list[Customer]:
    """Customers with an owner whose check-in is due (see the module docstring) and who has not
    been asked this week (no check-in DM in the outbox for `today`'s week), oldest first; the
    owners asked already are left out before the limit (`CHECKINS_READ` unless given), so they
    cannot crowd the others out. A customer's own survey answer is not a check-in: the owner still talks to them."""
    last, since, due = _waiting(lambda column: column == team_id, today)
    return list(session.scalars(
        select(Customer).outerjoin(last, last.c.customer_id == Customer.id).where(*due)
        .order_by(since, Customer.number).limit(limit or CHECKINS_READ)
    ))  # fmt: skip


def teams_with_checkins_due(*, session: Session, teams: Sequence[str], today: dt.date) -> list[str]:
    """Of these workspaces, those where `checkins_due` finds a customer as of `today` (the
    scheduler's narrowing: one statement for them all)."""
    last, _since, due = _waiting(lambda column: column.in_(teams), today)
    return list(session.scalars(
        select(Customer.team_id).outerjoin(last, last.c.customer_id == Customer.id).where(*due).distinct()
    ))  # fmt: skip


def _waiting(
    of_teams: Callable[[Any], ColumnElement[bool]], today: dt.date
) -> tuple[Subquery, ColumnElement[Any], list[ColumnElement[bool]]]:
    """What makes a customer's check-in due by `today` with its owner not asked in `today`'s
    week, for the teams `of_teams` picks: the last check-ins' subquery to join, the instant it is
    counted from, and the conditions. (The asked key is matched in the customer's own workspace:
    a person of an organisation has one id in all its workspaces.)"""
    last = (
        select(SatisfactionScore.customer_id.label("customer_id"), func.max(SatisfactionScore.recorded_at).label("at"))
        .where(of_teams(SatisfactionScore.team_id), SatisfactionScore.source == "checkin")
        .group_by(SatisfactionScore.customer_id)
        .subquery()
    )
    since = func.coalesce(last.c.at, Customer.created_at)
    midnight = dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)
    asked_key = literal("checkin:") + Customer.owner_id + literal(f":{_week(today)}")  # checkin_key, in SQL
    due = []
    for grade, days in CHECKIN_DAYS.items():
        of_grade = Customer.grade == grade
        if grade == DEFAULT_GRADE:
            of_grade = or_(of_grade, Customer.grade.is_(None))
        due.append(and_(of_grade, since < midnight - dt.timedelta(days=days)))
    asked = select(Notification.id).where(of_teams(Notification.team_id), Notification.team_id == Customer.team_id,
                                          Notification.key == asked_key).exists()  # fmt: skip
    return last, since, [of_teams(Customer.team_id), Customer.owner_id.is_not(None), Customer.stage != "lost",
                         Customer.erased_at.is_(None), or_(*due), ~asked]
