"""Linked channels end to end through the fake Slack: `/crm link|unlink|channels`, a customer's
messages as touches, the response clock moved by the scheduler's sweeps, "I replied
elsewhere", deleted messages, the complaint emoji, and the Workflow Builder steps.

Messages carry fixed `ts` instants (Tuesday 2026-12-01 10:00 UTC and after): the clock runs
from when a message was written, and `sweep(at)` moves the scheduler's clock, so no test
depends on today's date.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from slack_sdk import WebClient
from sqlalchemy import delete, func, select, update

from bot.notify import Permalinks
from bot.scheduler.runner import Scheduler
from bot.services.workspaces import get_workspace
from bot.storage import db
from bot.storage.db import make_session_factory
from bot.storage.models import (
    AuditEvent,
    ChannelLink,
    ChannelMessage,
    Complaint,
    Customer,
    Member,
    Notification,
    Touch,
    Workspace,
)
from tests.conftest import BOT_TOKEN
from tests.helpers import add_customer, errors_logged, lock_waits, stored, until
from tests.slackclient import (
    BOT_USER,
    TEAM,
    USER,
    WORKFLOW_TOKEN,
    block_text,
    table_rows,
)

OWNER, MEMBER, LEAD, ADMIN = USER, "U0000002", "U000LEAD", "U00000AD"
GUEST, THEIRS = "U0GUEST1", "T0THEIRS"  # a Slack Connect guest and their own workspace
ACME = "C0000ACME"
TUESDAY_10 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)


def ts(at: dt.datetime, n: int = 0) -> str:
    """A Slack message id at `at` (`n` tells apart messages of the same second)."""
    return f"{int(at.timestamp())}.{n:06d}"


def at(hours: float = 0, *, day: int = 0) -> dt.datetime:
    return TUESDAY_10 + dt.timedelta(days=day, hours=hours)


@pytest.fixture
def scheduler(settings, engine):
    return Scheduler(settings, make_session_factory(engine))


@pytest.fixture
def acme(slack, fake, session):
    """Acme Ltd (grade A: 1 business hour), owned by OWNER, linked to the public #acme."""
    customer = add_customer(session, "Acme Ltd", owner_id=OWNER, grade="A")
    fake.add_channel(ACME)
    reply = slack.command(f"link Acme Ltd <#{ACME}|acme>", user=OWNER)
    assert "is now the channel of *Acme Ltd (#1)*" in reply.shown
    return customer


def guest_says(slack, text: str, when: dt.datetime, *, n: int = 0, channel: str = ACME, **kw):
    return slack.message(text, ts=ts(when, n), channel=channel, user=GUEST, user_team=THEIRS, **kw)


def touches_of(session) -> list[Touch]:
    return stored(session, Touch)


def messages_of(session) -> list[ChannelMessage]:
    return stored(session, ChannelMessage)


