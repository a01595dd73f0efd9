"""Complaints: logging, the state machine, lists, and what is said to whom about them.

States: open → acknowledged → waiting (on customer) ⇄ in_progress → resolved → closed;
resolved and closed can be reopened (`TRANSITIONS`). Every change is a `ComplaintEvent` (who,
when, from, to). The SLA clocks and the escalation rules are in services.sla.

Every function that reads or changes a complaint takes the `Viewer` (services.access): a
member of an "owner only" team sees the complaints they are assigned and those of the
customers they see. Saving never sends anything. The DMs people are told by (the assignee, the
author, the leads of a low score) are written into the outbox with the change (`tell_of_new`,
`tell_of_change`), for the worker's sender to build in each one's language when it sends them;
the complaints channel's post and its thread are `announce_new` and `announce_change`, which
the caller runs after the answer (the post's thread is kept on the complaint). So a failed
message never undoes the complaint it is about, and none is sent for one that was not saved.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    case,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session, selectinload

from bot.notify import Notifier
from bot.services import access, audit, notices
from bot.services.access import Viewer
from bot.services.calendar import BusinessCalendar
from bot.services.errors import FieldErrors, UserError
from bot.services.items import CLOCK_LINE, COMPLAINT_LINE, CUSTOMER_NAME, ClockLine, ComplaintLine, CustomerName, rows
from bot.services.members import USER_ID
from bot.services.sla import (
    ACTIVE,
    CLOSED,
    Clocks,
    Escalation,
    SlaPolicy,
    clocks,
    due_escalations,
    steps_due,
    steps_sent,
    team_calendar,
    team_policy,
    team_rules,
)
from bot.services.workspaces import TeamSettings, next_number, team_settings
from bot.storage.db import written
from bot.storage.models import INTEGER_MAX, Complaint, ComplaintEvent, Customer, Member

log = logging.getLogger(__name__)

SEVERITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
CATEGORIES: tuple[str, ...] = ("product", "service", "delivery", "billing", "other")
STATES: tuple[str, ...] = ("open", "acknowledged", "waiting", "in_progress", "resolved", "closed")
SEVERITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "acknowledge": (frozenset({"open"}), "acknowledged"),
    "wait": (frozenset({"open", "acknowledged", "in_progress"}), "waiting"),
    "progress": (frozenset({"open", "acknowledged", "waiting"}), "in_progress"),
    "resolve": (ACTIVE, "resolved"),
    "close": (frozenset({"resolved"}), "closed"),
    "reopen": (CLOSED, "open"),
}

Severity = Literal["low", "normal", "high", "urgent"]
Category = Literal["product", "service", "delivery", "billing", "other"]



# --- input --------------------------------------------------------------------------------------


def _error(key: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError(key, key, ctx or None)


def _field_errors(exc: ValidationError) -> FieldErrors:
    errors: dict[str, tuple[str, dict[str, object]]] = {}
    for err in exc.errors():
        field = str(err["loc"][0])
        key = err["type"] if err["type"].startswith("error.") else f"error.complaint.{field}"
        errors.setdefault(field, (key, dict(err.get("ctx") or {})))
    return FieldErrors(errors)


class _Input(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


class ComplaintInput(_Input):
    """"Log complaint" as typed; block ids are the field names."""

    customer: int
    title: str
    description: str | None = None
    severity: Severity = "normal"
    category: Category | None = None
    assignee_id: str | None = None

    @field_validator("customer", mode="before")
    @classmethod
    def _customer_given(cls, value: object) -> object:
        if value is None or not str(value).isdigit():
            raise _error("error.complaint.customer")
        return value

    @field_validator("assignee_id")
    @classmethod
    def _assignee(cls, value: str | None) -> str | None:
        if value is not None and not USER_ID.match(value):
            raise _error("error.owner.unknown")
        return value

    @field_validator("title", mode="before")
    @classmethod
    def _title_given(cls, value: object) -> object:
        title = " ".join(str(value or "").split())
        if not title:
            raise _error("error.complaint.title")
        if len(title) > 300:
            raise _error("error.too_long", limit=300)
        return title

    @classmethod
    def parse(cls, data: dict[str, object]) -> ComplaintInput:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise _field_errors(exc) from None


class ResolveInput(_Input):
    """"Resolve" as typed: a resolution, and optionally a satisfaction from 1 to 5."""

    resolution: str
    satisfaction: int | None = None

    @field_validator("resolution", mode="before")
    @classmethod
    def _resolution_given(cls, value: object) -> object:
        if not str(value or "").strip():
            raise _error("error.complaint.resolution")
        return value

    @field_validator("satisfaction", mode="before")
    @classmethod
    def _one_to_five(cls, value: object) -> object:
        if value is None:
            return None
        text = str(value).strip()
        if not text.isdigit() or not 1 <= int(text) <= 5:
            raise _error("error.complaint.satisfaction")
        return int(text)

    @classmethod
    def parse(cls, data: dict[str, object]) -> ResolveInput:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise _field_errors(exc) from None


# --- what a message about a complaint shows --------------------------------------------------


@dataclass(frozen=True)
class ComplaintCard:
    """What a message about a complaint shows: the complaint, its customer, its clocks, and the
    change that caused the message (None for the complaint itself)."""

    complaint: Complaint | ComplaintLine  # a line: in the lists (services.items)
    customer: Customer | CustomerName
    clocks: Clocks
    event: ComplaintEvent | None = None


# render(card, kind, recipient_user_id) -> {"text": ..., "blocks": [...]}; kinds: "assignee",
# "author", "channel", "update", "low_satisfaction". Services stay free of Block Kit; the
# caller passes the views' builder, which writes in each recipient's language.
Render = Callable[[ComplaintCard, str, str | None], dict[str, Any]]


def card(*, session: Session, complaint: Complaint, now: dt.datetime, default_tz: str = "UTC",
         event: ComplaintEvent | None = None) -> ComplaintCard:  # fmt: skip
    calendar, policy = team_rules(session, complaint.team_id, default_tz)
    customer = session.get_one(Customer, complaint.customer_id)
    return ComplaintCard(complaint, customer, clocks(complaint, now, calendar, policy), event)


# --- logging and changing -------------------------------------------------------------------------


def create_complaint(
    *, session: Session, viewer: Viewer, data: ComplaintInput, permalink: str | None, surface: str,
    now: dt.datetime, default_tz: str = "UTC", author_id: str | None = None,
) -> ComplaintCard:  # fmt: skip
    """Log a complaint about a customer the viewer sees: number it, start its clocks. Telling
    people is `tell_of_new`, and `announce_new` after the answer. Its author is the viewer, or
    `author_id` for what the team logs (a workflow step)."""
    team_id = viewer.team_id
    author_id = author_id or viewer.user_id
    if author_id is None:
        raise ValueError("a complaint needs its author")
    settings = team_settings(session, team_id)  # creates the workspace on first contact
    try:
        customer = access.customer(session, viewer, data.customer, to_record=True)
    except UserError as refusal:
        raise FieldErrors.one("customer", refusal.key) from None
    calendar = team_calendar(settings, default_tz)
    policy = team_policy(settings, calendar)
    target, clock = policy.targets[data.severity], policy.clock(data.severity, calendar)
    complaint = Complaint(
        team_id=team_id,
        number=next_number(session, team_id, "last_complaint_number"),
        customer_id=customer.id,
        title=data.title,
        description=data.description,
        severity=data.severity,
        category=data.category,
        state="open",
        author_id=author_id,
        assignee_id=data.assignee_id or customer.owner_id or author_id,
        permalink=permalink,
        opened_at=now,
        first_response_due=clock.add(now, target.first_response),
        resolution_clock_started_at=now,
        resolution_due=clock.add(now, target.resolution),
        cycle=1,
        escalation_level=0,
    )
    session.add(complaint)
    session.flush()
    session.add(ComplaintEvent(team_id=team_id, complaint_id=complaint.id, actor_id=author_id, kind="created",
                               to_state="open", at=now))  # fmt: skip
    audit.record(session=session, team_id=team_id, actor_id=author_id, action="create", entity="complaint",
                 entity_id=complaint.id, surface=surface, changes={"number": [None, complaint.number]})  # fmt: skip
    session.flush()
    return ComplaintCard(complaint, customer, clocks(complaint, now, calendar, policy))


@dataclass(frozen=True)
class Announced:
    """Who could not be told (user or channel id -> Slack's error)."""

    failed: dict[str, str]

    def check(self) -> None:
        """Raise `CourtesyFailed` if someone could not be told (the caller's follow-up then says so)."""
        if self.failed:
            raise CourtesyFailed(", ".join(f"{who}: {error}" for who, error in self.failed.items()))


class CourtesyFailed(Exception):
    """A message about a saved record could not be sent; the record stands."""


def _tell(failed: dict[str, str], who: str, send: Callable[[], Any]) -> Any:
    try:
        return send()
    except Exception as exc:  # noqa: BLE001 - a courtesy: the complaint is saved whatever happens here
        error = getattr(getattr(exc, "response", None), "get", lambda _k: None)("error") or type(exc).__name__
        log.warning("telling %s about a complaint failed: %s", who, error)
        failed[who] = str(error)
        return None


def tell_of_new(*, session: Session, complaint: Complaint, now: dt.datetime, default_tz: str,
                told_by: dict[str, Any] | None) -> None:  # fmt: skip
    """A new complaint's DMs, into the outbox with it: to its assignee, and to its author unless
    they are the assignee. `told_by`: who acted and their language, told if Slack refuses a DM
    to someone else (None: a workflow, no one acting)."""
    people = [("assignee", complaint.assignee_id)] if complaint.assignee_id else []
    if complaint.author_id != complaint.assignee_id:
        people.append(("author", complaint.author_id))
    _say(session, complaint, people, now=now, default_tz=default_tz, told_by=told_by)


def tell_of_change(*, session: Session, complaint: Complaint, event: ComplaintEvent, now: dt.datetime,
                   default_tz: str, told_by: dict[str, Any] | None) -> None:  # fmt: skip
    """A change's DMs, into the outbox with it: a resolution scored 1 or 2 to each team lead but
    the one who resolved it."""
    from bot.services import satisfaction

    if not low_score(complaint, event):
        return
    leads = satisfaction.team_leads(session=session, team_id=complaint.team_id)
    people = [("low_satisfaction", lead) for lead in leads if lead != event.actor_id]
    _say(session, complaint, people, now=now, default_tz=default_tz, told_by=told_by, event_id=event.id)


def low_score(complaint: Complaint, event: ComplaintEvent) -> bool:
    """Whether `event` is a resolution scored 1 or 2 that still stands (the complaint not reopened,
    or resolved again, since): what the leads are told of."""
    from bot.services.satisfaction import ALERT_AT_OR_BELOW

    score = complaint.satisfaction
    return event.to_state == "resolved" and complaint.resolved_at == event.at and score is not None and \
        score <= ALERT_AT_OR_BELOW


def _say(session: Session, complaint: Complaint, people: list[tuple[str, str]], *, now: dt.datetime,
         default_tz: str, told_by: dict[str, Any] | None, event_id: int | None = None) -> None:  # fmt: skip
    """Rows that hold ids only: a customer erased before they go leaves them as work still owed."""
    said = []
    for kind, user_id in people:
        payload: dict[str, Any] = {
            "render": notices.COMPLAINT, "team_id": complaint.team_id, "user_id": user_id, "kind": kind,
            "complaint_id": complaint.id, "event_id": event_id, "default_tz": default_tz,
            notices.NAMES: [],  # ids only: an erasure leaves them (the renderer drops a lead's alert)
        }  # fmt: skip
        if told_by is not None and told_by["user_id"] != user_id:
            payload["if_refused"] = told_by
        key = f"{notices.COMPLAINT}:{complaint.id}:{event_id or 'new'}:{kind}:{user_id}"
        said.append(notices.Said(user_id, key, payload))
    notices.say(session=session, now=now, team_id=complaint.team_id, said=said)


def announce_new(
    *, session: Session, complaint_id: int, notifier: Notifier, render: Render, now: dt.datetime,
    default_tz: str = "UTC",
) -> Announced:  # fmt: skip
    """Post a new complaint in the complaints channel, if the team has one: the post whose
    thread follows the complaint (its DMs are `tell_of_new`'s)."""
    complaint = session.get_one(Complaint, complaint_id)
    failed: dict[str, str] = {}
    channel = team_settings(session, complaint.team_id).complaints_channel
    if channel:
        view = card(session=session, complaint=complaint, now=now, default_tz=default_tz)
        ts = _tell(failed, channel, lambda: notifier.post(channel, **render(view, "channel", None)))
        if ts:
            complaint.channel_id, complaint.thread_ts = channel, ts
            session.flush()
    return Announced(failed)


def get_complaint(*, session: Session, viewer: Viewer, complaint_id: int) -> Complaint:
    return access.complaint(session, viewer, complaint_id)


def find_complaint(*, session: Session, viewer: Viewer, ref: str) -> Complaint:
    """`#N` (or `N`) among the complaints the viewer sees; another team's number is "no such
    complaint"."""
    m = re.fullmatch(r"#?(\d{1,18})", ref.strip())
    if not m:
        raise UserError("complaint.resolve.usage")
    if int(m.group(1)) > INTEGER_MAX:
        raise UserError("error.complaint.none", number=int(m.group(1)))
    complaint = session.scalar(
        select(Complaint).where(Complaint.team_id == viewer.team_id, Complaint.number == int(m.group(1)))
    )
    if complaint is None:
        raise UserError("error.complaint.none", number=int(m.group(1)))
    access.check_complaint(session, viewer, complaint)
    return complaint


def check_can(complaint: Complaint, action: str) -> None:
    """Refuse an action the complaint's state does not allow, naming the state."""
    allowed, _ = TRANSITIONS[action]
    if complaint.state not in allowed:
        raise UserError(f"error.complaint.is.{complaint.state}", number=complaint.number)


def change_state(
    *, session: Session, viewer: Viewer, complaint_id: int, action: str, surface: str, now: dt.datetime,
    resolution: ResolveInput | None = None, default_tz: str = "UTC",
) -> ComplaintCard:  # fmt: skip
    """Move a complaint the viewer sees along the state machine; one of two concurrent changes
    wins. The card's `event` is the change (for `tell_of_change` and `announce_change`).

    The UPDATE only applies while the state is still the one read here, so when two people
    press Resolve at once the second finds no row to change and is told the new state.
    """
    if action not in TRANSITIONS:
        raise UserError("error.generic")
    team_id = viewer.team_id
    complaint = access.complaint(session, viewer, complaint_id)
    check_can(complaint, action)
    _, to_state = TRANSITIONS[action]
    calendar, policy = team_rules(session, team_id, default_tz)
    clock = policy.clock(complaint.severity, calendar)
    target = policy.targets[complaint.severity]
    from_state, number = complaint.state, complaint.number
    values: dict[str, Any] = {"state": to_state, "updated_at": now}
    if action != "reopen" and complaint.first_response_at is None:
        values["first_response_at"] = now  # any move but reopen means the customer heard from us
    if complaint.paused_at is not None and to_state != "waiting":
        # leaving "waiting on customer": the deadline moves by the business time spent waiting
        values["paused_at"] = None
        if complaint.resolution_due is not None:
            values["resolution_due"] = clock.add(complaint.resolution_due, clock.between(complaint.paused_at, now))
    if to_state == "waiting":
        values["paused_at"] = now
    if action == "resolve":
        assert resolution is not None
        values.update(resolved_at=now, resolution=resolution.resolution, satisfaction=resolution.satisfaction)
    elif action == "close":
        values["closed_at"] = now
    elif action == "reopen":
        values.update(
            cycle=complaint.cycle + 1, escalation_level=0, resolved_at=None, closed_at=None, paused_at=None,
            resolution_clock_started_at=now, resolution_due=clock.add(now, target.resolution),
        )  # fmt: skip
    result = session.execute(
        update(Complaint)
        .where(Complaint.id == complaint.id, Complaint.team_id == team_id, Complaint.state == from_state)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        raise UserError(f"error.complaint.is.{_current_state(session, complaint_id)}", number=number)
    note = resolution.resolution if resolution else None
    event = ComplaintEvent(team_id=team_id, complaint_id=complaint.id, actor_id=viewer.user_id, kind="state",
                           from_state=from_state, to_state=to_state, note=note, at=now)  # fmt: skip
    session.add(event)
    audit.record(session=session, team_id=team_id, actor_id=viewer.user_id, action="update", entity="complaint",
                 entity_id=complaint.id, surface=surface, changes={"state": [from_state, to_state]})  # fmt: skip
    session.flush()
    session.refresh(complaint)
    customer = session.get_one(Customer, complaint.customer_id)
    return ComplaintCard(complaint, customer, clocks(complaint, now, calendar, policy), event)


def announce_change(
    *, session: Session, complaint_id: int, event_id: int, notifier: Notifier, render: Render, now: dt.datetime,
    default_tz: str = "UTC",
) -> Announced:  # fmt: skip
    """After a change: a line in the complaints channel's thread (its DMs are `tell_of_change`'s)."""
    complaint = session.get_one(Complaint, complaint_id)
    event = session.get_one(ComplaintEvent, event_id)
    view = card(session=session, complaint=complaint, now=now, default_tz=default_tz, event=event)
    failed: dict[str, str] = {}
    if complaint.channel_id and complaint.thread_ts:
        channel, thread = complaint.channel_id, complaint.thread_ts
        _tell(failed, channel, lambda: notifier.post(channel, thread_ts=thread, **render(view, "update", None)))
    return Announced(failed)


def _current_state(session: Session, complaint_id: int) -> str:
    return session.scalar(select(Complaint.state).where(Complaint.id == complaint_id)) or "gone"


# --- lists ----------------------------------------------------------------------------------------

LIST_LIMIT = 25
LIST_VIEWS = ("open", "overdue", "mine")


def list_complaints(
    *, session: Session, viewer: Viewer, view: str = "open", now: dt.datetime, default_tz: str = "UTC"
) -> list[ComplaintCard]:
    """Active complaints the viewer sees (all, overdue only, or assigned to them), most urgent
    first: overdue ones first, then by the deadline that runs first (a resolution's missed
    before a pause counts; none: last), severity and number. The database keeps that deadline
    and rank on each row (`Complaint.list_due`, `list_rank`) and walks them in an index to the
    first `LIST_LIMIT`, so a team with thousands of open complaints costs what a page costs."""
    team_id = viewer.team_id
    calendar, policy = team_rules(session, team_id, default_tz)
    limits = overdue_limits(now, calendar, policy)
    # `list_due` is NULL once a complaint is no longer active: IS NOT NULL is the active ones.
    query = select(Complaint.id).where(Complaint.team_id == written(team_id), Complaint.list_due.is_not(None),
                                       viewer.complaints())  # fmt: skip
    if view == "mine":
        query = query.where(Complaint.assignee_id == viewer.user_id)
    order = (Complaint.list_due, Complaint.list_rank, Complaint.number)
    if len(set(limits.values())) == 1:  # the usual case: one calendar, or now is in working hours
        overdue: ColumnElement[bool] = Complaint.list_due <= next(iter(limits.values()))
        # The order puts the overdue ones first by itself: theirs are the earliest deadlines.
        ids = list(session.scalars((query.where(overdue) if view == "overdue" else query)
                                   .order_by(*order).limit(LIST_LIMIT)))  # fmt: skip
    else:  # a severity counts on another calendar, whose working time starts at another instant
        stamp = Complaint.list_due.type
        limit = case({s: literal(at, stamp) for s, at in limits.items()}, value=Complaint.severity,
                     else_=literal(now, stamp))  # fmt: skip
        overdue = Complaint.list_due <= limit
        # Each walk starts or stops where every severity agrees (a range of the index).
        earliest, latest = min(*limits.values(), now), max(*limits.values(), now)
        late = query.where(Complaint.list_due <= latest, overdue)
        ids = list(session.scalars(late.order_by(*order).limit(LIST_LIMIT)))
        if view != "overdue" and len(ids) < LIST_LIMIT:
            rest = query.where(Complaint.list_due > earliest, ~overdue)
            ids += session.scalars(rest.order_by(*order).limit(LIST_LIMIT - len(ids)))
    # A complaint erased since the walk (PostgreSQL reads each statement as of its own start) is left out.
    found = {row.id: row for row in rows(session, _listed(), {"ids": ids})} if ids else {}
    cards = []
    for row in (found[i] for i in ids if i in found):
        line = ComplaintLine(*row[: len(COMPLAINT_LINE)])
        cards.append(ComplaintCard(line, CustomerName(*row[len(COMPLAINT_LINE) :]), clocks(line, now, calendar, policy)))
    return cards


@cache
def _listed() -> Select[Any]:
    """The page's complaints with their customers' names, by id, as the list shows them
    (services.items.ComplaintLine, then CustomerName): built once (every list asks), the ids
    bound. By primary key alone: with `team_id` too, SQLite may walk the team's index instead."""
    return (select(*COMPLAINT_LINE, *CUSTOMER_NAME).join(Customer, Customer.id == Complaint.customer_id)
            .where(Complaint.id.in_(bindparam("ids", expanding=True))))  # fmt: skip


FAR = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)  # `list_due` of a complaint without a running deadline


def overdue_limits(now: dt.datetime, calendar: BusinessCalendar, policy: SlaPolicy) -> dict[str, dt.datetime]:
    """For each severity, the instant at or before which a complaint's `list_due` makes it
    overdue (`sla.clocks`'s `overdue`): a running clock has no working time left when its
    deadline is at or before the first working instant from `now` on the severity's calendar
    (`now` itself on a 24/7 calendar or in working hours). A resolution clock paused after its
    deadline had passed stays overdue: its `list_due` is at most that deadline, before `now`."""
    return {severity: _first_working_instant(policy.clock(severity, calendar), now) for severity in policy.targets}


def _first_working_instant(calendar: BusinessCalendar, now: dt.datetime) -> dt.datetime:
    """The first instant from `now` at which the calendar's clock runs (a deadline at or before
    it has no working time left)."""
    try:
        return calendar.next_working_instant(now)
    except ValueError:  # no working hours at all: no clock ever counts down, every deadline is reached
        return FAR - dt.timedelta(days=1)


def open_complaints_of(
    *, session: Session, viewer: Viewer, customer_id: int, now: dt.datetime, default_tz: str = "UTC"
) -> list[ComplaintCard]:
    """A customer's active complaints with their clocks (for the profile card)."""
    customer = access.customer(session, viewer, customer_id)
    calendar, policy = team_rules(session, viewer.team_id, default_tz)
    values = {"team_id": viewer.team_id, "customer_id": customer_id}
    lines = [ComplaintLine(*row) for row in rows(session, _customers_open(), values)]
    return [ComplaintCard(line, customer, clocks(line, now, calendar, policy)) for line in lines]


@cache
def _customers_open() -> Select[Any]:
    """A customer's active complaints as the card's list of them shows them
    (services.items.ComplaintLine): built once (every profile card asks), its values bound."""
    return (select(*COMPLAINT_LINE)
            .where(Complaint.team_id == bindparam("team_id", type_=String()),
                   Complaint.customer_id == bindparam("customer_id", type_=Integer()),
                   Complaint.state.in_(ACTIVE))
            .order_by(Complaint.number))  # fmt: skip


# --- escalations (the scheduler's) ------------------------------------------------------------


LOCK_BATCH = 500  # complaints locked per statement by the escalation scan


def escalations_due(
    *, session: Session, team_id: str, now: dt.datetime, default_tz: str = "UTC", ids: list[int] | None = None
) -> list[tuple[Complaint, list[Escalation]]]:
    """Every active complaint of the team with the steps due now (for the scheduler). Given
    `ids`, those complaints alone, locked and read afresh with their events: the steps due
    once no one else can record one."""
    calendar, policy = team_rules(session, team_id, default_tz)
    query = (
        select(Complaint)
        .where(Complaint.team_id == team_id, Complaint.state.in_(ACTIVE))
        .options(selectinload(Complaint.events))
    )
    if ids is None:
        rows: Iterable[Complaint] = session.scalars(query)
    else:  # in batches, in one id order (a backlog after downtime can be thousands)
        ids, locked = sorted(ids), query.order_by(Complaint.id).with_for_update(of=Complaint)
        locked = locked.execution_options(populate_existing=True)
        rows = [c for start in range(0, len(ids), LOCK_BATCH)
                for c in session.scalars(locked.where(Complaint.id.in_(ids[start : start + LOCK_BATCH])))]  # fmt: skip
    out = []
    for c in rows:
        due = due_escalations(c, now, calendar, policy)
        if due:
            out.append((c, due))
    return out


def teams_with_steps_due(
    *, session: Session, settings: Mapping[str, TeamSettings], now: dt.datetime, default_tz: str = "UTC"
) -> set[str]:
    """Of these workspaces (with their settings), those with a warning or escalation level due at
    `now`: `escalations_due`'s rule told for many workspaces at once, in two statements (their
    active complaints' clocks, and the steps sent in them), so that a quiet minute reads no
    workspace's complaints one by one. A workspace whose rules cannot be applied is among them:
    the job decides, and fails, for it alone."""
    if not settings:
        return set()
    values = {"teams": list(settings)}
    sent: dict[int, list[str | None]] = defaultdict(list)
    for complaint_id, note in rows(session, _steps_sent_in_active(), values):  # first: a step sent meanwhile keeps
        sent[complaint_id].append(note)  # a workspace in (the job decides), never leaves one out
    rules: dict[str, tuple[BusinessCalendar, SlaPolicy]] = {}
    due: set[str] = set()
    for line in [ClockLine(*row) for row in rows(session, _clocks_of_active(), values)]:
        if line.team_id in due:
            continue
        try:
            if line.team_id not in rules:
                calendar = team_calendar(settings[line.team_id], default_tz)
                rules[line.team_id] = calendar, team_policy(settings[line.team_id], calendar)
            if steps_due(line, now, *rules[line.team_id], steps_sent(line.cycle, sent.get(line.id, ()))):
                due.add(line.team_id)
        except Exception:  # noqa: BLE001 - e.g. a time zone the settings name and this machine lacks
            due.add(line.team_id)
    return due


@cache
def _clocks_of_active() -> Select[Any]:
    """The active complaints of some workspaces, as their clocks read them: built once, the
    workspaces bound."""
    return select(*CLOCK_LINE).where(Complaint.team_id.in_(bindparam("teams", expanding=True)),
                                     Complaint.state.in_(sorted(ACTIVE)))  # fmt: skip


@cache
def _steps_sent_in_active() -> Select[Any]:
    """The escalation steps recorded in the active complaints of some workspaces (every cycle's:
    `sla.steps_sent` keeps the current one's)."""
    return (select(ComplaintEvent.complaint_id, ComplaintEvent.note)
            .join(Complaint, Complaint.id == ComplaintEvent.complaint_id)
            .where(Complaint.team_id.in_(bindparam("teams", expanding=True)), Complaint.state.in_(sorted(ACTIVE)),
                   ComplaintEvent.kind == "escalated"))  # fmt: skip


def escalation_recipients(*, session: Session, complaint: Complaint, escalation: Escalation) -> list[str]:
    """Who an escalation step goes to: user ids (DMs) and channel ids, without repeats.

    Leads are members with role "lead"; admins are members with role "admin" or Slack admins.
    """
    ids: list[str | None] = []
    if escalation.recipients in ("assignee", "assignee_and_owner"):
        ids.append(complaint.assignee_id)
    if escalation.recipients == "assignee_and_owner":
        customer = session.get(Customer, complaint.customer_id)
        ids.append(customer.owner_id if customer else None)
    members = select(Member.user_id).where(Member.team_id == complaint.team_id).order_by(Member.user_id)
    if escalation.recipients == "leads_and_channel":
        ids.extend(session.scalars(members.where(Member.role == "lead")))
        ids.append(team_settings(session, complaint.team_id).escalation_channel)
    if escalation.recipients == "admins":
        ids.extend(session.scalars(members.where((Member.role == "admin") | Member.is_slack_admin.is_(True))))
    return list(dict.fromkeys(i for i in ids if i))


def record_escalation(*, session: Session, complaint: Complaint, escalation: Escalation, now: dt.datetime) -> None:
    """Remember that a step was sent, so it is not sent again in this cycle."""
    session.add(ComplaintEvent(
        team_id=complaint.team_id, complaint_id=complaint.id, actor_id=None, kind="escalated",
        note=f"{complaint.cycle}:{escalation.step}", at=now,
    ))  # fmt: skip
    complaint.escalation_level = max(complaint.escalation_level or 0, escalation.level)
    session.flush()
    session.refresh(complaint, ["events"])


