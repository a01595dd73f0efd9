"""The scheduler: digests at each member's own 09:00, once, in working hours; delivery that
survives rate limits, server errors and crashes; the buttons in a digest.

Time is moved the way an operator moves it: `sweep(at)` runs every job as of that instant.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select, text, update

from bot.clock import wall
from bot.config import SettingsError, load_settings
from bot.notify import SlackDirectory
from bot.scheduler import reminders
from bot.scheduler.hours import WorkingHours
from bot.scheduler.jobs import JOBS, quiet_hours_due, run_jobs
from bot.scheduler.outbox import Delivery, failures
from bot.scheduler.outcomes import Taken
from bot.scheduler.roster import Roster
from bot.scheduler.rows import enqueue, enqueue_many, notification
from bot.scheduler.runner import Scheduler
from bot.scheduler.shares import SLOTS, Share
from bot.services import notices
from bot.services.customers import CustomerInput, create_customer
from bot.services.home import asked_homes
from bot.services.notices import Said, say
from bot.services.workspaces import TeamSettings, get_workspace
from bot.storage import db
from bot.storage.db import make_session_factory, unit_of_work
from bot.storage.models import Customer, Member, Notification, OutboxSender, Workspace
from tests.helpers import (
    add_complaint,
    add_customer,
    as_admin,
    ask_homes,
    goes_through,
    until,
)
from tests.slackclient import TEAM, USER, block_text

UTC = dt.UTC
OWNER_B = "U0000002"
TUESDAY = dt.date(2026, 12, 1)
SATURDAY = dt.date(2026, 12, 5)
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)  # what the delivery tests act as of


def at(day: dt.date, hhmm: str, tz: str = "UTC") -> dt.datetime:
    from zoneinfo import ZoneInfo

    h, m = map(int, hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(h, m), tzinfo=ZoneInfo(tz))


@pytest.fixture
def scheduler(settings, engine):
    return Scheduler(settings, make_session_factory(engine))


def member(session, user_id: str, tz: str = "UTC", locale: str = "en-US", **fields) -> Member:
    """A member whose Slack profile was read just now (so no users.info is needed)."""
    get_workspace(session, TEAM)
    row = Member(team_id=TEAM, user_id=user_id, tz=tz, locale=locale, profile_fetched_at=wall(), **fields)
    session.add(row)
    session.commit()
    return row


def due(session, name: str, owner: str, on: dt.date, **fields) -> Customer:
    customer = add_customer(session, name, owner_id=owner, **fields)
    customer.next_revisit = on
    session.commit()
    return customer


def dms(fake, user: str) -> list[dict]:
    return [c.args for c in fake.calls_to("chat.postMessage") if c.args.get("channel") == user]


def notifications(session) -> list[Notification]:
    session.expire_all()
    rows = list(session.scalars(select(Notification).order_by(Notification.id)))
    session.commit()  # end the read: on SQLite every transaction holds the write lock
    return rows


def action_ids(blocks: list[dict]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


# --- the digest ---------------------------------------------------------------------------


def test_the_digest_lists_what_is_due_most_overdue_first_with_its_buttons(scheduler, session, fake):
    member(session, USER)
    today = due(session, "Today Ltd", USER, TUESDAY)
    overdue = due(session, "Late Ltd", USER, TUESDAY - dt.timedelta(days=3), company="Late Group")
    due(session, "Tomorrow Ltd", USER, TUESDAY + dt.timedelta(days=1))
    due(session, "Paused Ltd", USER, TUESDAY - dt.timedelta(days=9)).revisits_enabled = False
    session.commit()
    due(session, "Someone Else Ltd", OWNER_B, TUESDAY)
    member(session, OWNER_B)

    report = scheduler.sweep(at(TUESDAY, "09:00"))

    assert report.delivery.sent == 2
    [digest] = dms(fake, USER)
    shown = block_text(digest["blocks"])
    assert "2 revisits are due or overdue" in digest["text"]
    assert shown.index("Late Ltd") < shown.index("Today Ltd")
    assert "3 days overdue" in shown and "Late Group" in shown
    assert "Tomorrow Ltd" not in shown and "Paused Ltd" not in shown and "Someone Else" not in shown
    ids = action_ids(digest["blocks"])
    assert ids.count("touch_log") == 2 and ids.count("revisit_snooze") == 2
    assert ids.count("revisit_snooze_date") == 2 and ids.count("customer_reassign") == 2
    assert ids[-1] == "digest_settings"
    log_touch = [e for b in digest["blocks"] if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"] == "touch_log"]  # fmt: skip
    assert [e["value"] for e in log_touch] == [str(overdue.id), str(today.id)]
    assert "Log touch" in shown and "Snooze" in shown and "Reassign" in shown
    snooze = next(e for b in digest["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e["action_id"] == "revisit_snooze")  # fmt: skip
    assert [o["text"]["text"] for o in snooze["options"]] == ["1 day", "3 days", "1 week"]


def test_a_digest_written_today_is_not_built_again_each_minute(scheduler, session, fake, monkeypatch):
    """The reminder window stays open all working day and the job runs every minute: once a
    person's digest is written, later runs do not read their due items and build it again
    (for an INSERT that would write nothing). Someone whose digest is not written yet gets it."""
    member(session, USER)
    due(session, "Today Ltd", USER, TUESDAY)
    built, write_digest = [], reminders._digest

    def counted(run, settings, hours, person, *args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(person.user_id)
        return write_digest(run, settings, hours, person, *args, **kwargs)

    monkeypatch.setattr(reminders, "_digest", counted)
    scheduler.sweep(at(TUESDAY, "09:00"))
    assert built == [USER]
    member(session, OWNER_B)
    due(session, "Someone Else Ltd", OWNER_B, TUESDAY)
    scheduler.sweep(at(TUESDAY, "09:01"))
    scheduler.sweep(at(TUESDAY, "15:30"))
    assert built == [USER, OWNER_B]
    assert len(dms(fake, USER)) == 1 and len(dms(fake, OWNER_B)) == 1


def test_two_sweeps_at_the_same_instant_send_one_dm_each(scheduler, session, fake):
    member(session, USER)
    member(session, OWNER_B)
    due(session, "Acme", USER, TUESDAY)
    due(session, "Beta", OWNER_B, TUESDAY)

    first = scheduler.sweep(at(TUESDAY, "09:00"))
    second = scheduler.sweep(at(TUESDAY, "09:00"))
    third = scheduler.sweep(at(TUESDAY, "09:30"))

    assert first.delivery.sent == 2
    assert second.delivery.sent == third.delivery.sent == 0
    assert len(dms(fake, USER)) == 1 and len(dms(fake, OWNER_B)) == 1
    assert [n.status for n in notifications(session)] == ["sent", "sent"]


def test_the_digest_comes_at_the_digest_time_on_working_days_only(scheduler, session, fake):
    member(session, USER)
    due(session, "Acme", USER, TUESDAY - dt.timedelta(days=7))

    scheduler.sweep(at(TUESDAY, "08:59"))
    assert dms(fake, USER) == []
    scheduler.sweep(at(SATURDAY, "09:00"))
    assert dms(fake, USER) == []
    scheduler.sweep(at(TUESDAY, "09:00"))
    scheduler.sweep(at(TUESDAY + dt.timedelta(days=1), "09:00"))
    assert len(dms(fake, USER)) == 2  # one a day while it stays overdue


def test_a_digest_missed_while_down_is_sent_at_the_next_sweep_that_day_not_after_hours(scheduler, session, fake):
    member(session, USER)
    due(session, "Acme", USER, TUESDAY)

    scheduler.sweep(at(TUESDAY, "18:30"))  # down all working day: nothing in the evening
    assert dms(fake, USER) == []
    scheduler.sweep(at(TUESDAY + dt.timedelta(days=1), "14:00"))  # back the next afternoon
    [digest] = dms(fake, USER)
    assert "1 day overdue" in block_text(digest["blocks"])  # yesterday's item, in today's digest


def test_a_weekend_outage_sends_one_digest_not_a_flood(scheduler, session, fake):
    member(session, USER)
    for n in range(5):
        due(session, f"Customer {n}", USER, SATURDAY - dt.timedelta(days=n))
    monday = SATURDAY + dt.timedelta(days=2)

    scheduler.sweep(at(monday, "11:00"))

    [digest] = dms(fake, USER)
    assert "5 revisits" in digest["text"]


def test_members_get_their_digest_at_their_own_nine_oclock(scheduler, session, fake):
    # No member rows: their time zones come from Slack's users.info.
    get_workspace(session, TEAM)
    session.commit()
    fake.add_user("U00SHANG", tz="Asia/Shanghai")
    fake.add_user("U00NEWYK", tz="America/New_York")
    due(session, "Shanghai Co", "U00SHANG", TUESDAY)
    due(session, "New York Co", "U00NEWYK", TUESDAY)

    scheduler.sweep(at(TUESDAY, "08:59", "Asia/Shanghai"))
    assert fake.calls_to("chat.postMessage") == []
    scheduler.sweep(at(TUESDAY, "09:00", "Asia/Shanghai"))  # 01:00 UTC; 20:00 Monday in New York
    assert [c.args["channel"] for c in fake.calls_to("chat.postMessage")] == ["U00SHANG"]
    scheduler.sweep(at(TUESDAY, "08:59", "America/New_York"))
    scheduler.sweep(at(TUESDAY, "09:00", "America/New_York"))  # 22:00 in Shanghai
    assert [c.args["channel"] for c in fake.calls_to("chat.postMessage")] == ["U00SHANG", "U00NEWYK"]


def test_a_profile_read_over_a_day_before_the_run_is_read_again_and_decides_the_day(scheduler, session, fake):
    """The job decides from the stored profile while it is less than a day old (as of the
    run, not the wall clock) and reads it from Slack again once it is older."""
    run = at(TUESDAY, "09:00")
    get_workspace(session, TEAM)
    fresh, stale = "U00FRESH", "U00STALE"
    for user_id, read in ((fresh, run - dt.timedelta(hours=23, minutes=59)), (stale, run - dt.timedelta(hours=24))):
        session.add(Member(team_id=TEAM, user_id=user_id, tz="UTC", locale="en-US", profile_fetched_at=read,
                           digest_enabled=False))  # fmt: skip
        fake.add_user(user_id, tz="America/New_York")  # where Slack says they are now: 04:00 there
        due(session, f"Due to {user_id}", user_id, TUESDAY)
    session.commit()

    assert scheduler.run_jobs(run)["revisit_reminders"] == 1

    asked = [c.args.get("user") for c in fake.calls_to("users.info")]
    assert asked == [stale]
    assert [n.channel for n in notifications(session)] == [fresh]


def test_slack_is_asked_for_profiles_while_touches_go_on_being_written(scheduler, session, fake, engine, monkeypatch):
    """A profile missing or a day old is asked of Slack before the job's transaction: asked in
    it, each round trip (50-300 ms to real Slack) held SQLite's write turn, and every touch
    waited for it, at the hour most digests fall due. A write from another connection while
    Slack answers is made at once; the digest still follows the time zone Slack gives."""
    get_workspace(session, TEAM)
    session.commit()
    fake.add_user("U00SHANG", tz="Asia/Shanghai")
    due(session, "Shanghai Co", "U00SHANG", TUESDAY)
    asked, written = SlackDirectory.profile, []

    def touch() -> None:  # as a touch saved by a request commits it
        with unit_of_work(make_session_factory(engine), now=at(TUESDAY, "01:00")) as other:
            other.execute(update(Customer).values(last_touch_at=at(TUESDAY, "01:00")))

    with ThreadPoolExecutor(1) as pool:

        def written_while_asked(directory, user_id):  # type: ignore[no-untyped-def]
            written.append("while Slack was asked" if goes_through(pool, touch) else "only after")
            return asked(directory, user_id)

        monkeypatch.setattr(SlackDirectory, "profile", written_while_asked)
        scheduler.sweep(at(TUESDAY, "09:00", "Asia/Shanghai"))
    assert written == ["while Slack was asked"]
    [digest] = dms(fake, "U00SHANG")
    assert "Shanghai Co" in block_text(digest["blocks"])
    assert session.scalars(select(Member.tz).where(Member.user_id == "U00SHANG")).one() == "Asia/Shanghai"


def test_a_profile_slack_cannot_give_is_asked_again_and_stops_no_one_else(scheduler, session, fake, caplog):
    get_workspace(session, TEAM)
    session.commit()
    fake.add_user("U00FAIL1", tz="UTC")
    fake.add_user("U00SHANG", tz="Asia/Shanghai")
    due(session, "Failing Co", "U00FAIL1", TUESDAY)
    due(session, "Shanghai Co", "U00SHANG", TUESDAY)
    fake.fail("users.info", error="internal_error")  # the first asked: U00FAIL1

    scheduler.sweep(at(TUESDAY, "09:00", "Asia/Shanghai"))  # 01:00 UTC: before hours for a team-time member
    assert [c.args["channel"] for c in fake.calls_to("chat.postMessage")] == ["U00SHANG"]
    assert "users.info for U00FAIL1 failed" in caplog.text
    scheduler.sweep(at(TUESDAY, "09:00"))  # asked again, and answered

    assert [c.args["channel"] for c in fake.calls_to("chat.postMessage")] == ["U00SHANG", "U00FAIL1"]
    assert [c.args.get("user") for c in fake.calls_to("users.info")] == ["U00FAIL1", "U00SHANG", "U00FAIL1"]


def test_a_profile_slack_will_not_renew_costs_no_write_turn_once_the_digest_is_written(scheduler, session, fake,
                                                                                       engine):  # fmt: skip
    """A day-old profile is asked for every minute until Slack answers; meanwhile the stored one
    decides, the digest is written once, and the minutes after it write nothing."""
    if engine.dialect.name != "sqlite":
        pytest.skip("write turns are SQLite's")
    get_workspace(session, TEAM)
    session.add(Member(team_id=TEAM, user_id=USER, tz="UTC", locale="en-US",
                       profile_fetched_at=at(TUESDAY, "09:00") - dt.timedelta(days=2)))  # fmt: skip
    session.commit()
    due(session, "Acme", USER, TUESDAY)
    fake.fail("users.info", error="internal_error", times=10)
    turns: list[float] = []
    db.turn_observers.append(lambda _waited, held: turns.append(held))
    try:
        assert scheduler.run_jobs(at(TUESDAY, "09:00"))["revisit_reminders"] == 1
        written = len(turns)
        assert scheduler.run_jobs(at(TUESDAY, "09:01"))["revisit_reminders"] == 0
        assert len(turns) == written
    finally:
        db.turn_observers.pop()
    assert len(fake.calls_to("users.info")) == 2


def test_rows_that_fail_together_are_written_person_by_person(scheduler, session, fake, monkeypatch, caplog):
    member(session, USER)
    member(session, OWNER_B)
    due(session, "Acme", USER, TUESDAY)
    due(session, "Beta", OWNER_B, TUESDAY)
    write = reminders.enqueue_many

    def fails_for_more_than_one(session, rows):  # type: ignore[no-untyped-def]
        if len(rows) > 1:
            raise RuntimeError("one bad row among them")
        return write(session, rows)

    monkeypatch.setattr(reminders, "enqueue_many", fails_for_more_than_one)
    assert scheduler.run_jobs(at(TUESDAY, "09:00"))["revisit_reminders"] == 2
    assert sorted(n.channel for n in notifications(session)) == sorted([USER, OWNER_B])
    assert "failed together; writing them person by person" in caplog.text


def test_a_directory_that_breaks_for_one_person_stops_no_one_else(scheduler, session, fake, monkeypatch, caplog):
    get_workspace(session, TEAM)
    session.commit()
    fake.add_user(OWNER_B, tz="UTC")
    due(session, "Broken Co", USER, TUESDAY)
    due(session, "Beta", OWNER_B, TUESDAY)
    asked = SlackDirectory.profile

    def breaks_for_user(directory, user_id):  # type: ignore[no-untyped-def]
        if user_id == USER:
            raise RuntimeError("a bug, not Slack saying no")
        return asked(directory, user_id)

    monkeypatch.setattr(SlackDirectory, "profile", breaks_for_user)
    assert scheduler.run_jobs(at(TUESDAY, "09:00"))["revisit_reminders"] == 1
    assert [n.channel for n in notifications(session)] == [OWNER_B]
    assert session.scalars(select(Member.user_id)).all() == [OWNER_B]  # no profile-less row made for USER
    session.commit()
    assert "revisit reminders for U" in caplog.text and "a bug, not Slack saying no" in caplog.text


@pytest.mark.parametrize("write_every", [100, 1])
def test_digests_are_built_while_touches_go_on_being_written(scheduler, session, fake, engine, monkeypatch,
                                                            write_every):  # fmt: skip
    """Each digest reads its owner's due items and is rendered (about 2 ms; seconds for 1,000
    workspaces whose digests fall due in one minute) in a transaction that only reads: a write
    from another connection meanwhile is made at once. The digests are written after, a batch
    of people at a time (`write_every`), the turn given back between two batches."""
    monkeypatch.setattr(reminders, "WRITE_EVERY", write_every)
    member(session, USER)
    member(session, OWNER_B)
    due(session, "Acme", USER, TUESDAY)
    due(session, "Beta", OWNER_B, TUESDAY)
    build, written = reminders._digest, []

    def touch() -> None:
        with unit_of_work(make_session_factory(engine), now=at(TUESDAY, "09:00")) as other:
            other.execute(update(Customer).values(last_touch_at=at(TUESDAY, "09:00")))

    with ThreadPoolExecutor(1) as pool:

        def written_while_built(*args, **kwargs):  # type: ignore[no-untyped-def]
            rows = build(*args, **kwargs)
            written.append("while built" if goes_through(pool, touch) else "only after")
            return rows

        monkeypatch.setattr(reminders, "_digest", written_while_built)
        assert scheduler.run_jobs(at(TUESDAY, "09:00"))["revisit_reminders"] == 2
    assert written == ["while built", "while built"]
    assert sorted(n.channel for n in notifications(session)) == sorted([USER, OWNER_B])


def test_an_early_digest_time_waits_for_working_hours_and_team_hours_apply(scheduler, session, fake):
    member(session, USER, digest_time="07:00")
    due(session, "Acme", USER, TUESDAY)
    workspace = session.get(Workspace, TEAM)
    workspace.settings = {"working_hours": {d: ["10:00-16:00"] for d in ("mon", "tue", "wed", "thu", "fri")}}
    session.commit()

    scheduler.sweep(at(TUESDAY, "09:30"))
    assert dms(fake, USER) == []
    scheduler.sweep(at(TUESDAY, "10:00"))
    assert len(dms(fake, USER)) == 1


def test_with_the_digest_off_each_due_revisit_is_its_own_dm_once(scheduler, session, fake):
    member(session, USER, digest_enabled=False, digest_time="10:00")
    due(session, "Acme", USER, TUESDAY)
    due(session, "Beta", USER, TUESDAY - dt.timedelta(days=1))

    scheduler.sweep(at(TUESDAY, "09:30"))
    assert dms(fake, USER) == []
    scheduler.sweep(at(TUESDAY, "10:00"))
    scheduler.sweep(at(TUESDAY + dt.timedelta(days=1), "10:00"))
    texts = sorted(d["text"] for d in dms(fake, USER))
    assert len(texts) == 2 and "Acme" in texts[0] and "Beta" in texts[1]
    assert all("touch_log" in action_ids(d["blocks"]) for d in dms(fake, USER))


def test_a_reminder_is_written_as_what_it_is_about_and_rendered_as_the_customer_is_when_sent(
    scheduler, session, fake
):
    member(session, USER, digest_enabled=False)
    acme = due(session, "Acme", USER, TUESDAY)
    beta = due(session, "Beta", USER, TUESDAY)
    gone = due(session, "Gone", USER, TUESDAY)
    handed_on = due(session, "Handed On", USER, TUESDAY)
    off = due(session, "Off", USER, TUESDAY)

    assert scheduler.run_jobs(at(TUESDAY, "09:00"))["revisit_reminders"] == 5
    acme.company = "Acme Trading"  # edited after the sweep: the DM shows it
    beta.next_revisit = TUESDAY + dt.timedelta(days=7)  # logged or snoozed meanwhile
    handed_on.owner_id = OWNER_B
    off.revisits_enabled = False
    session.delete(gone)
    session.commit()
    report = scheduler.deliver(at(TUESDAY, "09:00"))

    [dm] = dms(fake, USER)
    assert "Acme" in dm["text"] and "Acme Trading" in block_text(dm["blocks"])
    assert "touch_log" in action_ids(dm["blocks"])
    assert (report.sent, report.expired) == (1, 4)
    assert {n.last_error for n in notifications(session) if n.status == "expired"} == {"no longer due"}


def test_a_reminder_rendered_at_send_time_speaks_the_owners_language(scheduler, session, fake):
    get_workspace(session, TEAM)
    session.add(Member(team_id=TEAM, user_id=USER, tz="UTC", locale="zh-CN", profile_fetched_at=wall(),
                       digest_enabled=False))  # fmt: skip
    session.commit()
    due(session, "Acme", USER, TUESDAY - dt.timedelta(days=3))

    scheduler.sweep(at(TUESDAY, "09:00"))

    [dm] = dms(fake, USER)
    assert dm["text"].startswith("回访 *Acme (#1)*")
    assert "已逾期 3 天" in block_text(dm["blocks"]) and "记录接触" in block_text(dm["blocks"])


def test_quiet_hours_move_a_message_to_the_next_working_hour_unless_urgent():
    settings = TeamSettings()
    shanghai = Member(team_id=TEAM, user_id=USER, tz="Asia/Shanghai")
    friday_evening = at(dt.date(2026, 12, 4), "20:00", "Asia/Shanghai")
    monday_nine = at(dt.date(2026, 12, 7), "09:00", "Asia/Shanghai")

    def when(instant: dt.datetime, urgent: bool = False) -> dt.datetime:
        return quiet_hours_due(instant, member=shanghai, settings=settings, default_tz="UTC", urgent=urgent)

    assert when(friday_evening) == monday_nine
    assert when(friday_evening, urgent=True) == friday_evening
    assert when(at(TUESDAY, "06:00", "Asia/Shanghai")) == at(TUESDAY, "09:00", "Asia/Shanghai")
    inside = at(TUESDAY, "11:15", "Asia/Shanghai")
    assert when(inside) == inside
    odd = WorkingHours.of(TeamSettings(working_hours={"mon": ["nonsense"]}))
    assert (odd.start_on(TUESDAY), odd.end_on(TUESDAY)) == (dt.time(9), dt.time(18))  # the default calendar


def test_quiet_hours_follow_the_team_calendar_split_shifts_and_holidays(scheduler, session, fake):
    """A China team: nothing at lunch, nothing on National Day, the make-up Sunday is a work day."""
    settings = TeamSettings(working_hours={d: ["09:00-12:00", "13:30-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
                            holidays_country="CN")  # fmt: skip
    hours = WorkingHours.of(settings)
    shanghai = "Asia/Shanghai"
    assert hours.next_open(at(TUESDAY, "12:30", shanghai)) == at(TUESDAY, "13:30", shanghai)
    national_day = dt.date(2026, 10, 1)
    assert not hours.is_working_day(national_day)
    assert hours.next_open(at(national_day, "10:00", shanghai)).date() == dt.date(2026, 10, 8)
    assert hours.is_working_day(dt.date(2026, 9, 20))  # a Sunday made a working day (调休)


def test_a_pending_row_waits_for_its_due_time(scheduler, session, fake):
    get_workspace(session, TEAM)
    enqueue(session, now=NOW, team_id=TEAM, key="k1", kind="test", channel=USER, text="later", due_at=at(TUESDAY, "09:00"))
    session.commit()
    scheduler.deliver(at(TUESDAY, "08:59"))
    assert dms(fake, USER) == []
    scheduler.deliver(at(TUESDAY, "09:00"))
    assert [d["text"] for d in dms(fake, USER)] == ["later"]


# --- delivery -----------------------------------------------------------------------------


def one_pending(session, text: str = "hello", **kw) -> None:
    get_workspace(session, TEAM)
    assert enqueue(session, now=NOW, team_id=TEAM, key=f"test:{text}", kind="test", channel=USER, text=text, **kw)
    assert not enqueue(session, now=NOW, team_id=TEAM, key=f"test:{text}", kind="test", channel=USER, text=text, **kw)
    session.commit()


def test_many_rows_at_once_write_each_new_key_once_and_count_what_was_written(session):
    """`enqueue_many` binds its rows in batches of one statement: the rows whose key is written
    already, or comes twice, are left out and not counted, across more rows than a batch."""
    get_workspace(session, TEAM)
    session.commit()
    row = lambda n: notification(now=NOW, team_id=TEAM, key=f"many:{n}", kind="test", channel=USER, text=f"m{n}")  # noqa: E731
    assert enqueue_many(session, [row(n) for n in range(0, 3000, 2)]) == 1500
    assert enqueue_many(session, [row(n) for n in range(3000)] + [row(2999), row(1)]) == 1500
    assert enqueue_many(session, [row(3000), row(3000), row(3001)]) == 2  # a key twice in one batch
    assert enqueue_many(session, []) == 0
    session.commit()
    assert session.scalar(select(func.count()).select_from(Notification).where(Notification.key.like("many:%"))) == 3002
    assert {n.payload["text"] for n in notifications(session)} == {f"m{n}" for n in range(3002)}


def test_429_waits_retry_after_then_delivers(scheduler, session, fake):
    one_pending(session)
    fake.fail("chat.postMessage", status=429, retry_after=1)

    report = scheduler.deliver(NOW)

    calls = fake.calls_to("chat.postMessage")
    assert len(calls) == 2 and calls[1].at - calls[0].at >= 1.0
    assert report.sent == 1
    [row] = notifications(session)
    assert row.status == "sent" and row.message_ts and row.sent_at is not None


def test_500_three_times_then_delivered_with_backoff(settings, engine, session, fake):
    waits: list[float] = []
    scheduler = Scheduler(settings, make_session_factory(engine), sleep=waits.append)
    one_pending(session)
    fake.fail("chat.postMessage", status=500, times=3)

    report = scheduler.deliver(NOW)

    assert report.sent == 1 and len(fake.calls_to("chat.postMessage")) == 4
    assert waits == [0.5, 1.0, 2.0]
    assert notifications(session)[0].status == "sent"


def test_errors_beyond_the_retry_budget_leave_the_row_for_a_later_run(settings, engine, session, fake):
    scheduler = Scheduler(settings, make_session_factory(engine), sleep=lambda s: None, retry_budget=3)
    one_pending(session)
    fake.fail("chat.postMessage", status=503, times=10)

    report = scheduler.deliver(NOW)

    assert report.retry_later == 1 and report.sent == 0
    [row] = notifications(session)
    assert row.status == "pending" and row.last_error == "http 503" and row.due_at > NOW
    fake.failures.clear()
    scheduler.deliver(row.due_at)  # its next try
    assert notifications(session)[0].status == "sent"


def test_a_429_beyond_the_retry_budget_leaves_the_row_until_retry_after_not_a_failures_backoff(
    settings, engine, session, fake
):
    scheduler = Scheduler(settings, make_session_factory(engine), sleep=lambda s: None, retry_budget=3)
    one_pending(session)
    fake.fail("chat.postMessage", status=429, retry_after=20)

    report = scheduler.deliver(NOW)

    assert report.retry_later == 1
    [row] = notifications(session)
    assert row.status == "pending" and row.last_error == "ratelimited"
    assert NOW + dt.timedelta(seconds=19) <= row.due_at <= NOW + dt.timedelta(seconds=21)  # not 60 s, as for a 503


def test_a_run_tries_each_row_once_and_keeps_out_of_its_claims_only_what_is_still_open(
    settings, engine, session, fake, monkeypatch
):
    """A claim excludes the rows this run tried that a claim could match again (one left for
    later); not those sent, or a long run's claims would grow with every message."""
    scheduler = Scheduler(settings, make_session_factory(engine), sleep=lambda s: None, retry_budget=0)
    get_workspace(session, TEAM)
    session.commit()
    for n in range(5):
        enqueue(session, now=NOW, team_id=TEAM, key=f"k{n}", kind="digest", channel=f"U{n:08d}", text=f"hello {n}")
    session.commit()
    fake.fail("chat.postMessage", status=503, times=1)  # the first message: left for a later run
    scheduler.sender.batch_size, scheduler.sender.lanes = 1, 1  # one lane: each row done before the next claim
    excluded: list[set[int]] = []
    claim = scheduler.sender.claim

    def watched(*, now, exclude, **options):  # type: ignore[no-untyped-def]
        excluded.append(set(exclude))
        return claim(now=now, exclude=exclude, **options)

    monkeypatch.setattr(scheduler.sender, "claim", watched)

    report = scheduler.deliver(NOW)

    assert report.sent == 4 and report.retry_later == 1
    assert len(fake.calls_to("chat.postMessage")) == 5  # the one left for later was not tried again
    later = next(n.id for n in notifications(session) if n.status == "pending")
    assert excluded == [set()] + [{later}] * 5  # the four sent are never among them


