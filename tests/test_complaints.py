"""Complaints end to end: signed requests in, Slack calls out, rows and clocks in the database."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.clock import wall
from bot.services import complaints, sla
from bot.services.workspaces import get_workspace, team_settings
from bot.storage.models import Complaint, ComplaintEvent
from tests.helpers import add_customer, as_admin
from tests.slackclient import TEAM, USER, block_text, table_rows

OWNER = "U0000009"
OTHER_USER = "U0000002"
CHANNEL = "C0COMPLAINTS"
CST = ZoneInfo("Asia/Shanghai")
SPLIT = {d: ["09:00-12:00", "13:30-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def cst(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CST)


def configure(session, team: str = TEAM, **settings: object) -> None:
    workspace = get_workspace(session, team)
    workspace.settings = {**(workspace.settings or {}), **settings}
    session.commit()


def complaints_of(session, team: str = TEAM) -> list[Complaint]:
    session.expire_all()
    rows = list(session.scalars(select(Complaint).where(Complaint.team_id == team).order_by(Complaint.id)))
    session.commit()
    return rows


def events_of(session, complaint: Complaint) -> list[tuple[str, str | None, str | None, str | None]]:
    session.expire_all()
    rows = session.scalars(select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint.id)
                           .order_by(ComplaintEvent.id))  # fmt: skip
    out = [(e.kind, e.from_state, e.to_state, e.actor_id) for e in rows]
    session.commit()
    return out


def log_complaint(slack, fake, customer: str, values: dict[str, object], *, user: str = USER):
    slack.command(f"complaint {customer}", user=user)
    return slack.submit(fake.last("views.open")["view"], values, user=user)


def dms_to(fake, user: str) -> list[dict]:
    return [c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == user]


# --- logging a complaint ---------------------------------------------------------------------


def test_complaint_opens_the_modal_with_the_customer_and_its_owner(slack, fake, session):
    add_customer(session, "Acme Ltd", owner_id=OWNER)
    reply = slack.command("complaint acme ltd")
    assert reply.status == 200
    view = fake.last("views.open")["view"]
    assert view["title"]["text"] == "Log complaint"
    inputs = {b["label"]["text"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(inputs) == ["Customer", "Title", "Description", "Severity", "Category", "Assignee"]
    assert [k for k, b in inputs.items() if not b["optional"]] == ["Customer", "Title", "Severity"]
    picker = inputs["Customer"]["element"]
    assert (picker["type"], picker["action_id"]) == ("external_select", "customer_picker")
    assert picker["initial_option"]["text"]["text"] == "Acme Ltd (#1)"
    assert inputs["Severity"]["element"]["initial_option"]["value"] == "normal"
    assert [o["value"] for o in inputs["Category"]["element"]["options"]] == [
        "product", "service", "delivery", "billing", "other"]  # fmt: skip
    assert inputs["Assignee"]["element"]["initial_user"] == OWNER


def test_a_logged_complaint_is_numbered_and_the_assignee_gets_a_dm_with_buttons(slack, fake, session):
    add_customer(session, "Acme Ltd", owner_id=OWNER)
    reply = log_complaint(slack, fake, "Acme Ltd", {"Title": "Late delivery", "Severity": "High",
                                                    "Category": "Delivery", "Description": "Two weeks late"})
    assert reply.status == 200 and reply.text == ""
    [c] = complaints_of(session)
    assert (c.number, c.title, c.severity, c.category, c.state) == (1, "Late delivery", "high", "delivery", "open")
    assert (c.author_id, c.assignee_id, c.cycle) == (USER, OWNER, 1)
    [to_owner] = dms_to(fake, OWNER)
    text = block_text(to_owner["blocks"])
    assert "#1" in to_owner["text"] and "Acme Ltd" in text and "Two weeks late" in text
    for label in ("Acknowledge", "Waiting on customer", "In progress", "Resolve"):
        assert label in text
    [to_author] = dms_to(fake, USER)
    assert "Complaint *#1* logged for *Acme Ltd*" in to_author["text"]
    # both deadlines are on the card
    assert "First response" in text and "Resolution" in text
    assert text.count("due <!date^") == 2
    assert events_of(session, c) == [("created", None, "open", USER)]


def test_numbers_are_per_workspace_and_never_reused(slack, fake, session):
    add_customer(session, "Acme")
    log_complaint(slack, fake, "Acme", {"Title": "One"})
    log_complaint(slack, fake, "Acme", {"Title": "Two"})
    [first, _] = complaints_of(session)
    session.delete(session.get(Complaint, first.id))
    session.commit()
    log_complaint(slack, fake, "Acme", {"Title": "Three"})
    assert [c.number for c in complaints_of(session)] == [2, 3]
    add_customer(session, "Other", team="T0000002")
    log_complaint_other = slack.command("complaint Other", team="T0000002")
    assert log_complaint_other.status == 200
    slack.submit(fake.last("views.open")["view"], {"Title": "Elsewhere"}, team="T0000002")
    assert [c.number for c in complaints_of(session, "T0000002")] == [1]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"Title": "  "}, "title", "Give the complaint a short title."),
        ({"Title": "X", "Customer": None}, "customer", "Pick the customer"),
    ],
)
def test_bad_complaint_input_comes_back_inline(slack, fake, session, values, field, message):
    add_customer(session, "Acme")
    reply = log_complaint(slack, fake, "Acme", values)
    assert reply.json["response_action"] == "errors"
    assert message in reply.json["errors"][field]
    assert complaints_of(session) == []
    assert fake.calls_to("chat.postMessage") == []


def test_a_forged_customer_of_another_workspace_is_refused(slack, fake, session):
    add_customer(session, "Acme")
    theirs = add_customer(session, "Theirs", team="T0000002")
    reply = log_complaint(slack, fake, "Acme", {"Title": "X", "Customer": {"text": {"type": "plain_text", "text": "x"},
                                                                            "value": str(theirs.id)}})  # fmt: skip
    assert reply.json == {"response_action": "errors", "errors": {"customer": "This customer no longer exists."}}
    assert complaints_of(session) == [] and complaints_of(session, "T0000002") == []


def test_without_a_customer_the_modal_opens_empty_and_the_picker_searches(slack, fake, session):
    add_customer(session, "Acme Ltd", owner_id=OWNER)
    slack.command("complaint")
    view = fake.last("views.open")["view"]
    assert "initial_option" not in view["blocks"][0]["element"]
    [option] = slack.suggest("customer_picker", "acm").json["options"]
    slack.submit(view, {"Customer": option, "Title": "Rude driver"})
    [c] = complaints_of(session)
    assert c.assignee_id == OWNER  # the customer's owner, as no one else was picked


def test_an_ambiguous_customer_offers_candidates_that_open_the_modal(slack, fake, session):
    add_customer(session, "Acme East")
    add_customer(session, "Acme West")
    reply = slack.command("complaint acme")
    assert "Several customers match" in reply.shown
    slack.click(reply.blocks, "Log complaint", nth=1)
    view = fake.last("views.open")["view"]
    assert view["blocks"][0]["element"]["initial_option"]["text"]["text"] == "Acme West (#2)"


def test_the_message_shortcut_keeps_the_text_and_the_permalink(slack, fake, session):
    add_customer(session, "Acme Ltd", owner_id=OWNER)
    slack.message_shortcut("log_complaint", {"ts": "1700000000.000100", "text": "Your parcel arrived broken!", "user": "U7"})
    assert fake.last("chat.getPermalink")["message_ts"] == "1700000000.000100"
    view = fake.last("views.open")["view"]
    assert view["blocks"][2]["element"]["initial_value"] == "Your parcel arrived broken!"
    [option] = slack.suggest("customer_picker", "acme").json["options"]
    slack.submit(view, {"Customer": option, "Title": "Broken parcel"})
    [c] = complaints_of(session)
    assert c.description == "Your parcel arrived broken!"
    assert c.permalink == "https://example.slack.com/archives/C0000001/p1700000000000100"
    assert "Original message" in block_text(dms_to(fake, OWNER)[0]["blocks"])


def test_the_shortcut_still_opens_the_modal_when_slack_has_no_permalink(slack, fake, session):
    fake.fail("chat.getPermalink", error="message_not_found")
    slack.message_shortcut("log_complaint", {"ts": "1.2", "text": "help!"})
    view = fake.last("views.open")["view"]
    assert view["blocks"][2]["element"]["initial_value"] == "help!"
    assert '"permalink": null' in view["private_metadata"]


# --- buttons, resolve, bad input ------------------------------------------------------------------


def test_buttons_move_the_state_and_the_channel_thread_follows(slack, fake, session):
    configure(session, complaints_channel=CHANNEL)
    add_customer(session, "Acme", owner_id=OWNER)
    log_complaint(slack, fake, "Acme", {"Title": "Wrong invoice", "Category": "Billing"})
    [post] = [c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    assert "New complaint *#1* for *Acme*" in post["text"]
    [c] = complaints_of(session)
    assert c.channel_id == CHANNEL and c.thread_ts
    dm = dms_to(fake, OWNER)[0]
    slack.click(dm["blocks"], "Acknowledge", user=OWNER)
    card = fake.last("response_url")
    assert card["replace_original"] is True
    assert "Acknowledged" in block_text(card["blocks"]) and "Acknowledge" not in [
        b["text"]["text"] for blk in card["blocks"] if blk["type"] == "actions" for b in blk["elements"]]
    thread = fake.last("chat.postMessage")
    assert (thread["channel"], thread["thread_ts"]) == (CHANNEL, c.thread_ts)
    assert thread["text"] == f"<@{OWNER}> moved complaint *#1* from Open to *Acknowledged*."
    slack.click(card["blocks"], "Waiting on customer", user=OWNER)
    slack.click(fake.last("response_url")["blocks"], "In progress", user=OWNER)
    [c] = complaints_of(session)
    assert c.state == "in_progress" and c.first_response_at is not None and c.paused_at is None
    assert [e[1:3] for e in events_of(session, c)] == [
        (None, "open"), ("open", "acknowledged"), ("acknowledged", "waiting"), ("waiting", "in_progress")]
    assert len([x for x in fake.calls_to("chat.postMessage") if x.args.get("thread_ts")]) == 3


def test_resolve_modal_requires_a_resolution_and_a_satisfaction_from_one_to_five(slack, fake, session):
    add_customer(session, "Acme", owner_id=OWNER)
    log_complaint(slack, fake, "Acme", {"Title": "Slow support"})
    slack.command("resolve #1")
    view = fake.last("views.open")["view"]
    assert view["title"]["text"] == "Resolve #1"
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    assert labels == ["Resolution", "Satisfaction"]
    reply = slack.submit(view, {"Resolution": "  "})
    assert reply.json["errors"] == {"resolution": "Say how the complaint was resolved."}
    for bad in ("0", "6", "five", "4.5"):
        reply = slack.submit(view, {"Resolution": "Refunded", "Satisfaction": bad})
        assert reply.json["errors"] == {"satisfaction": "Enter a whole number from 1 to 5, or leave it empty."}, bad
    assert complaints_of(session)[0].state == "open"
    reply = slack.submit(view, {"Resolution": "Refunded the fee", "Satisfaction": "4"})
    assert reply.status == 200 and reply.text == ""
    [c] = complaints_of(session)
    assert (c.state, c.resolution, c.satisfaction) == ("resolved", "Refunded the fee", 4)
    assert c.resolved_at is not None and c.first_response_at == c.resolved_at
    assert "Refunded the fee" in block_text(fake.last("chat.postMessage")["blocks"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("resolve #7", "There is no complaint #7 in this workspace."),
        ("resolve", "e.g. `/crm resolve #7`"),
        ("resolve seven", "e.g. `/crm resolve #7`"),
    ],
)
def test_resolve_of_a_complaint_that_does_not_exist(slack, fake, session, text, message):
    add_customer(session, "Acme")
    reply = slack.command(text)
    assert message in reply.shown
    assert fake.calls_to("views.open") == []


def test_another_workspaces_complaint_is_not_found(slack, fake, session):
    add_customer(session, "Other", team="T0000002")
    slack.command("complaint Other", team="T0000002")
    slack.submit(fake.last("views.open")["view"], {"Title": "Theirs"}, team="T0000002")
    reply = slack.command("resolve #1")
    assert "There is no complaint #1 in this workspace." in reply.shown
    # a forged button naming their complaint changes nothing either
    [theirs] = complaints_of(session, "T0000002")
    slack.action("complaint_acknowledge", str(theirs.id))
    assert "This complaint no longer exists." in fake.last("response_url")["text"]
    assert complaints_of(session, "T0000002")[0].state == "open"


def test_acknowledging_a_closed_complaint_is_refused_and_changes_nothing(slack, fake, session):
    add_customer(session, "Acme", owner_id=OWNER)
    log_complaint(slack, fake, "Acme", {"Title": "Noise"})
    buttons = dms_to(fake, OWNER)[0]["blocks"]
    slack.command("resolve #1")
    slack.submit(fake.last("views.open")["view"], {"Resolution": "Apologised"})
    slack.click(fake.last("chat.postMessage")["blocks"], "Close")
    [c] = complaints_of(session)
    assert c.state == "closed" and c.closed_at is not None
    before = events_of(session, c)
    slack.click(buttons, "Acknowledge", user=OWNER)  # the stale button on the first DM
    answer = fake.last("response_url")
    assert answer["text"] == "Complaint #1 is closed; reopen it first. Nothing changed."
    assert answer["replace_original"] is False
    assert complaints_of(session)[0].state == "closed" and events_of(session, c) == before
    assert "Complaint #1 is closed" in slack.command("resolve #1").shown


def test_two_people_resolving_at_once_one_wins(slack, fake, session):
    add_customer(session, "Acme", owner_id=OWNER)
    log_complaint(slack, fake, "Acme", {"Title": "Double"})
    slack.command("resolve #1")
    first = fake.last("views.open")["view"]
    slack.command("resolve #1", user=OTHER_USER)
    second = fake.last("views.open")["view"]
    assert slack.submit(first, {"Resolution": "Fixed by me"}).text == ""
    reply = slack.submit(second, {"Resolution": "Fixed by me too"}, user=OTHER_USER)
    assert reply.json == {"response_action": "errors",
                          "errors": {"resolution": "Complaint #1 is already resolved; nothing changed."}}
    [c] = complaints_of(session)
    assert c.resolution == "Fixed by me"
    assert [e for e in events_of(session, c) if e[2] == "resolved"] == [("state", "open", "resolved", USER)]


def test_two_resolve_submissions_at_the_same_moment(slack, fake, session):
    from concurrent.futures import ThreadPoolExecutor

    add_customer(session, "Acme", owner_id=OWNER)
    log_complaint(slack, fake, "Acme", {"Title": "Race"})
    views = []
    for user in (USER, OTHER_USER):
        slack.command("resolve #1", user=user)
        views.append((fake.last("views.open")["view"], user))
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda v: slack.submit(v[0], {"Resolution": f"by {v[1]}"}, user=v[1]), views))
    assert sorted(r.status for r in replies) == [200, 200]
    winners = [r for r in replies if r.text == ""]
    losers = [r.json["errors"]["resolution"] for r in replies if r.text]
    assert len(winners) == 1 and losers == ["Complaint #1 is already resolved; nothing changed."]
    [c] = complaints_of(session)
    assert len([e for e in events_of(session, c) if e[2] == "resolved"]) == 1
    assert c.resolution == f"by {[e for e in events_of(session, c) if e[2] == 'resolved'][0][3]}"


def test_the_state_guard_holds_when_both_read_before_either_writes(engine, session):
    """The race itself, made deterministic: B reads, A resolves and commits, B's update finds nothing."""
    from bot.storage.db import CLOCK, make_session_factory

    customer = add_customer(session, "Acme")
    factory = make_session_factory(engine)
    now = wall()

    with factory(info={CLOCK: now}) as s:
        made = complaints.create_complaint(
            session=s, viewer=as_admin(USER, TEAM), data=complaints.ComplaintInput(customer=customer.id, title="Race"),
            permalink=None, surface="test", now=now)  # fmt: skip
        s.commit()
        complaint_id = made.complaint.id
    done = complaints.ResolveInput(resolution="done")
    with factory(info={CLOCK: now}) as b:
        # B has read the complaint as open...
        stale = complaints.get_complaint(session=b, viewer=as_admin("UB", TEAM), complaint_id=complaint_id)
        assert stale.state == "open"
        b.commit()  # SQLite holds its write lock per transaction; PostgreSQL needs no help here
        with factory(info={CLOCK: now}) as a:
            complaints.change_state(session=a, viewer=as_admin("UA", TEAM), complaint_id=complaint_id,
                                    action="resolve", surface="test", now=now, resolution=done)
            a.commit()
        stale = b.get(Complaint, complaint_id)
        assert stale.state == "open"  # B's identity map still says open
        original = complaints.access.complaint
        complaints.access.complaint = lambda *a, **kw: stale  # B acts on what it read
        try:
            with pytest.raises(complaints.UserError) as err:
                complaints.change_state(session=b, viewer=as_admin("UB", TEAM), complaint_id=complaint_id,
                                        action="resolve", surface="test", now=now, resolution=done)  # fmt: skip
        finally:
            complaints.access.complaint = original
    assert err.value.key == "error.complaint.is.resolved"
    [c] = complaints_of(session)
    events = session.scalars(select(ComplaintEvent).where(ComplaintEvent.kind == "state")).all()
    assert [e.actor_id for e in events] == ["UA"]


