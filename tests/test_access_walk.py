"""Owner-only visibility, proved by walking every listener the app registers.

With Visibility "owner only", a member who neither owns a customer nor works its complaint
(the "hidden" customer: owned by someone else, an open overdue complaint assigned to someone
else, touches, a revisit due, a check-in score) tries every sub-command, action, modal,
type-ahead, shortcut and event naming it, in every shape the listener's input reads. None may
show the hidden customer's details or change a row. The walk reads `app.registry.listeners`,
so a listener added later is walked without editing this file; an input field the walker
cannot fill fails the walk (teach `FILL` what it means).

What "shows" means: an answer may repeat what the member typed ("No customer matches
*Zanzibar*"), so the text the member typed in a request is taken out of what came back before
looking for the hidden customer's name (both its words), company, e-mail, phone, touch
summary, and its complaint's title and description. Looked at: the HTTP answer, every
`response_url` post, every Web API call the fake recorded (DMs, modals, App Homes) and every
uploaded file.

What "changes a row" means: every table is read before the walk and after each request and
must be identical, except what a request legitimately writes about the member themself: their
`member` row's Slack profile and digest preference (name, tz, locale, is_slack_admin,
profile_fetched_at, digest_enabled, digest_time; never their role), and the audit rows of
their own digest setting (entity "member", their own row, their own act).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.services.surveys import token_hash
from bot.services.workspaces import get_workspace
from bot.storage.models import (
    ChannelLink,
    ChannelMessage,
    Complaint,
    FollowUp,
    Member,
    SatisfactionScore,
    Survey,
    Touch,
)
from tests.helpers import add_customer, database_rows
from tests.slackclient import TEAM, USER

MEMBER, OTHER, LEAD = USER, "U0000002", "U000LEAD"
NAME = "Zanzibar Quietwater"  # the hidden customer; both words are looked for on their own
HIDDEN_CHANNEL, HIDDEN_TS = "C0HIDDEN1", "1700000000.000100"  # the hidden customer's linked channel, a message in it
# The token of the hidden customer's survey, posted in the channel the walker clicks in (a
# member of the team may be in a customer's channel; the survey is not theirs to answer).
SURVEY_TOKEN, SURVEY_CHANNEL = "walkersurveytoken0123456789abcdef", "C0000001"
SECRETS = (NAME, "Zanzibar", "Quietwater", "Pangolin Holdings", "quokka@hidden.example", "+44 20 7946 0321",
           "whispered the merger terms", "Leaking pipes at the depot", "the depot floods every week")  # fmt: skip
HIDDEN = "not one of yours"
ADMIN_ONLY = "Only touchbase admins"


@dataclass
class World:
    hidden_id: int
    hidden_number: int
    mine_id: int
    mine_name: str
    mine_number: int
    touch_id: int
    complaint_id: int
    complaint_number: int
    walker_member_id: int
    today: dt.date
    message_id: int = 0
    follow_up_id: int = 0


@pytest.fixture
def world(session, fake) -> World:
    """The member's own customer, and the hidden one with everything a customer can have."""
    now = dt.datetime.now(dt.UTC)
    for user in (MEMBER, OTHER, LEAD):
        fake.add_user(user)
    workspace = get_workspace(session, TEAM)
    workspace.settings = {"visibility": "owner"}
    # The walker's own row, fresh: the walk may refresh nothing else of theirs.
    walker = Member(team_id=TEAM, user_id=MEMBER, name="someone", tz="UTC", locale="en-US", profile_fetched_at=now,
                    created_at=now)  # fmt: skip
    session.add_all([walker, Member(team_id=TEAM, user_id=LEAD, role="lead", created_at=now)])
    session.commit()
    mine = add_customer(session, "Mine Ltd", actor=MEMBER)
    hidden = add_customer(session, NAME, actor=OTHER, company="Pangolin Holdings", email="quokka@hidden.example",
                          phone="+44 20 7946 0321")  # fmt: skip
    touch = Touch(team_id=TEAM, customer_id=hidden.id, author_id=OTHER, kind="call",
                  summary="whispered the merger terms", happened_at=now - dt.timedelta(days=40))  # fmt: skip
    opened = now - dt.timedelta(days=20)
    # Complaint numbers other than any customer's: `#7` names the complaint and nothing else.
    complaint = Complaint(team_id=TEAM, number=7, customer_id=hidden.id, title="Leaking pipes at the depot",
                          description="the depot floods every week", severity="high", state="open",
                          author_id=OTHER, assignee_id=OTHER, opened_at=opened, created_at=opened,
                          updated_at=opened, first_response_due=opened + dt.timedelta(hours=4),
                          resolution_clock_started_at=opened, resolution_due=opened + dt.timedelta(days=2),
                          cycle=1, escalation_level=0)  # fmt: skip
    own = Complaint(team_id=TEAM, number=8, customer_id=mine.id, title="My own late delivery", severity="normal",
                    state="open", author_id=MEMBER, assignee_id=MEMBER, opened_at=opened, created_at=opened,
                    updated_at=opened, first_response_due=opened + dt.timedelta(hours=8),
                    resolution_clock_started_at=opened, resolution_due=opened + dt.timedelta(days=3),
                    cycle=1, escalation_level=0)  # fmt: skip
    session.add_all([touch, complaint, own])
    session.add(SatisfactionScore(team_id=TEAM, customer_id=hidden.id, score=2, recorded_by=OTHER,
                                  recorded_at=now - dt.timedelta(days=3)))  # fmt: skip
    # The hidden customer's own channel, with a message of theirs waiting for a reply.
    link = ChannelLink(team_id=TEAM, channel_id=HIDDEN_CHANNEL, customer_id=hidden.id, contacts=[], linked_by=OTHER,
                       created_at=now)  # fmt: skip
    session.add(link)
    session.flush()
    waiting = ChannelMessage(team_id=TEAM, link_id=link.id, channel_id=HIDDEN_CHANNEL, ts=HIDDEN_TS, thread_key="",
                             speaker_id="U0GUEST01", sent_at=now - dt.timedelta(hours=1), due_at=now,
                             state="waiting", created_at=now)  # fmt: skip
    session.add(waiting)
    session.flush()
    message_id = waiting.id
    promise = FollowUp(team_id=TEAM, customer_id=hidden.id, touch=touch, assignee_id=OTHER,
                       due_on=now.date() - dt.timedelta(days=1), created_at=now)  # fmt: skip
    session.add(promise)
    session.flush()
    follow_up_id = promise.id
    session.add(Survey(team_id=TEAM, customer_id=hidden.id, complaint_id=complaint.id, cycle=1,
                       token_hash=token_hash(SURVEY_TOKEN), channel_id=SURVEY_CHANNEL, asked_at=now))  # fmt: skip
    session.get(type(workspace), TEAM).last_complaint_number = 8
    hidden = session.merge(hidden)
    hidden.next_revisit = now.date() - dt.timedelta(days=2)  # due: in the owner's digest, never the walker's
    hidden.last_touch_at = touch.happened_at
    session.commit()
    world = World(hidden_id=hidden.id, hidden_number=hidden.number, mine_id=mine.id, mine_name=mine.name,
                  mine_number=mine.number, touch_id=touch.id, complaint_id=complaint.id,
                  complaint_number=complaint.number, walker_member_id=walker.id, today=now.date(),
                  message_id=message_id, follow_up_id=follow_up_id)  # fmt: skip
    session.close()
    return world


