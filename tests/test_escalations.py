"""Complaint warnings and escalations delivered by the scheduler: when, to whom, once."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from freezegun import freeze_time
from sqlalchemy import select, update

from bot.clock import wall
from bot.scheduler.runner import Scheduler
from bot.services import complaints
from bot.services.workspaces import get_workspace
from bot.storage.db import make_session_factory, unit_of_work
from bot.storage.models import Complaint, ComplaintEvent, Member, Notification
from tests.helpers import add_customer, goes_through
from tests.slackclient import TEAM, USER, block_text

OWNER, LEAD, ADMIN = "U0000OWN", "U000LEAD", "U00ADMIN"
CHANNEL = "C0ESCALAT"
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def scheduler(settings, engine):
    return Scheduler(settings, make_session_factory(engine))


@pytest.fixture
def team(session):
    workspace = get_workspace(session, TEAM)
    workspace.settings = {"escalation_channel": CHANNEL}
    for user_id, role in ((LEAD, "lead"), (ADMIN, "admin"), (OWNER, None), (USER, None)):
        session.add(Member(team_id=TEAM, user_id=user_id, role=role, tz="UTC", locale="en-US",
                           profile_fetched_at=wall() + dt.timedelta(days=3650)))  # fmt: skip
    session.commit()
    add_customer(session, "Acme Ltd", owner_id=OWNER)


def log(slack, fake, severity: str) -> None:
    slack.command("complaint Acme Ltd")
    slack.submit(fake.last("views.open")["view"], {"Title": "Late delivery", "Severity": severity})


def sent(fake, since: int = 0) -> list[tuple[str, str]]:
    return [(c.args["channel"], c.args["text"]) for c in fake.calls_to("chat.postMessage")[since:]]


def test_each_step_is_sent_once_to_its_recipients_at_its_time(slack, fake, session, scheduler, team):
    with freeze_time("2026-12-01T09:00:00Z"):  # a Tuesday; the team works 09:00-18:00 UTC
        log(slack, fake, "High")  # first response 4 h, resolution 24 business hours
    start = len(fake.calls_to("chat.postMessage"))

    scheduler.sweep(at("2026-12-01T12:11:00"))
    assert sent(fake, start) == []
    scheduler.sweep(at("2026-12-01T12:12:00"))  # 80 % of 4 h
    [(to, text)] = sent(fake, start)
    assert to == OWNER and "close to its first-response deadline" in text
    scheduler.sweep(at("2026-12-01T12:30:00"))  # nothing new, nothing again
    assert len(sent(fake, start)) == 1

    scheduler.sweep(at("2026-12-01T13:00:00"))  # first response missed: level 1, assignee and owner
    level1 = sent(fake, start)[1:]
    assert [to for to, _ in level1] == [OWNER] and "Escalation level 1" in level1[0][1]

    # level 2 at 1.5 x 24 h = 36 business hours (9 a day): Friday 18:00; leads and the channel
    scheduler.sweep(at("2026-12-04T17:59:00"))
    assert not any("level 2" in text for _, text in sent(fake, start))
    scheduler.sweep(at("2026-12-07T09:00:00"))  # Monday morning, after the weekend
    level2 = [(to, text) for to, text in sent(fake, start) if "level 2" in text]
    assert sorted(to for to, _ in level2) == sorted([LEAD, CHANNEL])
    # level 3 at 2 x 24 h = 48 business hours: the next Tuesday 12:00 → admins
    scheduler.sweep(at("2026-12-08T11:59:00"))
    assert not any("level 3" in text for _, text in sent(fake, start))
    scheduler.sweep(at("2026-12-08T12:00:00"))
    level3 = [(to, text) for to, text in sent(fake, start) if "level 3" in text]
    assert [to for to, _ in level3] == [ADMIN]
    assert "Acknowledge" in block_text(fake.last("chat.postMessage")["blocks"])
    scheduler.sweep(at("2026-12-08T15:00:00"))
    assert len([t for _, t in sent(fake, start) if "level" in t]) == 4  # each level once


def test_an_erase_keeps_which_steps_were_sent(slack, fake, session, scheduler, team):
    """The erase clears what people wrote on a complaint's timeline, not its record of which
    step was sent: the next scan would take every step for unsent and record it again."""
    with freeze_time("2026-12-01T09:00:00Z"):
        log(slack, fake, "High")
    scheduler.sweep(at("2026-12-01T12:12:00"))  # the first-response warning
    with freeze_time("2026-12-01T12:20:00Z"):
        slack.click(slack.command("erase Acme Ltd", user=ADMIN).blocks, "Erase", user=ADMIN)
    scheduler.sweep(at("2026-12-01T12:30:00"))
    session.expire_all()
    escalated = session.scalars(select(ComplaintEvent.note).where(ComplaintEvent.kind == "escalated")).all()
    session.commit()
    assert escalated == ["1:warning.first_response"]


def test_an_acknowledged_complaint_gets_no_first_response_warning(slack, fake, session, scheduler, team):
    with freeze_time("2026-12-01T09:00:00Z"):
        log(slack, fake, "High")
    owner_dm = next(c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == OWNER)
    with freeze_time("2026-12-01T10:00:00Z"):
        slack.click(owner_dm["blocks"], "Acknowledge", user=OWNER)
    start = len(fake.calls_to("chat.postMessage"))
    scheduler.sweep(at("2026-12-01T13:30:00"))
    assert sent(fake, start) == []


def test_a_complaint_acknowledged_while_the_scan_reads_is_written_at_once_and_not_warned_about(
    slack, fake, session, engine, scheduler, team, monkeypatch
):
    """Every minute the scan reads the team's active complaints in a transaction that only reads,
    so an acknowledgement saved meanwhile is written at once, on SQLite too (it waited for the
    whole scan before: 1.5 s at 10,000 active complaints). The complaints found due are then
    locked and read again: this one, acknowledged since, gets no first-response warning."""
    with freeze_time("2026-12-01T09:00:00Z"):
        log(slack, fake, "High")
    start = len(fake.calls_to("chat.postMessage"))
    scan, saved = complaints.escalations_due, []

    def acknowledge() -> None:  # as the Acknowledge button commits it
        with unit_of_work(make_session_factory(engine), now=at("2026-12-01T12:11:00")) as other:
            other.execute(update(Complaint).values(state="acknowledged", first_response_at=at("2026-12-01T12:11:00")))

    with ThreadPoolExecutor(1) as pool:

        def acknowledged_after_the_scan_read(**kw):  # type: ignore[no-untyped-def]
            found = scan(**kw)
            if not saved:
                assert [c.title for c, _ in found] == ["Late delivery"]  # its 80 % warning is due
                saved.append("while the scan read" if goes_through(pool, acknowledge) else "not while the scan read")
            return found

        monkeypatch.setattr(complaints, "escalations_due", acknowledged_after_the_scan_read)
        scheduler.sweep(at("2026-12-01T12:12:00"))  # 80 % of 4 h
    assert saved == ["while the scan read"]
    assert sent(fake, start) == []


def test_complaints_due_at_once_are_locked_a_batch_at_a_time_and_each_warned_once(
    slack, fake, session, scheduler, team, monkeypatch
):
    monkeypatch.setattr(complaints, "LOCK_BATCH", 1)  # a backlog of thousands, in small
    with freeze_time("2026-12-01T09:00:00Z"):
        log(slack, fake, "High")
        log(slack, fake, "High")
    start = len(fake.calls_to("chat.postMessage"))
    scheduler.sweep(at("2026-12-01T12:12:00"))  # 80 % of 4 h, for both
    scheduler.sweep(at("2026-12-01T12:13:00"))
    warned = [text for to, text in sent(fake, start) if to == OWNER]
    assert sorted(warned) == [f"Complaint *#{n}* (Acme Ltd) is close to its first-response deadline." for n in (1, 2)]


def test_urgent_complaints_on_calendar_hours_escalate_at_night_and_at_weekends(slack, fake, session, scheduler, team):
    workspace = get_workspace(session, TEAM)
    workspace.settings = {**workspace.settings,
                          "sla": {"urgent": {"first_response": "1h", "resolution": "8h", "calendar_hours": True}}}
    session.commit()
    with freeze_time("2026-12-05T02:00:00Z"):  # Saturday night; urgent runs on calendar hours
        log(slack, fake, "Urgent")  # first response 1 h
    start = len(fake.calls_to("chat.postMessage"))
    scheduler.sweep(at("2026-12-05T02:48:00"))
    [(to, text)] = sent(fake, start)
    assert to == OWNER and "first-response deadline" in text


def warning_overnight(slack, fake, session, scheduler) -> dict:
    """A high complaint logged at 09:00 UTC, its owner in Tokyo (18:00 there: their day is
    over): its first-response warning, due at 12:12 UTC (21:12 in Tokyo), waits for their
    morning (00:00 UTC). Returns the owner's DM of the complaint, which came at once."""
    night_owl = session.get(Member, session.query(Member.id).filter_by(user_id=OWNER).scalar())
    night_owl.tz = "Asia/Tokyo"
    session.commit()
    with freeze_time("2026-12-01T09:00:00Z"):
        log(slack, fake, "High")
    start = len(fake.calls_to("chat.postMessage"))
    scheduler.sweep(at("2026-12-01T12:12:00"))
    assert sent(fake, start) == []
    return next(c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == OWNER)


