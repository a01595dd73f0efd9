"""Complaints: logging, the state machine, SLA clocks in business hours, escalation rules.

States: open → acknowledged → waiting (on customer) ⇄ in_progress → resolved → closed;
resolved and closed can be reopened. Every change is a `ComplaintEvent` (who, when, from, to).

SLA clocks (targets per severity in `TeamSettings.sla`, counted in the team's business
calendar, or 24/7 when a severity has `calendar_hours`):
- first response: runs from logging until the first response (acknowledge, or any later
  state); only in the first cycle.
- resolution: runs from logging (or from the latest reopen: a new cycle) until resolved.
  While the complaint waits on the customer the clock is paused: on leaving that state the
  deadline moves by the business time spent waiting.
A target "3d" means three business days, and a business day is the length of the team's
first working weekday (09:00–18:00: 9 h), so "3d" is 27 business hours.

The time "used" of a clock is always `target - business time from now to the deadline`,
so a moved deadline carries every pause with it.
Escalation steps (each at most once per complaint and cycle, recorded as an "escalated" event):
warning at `sla_warning_share` of a target, level 1 at a breach of either target, level 2 at
`escalation_level2_share` × the resolution target or at the second reopen, level 3 at
`escalation_level3_share` × the resolution target. `due_escalations` is the pure rule; the
scheduler delivers and calls `record_escalation`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from bot.notify import Notifier
from bot.services import audit
from bot.services.calendar import BusinessCalendar
from bot.services.customers import EVERYONE, Viewer
from bot.services.errors import FieldErrors, UserError
from bot.services.workspaces import (
    TeamSettings,
    default_sla,
    next_number,
    team_settings,
)
from bot.storage.models import Complaint, ComplaintEvent, Customer, utcnow

SEVERITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
CATEGORIES: tuple[str, ...] = ("product", "service", "delivery", "billing", "other")
STATES: tuple[str, ...] = ("open", "acknowledged", "waiting", "in_progress", "resolved", "closed")
ACTIVE: frozenset[str] = frozenset({"open", "acknowledged", "waiting", "in_progress"})
SEVERITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "acknowledge": (frozenset({"open"}), "acknowledged"),
    "wait": (frozenset({"open", "acknowledged", "in_progress"}), "waiting"),
    "progress": (frozenset({"open", "acknowledged", "waiting"}), "in_progress"),
    "resolve": (ACTIVE, "resolved"),
    "close": (frozenset({"resolved"}), "closed"),
    "reopen": (frozenset({"resolved", "closed"}), "open"),
}

Severity = Literal["low", "normal", "high", "urgent"]
Category = Literal["product", "service", "delivery", "billing", "other"]
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")


# --- policy ---------------------------------------------------------------------------------


def parse_target(text: str, business_day: dt.timedelta) -> dt.timedelta:
    """"30m", "8h", "3d" (business days) -> a duration of working time."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"not a target: {text!r}; e.g. 30m, 8h, 3d")
    amount, unit = float(m.group(1)), m.group(2)
    if unit == "d":
        return business_day * amount
    return dt.timedelta(minutes=amount) if unit == "m" else dt.timedelta(hours=amount)


@dataclass(frozen=True)
class Target:
    first_response: dt.timedelta
    resolution: dt.timedelta
    calendar_hours: bool = False


@dataclass(frozen=True)
class SlaPolicy:
    targets: dict[str, Target]
    warning_share: float = 0.8
    level2_share: float = 1.5
    level3_share: float = 2.0

    def clock(self, severity: str, calendar: BusinessCalendar) -> BusinessCalendar:
        """The calendar a severity's clocks run on."""
        return calendar.twenty_four_seven() if self.targets[severity].calendar_hours else calendar


def team_calendar(settings: TeamSettings, default_tz: str = "UTC") -> BusinessCalendar:
    return BusinessCalendar.build(
        tz=settings.tz or default_tz,
        hours=settings.working_hours,
        country=settings.holidays_country,
        days_off=settings.days_off,
    )