@pytest.fixture
def racing(engine, fake, caplog):  # type: ignore[no-untyped-def]
    """Two transactions at once, on PostgreSQL (SQLite's writers take turns): the admin who
    erases and merges, and the log kept for the errors a deadlock would end one of them with."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite: one writer at a time")
    caplog.set_level(logging.INFO)
    fake.add_user(ADMIN, is_admin=True)


def reminders(fake, user: str = OWNER) -> list[dict]:
    return [c.args for c in fake.calls_to("chat.postMessage")
            if c.args.get("channel") == user and "No reply yet" in str(c.args.get("text"))]  # fmt: skip


def role(session, user_id: str, role_name: str) -> None:
    get_workspace(session, TEAM)
    session.add(Member(team_id=TEAM, user_id=user_id, role=role_name))
    session.commit()


# --- link, unlink, channels ---------------------------------------------------------------------


def test_the_owner_a_lead_or_an_admin_links_a_channel_and_the_bot_joins_public_ones(slack, fake, session):
    add_customer(session, "Acme Ltd", owner_id=OWNER)
    add_customer(session, "Beta Co", owner_id=MEMBER)
    role(session, LEAD, "lead")
    fake.add_user(ADMIN, is_admin=True)
    fake.add_channel(ACME)
    fake.add_channel("C0000BETA", is_member=True)
    fake.add_channel("C00000GAMMA", is_private=True)

    refused = slack.command(f"link Acme Ltd <#{ACME}|acme>", user=MEMBER)
    assert refused.shown == "Only the customer's owner, a lead or an admin can link or unlink its channels."
    assert fake.calls_to("conversations.join") == []

    linked = slack.command(f"link Acme Ltd <#{ACME}|acme>", user=OWNER).shown
    assert linked.startswith(f"<#{ACME}> is now the channel of *Acme Ltd (#1)*.\nI joined it:")
    assert fake.last("conversations.join")["channel"] == ACME

    assert "I'm in it" in slack.command("link Beta Co <#C0000BETA|beta>", user=LEAD).shown
    assert fake.calls_to("conversations.join")[-1].args["channel"] == ACME  # already in #beta: not joined again
    private = slack.command("link Beta Co <#C00000GAMMA|gamma>", user=ADMIN).shown
    assert "type `/invite @touchbase` in <#C00000GAMMA>" in private
    unseen = slack.command("link Beta Co <#C0000DELTA>", user=ADMIN).shown  # a private channel it cannot see
    assert "type `/invite @touchbase` in <#C0000DELTA>" in unseen

    taken = slack.command(f"link Beta Co <#{ACME}|acme>", user=ADMIN).shown
    assert taken == f"<#{ACME}> is already the channel of Acme Ltd (#1): `/crm unlink` it first."
    assert "`/crm link Acme Ltd #acme-support`" in slack.command("link Acme Ltd", user=OWNER).shown

    session.expire_all()
    links = {link.channel_id: link for link in session.scalars(select(ChannelLink))}
    assert set(links) == {ACME, "C0000BETA", "C00000GAMMA", "C0000DELTA"}
    assert links[ACME].linked_by == OWNER
    assert [a.action for a in session.scalars(select(AuditEvent).where(AuditEvent.action == "link"))] == ["link"] * 4
    session.commit()

    assert "Only the customer's owner" in slack.command(f"unlink <#{ACME}|acme>", user=MEMBER).shown
    gone = slack.command(f"unlink <#{ACME}|acme>", user=OWNER).shown
    assert gone == f"<#{ACME}> is no longer the channel of *Acme Ltd (#1)*. Its messages are not logged any more; the touches stay."
    assert slack.command(f"unlink <#{ACME}>", user=OWNER).shown == f"<#{ACME}> is not linked to a customer."
    assert "`/crm unlink #acme-support`" in slack.command("unlink acme", user=OWNER).shown


def test_link_names_contacts_and_asks_which_customer_when_several_match(slack, fake, session):
    add_customer(session, "Acme Ltd", owner_id=OWNER)
    add_customer(session, "Acme Group", owner_id=OWNER)
    fake.add_channel(ACME, is_member=True)
    reply = slack.command(f"link Acme <#{ACME}|acme> <@U0CLIENT|wei>", user=OWNER)
    assert "Acme Group (#2)" in reply.shown and "Acme Ltd (#1)" in reply.shown
    slack.click(reply.blocks, "Link", nth=1, user=OWNER)  # Acme Ltd, in name order
    answer = block_text(fake.last("response_url")["blocks"])
    assert "is now the channel of *Acme Ltd (#1)*" in answer
    assert "Messages there from <@U0CLIENT> count as the customer's too." in answer
    [found] = session.scalars(select(ChannelLink)).all()
    assert (found.customer_id, found.contacts) == (1, ["U0CLIENT"])


def test_crm_channels_is_a_table_of_each_channel_with_its_oldest_unanswered_message(slack, fake, session, acme):
    add_customer(session, "Beta Co", owner_id=MEMBER)
    fake.add_channel("C0000BETA", is_member=True)
    slack.command("link Beta Co <#C0000BETA|beta>", user=MEMBER)
    guest_says(slack, "Where is our order?", at(0))
    guest_says(slack, "Hello?", at(0.5), n=1)

    reply = slack.command("channels")
    assert reply.blocks[0]["text"]["text"] == "*Linked channels* (2)"
    assert reply.blocks[-1]["type"] == "table"
    header, *rows = table_rows(reply.blocks)
    assert header == ["Channel", "Customer", "Owner", "Waiting since", "From"]
    assert rows[0][:3] == [f"<#{ACME}>", "Acme Ltd (#1)", f"<@{OWNER}>"]
    since = reply.blocks[-1]["rows"][1][3]["elements"][0]["elements"][0]
    assert since["timestamp"] == int(at(0).timestamp())  # the oldest one, linking to it
    assert since["url"] == f"https://example.slack.com/archives/{ACME}/p{ts(at(0)).replace('.', '')}"
    assert rows[0][4] == f"<@{GUEST}>"
    assert rows[1] == ["<#C0000BETA>", "Beta Co (#2)", f"<@{MEMBER}>", "nothing waiting", "–"]

    # in Chinese, the same table with Chinese headers
    fake.add_user("U0000ZH1", locale="zh-CN")
    header = table_rows(slack.command("频道", user="U0000ZH1").blocks)[0]
    assert header == ["频道", "客户", "负责人", "等待自", "发言人"]


def test_the_profile_card_lists_the_customers_channels(slack, fake, session, acme):
    shown = slack.command("show Acme Ltd").shown
    assert f"Channels: <#{ACME}>" in shown


# --- a customer's messages -----------------------------------------------------------------------


def test_a_slack_connect_guests_message_becomes_an_inbound_touch(slack, fake, session, acme):
    text = "Our order #4711 is late. " * 40  # 1,000 characters
    assert guest_says(slack, text, at(0)).status == 200

    [touch] = touches_of(session)
    assert (touch.kind, touch.speaker_id, touch.author_id) == ("chat", GUEST, BOT_USER)
    assert touch.summary == text[:500].strip() and len(touch.summary) <= 500
    assert touch.happened_at == at(0)
    assert touch.permalink == f"https://example.slack.com/archives/{ACME}/p{ts(at(0)).replace('.', '')}"
    customer = session.get(Customer, acme.id)
    session.refresh(customer)
    assert customer.last_touch_at == at(0)  # contact, for revisits and health
    assert customer.next_revisit == dt.date(2026, 12, 8)  # grade A: 7 days after the touch
    session.commit()
    shown = slack.command("show Acme Ltd").shown
    assert "Our order #4711 is late." in shown

    # the team's own people, bots, edits, joins and other channels make no touch
    slack.message("On it!", ts=ts(at(0.1)), channel=ACME, user=OWNER)
    slack.message("beep", ts=ts(at(0.2)), channel=ACME, user=GUEST, user_team=THEIRS, bot_id="B0OTHER")
    slack.message("Reminder: standup", ts=ts(at(0.25)), channel=ACME, user="USLACKBOT")
    slack.message("edited", ts=ts(at(0.3)), channel=ACME, user=GUEST, user_team=THEIRS, subtype="message_changed")
    slack.message("joined", ts=ts(at(0.4)), channel=ACME, user=GUEST, user_team=THEIRS, subtype="channel_join")
    slack.message("elsewhere", ts=ts(at(3)), channel="C0000OTHER", user=GUEST, user_team=THEIRS)
    assert len(touches_of(session)) == 1
    assert [m.ts for m in messages_of(session)] == [ts(at(0))]


def test_a_channels_message_links_are_asked_of_slack_until_it_has_shown_how_it_builds_them(slack, fake, session,
                                                                                           acme):  # fmt: skip
    root, other = ts(at(0)), "C0000BETA"
    add_customer(session, "Beta Co", owner_id=OWNER)
    fake.add_channel(other, is_member=True)
    assert "is now the channel of" in slack.command(f"link Beta Co <#{other}|beta>", user=OWNER).shown
    for n in (1, 2):  # so that the fake answers for them as for replies
        fake.add_message(ACME, ts(at(n / 60), n), "a reply", thread_ts=root)
    guest_says(slack, "Question one", at(0))  # asked
    guest_says(slack, "a reply", at(1 / 60), n=1, thread_ts=root)  # asked: a reply's shape is not known yet
    guest_says(slack, "more of it", at(2 / 60), n=2, thread_ts=root)  # built
    guest_says(slack, "A new topic", at(2), n=3)  # built
    guest_says(slack, "Hello", at(2), n=4, channel=other)  # asked: another channel
    assert [(c.args["channel"], c.args["message_ts"]) for c in fake.calls_to("chat.getPermalink")] == [
        (ACME, root), (ACME, ts(at(1 / 60), 1)), (other, ts(at(2), 4))]  # fmt: skip

    slacks = WebClient(token=BOT_TOKEN, base_url=fake.api_url)
    for message in messages_of(session):  # each link is the one Slack gives for it
        answer = slacks.chat_getPermalink(channel=message.channel_id, message_ts=message.ts)["permalink"]
        assert message.permalink == answer
    assert [("?thread_ts=" in m.permalink) for m in messages_of(session)] == [False, True, True, False, False]
    touches = {touch.id: touch for touch in touches_of(session)}
    assert [touches[m.touch_id].permalink for m in messages_of(session) if m.touch_id] == [
        m.permalink for m in messages_of(session) if m.touch_id]  # fmt: skip


def test_message_links_are_asked_of_slack_each_time_its_answer_is_not_as_expected(slack, fake, session, acme):
    root = ts(at(0))
    for n in range(1, 3):  # replies for which the fake gives a message's link outside a thread
        guest_says(slack, f"part {n}", at(n / 60), n=n, thread_ts=root)
    assert len(fake.calls_to("chat.getPermalink")) == 2
    assert all("?thread_ts=" not in message.permalink for message in messages_of(session))  # as Slack said


def test_a_channels_learned_links_are_asked_again_after_an_hour():
    now = [0.0]
    links = Permalinks(clock=lambda: now[0])
    links.learn("T1", "C1", "1.000200", None, "https://acme.slack.com/archives/C1/p1000200")
    links.learn("T1", "C2", "1.000200", None, "https://other.example/archives/C2/p1000200?x=1")  # not Slack's shape
    now[0] = Permalinks.AGAIN_AFTER
    assert links.built("T1", "C1", "2.000300", None) == "https://acme.slack.com/archives/C1/p2000300"
    assert links.built("T1", "C1", "2.000300", "1.000200") is None  # a reply's shape not seen yet
    assert links.built("T2", "C1", "2.000300", None) is None  # another workspace's
    assert links.built("T1", "C2", "2.000300", None) is None
    links.learn("T1", "C1", "3.000400", "1.000200", "https://acme.slack.com/archives/C1/p3000400?thread_ts=1.000200&cid=C1")
    now[0] += Permalinks.AGAIN_AFTER
    assert links.built("T1", "C1", "4.0", "1.000200") == "https://acme.slack.com/archives/C1/p40?thread_ts=1.000200&cid=C1"
    now[0] += 1
    assert links.built("T1", "C1", "4.0", None) is None


def test_what_is_learned_of_channels_not_heard_from_for_an_hour_is_forgotten():
    now = [0.0]
    links = Permalinks(clock=lambda: now[0])
    for channel in ("C1", "C2", "C3"):
        links.learn("T1", channel, "1.000200", None, f"https://acme.slack.com/archives/{channel}/p1000200")
        now[0] += 10
    links.learn("T1", "C1", "2.000200", None, "https://acme.slack.com/archives/C1/p2000200")  # learned again
    now[0] = Permalinks.AGAIN_AFTER + 15  # C2's is over an hour old, C3's and C1's second are not
    links.learn("T2", "C9", "1.000200", None, "https://other.slack.com/archives/C9/p1000200")
    assert links.channels() == 3  # C2's is gone
    assert links.built("T1", "C1", "3.0", None) and links.built("T1", "C3", "3.0", None)


def test_a_message_in_a_channel_the_customers_organisation_created_is_logged_too(slack, fake, session, acme):
    # Slack gives the channel's creator (theirs) as the event's team; the installation is ours.
    assert guest_says(slack, "Hello from our side", at(0), channel_team=THEIRS).status == 200
    assert [(t.summary, t.customer_id) for t in touches_of(session)] == [("Hello from our side", acme.id)]
    assert session.scalar(select(func.count()).select_from(Workspace).where(Workspace.team_id == THEIRS)) == 0


def test_a_listed_contact_of_this_workspace_speaks_for_the_customer(slack, fake, session):
    add_customer(session, "Acme Ltd", owner_id=OWNER)
    fake.add_channel(ACME, is_member=True)
    slack.command(f"link Acme Ltd <#{ACME}|acme> <@U0CLIENT>", user=OWNER)
    slack.message("A question from the client", ts=ts(at(0)), channel=ACME, user="U0CLIENT")
    slack.message("A colleague's note", ts=ts(at(0.1)), channel=ACME, user=MEMBER)
    [touch] = touches_of(session)
    assert (touch.speaker_id, touch.summary) == ("U0CLIENT", "A question from the client")


def test_a_thread_of_ten_messages_makes_one_touch_an_hour(slack, fake, session, acme):
    root = ts(at(0))
    guest_says(slack, "Question one", at(0))
    for n in range(1, 10):
        guest_says(slack, f"More on it, part {n}", at(n * 5 / 60), n=n, thread_ts=root)
    assert [t.summary for t in touches_of(session)] == ["Question one"]
    assert len(messages_of(session)) == 10
    guest_says(slack, "Back after lunch", at(2), n=11, thread_ts=root)  # more than an hour after the thread's touch
    guest_says(slack, "A new topic in the channel", at(2.1), n=12)
    assert [t.summary for t in touches_of(session)] == ["Question one", "Back after lunch", "A new topic in the channel"]
    # Slack may deliver an event twice: still one row and one touch
    guest_says(slack, "A new topic in the channel", at(2.1), n=12)
    assert len(touches_of(session)) == 3 and len(messages_of(session)) == 12


def test_a_message_delivered_twice_together_is_stored_once(slack, fake, session, acme, caplog):
    """Slack sends an event again when the first answer is late: the two may arrive together
    (whether their transactions overlap here is up to the threads). Either way the second
    leaves the first's row, without an error: an error would also have kept the message from
    being saved twice, but failed its request."""
    caplog.set_level(logging.INFO)
    together = threading.Barrier(2)

    def deliver(_: int):
        together.wait()
        return guest_says(slack, "Is the order on its way?", at(0))

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(deliver, range(2)))
    assert [answer.status for answer in answers] == [200, 200]
    assert len(messages_of(session)) == 1 and [t.summary for t in touches_of(session)] == ["Is the order on its way?"]
    assert not errors_logged(caplog), caplog.records


def test_a_message_delivered_again_after_its_threads_touch_was_deleted_makes_no_touch(slack, fake, session, acme,
                                                                                      caplog):  # fmt: skip
    """The message is stored with its touch, so the touch is logged first. A second delivery
    finds the message stored, touched, and logs none; but if the touch that kept its first
    delivery from making one is deleted meanwhile, the second delivery logs one before it finds
    the message stored: then nothing of it is kept."""
    guest_says(slack, "Question one", at(0))
    guest_says(slack, "And a detail", at(0.1), n=1)  # touched an hour ago at most: no touch of its own
    [touch] = touches_of(session)
    fake.add_user(ADMIN, is_admin=True)
    slack.action("touch_menu", selected_option={"value": f"delete:{touch.id}"}, user=ADMIN)
    slack.click(fake.last("response_url")["blocks"], "Delete", user=ADMIN)
    session.expire_all()
    assert touches_of(session) == []
    caplog.set_level(logging.INFO)
    answer = guest_says(slack, "And a detail", at(0.1), n=1)  # Slack delivers it again
    assert answer.status == 200
    assert not errors_logged(caplog), caplog.records  # not a failure
    assert touches_of(session) == [] and len(messages_of(session)) == 2
    created = session.scalars(select(AuditEvent).where(AuditEvent.entity == "touch", AuditEvent.action == "create"))
    assert len(created.all()) == 1  # the first message's, deleted since


def test_a_message_while_its_channel_is_being_unlinked_is_let_go(slack, fake, session, acme, engine, caplog):
    """The unlink commits while the message is being stored: the message waits for it, then
    finds no link, rather than failing on the link its row would have named."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite: one writer at a time, so a message's transaction never meets an unlink's")
    caplog.set_level(logging.INFO)
    with engine.connect() as unlinking, lock_waits(engine) as waiting, ThreadPoolExecutor(1) as pool:
        unlinking.execute(delete(ChannelLink).where(ChannelLink.channel_id == ACME))  # not committed yet
        sent = pool.submit(guest_says, slack, "Is the order on its way?", at(0))
        until(lambda: waiting() > 0)
        assert waiting(), "the message did not wait for the unlink"
        unlinking.commit()
        assert sent.result().status == 200
    assert (messages_of(session), touches_of(session)) == ([], [])
    assert not errors_logged(caplog), caplog.records


