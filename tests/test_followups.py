"""Follow-ups end to end: a next step with a due day becomes a promise, listed in `/crm due`,
the digest and the App Home with Done and Snooze, kept when done or overdue, counted in
reports and lowering the customer's health while overdue."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import select, update

from bot.scheduler.runner import Scheduler
from bot.services.reports import TEAM as TEAM_FIGURES
from bot.services.reports import build_report
from bot.storage.db import make_session_factory
from bot.storage.models import AuditEvent, FollowUp, Member, Notification, Workspace
from tests import slackclient
from tests.helpers import add_customer, as_admin, stored
from tests.slackclient import USER, block_text, find_button

OTHER = "U0000002"
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)  # a Wednesday
TODAY = NOW.date()


@pytest.fixture
def scheduler(settings, engine):
    return Scheduler(settings, make_session_factory(engine))


def promise(slack, fake, name: str, step: str, due: dt.date | None, *, at: dt.datetime = NOW, user: str = USER,
            **values: object):  # fmt: skip
    with freeze_time(at):
        slack.command(f"touch {name}", user=user)
        fields = {"Summary": "called", "Next step": step, **values}
        if due is not None:
            fields["Next step due"] = due.isoformat()
        return slack.submit(fake.last("views.open")["view"], fields, user=user)


def follow_ups(session) -> list[FollowUp]:
    return stored(session, FollowUp)


def element(blocks, action_id: str) -> dict:
    return next(e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["action_id"] == action_id)


def test_a_next_step_with_a_due_day_becomes_a_follow_up_of_the_author(slack, fake, session):
    add_customer(session, "Acme")
    assert promise(slack, fake, "Acme", "send the quote", TODAY + dt.timedelta(days=2)).text == ""
    [f] = follow_ups(session)
    assert (f.assignee_id, f.due_on, f.done_at, f.touch.next_step) == (USER, dt.date(2026, 11, 27), None, "send the quote")
    assert "Follow-up “send the quote” due 2026-11-27 for <@U0000001>." in fake.last("chat.postMessage")["text"]
    audit = session.scalars(select(AuditEvent).where(AuditEvent.entity == "touch")).one()
    session.commit()
    assert audit.changes["next_step_due"] == [None, "2026-11-27"] and audit.changes["assignee_id"] == [None, USER]
    promise(slack, fake, "Acme", "just a note", None)  # no due day: a next step only
    assert len(follow_ups(session)) == 1


@pytest.mark.parametrize(("values", "message"), [
    ({"Next step": None, "Next step due": "2026-11-30"}, "Write the next step to give it a due date."),
    ({"Next step": "call", "Next step due": "2026-11-24"}, "2026-11-24 is in the past. Give a date from today on."),
])  # fmt: skip
def test_a_due_day_needs_a_next_step_and_a_day_ahead(slack, fake, session, values, message):
    add_customer(session, "Acme")
    with freeze_time(NOW):
        slack.command("touch Acme")
        reply = slack.submit(fake.last("views.open")["view"], {"Summary": "called", **values})
    assert reply.json == {"response_action": "errors", "errors": {"next_step_due": message}}
    assert follow_ups(session) == []


def test_a_follow_up_for_someone_else_is_theirs_and_they_are_told(slack, fake, session):
    add_customer(session, "Acme")
    promise(slack, fake, "Acme", "visit the plant", TODAY, Assignee=OTHER)
    assert follow_ups(session)[0].assignee_id == OTHER
    told = [c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == OTHER]
    assert told[0]["text"] == ("<@U0000001> gave you a follow-up with *Acme (#1)*: visit the plant, due 2026-11-25. "
                               "It is in `/crm due`.")  # fmt: skip
    with freeze_time(NOW):
        assert "visit the plant" in slack.command("due", user=OTHER).shown
        assert "visit the plant" not in slack.command("due").shown


def said(session) -> list[Notification]:
    rows = list(session.scalars(select(Notification).where(Notification.kind == "said").order_by(Notification.id)))
    session.commit()
    return rows


def test_someone_else_is_told_in_their_own_language_which_the_worker_asks_slack_for(
    slack, fake, session, settings, engine, monkeypatch
):
    """The request knows the author's language, not the assignee's: their DM is written when the
    worker sends it (services.notices), which reads their Slack profile then."""
    from tests import slackclient

    fake.add_user(OTHER, locale="zh-CN")
    add_customer(session, "Acme")
    monkeypatch.setattr(slackclient, "_HOME_SENDERS", [])  # no worker: what the request wrote stays
    promise(slack, fake, "Acme", "visit the plant", TODAY, Assignee=OTHER)
    assert fake.calls_to("chat.postMessage") == []
    assert [(r.channel, r.payload.get("render"), r.payload.get("text")) for r in said(session)][1] == (OTHER, "given", None)

    deliver(settings, engine)

    [author] = [c.args["text"] for c in fake.calls_to("chat.postMessage") if c.args["channel"] == USER]
    [told] = [c.args["text"] for c in fake.calls_to("chat.postMessage") if c.args["channel"] == OTHER]
    assert author.startswith("Touch with *Acme (#1)* logged.")
    assert told == ("<@U0000001> 给你安排了一项 *Acme (#1)* 的跟进事项：visit the plant，截止 2026年11月25日 周三。"
                    "可在 `/crm 待办` 里查看。")
    assert said(session) == []  # sent: not kept


def given_waiting(slack, fake, session, monkeypatch) -> None:
    """A follow-up on Acme given to OTHER, their DM waiting for the worker (none runs yet)."""
    fake.add_user(OTHER)
    add_customer(session, "Acme")
    monkeypatch.setattr(slackclient, "_HOME_SENDERS", [])
    promise(slack, fake, "Acme", "visit the plant", TODAY, Assignee=OTHER)


def deliver(settings, engine) -> None:
    """The worker's sender, once."""
    Scheduler(settings, make_session_factory(engine), pacer=None, home_pacer=None, lanes=1).deliver(NOW)