def team_policy(settings: TeamSettings, calendar: BusinessCalendar) -> SlaPolicy:
    day = calendar.standard_day
    # a team that set only some severities keeps the defaults of the others
    targets = {
        severity: Target(
            parse_target(target.first_response, day), parse_target(target.resolution, day), target.calendar_hours
        )
        for severity, target in {**default_sla(), **settings.sla}.items()
    }
    return SlaPolicy(targets, settings.sla_warning_share, settings.escalation_level2_share,
                     settings.escalation_level3_share)  # fmt: skip


def team_rules(session: Session, team_id: str, default_tz: str = "UTC") -> tuple[BusinessCalendar, SlaPolicy]:
    """The team's calendar and policy; `default_tz` (TZ_DEFAULT) until the team sets its own."""
    settings = team_settings(session, team_id)
    calendar = team_calendar(settings, default_tz)
    return calendar, team_policy(settings, calendar)


# --- clocks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clocks:
    """A complaint's deadlines as a person reads them on its card."""

    first_response_due: dt.datetime | None
    first_response_at: dt.datetime | None
    resolution_due: dt.datetime | None
    paused: bool
    resolved_at: dt.datetime | None
    next_deadline: dt.datetime | None  # the nearest running deadline; None when none runs
    overdue: bool
    now: dt.datetime  # the instant these were read at


def _first_clock_runs(c: Complaint) -> bool:
    return c.cycle == 1 and c.first_response_at is None and c.first_response_due is not None


def clocks(c: Complaint, now: dt.datetime, calendar: BusinessCalendar, policy: SlaPolicy) -> Clocks:
    used = clock_use(c, now, calendar, policy)
    target = policy.targets[c.severity]
    running = [d for d in (c.first_response_due if _first_clock_runs(c) else None,
                           c.resolution_due if c.state in ACTIVE and not c.paused_at else None) if d]  # fmt: skip
    overdue = c.state in ACTIVE and (
        (used.first_response is not None and _first_clock_runs(c) and used.first_response >= target.first_response)
        or (used.resolution is not None and used.resolution >= target.resolution)
    )
    return Clocks(
        first_response_due=c.first_response_due,
        first_response_at=c.first_response_at,
        resolution_due=c.resolution_due,
        paused=c.paused_at is not None,
        resolved_at=c.resolved_at,
        next_deadline=min(running) if running else None,
        overdue=bool(overdue),
        now=now,
    )


@dataclass(frozen=True)
class Use:
    """How much of each target has been used (None: that clock is not counted any more)."""

    first_response: dt.timedelta | None
    resolution: dt.timedelta | None


def clock_use(c: Complaint, now: dt.datetime, calendar: BusinessCalendar, policy: SlaPolicy) -> Use:
    target = policy.targets[c.severity]
    cal = policy.clock(c.severity, calendar)
    first = None
    if c.cycle == 1 and c.first_response_due is not None:
        stop = c.first_response_at or now
        first = target.first_response - cal.between(stop, c.first_response_due)
    resolution = None
    if c.state in ACTIVE and c.resolution_due is not None:
        stop = c.paused_at or now
        resolution = target.resolution - cal.between(stop, c.resolution_due)
    return Use(first, resolution)


# --- escalation rules -------------------------------------------------------------------------

Recipients = Literal["assignee", "assignee_and_owner", "leads_and_channel", "admins"]


@dataclass(frozen=True)
class Escalation:
    step: str  # warning.first_response, warning.resolution, level1, level2, level3
    level: int  # 0 for a warning
    recipients: Recipients


def sent_steps(c: Complaint) -> set[str]:
    """Steps already sent in the complaint's current cycle."""
    prefix = f"{c.cycle}:"
    return {e.note[len(prefix):] for e in c.events if e.kind == "escalated" and e.note and e.note.startswith(prefix)}


