"""A minute's jobs narrow the workspaces down before running one workspace at a time
(bot.scheduler.base.CANDIDATES): a workspace with nothing for a job costs a statement for all
of them, not a transaction of its own. That every workspace with work is still visited is what
each job's own tests show (tests/test_escalations.py, test_channels.py, test_lifecycle.py,
test_scheduled_reports.py); these show the quiet ones are left out, and what happens when the
narrowing itself fails."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from bot.metrics import REGISTRY
from bot.scheduler import jobs
from bot.scheduler.base import CANDIDATES, JOBS
from bot.services.channels import WAITING
from bot.services.lifecycle import CHECK_EVERY
from bot.services.satisfaction import checkin_key
from bot.services.workspaces import get_workspace
from bot.storage.db import make_session_factory
from bot.storage.models import ChannelLink, ChannelMessage, Notification, Workspace
from tests.helpers import add_complaint, add_customer
from tests.slackclient import TEAM

QUIET = "T0QUIET01"
NOW = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)  # a Monday, after 09:00 in UTC
NARROWED = ("complaint_escalations", "customer_stages", "response_reminders", "satisfaction_checkins", "weekly_report")


def _busy_and_quiet(session) -> None:
    """TEAM has something for each narrowed job; QUIET has nothing for any."""
    customer = add_customer(session, "Acme Ltd", owner_id="U0OWNER01")
    customer.created_at = NOW - dt.timedelta(days=400)  # never checked in: due
    add_complaint(session, customer.id, "Late delivery", now=NOW - dt.timedelta(days=3))
    link = ChannelLink(team_id=TEAM, channel_id="C0ACME001", customer_id=customer.id, linked_by="U0OWNER01",
                       created_at=NOW - dt.timedelta(days=9))  # fmt: skip
    session.add(link)
    session.flush()
    session.add(ChannelMessage(team_id=TEAM, link_id=link.id, channel_id="C0ACME001", ts="1.000100", thread_key="",
                               speaker_id="U0GUEST01", sent_at=NOW - dt.timedelta(days=2), state=WAITING,
                               due_at=NOW - dt.timedelta(days=1), created_at=NOW - dt.timedelta(days=2)))  # fmt: skip
    get_workspace(session, TEAM).settings = {"report_channel": "C0REPORTS", "tz": "UTC"}
    # QUIET's customer has written too: a message not due yet, and one answered. Its complaint,
    # logged a minute ago, has no warning due yet.
    quiet = add_customer(session, "Quiet Co", team=QUIET, owner_id="U0OWNER02")
    quiet.created_at = NOW - dt.timedelta(days=10)  # its first check-in not due yet
    add_complaint(session, quiet.id, "Slow reply", now=NOW - dt.timedelta(minutes=1), team=QUIET)
    link = ChannelLink(team_id=QUIET, channel_id="C0QUIET01", customer_id=quiet.id, linked_by="U0OWNER02",
                       created_at=NOW - dt.timedelta(days=9))  # fmt: skip
    session.add(link)
    session.flush()
    for ts, state, due in (("2.000100", WAITING, NOW + dt.timedelta(hours=1)), ("2.000200", "answered", NOW)):
        session.add(ChannelMessage(team_id=QUIET, link_id=link.id, channel_id="C0QUIET01", ts=ts, thread_key="",
                                   speaker_id="U0GUEST02", sent_at=NOW - dt.timedelta(hours=2), state=state,
                                   due_at=due, created_at=NOW - dt.timedelta(hours=2)))  # fmt: skip
    get_workspace(session, QUIET).stages_checked_at = NOW - CHECK_EVERY / 2
    session.commit()


def test_each_narrowed_job_keeps_the_workspace_with_work_and_leaves_out_the_quiet_one(session):
    _busy_and_quiet(session)
    for name in NARROWED:
        assert sorted(CANDIDATES[name](session, [QUIET, TEAM], NOW, "UTC")) == [TEAM], name


def test_a_quiet_workspace_is_not_visited_and_a_busy_one_is(session, engine, monkeypatch):
    _busy_and_quiet(session)
    visited: dict[str, list[str]] = {name: [] for name in NARROWED}
    for name in NARROWED:
        def counted(run, team_id, job=JOBS[name], name=name):
            visited[name].append(team_id)
            return job(run, team_id)

        monkeypatch.setitem(JOBS, name, counted)
    written = jobs.run_jobs(make_session_factory(engine), now=NOW, directories=lambda _team: None, only=NARROWED)
    assert visited == {name: [TEAM] for name in NARROWED}
    assert written["weekly_report"] == written["response_reminders"] == written["satisfaction_checkins"] == 1
    assert written["complaint_escalations"] >= 1
    # every step due was sent: until the next one is due, the workspace is left out as well
    assert CANDIDATES["complaint_escalations"](session, [QUIET, TEAM], NOW, "UTC") == []
    assert CANDIDATES["complaint_escalations"](session, [QUIET, TEAM], NOW + dt.timedelta(days=30), "UTC") == [
        QUIET, TEAM]  # fmt: skip


def test_the_hour_after_a_check_the_stages_are_checked_again(session):
    get_workspace(session, QUIET).stages_checked_at = NOW - CHECK_EVERY
    session.commit()
    assert list(CANDIDATES["customer_stages"](session, [QUIET], NOW, "UTC")) == [QUIET]


def test_the_weekly_report_waits_for_monday_nine_in_the_teams_own_time_zone(session):
    get_workspace(session, TEAM).settings = {"report_channel": "C0REPORTS", "tz": "America/New_York"}
    session.commit()
    pick = CANDIDATES["weekly_report"]
    assert list(pick(session, [TEAM], NOW, "UTC")) == []  # 04:30 there
    assert list(pick(session, [TEAM], NOW + dt.timedelta(hours=5), "UTC")) == [TEAM]


def test_a_narrowing_that_fails_runs_the_job_for_every_workspace(session, engine, monkeypatch, caplog):
    get_workspace(session, TEAM)
    get_workspace(session, QUIET)
    session.commit()
    visited: list[str] = []

    def broken(*_args):
        raise RuntimeError("the database went away")

    monkeypatch.setitem(CANDIDATES, "weekly_report", broken)
    monkeypatch.setitem(JOBS, "weekly_report", lambda _run, team_id: visited.append(team_id) or 0)
    failed = {"job": "weekly_report", "outcome": "failed"}
    before = REGISTRY.get_sample_value("touchbase_job_runs_total", failed) or 0
    with caplog.at_level(logging.ERROR, logger="bot.scheduler.jobs"):
        jobs.run_jobs(make_session_factory(engine), now=NOW, directories=lambda _team: None, only=["weekly_report"])
    assert sorted(visited) == sorted(team for (team,) in session.query(Workspace.team_id))
    assert "could not narrow its 2 workspaces down" in caplog.text
    assert REGISTRY.get_sample_value("touchbase_job_runs_total", failed) == before + 1  # seen by those who watch


def _asked(session, team: str, owner: str, day: dt.date) -> None:
    session.add(Notification(team_id=team, key=checkin_key(owner, day), kind="checkin", channel=owner,
                             payload={}, status="sent", due_at=NOW, attempts=1, created_at=NOW))  # fmt: skip


def test_a_check_in_asked_in_utcs_week_is_still_due_where_it_is_last_week(session, engine):
    """Monday 09:30 UTC is Sunday night in Honolulu: its owner, asked in UTC's new week only, is
    due the old week's check-in there, and is asked; asked in both weeks, the team is left out."""
    get_workspace(session, TEAM).settings = {"tz": "Pacific/Honolulu"}
    customer = add_customer(session, "Acme Ltd", owner_id="U0OWNER01")
    customer.created_at = NOW - dt.timedelta(days=400)
    _asked(session, TEAM, "U0OWNER01", NOW.date())
    session.commit()
    assert list(CANDIDATES["satisfaction_checkins"](session, [TEAM], NOW, "UTC")) == [TEAM]
    session.rollback()  # its transaction ended before the job's (on SQLite it holds the write turn)
    factory = make_session_factory(engine)
    assert jobs.run_jobs(factory, now=NOW, directories=lambda _team: None, only=["satisfaction_checkins"]) == {
        "satisfaction_checkins": 1}  # fmt: skip
    sunday = NOW.date() - dt.timedelta(days=1)
    assert session.scalar(select(Notification.key).where(Notification.key == checkin_key("U0OWNER01", sunday)))
    assert list(CANDIDATES["satisfaction_checkins"](session, [TEAM], NOW, "UTC")) == []


