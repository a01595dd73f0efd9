"""Touches (every contact with a customer) and revisits (when to contact them next)."""

from __future__ import annotations

import datetime as dt
from typing import Literal, NamedTuple

from pydantic import field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot.clock import local_today, zone
from bot.services import audit
from bot.services.customers import EVERYONE, Viewer
from bot.services.errors import FieldErrors, FormModel, UserError
from bot.services.members import is_admin
from bot.services.workspaces import TeamSettings, team_settings
from bot.storage.models import Complaint, Customer, Member, RevisitDone, Touch, utcnow

Kind = Literal["call", "email", "meeting", "visit", "chat", "note"]
KINDS: tuple[str, ...] = ("call", "email", "meeting", "visit", "chat", "note")
TOUCH_FIELDS = ("kind", "summary", "outcome", "next_step", "happened_at")
DEFAULT_GRADE = "B"  # the interval for a customer without a grade
UPCOMING_DAYS = 7
CLOSED_COMPLAINT_STATES = ("resolved", "closed")
# A clock a minute ahead of Slack's is no reason to refuse "now".
FUTURE_SLACK = dt.timedelta(minutes=1)


def _error(key: str) -> PydanticCustomError:
    return PydanticCustomError(key, key)


class TouchInput(FormModel):
    """A touch as typed into the "Log touch" modal."""

    customer: int
    kind: Kind
    summary: str
    outcome: str | None = None
    next_step: str | None = None
    happened_at: dt.datetime | None = None
    next_revisit: dt.date | None = None

    @field_validator("customer", mode="before")
    @classmethod
    def _customer_given(cls, value: object) -> object:
        if value is None or not str(value).isdigit():
            raise _error("error.customer.required")
        return value

    @field_validator("kind", mode="before")
    @classmethod
    def _kind_given(cls, value: object) -> object:
        if value not in KINDS:
            raise _error("error.kind.required")
        return value

    @field_validator("summary", mode="before")
    @classmethod
    def _summary_given(cls, value: object) -> object:
        if value is None or not str(value).strip():
            raise _error("error.summary.empty")
        if len(str(value)) > 3000:
            raise PydanticCustomError("error.too_long", "error.too_long", {"limit": 3000})
        return value

    @field_validator("happened_at", mode="before")
    @classmethod
    def _epoch(cls, value: object) -> object:
        # Slack's datetimepicker gives seconds since the epoch.
        if isinstance(value, int | float | str) and str(value).isdigit():
            return dt.datetime.fromtimestamp(int(value), dt.UTC)
        return value

    @classmethod
    def parse_at(cls, data: dict[str, object], *, now: dt.datetime) -> TouchInput:
        """Parse, and refuse a touch later than `now`."""
        touch = cls.parse(data)
        if touch.happened_at and touch.happened_at > now + FUTURE_SLACK:
            raise FieldErrors.one("happened_at", "error.when.future")
        return touch


def revisit_interval(settings: TeamSettings, grade: str | None) -> dt.timedelta:
    return dt.timedelta(days=settings.revisit_days.get(grade or DEFAULT_GRADE, 30))


def default_next_revisit(*, session: Session, team_id: str, customer: Customer, today: dt.date) -> dt.date | None:
    if not customer.revisits_enabled:
        return None
    return today + revisit_interval(team_settings(session, team_id), customer.grade)


def _locked_customer(session: Session, team_id: str, customer_id: int, viewer: Viewer) -> Customer | None:
    return session.scalar(
        select(Customer)
        .where(Customer.team_id == team_id, Customer.id == customer_id, viewer.condition(team_id))
        .with_for_update()
    )


def log_touch(
    *,
    session: Session,
    team_id: str,
    actor_id: str,
    data: TouchInput,
    tz: str | None,
    surface: str,
    speaker_id: str | None = None,
    permalink: str | None = None,
    viewer: Viewer = EVERYONE,
) -> Touch:
    """Record a touch and move the customer's next revisit (the given date, or touch date + interval)."""
    customer = _locked_customer(session, team_id, data.customer, viewer)
    if customer is None:
        raise FieldErrors.one("customer", "error.customer.gone")
    happened_at = data.happened_at or utcnow()
    touch = Touch(
        team_id=team_id, customer_id=customer.id, author_id=actor_id, speaker_id=speaker_id,
        kind=data.kind, summary=data.summary, outcome=data.outcome, next_step=data.next_step,
        happened_at=happened_at, permalink=permalink,
    )  # fmt: skip
    session.add(touch)
    newest = customer.last_touch_at is None or happened_at > customer.last_touch_at
    if newest:
        customer.last_touch_at = happened_at
    if customer.revisits_enabled:
        touch_day = local_today(happened_at, tz)
        if newest and customer.next_revisit is not None:
            # The scheduled revisit is done by this touch; reports compare the two dates.
            session.add(RevisitDone(team_id=team_id, customer_id=customer.id, touch=touch, owner_id=customer.owner_id,
                                    due_on=customer.next_revisit, done_on=touch_day))  # fmt: skip
        interval = revisit_interval(team_settings(session, team_id), customer.grade)
        customer.next_revisit = data.next_revisit or touch_day + interval
    session.flush()
    audit.record(
        session=session, team_id=team_id, actor_id=actor_id, action="create", entity="touch",
        entity_id=touch.id, surface=surface,
        changes={"customer_id": [None, customer.id], **audit.diff({}, _snapshot(touch))},
    )  # fmt: skip
    return touch


def _snapshot(touch: Touch) -> dict[str, object]:
    values = {field: getattr(touch, field) for field in TOUCH_FIELDS}
    values["happened_at"] = touch.happened_at.isoformat()
    return values


