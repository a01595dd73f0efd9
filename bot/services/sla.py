"""SLA clocks of complaints in business hours, and the escalation rules.

Targets per severity are in `TeamSettings.sla`, counted in the team's business calendar
(services.calendar), or 24/7 when a severity has `calendar_hours`:
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
scheduler delivers and calls `complaints.record_escalation`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from bot.services.calendar import BusinessCalendar
from bot.services.items import ClockLine, ComplaintLine
from bot.services.workspaces import TeamSettings, default_sla, team_settings
from bot.storage.models import Complaint

# A complaint is active (its clocks may run) or closed (resolved or closed; it may be reopened).
ACTIVE: frozenset[str] = frozenset({"open", "acknowledged", "waiting", "in_progress"})
CLOSED: frozenset[str] = frozenset({"resolved", "closed"})
# What the clocks read a complaint from: its row, or the columns of it that a list or the
# scheduler's escalations read.
Clocked = Complaint | ComplaintLine | ClockLine
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


def _first_clock_runs(c: Clocked) -> bool:
    return c.cycle == 1 and c.first_response_at is None and c.first_response_due is not None


def clocks(c: Complaint | ComplaintLine, now: dt.datetime, calendar: BusinessCalendar, policy: SlaPolicy) -> Clocks:
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


def clock_use(c: Clocked, now: dt.datetime, calendar: BusinessCalendar, policy: SlaPolicy) -> Use:
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
    return steps_sent(c.cycle, (e.note for e in c.events if e.kind == "escalated"))


def steps_sent(cycle: int, notes: Iterable[str | None]) -> set[str]:
    """Of a complaint's "escalated" events' notes (`cycle:step`), the steps of this cycle."""
    prefix = f"{cycle}:"
    return {note[len(prefix):] for note in notes if note and note.startswith(prefix)}


def due_escalations(c: Complaint, now: dt.datetime, calendar: BusinessCalendar, policy: SlaPolicy) -> list[Escalation]:
    """The warning and levels due at `now` and not sent yet in this cycle, lowest first."""
    return steps_due(c, now, calendar, policy, sent_steps(c) if c.state in ACTIVE else set())


def steps_due(
    c: Clocked, now: dt.datetime, calendar: BusinessCalendar, policy: SlaPolicy, sent: set[str]
) -> list[Escalation]:
    """`due_escalations` of a complaint whose steps `sent` in this cycle are known."""
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
    return [e for e in candidates if e.step not in sent]


def still_due(c: Complaint, step: str, cycle: int) -> bool:
    """Whether a step written earlier (and waiting for its recipient's hours) is still worth
    sending: its complaint active in the same cycle, and for the first-response warning, that
    clock still running (not acknowledged meanwhile)."""
    if c.state not in ACTIVE or c.cycle != cycle:
        return False
    return step != "warning.first_response" or _first_clock_runs(c)


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
