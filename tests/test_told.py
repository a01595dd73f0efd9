"""A DM that tells of what a request saved goes through the outbox (`RequestContext.tell`,
services.notices): written in the request's own transaction, posted by the worker's sender, tried
again when Slack fails, and deleted before it goes if the customer it names is erased. A request
that saves nothing (a refusal) writes none: its DM goes after the answer."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.scheduler.runner import Scheduler
from bot.storage.db import make_session_factory
from bot.storage.models import Notification
from tests import slackclient
from tests.helpers import add_customer, customers_of
from tests.slackclient import USER, block_text

NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
ADMIN, OTHER, ZH = "U00000AD", "U0000002", "U00000ZH"


@pytest.fixture
def worker(settings, engine) -> Scheduler:
    return Scheduler(settings, make_session_factory(engine), pacer=None, home_pacer=None, lanes=1,
                     sleep=lambda _seconds: None, retry_budget=2)  # fmt: skip


@pytest.fixture(autouse=True)
def no_worker(fake, slack, monkeypatch):
    """Requests answered with no worker running: what they wrote for it stays in the outbox."""
    monkeypatch.setattr(slackclient, "_HOME_SENDERS", [])
    fake.add_user(ADMIN, is_admin=True)
    fake.add_user(OTHER)
    fake.add_user(ZH, locale="zh-CN")


def said(session) -> list[Notification]:
    session.expire_all()
    rows = list(session.scalars(select(Notification).where(Notification.kind == "said").order_by(Notification.id)))
    session.commit()  # end the read: on SQLite it would hold up the bot's writes
    return rows


def dms(fake, user: str) -> list[str]:
    return [c.args.get("text") or "" for c in fake.calls_to("chat.postMessage") if c.args["channel"] == user]


def open_settings(slack, fake):
    slack.command("settings", user=ADMIN)
    return fake.last("views.open")["view"]


@freeze_time(NOW)
def test_settings_saved_is_told_by_the_worker_and_tried_again_when_slack_fails(slack, fake, session, worker):
    assert slack.submit(open_settings(slack, fake), {"Time zone": "Asia/Shanghai"}, user=ADMIN).text == ""
    assert dms(fake, ADMIN) == []  # the process that answered posted nothing
    assert [(r.channel, r.payload["text"]) for r in said(session)] == [(ADMIN, "Settings saved.")]

    fake.fail("chat.postMessage", status=500, error="internal_error")
    worker.deliver(NOW)

    assert dms(fake, ADMIN) == ["Settings saved.", "Settings saved."]  # failed once, then posted once
    assert said(session) == []  # posted: not kept


@freeze_time(NOW)
def test_settings_saved_is_told_in_the_language_just_chosen(slack, fake, session, worker):
    slack.submit(open_settings(slack, fake), {"Language": "中文 (Simplified Chinese)"}, user=ADMIN)
    worker.deliver(NOW)
    assert dms(fake, ADMIN) == ["设置已保存。"]


@freeze_time(NOW)
def test_settings_saved_back_to_each_persons_language_is_told_in_the_admins(slack, fake, session, worker):
    slack.submit(open_settings(slack, fake), {"Language": "中文 (Simplified Chinese)"}, user=ADMIN)
    slack.submit(open_settings(slack, fake), {"语言": "按每个人的 Slack 语言"}, user=ADMIN)
    assert [r.payload["customers"] for r in said(session)] == [[], []]  # they name no customer
    worker.deliver(NOW)
    assert dms(fake, ADMIN) == ["设置已保存。", "Settings saved."]  # the admin's Slack is in English


@freeze_time(NOW)
def test_a_refused_save_tells_nothing_through_the_outbox(slack, fake, session, worker):
    reply = slack.submit(open_settings(slack, fake), {"Admins": []}, user=ADMIN)
    assert reply.json["response_action"] == "errors"
    assert said(session) == []
    worker.deliver(NOW)
    assert dms(fake, ADMIN) == []


@freeze_time(NOW)
def test_a_digest_time_saved_is_told_through_the_outbox(slack, fake, session, worker):
    slack.action("digest_settings", "digest", message={"ts": "1700000000.000100", "text": "", "blocks": []})
    assert slack.submit(fake.last("views.open")["view"], {"Digest time": "08:30"}).text == ""
    told = "Your daily digest now comes at 08:30 on working days."
    assert [r.payload["text"] for r in said(session)] == [told]
    worker.deliver(NOW)
    assert dms(fake, USER) == [told]


@freeze_time(NOW)
def test_the_new_owner_is_told_in_their_own_language_by_the_worker(slack, fake, session, worker):
    add_customer(session, "Acme")
    assert "now owned by" in slack.command(f"assign Acme <@{ZH}>").shown
    [row] = said(session)
    assert (row.channel, row.payload["render"], "text" in row.payload) == (ZH, "assigned", False)  # no name in it

    worker.deliver(NOW)

    [told] = dms(fake, ZH)
    assert f"<@{USER}>" in told and "*Acme (#1)*" in told and "made you the owner" not in told  # in Chinese


@freeze_time(NOW)
def test_an_owner_no_longer_the_owner_when_it_goes_is_not_told(slack, fake, session, worker):
    add_customer(session, "Acme")
    slack.command(f"assign Acme <@{OTHER}>")
    slack.command(f"assign Acme <@{ZH}>")  # before the worker sent OTHER's

    worker.deliver(NOW)

    assert dms(fake, OTHER) == [] and len(dms(fake, ZH)) == 1
    assert [r.status for r in said(session)] == ["expired"]  # the stale one is dropped, not tried again


@freeze_time(NOW)
def test_a_dm_naming_a_customer_erased_before_it_goes_is_deleted(slack, fake, session, worker):
    add_customer(session, "Acme Trading")
    slack.command(f"assign Acme Trading <@{OTHER}>")
    slack.command("lost Acme Trading", user=OTHER)
    assert slack.submit(fake.last("views.open")["view"], {"Reason": "Price"}, user=OTHER).text == ""
    assert {r.channel for r in said(session)} == {OTHER}  # assigned to them, and lost by them

    slack.click(slack.command("erase Acme Trading", user=ADMIN).blocks, "Erase", user=ADMIN)
    worker.deliver(NOW)

    assert customers_of(session)[0].erased_at is not None
    assert dms(fake, OTHER) == [] and said(session) == []
    assert not any("Acme" in text for text in dms(fake, ADMIN))


@freeze_time(NOW)
def test_a_lost_customer_is_told_by_the_worker(slack, fake, session, worker):
    add_customer(session, "Acme")
    slack.command("lost Acme")
    slack.submit(fake.last("views.open")["view"], {"Reason": "Price"})
    [row] = said(session)
    assert row.payload["customers"] == [customers_of(session)[0].id]  # what an erasure finds it by

    worker.deliver(NOW)

    [told] = dms(fake, USER)
    assert "*Acme (#1)* is marked as lost" in told


@freeze_time(NOW)
def test_a_modal_answered_by_dm_is_told_through_the_outbox(slack, fake, session, worker):
    """The registry's DM for a modal's answer (here the resolved complaint's card)."""
    add_customer(session, "Acme")
    slack.command("complaint Acme")
    slack.submit(fake.last("views.open")["view"], {"Title": "Slow support"})
    worker.deliver(NOW)
    slack.command("resolve #1")
    assert slack.submit(fake.last("views.open")["view"], {"Resolution": "Refunded the fee"}).text == ""
    [row] = [r for r in said(session) if r.channel == USER]
    assert "Refunded the fee" in block_text(row.payload["blocks"])

    assert row.payload["customers"] == [customers_of(session)[0].id]  # what an erasure finds it by

    worker.deliver(NOW)

    assert "Refunded the fee" in block_text(fake.last("chat.postMessage")["blocks"])
    assert said(session) == []


@freeze_time(NOW)
def test_a_refusal_on_the_home_is_told_after_the_answer_without_the_outbox(slack, fake, session):
    """A refusal saved nothing: its DM is posted by the process that answered, and no row is written."""
    slack.action("revisit_snooze", selected_option={"value": "3"}, block_id="revisit:999999",
                 view={"type": "home", "id": "V0HOME", "blocks": []})  # fmt: skip
    assert said(session) == []
    [told] = dms(fake, USER)
    assert "no longer exists" in told


# --- complaints ------------------------------------------------------------------------------


def log_complaint(slack, fake, customer: str, values: dict[str, object]) -> None:
    slack.command(f"complaint {customer}")
    assert slack.submit(fake.last("views.open")["view"], {"Title": "Slow support", **values}).text == ""


@freeze_time(NOW)
def test_a_new_complaint_is_told_by_the_worker_each_in_their_own_language(slack, fake, session, worker):
    add_customer(session, "Acme")
    log_complaint(slack, fake, "Acme", {"Assignee": ZH})
    assert fake.calls_to("chat.postMessage") == []  # no complaints channel, and the DMs wait for the worker
    rows = said(session)
    assert [(r.channel, r.payload["kind"]) for r in rows] == [(ZH, "assignee"), (USER, "author")]
    assert not any("Slow support" in str(r.payload) or "Acme" in str(r.payload) for r in rows)  # ids only

    worker.deliver(NOW)

    [assignee] = dms(fake, ZH)
    assert assignee.startswith(f"<@{USER}> 为 *Acme* 登记了投诉 *#1*")
    [author] = dms(fake, USER)
    assert author.startswith("Complaint *#1* logged for *Acme*")


@freeze_time(NOW)
def test_an_assignee_slack_refuses_is_told_of_to_the_author(slack, fake, session, worker):
    add_customer(session, "Acme")
    log_complaint(slack, fake, "Acme", {"Assignee": OTHER})
    fake.fail("chat.postMessage", error="channel_not_found", channel=OTHER)

    worker.deliver(NOW)
    worker.deliver(NOW)  # the author's word of it, written by the first run

    assert "could not be sent (channel_not_found)" in dms(fake, USER)[-1]


@freeze_time(NOW)
def test_a_low_score_is_told_to_the_leads_by_the_worker(slack, fake, session, worker):
    from bot.storage.models import Member

    lead = "U000LEAD"
    fake.add_user(lead, locale="zh-CN")
    add_customer(session, "Acme")
    session.add(Member(team_id="T0000001", user_id=lead, role="lead"))
    session.commit()
    log_complaint(slack, fake, "Acme", {})
    worker.deliver(NOW)
    slack.command("resolve #1")
    slack.submit(fake.last("views.open")["view"], {"Resolution": "Refunded", "Satisfaction": "2"})
    [row] = [r for r in said(session) if r.channel == lead]
    assert (row.payload["kind"], row.payload["event_id"] is not None) == ("low_satisfaction", True)

    worker.deliver(NOW)

    [told] = dms(fake, lead)
    assert "*#1*" in told and "2/5" in told and "It may need your attention" not in told  # in Chinese


@freeze_time(NOW)
def test_a_low_score_waits_in_the_outbox_for_the_leads_and_an_erasure_drops_it(slack, fake, session, worker):
    from bot.storage.models import Member
    from bot.views.reports import checkin_blocks

    customer = add_customer(session, "Acme", owner_id=USER)
    session.add(Member(team_id="T0000001", user_id=ZH, role="lead"))
    session.commit()
    checkin = checkin_blocks(None, customer)
    slack.click(checkin, "2")
    [row] = said(session)
    assert (row.channel, row.payload["render"], "Acme" in str(row.payload)) == (ZH, "low_score", False)

    worker.deliver(NOW)
    [told] = dms(fake, ZH)
    assert f"<@{USER}>" in told and "2/5" in told and "*Acme (#1)*" in told and "It may need" not in told  # Chinese

    fake.fail("chat.postMessage", error="account_inactive", channel=ZH)
    slack.click(checkin, "1")
    worker.deliver(NOW)
    worker.deliver(NOW)  # the owner's word of it, written by the first run
    assert "could not be sent (account_inactive)" in dms(fake, USER)[-1]  # who gave the score is told

    slack.click(checkin, "1")
    slack.click(slack.command("erase Acme", user=ADMIN).blocks, "Erase", user=ADMIN)
    worker.deliver(NOW)
    assert len(dms(fake, ZH)) == 2  # the one above, and the refused one: none for the erased customer
    assert [r.status for r in said(session)] == ["failed"]  # the refused one, kept for admins


@freeze_time(NOW)
def test_a_low_score_reopened_before_its_alert_goes_is_not_told(slack, fake, session, worker):
    from bot.storage.models import Member

    add_customer(session, "Acme")
    session.add(Member(team_id="T0000001", user_id=ZH, role="lead"))
    session.commit()
    log_complaint(slack, fake, "Acme", {})
    slack.command("resolve #1")
    slack.submit(fake.last("views.open")["view"], {"Resolution": "Refunded", "Satisfaction": "1"})
    from bot.storage.models import Complaint

    [complaint_id] = session.scalars(select(Complaint.id)).all()
    session.commit()
    slack.action("complaint_reopen", str(complaint_id))  # the card's Reopen
    slack.command("resolve #1")
    slack.submit(fake.last("views.open")["view"], {"Resolution": "Refunded twice", "Satisfaction": "5"})

    worker.deliver(NOW)

    assert dms(fake, ZH) == []  # the 1/5 no longer stands


@freeze_time(NOW)
def test_a_saved_customers_card_is_built_by_the_worker_and_not_sent_once_erased(slack, fake, session, worker):
    slack.command("new")
    assert slack.submit(fake.last("views.open")["view"], {"Name": "Zhou Logistics", "Phone": "+86 139 0000 0000"}).text == ""
    [row] = said(session)
    assert (row.payload["render"], "Zhou" in str(row.payload)) == ("card", False)  # ids only

    worker.deliver(NOW)
    [card] = [c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == USER]
    assert card["text"] == "Customer *Zhou Logistics* (#1) saved." and "+86 139 0000 0000" in block_text(card["blocks"])

    slack.command("edit Zhou Logistics")
    slack.submit(fake.last("views.open")["view"], {"Phone": "+86 139 1111 1111"})
    slack.click(slack.command("erase Zhou Logistics", user=ADMIN).blocks, "Erase", user=ADMIN)
    worker.deliver(NOW)
    assert len(dms(fake, USER)) == 1 and said(session) == []


@freeze_time(NOW)
def test_a_card_its_author_may_no_longer_see_when_it_goes_is_not_sent(slack, fake, session, worker):
    from bot.services.workspaces import get_workspace

    get_workspace(session, "T0000001").settings = {"visibility": "owner"}  # members see their own customers
    session.commit()
    slack.command("new")
    slack.submit(fake.last("views.open")["view"], {"Name": "Zhou Logistics"})
    slack.command(f"assign Zhou Logistics <@{OTHER}>", user=ADMIN)  # before the worker sent the card

    worker.deliver(NOW)

    assert dms(fake, USER) == [] and len(dms(fake, OTHER)) == 1  # the new owner's notice went
    assert {r.status for r in said(session)} == {"expired"}


def test_a_dm_whose_building_meets_a_database_error_is_tried_again_later_then_failed(fake, session, worker,
                                                                                     monkeypatch):  # fmt: skip
    """A renderer's database error (locked, a connection lost) is for now: the row waits, backing off
    (a minute, then two, …), and fails only after `RENDER_TRIES` tries. Any other error fails it at once."""
    from sqlalchemy.exc import OperationalError

    from bot.scheduler import outbox
    from bot.services import notices
    from bot.services.workspaces import get_workspace

    failing = {"times": 2}

    def flaky(_session, payload, _directory):
        if failing["times"]:
            failing["times"] -= 1
            raise OperationalError("SELECT 1", {}, Exception("database is locked"))
        return outbox.Rendered(text=payload["said"], blocks=[])

    def ask(key: str, text: str) -> None:
        notices.say(session=session, now=NOW, team_id="T0000001",
                    said=[notices.Said(USER, key, {"render": "flaky", "said": text})])  # fmt: skip
        session.commit()

    monkeypatch.setitem(outbox.RENDERERS, "flaky", flaky)
    get_workspace(session, "T0000001")
    with freeze_time(NOW) as clock:
        ask("flaky:1", "built at last")
        worker.deliver(NOW)
        [row] = said(session)
        assert (row.status, row.last_error, row.due_at) == ("pending", "render failed", NOW + dt.timedelta(minutes=1))
        for seconds in (60, 120):  # its waits
            clock.tick(seconds)
            worker.deliver(NOW)
        assert dms(fake, USER) == ["built at last"] and said(session) == []

        failing["times"] = 99
        ask("flaky:2", "never")
        for _ in range(outbox.RENDER_TRIES):
            worker.deliver(NOW)
            clock.tick(3600)
        [row] = said(session)
        assert (row.status, row.attempts, dms(fake, USER)) == ("failed", outbox.RENDER_TRIES, ["built at last"])


@freeze_time(NOW)
def test_a_touchs_dm_and_app_home_are_written_by_one_statement(slack, fake, session, engine):
    """What a request asks of the outbox, its DMs and its App Homes, is written together just
    before it commits (RequestContext.finish): one statement for them all, one round trip."""
    from sqlalchemy import event

    add_customer(session, "Acme Ltd")
    slack.command("touch Acme Ltd")
    view = fake.last("views.open")["view"]
    inserts: list[int] = []

    def seen(_conn, _cursor, statement, parameters, _context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO NOTIFICATION"):
            inserts.append(len(parameters) if executemany else 1)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert slack.submit(view, {"Summary": "Walked the plant"}).text == ""
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert inserts == [2]  # the author's DM and the owner's App Home
    session.expire_all()
    rows = session.scalars(select(Notification).order_by(Notification.key))
    assert [(r.kind, r.channel) for r in rows] == [("home", USER), ("said", USER)]


def test_what_a_request_asked_for_before_its_refusal_is_not_written(session, engine):
    """A refusal rolls back what the request wrote, and what it asked of the outbox with it; an App
    Home asked for twice in one request is one row."""
    from bot.context import RequestContext
    from bot.services import home, notices

    add_customer(session, "Acme")
    rq = RequestContext(session=make_session_factory(engine)(), team_id="T0000001", user_id=USER, now=NOW,
                        surface="test", directory=None)  # type: ignore[arg-type]  # fmt: skip
    rq.say(notices.Said(USER, "refused", {"text": "never"}))
    rq.rollback()
    for _ in range(2):
        rq.ask(home.asked_homes(now=NOW, team_id="T0000001", user_ids=[OTHER], default_tz="UTC"))
    rq.say(notices.Said(USER, "saved", {"text": "saved"}))
    rq.finish()
    session.expire_all()
    rows = session.scalars(select(Notification).order_by(Notification.key))
    assert [(r.kind, r.channel, r.payload.get("text")) for r in rows] == [("home", OTHER, None), ("said", USER, "saved")]