def _watch_claims(monkeypatch, sender) -> list[tuple[dict, list[int]]]:
    """Each claim of a run: what it was given (`room`, `given`) and the ids it took."""
    claims: list[tuple[dict, list[int]]] = []
    claim = sender.claim

    def watched(**options):  # type: ignore[no-untyped-def]
        ids, lease = claim(**options)
        claims.append((options, list(ids)))
        return ids, lease

    monkeypatch.setattr(sender, "claim", watched)
    return claims


def test_a_workers_sender_claims_a_backlog_as_the_lanes_have_room_for_it(settings, engine, session, fake, monkeypatch):
    """A morning's digests are claimed 64 at a time, not 20: a claim's statements cost about as
    much for either (docs/PERFORMANCE.md, section 86). No claim takes more than the lanes have room
    for (16 lanes, 6 places each), so none waits to be handed over."""
    scheduler = Scheduler(settings, make_session_factory(engine), sleep=lambda s: None, pacer=None)
    get_workspace(session, TEAM)
    enqueue_many(session, [notification(now=NOW, team_id=TEAM, key=f"k{n}", kind="digest", channel=f"U{n:08d}",
                                        text=f"hello {n}") for n in range(150)])  # fmt: skip
    session.commit()
    claims = _watch_claims(monkeypatch, scheduler.sender)

    report = scheduler.deliver(NOW)

    assert report.sent == 150 and len(fake.calls_to("chat.postMessage")) == 150
    assert len(claims[0][1]) == 64
    assert all(len(ids) <= min(options["room"], 64) for options, ids in claims)
    assert sum(len(ids) for _options, ids in claims) == 150


