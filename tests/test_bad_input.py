"""Bad input of any shape gets a clear refusal or is ignored: never an HTTP 5xx, never a
traceback in the log, never a changed row.

First each kind of malformed request seen in the wild, one by one; then a property-based test
(hypothesis) that takes a well-formed request for every listener the app registers and breaks
it: keys dropped, values of the wrong type, huge strings, deep nesting, NUL characters,
numbers at and beyond the integer limits, wrong JSON in values and metadata. Requests go to the
WSGI callable in this process (tests/slackclient.py `InProcessSlack`), through the same guard
and listeners as over HTTP.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.services.workspaces import get_workspace
from bot.storage.models import Base, Complaint, Member, Touch
from tests.helpers import add_customer, customers_of, database_rows
from tests.slackclient import CHANNEL, TEAM, USER
from tests.test_blockkit import validate

FORM = "application/x-www-form-urlencoded"
HUGE = 2**63  # one past the largest 64-bit integer
INT4 = 2**31  # one past the largest value of an Integer column (PostgreSQL's int4)
UNKNOWN = "U0NOBODY1"
LATER = {"type": "datepicker", "selected_date": "2099-01-01"}


def seed_world(session, fake, *, owner: str, visibility: str | None = None) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The caller (USER) a member; `owner`'s customer Acme with a touch, an open complaint and a
    revisit due; the ids of those and of the caller's member row."""
    now = dt.datetime.now(dt.UTC)
    fake.add_user(USER)
    if visibility:
        get_workspace(session, TEAM).settings = {"visibility": visibility}
    else:
        get_workspace(session, TEAM)
    session.add(Member(team_id=TEAM, user_id=USER, name="someone", tz="UTC", locale="en-US", profile_fetched_at=now,
                       created_at=now))  # fmt: skip
    session.commit()
    acme = add_customer(session, "Acme", actor=owner)
    touch = Touch(team_id=TEAM, customer_id=acme.id, author_id=owner, kind="call", summary="first call",
                  happened_at=now - dt.timedelta(days=3))  # fmt: skip
    complaint = Complaint(team_id=TEAM, number=1, customer_id=acme.id, title="late", severity="normal", state="open",
                          author_id=owner, assignee_id=owner, opened_at=now, created_at=now, updated_at=now, cycle=1,
                          escalation_level=0)  # fmt: skip
    session.add_all([touch, complaint])
    get_workspace(session, TEAM).last_complaint_number = 1
    acme = session.merge(acme)
    acme.next_revisit = now.date() - dt.timedelta(days=1)
    session.commit()
    ids = {"customer": acme.id, "touch": touch.id, "complaint": complaint.id, "member": session.scalar(
        select(Member.id).where(Member.team_id == TEAM, Member.user_id == USER))}  # fmt: skip
    session.close()
    return ids


@pytest.fixture
def world(session, fake) -> dict[str, int]:
    """A customer of the caller's with a touch, an open complaint and a revisit due."""
    return seed_world(session, fake, owner=USER)


def unchanged(engine: Any) -> dict[str, list[str]]:
    """The database but the caller's own member row, which any request may refresh."""
    return database_rows(engine, lambda table, row: None if table == "member" and row["user_id"] == USER else row)


@pytest.fixture
def calm(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """No traceback logged at ERROR by the bot or bolt while the test runs."""
    caplog.set_level(logging.INFO)
    yield
    logged = caplog.get_records("call")  # in teardown, `caplog.records` holds the teardown's alone
    failed = [r for r in logged if r.levelno >= logging.ERROR and r.exc_info
              and r.name.split(".")[0] in ("bot", "slack_bolt")]  # fmt: skip
    assert not failed, f"a traceback was logged: {failed[0].getMessage()} {failed[0].exc_info[1]!r}"  # type: ignore[index]


def command_fields(text: str, reply_to: str, **over: Any) -> dict[str, str]:
    fields = {"command": "/crm", "text": text, "team_id": TEAM, "team_domain": "example", "user_id": USER,
              "user_name": "someone", "channel_id": CHANNEL, "channel_name": "general", "trigger_id": "t.1",
              "response_url": reply_to, "api_app_id": "A0000001"}  # fmt: skip
    fields.update(over)
    return {k: v for k, v in fields.items() if v is not None}


def button(action_id: str, value: Any, **over: Any) -> dict[str, Any]:
    payload = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": USER, "team_id": TEAM},
               "api_app_id": "A0000001", "trigger_id": "t.1", "channel": {"id": CHANNEL},
               "container": {"type": "message", "channel_id": CHANNEL, "message_ts": "1.0"},
               "message": {"ts": "1.0", "text": "", "blocks": []},
               "actions": [{"action_id": action_id, "block_id": "b", "type": "button", "value": value}]}  # fmt: skip
    payload.update(over)
    return {k: v for k, v in payload.items() if v is not None}


