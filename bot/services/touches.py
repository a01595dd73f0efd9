"""Touches (every contact with a customer) and revisits (when to contact them next)."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from typing import Any, Literal, NamedTuple

from pydantic import field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    bindparam,
    func,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.clock import local_today
from bot.services import access, audit, followups, lifecycle
from bot.services.access import Viewer
from bot.services.errors import FieldErrors, FormModel, UserError
from bot.services.items import COMPLAINT_LINE, CUSTOMER_ITEM, ComplaintLine, CustomerItem, rows
from bot.services.sla import CLOSED
from bot.services.workspaces import revisit_interval, team_settings
from bot.storage.db import inserted, updated
from bot.storage.models import Complaint, Customer, RevisitDone, Touch

Kind = Literal["call", "email", "meeting", "visit", "chat", "note"]
KINDS: tuple[str, ...] = ("call", "email", "meeting", "visit", "chat", "note")
TOUCH_FIELDS = ("kind", "summary", "outcome", "next_step", "happened_at")
UPCOMING_DAYS = 7
# A clock a minute ahead of Slack's is no reason to refuse "now".
FUTURE_SLACK = dt.timedelta(minutes=1)
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")


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
    next_step_due: dt.date | None = None  # with a next step: a follow-up (services.followups)
    assignee_id: str | None = None  # whose follow-up it is (default: the author)

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

    @field_validator("assignee_id")
    @classmethod
    def _assignee(cls, value: str | None) -> str | None:
        if value is not None and not _USER_ID.match(value):
            raise _error("error.owner.unknown")
        return value

    @field_validator("happened_at", mode="before")
    @classmethod
    def _epoch(cls, value: object) -> object:
        # Slack's datetimepicker gives seconds since the epoch.
        if isinstance(value, int | float | str) and str(value).isdigit():
            try:
                return dt.datetime.fromtimestamp(int(value), dt.UTC)
            except (OverflowError, OSError, ValueError):  # beyond the years a date can hold
                raise _error("error.when.invalid") from None
        return value

    @classmethod
    def parse_at(cls, data: dict[str, object], *, now: dt.datetime, today: dt.date | None = None) -> TouchInput:
        """Parse, and refuse a touch later than `now`, and a next step due before `today`
        or without the next step."""
        touch = cls.parse(data)
        if touch.happened_at and touch.happened_at > now + FUTURE_SLACK:
            raise FieldErrors.one("happened_at", "error.when.future")
        if touch.next_step_due is not None and not touch.next_step:
            raise FieldErrors.one("next_step_due", "error.next_step_due.no_step")
        if touch.next_step_due is not None and today is not None and touch.next_step_due < today:
            raise FieldErrors.one("next_step_due", "error.next_step_due.past", date=touch.next_step_due)
        return touch


def default_next_revisit(*, session: Session, team_id: str, customer: Customer, today: dt.date) -> dt.date | None:
    if not customer.revisits_enabled:
        return None
    return today + revisit_interval(team_settings(session, team_id), customer.grade)


def log_touch(
    *,
    session: Session,
    viewer: Viewer,
    data: TouchInput,
    tz: str | None,
    surface: str,
    now: dt.datetime,
    speaker_id: str | None = None,
    permalink: str | None = None,
    author_id: str | None = None,
) -> Touch:
    """Record a touch (at `now` unless the input says when), move the customer's next revisit
    (the given date, or the touch's date + the grade's interval), make its next step with a
    due day a follow-up, and let the customer's stage follow (services.lifecycle). Its author
    is the viewer, or `author_id` for what the team logs (a linked channel, a workflow step)."""
    team_id = viewer.team_id
    author_id = author_id or viewer.user_id
    if author_id is None:
        raise ValueError("a touch needs its author")
    try:
        customer = access.customer(session, viewer, data.customer, for_update=True, to_record=True)
    except UserError as refusal:
        raise FieldErrors.one("customer", refusal.key) from None
    happened_at = data.happened_at or now
    # The touch and the revisit it does are written at once (storage.db.inserted: no unit of
    # work). The touch holds its customer: the caller reads it back (the session holds rows
    # weakly). `customer.touches`, which nothing reads, is not extended.
    touch = inserted(session, Touch(
        team_id=team_id, customer_id=customer.id, author_id=author_id, speaker_id=speaker_id,
        kind=data.kind, summary=data.summary, outcome=data.outcome, next_step=data.next_step,
        happened_at=happened_at, permalink=permalink,
    ))  # fmt: skip
    set_committed_value(touch, "customer", customer)
    set_committed_value(touch, "follow_ups", [])  # a new touch has none but the one promised below
    newest = customer.last_touch_at is None or happened_at > customer.last_touch_at
    moved: dict[str, object] = {"last_touch_at": happened_at} if newest else {}
    if customer.revisits_enabled:
        touch_day = local_today(happened_at, tz)
        if newest and customer.next_revisit is not None:
            # The scheduled revisit is done by this touch; reports compare the two dates.
            inserted(session, RevisitDone(team_id=team_id, customer_id=customer.id, touch_id=touch.id,
                                          owner_id=customer.owner_id, due_on=customer.next_revisit,
                                          done_on=touch_day))  # fmt: skip
        interval = revisit_interval(team_settings(session, team_id), customer.grade)
        moved["next_revisit"] = data.next_revisit or touch_day + interval
    if moved:  # only dates: written at once, as the touch (storage.db.updated)
        updated(session, customer, moved)
    promised = {}
    if data.next_step and data.next_step_due:
        assignee = data.assignee_id or viewer.user_id or ""
        followups.promise(session, touch=touch, customer=customer, assignee_id=assignee, due_on=data.next_step_due)
        promised = {"next_step_due": [None, data.next_step_due.isoformat()], "assignee_id": [None, assignee]}
    audit.record(
        session=session, team_id=team_id, actor_id=viewer.user_id, action="create", entity="touch",
        entity_id=touch.id, surface=surface,
        changes={"customer_id": [None, customer.id], **audit.diff({}, _snapshot(touch)), **promised},
    )  # fmt: skip
    session.flush()
    lifecycle.after_touch(session=session, viewer=viewer, customer=customer, now=now, today=local_today(now, tz))
    return touch


def save_touch(
    *, session: Session, viewer: Viewer, touch_id: int | None, form: dict[str, object], tz: str | None,
    surface: str, now: dt.datetime, speaker_id: str | None = None, permalink: str | None = None,
) -> Touch:  # fmt: skip
    """The "Log touch" modal saved: a new touch, or (`touch_id`) the edit of one (its customer
    and revisit stay). A touch later than `now` is refused."""
    if touch_id is None:
        data = TouchInput.parse_at(form, now=now, today=local_today(now, tz))
        return log_touch(session=session, viewer=viewer, data=data, tz=tz, surface=surface, now=now,
                         speaker_id=speaker_id, permalink=permalink)  # fmt: skip
    try:
        touch = editable_touch(session=session, viewer=viewer, touch_id=touch_id)
    except UserError as refusal:
        raise FieldErrors.one("summary", refusal.key) from None
    data = TouchInput.parse_at({**form, "customer": str(touch.customer_id)}, now=now)
    return update_touch(session=session, viewer=viewer, touch=touch, data=data, surface=surface)


def _snapshot(touch: Touch) -> dict[str, object]:
    values = {field: getattr(touch, field) for field in TOUCH_FIELDS}
    values["happened_at"] = touch.happened_at.isoformat()
    return values


def editable_touch(*, session: Session, viewer: Viewer, touch_id: int) -> Touch:
    """The touch, if the viewer sees it and may change it (its author, or an admin), and its
    customer was not erased (what the erase kept stays as it left it, for the counts)."""
    touch = access.touch(session, viewer, touch_id, to_record=True)
    if touch.author_id != viewer.user_id and not viewer.admin:
        raise UserError("error.touch.not_yours")
    return touch


def update_touch(*, session: Session, viewer: Viewer, touch: Touch, data: TouchInput, surface: str) -> Touch:
    before = _snapshot(touch)
    touch.kind, touch.summary, touch.outcome, touch.next_step = data.kind, data.summary, data.outcome, data.next_step
    touch.happened_at = data.happened_at or touch.happened_at
    audit.record_update(
        session=session, team_id=viewer.team_id, actor_id=viewer.user_id, entity="touch", entity_id=touch.id,
        surface=surface, before=before, after=_snapshot(touch),
    )  # fmt: skip
    session.flush()
    return touch


def delete_touch(*, session: Session, viewer: Viewer, touch_id: int, surface: str) -> Customer:
    touch = editable_touch(session=session, viewer=viewer, touch_id=touch_id)
    customer = touch.customer
    audit.record(
        session=session, team_id=viewer.team_id, actor_id=viewer.user_id, action="delete", entity="touch",
        entity_id=touch.id, surface=surface,
        changes={"customer_id": [customer.id, None], **{k: [v, None] for k, v in _snapshot(touch).items()}},
    )  # fmt: skip
    session.delete(touch)
    session.flush()
    customer.last_touch_at = session.scalar(
        select(func.max(Touch.happened_at)).where(Touch.team_id == viewer.team_id, Touch.customer_id == customer.id)
    )
    return customer


def set_revisit(
    *, session: Session, viewer: Viewer, customer_id: int, when: dt.date | None, today: dt.date, surface: str
) -> Customer:
    """Set the next revisit, or turn revisits off with `when=None`. Past dates are refused."""
    if when is not None and when < today:
        raise UserError("error.revisit.past", date=when)
    customer = access.customer(session, viewer, customer_id, for_update=True, to_record=True)
    before = {"next_revisit": customer.next_revisit, "revisits_enabled": customer.revisits_enabled}
    customer.next_revisit = when
    customer.revisits_enabled = when is not None
    audit.record_update(
        session=session, team_id=viewer.team_id, actor_id=viewer.user_id, entity="customer", entity_id=customer.id,
        surface=surface, before=before, after={"next_revisit": when, "revisits_enabled": when is not None},
    )  # fmt: skip
    session.flush()
    return customer


def recent_touches(
    *, session: Session, viewer: Viewer, customer_id: int, limit: int = 5, offset: int = 0
) -> tuple[list[Touch], bool]:
    """A page of the customer's touches, newest first (the viewer must see the customer)."""
    access.customer(session, viewer, customer_id)
    rows = session.scalars(
        select(Touch)
        .where(Touch.team_id == viewer.team_id, Touch.customer_id == customer_id)
        .order_by(Touch.happened_at.desc(), Touch.id.desc())
        .limit(limit + 1)
        .offset(offset)
    ).all()
    return list(rows[:limit]), len(rows) > limit