def test_one_persons_backlog_of_dms_does_not_hold_up_everyone_elses(settings, engine, session, fake, monkeypatch):
    """A channel goes at about one message a second: a claim gives it a burst's worth (3) at a time,
    however many of its messages come first (more than a claim takes), and takes everyone else's
    beside them."""
    scheduler = Scheduler(settings, make_session_factory(engine), sleep=lambda s: None, pacer=None)
    get_workspace(session, TEAM)
    enqueue_many(session, [notification(now=NOW - dt.timedelta(minutes=1), team_id=TEAM, key=f"dm{n}", kind="digest",
                                        channel="U00000001", text=f"dm {n}") for n in range(70)])  # fmt: skip
    enqueue_many(session, [notification(now=NOW, team_id=TEAM, key=f"k{n}", kind="digest", channel=f"U1{n:07d}",
                                        text=f"hello {n}") for n in range(10)])  # fmt: skip
    session.commit()
    claims = _watch_claims(monkeypatch, scheduler.sender)

    report = scheduler.deliver(NOW)

    assert report.sent == 80
    ids = {n.id: n for n in notifications(session)}
    first = Counter(ids[i].channel for i in claims[0][1])
    assert first.pop("U00000001") == 3 and len(first) == 10  # everyone else's in the first claim
    for options, taken in claims:  # never more than a burst in the lanes for one channel
        held = Counter(options["given"]) + Counter(f"{TEAM}:{ids[i].channel}" for i in taken)
        assert max(held.values(), default=0) <= 3, held
    posted = [call.args["text"] for call in fake.calls_to("chat.postMessage")]
    assert [p for p in posted if p.startswith("dm ")] == [f"dm {n}" for n in range(70)]  # in order