def test_a_normal_warning_reaching_someone_outside_their_hours_waits(slack, fake, session, scheduler, team):
    warning_overnight(slack, fake, session, scheduler)  # nothing at 21:12 in Tokyo
    start = len(fake.calls_to("chat.postMessage"))
    scheduler.sweep(at("2026-12-02T00:00:00"))  # 09:00 in Tokyo: what waited arrives, in order
    texts = [text for to, text in sent(fake, start) if to == OWNER]
    assert len(texts) == 2 and "first-response deadline" in texts[0] and "level 1" in texts[1]


def test_a_warning_that_waited_is_written_when_sent_and_not_sent_once_the_complaint_is_resolved(
    slack, fake, session, scheduler, team
):
    warning_overnight(slack, fake, session, scheduler)
    session.expire_all()
    waiting = session.query(Notification).filter_by(kind="escalation", channel=OWNER, status="pending").all()
    assert waiting and not any("Late delivery" in json.dumps(n.payload) for n in waiting)
    session.commit()
    with freeze_time("2026-12-01T23:00:00Z"):
        slack.command("resolve #1", user=OWNER)
        slack.submit(fake.last("views.open")["view"], {"Resolution": "Refunded", "Satisfaction": "4"}, user=OWNER)
    start = len(fake.calls_to("chat.postMessage"))
    scheduler.sweep(at("2026-12-02T00:00:00"))  # 09:00 in Tokyo: nothing is overdue any more
    assert [text for to, text in sent(fake, start) if to == OWNER] == []
    session.expire_all()
    assert {n.status for n in session.query(Notification).filter_by(kind="escalation", channel=OWNER)} == {"expired"}