def test_a_deleted_messages_touch_keeps_its_row_without_its_text(slack, fake, session, acme):
    guest_says(slack, "Please call me on +86 138 0013 8000", at(0))
    [touch] = touches_of(session)
    deleted = {"type": "message", "subtype": "message_deleted", "channel": ACME, "hidden": True,
               "deleted_ts": ts(at(0)), "ts": ts(at(0.5)), "event_ts": ts(at(0.5)),
               "previous_message": {"type": "message", "user": GUEST, "text": "Please call me", "ts": ts(at(0))}}  # fmt: skip
    slack.event(deleted)
    [kept] = touches_of(session)
    assert (kept.id, kept.summary, kept.permalink, kept.kind) == (touch.id, "[erased]", None, "chat")
    records = session.scalars(select(AuditEvent).where(AuditEvent.entity == "touch", AuditEvent.entity_id == touch.id))
    assert "+86" not in json.dumps([r.changes for r in records])
    session.commit()
    [message] = messages_of(session)
    assert message.state == "deleted"  # its clock stops too


# --- the response clock ----------------------------------------------------------------------------


def test_the_clock_reminds_the_owner_in_business_hours_once(slack, fake, session, scheduler, acme):
    guest_says(slack, "Is anyone there?", at(0))  # Tuesday 10:00; grade A: 1 business hour
    scheduler.sweep(at(0.99))
    assert reminders(fake) == []
    scheduler.sweep(at(1))
    [reminder] = reminders(fake)
    shown = block_text(reminder["blocks"])
    assert f"No reply yet to *Acme Ltd (#1)* in <#{ACME}>: <@{GUEST}> wrote" in shown
    assert f"<https://example.slack.com/archives/{ACME}/p{ts(at(0)).replace('.', '')}|Open the message>" in shown
    assert "Log touch" in shown and "I replied elsewhere" in shown
    scheduler.sweep(at(2))
    assert len(reminders(fake)) == 1  # once per message