def test_a_channel_left_out_of_a_claim_is_one_workspaces_alone(settings, engine, session):
    """Slack's ids of people are the same in each workspace of an organisation (Enterprise Grid):
    the burst a run's lanes hold for one workspace's channel leaves the same id in another alone."""
    sender = Scheduler(settings, make_session_factory(engine), pacer=None).sender
    for team in (TEAM, "T0OTHER1"):
        get_workspace(session, team)
        enqueue_many(session, [notification(now=NOW, team_id=team, key=f"dm{n}", kind="digest", channel="U00000001",
                                            text=f"dm {n}") for n in range(2)])  # fmt: skip
    session.commit()

    ids, _lease = sender.claim(now=NOW, exclude=set(), room=10, given={f"{TEAM}:U00000001": 3})

    assert sorted(n.team_id for n in notifications(session) if n.id in ids) == ["T0OTHER1", "T0OTHER1"]


@pytest.mark.parametrize("error", ["user_not_found", "channel_not_found", "account_inactive"])
def test_a_permanent_error_is_recorded_and_not_retried(scheduler, session, fake, error):
    one_pending(session)
    fake.fail("chat.postMessage", error=error)

    report = scheduler.deliver(NOW)
    again = scheduler.deliver(NOW)

    assert report.failed == 1 and report.errors == {error: 1} and again.sent == again.failed == 0
    assert len(fake.calls_to("chat.postMessage")) == 1
    [row] = notifications(session)
    assert (row.status, row.last_error, row.attempts) == ("failed", error, 1)
    assert [f.key for f in failures(session, team_id=TEAM)] == [row.key]  # what admins see
    session.commit()


def test_a_sweep_exits_normally_when_a_send_fails_for_good(scheduler, session, fake):
    member(session, USER)
    member(session, OWNER_B)
    due(session, "Acme", USER, TUESDAY)
    due(session, "Beta", OWNER_B, TUESDAY)
    fake.fail("chat.postMessage", error="account_inactive")

    report = scheduler.sweep(at(TUESDAY, "09:00"))

    assert (report.delivery.sent, report.delivery.failed) == (1, 1)
    assert "1 sent, 1 failed" in report.line()


def test_a_stale_lease_returns_to_pending_and_what_was_sent_is_never_resent(scheduler, session, fake):
    get_workspace(session, TEAM)
    for key in ("crashed", "in_flight_elsewhere", "done"):
        enqueue(session, now=NOW, team_id=TEAM, key=key, kind="test", channel=USER, text=key)
    session.commit()
    real = wall()
    leases = {"crashed": real - dt.timedelta(seconds=1), "in_flight_elsewhere": real + dt.timedelta(minutes=5)}
    for key, lease in leases.items():
        session.execute(update(Notification).where(Notification.key == key).values(status="sending", due_at=lease))
    session.execute(update(Notification).where(Notification.key == "done").values(status="sent", sent_at=real))
    session.commit()

    scheduler.deliver(NOW)

    assert [d["text"] for d in dms(fake, USER)] == ["crashed"]
    assert {n.key: n.status for n in notifications(session)} == {
        "crashed": "sent", "in_flight_elsewhere": "sending", "done": "sent",
    }  # fmt: skip