# --- what the walker knows how to fill ----------------------------------------------------------


def _future(w: World) -> str:
    return (w.today + dt.timedelta(days=10)).isoformat()


# An input model's field name -> the values the walker tries (naming the hidden customer, its
# complaint or its touch wherever a field can). A field missing here fails the walk.
FILL: dict[str, Callable[[World], list[Any]]] = {
    "customer_id": lambda w: [w.hidden_id],
    "complaint_id": lambda w: [w.complaint_id],
    "touch_id": lambda w: [w.touch_id],
    "source": lambda w: [w.hidden_id, w.mine_id],
    "target": lambda w: [w.mine_id, w.hidden_id],
    "owner_id": lambda w: [MEMBER],  # take the hidden customer over
    "score": lambda w: [1, 5],
    "offset": lambda w: [0, 10],
    "q": lambda w: [NAME, "Zanzib"],
    "name": lambda w: [NAME],
    "choice": lambda w: [f"edit:{w.touch_id}", f"delete:{w.touch_id}", "1", "7", _future(w), MEMBER],
    # A block id that carries an id after its prefix: the hidden follow-up's for a follow-up's
    # blocks, the hidden customer's for the others.
    "block_id": lambda w: [str(w.hidden_id), *(prefix + str(w.follow_up_id if "follow_up" in prefix else w.hidden_id)
                                                for prefix in _id_prefixes())],
    "permalink": lambda w: ["https://example.slack.com/archives/C1/p1"],
    "speaker": lambda w: [OTHER],
    "channel": lambda w: [HIDDEN_CHANNEL, "C0000001"],  # a button that names a channel (a link to pick)
    "contacts": lambda w: [[MEMBER], []],
    "message_id": lambda w: [w.message_id],  # the hidden customer's message waiting for a reply
    "follow_up_id": lambda w: [w.follow_up_id],  # a promise made to the hidden customer
    "token": lambda w: [SURVEY_TOKEN, "forgedsurveytoken0123456789abcdef"],  # the hidden customer's survey, or none
}
# Fields a listener reads from where its element is, not from a value: every action is sent
# from a message, from an ephemeral message and from a modal or App Home. (`channel` is also a
# value some buttons carry: those read it from FILL.)
WHERE = {"in_view", "ephemeral", "channel", "ts", "message_blocks"}
# What the events the bot subscribes to carry (bot/payloads.py `Event`); the walk sends them in
# the hidden customer's linked channel and in another.
EVENT_FIELDS = {"channel", "ts", "user_team", "thread_ts", "subtype", "bot_id", "deleted_ts", "logger", "reaction",
                "user", "tab", "text"}