def test_an_owner_asked_in_one_workspace_is_still_asked_in_another(session):
    """The same person in two workspaces of an organisation (one user id): asked in one, the
    other's check-in is still due."""
    for team in (TEAM, QUIET):
        customer = add_customer(session, f"Acme {team}", team=team, owner_id="W0OWNER01")
        customer.created_at = NOW - dt.timedelta(days=400)
    for day in (NOW.date() - dt.timedelta(days=1), NOW.date()):
        _asked(session, TEAM, "W0OWNER01", day)
    session.commit()
    assert list(CANDIDATES["satisfaction_checkins"](session, [TEAM, QUIET], NOW, "UTC")) == [QUIET]


def test_a_check_in_due_on_the_teams_own_date_keeps_it_whatever_the_offset_of_now(session, engine):
    """At 12:00 UTC it is already tomorrow in Kiritimati (UTC+14): a grade A customer of 91 days
    and a half is due there, not in UTC. The narrowing reckons each team's date as the job does,
    whatever the offset the instant is given in (`sweep --at` keeps the one typed)."""
    noon = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    get_workspace(session, TEAM).settings = {"tz": "Pacific/Kiritimati"}
    get_workspace(session, QUIET).settings = {"tz": "UTC"}
    for team in (TEAM, QUIET):
        customer = add_customer(session, f"Acme {team}", team=team, grade="A", owner_id="U0OWNER01")
        customer.created_at = dt.datetime(2026, 9, 7, 12, 0, tzinfo=dt.UTC)
    session.commit()
    pick = CANDIDATES["satisfaction_checkins"]
    for now in (noon, noon.astimezone(dt.timezone(dt.timedelta(hours=-12)))):
        assert list(pick(session, [TEAM, QUIET], now, "UTC")) == [TEAM]
    session.rollback()
    written = jobs.run_jobs(make_session_factory(engine), now=noon, directories=lambda _team: None,
                            only=["satisfaction_checkins"])  # fmt: skip
    assert written == {"satisfaction_checkins": 1}


