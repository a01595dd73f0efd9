"""The SLA policy and the escalation rule as pure functions (no database, no Slack)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.services.calendar import BusinessCalendar
from bot.services.sla import (
    clock_use,
    due_escalations,
    escalation_times,
    parse_target,
    team_calendar,
    team_policy,
)
from bot.services.workspaces import TeamSettings
from bot.storage.models import Complaint, ComplaintEvent

H = dt.timedelta(hours=1)
UTC = dt.UTC
MONDAY_9 = dt.datetime(2026, 11, 23, 9, tzinfo=UTC)  # 09:00-18:00 Mon-Fri, UTC


def make(severity: str = "normal", *, opened: dt.datetime = MONDAY_9, settings: TeamSettings | None = None,
         **fields: object) -> tuple[Complaint, BusinessCalendar, object]:  # fmt: skip
    settings = settings or TeamSettings()
    calendar = team_calendar(settings)
    policy = team_policy(settings, calendar)
    target, clock = policy.targets[severity], policy.clock(severity, calendar)
    c = Complaint(
        team_id="T1", number=1, customer_id=1, title="x", severity=severity, state="open", author_id="U1",
        opened_at=opened, first_response_due=clock.add(opened, target.first_response),
        resolution_clock_started_at=opened, resolution_due=clock.add(opened, target.resolution),
        cycle=1, escalation_level=0,
    )  # fmt: skip
    for key, value in fields.items():
        setattr(c, key, value)
    return c, calendar, policy


def steps(c, at, calendar, policy) -> list[str]:
    return [e.step for e in due_escalations(c, at, calendar, policy)]


def test_targets_read_minutes_hours_and_business_days():
    day = dt.timedelta(hours=7, minutes=30)
    assert parse_target("30m", day) == dt.timedelta(minutes=30)
    assert parse_target("8h", day) == 8 * H
    assert parse_target("3d", day) == dt.timedelta(hours=22, minutes=30)
    assert parse_target("1.5h", day) == dt.timedelta(minutes=90)
    for bad in ("", "3", "3 weeks", "-1h", "h"):
        with pytest.raises(ValueError):
            parse_target(bad, day)


def test_default_policy_is_the_one_the_issue_names():
    policy = team_policy(TeamSettings(), team_calendar(TeamSettings()))
    got = {s: (t.first_response, t.resolution) for s, t in policy.targets.items()}
    assert got == {"urgent": (1 * H, 8 * H), "high": (4 * H, 24 * H), "normal": (8 * H, 27 * H),
                   "low": (24 * H, 90 * H)}  # fmt: skip
    assert (policy.warning_share, policy.level2_share, policy.level3_share) == (0.8, 1.5, 2.0)


def test_a_team_that_sets_one_severity_keeps_the_others():
    settings = TeamSettings.model_validate({"sla": {"urgent": {"first_response": "30m", "resolution": "4h",
                                                                "calendar_hours": True}}})  # fmt: skip
    policy = team_policy(settings, team_calendar(settings))
    assert policy.targets["urgent"].first_response == dt.timedelta(minutes=30)
    assert policy.targets["normal"].resolution == 27 * H


def test_urgent_on_calendar_hours_runs_through_the_night_and_the_weekend():
    settings = TeamSettings.model_validate({"sla": {"urgent": {"first_response": "1h", "resolution": "8h",
                                                                "calendar_hours": True}}})  # fmt: skip
    saturday_night = dt.datetime(2026, 11, 28, 23, tzinfo=UTC)
    c, calendar, policy = make("urgent", opened=saturday_night, settings=settings)
    assert c.first_response_due == saturday_night + H
    assert steps(c, saturday_night + dt.timedelta(minutes=47), calendar, policy) == []
    assert steps(c, saturday_night + dt.timedelta(minutes=48), calendar, policy) == ["warning.first_response"]
    # the same complaint on business hours waits for Monday
    b, calendar, policy = make("urgent", opened=saturday_night)
    assert b.first_response_due == dt.datetime(2026, 11, 30, 10, tzinfo=UTC)


def test_a_breach_found_late_sends_the_level_not_a_stale_warning():
    c, calendar, policy = make("normal")
    # first response due Monday 17:00; nobody looked until Tuesday
    assert steps(c, dt.datetime(2026, 11, 24, 12, tzinfo=UTC), calendar, policy) == ["level1"]


def test_warning_share_and_level_thresholds_come_from_the_settings():
    settings = TeamSettings(sla_warning_share=0.5, escalation_level2_share=1.25, escalation_level3_share=1.5)
    c, calendar, policy = make("high", settings=settings, first_response_at=MONDAY_9 + H)
    # resolution 24 h: Mon 9, Tue 9, Wed 6 -> Wed 15:00; half of it at Tue 12:00
    assert c.resolution_due == dt.datetime(2026, 11, 25, 15, tzinfo=UTC)
    assert steps(c, dt.datetime(2026, 11, 24, 11, 59, tzinfo=UTC), calendar, policy) == []
    assert steps(c, dt.datetime(2026, 11, 24, 12, tzinfo=UTC), calendar, policy) == ["warning.resolution"]
    # 1.25 x 24 h = 30 h: 6 h past Wed 15:00 -> Thu 12:00; 1.5 x = 36 h -> Thu 18:00 = Fri 09:00
    assert steps(c, dt.datetime(2026, 11, 26, 12, tzinfo=UTC), calendar, policy) == ["level1", "level2"]
    assert steps(c, dt.datetime(2026, 11, 26, 18, tzinfo=UTC), calendar, policy) == ["level1", "level2", "level3"]


def test_steps_sent_in_this_cycle_are_not_due_again_but_a_new_cycle_starts_over():
    c, calendar, policy = make("normal")
    c.events = [ComplaintEvent(kind="escalated", note="1:level1")]
    late = dt.datetime(2026, 11, 24, 12, tzinfo=UTC)
    assert steps(c, late, calendar, policy) == []
    c.cycle = 2  # a reopened complaint: its own resolution clock, the first response clock stopped
    c.first_response_at = MONDAY_9
    c.resolution_due = calendar.add(late, 27 * H)
    assert steps(c, late, calendar, policy) == []
    c.cycle = 3
    assert steps(c, late, calendar, policy) == ["level2"]


def test_paused_clock_uses_nothing_while_waiting():
    c, calendar, policy = make("normal", first_response_at=MONDAY_9 + H, state="waiting", paused_at=MONDAY_9 + 2 * H)
    a_week_later = MONDAY_9 + dt.timedelta(days=7)
    assert clock_use(c, a_week_later, calendar, policy).resolution == 2 * H
    assert steps(c, a_week_later, calendar, policy) == []


@pytest.mark.parametrize("state", ["resolved", "closed"])
def test_nothing_is_due_for_a_resolved_or_closed_complaint(state):
    c, calendar, policy = make("urgent", state=state)
    assert steps(c, MONDAY_9 + dt.timedelta(days=30), calendar, policy) == []


def test_escalation_times_are_exactly_when_the_rule_says_a_step_is_due():
    settings = TeamSettings.model_validate({"tz": "Asia/Shanghai", "holidays_country": "CN",
                                            "working_hours": {d: ["09:00-12:00", "13:30-18:00"]
                                                              for d in ("mon", "tue", "wed", "thu", "fri")}})  # fmt: skip
    opened = dt.datetime(2026, 9, 30, 8, tzinfo=UTC)  # 16:00 in Shanghai, before National Day
    c, calendar, policy = make("normal", opened=opened, settings=settings)
    times = escalation_times(c, calendar, policy)
    cst = dt.timezone(dt.timedelta(hours=8))
    assert {k: v.astimezone(cst).strftime("%m-%d %H:%M") for k, v in times.items()} == {
        "warning.first_response": "10-08 14:54",
        "level1": "10-08 16:30",
        "warning.resolution": "10-10 10:00",  # the make-up Saturday
        "level2": "10-13 10:45",
        "level3": "10-14 16:00",
    }
    us = dt.timedelta(microseconds=1)
    for step, at in times.items():
        assert step not in steps(c, at - us, calendar, policy), step
        assert step in steps(c, at, calendar, policy), step
    c.state, c.paused_at = "waiting", opened
    c.first_response_at = opened
    assert escalation_times(c, calendar, policy) == {}