# Fields read from the payload by the base of the input model, not from values the walker picks.
GIVEN = {"action_id", "text", "user", "tab", "user_team"}
# A modal's fields (block id -> the state Slack sends), naming the hidden customer where one is.
FORM: dict[str, Callable[[World], dict[str, Any]]] = {
    "customer": lambda w: {"type": "external_select",
                           "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": str(w.hidden_id)}},
    "name": lambda w: {"type": "plain_text_input", "value": NAME},
    "owner_id": lambda w: {"type": "users_select", "selected_user": MEMBER},
    "assignee_id": lambda w: {"type": "users_select", "selected_user": MEMBER},
    "kind": lambda w: {"type": "static_select", "selected_option": {"value": "call"}},
    "summary": lambda w: {"type": "plain_text_input", "value": "walker's summary"},
    "happened_at": lambda w: {"type": "datetimepicker",
                              "selected_date_time": int(dt.datetime.now(dt.UTC).timestamp()) - 3600},
    "next_revisit": lambda w: {"type": "datepicker", "selected_date": _future(w)},
    "off": lambda w: {"type": "checkboxes", "selected_options": []},
    "title": lambda w: {"type": "plain_text_input", "value": "walker's title"},
    "severity": lambda w: {"type": "static_select", "selected_option": {"value": "normal"}},
    "resolution": lambda w: {"type": "plain_text_input", "value": "walker's resolution"},
    "satisfaction": lambda w: {"type": "static_select", "selected_option": {"value": "1"}},
    "digest_enabled": lambda w: {"type": "radio_buttons", "selected_option": {"value": "on"}},
    "digest_time": lambda w: {"type": "plain_text_input", "value": "09:00"},
    "visibility": lambda w: {"type": "static_select", "selected_option": {"value": "open"}},
    "admins": lambda w: {"type": "multi_users_select", "selected_users": [MEMBER]},
    "reason": lambda w: {"type": "static_select", "selected_option": {"value": "price"}},
    "note": lambda w: {"type": "plain_text_input", "value": "walker's note"},
}  # fmt: skip


def _id_prefixes() -> list[str]:
    """Block ids that carry a customer id after a prefix (views/ids.py: `revisit:`, `checkin:`, …)."""
    from bot.views import ids

    return sorted({v for k, v in vars(ids).items() if k.isupper() and isinstance(v, str) and v.endswith(":")})