def submission(callback_id: str, values: dict[str, dict[str, Any]], metadata: Any = "", **view: Any) -> dict[str, Any]:
    state = {block: {"value": element} for block, element in values.items()}
    return {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": USER, "team_id": TEAM},
            "api_app_id": "A0000001", "trigger_id": "t.1",
            "view": {"id": "V1", "type": "modal", "callback_id": callback_id, "private_metadata": metadata,
                     "team_id": TEAM, "state": {"values": state}, **view}}  # fmt: skip


def text(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


# --- the transport: refused before bolt reads it ---------------------------------------------------


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "-1", "12345678901234567890", " 1700000000", "１７００", "²³",
                                       "1700000000\x00"])
def test_a_timestamp_that_is_not_a_number_is_401(local_slack, fake, engine, world, calm, timestamp):
    before = unchanged(engine)
    reply = local_slack.post(urlencode(command_fields("show Acme", fake.response_url())).encode(), FORM, timestamp=timestamp)
    assert reply.status == 401
    assert unchanged(engine) == before


def test_bolt_checks_the_signature_of_the_request_it_is_handed_too(app, fake, engine, world, calm):
    """`create_wsgi` hands bolt the body `guard` read (bot.app `_bolt_request`): bolt's own
    signature check still runs on its text, behind `guard`'s, and refuses a bad one."""
    from bot.app import Read, _bolt_request
    from bot.payloads import parse
    from slack_bolt.request.internals import parse_body

    before = unchanged(engine)
    body = urlencode(command_fields("show Acme", fake.response_url()))
    read = Read(body, parsed := parse_body(body, FORM), parse(parsed))
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "QUERY_STRING": "", "CONTENT_TYPE": FORM,
               "HTTP_X_SLACK_REQUEST_TIMESTAMP": str(int(time.time())), "HTTP_X_SLACK_SIGNATURE": "v0=" + "0" * 64}  # fmt: skip
    assert app.dispatch(_bolt_request(read, environ)).status == 401
    assert unchanged(engine) == before


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (urlencode({"payload": "{not json"}).encode(), FORM),
        (urlencode({"payload": "[1, 2]"}).encode(), FORM),
        (urlencode({"payload": '"a string"'}).encode(), FORM),
        (urlencode({"payload": "1" + "0" * 5000}).encode(), FORM),
        (urlencode({"payload": "[" * 100_000 + "]" * 100_000}).encode(), FORM),
        (b"payload=" + json.dumps({"type": "block_actions"}).encode().replace(b"block", b"\xff\xfe"), FORM),
        (b"command=/crm&text=\xc3\x28", FORM),
        (b'{"type": "event_callback", "team_id": "\xff"}', "application/json"),
        (b"[]", "application/json"),
        (b"{not json", "application/json"),
        (b'{"a": ' * 50_000 + b"1" + b"}" * 50_000, "application/json"),
    ],
    ids=["not-json", "a-list", "a-string", "a-huge-number", "deep-nesting", "not-utf8", "command-not-utf8",
         "event-not-utf8", "event-a-list", "event-not-json", "event-deep-nesting"],
)  # fmt: skip
def test_a_body_that_is_not_what_it_claims_is_4xx(local_slack, engine, world, calm, body, content_type):
    before = unchanged(engine)
    reply = local_slack.post(body, content_type)
    assert 400 <= reply.status < 500, reply
    assert unchanged(engine) == before


def test_a_10_mb_body_is_413(local_slack, engine, world, calm):
    reply = local_slack.post_form({"payload": json.dumps(button("customer_show", "x" * 10_000_000))})
    assert reply.status == 413


# --- the envelope: refused by the parser --------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        button("customer_show", "1", actions=[]),
        button("customer_show", "1", user=None),
        button("customer_show", "1", team=None),
        button("customer_show", "1", user={"id": "<!channel>"}),
        button("customer_show", "1", team={"id": 5}),
        button("customer_show", "1", actions="customer_show"),
        button("customer_show", "1", actions=[{"value": "1"}]),
        {"type": "message_action", "team": {"id": TEAM}, "user": {"id": USER}, "callback_id": "log_touch",
         "channel": {"id": CHANNEL}, "message": {"ts": "1.0", "text": "hello"}},  # no trigger_id
        {"type": "block_suggestion", "team": {"id": TEAM}, "action_id": "customer_picker", "value": "ac"},  # no user
        {"type": "nothing_we_handle", "team": {"id": TEAM}, "user": {"id": USER}},
        {},
    ],
    ids=["empty-actions", "no-user", "no-team", "user-not-an-id", "team-not-a-string", "actions-a-string",
         "action-without-id", "shortcut-no-trigger", "type-ahead-no-user", "unknown-type", "empty"],
)  # fmt: skip
def test_an_envelope_missing_what_every_request_has_is_ignored(local_slack, fake, engine, world, calm, payload):
    before = unchanged(engine)
    reply = local_slack.post_payload(payload)
    assert reply.status == 200
    assert unchanged(engine) == before
    assert fake.calls_to("views.open") == [] and fake.calls_to("chat.postMessage") == []