def test_a_minute_after_the_reminder_the_clock_takes_no_write_turn(slack, fake, session, scheduler, acme, engine):
    """The response clock is read every minute in a transaction that only reads; a message
    reminded of already is left out, so on SQLite a minute with nothing new to write takes no
    turn at all (touches go on being written meanwhile)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("write turns are SQLite's")
    guest_says(slack, "Is anyone there?", at(0))
    turns: list[float] = []
    db.turn_observers.append(lambda _waited, held: turns.append(held))
    try:
        assert scheduler.run_jobs(at(1))["response_reminders"] == 1
        written = len(turns)
        assert scheduler.run_jobs(at(1.02))["response_reminders"] == 0
        assert len(turns) == written  # nothing else is due in this team either
    finally:
        db.turn_observers.pop()
    assert [n.kind for n in stored(session, Notification) if n.kind == "response"] == ["response"]


def test_the_clock_counts_business_hours_only(slack, fake, session, scheduler):
    add_customer(session, "Beta Co", owner_id=OWNER)  # no grade: B's 4 hours
    fake.add_channel(ACME, is_member=True)
    slack.command(f"link Beta Co <#{ACME}|acme>", user=OWNER)
    friday_1730 = at(7.5, day=3)
    guest_says(slack, "Before the weekend…", friday_1730)  # 30 min on Friday, 3 h 30 on Monday
    scheduler.sweep(at(2, day=4))  # Saturday
    scheduler.sweep(at(2.49, day=6))  # Monday 12:29
    assert reminders(fake) == []
    scheduler.sweep(at(2.5, day=6))  # Monday 12:30
    assert len(reminders(fake)) == 1


def test_a_team_reply_stops_the_clock(slack, fake, session, scheduler, acme):
    root = ts(at(0))
    guest_says(slack, "First question", at(0))
    guest_says(slack, "Second, in the channel", at(0.2), n=1)
    slack.message("Answering your first", ts=ts(at(0.5)), channel=ACME, user=MEMBER, thread_ts=root)
    states = {m.ts: m.state for m in messages_of(session)}
    assert states == {root: "answered", ts(at(0.2), 1): "waiting"}  # a reply in a thread answers that thread
    slack.message("And the rest", ts=ts(at(0.6)), channel=ACME, user=OWNER)
    assert {m.state for m in messages_of(session)} == {"answered"}  # one in the channel answers all before it
    scheduler.sweep(at(3))
    assert reminders(fake) == []
    assert table_rows(slack.command("channels").blocks)[1][3] == "nothing waiting"


def test_i_replied_elsewhere_stops_the_clock(slack, fake, session, scheduler, acme):
    guest_says(slack, "Called you, no answer", at(0))
    guest_says(slack, "Please call back", at(0.1), n=1)
    slack.event({"type": "app_home_opened", "user": OWNER, "tab": "home"})
    home = block_text(fake.last("views.publish")["view"]["blocks"])
    assert "Waiting for a reply" in home and f"<#{ACME}> · *Acme Ltd (#1)* · <@{GUEST}> wrote" in home

    scheduler.sweep(at(1))
    [reminder] = reminders(fake)
    assert slack.click(reminder["blocks"], "I replied elsewhere", user=MEMBER).status == 200  # in an open team
    replaced = fake.last("response_url")
    assert replaced["replace_original"] is True
    assert block_text(replaced["blocks"]) == "Thanks: the message of *Acme Ltd (#1)* counts as answered."
    assert {(m.state, m.answered_by) for m in messages_of(session)} == {("elsewhere", MEMBER)}
    scheduler.sweep(at(3))
    assert len(reminders(fake)) == 1
    assert "Waiting for a reply" not in block_text(fake.last("views.publish")["view"]["blocks"])


def test_a_reply_before_a_quiet_hours_reminder_is_sent_cancels_it(slack, fake, session, scheduler, acme):
    session.execute(update(Member).where(Member.user_id == OWNER).values(tz="Asia/Tokyo"))
    session.commit()  # 20:00 there when the clock runs out at 11:00 UTC
    guest_says(slack, "Anyone?", at(0))
    scheduler.sweep(at(1))
    assert reminders(fake) == []  # waits for the owner's working hours
    slack.message("Sorted", ts=ts(at(2)), channel=ACME, user=MEMBER)
    scheduler.sweep(at(23))  # Wednesday 09:00 in Tokyo
    assert reminders(fake) == []


# --- the complaint emoji --------------------------------------------------------------------------------


def reacted(slack, *, reaction: str = "rotating_light", user: str = MEMBER, channel: str = ACME, when=None):
    return slack.event({"type": "reaction_added", "user": user, "reaction": reaction, "item_user": GUEST,
                        "item": {"type": "message", "channel": channel, "ts": ts(when or at(0))},
                        "event_ts": ts(at(1))})  # fmt: skip


def test_the_complaint_emoji_offers_a_prefilled_log_complaint(slack, fake, session, acme):
    guest_says(slack, "The parcels arrived broken", at(0))
    fake.add_message(ACME, ts(at(0)), "The parcels arrived broken", user=GUEST)

    reacted(slack, reaction="thumbsup")
    assert fake.calls_to("chat.postEphemeral") == []
    reacted(slack)
    offer = fake.last("chat.postEphemeral")
    assert (offer["channel"], offer["user"], offer["text"]) == (ACME, MEMBER, "Log this as a complaint?")

    slack.click(offer["blocks"], "Log complaint", user=MEMBER, channel=ACME, ephemeral=True)
    modal = fake.last("views.open")["view"]
    assert modal["title"]["text"] == "Log complaint"
    blocks = {b["block_id"]: b for b in modal["blocks"]}
    assert blocks["customer"]["element"]["initial_option"]["text"]["text"] == "Acme Ltd (#1)"
    assert blocks["description"]["element"]["initial_value"] == "The parcels arrived broken"
    permalink = f"https://example.slack.com/archives/{ACME}/p{ts(at(0)).replace('.', '')}"
    assert json.loads(modal["private_metadata"])["permalink"] == permalink

    assert slack.submit(modal, {"Title": "Broken parcels"}, user=MEMBER).text == ""
    [complaint] = session.scalars(select(Complaint)).all()
    assert (complaint.title, complaint.permalink, complaint.customer_id) == ("Broken parcels", permalink, acme.id)
    assert complaint.description == "The parcels arrived broken"


def test_the_emoji_in_any_channel_and_a_dm_where_no_ephemeral_can_be_shown(slack, fake, session):
    fake.add_message("C0000RAND", ts(at(0)), "The invoice is wrong", user=MEMBER)
    fake.fail("chat.postEphemeral", error="channel_not_found")
    reacted(slack, channel="C0000RAND")
    [dm] = [c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == MEMBER]
    assert dm["text"] == "Log this as a complaint?"
    slack.click(dm["blocks"], "Log complaint", user=MEMBER)
    modal = fake.last("views.open")["view"]
    blocks = {b["block_id"]: b for b in modal["blocks"]}
    assert "initial_option" not in blocks["customer"]["element"]  # not a linked channel: pick the customer
    assert blocks["description"]["element"]["initial_value"] == "The invoice is wrong"


def test_the_complaint_emoji_is_a_team_setting(slack, fake, session):
    fake.add_user(ADMIN, is_admin=True)
    slack.command("settings", user=ADMIN)
    view = fake.last("views.open")["view"]
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    assert "Complaint emoji" in labels and "Response targets (linked channels)" in labels
    bad = slack.submit(view, {"Complaint emoji": "not an emoji!", "Response targets (linked channels)": "A soon"},
                       user=ADMIN).json  # fmt: skip
    assert set(bad["errors"]) == {"complaint_emoji", "response_targets"}
    assert slack.submit(view, {"Complaint emoji": ":fire:", "Response targets (linked channels)": "A 30m, C 2d"},
                        user=ADMIN).text == ""  # fmt: skip
    settings = get_workspace(session, TEAM).settings
    assert settings["complaint_emoji"] == "fire"
    assert settings["response_targets"] == {"A": "30m", "B": "4h", "C": "2d"}
    session.commit()
    reacted(slack, channel="C0000RAND")
    assert fake.calls_to("chat.postEphemeral") == []
    reacted(slack, reaction="fire", channel="C0000RAND")
    assert fake.last("chat.postEphemeral")["text"] == "Log this as a complaint?"


# --- Workflow Builder steps -------------------------------------------------------------------------------


def step_result(fake) -> tuple[str, dict]:
    """How the step ended: ("success", outputs) or ("error", message); with the step's own token."""
    ended = [c for c in fake.calls if c.method in ("functions.completeSuccess", "functions.completeError")]
    assert len(ended) == 1, [c.method for c in ended]
    assert ended[0].token == WORKFLOW_TOKEN and ended[0].args["function_execution_id"] == "Fx0000001"
    if ended[0].method == "functions.completeSuccess":
        return "success", json.loads(ended[0].args["outputs"])
    return "error", ended[0].args["error"]


