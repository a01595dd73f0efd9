"""App Homes through the outbox (services.home.asked_homes): a request that changes what someone's
Home shows asks for it in its own transaction, and the worker's sender builds and publishes it.
The process answering Slack publishes nothing for a change; a burst of changes is one publish;
a change made while a Home waits for its turn is in its one publish, one made after it was built is
published too; the Homes go before a backlog of digests; a Home Slack refused is not shown to
admins as a message that failed."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import select, update

from bot.clock import wall
from bot.scheduler import outbox
from bot.scheduler.outbox import Delivery
from bot.scheduler.pacing import Pacer
from bot.scheduler.rows import enqueue
from bot.scheduler.runner import Scheduler
from bot.storage.db import make_session_factory
from bot.storage.models import Customer, Notification
from tests import slackclient
from tests.helpers import add_customer, ask_homes, until
from tests.slackclient import TEAM, USER, block_text

NOW = "2026-12-01T09:30:00+00:00"
OWNER = "U0000OWN1"


@pytest.fixture
def worker(settings, engine) -> Scheduler:
    """The worker's sender, one lane and no pacing, its retries without waiting: what it sends
    comes in the order it takes it."""
    return Scheduler(settings, make_session_factory(engine), pacer=None, home_pacer=None, lanes=1,
                     sleep=lambda _seconds: None, retry_budget=2)  # fmt: skip


@pytest.fixture
def no_worker(monkeypatch):
    """Requests answered with no worker running: what they asked for stays in the outbox."""
    monkeypatch.setattr(slackclient, "_HOME_SENDERS", [])


def homes(session) -> list[Notification]:
    session.expire_all()
    rows = list(session.scalars(select(Notification).where(Notification.kind == "home").order_by(Notification.id)))
    session.commit()  # end the read: on SQLite every transaction holds the write lock
    return rows


def overdue(session, name: str) -> None:
    customer = add_customer(session, name)
    customer.next_revisit = dt.date(2026, 11, 20)
    session.commit()


def log_touch(slack, fake, customer: str, summary: str) -> None:
    slack.command(f"touch {customer}")
    assert slack.submit(fake.last("views.open")["view"], {"Summary": summary}).status == 200


def home_claimed(slack, fake, session, sender, now: dt.datetime) -> tuple[int, dt.datetime, Notification]:
    """A touch on Acme asks for its author's Home, and `sender` claims it: its row's id, the lease,
    the row as the sender read it."""
    log_touch(slack, fake, "Acme", "called")
    ids, lease = sender.claim(now=now, exclude=set())
    [row_id] = [h.id for h in homes(session)]
    return row_id, lease, sender._rows(ids, lease)[row_id]


def said(session) -> list[Notification]:
    session.expire_all()
    rows = list(session.scalars(select(Notification).where(Notification.kind == "said").order_by(Notification.id)))
    session.commit()
    return rows


@freeze_time(NOW)
def test_a_change_asks_the_worker_for_the_home_and_the_dm_and_the_answering_process_sends_neither(
    slack, fake, session, worker, no_worker
):
    add_customer(session, "Acme", owner_id=OWNER)
    log_touch(slack, fake, "Acme", "Walked the plant")

    assert fake.calls_to("chat.postMessage") == [] and fake.calls_to("views.publish") == []
    assert [(h.channel, h.status) for h in homes(session)] == [(USER, "pending"), (OWNER, "pending")]
    assert [(s.channel, s.status) for s in said(session)] == [(USER, "pending")]

    report = worker.deliver(dt.datetime.fromisoformat(NOW))

    assert report.sent == 3
    assert "Touch with *Acme" in fake.last("chat.postMessage")["text"]
    assert sorted(c.args["user_id"] for c in fake.calls_to("views.publish")) == sorted([OWNER, USER])
    assert [h.status for h in homes(session)] == ["sent", "sent"]
    assert said(session) == []  # a DM sent is not kept (services.notices)


@freeze_time(NOW)
def test_a_burst_of_changes_for_one_person_is_one_publish_built_as_things_are_then(
    slack, fake, session, worker, no_worker
):
    for name in ("Acme", "Beta", "Gamma"):
        overdue(session, name)
    for name in ("Acme", "Beta"):
        log_touch(slack, fake, name, "called")

    worker.deliver(dt.datetime.fromisoformat(NOW))

    [published] = fake.calls_to("views.publish")
    shown = block_text(published.args["view"]["blocks"])
    assert "Gamma" in shown and "Acme" not in shown and "Beta" not in shown  # both touches, one publish
    assert len(homes(session)) == 1


@freeze_time(NOW)
def test_a_change_while_the_home_waits_for_its_turn_is_in_its_one_publish(
    slack, fake, session, settings, engine, no_worker
):
    for name in ("Acme", "Beta"):
        overdue(session, name)
    log_touch(slack, fake, "Acme", "called")
    clock = [0.0]
    turns = Pacer(per_minute=60, channel_rate=1 / 3, channel_burst=1, clock=lambda: clock[0])
    turns.reserve(TEAM, USER)  # their Home went a moment ago: the next one waits 3 s for its turn
    changes = iter([lambda: log_touch(slack, fake, "Beta", "called")])

    def wait(seconds: float) -> None:  # while the Home waits, a touch asks for it again
        next(changes, lambda: None)()
        clock[0] += seconds

    worker = Scheduler(settings, make_session_factory(engine), pacer=None, home_pacer=turns, lanes=1, sleep=wait)
    worker.deliver(dt.datetime.fromisoformat(NOW))

    [published] = fake.calls_to("views.publish")  # built after the wait, with both touches: not again
    shown = block_text(published.args["view"]["blocks"])
    assert "Acme" not in shown and "Beta" not in shown
    assert [h.status for h in homes(session)] == ["sent"] and next(changes, None) is None


@freeze_time(NOW)
def test_a_change_after_the_home_was_built_is_published_too(slack, fake, session, worker, no_worker, monkeypatch):
    for name in ("Acme", "Beta"):
        overdue(session, name)
    log_touch(slack, fake, "Acme", "called")
    build = outbox.RENDERERS["home"]
    changes = iter([lambda: log_touch(slack, fake, "Beta", "called")])

    def built_then_changed(*args):
        home = build(*args)
        next(changes, lambda: None)()  # a touch saved after the first Home was built, before it is published
        return home

    monkeypatch.setitem(outbox.RENDERERS, "home", built_then_changed)
    worker.deliver(dt.datetime.fromisoformat(NOW))

    first, second = fake.calls_to("views.publish")
    assert "Beta" in block_text(first.args["view"]["blocks"])
    assert "Beta" not in block_text(second.args["view"]["blocks"])
    assert [h.status for h in homes(session)] == ["sent"]


@freeze_time(NOW)
def test_a_home_another_sender_took_while_it_waited_is_left_to_that_one(
    slack, fake, session, settings, engine, worker, no_worker
):
    for name in ("Acme", "Beta"):
        overdue(session, name)
    now = dt.datetime.fromisoformat(NOW)
    sender = worker.sender
    row_id, lease, taken = home_claimed(slack, fake, session, sender, now)
    log_touch(slack, fake, "Beta", "called")  # asked again: pending, and another sender takes it
    other = Scheduler(settings, make_session_factory(engine), pacer=None, home_pacer=None).sender
    other.wall = lambda: wall() + dt.timedelta(seconds=1)  # its lease is its own
    others, their_lease = other.claim(now=now, exclude=set())
    assert row_id in others

    done = Delivery()
    sender._deliver_one(row_id, lease, done, now=now, deadline=None, claimed=taken)
    assert done == Delivery() and fake.calls_to("views.publish") == []
    other._deliver_one(row_id, their_lease, done, now=now, deadline=None)

    assert done.sent == 1 and len(fake.calls_to("views.publish")) == 1
    assert [h.status for h in homes(session)] == ["sent"]


@freeze_time(NOW)
def test_a_home_another_sender_gave_back_for_later_is_not_taken_back_before_then(
    slack, fake, session, worker, no_worker
):
    overdue(session, "Acme")
    now = dt.datetime.fromisoformat(NOW)
    sender = worker.sender
    row_id, lease, taken = home_claimed(slack, fake, session, sender, now)
    later = wall() + dt.timedelta(seconds=30)  # another sender had it since, and Slack said: in 30 s
    session.execute(update(Notification).where(Notification.id == row_id).values(status="pending", due_at=later))
    session.commit()

    done = Delivery()
    sender._deliver_one(row_id, lease, done, now=now, deadline=None, claimed=taken)

    assert done == Delivery() and fake.calls_to("views.publish") == []
    assert [(h.status, h.due_at) for h in homes(session)] == [("pending", later)]


@freeze_time(NOW)
def test_homes_and_a_requests_dm_go_before_a_backlog_of_digests(slack, fake, session, settings, engine, no_worker):
    add_customer(session, "Acme")
    now = dt.datetime.fromisoformat(NOW)
    for n in range(30):  # due an hour before the Home was asked for
        enqueue(session, now=now - dt.timedelta(hours=1), team_id=TEAM, key=f"digest:{n}", kind="digest",
                channel=f"U000DIG{n:02d}", text=f"digest {n}")  # fmt: skip
    session.commit()
    log_touch(slack, fake, "Acme", "called")
    fake.forget_calls()

    Scheduler(settings, make_session_factory(engine), pacer=None, home_pacer=None, lanes=1, batch_size=20).deliver(now)

    sent = [c.args.get("text") or c.method for c in fake.calls if c.method in ("views.publish", "chat.postMessage")]
    assert "views.publish" in sent[:2] and any("Touch with *Acme" in m for m in sent[:2]) and len(sent) == 32
    assert sent[2:] == [f"digest {n}" for n in range(30)]


@freeze_time(NOW)
def test_a_home_slack_refused_is_not_shown_to_admins_as_a_message_that_failed(slack, fake, session, worker, no_worker):
    fake.add_user("U00ADMIN", is_admin=True)
    add_customer(session, "Acme")
    log_touch(slack, fake, "Acme", "called")
    fake.fail("views.publish", error="user_not_found")
    worker.deliver(dt.datetime.fromisoformat(NOW))
    assert [(h.status, h.last_error) for h in homes(session)] == [("failed", "user_not_found")]

    slack.event({"type": "app_home_opened", "user": "U00ADMIN", "tab": "home"})

    assert "Messages Slack refused" not in block_text(fake.last("views.publish")["view"]["blocks"])


def backing_off(slack, fake, session, worker) -> Notification:
    """A touch's Home that Slack answered 5xx: pending, its next try some seconds ahead."""
    add_customer(session, "Acme")
    log_touch(slack, fake, "Acme", "called")
    fake.fail("views.publish", error="internal_error", status=500, times=100)
    worker.deliver(dt.datetime.fromisoformat(NOW))
    [row] = homes(session)
    assert row.status == "pending" and row.due_at > dt.datetime.fromisoformat(NOW)
    fake.failures.clear()
    return row