# --- lists ----------------------------------------------------------------------------------------------


def test_complaints_lists_open_overdue_and_mine(slack, fake, session):
    add_customer(session, "Acme", owner_id=OWNER)
    add_customer(session, "Beta", owner_id=USER)
    with freeze_time("2026-11-23 09:00:00") as clock:  # Monday, UTC team, 09:00-18:00
        log_complaint(slack, fake, "Acme", {"Title": "Urgent thing", "Severity": "Urgent"})
        log_complaint(slack, fake, "Beta", {"Title": "Small thing", "Severity": "Low"})
        log_complaint(slack, fake, "Beta", {"Title": "Done thing"})
        slack.command("resolve #3")
        slack.submit(fake.last("views.open")["view"], {"Resolution": "ok"})
        clock.move_to("2026-11-23 10:30:00")
        reply = slack.command("complaints")
        assert reply.shown.startswith("Open complaints:")
        header, *rows = table_rows(reply.blocks)  # a table: the message's last block
        assert reply.blocks[-1]["type"] == "table"
        assert header == ["#", "Title", "Customer", "Severity", "Open for", "Assignee", "Next deadline"]
        assert len(rows) == 2 and rows[0][:6] == [":red_circle:#1", "Urgent thing", "Acme", "Urgent", "1h 30m", "<@U0000009>"]
        assert rows[0][6].startswith("<!date^") and "2026-11-23 10:00 UTC" in rows[0][6]  # urgent: 1 business hour
        assert rows[1][:6] == ["#2", "Small thing", "Beta", "Low", "1h 30m", "<@U0000001>"]
        assert "2026-11-25 15:00 UTC" in rows[1][6]  # low: 24 business hours = 9 h Mon + 9 h Tue + 6 h Wed
        overdue = slack.command("complaints overdue")
        assert [row[:2] for row in table_rows(overdue.blocks)[1:]] == [[":red_circle:#1", "Urgent thing"]]
        mine = slack.command("complaints mine")
        assert "#2\nSmall thing" in mine.shown and "#1" not in mine.shown
        assert "You have no open complaints." in slack.command("complaints mine", user=OTHER_USER).shown
        assert "`/crm complaints overdue`" in slack.command("complaints closed").shown
        slack.click(reply.blocks, "Show #1")
        card = block_text(fake.last("response_url")["blocks"])
        assert "#1 Urgent thing" in card and "overdue since" in card