def _fields(model: type[Any]) -> dict[str, Any]:
    return dict(getattr(model, "model_fields", {}))


def _known(listener: Any, model: type[Any], names: set[str]) -> None:
    unknown = set(_fields(model)) - names
    assert not unknown, (f"the walk does not know how to fill {sorted(unknown)} of {model.__name__} "
                         f"({listener.kind} {listener.id}): teach FILL what they mean")  # fmt: skip


def _combinations(w: World, names: list[str]) -> Iterator[dict[str, Any]]:
    values = [FILL[n](w) for n in names]
    for chosen in itertools.product(*values):
        yield dict(zip(names, chosen, strict=True))


# --- requests --------------------------------------------------------------------------------------


@dataclass
class Request:
    what: str  # for the failure message
    send: Callable[[], Any]
    typed: tuple[str, ...] = ()  # text the walker typed, which an answer may repeat


IDS = {"customer_id", "complaint_id", "touch_id", "source", "target", "choice"}


def reads_an_id(listener: Any) -> bool:
    """Whether the listener's input names a customer, complaint or touch by id (in a value, a
    block id, a modal's metadata or its Customer field): then it must say "not one of yours"."""
    fields = _fields(listener.input)
    if listener.kind == "view":
        meta, form = fields["meta"].annotation, fields["form"].annotation
        return bool(IDS & set(_fields(meta))) or "customer" in _fields(form)
    return bool(IDS & set(fields))


def command_requests(slack: Any, listener: Any, w: World) -> Iterator[Request]:
    customer_refs = [NAME, "Zanzib", f"#{w.hidden_number}"]
    tails = ["", "tomorrow", _future(w), "off", f"<@{MEMBER}|me>", w.mine_name, "<#C0000001|general>", "csv"]
    shapes = [(ref, tail) for ref in customer_refs for tail in tails]
    shapes += [(ref, "") for ref in (NAME.lower(), "Quietw", f"#{w.complaint_number}", str(w.complaint_number),
                                     f"{w.mine_name} {NAME}", f"#{w.hidden_number} #{w.mine_number}")]
    shapes += [("", word) for word in ("", "open", "overdue", "mine", "risk", "grades", "quarter csv",
                                       f"week <@{OTHER}>")]  # fmt: skip
    for ref, tail in shapes:
        args = f"{ref} {tail}".strip()
        text = f"{listener.id} {args}".strip()
        yield Request(f"/crm {text}", lambda text=text: slack.command(text), typed=(args, ref, tail))


def _action_payloads(listener: Any, w: World) -> Iterator[tuple[str, dict[str, Any], tuple[str, ...]]]:
    """(label, the element's fields, typed text) for every shape the listener's input reads."""
    from bot.payloads import ButtonInput, ChoiceInput, NoInput

    model = listener.input
    fields = [n for n in _fields(model) if n not in GIVEN and n not in WHERE]
    if issubclass(model, NoInput):
        yield "no input", {"value": ""}, ()
        return
    if issubclass(model, ButtonInput):
        fields = [n for n in _fields(model) if n not in GIVEN]  # a button's value may name a channel too
        first = next(iter(_fields(model)))
        for value in FILL[first](w) if first in FILL else []:  # a bare value is the first field
            yield f"value {value!r}", {"value": str(value)}, (str(value),)
        for combo in _combinations(w, fields):
            typed = tuple(str(v) for k, v in combo.items() if k in ("q", "name"))
            yield f"value {json.dumps(combo)}", {"value": json.dumps(combo)}, typed
        return
    if issubclass(model, ChoiceInput):
        first = next(iter(_fields(model)))
        for combo in _combinations(w, fields):
            element = {"type": "overflow", "selected_option": {"value": str(combo[first])}}
            if "block_id" in combo:
                element["block_id"] = combo["block_id"]
            yield f"chose {json.dumps(combo)}", element, ()
        return
    # An input of its own: every place an element can carry a value, each naming the hidden customer.
    ids = {n: FILL[n](w)[0] for n in fields if n in ("customer_id", "complaint_id", "touch_id")}
    for choice, block_id in itertools.product(FILL["choice"](w), FILL["block_id"](w)):
        element = {"type": "static_select", "block_id": block_id, "selected_option": {"value": choice},
                   "value": json.dumps({**ids, "choice": choice}) if ids else choice}  # fmt: skip
        if re.fullmatch(r"\d{4}-\d\d-\d\d", choice):
            element = {**element, "type": "datepicker", "selected_date": choice}
            element.pop("selected_option")
        if choice == MEMBER:
            element = {**element, "type": "users_select", "selected_user": choice}
            element.pop("selected_option")
        yield f"{element['type']} {choice!r} in block {block_id!r}", element, ()