def test_the_log_touch_step(slack, fake, session):
    customer = add_customer(session, "Acme Ltd", owner_id=OWNER)
    slack.step("log_touch_step", {"customer": "acme", "kind": "Call", "summary": "Agreed on the price",
                                  "when": int(at(0).timestamp()), "author": MEMBER})  # fmt: skip
    kind, outputs = step_result(fake)
    [touch] = touches_of(session)
    assert (kind, outputs) == ("success", {"touch_id": touch.id})
    assert (touch.customer_id, touch.kind, touch.author_id, touch.happened_at) == (customer.id, "call", MEMBER, at(0))
    assert [c.args["user_id"] for c in fake.calls_to("views.publish")] == [OWNER]  # the owner's revisit moved


@pytest.mark.parametrize(("inputs", "error"), [
    ({"customer": "Nobody Inc", "kind": "call", "summary": "x", "author": MEMBER}, "No customer matches “Nobody Inc”."),
    ({"customer": "Acme", "kind": "telepathy", "summary": "x", "author": MEMBER},
     "The kind must be one of: call, email, meeting, visit, chat, note."),
    ({"customer": "Acme", "kind": "call", "summary": "  ", "author": MEMBER}, "Write what was said or done."),
    ({"customer": "Acme", "kind": "call", "summary": "x"}, "Give who logs it: a person of your workspace."),
    ({"customer": "Acme", "kind": "call", "summary": "x", "author": MEMBER, "when": 4102444800},
     "A touch cannot be in the future."),
    ({"customer": "Acme", "kind": "call", "summary": "x", "author": MEMBER, "when": "soon"},
     "“When” must be a date and time."),
    ({"customer": {"rich": "text"}, "kind": "call", "summary": "x", "author": MEMBER}, "No customer matches"),
    ({"customer": "Acme", "kind": "call", "summary": "x" * 3001, "author": MEMBER}, "Keep this under 3000 characters."),
])  # fmt: skip
def test_the_log_touch_step_fails_with_what_was_wrong(slack, fake, session, inputs, error):
    add_customer(session, "Acme Ltd", owner_id=OWNER)
    assert slack.step("log_touch_step", inputs).status == 200
    kind, message = step_result(fake)
    assert kind == "error" and message.startswith(error)
    assert touches_of(session) == []