def due_escalations(c: Complaint, now: dt.datetime, calendar: BusinessCalendar, policy: SlaPolicy) -> list[Escalation]:
    """The warning and levels due at `now` and not sent yet in this cycle, lowest first."""
    if c.state not in ACTIVE:
        return []
    target = policy.targets[c.severity]
    use = clock_use(c, now, calendar, policy)
    fr, res = use.first_response, use.resolution
    fr_running = _first_clock_runs(c)
    first_breached = fr is not None and fr >= target.first_response
    res_breached = res is not None and res >= target.resolution
    candidates: list[Escalation] = []
    if fr_running and fr is not None and not first_breached and fr >= target.first_response * policy.warning_share:
        candidates.append(Escalation("warning.first_response", 0, "assignee"))
    if res is not None and not res_breached and res >= target.resolution * policy.warning_share:
        candidates.append(Escalation("warning.resolution", 0, "assignee"))
    if first_breached or res_breached:
        candidates.append(Escalation("level1", 1, "assignee_and_owner"))
    if (res is not None and res >= target.resolution * policy.level2_share) or c.cycle >= 3:
        candidates.append(Escalation("level2", 2, "leads_and_channel"))
    if res is not None and res >= target.resolution * policy.level3_share:
        candidates.append(Escalation("level3", 3, "admins"))
    sent = sent_steps(c)
    return [e for e in candidates if e.step not in sent]


def escalation_times(c: Complaint, calendar: BusinessCalendar, policy: SlaPolicy) -> dict[str, dt.datetime]:
    """When each step falls due on the clocks that run now (none while paused or stopped):
    the scheduler can wake then; `due_escalations` remains the rule."""
    if c.state not in ACTIVE:
        return {}
    target, cal = policy.targets[c.severity], policy.clock(c.severity, calendar)
    times: dict[str, dt.datetime] = {}
    breaches = []
    if _first_clock_runs(c):
        assert c.first_response_due is not None
        times["warning.first_response"] = cal.subtract(c.first_response_due,
                                                       target.first_response * (1 - policy.warning_share))
        breaches.append(c.first_response_due)
    if c.resolution_due is not None and c.paused_at is None:
        due, res = c.resolution_due, target.resolution
        times["warning.resolution"] = cal.subtract(due, res * (1 - policy.warning_share))
        breaches.append(due)
        times["level2"] = cal.add(due, res * (policy.level2_share - 1))
        times["level3"] = cal.add(due, res * (policy.level3_share - 1))
    if breaches:
        times["level1"] = min(breaches)
    return dict(sorted(times.items(), key=lambda item: item[1]))


def record_escalation(*, session: Session, complaint: Complaint, escalation: Escalation, now: dt.datetime) -> None:
    """Remember that a step was sent, so it is not sent again in this cycle."""
    session.add(ComplaintEvent(
        team_id=complaint.team_id, complaint_id=complaint.id, actor_id=None, kind="escalated",
        note=f"{complaint.cycle}:{escalation.step}", at=now,
    ))  # fmt: skip
    complaint.escalation_level = max(complaint.escalation_level or 0, escalation.level)
    session.flush()
    session.refresh(complaint, ["events"])


def escalation_recipients(*, session: Session, complaint: Complaint, escalation: Escalation) -> list[str]:
    """Who an escalation step goes to: user ids (DMs) and channel ids, without repeats.

    Leads are members with role "lead"; admins are members with role "admin" or Slack admins.
    """
    from bot.storage.models import Member

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


def open_complaints_of(
    *, session: Session, team_id: str, customer_id: int, default_tz: str = "UTC"
) -> list[ComplaintCard]:
    """A customer's active complaints with their clocks (for the profile card)."""
    calendar, policy = team_rules(session, team_id, default_tz)
    customer = session.scalar(select(Customer).where(Customer.team_id == team_id, Customer.id == customer_id))
    if customer is None:
        return []
    rows = session.scalars(select(Complaint).where(
        Complaint.team_id == team_id, Complaint.customer_id == customer_id, Complaint.state.in_(ACTIVE)
    ).order_by(Complaint.number))  # fmt: skip
    now = utcnow()
    return [ComplaintCard(c, customer, clocks(c, now, calendar, policy)) for c in rows]


def escalations_due(
    *, session: Session, team_id: str, now: dt.datetime, default_tz: str = "UTC"
) -> list[tuple[Complaint, list[Escalation]]]:
    """Every active complaint of the team with the steps due now (for the scheduler)."""
    calendar, policy = team_rules(session, team_id, default_tz)
    rows = session.scalars(
        select(Complaint)
        .where(Complaint.team_id == team_id, Complaint.state.in_(ACTIVE))
        .options(selectinload(Complaint.events))
    )
    out = []
    for c in rows:
        due = due_escalations(c, now, calendar, policy)
        if due:
            out.append((c, due))
    return out


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