def test_a_first_response_warning_that_waited_is_not_sent_once_the_complaint_is_acknowledged(
    slack, fake, session, scheduler, team
):
    owner_dm = warning_overnight(slack, fake, session, scheduler)
    with freeze_time("2026-12-01T12:40:00Z"):
        slack.click(owner_dm["blocks"], "Acknowledge", user=OWNER)
    start = len(fake.calls_to("chat.postMessage"))
    scheduler.sweep(at("2026-12-02T00:00:00"))  # 09:00 in Tokyo
    assert not any("first-response deadline" in text for to, text in sent(fake, start))


def test_a_warning_that_waited_names_nothing_of_a_customer_erased_meanwhile(slack, fake, session, scheduler, team):
    warning_overnight(slack, fake, session, scheduler)
    with freeze_time("2026-12-01T12:20:00Z"):
        slack.click(slack.command("erase Acme Ltd", user=ADMIN).blocks, "Erase", user=ADMIN)
    start = len(fake.calls_to("chat.postMessage"))
    scheduler.sweep(at("2026-12-02T00:00:00"))  # 09:00 in Tokyo
    [warning, *_] = [c.args for c in fake.calls_to("chat.postMessage")[start:] if c.args["channel"] == OWNER]
    shown = warning["text"] + block_text(warning["blocks"])
    assert "first-response deadline" in shown and "Erased customer #1" in shown
    assert "Acme" not in shown and "Late delivery" not in shown


def test_a_resolution_the_customer_rates_1_or_2_alerts_the_leads_at_once(slack, fake, session, team):
    log(slack, fake, "Normal")
    slack.command("resolve #1", user=OWNER)
    start = len(fake.calls_to("chat.postMessage"))
    slack.submit(fake.last("views.open")["view"], {"Resolution": "Refunded", "Satisfaction": "2"}, user=OWNER)
    alerts = [(to, text) for to, text in sent(fake, start) if "satisfaction was 2/5" in text]
    assert [to for to, _ in alerts] == [LEAD]


def test_a_good_rating_alerts_nobody(slack, fake, session, team):
    log(slack, fake, "Normal")
    slack.command("resolve #1", user=OWNER)
    start = len(fake.calls_to("chat.postMessage"))
    slack.submit(fake.last("views.open")["view"], {"Resolution": "Refunded", "Satisfaction": "5"}, user=OWNER)
    assert not any("satisfaction was" in text for _, text in sent(fake, start))