def test_a_digest_whose_day_is_over_expires_instead_of_arriving_late(settings, engine, session, fake):
    scheduler = Scheduler(settings, make_session_factory(engine), sleep=lambda s: None, retry_budget=0)
    member(session, USER)
    due(session, "Acme", USER, TUESDAY)
    fake.fail("chat.postMessage", status=500, times=1)
    scheduler.sweep(at(TUESDAY, "09:00"))  # fails, left for later
    assert notifications(session)[0].status == "pending"

    wednesday = at(TUESDAY + dt.timedelta(days=1), "09:00")
    report = scheduler.sweep(wednesday)

    assert report.delivery.expired == 1 and report.delivery.sent == 1
    assert [(n.status, n.payload) for n in notifications(session)] == [("expired", {}), ("sent", {})]  # not kept
    assert len(dms(fake, USER)) == 2  # the failed try and Wednesday's digest


# --- the buttons in a digest --------------------------------------------------------------


def digest_for(scheduler, session, fake) -> tuple[Customer, Customer, dict]:
    member(session, USER)
    today = dt.datetime.now(UTC).date()
    a = due(session, "Acme", USER, today - dt.timedelta(days=2))
    b = due(session, "Beta", USER, today)
    # Today's 10:00 lists both; on a weekend, Monday's (so the test runs on any day).
    workday = today if today.weekday() < 5 else today + dt.timedelta(days=7 - today.weekday())
    scheduler.sweep(at(workday, "10:00"))
    [digest] = dms(fake, USER)
    return a, b, {"ts": "1700000000.000100", "text": digest["text"], "blocks": digest["blocks"]}


def test_snooze_moves_the_revisit_and_answers_in_place(scheduler, session, fake, slack):
    a, b, message = digest_for(scheduler, session, fake)
    block_id = f"revisit:{a.id}"

    reply = slack.action("revisit_snooze", block_id=block_id, message=message, channel="D0000001",
                         selected_option={"value": "3", "text": {"type": "plain_text", "text": "3 days"}})  # fmt: skip

    assert reply.status == 200
    session.expire_all()
    assert session.get(Customer, a.id).next_revisit == dt.datetime.now(UTC).date() + dt.timedelta(days=3)
    session.commit()
    updated = fake.last("chat.update")
    assert (updated["channel"], updated["ts"]) == ("D0000001", "1700000000.000100")
    shown = block_text(updated["blocks"])
    assert "snoozed to" in shown and "Beta" in shown
    assert action_ids(updated["blocks"]).count("revisit_snooze") == 1  # Beta keeps its buttons


def test_snooze_to_a_picked_date_and_a_past_date_is_refused(scheduler, session, fake, slack):
    a, _, message = digest_for(scheduler, session, fake)
    later = dt.datetime.now(UTC).date() + dt.timedelta(days=20)
    slack.action("revisit_snooze_date", block_id=f"revisit:{a.id}", message=message, selected_date=later.isoformat())
    session.expire_all()
    assert session.get(Customer, a.id).next_revisit == later
    session.commit()

    slack.action("revisit_snooze_date", block_id=f"revisit:{a.id}", message=message, selected_date="2020-01-01")
    assert "Pick a date after today" in fake.last("response_url")["text"]
    session.expire_all()
    assert session.get(Customer, a.id).next_revisit == later
    session.commit()


def test_reassign_changes_the_owner_tells_them_and_answers_in_place(scheduler, session, fake, slack):
    a, _, message = digest_for(scheduler, session, fake)

    slack.action("customer_reassign", block_id=f"revisit:{a.id}", message=message, selected_user=OWNER_B)

    session.expire_all()
    assert session.get(Customer, a.id).owner_id == OWNER_B
    session.commit()
    assert "made you the owner of" in dms(fake, OWNER_B)[0]["text"]
    assert f"is now owned by <@{OWNER_B}>" in block_text(fake.last("chat.update")["blocks"])


def test_digest_off_and_move_from_the_digest(scheduler, session, fake, slack):
    _, _, message = digest_for(scheduler, session, fake)
    slack.action("digest_settings", "digest", message=message)
    view = fake.last("views.open")["view"]
    assert view["title"]["text"] == "Your digest"

    bad = slack.submit(view, {"Digest time": None})
    assert bad.json["response_action"] == "errors"
    reply = slack.submit(view, {"Daily digest": "off", "Digest time": "10:30"})

    assert reply.status == 200 and reply.text == ""
    session.expire_all()
    row = session.scalars(select(Member).where(Member.user_id == USER)).one()
    assert (row.digest_enabled, row.digest_time) == (False, "10:30")
    session.commit()
    assert "each due revisit comes as its own message at 10:30" in dms(fake, USER)[-1]["text"]


def test_a_thousand_due_items_are_each_sent_once_in_one_process(scheduler, session, fake):
    """The single-process baseline of the two-worker test (which needs PostgreSQL)."""
    get_workspace(session, TEAM)
    for n in range(10):
        member(session, f"U{n:08d}", digest_enabled=False)
    session.add_all(
        Customer(team_id=TEAM, number=n + 1, name=f"Customer {n}", name_key=f"customer {n}",
                 owner_id=f"U{n % 10:08d}", next_revisit=TUESDAY)
        for n in range(200)
    )  # fmt: skip
    session.commit()
    start = time.monotonic()
    scheduler.sweep(at(TUESDAY, "09:00"))
    scheduler.sweep(at(TUESDAY, "09:00"))
    texts = Counter(c.args["text"] for c in fake.calls_to("chat.postMessage"))
    assert len(texts) == 200 and set(texts.values()) == {1}
    assert time.monotonic() - start < 60


def test_a_long_digest_stays_one_message_within_slacks_block_limit(scheduler, session, fake):
    member(session, USER)
    for n in range(25):
        due(session, f"Customer {n:02d}", USER, TUESDAY - dt.timedelta(days=n))

    scheduler.sweep(at(TUESDAY, "09:00"))

    [digest] = dms(fake, USER)
    assert len(digest["blocks"]) <= 50
    assert "25 revisits" in digest["text"] and "and 5 more" in block_text(digest["blocks"])
    assert "Customer 24" in block_text(digest["blocks"])  # the most overdue come first


def test_a_registered_job_runs_in_every_sweep_and_its_rows_are_delivered(scheduler, session, fake, monkeypatch):
    """The hook other features (complaint warnings and escalations) use: `register_job`."""
    get_workspace(session, TEAM)
    session.commit()

    def level_one_warning(run, team_id: str) -> int:
        return int(enqueue(run.session, now=run.now, team_id=team_id, key="complaint:7:level:1", kind="escalation",
                           channel="C0ESCALATE", text="Complaint #7 is overdue"))  # fmt: skip

    monkeypatch.setitem(JOBS, "test_warnings", level_one_warning)
    first = scheduler.sweep(at(TUESDAY, "09:00"))
    second = scheduler.sweep(at(TUESDAY, "09:01"))

    assert first.written["test_warnings"] == 1 and second.written["test_warnings"] == 0
    assert [c.args["channel"] for c in fake.calls_to("chat.postMessage")] == ["C0ESCALATE"]


def test_delivery_stops_at_its_deadline_and_leaves_the_rest_pending(settings, engine, session, fake):
    clock = iter(range(0, 1000, 10))  # every look at the clock is ten seconds later
    # One lane: each row done before the next claim. With several, the lanes' threads and the
    # run, which looks again while they send, share the clock in no set order.
    scheduler = Scheduler(settings, make_session_factory(engine), clock=lambda: next(clock), lanes=1)
    get_workspace(session, TEAM)
    for n in range(5):
        enqueue(session, now=NOW, team_id=TEAM, key=f"k{n}", kind="test", channel=USER, text=f"m{n}")
    session.commit()

    report = scheduler.sender.deliver(now=NOW, deadline=25)

    assert report.sent == 1
    assert [n.status for n in notifications(session)] == ["sent"] + ["pending"] * 4
    scheduler.deliver(NOW)
    assert [n.status for n in notifications(session)] == ["sent"] * 5


