"""`/crm report` end to end: acknowledged at once, then the report, its chart or CSV, in the DM."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time

from PIL import Image
from sqlalchemy import update

from bot.storage.models import Complaint, Customer
from tests.helpers import add_customer
from tests.slackclient import USER, block_text


def wait_for(fake, method: str, count: int = 1, tries: int = 200):
    """Poll the fake Slack until the worker thread made `count` calls to `method` (at most ~10 s)."""
    for _ in range(tries):
        calls = fake.calls_to(method)
        if len(calls) >= count:
            return calls
        time.sleep(0.05)
    raise AssertionError(f"no {method} after {tries} polls; calls: {fake.methods()}")


def _log_touch(slack, fake, name: str) -> None:
    slack.command(f"touch {name}")
    slack.submit(fake.last("views.open")["view"], {"Summary": "called"})


def test_report_is_acknowledged_then_posted_to_the_dm_with_a_chart(slack, fake, session):
    add_customer(session, "Acme", owner_id=USER, grade="A")
    _log_touch(slack, fake, "Acme")
    fake.reset()
    reply = slack.command("report")
    assert "Working on your report" in reply.shown
    [complete] = wait_for(fake, "files.completeUploadExternal")
    message = next(c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == USER)
    text = block_text(message["blocks"])
    assert "*Team report* · week of" in text
    assert "*Touches* 1 (▲1) · *customers touched* 1 (▲1)" in text
    assert "*Customers* 1 (=) · new 1 (=)" not in text  # the customer is new this week
    # the figures per owner: a table, the message's last block, one row per owner under its header
    table = message["blocks"][-1]
    assert table["type"] == "table"
    assert [block_text([cell]) for cell in table["rows"][1]][:3] == [f"<@{USER}>", "1 (▲1)", "1 (▲1)"]
    assert complete.args["channel_id"] == "D" + USER
    [upload] = fake.calls_to("upload")
    png = fake.uploads[upload.args["file_id"]]
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    image.load()  # decodes every pixel
    assert image.size == (1100, 450)


def test_report_csv_for_one_manager(slack, fake, session):
    add_customer(session, "Acme", owner_id="U0000009")
    fake.reset()
    slack.command("report month <@U0000009|li> csv")
    wait_for(fake, "files.completeUploadExternal")
    [upload] = fake.calls_to("upload")
    rows = fake.uploads[upload.args["file_id"]].decode("utf-8-sig").splitlines()
    assert rows[0].startswith("scope,figure,")
    assert "U0000009,customers,1,0" in rows and "U0000009,new_customers,1,0" in rows
    assert fake.last("files.completeUploadExternal")["channel_id"] == "D" + USER


def test_report_csv_is_safe_to_open_in_a_spreadsheet(slack, fake, session):
    evil = "=cmd|' /C calc'!A0"  # an owner id stored before owners had to be Slack ids; the classic DDE payload
    acme = add_customer(session, "Acme")
    nobodys = add_customer(session, "Beta")
    session.execute(update(Customer).where(Customer.id == acme.id).values(owner_id=evil))
    session.execute(update(Customer).where(Customer.id == nobodys.id).values(owner_id=None))
    session.commit()
    fake.reset()
    slack.command("report month csv")
    wait_for(fake, "files.completeUploadExternal")
    [upload] = fake.calls_to("upload")
    rows = list(csv.reader(io.StringIO(fake.uploads[upload.args["file_id"]].decode("utf-8-sig"))))
    assert ["'" + evil, "customers", "1", "0"] in rows  # the owner's id as text; the figures stay numbers
    assert ["'-", "customers", "1", "0"] in rows  # "-": customers nobody owns
    assert ["team", "customers", "2", "0"] in rows
    assert not [cell for row in rows for cell in row if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_report_usage_for_unreadable_arguments(slack, fake):
    reply = slack.command("report fortnight")
    assert "`/crm report month @li csv`" in reply.shown
    time.sleep(0.1)
    assert fake.calls_to("chat.postMessage") == []


def test_report_risk_lists_customers_most_at_risk_with_reasons(slack, fake, session):
    stale = add_customer(session, "Stale Ltd", owner_id="U0000009", grade="B")
    add_customer(session, "Fresh Ltd", owner_id=USER, grade="B")
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=47, hours=1)
    session.execute(update(Customer).where(Customer.id == stale.id).values(last_touch_at=long_ago, created_at=long_ago))
    session.commit()
    slack.command("report risk")
    [message] = wait_for(fake, "chat.postMessage")
    text = block_text(message.args["blocks"])
    assert "Customers most at risk" in text
    assert "*77* · Stale Ltd (#1) · <@U0000009> · – · no touch for 47 days, interval 30" in text
    assert "Fresh" not in text


def test_the_profile_card_shows_health_and_its_reasons(slack, fake, session):
    customer = add_customer(session, "Acme", grade="A")
    session.add(Complaint(team_id=customer.team_id, number=1, customer_id=customer.id, title="late delivery",
                          author_id=USER, assignee_id=USER,
                          first_response_due=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)))  # fmt: skip
    session.commit()
    shown = slack.command("show Acme").shown
    assert "*Health* 75/100 · 1 open complaint(s); 1 complaint(s) past their SLA" in shown


def test_a_report_that_cannot_be_delivered_is_apologised_for(slack, fake, session):
    add_customer(session, "Acme")
    fake.fail("files.getUploadURLExternal", error="internal_error")
    slack.command("report")
    calls = wait_for(fake, "chat.postMessage", count=2)  # the report, then the apology
    assert calls[-1].args["text"] == "Sorry, your report could not be built. Please try again."
    assert calls[-1].args["channel"] == USER


def test_report_grades_lists_suggestions_with_an_edit_button(slack, fake, session):
    add_customer(session, "Acme", grade="C", tags="vip")
    slack.command("report grades")
    [message] = wait_for(fake, "chat.postMessage")
    text = block_text(message.args["blocks"])
    assert "Acme (#1) · <@U0000001> · C → *A* (0 touches in 90 days)" in text
    assert "Edit" in text


def test_report_arguments_come_in_any_order_once_each():
    from bot.handlers.reports import parse_report_args

    assert parse_report_args("") == {}
    assert parse_report_args("csv <@U0000009|li> QUARTER") == {"csv": True, "user_id": "U0000009", "kind": "quarter"}
    assert parse_report_args("risk") == {"risk": True}
    assert parse_report_args("grades") == {"grades": True}
    for bad in ("week month", "risk week", "csv csv", "@li", "week <@U1|a> <@U2|b>"):
        assert parse_report_args(bad) is None, bad


def test_report_risk_when_nobody_is_at_risk(slack, fake, session):
    add_customer(session, "Fresh Ltd", owner_id=USER, grade="B")
    slack.command("report risk")
    [message] = wait_for(fake, "chat.postMessage")
    assert block_text(message.args["blocks"]) == "No customer is at risk right now."


def test_response_times_in_the_report_are_business_hours(slack, fake, session):
    from freezegun import freeze_time

    from tests.helpers import add_customer

    add_customer(session, "Acme Ltd")
    with freeze_time("2026-11-27T17:00:00Z"):  # Friday 17:00; the team works 09:00-18:00 UTC
        slack.command("complaint Acme Ltd")
        slack.submit(fake.last("views.open")["view"], {"Title": "Broken", "Severity": "High"})
    dm = next(c.args for c in fake.calls_to("chat.postMessage") if "Acknowledge" in str(c.args.get("blocks")))
    with freeze_time("2026-11-30T10:00:00Z"):  # Monday 10:00: 65 hours later, 2 business hours
        slack.click(dm["blocks"], "Acknowledge")
        slack.command("report week")
        wait_for(fake, "files.completeUploadExternal")
    [post] = [c.args for c in fake.calls_to("chat.postMessage") if "*First response* median" in str(c.args.get("blocks"))]
    assert "*First response* median 2 " in block_text(post["blocks"])