def action_requests(slack: Any, listener: Any, w: World) -> Iterator[Request]:
    _known(listener, listener.input, set(FILL) | WHERE | GIVEN)
    home = {"id": "VHOME", "type": "home", "callback_id": "", "private_metadata": "", "team_id": TEAM}
    for label, element, typed in _action_payloads(listener, w):
        element = {"block_id": "b", **element}
        block_id = element.pop("block_id")
        message = {"ts": "1.0", "text": "", "blocks": []}
        for where, kw in (("message", {"message": message}), ("ephemeral", {"ephemeral": True}), ("home", {"view": home})):
            def send(element=element, block_id=block_id, kw=kw) -> Any:
                value = element.get("value")
                rest = {k: v for k, v in element.items() if k != "value"}
                return slack.action(listener.id, value, block_id=block_id, **rest, **kw)

            yield Request(f"action {listener.id} {label} from {where}", send, typed=typed)


def _form_state(listener: Any, w: World) -> dict[str, Any]:
    """Every field the walker can fill; a form model's required field it cannot fill fails."""
    form_type = _fields(listener.input)["form"].annotation
    required = {n for n, f in _fields(form_type).items() if f.is_required()}
    unknown = required - set(FORM)
    assert not unknown, f"the walk cannot fill the required {sorted(unknown)} of {listener.id}: teach FORM"
    return {block: {"value": fill(w)} for block, fill in FORM.items()}


def view_requests(slack: Any, listener: Any, w: World) -> Iterator[Request]:
    from bot.payloads import FormInput

    model = listener.input
    assert issubclass(model, FormInput), f"the walk reads modals through FormInput, not {model.__name__}"
    meta_type = _fields(model)["meta"].annotation
    if meta_type is dict or getattr(meta_type, "__origin__", None) is dict:
        metas = [{}, {"customer_id": w.hidden_id, "complaint_id": w.complaint_id, "touch_id": w.touch_id}]
    elif "name" in _fields(meta_type):  # the metadata is a form's content (e.g. a customer as first submitted)
        metas = [{"name": NAME, "email": "walker@example.com"}]
    else:
        _known(listener, meta_type, set(FILL))
        names = list(_fields(meta_type))
        metas = list(_combinations(w, names)) + [{}]
    state = _form_state(listener, w)
    for meta in metas:
        for metadata in (json.dumps(meta), str(meta.get("customer_id", "")), str(w.hidden_id)):
            view = {"id": "V1", "type": "modal", "callback_id": listener.id, "private_metadata": metadata,
                    "team_id": TEAM, "app_installed_team_id": TEAM, "blocks": []}  # fmt: skip

            def send(view=view) -> Any:
                payload = {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": MEMBER, "team_id": TEAM},
                           "api_app_id": "A0000001", "trigger_id": slack.trigger_id(),
                           "view": {**view, "state": {"values": state}}}  # fmt: skip
                return slack.post_payload(payload)

            yield Request(f"modal {listener.id} with metadata {metadata!r}", send, typed=(NAME,))


def options_requests(slack: Any, listener: Any, w: World) -> Iterator[Request]:
    _known(listener, listener.input, set(FILL) | GIVEN)
    for typed in (NAME, "Zanzib", "quietw", "Pangolin", "quokka@hidden.example", f"#{w.hidden_number}", "zan"):
        yield Request(f"type-ahead {listener.id} {typed!r}", lambda typed=typed: slack.suggest(listener.id, typed),
                      typed=(typed,))