@pytest.mark.parametrize("missing", ["user_id", "team_id", "trigger_id"])
def test_a_command_missing_who_where_or_its_trigger_is_refused(local_slack, fake, engine, world, calm, missing):
    before = unchanged(engine)
    reply = local_slack.post_form(command_fields("new Acme", fake.response_url(), **{missing: None}))
    assert reply.status == 200 and "could not read that request" in reply.json["text"]
    assert unchanged(engine) == before


@pytest.mark.parametrize("trigger", [None, ""])
def test_without_a_trigger_no_modal_opens_and_the_person_is_told(local_slack, fake, engine, world, calm, trigger):
    reply = local_slack.post_payload(button("customer_new", "", trigger_id=trigger, response_url=fake.response_url()))
    assert reply.status == 200 and "could not read that request" in fake.last("response_url")["text"]
    reply = local_slack.post_form(command_fields("new Acme", fake.response_url(), trigger_id=""))
    assert reply.status == 200 and "could not read that request" in reply.json["text"]
    assert fake.calls_to("views.open") == []


# --- ids that are not ids -----------------------------------------------------------------------------

BAD_IDS = [str(INT4), str(3_000_000_000), json.dumps({"customer_id": INT4, "complaint_id": INT4, "touch_id": INT4}),
           str(HUGE), str(2**64), "99999999999999999999999999", "-1", "0", "abc", "1.5", "1e3", "", " ",
           json.dumps({"customer_id": HUGE}), json.dumps({"customer_id": "x"}), json.dumps({"customer_id": 1e400}),
           json.dumps({"customer_id": [1]}), json.dumps({"customer_id": None}), "{", "[1]", '"1"', "null"]  # fmt: skip


@pytest.mark.parametrize("action_id", ["customer_show", "customer_edit", "touch_log", "touch_history", "touch_delete",
                                       "revisit_schedule", "complaint_new", "complaint_show", "complaint_acknowledge",
                                       "complaint_resolve", "satisfaction_score", "customer_erase", "customer_merge",
                                       "audit_more", "find_more", "assign_pick"])  # fmt: skip
def test_a_button_whose_value_is_not_an_id_is_refused(local_slack, fake, engine, world, calm, action_id):
    before = unchanged(engine)
    for value in BAD_IDS:
        if action_id == "touch_log" and value in ("", " ", json.dumps({"customer_id": None})):
            continue  # "Log touch" with no customer: the modal asks for one
        first = len(fake.calls)
        reply = local_slack.post_payload(button(action_id, value, response_url=fake.response_url()))
        assert reply.status == 200, value
        said = [c.args.get("text", "") for c in fake.calls[first:] if c.method == "response_url"]
        assert said and said[0], f"{action_id} {value!r}: no answer"
    assert unchanged(engine) == before
    assert fake.calls_to("views.open") == []


@pytest.mark.parametrize("block_id", [f"revisit:{INT4}", f"revisit:{HUGE}", "revisit:-1", "revisit:abc", "revisit:", "revisit:١٢", "b"])
def test_a_revisit_item_whose_block_does_not_name_a_customer_is_refused(local_slack, fake, engine, world, calm,
                                                                        block_id):  # fmt: skip
    before = unchanged(engine)
    for element in ({"type": "static_select", "selected_option": {"value": "7"}},
                    {"type": "datepicker", "selected_date": "2099-01-01"},
                    {"type": "users_select", "selected_user": USER}):  # fmt: skip
        action_id = {"static_select": "revisit_snooze", "datepicker": "revisit_snooze_date"}.get(element["type"],
                                                                                                 "customer_reassign")
        payload = button(action_id, None, response_url=fake.response_url())
        payload["actions"] = [{"action_id": action_id, "block_id": block_id, **element}]
        assert local_slack.post_payload(payload).status == 200
        assert fake.last("response_url")["text"]
    assert unchanged(engine) == before