# --- rendering hook -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplaintCard:
    """What a message about a complaint shows: the complaint, its customer, its clocks, and the
    change that caused the message (None for the complaint itself)."""

    complaint: Complaint
    customer: Customer
    clocks: Clocks
    event: ComplaintEvent | None = None


# render(card, kind, recipient_user_id) -> {"text": ..., "blocks": [...]}; kinds: "assignee",
# "author", "channel", "update". Services stay free of Block Kit; handlers pass blocks' builders.
Render = Callable[[ComplaintCard, str, str | None], dict[str, Any]]


def card(*, session: Session, complaint: Complaint, now: dt.datetime | None = None, default_tz: str = "UTC",
         event: ComplaintEvent | None = None) -> ComplaintCard:  # fmt: skip
    calendar, policy = team_rules(session, complaint.team_id, default_tz)
    customer = session.get_one(Customer, complaint.customer_id)
    return ComplaintCard(complaint, customer, clocks(complaint, now or utcnow(), calendar, policy), event)


# --- commands -------------------------------------------------------------------------------------


def create_complaint(
    *, session: Session, team_id: str, actor_id: str, data: ComplaintInput, permalink: str | None,
    surface: str, notifier: Notifier, render: Render, viewer: Viewer = EVERYONE, default_tz: str = "UTC",
) -> ComplaintCard:  # fmt: skip
    """Log a complaint: number it, start its clocks, tell the assignee (and the channel)."""
    settings = team_settings(session, team_id)  # creates the workspace on first contact
    customer = session.scalar(
        select(Customer).where(Customer.team_id == team_id, Customer.id == data.customer, viewer.condition(team_id))
    )
    if customer is None:
        raise FieldErrors.one("customer", "error.customer.gone")
    now = utcnow()
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
        author_id=actor_id,
        assignee_id=data.assignee_id or customer.owner_id or actor_id,
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
    event = ComplaintEvent(team_id=team_id, complaint_id=complaint.id, actor_id=actor_id, kind="created",
                           to_state="open", at=now)  # fmt: skip
    session.add(event)
    audit.record(session=session, team_id=team_id, actor_id=actor_id, action="create", entity="complaint",
                 entity_id=complaint.id, surface=surface, changes={"number": [None, complaint.number]})  # fmt: skip
    session.flush()
    view = ComplaintCard(complaint, customer, clocks(complaint, now, calendar, policy))
    assignee = complaint.assignee_id
    if assignee:
        notifier.dm(assignee, **render(view, "assignee", assignee))
    if actor_id != assignee:
        notifier.dm(actor_id, **render(view, "author", actor_id))
    if settings.complaints_channel:
        ts = notifier.post(settings.complaints_channel, **render(view, "channel", None))
        complaint.channel_id, complaint.thread_ts = settings.complaints_channel, ts
        session.flush()
    return view


def get_complaint(*, session: Session, team_id: str, complaint_id: int) -> Complaint:
    complaint = session.scalar(select(Complaint).where(Complaint.team_id == team_id, Complaint.id == complaint_id))
    if complaint is None:
        raise UserError("error.complaint.gone")
    return complaint


def find_complaint(*, session: Session, team_id: str, ref: str) -> Complaint:
    """`#N` (or `N`) within the team; another team's number is "no such complaint"."""
    m = re.fullmatch(r"#?(\d+)", ref.strip())
    if not m:
        raise UserError("complaint.resolve.usage")
    complaint = session.scalar(
        select(Complaint).where(Complaint.team_id == team_id, Complaint.number == int(m.group(1)))
    )
    if complaint is None:
        raise UserError("error.complaint.none", number=int(m.group(1)))
    return complaint


def check_can(complaint: Complaint, action: str) -> None:
    """Refuse an action the complaint's state does not allow, naming the state."""
    allowed, _ = TRANSITIONS[action]
    if complaint.state not in allowed:
        raise UserError(f"error.complaint.is.{complaint.state}", number=complaint.number)