def test_help_lists_the_complaint_commands(slack):
    shown = slack.command("help").shown
    for example in ("/crm complaint Acme Ltd", "/crm complaints overdue", "/crm resolve #7"):
        assert example in shown


# --- the whole lifecycle, with the clock moving across holidays and weekends ---------------------


def test_lifecycle_with_sla_clocks_over_national_day_a_make_up_saturday_and_a_weekend(slack, fake, session):
    """Shanghai, split shifts 09:00-12:00 / 13:30-18:00 (a business day is 7.5 h), Chinese holidays.

    A normal complaint: first response in 8 business hours, resolution in 3 business days (22.5 h).
    National Day 2026 closes Oct 1-7; Saturday Oct 10 is a make-up working day; Oct 11 is a Sunday.
    """
    configure(session, tz="Asia/Shanghai", working_hours=SPLIT, holidays_country="CN", complaints_channel=CHANNEL)
    add_customer(session, "Acme", owner_id=OWNER)

    def due(at: dt.datetime) -> list[str]:
        session.expire_all()
        found = complaints.escalations_due(session=session, team_id=TEAM, now=at)
        assert told_due(at) == bool(found), at
        session.commit()
        return [e.step for _, steps in found for e in steps]

    def told_due(at: dt.datetime) -> bool:
        """Whether the scheduler's narrowing, which tells many workspaces' complaints at once,
        finds a step due as `escalations_due` does, one workspace at a time."""
        settings = {TEAM: team_settings(session, TEAM)}
        return complaints.teams_with_steps_due(session=session, settings=settings, now=at) == {TEAM}

    def sent(at: dt.datetime) -> list[str]:
        """What the scheduler does: take what is due, deliver it, record it."""
        session.expire_all()
        assert told_due(at) == bool(complaints.escalations_due(session=session, team_id=TEAM, now=at)), at
        steps = []
        for complaint, escalations in complaints.escalations_due(session=session, team_id=TEAM, now=at):
            for e in escalations:
                complaints.record_escalation(session=session, complaint=complaint, escalation=e, now=at)
                steps.append(e.step)
        session.commit()
        return steps

    second = dt.timedelta(seconds=1)

    def becomes_due(at: dt.datetime, step: str) -> None:
        assert due(at - second) == [], at
        assert sent(at) == [step], at

    def utc(at: dt.datetime) -> dt.datetime:
        return at.astimezone(dt.UTC)

    with freeze_time(utc(cst(2026, 9, 30, 16, 0))) as clock:  # Wednesday before National Day
        log_complaint(slack, fake, "Acme", {"Title": "Broken parcels", "Severity": "Normal"})
        [c] = complaints_of(session)
        # 2 h on Sep 30, then Oct 8: 3 h + 3 h of the afternoon
        assert c.first_response_due == cst(2026, 10, 8, 16, 30)
        # 2 h + 7.5 h (Oct 8) + 7.5 h (Oct 9) + 5.5 h on the make-up Saturday Oct 10
        assert c.resolution_due == cst(2026, 10, 10, 16, 0)
        assert due(cst(2026, 10, 7, 23, 59)) == []  # the whole holiday week counts nothing

        becomes_due(cst(2026, 10, 8, 14, 54), "warning.first_response")  # 80 % of 8 h = 6 h 24 min
        becomes_due(cst(2026, 10, 8, 16, 30), "level1")  # first response breached
        assert due(cst(2026, 10, 8, 16, 31)) == []  # each step once per cycle

        clock.move_to(utc(cst(2026, 10, 8, 17, 0)))
        slack.click(dms_to(fake, OWNER)[0]["blocks"], "Acknowledge", user=OWNER)
        assert complaints_of(session)[0].first_response_at == cst(2026, 10, 8, 17, 0)

        clock.move_to(utc(cst(2026, 10, 9, 10, 0)))  # Friday: 10.5 h of 22.5 h used
        slack.click(fake.last("response_url")["blocks"], "Waiting on customer", user=OWNER)
        assert complaints_of(session)[0].paused_at == cst(2026, 10, 9, 10, 0)

        clock.move_to(utc(cst(2026, 10, 12, 10, 0)))  # Monday, past the old deadline: paused, so nothing
        assert due(cst(2026, 10, 12, 10, 0)) == []
        assert "No overdue complaints." in slack.command("complaints overdue").shown
        slack.click(slack.command("complaints").blocks, "Show #1")
        card = fake.last("response_url")["blocks"]
        assert "paused while waiting on the customer" in block_text(card)
        slack.click(card, "In progress", user=OWNER)
        [c] = complaints_of(session)
        assert (c.state, c.paused_at) == ("in_progress", None)
        # the deadline moved by the 15 business hours spent waiting (Fri 6.5 h, Sat 7.5 h, Mon 1 h):
        # 12 h were left -> Mon 6.5 h + Tue 5.5 h
        assert c.resolution_due == cst(2026, 10, 13, 16, 0)

        becomes_due(cst(2026, 10, 13, 10, 0), "warning.resolution")  # 18 h used
        assert due(cst(2026, 10, 13, 16, 0)) == []  # breached, but level 1 was sent in this cycle
        becomes_due(cst(2026, 10, 15, 10, 45), "level2")  # 1.5 x 22.5 h = 33.75 h used
        becomes_due(cst(2026, 10, 16, 16, 0), "level3")  # 2 x 22.5 h = 45 h used
        assert complaints_of(session)[0].escalation_level == 3

        clock.move_to(utc(cst(2026, 10, 16, 17, 0)))
        assert ":red_circle:#1\nBroken parcels" in slack.command("complaints overdue").shown
        slack.command("resolve #1", user=OWNER)
        slack.submit(fake.last("views.open")["view"], {"Resolution": "Replaced the parcels", "Satisfaction": "3"},
                     user=OWNER)  # fmt: skip
        assert due(cst(2026, 10, 16, 17, 0)) == []  # resolved: no clock runs

        clock.move_to(utc(cst(2026, 10, 19, 10, 0)))  # Monday: the customer says it is not fixed
        slack.click(fake.last("chat.postMessage")["blocks"], "Reopen", user=OWNER)
        [c] = complaints_of(session)
        assert (c.state, c.cycle, c.escalation_level, c.resolved_at) == ("open", 2, 0, None)
        assert c.resolution_clock_started_at == cst(2026, 10, 19, 10, 0)
        assert c.resolution_due == cst(2026, 10, 22, 10, 0)  # a fresh 22.5 h: 6.5 + 7.5 + 7.5 + 1
        assert due(cst(2026, 10, 19, 10, 0)) == []
        assert due(cst(2026, 10, 21, 14, 30)) == ["warning.resolution"]  # the first clock stays stopped

        clock.move_to(utc(cst(2026, 10, 21, 15, 0)))
        slack.command("resolve #1", user=OWNER)
        slack.submit(fake.last("views.open")["view"], {"Resolution": "Replaced again"}, user=OWNER)
        clock.move_to(utc(cst(2026, 10, 21, 16, 0)))
        slack.click(fake.last("chat.postMessage")["blocks"], "Reopen", user=OWNER)
        assert complaints_of(session)[0].cycle == 3
        assert sent(cst(2026, 10, 21, 16, 0)) == ["level2"]  # the second reopen

    [c] = complaints_of(session)
    assert [e[1:] for e in events_of(session, c) if e[0] == "state"] == [
        ("open", "acknowledged", OWNER), ("acknowledged", "waiting", OWNER), ("waiting", "in_progress", OWNER),
        ("in_progress", "resolved", OWNER), ("resolved", "open", OWNER), ("open", "resolved", OWNER),
        ("resolved", "open", OWNER),
    ]  # fmt: skip
    thread = [x.args["text"] for x in fake.calls_to("chat.postMessage") if x.args.get("thread_ts")]
    assert len(thread) == 7 and thread[-1] == f"<@{OWNER}> moved complaint *#1* from Resolved to *Open*."