def test_someone_else_is_not_told_of_a_follow_up_done_before_their_dm_goes(slack, fake, session, settings, engine,
                                                                           monkeypatch):  # fmt: skip
    given_waiting(slack, fake, session, monkeypatch)
    with freeze_time(NOW):
        slack.click(slack.command("due", user=OTHER).blocks, "Done", ephemeral=True, user=OTHER)
    assert "Done: *Acme (#1)*: visit the plant" in block_text(fake.last("response_url")["blocks"])

    deliver(settings, engine)

    assert [c.args["channel"] for c in fake.calls_to("chat.postMessage")] == [USER]  # the author's "touch logged"
    assert [(r.channel, r.status, r.payload) for r in said(session)] == [(OTHER, "expired", {})]


def test_someone_else_is_told_of_a_follow_up_as_it_is_when_their_dm_goes(slack, fake, session, settings, engine,
                                                                          monkeypatch):  # fmt: skip
    given_waiting(slack, fake, session, monkeypatch)
    slack.command("edit Acme")
    slack.submit(fake.last("views.open")["view"], {"Name": "Acme Group"})

    deliver(settings, engine)

    [told] = [c.args["text"] for c in fake.calls_to("chat.postMessage") if c.args["channel"] == OTHER]
    assert "*Acme Group (#1)*: visit the plant" in told


def test_when_slack_refuses_the_assignees_dm_the_author_is_told_and_its_text_is_not_kept(slack, fake, session):
    add_customer(session, "Acme")
    fake.fail("chat.postMessage", error="user_not_found", channel=OTHER)
    promise(slack, fake, "Acme", "visit the plant", TODAY, Assignee=OTHER)
    told = [c.args["text"] for c in fake.calls_to("chat.postMessage") if c.args["channel"] == USER]
    assert told[-1] == "Saved. A message that goes with it could not be sent (user_not_found); nothing was lost."
    [refused] = said(session)
    assert (refused.channel, refused.status, refused.last_error, refused.payload) == (OTHER, "failed", "user_not_found", {})
    assert len(follow_ups(session)) == 1