@freeze_time(NOW)
def test_a_home_that_failed_is_asked_for_again_by_the_next_change(slack, fake, session, worker, no_worker):
    row = backing_off(slack, fake, session, worker)
    fake.fail("views.publish", error="user_not_found")
    with freeze_time(row.due_at):
        worker.deliver(row.due_at)
    assert homes(session)[0].status == "failed"

    log_touch(slack, fake, "Acme", "called again")
    worker.deliver(dt.datetime.fromisoformat(NOW))

    assert homes(session)[0].status == "sent" and fake.last("views.publish")["user_id"] == USER


@freeze_time(NOW)
def test_a_request_that_fails_asks_for_no_home(slack, fake, session, no_worker):
    add_customer(session, "Acme")
    slack.command("touch Acme")
    view = fake.last("views.open")["view"]
    session.execute(Notification.__table__.delete())
    session.execute(Customer.__table__.delete())
    session.commit()

    reply = slack.submit(view, {"Summary": "hello"})

    assert reply.json["errors"] == {"customer": "This customer no longer exists."}
    assert homes(session) == []


@freeze_time(NOW)
def test_opening_the_home_publishes_it_at_once_without_the_worker(slack, fake, session, no_worker):
    slack.event({"type": "app_home_opened", "user": USER, "tab": "home"})
    assert fake.last("views.publish")["user_id"] == USER and homes(session) == []