def test_the_log_complaint_step(slack, fake, session):
    add_customer(session, "Acme Ltd", owner_id=OWNER)
    slack.step("log_complaint_step", {"customer": "#1", "title": "Broken parcels", "description": "Three of ten",
                                      "severity": "High", "author": MEMBER})  # fmt: skip
    assert step_result(fake) == ("success", {"complaint_number": 1})
    [complaint] = session.scalars(select(Complaint)).all()
    assert (complaint.severity, complaint.author_id, complaint.assignee_id) == ("high", MEMBER, OWNER)
    told = [c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == OWNER]
    assert told and "#1" in told[0]["text"]  # the assignee hears of it, as from the modal


def test_the_log_complaint_step_fails_with_what_was_wrong(slack, fake, session):
    add_customer(session, "Acme Ltd", owner_id=OWNER)
    slack.step("log_complaint_step", {"customer": "Acme", "title": "", "author": MEMBER})
    assert step_result(fake) == ("error", "Give the complaint a short title.")
    fake.reset()
    slack.step("log_complaint_step", {"customer": "Acme", "title": "x", "severity": "apocalyptic", "author": MEMBER})
    assert step_result(fake) == ("error", "The severity must be one of: low, normal, high, urgent.")
    assert session.scalars(select(Complaint)).all() == []


def test_the_find_customer_step(slack, fake, session):
    add_customer(session, "Acme Ltd", owner_id=OWNER)
    add_customer(session, "Acme Group").owner_id = None  # nobody's
    session.commit()
    slack.step("find_customer_step", {"text": "acme ltd"})
    assert step_result(fake) == ("success", {"customer_id": "#1", "name": "Acme Ltd", "owner": OWNER})
    fake.reset()
    slack.step("find_customer_step", {"text": "#2"})
    assert step_result(fake) == ("success", {"customer_id": "#2", "name": "Acme Group"})
    fake.reset()
    slack.step("find_customer_step", {"text": "Acme"})
    kind, message = step_result(fake)
    assert kind == "error" and message.startswith("Several customers match “Acme”: Acme Group (#2), Acme Ltd (#1).")
    fake.reset()
    slack.step("find_customer_step", {})
    assert step_result(fake) == ("error", "Give the customer: its name, or its number as #N.")


def test_a_step_speaks_the_teams_language(slack, fake, session):
    workspace = get_workspace(session, TEAM)
    workspace.settings = {**workspace.settings, "language": "zh"}
    session.commit()
    slack.step("find_customer_step", {"text": "张伟"})
    assert step_result(fake) == ("error", "没有与“张伟”匹配的客户。")


def test_a_step_that_breaks_still_ends(slack, fake, session, monkeypatch):
    from bot.services import channels

    def broken(**_kw):
        raise RuntimeError("a bug")

    monkeypatch.setattr(channels, "find_one", broken)
    assert slack.step("find_customer_step", {"text": "Acme"}).status == 200
    assert step_result(fake) == ("error", "Something went wrong on our side; nothing was saved. Please try again.")