def shortcut_requests(slack: Any, listener: Any, w: World) -> Iterator[Request]:
    _known(listener, listener.input, set(FILL) | GIVEN | {"channel", "ts", "thread_ts", "reply"})
    message = {"ts": "1700000000.000100", "thread_ts": "1700000000.000100", "text": f"{NAME} called about the depot",
               "user": OTHER}  # fmt: skip
    yield Request(f"shortcut {listener.id}", lambda: slack.message_shortcut(listener.id, message),
                  typed=(message["text"],))


def event_requests(slack: Any, listener: Any, w: World) -> Iterator[Request]:
    """The events a member's own doing sends: opening the App Home, reacting to a message in
    the hidden customer's channel and in another. (A message the member posts in a customer's
    channel is what Slack reports, not something asked of touchbase: a team member's reply
    stops the customer's clock whoever sends it, so the walk does not count it.)"""
    _known(listener, listener.input, set(FILL) | GIVEN | EVENT_FIELDS)
    events: list[dict[str, Any]] = [{"type": listener.id, "user": MEMBER, "tab": "home", "channel": "D1"},
                                    {"type": listener.id, "user": MEMBER, "tab": "messages", "channel": "D1"}]
    if listener.id == "reaction_added":
        events = [{"type": "reaction_added", "user": MEMBER, "reaction": emoji,
                   "item": {"type": "message", "channel": channel, "ts": HIDDEN_TS}}
                  for emoji in ("rotating_light", "eyes") for channel in (HIDDEN_CHANNEL, "C0000001")]  # fmt: skip
    if listener.id == "message":
        events = [{"type": "message", "user": MEMBER, "channel": "C0000001", "ts": "1700000009.000100",
                   "text": f"about {NAME}"}]  # fmt: skip
    for event in events:
        yield Request(f"event {listener.id} {event}", lambda event=event: slack.event(event), typed=(NAME,))


def function_requests(slack: Any, listener: Any, w: World) -> Iterator[Request]:
    """Workflow Builder steps act for the whole team by design (a workflow has no viewer; the
    admin who built it decides what it does), so the walk does not send them; this says so
    rather than skipping them silently."""
    return iter(())


WALKERS = {"command": command_requests, "action": action_requests, "view": view_requests,
           "options": options_requests, "shortcut": shortcut_requests, "event": event_requests,
           "function": function_requests}  # fmt: skip


# --- what the walk looks at ------------------------------------------------------------------------


OWN_PROFILE = {"name", "tz", "locale", "is_slack_admin", "profile_fetched_at", "digest_enabled", "digest_time"}


def snapshot(engine: Engine, w: World) -> dict[str, list[str]]:
    """Every table's rows, but what a request may write about the walker themself."""

    def keep(table: str, row: dict[str, Any]) -> dict[str, Any] | None:
        if table == "member" and row["user_id"] == MEMBER:
            return {k: v for k, v in row.items() if k not in OWN_PROFILE}
        if (table == "audit_event" and row["entity"] == "member" and row["actor_id"] == MEMBER
                and row["entity_id"] == w.walker_member_id):  # fmt: skip
            return None
        return row

    return database_rows(engine, keep)


def seen(fake: Any, response: Any, first_call: int) -> str:
    """Everything the walker could read after one request: the answer, and every call since."""
    parts = [response.text]
    for call in fake.calls[first_call:]:
        parts.append(json.dumps(call.args, ensure_ascii=False))
        if call.method == "upload":
            parts.append(fake.uploads.get(call.args["file_id"], b"").decode("utf-8", "ignore"))
    return "\n".join(parts)


def leaked(text: str, typed: tuple[str, ...]) -> list[str]:
    for fragment in sorted((t for t in typed if t), key=len, reverse=True):
        text = re.sub(re.escape(fragment), "", text, flags=re.IGNORECASE)
    return [s for s in SECRETS if s in text]