@pytest.mark.parametrize(
    ("callback_id", "metadata", "values"),
    [
        ("customer_modal", json.dumps({"customer_id": INT4}), {"name": text("Acme 2")}),
        ("customer_modal", json.dumps({"customer_id": HUGE}), {"name": text("Acme 2")}),
        ("touch_modal", json.dumps({"touch_id": INT4}), {"summary": text("x"), "kind": text("call")}),
        ("complaint_resolve_modal", json.dumps({"complaint_id": INT4}), {"resolution": text("done")}),
        ("revisit_modal", json.dumps({"customer_id": INT4}), {"next_revisit": LATER}),
        ("customer_modal", json.dumps({"customer_id": "abc"}), {"name": text("Acme 2")}),
        ("customer_modal", json.dumps({"customer_id": -5}), {"name": text("Acme 2")}),
        ("customer_modal", "{", {"name": text("Acme 2")}),
        ("customer_modal", json.dumps([1, 2]), {"name": text("Acme 2")}),
        ("touch_modal", json.dumps({"touch_id": 2**70}), {"summary": text("x"), "kind": text("call")}),
        ("touch_modal", json.dumps({"touch_id": "1; drop table"}), {"summary": text("x"), "kind": text("call")}),
        ("complaint_resolve_modal", json.dumps({"complaint_id": HUGE}), {"resolution": text("done")}),
        ("complaint_resolve_modal", json.dumps({"complaint_id": "x"}), {"resolution": text("done")}),
        ("complaint_resolve_modal", "", {"resolution": text("done")}),
        ("revisit_modal", json.dumps({"customer_id": 2**64}), {"next_revisit": LATER}),
        ("revisit_modal", "1", {"next_revisit": LATER}),
        ("customer_duplicate", json.dumps({"name": None}), {}),
        ("customer_duplicate", json.dumps({"name": "x" * 5000}), {}),
        ("customer_duplicate", "not json", {}),
    ],
)  # fmt: skip
def test_metadata_that_does_not_name_a_record_is_refused(local_slack, engine, world, calm, callback_id, metadata,
                                                         values):  # fmt: skip
    before = unchanged(engine)
    reply = local_slack.post_payload(submission(callback_id, values, metadata))
    assert reply.status == 200
    assert reply.json.get("response_action") in ("errors", "update"), reply.text
    assert unchanged(engine) == before


@pytest.mark.parametrize("ref", [f"#{INT4}", "#3000000000", f"#{HUGE}", f"#{2**64}", "#99999999999999999999999",
                                 f"#{10**400}"])
@pytest.mark.parametrize("word", ["show", "edit", "touch", "complaint", "resolve", "erase", "audit", "export"])
def test_a_number_too_large_for_any_row_finds_nothing(local_slack, engine, world, calm, word, ref):
    before = unchanged(engine)
    reply = local_slack.command(f"{word} {ref}")
    assert reply.status == 200 and reply.json.get("text") is not None
    assert unchanged(engine) == before


# --- dates that are not dates -------------------------------------------------------------------------


@pytest.mark.parametrize("picked", ["next tuesday", "2026-13-45", "", "0000-00-00", "9999999-01-01", "２０９９-01-01"])
def test_the_revisit_modal_refuses_a_date_that_is_not_one_under_its_field(local_slack, engine, world, calm, picked):
    before = unchanged(engine)
    reply = local_slack.post_payload(submission(
        "revisit_modal", {"next_revisit": {"type": "datepicker", "selected_date": picked}},
        json.dumps({"customer_id": world["customer"]})))  # fmt: skip
    assert reply.json["response_action"] == "errors" and "next_revisit" in reply.json["errors"]
    assert unchanged(engine) == before


@pytest.mark.parametrize("picked", ["soon", "2026-02-30", "", "99999-01-01", "1999-01-01"])
def test_the_snooze_date_picker_refuses_a_date_that_is_not_one(local_slack, fake, engine, world, calm, picked):
    before = unchanged(engine)
    payload = button("revisit_snooze_date", None, response_url=fake.response_url())
    payload["actions"] = [{"action_id": "revisit_snooze_date", "block_id": f"revisit:{world['customer']}",
                           "type": "datepicker", "selected_date": picked}]  # fmt: skip
    assert local_slack.post_payload(payload).status == 200
    assert "Pick a date after today" in fake.last("response_url")["text"]
    assert unchanged(engine) == before


@pytest.mark.parametrize("customer", [str(INT4), "3000000000", str(HUGE), "99999999999999999999", "-1", "x"])
@pytest.mark.parametrize("callback_id", ["touch_modal", "complaint_modal"])
def test_a_customer_picked_that_is_not_an_id_is_refused_under_its_field(local_slack, engine, world, calm, callback_id,
                                                                        customer):  # fmt: skip
    before = unchanged(engine)
    values = {"customer": {"type": "external_select", "selected_option": {"value": customer}},
              "kind": {"type": "static_select", "selected_option": {"value": "call"}}, "summary": text("called"),
              "title": text("late")}  # fmt: skip
    reply = local_slack.post_payload(submission(callback_id, values, json.dumps({})))
    assert reply.json.get("response_action") == "errors" and "customer" in reply.json["errors"], reply.text
    assert unchanged(engine) == before


@pytest.mark.parametrize("choice", [f"edit:{INT4}", f"delete:{INT4}", f"edit:{HUGE}", "delete:-1", "edit:", "nothing"])
def test_a_touch_menu_choice_that_is_not_a_touch_is_refused(local_slack, fake, engine, world, calm, choice):
    before = unchanged(engine)
    local_slack.action("touch_menu", block_id="b", type="overflow", selected_option={"value": choice})
    assert "no longer exists" in fake.last("response_url")["text"]
    assert unchanged(engine) == before