def test_what_was_written_already_leaves_the_workspace_out(session):
    """A message reminded of already, and a weekly report written, leave nothing to do."""
    _busy_and_quiet(session)
    [message] = session.scalars(select(ChannelMessage).where(ChannelMessage.team_id == TEAM)).all()
    for key, kind in ((f"response:{message.id}", "response"), ("report:weekly:2026-11-30", "report")):
        session.add(Notification(team_id=TEAM, key=key, kind=kind, channel="U0OWNER01", payload={}, status="sent",
                                 due_at=NOW, attempts=1, created_at=NOW))  # fmt: skip
    session.commit()
    for name in ("response_reminders", "weekly_report"):
        assert list(CANDIDATES[name](session, [QUIET, TEAM], NOW, "UTC")) == [], name


def test_settings_that_cannot_be_read_leave_the_decision_to_the_job(session):
    get_workspace(session, TEAM).settings = ["not", "a", "document"]
    session.commit()
    for name in ("complaint_escalations", "satisfaction_checkins", "weekly_report"):
        assert list(CANDIDATES[name](session, [TEAM], NOW, "UTC")) == [TEAM], name


def test_a_workspace_whose_rules_cannot_be_applied_leaves_the_decision_to_the_job(session):
    """Settings that read, but name a time zone this machine does not know: the escalations'
    narrowing keeps that workspace (the job fails for it alone) and still tells the others."""
    customer = add_customer(session, "Quiet Co", team=QUIET, owner_id="U0OWNER02")
    add_complaint(session, customer.id, "Slow reply", now=NOW - dt.timedelta(minutes=1), team=QUIET)
    customer = add_customer(session, "Acme Ltd", owner_id="U0OWNER01")
    add_complaint(session, customer.id, "Late delivery", now=NOW - dt.timedelta(minutes=1))
    get_workspace(session, TEAM).settings = {"tz": "Mars/Olympus_Mons"}
    session.commit()
    assert list(CANDIDATES["complaint_escalations"](session, [QUIET, TEAM], NOW, "UTC")) == [TEAM]