def test_every_listener_as_a_member_who_may_not_see_the_customer(app, local_slack, fake, engine, world, caplog):
    caplog.set_level(logging.WARNING)
    before = snapshot(engine, world)
    walked: dict[tuple[str, str], list[str]] = {}
    problems: list[str] = []
    assert {listener.kind for listener in app.registry.listeners} <= set(WALKERS), "a kind of listener the walk does not know"
    for listener in app.registry.listeners:
        answers = walked.setdefault((listener.kind, listener.id), [])
        for request in WALKERS[listener.kind](local_slack, listener, world):
            first = len(fake.calls)
            response = request.send()
            text = seen(fake, response, first)
            answers.append(text)
            if response.status >= 500:
                problems.append(f"{request.what}: HTTP {response.status}")
            if failed := [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]:
                problems.append(f"{request.what}: a traceback ({failed[0].exc_info[1]!r})")  # type: ignore[index]
                caplog.clear()
            if found := leaked(text, request.typed):
                problems.append(f"{request.what} shows {found}: {text[:300]}")
            after = snapshot(engine, world)
            if after != before:
                changed = sorted(t for t in after if after[t] != before[t])
                problems.append(f"{request.what} changed {changed}")
                before = after  # report each change once
        # Given the id of the hidden customer, complaint or touch, a listener says why it refuses
        # (or that only admins may: the admins' tools ask that first).
        if reads_an_id(listener) and not any(HIDDEN in a or ADMIN_ONLY in a for a in answers):
            problems.append(f"{listener.kind} {listener.id}: never said '{HIDDEN}'")
    assert not problems, "\n".join(problems[:40]) + f"\n({len(problems)} in all)"
    assert len(walked) == len(app.registry.listeners) and sum(len(a) for a in walked.values()) > 500


# --- the defects the issue names, one by one (these need no registry) -----------------------------


def test_complaint_lists_do_not_show_a_hidden_complaint(slack, fake, world):
    for words in ("complaints", "complaints open", "complaints overdue", "complaints mine"):
        shown = slack.command(words).text
        assert "Leaking pipes" not in shown and NAME not in shown, words
    assert "My own late delivery" in slack.command("complaints").text  # the list works; it holds the member's own
    assert "My own late delivery" in slack.command("complaints overdue").text


def test_a_hidden_complaint_cannot_be_shown_acknowledged_or_resolved(slack, fake, engine, world):
    before = snapshot(engine, world)
    for action in ("complaint_show", "complaint_acknowledge", "complaint_progress", "complaint_wait",
                   "complaint_close", "complaint_resolve"):  # fmt: skip
        slack.action(action, str(world.complaint_id))
        said = fake.last("response_url")["text"]
        assert HIDDEN in said and "Leaking" not in said, action
    reply = slack.command(f"resolve #{world.complaint_number}")
    assert HIDDEN in reply.text and "Leaking" not in reply.text
    assert fake.calls_to("views.open") == []
    resolve = {"id": "V1", "type": "modal", "callback_id": "complaint_resolve_modal", "team_id": TEAM,
               "private_metadata": json.dumps({"complaint_id": world.complaint_id}),
               "state": {"values": {"resolution": {"value": {"type": "plain_text_input", "value": "done"}}}}}  # fmt: skip
    reply = slack.post_payload({"type": "view_submission", "team": {"id": TEAM}, "user": {"id": MEMBER, "team_id": TEAM},
                                "view": resolve, "trigger_id": "t.1"})  # fmt: skip
    assert HIDDEN in reply.text
    assert snapshot(engine, world) == before


def test_a_hidden_revisit_cannot_be_snoozed_or_scored(slack, fake, engine, world):
    before = snapshot(engine, world)
    block = f"revisit:{world.hidden_id}"
    slack.action("revisit_snooze", block_id=block, type="static_select", selected_option={"value": "7"})
    assert HIDDEN in fake.last("response_url")["text"]
    slack.action("revisit_snooze_date", block_id=block, type="datepicker", selected_date=_future(world))
    assert HIDDEN in fake.last("response_url")["text"]
    slack.action("satisfaction_score", json.dumps({"customer_id": world.hidden_id, "score": 1}))
    assert HIDDEN in fake.last("response_url")["text"]
    assert not [c for c in fake.calls_to("chat.postMessage") if c.args.get("channel") == LEAD]  # no alert
    assert snapshot(engine, world) == before