def test_senders_with_shares_each_send_for_their_own_workspaces_and_together_for_all(settings, engine, session, fake):
    teams = [f"T{n:08d}" for n in range(12)]
    thirds = {k: [t for t in teams if Share.fixed(k, 3).has(t)] for k in (1, 2, 3)}
    assert all(thirds.values())  # every share has a workspace here
    person = {team: f"U{team[1:]}" for team in teams}  # one person a workspace, to tell whose Home was published
    for team in teams:
        get_workspace(session, team)
        for n in range(3):  # the third taken by a sender that died: its lease ran out a second ago
            enqueue(session, now=NOW, team_id=team, key=f"share:{n}", kind="test", channel=f"U{n:08d}",
                    text=f"{team} {n}", due_at=NOW - dt.timedelta(minutes=1))  # fmt: skip
        say(session=session, now=wall(), team_id=team, said=[Said(person[team], "share", {"text": f"{team} said"})])
        ask_homes(session, now=wall(), team=team, people=[person[team]])
    session.flush()
    session.execute(update(Notification).where(Notification.key == "share:2")
                    .values(status="sending", due_at=wall() - dt.timedelta(seconds=1)))  # fmt: skip
    session.commit()

    sent_by, homes_by = {}, {}
    for k in (1, 2, 3):
        sender = Scheduler(settings.model_copy(update={"sender_share": f"{k}/3"}), make_session_factory(engine)).sender
        posts, homes = len(fake.calls_to("chat.postMessage")), len(fake.calls_to("views.publish"))
        assert sender.deliver(now=NOW).sent > 0
        sent_by[k] = Counter(c.args["text"].split()[0] for c in fake.calls_to("chat.postMessage")[posts:])
        homes_by[k] = Counter(c.args["user_id"] for c in fake.calls_to("views.publish")[homes:])

    for k in (1, 2, 3):  # a workspace's messages, DMs and Homes all went through the one sender of its share
        mine = thirds[k]
        assert sent_by[k] == {t: 4 for t in mine}, k
        assert homes_by[k] == {person[t]: 1 for t in mine}, k
    assert sum(sent_by.values(), Counter()) == {t: 4 for t in teams}
    assert {n.status for n in notifications(session) if n.kind != "home"} == {"sent"}


def test_a_share_is_the_same_workspaces_in_sql_as_in_python_and_the_shares_are_even(session):
    teams = [f"T{n:08d}" for n in range(300)]
    session.add_all(Workspace(team_id=t, created_at=NOW) for t in teams)
    session.flush()
    senders = ("3f", "a0", "c7")
    for shares in ([Share.fixed(k, 3) for k in (1, 2, 3)], [Share.among(me, senders) for me in senders]):
        theirs = [set(session.scalars(select(Workspace.team_id).where(s.of(Workspace.team_id)))) for s in shares]
        assert theirs == [{t for t in teams if s.has(t)} for s in shares]
        assert set().union(*theirs) == set(teams) and sum(map(len, theirs)) == len(teams)  # each in one share
        assert all(300 / 3 * 0.75 < len(mine) < 300 / 3 * 1.25 for mine in theirs), [len(m) for m in theirs]


def test_a_fixed_share_is_at_least_one_slot():
    assert load_settings(_env_file=None, sender_share=f"{SLOTS}/{SLOTS}").share == (SLOTS, SLOTS)
    assert len(Share.fixed(SLOTS, SLOTS).slots) == 1
    with pytest.raises(SettingsError, match="n ≤ 1024"):
        load_settings(_env_file=None, sender_share=f"1/{SLOTS + 1}")


def test_senders_with_auto_shares_split_the_workspaces_among_those_running_and_take_over_a_stopped_or_dead_ones(
    settings, engine, session, fake
):
    teams = [f"T{n:08d}" for n in range(24)]
    for team in teams:
        get_workspace(session, team)
    session.commit()
    seen = [wall()]  # the real clock as the senders' beats see it, moved on by hand
    senders = {}
    for name in ("a", "b", "c"):
        scheduler = Scheduler(settings.model_copy(update={"sender_share": "auto"}), make_session_factory(engine))
        scheduler.roster.wall = lambda: seen[0]
        scheduler.roster.id = name  # known ids (random ones would split these few workspaces by chance)
        senders[name] = scheduler

    def round_of(name: str) -> None:
        for team in teams:
            enqueue(session, now=NOW, team_id=team, key=f"auto:{name}", kind="test", channel=USER, text=f"{team} {name}",
                    due_at=NOW - dt.timedelta(minutes=1))  # fmt: skip
        session.commit()

    def deliver(*names: str) -> dict[str, set[str]]:
        sent = {}
        for name in names:
            posts = len(fake.calls_to("chat.postMessage"))
            senders[name].sender.deliver(now=NOW)
            sent[name] = {c.args["text"].split()[0] for c in fake.calls_to("chat.postMessage")[posts:]}
        return sent

    def shares(names: str) -> dict[str, Share]:
        return {name: senders[name].roster.share() for name in names}

    def theirs(share: Share) -> set[str]:
        return {t for t in teams if share.has(t)}

    # Three join; once each has beaten again they count three, and each sends its third alone.
    shares("abc")
    seen[0] += dt.timedelta(seconds=10)
    assert [(s.k, s.n) for s in shares("abc").values()] == [(1, 3), (2, 3), (3, 3)]
    round_of("first")
    first = deliver(*"abc")
    assert all(first.values())  # each had workspaces of its own
    for name, share in shares("abc").items():
        assert first[name] == theirs(share), name

    # b stops: at their next beat a and c share its workspaces out between them, and keep their own.
    senders["b"].leave()
    seen[0] += dt.timedelta(seconds=10)
    assert [(s.k, s.n) for s in shares("ac").values()] == [(1, 2), (2, 2)]
    round_of("second")
    second = deliver(*"ac")
    for name, share in shares("ac").items():
        assert second[name] == theirs(share), name
        assert first[name] < second[name] <= first[name] | first["b"], name  # only b's moved

    # c dies (beats no more): its half waits while c may still be running (unseen for under 60 s);
    # at a's first beat after that, a sends for all.
    round_of("third")
    seen[0] += dt.timedelta(seconds=59)
    assert deliver("a")["a"] == second["a"]
    seen[0] += dt.timedelta(seconds=9)
    assert shares("a")["a"].n == 2  # no beat yet
    seen[0] += dt.timedelta(seconds=1)
    assert (shares("a")["a"].n, deliver("a")["a"]) == (1, second["c"])

    posted = Counter(c.args["text"] for c in fake.calls_to("chat.postMessage"))
    assert posted == {f"{t} {r}": 1 for t in teams for r in ("first", "second", "third")}  # all, none twice
    assert {n.status for n in notifications(session)} == {"sent"}
    assert session.scalars(select(OutboxSender.id)).all() == [senders["a"].roster.id]  # a's beat removed c's
    session.commit()
    senders["a"].leave()
    assert session.scalars(select(OutboxSender.id)).all() == []


def test_a_sender_keeps_its_share_through_a_failed_beat_never_joins_again_once_gone_and_drops_a_row_far_ahead(
    settings, engine, session, tmp_path, caplog
):
    seen = [wall()]
    a, b = (Roster(make_session_factory(engine), wall=lambda: seen[0]) for _ in range(2))
    a.share(), b.share()
    seen[0] += dt.timedelta(seconds=10)
    mine = a.share()
    assert (mine.n, b.share().k) == (2, 3 - mine.k)

    working, a.factory = a.factory, make_session_factory(db.make_engine(f"sqlite:///{tmp_path / 'none' / 'x.db'}"))
    seen[0] += dt.timedelta(seconds=10)
    assert a.share() == mine  # the database does not answer: the share it had
    assert "the senders running could not be counted" in caplog.text
    a.factory = working

    b.leave()
    seen[0] += dt.timedelta(seconds=10)
    b.share()  # a claim under way as it stopped: it does not join again
    session.add(OutboxSender(id="ahead", seen_at=seen[0] + dt.timedelta(days=1)))  # a clock far ahead, then dead
    session.commit()
    assert a.share().n == 1
    assert session.scalars(select(OutboxSender.id)).all() == [a.id]


def test_the_workers_tick_beats_while_a_long_run_holds_the_delivery(settings, engine, session):
    scheduler = Scheduler(settings.model_copy(update={"sender_share": "auto"}), make_session_factory(engine))
    seen = [wall()]
    scheduler.roster.wall = lambda: seen[0]
    scheduler.roster.share()
    with scheduler._delivering:  # a run sending a backlog, its claims waiting
        seen[0] += dt.timedelta(seconds=10)
        scheduler._deliver_tick()
    assert session.scalars(select(OutboxSender.seen_at)).all() == [seen[0]]


def test_a_sender_that_cannot_leave_the_others_still_stops(tmp_path, caplog):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'gone.db'}")
    db.upgrade(engine)
    roster = Roster(make_session_factory(engine), wall=lambda: NOW)
    assert roster.share().n == 1
    with engine.begin() as connection:  # the database fails it as it stops
        connection.execute(text("DROP TABLE outbox_sender"))

    roster.leave()

    assert "could not leave the senders running" in caplog.text


def test_a_worker_whose_lease_was_taken_over_does_not_send(settings, engine, session, fake):
    slow_worker = Scheduler(settings, make_session_factory(engine)).sender
    other_worker = Scheduler(settings, make_session_factory(engine)).sender
    one_pending(session)
    ids, lease = slow_worker.claim(now=wall(), exclude=set())
    # The slow worker's lease runs out before it gets to the row; the other takes it over.
    session.execute(update(Notification).values(due_at=wall() - dt.timedelta(seconds=1)))
    session.commit()
    assert other_worker.claim(now=wall(), exclude=set())[0] == ids

    report = Delivery()
    slow_worker._deliver_one(ids[0], lease, report, now=wall(), deadline=None)
    assert report.sent == 0 and fake.calls_to("chat.postMessage") == []