# --- owner-only visibility ----------------------------------------------------------------------------------


def test_a_member_of_an_owner_only_team_sees_and_links_only_their_own_customers_channels(slack, fake, session, acme):
    workspace = get_workspace(session, TEAM)
    workspace.settings = {**workspace.settings, "visibility": "owner"}
    session.commit()
    guest_says(slack, "Secret merger question", at(0))
    fake.add_message(ACME, ts(at(0)), "Secret merger question", user=GUEST)
    [waiting] = messages_of(session)

    assert "(#1)" not in slack.command(f"link Acme Ltd <#{ACME}|acme>", user=MEMBER).shown  # no such customer for them
    assert slack.command("channels", user=MEMBER).shown.startswith("No linked channels yet.")
    assert "Only the customer's owner" not in slack.command(f"unlink <#{ACME}>", user=MEMBER).shown
    assert "not one of yours" in slack.command(f"unlink <#{ACME}>", user=MEMBER).shown
    slack.action("channel_replied", str(waiting.id), user=MEMBER)
    assert "not one of yours" in fake.last("response_url")["text"]
    assert messages_of(session)[0].state == "waiting"
    # the emoji's "Log complaint" keeps the message, but not a customer the member may not see
    slack.action("emoji_complaint", json.dumps({"channel": ACME, "text": "Secret merger question"}), user=MEMBER)
    modal = fake.last("views.open")["view"]
    assert "Acme" not in json.dumps(modal)
    assert {b["block_id"]: b for b in modal["blocks"]}["description"]["element"]["initial_value"] == "Secret merger question"
    assert [link.channel_id for link in session.scalars(select(ChannelLink))] == [ACME]


def test_export_holds_and_erase_unlinks_the_customers_channels(slack, fake, session, acme):
    fake.add_user(ADMIN, is_admin=True)
    guest_says(slack, "My phone is +86 138 0013 8000", at(0))
    slack.command("export Acme Ltd", user=ADMIN)
    [upload] = fake.calls_to("upload")
    exported = json.loads(fake.uploads[upload.args["file_id"]])
    assert [x["channel_id"] for x in exported["channel_links"]] == [ACME]
    assert [(x["speaker_id"], x["state"]) for x in exported["channel_messages"]] == [(GUEST, "waiting")]

    ask = slack.command("erase Acme Ltd", user=ADMIN)
    slack.click(ask.blocks, "Erase", user=ADMIN)
    assert "Customer #1 erased" in fake.last("response_url")["text"]
    assert session.scalars(select(ChannelLink)).all() == [] and messages_of(session) == []
    guest_says(slack, "Still there?", at(1), n=1)
    assert [t.summary for t in touches_of(session)] == ["[erased]"]  # nothing new is logged


def test_an_erase_and_a_message_in_the_customers_channel_meet_without_a_deadlock(slack, fake, session, acme, engine,
                                                                                  caplog, racing):  # fmt: skip
    """A message in a linked channel holds the link, then locks the customer; the erase takes
    the customer's links before the customer. Had it locked the customer first and then waited
    at the links, a message holding a link and waiting for the customer would have closed a
    circle, and PostgreSQL would have ended one of the two with an error after a second."""
    ask = slack.command("erase Acme Ltd", user=ADMIN)
    with engine.connect() as other, lock_waits(engine) as waiting, ThreadPoolExecutor(2) as pool:
        # Another message's hold on the link (not committed yet): the erase waits for it there.
        other.execute(select(ChannelLink.id).where(ChannelLink.channel_id == ACME).with_for_update(read=True,
                                                                                                   key_share=True))  # fmt: skip
        erasing = pool.submit(slack.click, ask.blocks, "Erase", user=ADMIN)
        until(lambda: waiting() == 1)
        assert waiting() == 1, "the erase did not wait"
        sent = pool.submit(guest_says, slack, "Is the order on its way?", at(0))
        until(lambda: sent.done() or waiting() == 2)
        other.commit()
        assert sent.result().status == 200
        erasing.result()
    assert "Customer #1 erased" in fake.last("response_url")["text"]
    assert session.scalars(select(ChannelLink)).all() == [] and messages_of(session) == []
    assert not errors_logged(caplog), caplog.records


def test_a_message_waiting_for_its_customer_while_it_is_merged_goes_to_the_merged_customer(slack, fake, session,
                                                                                           acme, engine, caplog, racing):  # fmt: skip
    """The message holds its channel's link and waits for the customer, which a merge then
    deletes, moving the link to the customer it was merged into: the message is that one's."""
    add_customer(session, "Acme Group", owner_id=OWNER)
    ask = slack.command("merge Acme Ltd Acme Group", user=ADMIN)
    with engine.connect() as other, lock_waits(engine) as waiting, ThreadPoolExecutor(2) as pool:
        other.execute(select(Customer.id).where(Customer.name == "Acme Ltd").with_for_update())  # the merge waits
        merging = pool.submit(slack.click, ask.blocks, "Merge", user=ADMIN)
        until(lambda: waiting() == 1)
        assert waiting() == 1, "the merge did not wait"
        sent = pool.submit(guest_says, slack, "Is the order on its way?", at(0))
        until(lambda: waiting() == 2)
        assert waiting() == 2, "the message did not wait for Acme Ltd behind the merge"
        other.rollback()
        merging.result()
        assert sent.result().status == 200
    assert "Merged into Acme Group (#2)" in fake.last("response_url")["text"]
    [message] = messages_of(session)
    [touch] = touches_of(session)
    assert (touch.customer.name, touch.summary, message.touch_id) == ("Acme Group", "Is the order on its way?", touch.id)
    assert not errors_logged(caplog), caplog.records