# --- the profile card and the scheduler's helpers -------------------------------------------------


def test_show_lists_the_customers_open_complaints_and_logs_a_new_one(slack, fake, session):
    add_customer(session, "Acme", owner_id=OWNER)
    add_customer(session, "Beta")
    log_complaint(slack, fake, "Acme", {"Title": "Still open"})
    log_complaint(slack, fake, "Acme", {"Title": "Done already"})
    log_complaint(slack, fake, "Beta", {"Title": "Not Acme's"})
    slack.command("resolve #2")
    slack.submit(fake.last("views.open")["view"], {"Resolution": "ok"})
    card = slack.command("show Acme")
    assert "Open complaints" in card.shown and "#1 Still open · Normal · next deadline: <!date^" in card.shown
    assert "Done already" not in card.shown and "Not Acme's" not in card.shown
    assert "Not Acme's" in slack.command("show Beta").shown
    slack.click(card.blocks, "Log complaint")
    assert fake.last("views.open")["view"]["blocks"][0]["element"]["initial_option"]["text"]["text"] == "Acme (#1)"


def test_escalation_recipients_by_level(session):
    from bot.storage.models import Member

    configure(session, escalation_channel="C0ESCALATE")
    customer = add_customer(session, "Acme", owner_id=OWNER)
    get_workspace(session, "T0000002")
    session.add_all([
        Member(team_id=TEAM, user_id="U0LEAD", role="lead"),
        Member(team_id=TEAM, user_id="U0ADMIN", role="admin"),
        Member(team_id=TEAM, user_id="U0SLACKADMIN", is_slack_admin=True),
        Member(team_id="T0000002", user_id="U0THEIRLEAD", role="lead"),
    ])  # fmt: skip
    session.commit()
    c = Complaint(team_id=TEAM, number=1, customer_id=customer.id, title="x", author_id=USER, assignee_id="U0ASSIGNEE")
    E = sla.Escalation

    def to(step, level, kind):
        return complaints.escalation_recipients(session=session, complaint=c, escalation=E(step, level, kind))

    assert to("warning.resolution", 0, "assignee") == ["U0ASSIGNEE"]
    assert to("level1", 1, "assignee_and_owner") == ["U0ASSIGNEE", OWNER]
    assert to("level2", 2, "leads_and_channel") == ["U0LEAD", "C0ESCALATE"]
    assert to("level3", 3, "admins") == ["U0ADMIN", "U0SLACKADMIN"]
    c.assignee_id = OWNER
    assert to("level1", 1, "assignee_and_owner") == [OWNER]