def _editable_touch(session: Session, team_id: str, touch_id: int, member: Member) -> Touch:
    touch = session.scalar(select(Touch).where(Touch.team_id == team_id, Touch.id == touch_id).with_for_update())
    if touch is None:
        raise UserError("error.touch.gone")
    if touch.author_id != member.user_id and not is_admin(member):
        raise UserError("error.touch.not_yours")
    return touch


def update_touch(*, session: Session, team_id: str, member: Member, touch_id: int, data: TouchInput, surface: str) -> Touch:
    touch = _editable_touch(session, team_id, touch_id, member)
    before = _snapshot(touch)
    touch.kind, touch.summary, touch.outcome, touch.next_step = data.kind, data.summary, data.outcome, data.next_step
    touch.happened_at = data.happened_at or touch.happened_at
    audit.record_update(
        session=session, team_id=team_id, actor_id=member.user_id, entity="touch", entity_id=touch.id,
        surface=surface, before=before, after=_snapshot(touch),
    )  # fmt: skip
    session.flush()
    return touch


def delete_touch(*, session: Session, team_id: str, member: Member, touch_id: int, surface: str) -> Customer:
    touch = _editable_touch(session, team_id, touch_id, member)
    customer = touch.customer
    audit.record(
        session=session, team_id=team_id, actor_id=member.user_id, action="delete", entity="touch",
        entity_id=touch.id, surface=surface,
        changes={"customer_id": [customer.id, None], **{k: [v, None] for k, v in _snapshot(touch).items()}},
    )  # fmt: skip
    session.delete(touch)
    session.flush()
    customer.last_touch_at = session.scalar(
        select(func.max(Touch.happened_at)).where(Touch.team_id == team_id, Touch.customer_id == customer.id)
    )
    return customer


def get_touch(*, session: Session, team_id: str, touch_id: int) -> Touch | None:
    return session.scalar(select(Touch).where(Touch.team_id == team_id, Touch.id == touch_id))


def set_revisit(
    *, session: Session, team_id: str, actor_id: str, customer: Customer, when: dt.date | None,
    today: dt.date, surface: str,
) -> Customer:  # fmt: skip
    """Set the next revisit, or turn revisits off with `when=None`. Past dates are refused."""
    if when is not None and when < today:
        raise UserError("error.revisit.past", date=when)
    before = {"next_revisit": customer.next_revisit, "revisits_enabled": customer.revisits_enabled}
    customer.next_revisit = when
    customer.revisits_enabled = when is not None
    audit.record_update(
        session=session, team_id=team_id, actor_id=actor_id, entity="customer", entity_id=customer.id,
        surface=surface, before=before, after={"next_revisit": when, "revisits_enabled": when is not None},
    )  # fmt: skip
    session.flush()
    return customer


def recent_touches(
    *, session: Session, team_id: str, customer_id: int, limit: int = 5, offset: int = 0
) -> tuple[list[Touch], bool]:
    rows = session.scalars(
        select(Touch)
        .where(Touch.team_id == team_id, Touch.customer_id == customer_id)
        .order_by(Touch.happened_at.desc(), Touch.id.desc())
        .limit(limit + 1)
        .offset(offset)
    ).all()
    return list(rows[:limit]), len(rows) > limit


class DueRevisits(NamedTuple):
    """An owner's revisits due (today or overdue, most overdue first) and in the next days:
    the first `limit` of each, and how many there are in all."""

    due: list[Customer]
    upcoming: list[Customer]
    due_total: int
    upcoming_total: int


def due_revisits(
    *, session: Session, team_id: str, owner_id: str, today: dt.date, days: int = UPCOMING_DAYS, limit: int = 10
) -> DueRevisits:
    """The owner's revisits due today or overdue (most overdue first), then the next `days`:
    a page of each (an owner may have thousands; a message shows a few) and their counts."""
    mine = (Customer.team_id == team_id, Customer.owner_id == owner_id, Customer.revisits_enabled.is_(True))
    horizon = today + dt.timedelta(days=days)

    def first(*when: ColumnElement[bool]) -> list[Customer]:
        query = select(Customer).where(*mine, *when).order_by(Customer.next_revisit, Customer.name_key)
        return list(session.scalars(query.limit(limit)))

    due_total, upcoming_total = session.execute(
        select(
            func.count().filter(Customer.next_revisit <= today),
            func.count().filter(Customer.next_revisit > today),
        ).where(*mine, Customer.next_revisit <= horizon)
    ).one()
    return DueRevisits(
        due=first(Customer.next_revisit <= today) if due_total else [],
        upcoming=first(Customer.next_revisit > today, Customer.next_revisit <= horizon) if upcoming_total else [],
        due_total=due_total, upcoming_total=upcoming_total,
    )  # fmt: skip


def open_complaints(*, session: Session, team_id: str, assignee_id: str, limit: int = 20) -> list[Complaint]:
    return list(
        session.scalars(
            select(Complaint)
            .where(
                Complaint.team_id == team_id,
                Complaint.assignee_id == assignee_id,
                Complaint.state.not_in(CLOSED_COMPLAINT_STATES),
            )
            .order_by(Complaint.opened_at)
            .limit(limit)
        )
    )


def customers_by_grade(*, session: Session, team_id: str, owner_id: str) -> dict[str, int]:
    rows = session.execute(
        select(Customer.grade, func.count())
        .where(Customer.team_id == team_id, Customer.owner_id == owner_id)
        .group_by(Customer.grade)
    ).all()
    return {grade or "-": count for grade, count in rows}


def now_in(tz: str | None) -> dt.datetime:
    return utcnow().astimezone(zone(tz))