def test_a_row_read_at_its_claim_is_not_posted_once_its_lease_ran_out(settings, engine, session, fake):
    slow_worker = Scheduler(settings, make_session_factory(engine)).sender
    other_worker = Scheduler(settings, make_session_factory(engine)).sender
    one_pending(session)
    ids, lease = slow_worker.claim(now=wall(), exclude=set())
    [claimed] = slow_worker._rows(ids, lease).values()
    # The slow worker gets to the row it read after its lease ran out; the other took it over.
    later = wall() + dt.timedelta(minutes=6)
    slow_worker.wall = other_worker.wall = lambda: later
    taken, other_lease = other_worker.claim(now=later, exclude=set())
    assert taken == ids

    report = Delivery()
    slow_worker._deliver_one(ids[0], lease, report, now=later, deadline=None, claimed=claimed)
    assert report.sent == 0 and fake.calls_to("chat.postMessage") == []
    [held] = other_worker._rows(ids, other_lease).values()
    other_worker._deliver_one(ids[0], other_lease, report, now=later, deadline=None, claimed=held)  # sent once
    assert len(fake.calls_to("chat.postMessage")) == 1
    assert [(n.status, n.attempts) for n in notifications(session)] == [("sent", 1)]


def test_a_sent_outcome_does_not_overwrite_a_row_taken_over_meanwhile(settings, engine, session, fake):
    slow_worker = Scheduler(settings, make_session_factory(engine)).sender
    one_pending(session)
    ids, lease = slow_worker.claim(now=wall(), exclude=set())
    [claimed] = slow_worker._rows(ids, lease).values()
    # While the slow worker posts, its lease runs out and another worker takes the row over.
    taken_over = wall() + dt.timedelta(minutes=5)
    session.execute(update(Notification).values(due_at=taken_over))
    session.commit()

    assert slow_worker._sent(claimed, now=wall(), ts="1.0", note=None) is False

    session.expire_all()
    [row] = notifications(session)
    assert (row.status, row.due_at, row.message_ts) == ("sending", taken_over, None)
    assert slow_worker._sent(row, now=wall(), ts="2.0", note=None) is True  # the holder's own lease: written
    session.expire_all()
    assert [(n.status, n.message_ts) for n in notifications(session)] == [("sent", "2.0")]


def test_outcomes_written_together_leave_a_row_taken_over_meanwhile_to_its_new_holder(settings, engine, session):
    """The outcomes of a group go in one statement a kind; when one of its rows changed hands, the
    others are still written, and that one is left as its new holder has it."""
    get_workspace(session, TEAM)
    for n in (1, 2):
        enqueue(session, now=NOW, team_id=TEAM, key=f"group:{n}", kind="test", channel=f"U0GROUP{n}", text=f"m{n}")
    say(session=session, now=wall(), team_id=TEAM, said=[Said(USER, "group:said", {"text": "saved"}),
                                                          Said(USER, "group:said too", {"text": "saved too"})])  # fmt: skip
    enqueue(session, now=NOW, team_id=TEAM, key="group:4", kind="test", channel="U0GROUP4", text="m4")
    session.commit()
    sender = Scheduler(settings, make_session_factory(engine)).sender
    ids, lease = sender.claim(now=wall(), exclude=set())
    rows = sender._rows(ids, lease)
    assert len(rows) == 5
    first, second, said, said_too, last = (rows[i] for i in sorted(rows))
    assert {said.kind, said_too.kind} == {"said"} and {first.kind, second.kind, last.kind} == {"test"}
    taken_over = wall() + dt.timedelta(minutes=5)
    session.execute(update(Notification).where(Notification.id == second.id).values(due_at=taken_over))
    session.commit()

    done = [Taken(row, wall(), f"{n}.0", None) for n, row in enumerate((last, said_too, said, second, first))]
    assert sender.outcomes.write(done) == [True, True, True, False, True]

    session.expire_all()
    assert {n.key: (n.status, n.message_ts) for n in notifications(session)} == {
        "group:1": ("sent", "4.0"), "group:2": ("sending", None), "group:4": ("sent", "0.0")}  # fmt: skip
    assert session.get(Notification, second.id).due_at == taken_over


def test_app_homes_written_together_leave_one_asked_for_again_pending(settings, engine, session):
    """An App Home asked for again while it was sent is pending again: its outcome, written with
    another Home's, is not written over that, and the other one's is."""
    get_workspace(session, TEAM)
    notices.ask(session=session, rows=asked_homes(now=wall(), team_id=TEAM, user_ids=[USER, OWNER_B],
                                                  default_tz="UTC"))  # fmt: skip
    session.commit()
    sender = Scheduler(settings, make_session_factory(engine)).sender
    ids, lease = sender.claim(now=wall(), exclude=set())
    rows = sender._rows(ids, lease)
    assert sorted(row.channel for row in rows.values()) == sorted([USER, OWNER_B])
    notices.ask(session=session, rows=asked_homes(now=wall(), team_id=TEAM, user_ids=[OWNER_B], default_tz="UTC"))
    session.commit()

    done = [Taken(row, wall(), None, None) for row in rows.values()]
    assert sender.outcomes.write(done) == [row.channel == USER for row in rows.values()]
    assert {n.channel: n.status for n in notifications(session)} == {USER: "sent", OWNER_B: "pending"}


def test_messages_slack_takes_while_an_outcome_is_written_have_theirs_written_together(settings, engine, session,
                                                                                       fake):  # fmt: skip
    """A lane waits for its message's outcome before it takes the next. With a transaction each,
    the lanes queued for SQLite's one write turn (docs/PERFORMANCE.md); the outcomes that come
    while one is being written are written next, in one transaction, by one statement run for
    them all (`executemany`)."""
    get_workspace(session, TEAM)
    for n in range(8):
        enqueue(session, now=NOW, team_id=TEAM, key=f"lane:{n}", kind="test", channel=f"U0LANE{n:03d}", text=f"m{n}")
    session.commit()
    fake.slow("chat.postMessage", 1.0)
    outcomes: list[tuple[int, int]] = []  # each statement writing `sent` outcomes: its transaction, its rows
    begun = iter(range(1_000_000))

    def begin(conn) -> None:
        conn.info["transaction"] = next(begun)

    def statement(conn, _cursor, sql: str, parameters, _context, executemany: bool) -> None:
        if sql.startswith("UPDATE notification SET") and "sent_at" in sql:
            outcomes.append((conn.info["transaction"], len(parameters) if executemany else 1))

    sender = Scheduler(settings, make_session_factory(engine), pacer=None, lanes=8).sender
    run = threading.Thread(target=lambda: sender.deliver(now=NOW))
    event.listen(engine, "begin", begin)
    event.listen(engine, "before_cursor_execute", statement)
    try:
        run.start()
        until(lambda: {n.status for n in notifications(session)} == {"sending"})
        with holding_the_outbox(engine):  # the first outcome waits until every message is out
            assert fake.calls_to("chat.postMessage") == [] and outcomes == []  # held before any answer
            until(lambda: len(sender._grouped[False]._waiting) == 7)  # behind the first, which waits
        run.join(30)
    finally:
        event.remove(engine, "begin", begin)
        event.remove(engine, "before_cursor_execute", statement)
    assert not run.is_alive() and {n.status for n in notifications(session)} == {"sent"}
    # The first alone, the seven others together, in another transaction.
    assert [rows for _, rows in outcomes] == [1, 7] and outcomes[0][0] != outcomes[1][0]