@pytest.mark.parametrize("when", ["yesterday", "", 2**63, -(2**63), 10**20, 1e300, "1700000000.5", [1], {"a": 1}])
def test_the_touch_modal_refuses_a_when_that_is_not_one(local_slack, engine, world, calm, when):
    before = unchanged(engine)
    values = {"customer": {"type": "external_select", "selected_option": {"value": str(world["customer"])}},
              "kind": {"type": "static_select", "selected_option": {"value": "call"}}, "summary": text("called"),
              "happened_at": {"type": "datetimepicker", "selected_date_time": when}}  # fmt: skip
    reply = local_slack.post_payload(submission("touch_modal", values))
    assert reply.status == 200 and reply.json.get("response_action") in ("errors", "update"), reply.text
    assert unchanged(engine) == before


# --- modal state that is not a state ------------------------------------------------------------------


@pytest.mark.parametrize("state", [{}, {"values": {}}, "a string", {"values": "a string"}, {"values": {"name": "x"}},
                                   {"values": {"name": {}}}, {"values": {"name": {"value": "x"}}},
                                   {"values": {"name": {"value": {"type": "plain_text_input", "value": 5}}}}, None])  # fmt: skip
def test_a_state_that_is_empty_or_not_an_object_is_refused(local_slack, engine, world, calm, state):
    before = unchanged(engine)
    payload = submission("customer_modal", {}, json.dumps({"customer_id": None}))
    payload["view"]["state"] = state
    reply = local_slack.post_payload(payload)
    assert reply.status == 200 and reply.json.get("response_action") in ("errors", "update"), reply.text
    assert unchanged(engine) == before


# --- text with a NUL, text too long -------------------------------------------------------------------


def test_a_nul_in_find_and_type_ahead_is_ignored(local_slack, engine, world, calm):
    before = unchanged(engine)
    assert "Acme" in local_slack.command("find Ac\x00me").text
    assert "Acme" in local_slack.command("show \x00Acme").text
    assert local_slack.command("find \x00").status == 200
    options = local_slack.suggest("customer_picker", "Ac\x00").json["options"]
    assert [o["text"]["text"] for o in options] == ["Acme (#1)"]
    assert local_slack.suggest("customer_picker", "\x00\x00").json == {"options": []}
    assert unchanged(engine) == before


def test_a_nul_in_a_modal_field_is_removed_before_saving(local_slack, session, world, calm):
    reply = local_slack.post_payload(submission("customer_modal", {"name": text("Bet\x00a\x00")},
                                                json.dumps({"customer_id": None})))  # fmt: skip
    assert reply.status == 200 and reply.text == ""
    assert [c.name for c in customers_of(session)] == ["Acme", "Beta"]