def test_due_lists_follow_ups_with_done_and_snooze(slack, fake, session):
    add_customer(session, "Acme")
    promise(slack, fake, "Acme", "send the quote", TODAY + dt.timedelta(days=1))
    later = NOW + dt.timedelta(days=3)  # the 28th: overdue by 2 days
    with freeze_time(later):
        reply = slack.command("due")
        shown = reply.shown
        assert "My follow-ups" in shown and "*Acme (#1)*: send the quote\nDue 2026-11-26, 2 days overdue" in shown
        snooze = element(reply.blocks, "follow_up_snooze")
        assert [o["text"]["text"] for o in snooze["options"]] == ["1 day", "3 days", "1 week"]
        block_id = next(b["block_id"] for b in reply.blocks if b.get("block_id", "").startswith("follow_up:"))
        answer = slack.action("follow_up_snooze", block_id=block_id, type="static_select", ephemeral=True,
                              selected_option={"value": "3", "text": {"type": "plain_text", "text": "3 days"}})  # fmt: skip
        assert answer.status == 200
        replaced = fake.last("response_url")
        assert "Snoozed: *Acme (#1)*: send the quote, now due 2026-12-01." in block_text(replaced["blocks"])
        assert follow_ups(session)[0].due_on == dt.date(2026, 12, 1)
        slack.click(slack.command("due").blocks, "Done", ephemeral=True)
        replaced = fake.last("response_url")
        assert "Done: *Acme (#1)*: send the quote" in block_text(replaced["blocks"])
        assert "send the quote" not in slack.command("due").shown
    [f] = follow_ups(session)
    assert (f.done_on, f.done_by, f.due_on) == (dt.date(2026, 11, 28), USER, dt.date(2026, 12, 1))  # kept
    actions = [a.action for a in session.scalars(select(AuditEvent).where(AuditEvent.entity == "follow_up"))]
    session.commit()
    assert actions == ["snooze", "done"]
    with freeze_time(later):
        slack.action("follow_up_done", str(f.id), ephemeral=True)
    assert fake.last("response_url")["text"] == "This follow-up was already done on 2026-11-28."


def test_the_digest_lists_follow_ups_beside_revisits_and_done_updates_it(slack, fake, session, scheduler):
    acme = add_customer(session, "Acme")
    add_customer(session, "Beta", owner_id=OTHER)
    session.execute(update(type(acme)).where(type(acme).id == acme.id).values(next_revisit=TODAY))
    session.commit()
    promise(slack, fake, "Beta", "send samples", TODAY + dt.timedelta(days=1), at=NOW - dt.timedelta(days=1))
    promise(slack, fake, "Beta", "call their CFO", TODAY, at=NOW - dt.timedelta(days=1), Assignee=OTHER)
    fake.reset()
    scheduler.sweep(NOW.replace(hour=9, minute=5) + dt.timedelta(days=1))  # the 26th
    mine = [c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == USER]
    theirs = [c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == OTHER]
    [digest], [other_digest] = mine, theirs
    shown = block_text(digest["blocks"])
    assert digest["text"] == "1 revisit is due or overdue:"
    assert "Acme (#1)" in shown and "My follow-ups" in shown and "*Beta (#2)*: send samples\nDue 2026-11-26" in shown
    assert other_digest["text"] == "1 follow-up is due or overdue:"
    assert "call their CFO" in block_text(other_digest["blocks"])
    # Done in the digest: that item says so, the others keep their buttons.
    done = find_button(digest["blocks"], "Done")
    block_id = next(b["block_id"] for b in digest["blocks"] if b.get("block_id", "").startswith("follow_up:"))
    with freeze_time(NOW + dt.timedelta(days=1)):
        reply = slack.action("follow_up_done", done["value"], block_id=block_id, channel="D0000001",
                     message={"ts": "9.0", "blocks": digest["blocks"]})  # fmt: skip
    assert reply.status == 200, reply.text
    update_ = fake.last("chat.update")
    assert "Done: *Beta (#2)*: send samples" in block_text(update_["blocks"])
    assert element(update_["blocks"], "revisit_snooze")  # the revisit's buttons stay