class DueRevisits(NamedTuple):
    """An owner's revisits due (today or overdue, most overdue first) and in the next days:
    the first `limit` of each, and how many there are in all."""

    due: list[CustomerItem]
    upcoming: list[CustomerItem]
    due_total: int
    upcoming_total: int


def due_revisits(
    *, session: Session, viewer: Viewer, today: dt.date, days: int = UPCOMING_DAYS, limit: int = 10
) -> DueRevisits:
    """The viewer's own revisits due today or overdue (most overdue first), then the next
    `days`: a page of each (an owner may have thousands; a message shows a few) and their counts."""
    counted, due, upcoming = _own_revisits()
    values = {"team_id": viewer.team_id, "owner_id": viewer.user_id, "today": today,
              "horizon": today + dt.timedelta(days=days), "limit": limit}  # fmt: skip
    due_total, upcoming_total = rows(session, counted, values)[0]
    return DueRevisits(
        due=[CustomerItem(*row) for row in rows(session, due, values)] if due_total else [],
        upcoming=[CustomerItem(*row) for row in rows(session, upcoming, values)] if upcoming_total else [],
        due_total=due_total, upcoming_total=upcoming_total,
    )  # fmt: skip


@cache
def _own_revisits() -> tuple[Select[Any], Select[Any], Select[Any]]:
    """An owner's revisits: counted (due by `today`, then by `horizon`), the first `limit` due
    and the first `limit` upcoming; built once (every `/crm due`, App Home and digest asks),
    their values bound by `due_revisits`."""
    today, horizon = bindparam("today", type_=Date()), bindparam("horizon", type_=Date())
    mine = (Customer.team_id == bindparam("team_id", type_=String()),
            Customer.owner_id == bindparam("owner_id", type_=String()), Customer.revisits_enabled.is_(True))  # fmt: skip
    counted = select(
        func.count().filter(Customer.next_revisit <= today), func.count().filter(Customer.next_revisit > today),
    ).where(*mine, Customer.next_revisit <= horizon)  # fmt: skip
    first = (select(*CUSTOMER_ITEM).where(*mine).order_by(Customer.next_revisit, Customer.name_key)
             .limit(bindparam("limit", type_=Integer())))  # fmt: skip
    return counted, first.where(Customer.next_revisit <= today), first.where(
        Customer.next_revisit > today, Customer.next_revisit <= horizon)


def open_complaints(*, session: Session, viewer: Viewer, limit: int = 20) -> list[ComplaintLine]:
    """The complaints the viewer is assigned and that are not closed, oldest first."""
    values = {"team_id": viewer.team_id, "assignee_id": viewer.user_id, "limit": limit}
    return [ComplaintLine(*row) for row in rows(session, _assigned_open(), values)]


@cache
def _assigned_open() -> Select[Any]:
    """A person's complaints not closed, oldest first: built once, its values bound by `open_complaints`."""
    return (
        select(*COMPLAINT_LINE)
        .where(
            Complaint.team_id == bindparam("team_id", type_=String()),
            Complaint.assignee_id == bindparam("assignee_id", type_=String()),
            Complaint.state.not_in(CLOSED),
        )
        .order_by(Complaint.opened_at)
        .limit(bindparam("limit", type_=Integer()))
    )


def customers_by_grade(*, session: Session, viewer: Viewer) -> dict[str, int]:
    """How many customers the viewer owns, by grade."""
    rows = session.execute(
        select(Customer.grade, func.count())
        .where(Customer.team_id == viewer.team_id, Customer.owner_id == viewer.user_id)
        .group_by(Customer.grade)
    ).all()
    return {grade or "-": count for grade, count in rows}