@pytest.mark.parametrize("length", [20_000, 39_000])
def test_a_20000_character_name_opens_a_modal_slack_accepts(local_slack, fake, world, calm, length):
    name = "Grand Trading " * (length // 14)
    reply = local_slack.command(f"new {name}")
    assert reply.status == 200
    view = fake.last("views.open")["view"]
    view = json.loads(view) if isinstance(view, str) else view
    validate(view)  # slack_sdk's own models: every limit Slack enforces
    [field] = [b for b in view["blocks"] if b.get("block_id") == "name"]
    assert field["element"]["initial_value"].startswith("Grand Trading")


def test_a_long_text_after_revisit_is_read_in_a_bounded_number_of_steps(local_slack, world, calm, monkeypatch):
    """A date is a short phrase at the end: a 39,000-character Chinese word is not tried at
    every one of its characters (that took 20 seconds of a request)."""
    from bot.services import dates

    tried: list[str] = []
    parse_when = dates.parse_when
    monkeypatch.setattr(dates, "parse_when", lambda text, today: tried.append(text) or parse_when(text, today))
    reply = local_slack.command("revisit Acme " + "天" * 39_000)
    assert reply.status == 200 and "revisit" in reply.json["text"]
    assert len(tried) <= dates.MAX_WORDS + dates.MAX_CJK_CHARS


def test_a_20000_character_name_is_refused_under_its_field(local_slack, session, world, calm):
    reply = local_slack.post_payload(submission("customer_modal", {"name": text("n" * 20_000)},
                                                json.dumps({"customer_id": None})))  # fmt: skip
    assert reply.json["response_action"] == "errors" and "name" in reply.json["errors"]
    assert [c.name for c in customers_of(session)] == ["Acme"]


# --- people Slack does not know -----------------------------------------------------------------------


@pytest.mark.parametrize("mention", [f"<@{UNKNOWN}>", f"<@{UNKNOWN}|ghost>", "<!channel>", "<!here>", "@nobody",
                                     "<@" + "U" * 30_000 + ">", "<@U0NOBO\x00DY>", "<@u0nobody>", "<@W0NOBODY>"])  # fmt: skip
def test_assign_to_someone_slack_does_not_know_is_refused(local_slack, fake, session, engine, world, calm, mention):
    fake.known_users_only = True
    before = unchanged(engine)
    reply = local_slack.command(f"assign Acme {mention}")
    assert reply.status == 200
    assert any(refusal in reply.json["text"] for refusal in ("Slack does not know that person",
                                                              "Name the customer and the new owner"))  # fmt: skip
    assert unchanged(engine) == before
    assert customers_of(session)[0].owner_id == USER


def test_a_mention_of_100000_characters_is_refused(local_slack, fake, session, engine, world, calm):
    before = unchanged(engine)
    reply = local_slack.command("assign Acme <@" + "U" * 100_000 + ">")
    assert reply.status == 200 and "could not read that request" in reply.json["text"]
    assert unchanged(engine) == before


# --- every payload kind, broken in every way: hypothesis ----------------------------------------------
#
# The world: Visibility "owner only", and the caller (USER, a member) owns nothing: a well-formed
# request naming any record is refused, so a malformed one has nothing to change either. The one
# thing a member may do with a well-formed request whatever the records is start a customer of
# their own (New customer, "Save anyway") or set their own digest: those rows are allowed (see
# `allowed_new`), nothing else.

OWNER = "U0000002"
LIMITS = [2**31 - 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 10**30, -1, 0, 1]
TEXTS = ["", " ", "\x00", "\x00\x00abc", "x" * 100_000, "{", "}", "[]", "{}", "null", "true", '"1"', "1e400",
         json.dumps({"customer_id": 2**64}), json.dumps({"customer_id": "x", "complaint_id": -1}),
         json.dumps({"touch_id": [1], "offset": "a"}), '{"customer_id": 1, "customer_id": 2}', "revisit:" + str(2**64),
         "edit:" + str(2**64), "delete:-1", "2026-02-30", "9999-12-31", "0001-01-01", "<!channel>", "<@U0NOBODY1>",
         "U" * 40, "T0000001", "V1", "🙂" * 1000, "\u202e\u200b", "\\u0000"]  # fmt: skip


def nested(depth: int) -> Any:
    value: Any = 1
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    return value


WEIRD = st.one_of(
    st.none(), st.booleans(), st.sampled_from(LIMITS), st.integers(), st.floats(), st.sampled_from(TEXTS),
    st.text(max_size=40), st.text(alphabet="\x00{}[]\":,<>@!#0123456789", max_size=40),
    st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
    st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
    st.sampled_from([nested(50), nested(400), nested(900)]),
)


def paths(node: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON value: the keys of objects and the items of lists, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*at, key)
            yield from paths(value, (*at, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*at, i)
            yield from paths(value, (*at, i))


def mutate(node: Any, path: tuple[Any, ...], how: str, weird: Any) -> None:
    """Break `node` in place at `path`: drop the key, put a weird value, or that value as JSON text."""
    parent = node
    for step in path[:-1]:
        try:
            parent = parent[step]
        except (KeyError, IndexError, TypeError):
            return  # an earlier mutation removed the way there
    last = path[-1]
    if not isinstance(parent, dict | list):
        return
    if isinstance(parent, list) and not (isinstance(last, int) and 0 <= last < len(parent)):
        return
    if isinstance(parent, dict) and last not in parent:
        return
    if how == "drop":
        del parent[last]
    elif how == "json":
        parent[last] = json.dumps(weird)
    elif how == "empty":
        parent[last] = {} if isinstance(parent[last], dict) else [] if isinstance(parent[last], list) else ""
    else:
        parent[last] = weird


@pytest.fixture
def hidden_world(session, fake) -> dict[str, int]:
    """Acme belongs to someone else, with a touch, an open complaint and a revisit due; the caller
    is a member who owns nothing, in a team whose Visibility is "owner only"."""
    return seed_world(session, fake, owner=OWNER, visibility="owner")


def rows_by_key(engine: Any) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    out: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            keys = [c.name for c in table.primary_key.columns]
            found = conn.exec_driver_sql(f"SELECT * FROM {table.name}").mappings()
            out[table.name] = {tuple(r[k] for k in keys): dict(r) for r in found}
    return out


SELF = {"name", "tz", "locale", "is_slack_admin", "profile_fetched_at", "digest_enabled", "digest_time"}


def changed_rows(before: dict[str, Any], after: dict[str, Any], member_id: int) -> list[str]:
    """Rows changed, deleted or added, but what a well-formed request of the caller's own may
    write: their own profile and digest (and its audit), a customer they start (its search rows,
    its audit, the team's customer counter), and the member or workspace row of a first request."""
    new_customers = {k[0] for k in set(after["customer"]) - set(before["customer"])
                     if after["customer"][k]["created_by"] == USER}  # fmt: skip
    problems = []
    for table, rows in after.items():
        for key, row in rows.items():
            old = before[table].get(key)
            if old is None:
                allowed = (
                    (table == "customer" and key[0] in new_customers)
                    or (table in ("search_line", "search_gram") and row["customer_id"] in new_customers)
                    or (table == "audit_event" and row["actor_id"] == USER
                        and ((row["entity"], row["action"]) == ("customer", "create") and row["entity_id"] in new_customers
                             or row["entity"] == "member" and row["entity_id"] == member_id))
                    or (table == "member" and row["role"] is None)
                    or (table == "workspace" and row["team_id"] != TEAM)
                )  # fmt: skip
                if not allowed:
                    problems.append(f"{table} {key} added: {row}")
                continue
            if table == "member" and row["user_id"] == USER:
                row, old = {k: v for k, v in row.items() if k not in SELF}, {k: v for k, v in old.items() if k not in SELF}
            if table == "workspace" and new_customers:
                row, old = dict(row, last_customer_number=None), dict(old, last_customer_number=None)
            if row != old:
                problems.append(f"{table} {key} changed: {old} -> {row}")
        problems += [f"{table} {key} deleted" for key in set(before[table]) - set(rows)]
    return problems


# A field of a listener's input -> the well-formed value that names the world's records.
def good_values(ids: dict[str, int], choice: str) -> dict[str, Any]:
    return {"customer_id": ids["customer"], "complaint_id": ids["complaint"], "touch_id": ids["touch"],
            "source": ids["customer"], "target": ids["customer"], "owner_id": USER, "score": 1, "offset": 0,
            "q": "Acme", "name": "Acme", "choice": choice, "block_id": f"revisit:{ids['customer']}",
            "permalink": "https://example.slack.com/archives/C1/p1", "speaker": OWNER,
            "channel": CHANNEL, "contacts": [USER], "message_id": ids["customer"], "follow_up_id": ids["customer"],
            "token": "A" * 32}  # fmt: skip


ENVELOPE = {"enterprise": None, "is_enterprise_install": False, "api_app_id": "A0000001", "token": "not-a-real-token"}
GIVEN = {"action_id", "text", "user", "tab", "in_view", "ephemeral", "channel", "ts", "message_blocks", "user_team"}


def well_formed(listener: Any, ids: dict[str, int], choice: str, where: str, reply_to: str) -> tuple[str, Any]:
    """("form" | "payload" | "json", the body) of a request this listener reads without fault."""
    team, user = {"id": TEAM, "domain": "example"}, {"id": USER, "team_id": TEAM, "name": "someone"}
    if listener.kind == "command":
        return "form", command_fields(f"{listener.id} {choice}".strip(), reply_to)
    if listener.kind in ("event", "function"):
        # One event that every listener of its type reads: the App Home opened, a message in a
        # channel, a reaction on it, a workflow step run (each listener takes the fields it needs).
        event = {"type": listener.id, "user": USER, "tab": "home", "channel": CHANNEL, "event_ts": "1.0",
                 "ts": "1700000000.000200", "text": "Acme called", "reaction": "rotating_light",
                 "item": {"type": "message", "channel": CHANNEL, "ts": "1700000000.000100"}}  # fmt: skip
        if listener.kind == "function":
            event = {"type": "function_executed", "event_ts": "1.0", "function_execution_id": "Fx0000001",
                     "function": {"id": "Fn0000001", "callback_id": listener.id},
                     "inputs": {"customer": "Acme", "text": "Acme", "kind": "call", "summary": "called",
                                "title": "late again", "severity": "normal", "logged_by": USER},
                     "bot_access_token": "xwfp-not-a-real-token"}  # fmt: skip
        return "json", {**ENVELOPE, "type": "event_callback", "team_id": TEAM, "event_id": "Ev1", "event_time": 1,
                        "event": event,
                        "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True,
                                            "enterprise_id": None, "is_enterprise_install": False}]}  # fmt: skip
    values = good_values(ids, choice)
    fields = dict(getattr(listener.input, "model_fields", {}))
    if listener.kind == "options":
        return "payload", {**ENVELOPE, "type": "block_suggestion", "team": team, "user": user,
                           "action_id": listener.id, "block_id": "customer", "value": choice or "Ac",
                           "container": {"type": "view", "view_id": "V1"},
                           "view": {"id": "V1", "type": "modal"}}  # fmt: skip
    if listener.kind == "shortcut":
        return "payload", {**ENVELOPE, "type": "message_action", "team": team, "user": user, "callback_id": listener.id,
                           "channel": {"id": CHANNEL, "name": "general"}, "trigger_id": "t.1",
                           "message_ts": "1700000000.000100", "response_url": reply_to,
                           "message": {"type": "message", "ts": "1700000000.000100", "text": "Acme called",
                                       "user": OWNER}}  # fmt: skip
    if listener.kind == "view":
        meta_type = fields["meta"].annotation
        meta = {n: values[n] for n in getattr(meta_type, "model_fields", {}) if n in values}
        if "name" in getattr(meta_type, "model_fields", {}):
            meta = {"name": "Acme", "email": "acme@example.com"}
        state = {
            "customer": {"type": "external_select", "selected_option": {"text": {"type": "plain_text", "text": "Acme"},
                                                                        "value": str(ids["customer"])}},
            "name": text("Acme"), "summary": text("called"), "title": text("late again"), "resolution": text("done"),
            "kind": {"type": "static_select", "selected_option": {"value": "call"}},
            "severity": {"type": "static_select", "selected_option": {"value": "normal"}},
            "happened_at": {"type": "datetimepicker", "selected_date_time": 1_700_000_000},
            "next_revisit": {"type": "datepicker", "selected_date": "2099-01-01"},
            "owner_id": {"type": "users_select", "selected_user": USER},
            "digest_enabled": {"type": "radio_buttons", "selected_option": {"value": "on"}},
            "digest_time": text("09:00"), "admins": {"type": "multi_users_select", "selected_users": [USER]},
            "reason": {"type": "static_select", "selected_option": {"value": "price"}}, "note": text("too dear"),
        }  # fmt: skip
        return "payload", {**ENVELOPE, "type": "view_submission", "team": team, "user": user, "trigger_id": "t.1",
                           "view": {"id": "V1", "team_id": TEAM, "type": "modal", "callback_id": listener.id,
                                    "private_metadata": json.dumps(meta), "app_installed_team_id": TEAM,
                                    "hash": "1.a", "blocks": [],
                                    "state": {"values": {b: {"value": e} for b, e in state.items()}}}}  # fmt: skip
    unknown = set(fields) - set(values) - GIVEN
    assert not unknown, f"no well-formed value for {sorted(unknown)} of {listener.kind} {listener.id}"
    element = {"action_id": listener.id, "block_id": values["block_id"], "type": "static_select", "action_ts": "1.0",
               "value": json.dumps({n: values[n] for n in fields if n in values}),
               "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": choice},
               "selected_date": "2099-01-01", "selected_user": USER}  # fmt: skip
    payload = {**ENVELOPE, "type": "block_actions", "team": team, "user": user, "trigger_id": "t.1",
               "actions": [element]}
    if where == "view":
        payload.update(container={"type": "view", "view_id": "V1"}, view={"id": "V1", "type": "home", "team_id": TEAM})
    else:
        payload.update(container={"type": "message", "channel_id": CHANNEL, "message_ts": "1.0",
                                  "is_ephemeral": where == "ephemeral"},
                       channel={"id": CHANNEL, "name": "general"}, response_url=reply_to)  # fmt: skip
        if where == "message":
            payload["message"] = {"type": "message", "ts": "1.0", "text": "", "blocks": []}
    return "payload", payload