def change_state(
    *, session: Session, team_id: str, actor_id: str, complaint_id: int, action: str, surface: str,
    notifier: Notifier, render: Render, resolution: ResolveInput | None = None, default_tz: str = "UTC",
) -> ComplaintCard:  # fmt: skip
    """Move a complaint along the state machine; one of two concurrent changes wins.

    The UPDATE only applies while the state is still the one read here, so when two people
    press Resolve at once the second finds no row to change and is told the new state.
    """
    if action not in TRANSITIONS:
        raise UserError("error.generic")
    complaint = get_complaint(session=session, team_id=team_id, complaint_id=complaint_id)
    check_can(complaint, action)
    _, to_state = TRANSITIONS[action]
    calendar, policy = team_rules(session, team_id, default_tz)
    clock = policy.clock(complaint.severity, calendar)
    target = policy.targets[complaint.severity]
    now = utcnow()
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
    event = ComplaintEvent(team_id=team_id, complaint_id=complaint.id, actor_id=actor_id, kind="state",
                           from_state=from_state, to_state=to_state, note=note, at=now)  # fmt: skip
    session.add(event)
    audit.record(session=session, team_id=team_id, actor_id=actor_id, action="update", entity="complaint",
                 entity_id=complaint.id, surface=surface, changes={"state": [from_state, to_state]})  # fmt: skip
    session.flush()
    session.refresh(complaint)
    customer = session.get_one(Customer, complaint.customer_id)
    view = ComplaintCard(complaint, customer, clocks(complaint, now, calendar, policy), event)
    if complaint.channel_id and complaint.thread_ts:
        notifier.post(complaint.channel_id, thread_ts=complaint.thread_ts, **render(view, "update", None))
    if action == "resolve" and resolution and resolution.satisfaction is not None:
        _alert_low_satisfaction(session, view, actor_id, notifier, render)
    return view


def _alert_low_satisfaction(
    session: Session, view: ComplaintCard, actor_id: str, notifier: Notifier, render: Render
) -> None:
    """A customer unhappy with how their complaint was resolved: the team leads hear at once."""
    from bot.services import satisfaction

    if (view.complaint.satisfaction or 5) > satisfaction.ALERT_AT_OR_BELOW:
        return
    for lead in satisfaction.team_leads(session=session, team_id=view.complaint.team_id):
        if lead != actor_id:
            notifier.dm(lead, **render(view, "low_satisfaction", lead))


def _current_state(session: Session, complaint_id: int) -> str:
    return session.scalar(select(Complaint.state).where(Complaint.id == complaint_id)) or "gone"


# --- lists ----------------------------------------------------------------------------------------

LIST_LIMIT = 25
LIST_VIEWS = ("open", "overdue", "mine")


def list_complaints(
    *, session: Session, team_id: str, user_id: str, view: str = "open", now: dt.datetime | None = None,
    default_tz: str = "UTC",
) -> list[ComplaintCard]:
    """Active complaints (all, overdue only, or assigned to `user_id`), most urgent first."""
    now = now or utcnow()
    calendar, policy = team_rules(session, team_id, default_tz)
    query = select(Complaint).where(Complaint.team_id == team_id, Complaint.state.in_(ACTIVE))
    if view == "mine":
        query = query.where(Complaint.assignee_id == user_id)
    rows = list(session.scalars(query.order_by(Complaint.number)))
    customers = {c.id: c for c in session.scalars(
        select(Customer).where(Customer.team_id == team_id, Customer.id.in_({r.customer_id for r in rows}))
    )}  # fmt: skip
    cards = [ComplaintCard(c, customers[c.customer_id], clocks(c, now, calendar, policy)) for c in rows]
    if view == "overdue":
        cards = [c for c in cards if c.clocks.overdue]
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    cards.sort(key=lambda k: (not k.clocks.overdue, k.clocks.next_deadline or far,
                              SEVERITY_RANK.get(k.complaint.severity, 9), k.complaint.number))  # fmt: skip
    return cards[:LIST_LIMIT]