@freeze_time(NOW)
def test_a_button_pressed_on_the_home_shows_the_home_again_at_once(slack, fake, session, no_worker):
    """The person is looking at their Home: it is published after the answer, not by the worker."""
    overdue(session, "Acme")
    slack.event({"type": "app_home_opened", "user": USER, "tab": "home"})
    home = fake.last("views.publish")["view"]
    assert "Acme" in block_text(home["blocks"])
    [actions] = [b for b in home["blocks"] if b.get("block_id", "").startswith("revisit:")]

    slack.action("revisit_snooze", selected_option={"value": "3"}, block_id=actions["block_id"], view=home)

    assert len(fake.calls_to("views.publish")) == 2
    shown = block_text(fake.last("views.publish")["view"]["blocks"])
    assert "Due 2026-12-04" in shown and "overdue" not in shown


@freeze_time(NOW)
def test_a_home_is_built_with_its_persons_slack_profile(slack, fake, session, worker, no_worker):
    """Someone who never used touchbase is given a customer: their Home is in their language."""
    fake.add_user("U0000ZH01", locale="zh-CN", tz="Asia/Shanghai")
    add_customer(session, "Acme")
    slack.command("assign Acme <@U0000ZH01>")

    worker.deliver(dt.datetime.fromisoformat(NOW))

    theirs = [c.args["view"] for c in fake.calls_to("views.publish") if c.args["user_id"] == "U0000ZH01"]
    assert theirs and "我的客户" in block_text(theirs[-1]["blocks"])