def test_escalation_message_names_the_complaint_and_shows_the_card(slack, fake, session):
    from bot.views.complaints import escalation_message

    add_customer(session, "Acme", owner_id=OWNER)
    log_complaint(slack, fake, "Acme", {"Title": "Broken"})
    [c] = complaints_of(session)
    message = escalation_message(None, complaints.card(session=session, complaint=c, now=wall()), "level2")
    assert message["text"].startswith("Escalation level 2: complaint *#1* (Acme)")
    assert "Acknowledge" in block_text(message["blocks"])


def test_tz_default_is_the_teams_time_zone_until_it_sets_its_own(settings, engine, fake, session):
    from bot.app import create_app, create_wsgi
    from bot.storage.db import make_session_factory
    from tests.conftest import SIGNING_SECRET, BotServer
    from tests.slackclient import SignedSlack

    shanghai = settings.model_copy(update={"tz_default": "Asia/Shanghai"})
    add_customer(session, "Acme")
    with BotServer(create_wsgi(create_app(shanghai, make_session_factory(engine)), engine)) as server:
        slack = SignedSlack(server.url, SIGNING_SECRET, fake)
        with freeze_time("2026-11-23 01:00:00"):  # Monday 09:00 in Shanghai, 01:00 in UTC
            log_complaint(slack, fake, "Acme", {"Title": "Early", "Severity": "Urgent"})
            assert complaints_of(session)[0].first_response_due == cst(2026, 11, 23, 10, 0)
            configure(session, tz="UTC")
            log_complaint(slack, fake, "Acme", {"Title": "Set to UTC", "Severity": "Urgent"})
            assert complaints_of(session)[1].first_response_due == dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