@pytest.mark.parametrize("visibility", ["open", "owner"])  # "owner": read for them one by one, not all at once
def test_with_the_digest_off_each_follow_up_is_its_own_message_unless_done_meanwhile(
    slack, fake, session, scheduler, visibility
):
    add_customer(session, "Acme")
    promise(slack, fake, "Acme", "send the quote", TODAY)
    promise(slack, fake, "Acme", "book the visit", TODAY)
    session.execute(update(Member).where(Member.user_id == USER).values(digest_enabled=False, role="member",
                                                                        is_slack_admin=False))  # fmt: skip
    session.execute(update(Workspace).values(settings={"visibility": visibility}))
    session.commit()
    fake.reset()
    scheduler.run_jobs(NOW)
    first = follow_ups(session)[0]
    with freeze_time(NOW):
        slack.action("follow_up_done", str(first.id), ephemeral=True)
    scheduler.deliver(NOW, within=5)
    sent = [c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == USER]
    assert [m["text"] for m in sent] == ["A follow-up is due: *Acme (#1)*: book the visit (2026-11-25)"]
    session.expire_all()
    assert sorted(n.status for n in session.scalars(select(Notification).where(Notification.kind == "follow_up"))) == [
        "expired", "sent"]
    session.commit()


def test_an_overdue_follow_up_lowers_health_and_the_home_lists_it(slack, fake, session):
    add_customer(session, "Acme", grade="A")
    promise(slack, fake, "Acme", "send the quote", TODAY)
    with freeze_time(NOW + dt.timedelta(days=1)):  # one day after: overdue, and the touch still fresh
        assert "*Health* 90/100 · 1 follow-up(s) overdue" in slack.command("show Acme").shown
        slack.event({"type": "app_home_opened", "user": USER, "tab": "home"})
    home = block_text(fake.last("views.publish")["view"]["blocks"])
    assert "My follow-ups" in home and "send the quote" in home and "1 day overdue" in home


def test_a_lost_customers_follow_ups_leave_the_due_list(slack, fake, session):
    add_customer(session, "Acme")
    promise(slack, fake, "Acme", "send the quote", TODAY)
    slack.command("lost Acme")
    slack.submit(fake.last("views.open")["view"], {"Reason": "Price"})
    with freeze_time(NOW):
        assert "send the quote" not in slack.command("due").shown
        slack.command("won Acme")
        assert "send the quote" in slack.command("due").shown  # back with it


def test_a_follow_up_promised_to_a_lost_customer_waits_until_it_is_won_back(slack, fake, session):
    add_customer(session, "Acme")
    add_customer(session, "Beta")
    slack.command("lost Acme")
    slack.submit(fake.last("views.open")["view"], {"Reason": "Price"})
    promise(slack, fake, "Acme", "send the quote", TODAY)
    promise(slack, fake, "Beta", "call back", TODAY)
    assert [(f.customer_id, f.customer_lost) for f in follow_ups(session)] == [(1, True), (2, False)]
    with freeze_time(NOW):
        shown = slack.command("due").shown
        assert "call back" in shown and "send the quote" not in shown
        slack.command("won Acme")
        shown = slack.command("due").shown
        assert "call back" in shown and "send the quote" in shown
    assert [f.customer_lost for f in follow_ups(session)] == [False, False]


def test_follow_ups_in_chinese(slack, fake, session):
    fake.add_user(USER, locale="zh-CN", tz="Asia/Shanghai")
    add_customer(session, "张伟")
    with freeze_time(NOW):
        slack.command("接触 张伟")
        view = fake.last("views.open")["view"]
        labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
        assert "下一步截止日期" in labels
        slack.submit(view, {"摘要": "电话", "下一步": "发报价", "下一步截止日期": "2026-11-26"})
        shown = slack.command("待办").shown
    assert "我的跟进事项" in shown and "*张伟 (#1)*：发报价\n截止 2026年11月26日 周四" in shown and "完成" in shown


