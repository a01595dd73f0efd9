"""Touches and revisits end to end: slash commands, buttons, the message shortcut, App Home."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from freezegun import freeze_time
from sqlalchemy import event, select

from bot.services.touches import TouchInput, log_touch
from bot.storage.db import updated
from bot.storage.models import AuditEvent, RevisitDone, Touch
from tests import slackclient
from tests.helpers import add_customer, as_admin, customers_of
from tests.slackclient import USER, block_text

OTHER = "U0000002"
NOW = "2026-11-25T10:00:00+00:00"  # a Wednesday


def touches_of(session) -> list[Touch]:
    session.expire_all()
    rows = list(session.scalars(select(Touch).order_by(Touch.id)))
    session.commit()
    return rows


def inputs(view) -> dict[str, dict]:
    return {b["label"]["text"]: b for b in view["blocks"] if b["type"] == "input"}


# --- the modal ------------------------------------------------------------------------


@freeze_time(NOW)
def test_touch_opens_log_touch_prefilled(slack, fake, session):
    add_customer(session, "Acme Ltd", grade="A")
    slack.command("touch acme ltd")
    view = fake.last("views.open")["view"]
    assert view["title"]["text"] == "Log touch"
    fields = inputs(view)
    assert list(fields) == ["Customer", "Kind", "Summary", "When", "Outcome", "Next step", "Next step due", "Assignee",
                            "Next revisit"]  # fmt: skip
    assert fields["Assignee"]["element"]["initial_user"] == USER  # the author, unless changed
    assert fields["Customer"]["element"]["type"] == "external_select"
    assert fields["Customer"]["element"]["initial_option"]["text"]["text"] == "Acme Ltd (#1)"
    assert fields["Summary"]["optional"] is False
    assert fields["When"]["element"]["initial_date_time"] == int(dt.datetime.fromisoformat(NOW).timestamp())
    assert fields["Next revisit"]["element"]["initial_date"] == "2026-12-02"  # grade A: 7 days


@freeze_time(NOW)
def test_logging_a_touch_saves_it_and_moves_the_revisit(slack, fake, session):
    add_customer(session, "Acme Ltd", grade="B")
    slack.command("touch Acme Ltd")
    view = fake.last("views.open")["view"]
    reply = slack.submit(view, {"Kind": "Visit", "Summary": "Walked the plant", "Next step": "send quote",
                                "Next revisit": None})  # fmt: skip
    assert reply.status == 200 and reply.text == ""
    [touch] = touches_of(session)
    assert (touch.kind, touch.summary, touch.next_step, touch.author_id) == ("visit", "Walked the plant", "send quote", USER)
    [customer] = customers_of(session)
    assert customer.next_revisit == dt.date(2026, 12, 25)  # empty: touch date + 30 days (grade B)
    assert customer.last_touch_at == dt.datetime.fromisoformat(NOW)
    assert "Next revisit: 2026-12-25" in fake.last("chat.postMessage")["text"]
    assert fake.last("views.publish")["user_id"] == USER
    audit = session.scalars(select(AuditEvent).where(AuditEvent.entity == "touch")).one()
    assert (audit.action, audit.actor_id, audit.surface) == ("create", USER, "modal")


@freeze_time(NOW)
def test_a_touch_is_written_once_with_one_update_of_its_customer(slack, fake, session, engine):
    customer = add_customer(session, "Acme Ltd", grade="B")
    customer.next_revisit = dt.date(2026, 11, 20)  # overdue: this touch does it
    session.commit()
    slack.command("touch Acme Ltd")
    view = fake.last("views.open")["view"]
    writes: list[str] = []

    def counted(_conn, _cursor, statement, *_args):  # noqa: ANN001 - an event listener's signature
        if statement.startswith(("INSERT", "UPDATE")):
            writes.append(" ".join(statement.split()[:3]))  # "INSERT INTO touch"

    event.listen(engine, "before_cursor_execute", counted)
    try:
        reply = slack.submit(view, {"Summary": "called", "Next step": "send quote", "Next step due": "2026-11-27"})
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    assert reply.status == 200 and reply.text == ""
    written = sorted(w for w in writes if "notification" not in w and "audit_event" not in w)  # the outbox, the trail
    assert written == ["INSERT INTO follow_up", "INSERT INTO revisit_done", "INSERT INTO touch", "UPDATE customer SET"]
    [touch] = touches_of(session)
    done = session.scalars(select(RevisitDone)).one()
    assert (done.touch_id, done.customer_id, done.due_on, done.done_on) == (touch.id, customer.id, dt.date(2026, 11, 20),
                                                                            dt.date(2026, 11, 25))  # fmt: skip
    assert [f.touch_id for f in touch.follow_ups] == [touch.id]
    assert (touch.created_at, touch.updated_at) == (dt.datetime.fromisoformat(NOW),) * 2
    session.expire_all()
    assert customer.updated_at == dt.datetime.fromisoformat(NOW)  # stamped as a flush stamps it


def test_a_touch_rolled_back_leaves_the_session_as_a_flushed_one_would(session):
    customer = add_customer(session, "Acme Ltd")
    viewer, now = as_admin(), dt.datetime.fromisoformat(NOW)

    def logged(summary: str, at: dt.datetime = now) -> Touch:
        data = TouchInput(customer=customer.id, kind="call", summary=summary)
        return log_touch(session=session, viewer=viewer, data=data, tz=None, surface="test", now=at)

    savepoint = session.begin_nested()
    first = logged("first")
    assert (customer.last_touch_at, customer.next_revisit) == (now, dt.date(2026, 12, 25))
    savepoint.rollback()
    assert first not in session
    assert (customer.last_touch_at, customer.next_revisit) == (None, None)  # its dates as the database has them
    second = logged("second")  # SQLite gives it the first one's id again
    session.commit()
    assert [t.summary for t in touches_of(session)] == ["second"] and second in session
    session.begin_nested()
    third = logged("third", at=now + dt.timedelta(hours=1))
    session.rollback()  # the whole transaction: the savepoint's row with it
    assert third not in session and [t.summary for t in touches_of(session)] == ["second"]
    assert customer.last_touch_at == now


def test_a_plain_update_writes_only_what_differs_as_a_flush_would(session, engine):
    """A touch dated before the last one moves only the revisit, and a revisit moved to the
    day it already had writes nothing."""
    customer = add_customer(session, "Acme Ltd")
    written: list[str] = []

    def counted(_conn, _cursor, statement, *_args):  # noqa: ANN001 - an event listener's signature
        if statement.startswith("UPDATE"):
            written.append(statement)

    event.listen(engine, "before_cursor_execute", counted)
    try:
        updated(session, customer, {"next_revisit": customer.next_revisit, "last_touch_at": customer.last_touch_at})
        assert written == []
        updated(session, customer, {"next_revisit": dt.date(2027, 1, 4), "last_touch_at": customer.last_touch_at})
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    assert len(written) == 1 and "next_revisit" in written[0] and "last_touch_at" not in written[0]
    session.commit()
    session.expire_all()
    assert customer.next_revisit == dt.date(2027, 1, 4)


@freeze_time(NOW)
def test_a_revisit_date_given_in_the_modal_wins(slack, fake, session):
    add_customer(session, "Acme", grade="C")
    slack.command("touch Acme")
    slack.submit(fake.last("views.open")["view"], {"Summary": "call", "Next revisit": "2027-01-10"})
    assert customers_of(session)[0].next_revisit == dt.date(2027, 1, 10)


@freeze_time(NOW)
@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"Summary": "  "}, "summary", "Write what was said or done."),
        ({"Summary": "x", "When": int(dt.datetime(2026, 11, 26, tzinfo=dt.UTC).timestamp())}, "happened_at",
         "A touch cannot be in the future."),
        ({"Summary": "x", "Customer": None}, "customer", "Pick a customer."),
    ],
)  # fmt: skip
def test_bad_touches_are_refused_inline(slack, fake, session, values, field, message):
    add_customer(session, "Acme")
    slack.command("touch Acme")
    reply = slack.submit(fake.last("views.open")["view"], values)
    assert reply.json["errors"][field] == message
    assert touches_of(session) == []
    assert customers_of(session)[0].next_revisit is None


@freeze_time(NOW)
def test_a_customer_deleted_meanwhile_is_refused_inline(slack, fake, session):
    customer = add_customer(session, "Acme")
    slack.command("touch Acme")
    session.delete(customer)
    session.commit()
    reply = slack.submit(fake.last("views.open")["view"], {"Summary": "hello"})
    assert reply.json["errors"] == {"customer": "This customer no longer exists."}
    assert touches_of(session) == []


@freeze_time(NOW)
def test_the_modal_opens_from_card_find_and_home_buttons(slack, fake, session):
    add_customer(session, "Acme Ltd")
    slack.click(slack.command("show Acme Ltd").blocks, "Log touch")
    assert inputs(fake.last("views.open")["view"])["Customer"]["element"]["initial_option"]["value"] == "1"
    slack.click(slack.command("find acme").blocks, "Log touch")
    assert inputs(fake.last("views.open")["view"])["Customer"]["element"]["initial_option"]["value"] == "1"
    slack.event({"type": "app_home_opened", "user": USER, "tab": "home"})
    home = fake.last("views.publish")["view"]
    slack.click(home["blocks"], "Log touch", view=home)
    assert "initial_option" not in inputs(fake.last("views.open")["view"])["Customer"]["element"]


def test_picking_the_customer_by_type_ahead_then_saving(slack, fake, session):
    add_customer(session, "Acme Ltd")
    slack.command("touch")
    view = fake.last("views.open")["view"]
    [option] = slack.suggest("customer_picker", "acm").json["options"]
    slack.submit(view, {"Customer": option, "Summary": "first call"})
    assert [t.summary for t in touches_of(session)] == ["first call"]


# --- message shortcut -------------------------------------------------------------------


@freeze_time(NOW)
def test_the_modal_closes_before_the_dm_and_app_home_go_out(slack, fake, session, monkeypatch):
    """Slack hears back once the touch is saved; the confirmation DM follows (bot.later) and the
    App Home is the worker's to publish (services.home.asked_homes). With both Web API calls
    slowed down, the answer comes before either is made."""
    add_customer(session, "Acme Ltd")
    slack.command("touch Acme Ltd")
    view = fake.last("views.open")["view"]
    fake.slow("chat.postMessage", 1.5)
    fake.slow("views.publish", 1.5)
    monkeypatch.setattr(slackclient, "after_the_answer", lambda: None)  # the client must not wait for them

    reply = slack.submit(view, {"Summary": "Walked the plant"})

    assert reply.status == 200 and reply.text == ""
    assert [t.summary for t in touches_of(session)] == ["Walked the plant"]
    assert fake.calls_to("chat.postMessage") == []
    monkeypatch.undo()
    slackclient.after_the_answer()
    assert "Touch with *Acme Ltd" in fake.last("chat.postMessage")["text"]
    assert fake.last("views.publish")["user_id"] == USER


def test_log_as_touch_keeps_the_text_permalink_and_speaker(slack, fake, session):
    add_customer(session, "Acme")
    message = {"type": "message", "user": OTHER, "ts": "1764064800.000100", "text": "Acme wants 200 units by Friday"}
    assert slack.message_shortcut("log_touch", message).status == 200
    view = fake.last("views.open")["view"]
    assert inputs(view)["Summary"]["element"]["initial_value"] == "Acme wants 200 units by Friday"
    asked = fake.last("chat.getPermalink")
    assert (asked["channel"], asked["message_ts"]) == ("C0000001", "1764064800.000100")
    [option] = slack.suggest("customer_picker", "acme").json["options"]
    slack.submit(view, {"Customer": option, "Kind": "Chat"})
    [touch] = touches_of(session)
    assert touch.author_id == USER and touch.speaker_id == OTHER
    assert touch.permalink == "https://example.slack.com/archives/C0000001/p1764064800000100"
    assert touch.summary == "Acme wants 200 units by Friday"


def test_shortcuts_build_a_channels_links_once_slack_has_shown_how_and_ask_for_a_reply_until_then(slack, fake):
    root, later, reply = "1764064800.000100", "1764064900.000200", "1764065000.000300"
    fake.add_message("C0000001", reply, "a reply", thread_ts=root)  # so that the fake links it as a reply
    slack.message_shortcut("log_touch", {"ts": root, "text": "first", "thread_ts": root})  # asked
    slack.message_shortcut("log_complaint", {"ts": later, "text": "second"})  # built
    slack.message_shortcut("log_touch", {"ts": reply, "text": "a reply", "thread_ts": root})  # asked: a reply
    assert [c.args["message_ts"] for c in fake.calls_to("chat.getPermalink")] == [root, reply]
    links = [json.loads(c.args["view"]["private_metadata"])["permalink"] for c in fake.calls_to("views.open")]
    assert links == [f"https://example.slack.com/archives/C0000001/p{ts.replace('.', '')}" for ts in (root, later)] + [
        f"https://example.slack.com/archives/C0000001/p{reply.replace('.', '')}?thread_ts={root}&cid=C0000001"]


def test_a_reply_whose_thread_slack_did_not_name_has_its_link_asked(slack, fake):
    root, later, reply = "1764064800.000100", "1764064900.000200", "1764065000.000300"
    fake.add_message("C0000001", reply, "a reply", thread_ts=root)
    slack.message_shortcut("log_touch", {"ts": root, "text": "first"})  # asked: the channel's shape learned
    slack.message_shortcut("log_touch", {"ts": later, "text": "second"})  # built
    slack.message_shortcut("log_touch", {"ts": reply, "text": "a reply", "parent_user_id": "U7"})  # asked
    assert [c.args["message_ts"] for c in fake.calls_to("chat.getPermalink")] == [root, reply]
    link = json.loads(fake.last("views.open")["view"]["private_metadata"])["permalink"]
    assert link.endswith(f"?thread_ts={root}&cid=C0000001")


@pytest.mark.parametrize("message", [{"ts": "not-a-ts", "text": "hello"},
                                     {"ts": "1764064800.000100", "thread_ts": "x", "text": "hello"}])  # fmt: skip
def test_a_shortcut_on_a_message_whose_ts_is_not_slacks_is_refused_clearly(slack, fake, message):
    assert slack.message_shortcut("log_touch", message).status == 200
    assert fake.calls_to("views.open") == [] and fake.calls_to("chat.getPermalink") == []
    assert "could not read that request" in fake.last("response_url")["text"]


def test_log_as_touch_on_a_message_without_text_says_so(slack, fake):
    message = {"type": "message", "user": OTHER, "ts": "1.2", "text": "", "files": [{"id": "F1"}]}
    slack.message_shortcut("log_touch", message)
    assert fake.calls_to("views.open") == []
    assert "has no text" in fake.last("response_url")["text"]


# --- revisit --------------------------------------------------------------------------


@freeze_time(NOW)
@pytest.mark.parametrize(
    ("when", "expected"),
    [("2026-12-01", "2026-12-01"), ("tomorrow", "2026-11-26"), ("in 3 days", "2026-11-28"),
     ("in 2 weeks", "2026-12-09"), ("next monday", "2026-11-30"), ("today", "2026-11-25")],
)  # fmt: skip
def test_revisit_sets_the_date(slack, session, when, expected):
    add_customer(session, "Acme Trading Co")
    reply = slack.command(f"revisit Acme Trading Co {when}")
    assert f"Next revisit of *Acme Trading Co (#1)*: {expected}." in reply.shown
    assert customers_of(session)[0].next_revisit == dt.date.fromisoformat(expected)


@freeze_time(NOW)
def test_revisit_in_the_past_or_unreadable_is_refused_with_an_example(slack, session):
    add_customer(session, "Acme", next_revisit=None)
    past = slack.command("revisit Acme 2026-11-01").shown
    assert "2026-11-01 is in the past" in past and "in 2 weeks" in past
    assert "I can't read a date" in slack.command("revisit Acme someday").shown
    assert "e.g. `/crm revisit Acme Ltd in 2 weeks`" in slack.command("revisit Acme").shown
    assert customers_of(session)[0].next_revisit is None


@freeze_time(NOW)
def test_revisit_off_stops_revisits_and_a_touch_keeps_it_off(slack, fake, session):
    add_customer(session, "Acme")
    assert "No more revisits for *Acme (#1)*" in slack.command("revisit Acme off").shown
    slack.command("touch Acme")
    view = fake.last("views.open")["view"]
    assert "initial_date" not in inputs(view)["Next revisit"]["element"]
    slack.submit(view, {"Summary": "quick call"})
    [customer] = customers_of(session)
    assert (customer.revisits_enabled, customer.next_revisit) == (False, None)
    assert "no revisits" in block_text(slack.command("show Acme").blocks)


@pytest.mark.parametrize(
    ("now", "tz", "expected"),
    [
        ("2026-11-30T15:30:00+00:00", "Asia/Shanghai", "2026-12-01"),  # 23:30 on Nov 30 in Shanghai
        ("2026-11-30T23:30:00+00:00", "Asia/Shanghai", "2026-12-02"),  # 07:30 on Dec 1 in Shanghai
        ("2026-12-01T01:00:00+00:00", "America/New_York", "2026-12-01"),  # 20:00 on Nov 30 in New York
    ],
)
def test_tomorrow_is_read_in_the_callers_time_zone(slack, fake, session, now, tz, expected):
    fake.add_user(USER, tz=tz)
    add_customer(session, "Acme")
    with freeze_time(now):
        slack.command("revisit Acme tomorrow")
    assert customers_of(session)[0].next_revisit == dt.date.fromisoformat(expected)


@freeze_time(NOW)
def test_schedule_revisit_button_opens_a_modal_that_sets_it(slack, fake, session):
    add_customer(session, "Acme")
    slack.click(slack.command("show Acme").blocks, "Schedule revisit")
    view = fake.last("views.open")["view"]
    assert view["title"]["text"] == "Schedule revisit"
    assert "in the past" in slack.submit(view, {"Next revisit": "2026-01-01"}).json["errors"]["next_revisit"]
    slack.submit(view, {"Next revisit": "2026-12-24"})
    assert customers_of(session)[0].next_revisit == dt.date(2026, 12, 24)


# --- due and App Home ---------------------------------------------------------------------


@freeze_time(NOW)
def test_due_lists_overdue_first_then_the_next_week(slack, session):
    add_customer(session, "Late", next_revisit=None)
    for name, day in [("Week Later", "2026-12-02"), ("Very Late", "2026-11-01"), ("Today", "2026-11-25"),
                      ("Far Away", "2026-12-20"), ("Bit Late", "2026-11-20")]:  # fmt: skip
        add_customer(session, name)
        slack.command(f"revisit {name} {day}") if day >= "2026-11-25" else None
    from bot.storage.models import Customer

    for c in session.scalars(select(Customer)):
        if c.name in ("Very Late", "Bit Late"):
            c.next_revisit = dt.date.fromisoformat("2026-11-01" if c.name == "Very Late" else "2026-11-20")
    add_customer(session, "Not Mine", owner_id=OTHER)
    session.commit()
    shown = slack.command("due").shown
    order = [name for name in ("Very Late", "Bit Late", "Today", "Week Later") if name in shown]
    assert order == ["Very Late", "Bit Late", "Today", "Week Later"]
    assert shown.index("Very Late") < shown.index("Bit Late") < shown.index("Today") < shown.index("Next 7 days")
    assert shown.index("Next 7 days") < shown.index("Week Later")
    assert "Due 2026-11-01, 24 days overdue" in shown and "Due 2026-11-25\n" in shown
    assert shown.count("Snooze") == 4 and shown.count("Reassign") == 4
    assert "Far Away" not in shown and "Not Mine" not in shown


def test_due_shows_the_most_overdue_ten_and_counts_the_rest(slack, session):
    from bot.storage.models import Customer

    for n in range(14):
        add_customer(session, f"Client {n:02d}")
    add_customer(session, "Next Week")
    today = dt.date.today()
    for c in session.scalars(select(Customer)):
        c.next_revisit = today + dt.timedelta(days=3 if c.name == "Next Week" else int(c.name[-2:]) - 30)
    session.commit()
    shown = slack.command("due").shown
    assert [f"Client {n:02d}" in shown for n in range(14)] == [True] * 10 + [False] * 4
    assert "and 4 more" in shown and "Next Week" in shown


def test_due_with_nothing_due_says_so(slack):
    assert "Nothing due" in slack.command("due").shown


@freeze_time(NOW)
def test_app_home_shows_my_items_and_counts(slack, fake, session):
    add_customer(session, "Acme", grade="A")
    add_customer(session, "Beta", grade="A")
    add_customer(session, "Gamma", grade="C")
    slack.command("revisit Acme today")
    slack.event({"type": "app_home_opened", "user": USER, "tab": "home"})
    publish = fake.last("views.publish")
    assert publish["user_id"] == USER
    shown = block_text(publish["view"]["blocks"])
    assert "A: 2 · C: 1" in shown and "Acme (#1)" in shown and "Due 2026-11-25" in shown
    assert "New customer" in shown and "Log touch" in shown


# --- history, edit, delete ----------------------------------------------------------------


@freeze_time(NOW)
def test_show_lists_the_last_five_touches_and_pages_the_rest(slack, fake, session):
    add_customer(session, "Acme")
    for i in range(12):
        slack.command("touch Acme")
        when = int(dt.datetime(2026, 11, 1 + i, 9, tzinfo=dt.UTC).timestamp())
        slack.submit(fake.last("views.open")["view"], {"Summary": f"touch number {i:02d}", "When": when})
    card = slack.command("show Acme").blocks
    text = block_text(card)
    assert "touch number 11" in text and "touch number 07" in text and "touch number 06" not in text
    assert "2026-11-12 09:00" in text and f"<@{USER}>" in text
    slack.click(card, "More")
    page = fake.last("response_url")["blocks"]
    assert "touch number 06" in block_text(page) and "touch number 00" in block_text(page)
    assert "More" not in block_text(page)


@freeze_time(NOW)
def test_the_author_edits_a_touch_and_the_change_is_audited(slack, fake, session):
    add_customer(session, "Acme")
    slack.command("touch Acme")
    slack.submit(fake.last("views.open")["view"], {"Summary": "first version"})
    card = slack.command("show Acme").blocks
    menu = next(b["accessory"] for b in card if b.get("accessory", {}).get("type") == "overflow")
    slack.action("touch_menu", selected_option={"value": menu["options"][0]["value"]})
    view = fake.last("views.open")["view"]
    assert view["title"]["text"] == "Edit touch" and "Customer" not in inputs(view)
    slack.submit(view, {"Summary": "second version"})
    assert touches_of(session)[0].summary == "second version"
    change = session.scalars(select(AuditEvent).where(AuditEvent.entity == "touch", AuditEvent.action == "update")).one()
    assert change.changes == {"summary": ["first version", "second version"]}


@freeze_time(NOW)
def test_only_the_author_or_an_admin_may_delete(slack, fake, session):
    add_customer(session, "Acme")
    slack.command("touch Acme")
    slack.submit(fake.last("views.open")["view"], {"Summary": "keep me"})
    touch_id = touches_of(session)[0].id
    slack.action("touch_menu", selected_option={"value": f"delete:{touch_id}"}, user=OTHER)
    assert "Only the touch's author or an admin" in fake.last("response_url")["text"]
    slack.action("touch_delete", str(touch_id), user=OTHER)
    assert len(touches_of(session)) == 1
    fake.add_user("U0000003", is_admin=True)
    slack.action("touch_menu", selected_option={"value": f"delete:{touch_id}"}, user="U0000003")
    confirm = fake.last("response_url")["blocks"]
    slack.click(confirm, "Delete", user="U0000003")
    assert touches_of(session) == []
    assert customers_of(session)[0].last_touch_at is None
    deleted = session.scalars(select(AuditEvent).where(AuditEvent.action == "delete")).one()
    assert deleted.actor_id == "U0000003" and deleted.changes["summary"] == ["keep me", None]


@freeze_time(NOW)
def test_another_workspace_cannot_touch_these_touches(slack, fake, session):
    add_customer(session, "Acme")
    slack.command("touch Acme")
    slack.submit(fake.last("views.open")["view"], {"Summary": "ours"})
    touch_id = touches_of(session)[0].id
    slack.action("touch_menu", selected_option={"value": f"edit:{touch_id}"}, team="T0000002")
    assert fake.last("response_url")["text"] == "This touch no longer exists."
    slack.action("touch_delete", str(touch_id), team="T0000002")
    slack.action("touch_history", '{"customer_id": 1, "offset": 0}', team="T0000002")
    assert len(touches_of(session)) == 1
    assert "ours" not in str(fake.calls_to("response_url"))


@freeze_time(NOW)
def test_snoozing_from_due_answers_in_the_list_and_from_home_refreshes_it(slack, fake, session):
    add_customer(session, "Acme")
    slack.command("revisit Acme today")
    reply = slack.command("due")
    [actions] = [b for b in reply.blocks if b.get("block_id", "").startswith("revisit:")]
    slack.action("revisit_snooze", selected_option={"value": "3"}, block_id=actions["block_id"], ephemeral=True)
    answer = fake.last("response_url")
    assert answer["replace_original"] is True and "snoozed to 2026-11-28" in answer["text"]
    assert customers_of(session)[0].next_revisit == dt.date(2026, 11, 28)
    home = {"type": "home", "id": "VHOME", "blocks": []}
    slack.action("revisit_snooze", selected_option={"value": "1"}, block_id=actions["block_id"], view=home)
    assert customers_of(session)[0].next_revisit == dt.date(2026, 11, 26)  # a snooze counts from today
    assert fake.last("views.publish")["user_id"] == USER