CHOICES = ["", "Acme", "#1", "7", "edit:1", "delete:1", "2099-01-01", USER, "open"]
# A few examples per listener, the same on every run (CI stays fast and stable); for a deeper
# search, `TOUCHBASE_HYPOTHESIS_EXAMPLES=200 pytest tests/test_bad_input.py -k malformed`.
EXAMPLES = int(os.environ.get("TOUCHBASE_HYPOTHESIS_EXAMPLES") or 6)
DERANDOMIZE = "TOUCHBASE_HYPOTHESIS_EXAMPLES" not in os.environ


def test_malformed_versions_of_every_payload_kind_change_nothing(app, local_slack, fake, engine, hidden_world, caplog):
    """For every listener the app registers: its well-formed request, broken one to three ways."""
    caplog.set_level(logging.INFO)
    before = rows_by_key(engine)
    member_id = hidden_world["member"]

    def breaking(listener: Any) -> Any:
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
        @given(data=st.data())
        def broken(data: st.DataObject) -> None:
            choice = data.draw(st.sampled_from(CHOICES), label="choice")
            where = data.draw(st.sampled_from(["message", "ephemeral", "view"]), label="where")
            kind, body = well_formed(listener, hidden_world, choice, where, fake.response_url())
            places = list(paths(body))
            for _ in range(data.draw(st.integers(1, 3), label="breaks")):
                path = data.draw(st.sampled_from(places), label="path")
                how = data.draw(st.sampled_from(["drop", "weird", "json", "empty"]), label="how")
                mutate(body, path, how, data.draw(WEIRD, label="value"))
            caplog.clear()
            if kind == "form":
                reply = local_slack.post_form({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
            elif kind == "json":
                reply = local_slack.post(json.dumps(body).encode(), "application/json")
            else:
                reply = local_slack.post_form({"payload": json.dumps(body)})
            assert reply.status < 500, reply
            failed = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info
                      and r.name.split(".")[0] in ("bot", "slack_bolt")]  # fmt: skip
            assert not failed, f"traceback: {failed[0].getMessage()} {failed[0].exc_info[1]!r}"  # type: ignore[index]
            problems = changed_rows(before, rows_by_key(engine), member_id)
            assert not problems, problems

        return broken

    for listener in app.registry.listeners:
        breaking(listener)()