# --- reports -----------------------------------------------------------------------------------


def test_reports_count_follow_ups_due_done_on_time_late_and_open_per_assignee(slack, fake, session):
    add_customer(session, "Acme")
    # This week is 11-23 .. 11-29. Promised on Monday the 23rd:
    monday = NOW - dt.timedelta(days=2)
    promise(slack, fake, "Acme", "a: done on its day", dt.date(2026, 11, 24), at=monday)
    promise(slack, fake, "Acme", "b: done a day late", dt.date(2026, 11, 24), at=monday)
    promise(slack, fake, "Acme", "c: still open", dt.date(2026, 11, 26), at=monday)
    promise(slack, fake, "Acme", "d: other's, on time", dt.date(2026, 11, 27), at=monday, Assignee=OTHER)
    promise(slack, fake, "Acme", "e: next week", dt.date(2026, 11, 30), at=monday)
    a, b, _, d, _ = follow_ups(session)
    for f, day in ((a, 24), (b, 25), (d, 25)):
        session.execute(update(FollowUp).where(FollowUp.id == f.id).values(
            done_at=dt.datetime(2026, 11, day, 12, tzinfo=dt.UTC), done_on=dt.date(2026, 11, day)))  # fmt: skip
    session.commit()
    report = build_report(session=session, viewer=as_admin(), kind="week", today=TODAY, tz="UTC")
    session.commit()
    # Due this week: a, b, c (USER) and d (OTHER); e is next week's. a on time (24 ≤ 24), b late
    # (25 > 24), c open; d on time (25 ≤ 27). Team: 4 due = 2 on time + 1 late + 1 open.
    figures = {k: (f.follow_ups_due, f.follow_ups_on_time, f.follow_ups_late, f.follow_ups_open)
               for k, f in report.current.items()}  # fmt: skip
    assert figures[USER] == (3, 1, 1, 1) and figures[OTHER] == (1, 1, 0, 0) and figures[TEAM_FIGURES] == (4, 2, 1, 1)
    with freeze_time(NOW):
        slack.command("report")
    from tests.test_reports_slack import wait_for

    wait_for(fake, "files.completeUploadExternal")
    text = next(block_text(c.args["blocks"]) for c in fake.calls_to("chat.postMessage")
                if c.args["channel"] == USER and "Team report" in block_text(c.args.get("blocks") or []))  # fmt: skip
    assert "*Follow-ups* due 4 (▲4) · done on time 2 (▲2) · done late 1 (▲1) · still open 1 (▲1)" in text
    assert "Follow-ups due · on time · late · open" in text and "\n3 · 1 · 1 · 1\n" in text  # the per-owner table


def test_merging_customers_keeps_the_open_follow_ups_on_the_one_kept(slack, fake, session):
    from bot.services.customers import merge_customers

    source, target = add_customer(session, "Acme Co"), add_customer(session, "Acme Ltd")
    promise(slack, fake, "Acme Co", "send the quote", TODAY)
    merge_customers(session=session, viewer=as_admin(), source_id=source.id, target_id=target.id, surface="test")
    session.commit()
    [f] = follow_ups(session)
    assert (f.customer_id, f.touch.customer_id, f.done_at) == (target.id, target.id, None)


def test_a_lost_customers_follow_ups_merged_into_one_on_the_books_come_back_to_the_due_list(slack, fake, session):
    from bot.services.customers import merge_customers

    source, target = add_customer(session, "Acme Co"), add_customer(session, "Acme Ltd")
    promise(slack, fake, "Acme Co", "send the quote", TODAY)
    slack.command("lost Acme Co")
    slack.submit(fake.last("views.open")["view"], {"Reason": "Price"})
    merge_customers(session=session, viewer=as_admin(), source_id=source.id, target_id=target.id, surface="test")
    session.commit()
    with freeze_time(NOW):
        assert "send the quote" in slack.command("due").shown  # Acme Ltd is not lost: its promises are due
