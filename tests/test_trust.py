"""Trust, the smaller promises: a message that cannot go never undoes the record it is about; a
request acts for one workspace, by one rule on every surface; only people Slack knows become
owners; what people typed is escaped wherever Slack would read it as markup.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.scheduler.runner import Scheduler
from bot.services.workspaces import get_workspace
from bot.storage.db import make_session_factory
from bot.storage.models import Complaint, Customer, Member
from tests.helpers import add_customer, customers_of, database_rows
from tests.slackclient import TEAM, USER

OTHER_TEAM = "T0000002"
ASSIGNEE = "U0000009"
COMPLAINTS_CHANNEL = "C0COMPLAINTS"
COURTESY = "could not be sent"


def not_members(table: str, row: dict[str, Any]) -> dict[str, Any] | None:
    """Rows to compare, but the member rows a request writes for the people it meets (their
    Slack profile)."""
    return None if table == "member" else row


def dms_to(fake: Any, user: str) -> list[dict[str, Any]]:
    return [c.args for c in fake.calls_to("chat.postMessage") if c.args.get("channel") == user]


def complaints_of(session: Any) -> list[Complaint]:
    session.expire_all()
    rows = list(session.scalars(select(Complaint).order_by(Complaint.id)))
    session.commit()
    return rows


# --- a failed message keeps the record (issue 13, point 6) ----------------------------------------


@pytest.mark.parametrize("error", ["channel_not_found", "fatal_error"])
def test_a_new_customer_is_saved_when_its_confirmation_cannot_go_and_the_author_is_told(slack, fake, session, error):
    slack.command("new")
    view = fake.last("views.open")["view"]
    fake.fail("chat.postMessage", error=error)  # the card in the author's DM
    reply = slack.submit(view, {"Name": "Acme Ltd", "Company": "Acme Group"})
    assert reply.status == 200 and reply.text == ""
    assert [c.name for c in customers_of(session)] == ["Acme Ltd"]
    told = dms_to(fake, USER)
    assert len(told) == 2 and COURTESY in told[-1]["text"] and error in told[-1]["text"]


def test_a_new_customers_confirmation_slack_rate_limits_goes_again(slack, fake, session):
    """The card goes through the outbox (scheduler.said): a `ratelimited` refusal is tried again."""
    slack.command("new")
    view = fake.last("views.open")["view"]
    fake.fail("chat.postMessage", error="ratelimited")
    assert slack.submit(view, {"Name": "Acme Ltd"}).text == ""
    assert [dm["text"] for dm in dms_to(fake, USER)] == ["Customer *Acme Ltd* (#1) saved."] * 2


def test_a_new_customer_is_saved_when_slack_answers_500(slack, fake, session):
    slack.command("new")
    view = fake.last("views.open")["view"]
    fake.fail("chat.postMessage", status=500, times=5)  # the card and its retries
    reply = slack.submit(view, {"Name": "Acme Ltd"})
    assert reply.status == 200 and reply.text == ""
    assert [c.name for c in customers_of(session)] == ["Acme Ltd"]


def log_complaint(slack: Any, fake: Any, values: dict[str, Any]) -> Any:
    slack.command("complaint Acme Ltd")
    return slack.submit(fake.last("views.open")["view"], {"Title": "Late delivery", **values})


@pytest.mark.parametrize("fails", [ASSIGNEE, COMPLAINTS_CHANNEL], ids=["assignee-dm", "channel-post"])
def test_a_new_complaint_is_saved_when_a_message_about_it_cannot_go_and_the_author_is_told(slack, fake, session,
                                                                                           fails):  # fmt: skip
    workspace = get_workspace(session, TEAM)
    workspace.settings = {"complaints_channel": COMPLAINTS_CHANNEL}
    session.commit()
    add_customer(session, "Acme Ltd", owner_id=ASSIGNEE)
    fake.fail("chat.postMessage", error="channel_not_found", channel=fails)
    reply = log_complaint(slack, fake, {})
    assert reply.status == 200 and reply.text == ""
    [complaint] = complaints_of(session)
    assert (complaint.number, complaint.title, complaint.assignee_id) == (1, "Late delivery", ASSIGNEE)
    # The author: the complaint's DM (through the outbox), and the note that a message did not go
    # (the channel's post is sent after the answer, the assignee's DM by the worker: either may be first).
    told = [dm["text"] for dm in dms_to(fake, USER)]
    assert [text for text in told if COURTESY not in text and "#1" in text]
    assert [text for text in told if COURTESY in text and "channel_not_found" in text]
    others = ({ASSIGNEE, COMPLAINTS_CHANNEL} - {fails}).pop()
    assert len(dms_to(fake, others)) == 1  # the other message went all the same


# --- which workspace a request acts for (point 7) --------------------------------------------------


def the_views(app: Any) -> list[Any]:
    return [listener for listener in app.registry.listeners if listener.kind == "view"]


def test_a_modal_of_another_workspace_writes_nothing_on_any_surface(app, local_slack, fake, engine, session):
    """The request's workspace is its `team.id` (`team_id` for commands and events); a modal
    opened in another workspace (`view.team_id`, `view.app_installed_team_id`) is refused,
    whatever its callback, and so is a button in it."""
    fake.add_user(USER, is_admin=True)  # an admin: nothing else stops the forged requests
    acme = add_customer(session, "Acme Ltd", actor=USER)
    theirs = add_customer(session, "Theirs", team=OTHER_TEAM, actor=USER)
    before = database_rows(engine, not_members)
    state = {"name": {"value": {"type": "plain_text_input", "value": "Hijack"}},
             "customer": {"value": {"type": "external_select", "selected_option": {"value": str(theirs.id)}}},
             "summary": {"value": {"type": "plain_text_input", "value": "hijack"}},
             "kind": {"value": {"type": "static_select", "selected_option": {"value": "call"}}},
             "title": {"value": {"type": "plain_text_input", "value": "hijack"}},
             "resolution": {"value": {"type": "plain_text_input", "value": "hijack"}},
             "next_revisit": {"value": {"type": "datepicker", "selected_date": "2099-01-01"}},
             "digest_time": {"value": {"type": "plain_text_input", "value": "07:00"}},
             "visibility": {"value": {"type": "static_select", "selected_option": {"value": "owner"}}}}  # fmt: skip
    views = the_views(app)
    assert len(views) >= 8
    for listener in views:
        for owners in ({"team_id": OTHER_TEAM}, {"app_installed_team_id": OTHER_TEAM},
                       {"team_id": OTHER_TEAM, "app_installed_team_id": OTHER_TEAM},
                       {"team_id": TEAM, "app_installed_team_id": OTHER_TEAM}):  # fmt: skip
            for meta in ({"customer_id": theirs.id}, {"customer_id": acme.id}, {}):
                view = {"id": "V1", "type": "modal", "callback_id": listener.id, "private_metadata": json.dumps(meta),
                        "state": {"values": state}, **owners}  # fmt: skip
                reply = local_slack.post_payload({"type": "view_submission", "team": {"id": TEAM},
                                                  "user": {"id": USER, "team_id": TEAM}, "view": view})  # fmt: skip
                assert reply.status == 200
                assert "another workspace" in reply.text, (listener.id, owners, reply.text)
    # a button pressed in such a modal
    reply = local_slack.action("customer_edit", str(acme.id), view={"id": "V1", "type": "modal", "team_id": OTHER_TEAM,
                                                                    "callback_id": "customer_modal"})  # fmt: skip
    assert reply.status == 200 and fake.calls_to("views.push") == [] and fake.calls_to("views.open") == []
    assert database_rows(engine, not_members) == before


@pytest.mark.parametrize("owners", [{"app_installed_team_id": OTHER_TEAM}, {"team_id": OTHER_TEAM},
                                    {"team_id": OTHER_TEAM, "app_installed_team_id": OTHER_TEAM}])  # fmt: skip
def test_a_new_customer_modal_of_another_workspace_saves_nowhere(slack, fake, engine, session, owners):
    """The defect seen: the modal's team came from `view.app_installed_team_id`, so a forged view
    wrote into another workspace."""
    add_customer(session, "Theirs", team=OTHER_TEAM)
    slack.command("new")
    before = database_rows(engine, not_members)
    view = dict(fake.last("views.open")["view"], **owners)
    reply = slack.submit(view, {"Name": "Planted Ltd"})
    assert reply.status == 200 and "another workspace" in reply.text
    assert database_rows(engine, not_members) == before


def test_a_modal_of_this_workspace_still_saves(slack, fake, session):
    """The rule refuses only another workspace's modal: Slack's own (team_id and
    app_installed_team_id of this workspace) saves."""
    slack.command("new")
    view = dict(fake.last("views.open")["view"], team_id=TEAM, app_installed_team_id=TEAM)
    assert slack.submit(view, {"Name": "Acme Ltd"}).text == ""
    assert [c.name for c in customers_of(session)] == ["Acme Ltd"]


# --- owners Slack knows (point 7) ------------------------------------------------------------------

GARBAGE = ["<!channel>", "<!here>", "U0MADEUP1", "W0MADEUP1", "U" * 1_999, "<@U0MADEUP1>", "", "u0000002",
           "U0000002; DROP TABLE customer"]  # fmt: skip


@pytest.fixture
def acme(session, fake) -> Customer:
    fake.add_user(USER)
    fake.add_user("U0000002")
    fake.known_users_only = True  # users.info: user_not_found for anyone else
    customer = add_customer(session, "Acme Ltd", actor=USER)
    customer = session.merge(customer)
    customer.next_revisit = dt.date(2020, 1, 1)
    session.commit()
    return customer


@pytest.mark.parametrize("mention", ["<!channel>", "<!here>", "<@U0MADEUP1>", "<@U0MADEUP1|ghost>",
                                     "<@" + "U" * 30_000 + ">", "<@W0MADEUP1>"])  # fmt: skip
def test_assign_to_anyone_but_a_person_slack_knows_is_refused(local_slack, fake, engine, session, acme, mention):
    before = database_rows(engine, not_members)
    reply = local_slack.command(f"assign Acme Ltd {mention}")
    assert reply.status == 200
    assert "Slack does not know that person" in reply.text or "Name the customer and the new owner" in reply.text
    assert database_rows(engine, not_members) == before
    assert customers_of(session)[0].owner_id == USER
    assert dms_to(fake, mention) == []


def test_assign_with_a_mention_of_100000_characters_is_refused(local_slack, engine, acme):
    before = database_rows(engine, not_members)
    reply = local_slack.command("assign Acme Ltd <@" + "U" * 100_000 + ">")
    assert reply.status == 200 and reply.json["response_type"] == "ephemeral" and reply.json["text"]
    assert database_rows(engine, not_members) == before


def test_the_reassign_menu_of_a_digest_item_refuses_garbage(local_slack, fake, engine, session, acme):
    before = database_rows(engine, not_members)
    for chosen in GARBAGE:
        first = len(fake.calls)
        local_slack.action("customer_reassign", block_id=f"revisit:{acme.id}", type="users_select", selected_user=chosen)
        said = [c.args["text"] for c in fake.calls[first:] if c.method == "response_url"]
        assert said and ("Slack does not know that person" in said[0] or "could not read" in said[0]), (chosen, said)
    assert database_rows(engine, not_members) == before
    assert customers_of(session)[0].owner_id == USER


def test_the_reassign_menu_accepts_a_person_slack_knows(local_slack, fake, session, acme):
    local_slack.action("customer_reassign", block_id=f"revisit:{acme.id}", type="users_select", selected_user="U0000002")
    assert customers_of(session)[0].owner_id == "U0000002"


def test_a_forged_owner_in_the_customer_modal_is_refused_under_its_field(slack, fake, session):
    slack.command("new")
    view = fake.last("views.open")["view"]
    for garbage in ("<!channel>", "U" * 500, "not a user"):
        reply = slack.submit(view, {"Name": "Acme Ltd", "Owner": garbage})
        assert reply.json.get("response_action") == "errors" and "owner_id" in reply.json["errors"], garbage
    assert customers_of(session) == []


def test_a_forged_assignee_in_the_complaint_modal_is_refused_under_its_field(slack, fake, session):
    add_customer(session, "Acme Ltd")
    slack.command("complaint Acme Ltd")
    view = fake.last("views.open")["view"]
    for garbage in ("<!channel>", "U" * 500, "not a user"):
        reply = slack.submit(view, {"Title": "late", "Assignee": garbage})
        assert reply.json.get("response_action") == "errors" and "assignee_id" in reply.json["errors"], garbage
    assert complaints_of(session) == []


# --- what people typed is escaped wherever Slack reads markup (point 7) ----------------------------

ACTOR = "U0000005"  # acts and owns; no one in the flow is U0000001, so `<@U0000001>` is only ever a name
LEAD = "U0000006"
NAMES = ["<!channel>", "<@U0000001>", "&lt;", "Acme <!here> & <https://evil.example|click> *bold*"]


def markup(node: Any) -> Iterator[str]:
    """Every string Slack reads as mrkdwn: mrkdwn text objects, and a message's `text` fallback
    (not plain_text, nor a table's raw_text cells)."""
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        for k, value in node.items():
            # plain_text and a table's raw_text cells are shown as they are, never read as markup
            if k == "text" and isinstance(value, str) and node.get("type") not in ("plain_text", "raw_text"):
                yield value
            yield from markup(value)
    elif isinstance(node, list):
        for item in node:
            yield from markup(item)


def escaped(name: str) -> str:
    return name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@pytest.mark.parametrize("name", NAMES)
def test_a_name_slack_would_read_as_markup_is_escaped_in_every_answer_and_message(slack, fake, session, settings,
                                                                                  engine, name):  # fmt: skip
    for user in (ACTOR, LEAD, ASSIGNEE):
        fake.add_user(user)
    get_workspace(session, TEAM).settings = {"complaints_channel": COMPLAINTS_CHANNEL}
    session.add(Member(team_id=TEAM, user_id=LEAD, role="lead", created_at=dt.datetime.now(dt.UTC)))
    session.commit()
    answers: list[Any] = []
    # a new customer (the card in the author's DM), shown, found, with a complaint (DMs, channel)
    answers.append(slack.command("new", user=ACTOR).json)
    reply = slack.submit(fake.last("views.open")["view"], {"Name": name, "Company": name, "Tags": name,
                                                           "Needs": name}, user=ACTOR)  # fmt: skip
    assert reply.status == 200 and reply.text == "", reply.text
    [customer] = customers_of(session)
    answers.append(slack.command(f"show #{customer.number}", user=ACTOR).json)
    answers.append(slack.command(f"find {escaped(name)}", user=ACTOR).json)  # as Slack sends what was typed
    answers.append(slack.command(f"revisit #{customer.number} 2099-01-01", user=ACTOR).json)
    slack.command(f"complaint #{customer.number}", user=ACTOR)
    reply = slack.submit(fake.last("views.open")["view"], {"Title": name, "Description": name, "Assignee": ASSIGNEE},
                         user=ACTOR)  # fmt: skip
    assert reply.status == 200
    answers.append(slack.command("complaints", user=ACTOR).json)
    answers.append(slack.command("due", user=ACTOR).json)
    # the digest, as of a morning when the revisit is due
    customer = session.merge(customer)
    customer.next_revisit = dt.date(2026, 12, 1)
    session.commit()
    Scheduler(settings, make_session_factory(engine)).sweep(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC))
    assert [c for c in dms_to(fake, ACTOR) if "revisit" in str(c.get("text"))], "no digest was sent"

    texts = [s for answer in answers for s in markup(answer)]
    texts += [s for call in fake.calls if call.method != "views.open" for s in markup(call.args)]
    texts += [s for call in fake.calls_to("views.open") for s in markup(call.args.get("view", {}).get("blocks", []))]
    shown = [s for s in texts if escaped(name) in s]
    assert len(shown) >= 8, f"the name is shown too rarely to judge: {shown}"
    unescaped = [s for s in texts if name in s.replace(escaped(name), "")]
    assert not unescaped, unescaped[:5]