@freeze_time(NOW)
def test_a_home_backing_off_is_due_again_at_the_next_change(slack, fake, session, worker, no_worker):
    backing_off(slack, fake, session, worker)

    log_touch(slack, fake, "Acme", "called again")  # before the backoff is over
    worker.deliver(dt.datetime.fromisoformat(NOW))

    assert homes(session)[0].status == "sent" and fake.last("views.publish")["user_id"] == USER


def test_a_run_as_of_a_later_instant_sends_homes_as_of_now_and_keeps_them_due_now(slack, fake, session, worker, no_worker):
    """`sweep --at` a week ahead (or the playground's "next Monday"): a Home is built and
    rescheduled on the real clock, so a later change still reaches it."""
    add_customer(session, "Acme")
    log_touch(slack, fake, "Acme", "called")
    fake.fail("views.publish", error="internal_error", status=500, times=100)
    worker.deliver(wall() + dt.timedelta(days=7))
    [row] = homes(session)
    assert row.status == "pending" and row.due_at < wall() + dt.timedelta(hours=1)
    fake.failures.clear()
    with freeze_time(row.due_at):  # its backoff, on the real clock
        worker.deliver(wall() + dt.timedelta(days=7))
    assert homes(session)[0].status == "sent"
    fake.forget_calls()
    log_touch(slack, fake, "Acme", "called again")

    worker.deliver(wall() + dt.timedelta(days=7))

    assert homes(session)[0].status == "sent" and fake.last("views.publish")["user_id"] == USER


def test_a_429_on_a_home_does_not_hold_up_the_messages(settings, engine, session, fake):
    """Homes and messages are paced apart: Slack budgets `views.publish` on its own."""
    from bot.scheduler.pacing import Pacer, home_pacer

    add_customer(session, "Acme")
    now = wall()
    ask_homes(session, now=now, team=TEAM, people=[USER])
    enqueue(session, now=now, team_id=TEAM, key="digest:x", kind="digest", channel="U000DIG01", text="digest")
    session.commit()
    fake.fail("views.publish", status=429, retry_after=30)
    messages, homes_ = Pacer(), home_pacer()
    sender = Scheduler(settings, make_session_factory(engine), pacer=messages, home_pacer=homes_, lanes=1,
                       sleep=lambda _s: None, retry_budget=2).sender  # fmt: skip

    sender.deliver(now=now)

    assert homes_.paused_until(TEAM) > homes_.clock() and messages.paused_until(TEAM) <= messages.clock()
    assert [c.args["text"] for c in fake.calls_to("chat.postMessage")] == ["digest"]


def test_a_dm_asked_for_during_a_burst_of_homes_goes_without_waiting_for_them(settings, engine, session, fake):
    """Homes wait for their turn in Slack's budget for `views.publish` on lanes of their own, so
    a DM a request asks for meanwhile goes at its own pace, not after the Homes before it."""
    import threading

    from bot.scheduler.pacing import Pacer
    from bot.services.notices import Said, say

    add_customer(session, "Acme")
    people = [f"U00000{n:03d}" for n in range(8)]
    ask_homes(session, now=wall(), team=TEAM, people=people)
    session.commit()

    def turn(_seconds: float) -> None:  # a Home's turn comes once the DM is out (or after 10 s)
        until(lambda: fake.calls_to("chat.postMessage"), 10)

    homes_pace = Pacer(per_minute=60, channel_burst=1, burst=1)  # one Home at once, the next a second later
    sender = Scheduler(settings, make_session_factory(engine), pacer=Pacer(), home_pacer=homes_pace, lanes=4,
                       sleep=turn).sender  # fmt: skip
    run = threading.Thread(target=lambda: sender.deliver(now=wall()))
    run.start()
    try:
        until(lambda: fake.calls_to("views.publish"))  # the burst is being sent; the next Homes wait
        say(session=session, now=wall(), team_id=TEAM, said=[Said(USER, "touch:1", {"text": "Touch logged."})])
        session.commit()
    finally:
        run.join()
    sent = [c.method for c in fake.calls if c.method in ("views.publish", "chat.postMessage")]
    assert sent.index("chat.postMessage") == 1 and sent.count("views.publish") == len(people)
    assert fake.last("chat.postMessage")["text"] == "Touch logged."