@contextmanager
def holding_the_outbox(engine) -> Iterator[None]:
    """Writes to the outbox wait while inside: SQLite's one write lock, PostgreSQL's rows' locks."""
    if engine.dialect.name == "sqlite":
        import sqlite3

        other = sqlite3.connect(engine.url.database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    with engine.connect() as other:
        other.execute(select(Notification.id).with_for_update())
        try:
            yield
        finally:
            other.rollback()


def test_a_network_error_is_retried_and_then_left_for_a_later_run(settings, engine, session):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/api/"
    waits: list[float] = []
    scheduler = Scheduler(settings.model_copy(update={"slack_api_url": dead}), make_session_factory(engine),
                          sleep=waits.append, retry_budget=2)  # fmt: skip
    one_pending(session)

    report = scheduler.deliver(NOW)

    assert report.retry_later == 1 and waits == [0.5, 1.0]
    [row] = notifications(session)
    assert row.status == "pending" and row.last_error.startswith("network")


def test_sends_that_failed_for_good_are_shown_to_admins_on_the_app_home(slack, fake, session, scheduler):
    get_workspace(session, TEAM)
    session.commit()
    enqueue(session, now=NOW, team_id=TEAM, key="gone", kind="digest", channel="U0GONE01", text="hello")
    session.commit()
    fake.fail("chat.postMessage", error="user_not_found")
    scheduler.deliver(NOW)
    fake.add_user("U00ADMIN", is_admin=True)
    slack.event({"type": "app_home_opened", "user": "U00ADMIN", "tab": "home"})
    shown = block_text(fake.last("views.publish")["view"]["blocks"])
    assert "Messages Slack refused" in shown and "<@U0GONE01>" in shown and "user_not_found" in shown
    slack.event({"type": "app_home_opened", "user": USER, "tab": "home"})
    assert "Messages Slack refused" not in block_text(fake.last("views.publish")["view"]["blocks"])


def _two_workspaces_due(session) -> None:
    """A due revisit in this workspace and in another, both owners with the digest off."""
    member(session, USER, digest_enabled=False)
    due(session, "Acme", USER, TUESDAY)
    get_workspace(session, OTHER_TEAM)
    session.add(Member(team_id=OTHER_TEAM, user_id=OWNER_B, tz="Asia/Shanghai", locale="zh-CN",
                       profile_fetched_at=wall(), digest_enabled=False))  # fmt: skip
    add_customer(session, "Beta", team=OTHER_TEAM, actor=OWNER_B, owner_id=OWNER_B).next_revisit = TUESDAY
    session.commit()


OTHER_TEAM = "T0OTHER01"


def test_workspaces_swept_together_each_get_their_reminders_in_their_own_time(scheduler, session):
    _two_workspaces_due(session)
    assert scheduler.run_jobs(at(TUESDAY, "01:00"))["revisit_reminders"] == 1  # 09:00 in Shanghai, 01:00 here
    assert [(n.team_id, n.channel) for n in notifications(session)] == [(OTHER_TEAM, OWNER_B)]
    assert scheduler.run_jobs(at(TUESDAY, "11:00"))["revisit_reminders"] == 1  # 19:00 there: after hours
    assert sorted((n.team_id, n.channel, n.payload["locale"]) for n in notifications(session)) == [
        (TEAM, USER, "en-US"), (OTHER_TEAM, OWNER_B, "zh-CN")]


def test_one_sweep_tells_each_person_of_their_own_day_in_their_own_language(scheduler, session):
    # 19:00 UTC on Tuesday: 09:00 on Wednesday on Kiritimati (+14), 17:00 on Tuesday on
    # Fernando de Noronha (-2); both within working hours, on different days.
    member(session, USER, tz="Pacific/Kiritimati", locale="zh-CN", digest_enabled=False)
    member(session, OWNER_B, tz="America/Noronha", digest_enabled=False)
    wednesday = TUESDAY + dt.timedelta(days=1)
    due(session, "Acme", USER, wednesday)
    due(session, "Beta", OWNER_B, TUESDAY)
    due(session, "Gamma", OWNER_B, wednesday)  # not yet due on Noronha
    assert scheduler.run_jobs(at(TUESDAY, "19:00"))["revisit_reminders"] == 2
    assert sorted((n.channel, n.payload["today"], n.payload["locale"], n.key.split(":")[-1])
                  for n in notifications(session)) == [
        (USER, "2026-12-02", "zh-CN", "2026-12-02"), (OWNER_B, "2026-12-01", "en-US", "2026-12-01")]  # fmt: skip


def test_workspaces_whose_sweep_together_fails_are_swept_one_by_one(scheduler, session, monkeypatch, caplog):
    _two_workspaces_due(session)
    session.execute(update(Member).values(tz="UTC"))
    session.commit()
    alone = JOBS["revisit_reminders"]

    def fails_together(run, teams):  # type: ignore[no-untyped-def]
        if not isinstance(teams, str):
            raise RuntimeError("together")
        return alone(run, teams)

    monkeypatch.setitem(JOBS, "revisit_reminders", fails_together)
    assert scheduler.run_jobs(at(TUESDAY, "09:00"))["revisit_reminders"] == 2
    assert sorted(n.team_id for n in notifications(session)) == sorted([TEAM, OTHER_TEAM])
    assert "trying them one by one" in caplog.text


def test_a_message_a_newer_version_wrote_waits_for_it_rather_than_failing(session, scheduler):
    """During a rolling upgrade an older worker may claim a row whose renderer only the new
    version has: it puts it back for later, rather than marking it failed for good."""
    member(session, USER)
    enqueue(session, now=at(TUESDAY, "09:00"), team_id=TEAM, key="newer", kind="escalation", channel=USER, text="",
            meta={"render": "from_a_newer_version", "complaint_id": 1})  # fmt: skip
    session.commit()
    report = scheduler.deliver(at(TUESDAY, "09:00"))
    [row] = notifications(session)
    assert (report.failed, report.retry_later) == (0, 1)
    assert (row.status, row.last_error, row.payload["render"]) == ("pending", "unknown renderer", "from_a_newer_version")
    assert row.due_at == at(TUESDAY, "09:05")


def test_the_minutes_checks_with_nothing_to_write_take_no_write_turn(session, engine):
    """On SQLite one transaction writes at a time, and one that holds the turn while it reads
    holds back every touch meanwhile (1-2 s a minute at 100,000 customers and 10,000 active
    complaints). With nothing due, the complaint scan, the check-ins, the stage check, the
    response reminders and the weekly report only read: the second run, a minute after the
    first, takes no write turn at all."""
    if engine.dialect.name != "sqlite":
        pytest.skip("write turns are SQLite's")
    now = at(dt.date(2026, 12, 1), "10:00")
    factory, turns = make_session_factory(engine), []
    with unit_of_work(factory, now=now) as adding:  # added as of `now`: its first check-in is months away
        customer = create_customer(session=adding, viewer=as_admin(), data=CustomerInput(name="Acme Ltd", grade="A"),
                                   surface="test")  # fmt: skip
        customer_id = customer.id
    add_complaint(session, customer_id, "Late delivery", now=now, severity="high")  # first response in 4 h
    checks = ["complaint_escalations", "satisfaction_checkins", "customer_stages", "response_reminders",
              "weekly_report"]  # fmt: skip

    def run(when: dt.datetime) -> dict[str, int]:
        return run_jobs(factory, now=when, directories=lambda _team: None, only=checks)

    db.turn_observers.append(lambda _waited, held: turns.append(held))
    try:
        assert run(now + dt.timedelta(minutes=1))["customer_stages"] == 0  # claimed: the hour's only write
        assert len(turns) == 1
        assert run(now + dt.timedelta(minutes=2)) == dict.fromkeys(checks, 0)
        assert len(turns) == 1
        # and they still write when something is due: the complaint's first-response warning (80 %)
        assert run(now + dt.timedelta(hours=3, minutes=12))["complaint_escalations"] == 1
        assert len(turns) == 3  # the warning's, and the claim of a new hour's stage check
    finally:
        db.turn_observers.pop()


@contextmanager
def revisit_minutes(engine) -> Iterator[tuple[Callable[[str], int], list[float]]]:
    """The revisit job, run as of a time of TUESDAY (rows written), and the write turns taken meanwhile."""
    factory, turns = make_session_factory(engine), []

    def run(hhmm: str) -> int:
        return run_jobs(factory, now=at(TUESDAY, hhmm), directories=lambda _team: None,
                        only=["revisit_reminders"])["revisit_reminders"]  # fmt: skip

    db.turn_observers.append(lambda _waited, held: turns.append(held))
    try:
        yield run, turns
    finally:
        db.turn_observers.pop()


def test_the_minutes_single_reminders_with_nothing_new_to_write_take_no_write_turn(session, engine):
    """With the digest off, each due revisit is a message of its own, written for everyone at
    once by one `INSERT … SELECT`. A minute in which each is written already only reads (before,
    the statement took the write turn every working minute to write nothing: 96 ms a minute for
    5,000 people); one newly due is still written the next minute."""
    if engine.dialect.name != "sqlite":
        pytest.skip("write turns are SQLite's")
    member(session, USER, digest_enabled=False)
    due(session, "Acme", USER, TUESDAY)
    with revisit_minutes(engine) as (run, turns):
        assert run("09:00") == 1
        assert len(turns) == 1
        assert run("09:01") == 0 and run("12:00") == 0
        assert len(turns) == 1
        due(session, "Beta", USER, TUESDAY)  # due today since a minute ago (a snooze ending today)
        before = len(turns)
        assert run("12:01") == 1
        assert len(turns) == before + 1
    assert sorted(n.payload["customer_id"] for n in notifications(session)) == sorted(
        c.id for c in session.scalars(select(Customer)))


def test_the_minutes_reminders_with_nothing_new_to_write_take_no_write_turn(session, engine):
    """The digests' window stays open all working day and the job runs every minute. A minute
    in which every open window's digest is written already, and every other window is
    closed, only reads: it takes no write turn (before, it read the whole team holding it)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("write turns are SQLite's")
    member(session, USER)
    member(session, OWNER_B, digest_time="16:00")
    due(session, "Acme", USER, TUESDAY)
    due(session, "Beta", OWNER_B, TUESDAY)
    with revisit_minutes(engine) as (run, turns):
        assert run("09:00") == 1  # USER's digest
        assert len(turns) == 1
        assert run("09:01") == 0 and run("15:59") == 0
        assert len(turns) == 1
        assert run("16:00") == 1  # OWNER_B's window opens: their digest is written
        assert len(turns) == 2
    assert sorted(n.channel for n in notifications(session)) == sorted([USER, OWNER_B])