def test_a_message_waiting_through_two_merges_goes_to_the_last_customer(slack, fake, session, acme, engine, caplog, racing):
    """Acme Ltd is merged into Acme Group, and Acme Group into Acme Holdings, while the message
    waits: it follows its link to each in turn."""
    add_customer(session, "Acme Group", owner_id=OWNER)
    add_customer(session, "Acme Holdings", owner_id=OWNER)
    first = slack.command("merge Acme Ltd Acme Group", user=ADMIN)
    then = slack.command("merge Acme Group Acme Holdings", user=ADMIN)
    with engine.connect() as other, lock_waits(engine) as waiting, ThreadPoolExecutor(3) as pool:
        other.execute(select(Customer.id).where(Customer.name == "Acme Group").with_for_update())
        merging = pool.submit(slack.click, first.blocks, "Merge", user=ADMIN)  # holds Acme Ltd, waits for Acme Group
        until(lambda: waiting() == 1)
        sent = pool.submit(guest_says, slack, "Is the order on its way?", at(0))
        until(lambda: waiting() == 2)
        assert waiting() == 2, "the message did not wait for Acme Ltd behind the first merge"
        merging_on = pool.submit(slack.click, then.blocks, "Merge", user=ADMIN)
        until(lambda: waiting() == 3)
        assert waiting() == 3, "the second merge did not wait for Acme Group"
        other.rollback()
        merging.result(), merging_on.result()
        assert sent.result().status == 200
    assert [c.name for c in session.scalars(select(Customer))] == ["Acme Holdings"]
    [message] = messages_of(session)
    [touch] = touches_of(session)
    assert (touch.customer.name, touch.summary, message.touch_id) == ("Acme Holdings", "Is the order on its way?",
                                                                      touch.id)  # fmt: skip
    assert not errors_logged(caplog), caplog.records


def test_an_erase_takes_again_the_links_a_merge_moved_to_the_customer_while_it_waited(slack, fake, session, acme,
                                                                                     engine, caplog, racing):  # fmt: skip
    """The erase locked Acme Ltd's links, then waited for Acme Ltd. Meanwhile Acme Group's
    channel became Acme Ltd's (a merge committed), and a message there holds that link and
    waits for Acme Ltd too. Had the erase gone on to delete the links it had not locked, each
    would have waited for the other, and PostgreSQL would have ended one after a second."""
    add_customer(session, "Acme Group", owner_id=OWNER)
    fake.add_channel(GROUP := "C000GROUP")
    assert "is now the channel of *Acme Group (#2)*" in slack.command(f"link Acme Group <#{GROUP}|group>",
                                                                      user=OWNER).shown  # fmt: skip
    ask = slack.command("erase Acme Ltd", user=ADMIN)
    with engine.connect() as other, engine.connect() as merge, lock_waits(engine) as waiting, \
            ThreadPoolExecutor(2) as pool:  # fmt: skip
        # A hold that a link can still be moved to Acme Ltd under (as a merge's would not be)
        other.execute(select(Customer.id).where(Customer.id == acme.id).with_for_update(key_share=True))
        erasing = pool.submit(slack.click, ask.blocks, "Erase", user=ADMIN)
        until(lambda: waiting() == 1)
        assert waiting() == 1, "the erase did not wait for Acme Ltd"
        merge.execute(update(ChannelLink).where(ChannelLink.channel_id == GROUP).values(customer_id=acme.id))
        merge.commit()
        sent = pool.submit(guest_says, slack, "Is the order on its way?", at(0), channel=GROUP)
        until(lambda: waiting() == 2)
        assert waiting() == 2, "the message did not wait for Acme Ltd"
        other.rollback()
        erasing.result()
        assert sent.result().status == 200
    assert "Customer #1 erased" in fake.last("response_url")["text"]
    assert session.scalars(select(ChannelLink.channel_id)).all() == [] and messages_of(session) == []
    assert [t.summary for t in touches_of(session)] == ["[erased]"]  # the message got through first
    assert not errors_logged(caplog), caplog.records


def test_an_erase_and_a_merge_of_the_same_customer_meet_without_a_deadlock(slack, fake, session, acme, engine, caplog, racing):
    """Both take the customers' channel links before the customers. Had the merge locked the
    customers first and the erase the links first, each would have held what the other waited
    for, and PostgreSQL would have ended one of the two with an error after a second."""
    add_customer(session, "Acme Group", owner_id=OWNER)
    merge = slack.command("merge Acme Ltd Acme Group", user=ADMIN)
    erase = slack.command("erase Acme Ltd", user=ADMIN)
    with engine.connect() as other, lock_waits(engine) as waiting, ThreadPoolExecutor(2) as pool:
        other.execute(select(Customer.id).where(Customer.name == "Acme Group").with_for_update())  # the merge waits
        merging = pool.submit(slack.click, merge.blocks, "Merge", user=ADMIN)
        until(lambda: waiting() == 1)
        assert waiting() == 1, "the merge did not wait"
        erasing = pool.submit(slack.click, erase.blocks, "Erase", user=ADMIN)
        until(lambda: erasing.done() or waiting() == 2)
        other.rollback()
        merging.result(), erasing.result()
    assert not errors_logged(caplog), caplog.records
    assert [c.name for c in session.scalars(select(Customer))] == ["Acme Group"]
    assert [link.channel_id for link in session.scalars(select(ChannelLink))] == [ACME]  # merged, then not erased


def test_a_step_whose_work_cannot_be_saved_ends_with_an_error_not_a_success(slack, fake, session, monkeypatch):
    from bot.context import RequestContext

    add_customer(session, "Acme Ltd", owner_id=OWNER)
    finish = RequestContext.finish

    def commit_fails(self: RequestContext) -> None:
        self.failed = True  # roll back and close, as a failed commit leaves it
        finish(self)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(RequestContext, "finish", commit_fails)
    slack.step("log_touch_step", {"customer": "Acme", "kind": "call", "summary": "x", "author": MEMBER})
    assert step_result(fake) == ("error", "Something went wrong on our side; nothing was saved. Please try again.")
    assert touches_of(session) == []


def test_crm_channels_counts_the_channels_it_does_not_show(slack, fake, session, acme):
    from bot.services.access import Viewer
    from bot.services.channels import linked_channels

    fake.add_channel("C0000BETA", is_member=True)
    slack.command("关联 Acme Ltd <#C0000BETA|beta>", user=OWNER)  # the Chinese word works too
    rows, total = linked_channels(session=session, viewer=Viewer.whole_team(TEAM), limit=1)
    assert ([r.channel_id for r in rows], total) == ([ACME], 2)
