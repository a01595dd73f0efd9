"""Sends the bot requests signed exactly as Slack signs them, and fills in modals by label.

    slack.command("find acme")                      # /crm find acme
    slack.click(blocks, "Edit")                     # presses the button labelled "Edit"
    slack.submit(view, {"Name": "Acme", "Grade": "A"})  # fills a modal by its labels

`InProcessSlack` sends the same requests to the WSGI callable directly (no HTTP): for tests
that send thousands.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from bot import later
from tests.fakeslack import FakeSlack

TEAM = "T0000001"
USER = "U0000001"
CHANNEL = "C0000001"
BOT_USER = "UBOT"  # the app's bot user (fakeslack's auth.test says so too)
WORKFLOW_TOKEN = "xwfp-test-workflow-token-not-real"  # what Slack gives a step for its own calls


@dataclass
class Response:
    status: int
    text: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.text) if self.text else {}

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return self.json.get("blocks", [])

    @property
    def shown(self) -> str:
        """Everything a person would read in the reply, as one string."""
        return block_text(self.blocks) or self.json.get("text", "")


def block_text(blocks: list[dict[str, Any]]) -> str:
    """The words a person reads in a list of blocks (texts, fields, button labels, a table's
    cells: a rich text's user, channel and date as mrkdwn writes them)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            if kind in ("plain_text", "mrkdwn", "raw_text", "text") and isinstance(node.get("text"), str):
                out.append(node["text"])
                return
            if kind == "rich_text_section":
                out.append("".join(block_text([e]) for e in node.get("elements", [])))
                return
            shown = {"user": lambda: f"<@{node['user_id']}>", "channel": lambda: f"<#{node['channel_id']}>",
                     "date": lambda: f"<!date^{node['timestamp']}^{node.get('format', '')}|{node.get('fallback', '')}>", "emoji": lambda: f":{node['name']}:"}.get(kind)  # fmt: skip
            if shown is not None and isinstance(node, dict) and "elements" not in node:
                out.append(shown())
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(out)


def table_rows(blocks: list[dict[str, Any]]) -> list[list[str]]:
    """The cells of a message's table (its header row first), as a person reads them."""
    [table] = [b for b in blocks if b.get("type") == "table"]
    return [[block_text([cell]) for cell in row] for row in table["rows"]]


def find_button(blocks: list[dict[str, Any]], label: str, nth: int = 0) -> dict[str, Any]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "button" and node.get("text", {}).get("text") == label:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    assert len(found) > nth, f"no button labelled {label!r} in {block_text(blocks)!r}"
    return found[nth]


# The worker's part in a request's App Homes (services.home.asked_homes): while a bot is served
# (conftest), the worker's sender publishes the Homes a request asked for once it is answered,
# as the worker would within a second, so that a test sees them.
_HOME_SENDERS: list[Callable[[], object]] = []


@contextmanager
def homes_sent_by(send: Callable[[], object]) -> Iterator[None]:
    _HOME_SENDERS.append(send)
    try:
        yield
    finally:
        _HOME_SENDERS.remove(send)


def after_the_answer() -> None:
    """What follows a request: the work it left (a DM, a Home opened), then the Homes it asked for."""
    later.wait_idle()
    for send in _HOME_SENDERS[:]:  # a copy: a fixture may end meanwhile
        send()


class SignedSlack:
    """Plays Slack: signs and posts requests to the running bot."""

    def __init__(self, bot_url: str, signing_secret: str, fake: FakeSlack) -> None:
        self.url = bot_url.rstrip("/") + "/slack/events"
        self.secret = signing_secret
        self.fake = fake
        self._triggers = itertools.count(1)

    # --- transport --------------------------------------------------------------------

    def sign(self, body: bytes, timestamp: int | str) -> str:
        base = f"v0:{timestamp}:".encode() + body
        return "v0=" + hmac.new(self.secret.encode(), base, hashlib.sha256).hexdigest()

    def post(
        self, body: bytes, content_type: str, *, timestamp: int | str | None = None, signature: str | None = None
    ) -> Response:
        timestamp = int(time.time()) if timestamp is None else timestamp
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature or self.sign(body, timestamp),
        }
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return self._checked(Response(resp.status, resp.read().decode()))
        except urllib.error.HTTPError as err:
            return Response(err.code, err.read().decode())
        finally:
            after_the_answer()  # what the bot does after answering (a DM, the App Home) is done too

    def _checked(self, response: Response) -> Response:
        """The answer, its blocks or view checked as Slack would before showing them (a refusal
        fails the test, as the fake Web API's do)."""
        if response.status == 200 and response.text.startswith("{"):
            self.fake.refuses("ack", json.loads(response.text))
        return response

    def post_form(self, fields: dict[str, str], **kw: Any) -> Response:
        return self.post(urlencode(fields).encode(), "application/x-www-form-urlencoded", **kw)

    def post_payload(self, payload: dict[str, Any], **kw: Any) -> Response:
        return self.post_form({"payload": json.dumps(payload)}, **kw)

    def trigger_id(self) -> str:
        return f"trigger.{next(self._triggers)}"

    # --- what Slack sends -------------------------------------------------------------

    def command(self, text: str, *, user: str = USER, team: str = TEAM, channel: str = CHANNEL, **kw: Any) -> Response:
        return self.post_form(
            {
                "command": "/crm",
                "text": text,
                "team_id": team,
                "team_domain": "example",
                "user_id": user,
                "user_name": user.lower(),
                "channel_id": channel,
                "channel_name": "general",
                "trigger_id": self.trigger_id(),
                "response_url": self.fake.response_url(),
                "api_app_id": "A0000001",
            },
            **kw,
        )

    def action(
        self,
        action_id: str,
        value: str | None = None,
        *,
        user: str = USER,
        team: str = TEAM,
        view: dict[str, Any] | None = None,
        channel: str = CHANNEL,
        message: dict[str, Any] | None = None,
        ephemeral: bool = False,
        **element: Any,
    ) -> Response:
        """`message`: the message the element is in (its `ts`, `blocks`); default an empty one.
        `ephemeral`: the element is in an ephemeral message, which Slack does not send back."""
        act: dict[str, Any] = {"action_id": action_id, "block_id": "b", "type": "button", "action_ts": "1.0"}
        if value is not None:
            act["value"] = value
        act.update(element)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": team, "domain": "example"},
            "user": {"id": user, "team_id": team},
            "api_app_id": "A0000001",
            "trigger_id": self.trigger_id(),
            "actions": [act],
        }
        if view is not None:
            payload["view"] = view
            payload["container"] = {"type": "view", "view_id": view.get("id", "V1")}
        else:
            payload["channel"] = {"id": channel}
            message = message or {"ts": "1.0", "text": ""}
            payload["container"] = {"type": "message", "channel_id": channel, "message_ts": message.get("ts", "1.0")}
            if ephemeral:
                payload["container"]["is_ephemeral"] = True
            else:
                payload["message"] = message
            payload["response_url"] = self.fake.response_url()
        return self.post_payload(payload)

    def click(self, blocks: list[dict[str, Any]], label: str, *, nth: int = 0, **kw: Any) -> Response:
        button = find_button(blocks, label, nth)
        return self.action(button["action_id"], button.get("value"), **kw)

    def submit(
        self, view: dict[str, Any], values: dict[str, Any], *, user: str = USER, team: str = TEAM
    ) -> Response:
        """Submit `view` with inputs filled by label; unnamed inputs keep their initial values."""
        state: dict[str, Any] = {}
        labels = {b["label"]["text"]: b for b in view.get("blocks", []) if b.get("type") == "input"}
        unknown = set(values) - set(labels)
        assert not unknown, f"no inputs labelled {unknown}; the modal has {list(labels)}"
        for label, block in labels.items():
            element = block["element"]
            state[block["block_id"]] = {
                element["action_id"]: _element_state(element, values.get(label, _INITIAL))
            }
        submitted = dict(view, state={"values": state}, id=view.get("id", "V1"))
        payload = {
            "type": "view_submission",
            "team": {"id": team, "domain": "example"},
            "user": {"id": user, "team_id": team},
            "api_app_id": "A0000001",
            "trigger_id": self.trigger_id(),
            "view": submitted,
        }
        return self.post_payload(payload)

    def suggest(self, action_id: str, value: str, *, user: str = USER, team: str = TEAM, block_id: str = "customer") -> Response:
        payload = {
            "type": "block_suggestion",
            "team": {"id": team, "domain": "example"},
            "user": {"id": user, "team_id": team},
            "api_app_id": "A0000001",
            "action_id": action_id,
            "block_id": block_id,
            "value": value,
            "view": {"id": "V1", "type": "modal"},
        }
        return self.post_payload(payload)

    def message_shortcut(
        self, callback_id: str, message: dict[str, Any], *, user: str = USER, team: str = TEAM, channel: str = CHANNEL
    ) -> Response:
        payload = {
            "type": "message_action",
            "callback_id": callback_id,
            "team": {"id": team, "domain": "example"},
            "user": {"id": user, "team_id": team},
            "channel": {"id": channel, "name": "general"},
            "message": message,
            "message_ts": message.get("ts", "1.0"),
            "trigger_id": self.trigger_id(),
            "response_url": self.fake.response_url(),
        }
        return self.post_payload(payload)

    def event(self, event: dict[str, Any], *, team: str = TEAM, channel_team: str | None = None) -> Response:
        """An event for the app installed in `team`; `channel_team` another organisation whose Slack
        Connect channel it happened in: Slack then gives theirs as the outer `team_id`."""
        body = {
            "type": "event_callback",
            "team_id": channel_team or team,
            **({"is_ext_shared_channel": True} if channel_team else {}),
            "api_app_id": "A0000001",
            "event": event,
            "event_id": f"Ev{next(self._triggers)}",
            "event_time": int(time.time()),
            # Who the app is in this workspace, as Slack says with every event.
            "authorizations": [{"team_id": team, "user_id": BOT_USER, "is_bot": True}],
        }
        return self.post(json.dumps(body).encode(), "application/json")

    def message(self, text: str, *, ts: str, user: str = USER, channel: str = CHANNEL, team: str = TEAM,
                user_team: str | None = None, thread_ts: str | None = None, channel_team: str | None = None,
                **extra: Any) -> Response:  # fmt: skip
        """A `message` event in a channel; `user_team` another workspace for a Slack Connect guest,
        `channel_team` the one that created the channel when not `team` (see `event`)."""
        event = {"type": "message", "channel": channel, "channel_type": "channel", "user": user, "text": text,
                 "ts": ts, "event_ts": ts, "team": user_team or team, **extra}  # fmt: skip
        if user_team:
            event["user_team"] = event["source_team"] = user_team
        if thread_ts:
            event["thread_ts"] = thread_ts
        return self.event(event, team=team, channel_team=channel_team)

    def step(self, callback_id: str, inputs: dict[str, Any], *, team: str = TEAM,
             execution: str = "Fx0000001") -> Response:  # fmt: skip
        """Workflow Builder runs a custom step: a `function_executed` event."""
        event = {
            "type": "function_executed",
            "function": {"id": "Fn0000001", "callback_id": callback_id, "title": callback_id, "type": "app",
                         "input_parameters": [], "output_parameters": [], "app_id": "A0000001",
                         "date_created": 1, "date_updated": 1, "date_deleted": 0},
            "inputs": inputs,
            "function_execution_id": execution,
            "workflow_execution_id": "Wx0000001",
            "event_ts": f"{time.time():.6f}",
            "bot_access_token": WORKFLOW_TOKEN,
        }  # fmt: skip
        return self.event(event, team=team)


class InProcessSlack(SignedSlack):
    """The same requests, handed to the bot's WSGI callable in this process."""

    def __init__(self, wsgi: Any, signing_secret: str, fake: FakeSlack) -> None:
        super().__init__("http://in-process", signing_secret, fake)
        self.wsgi = wsgi

    def post(
        self, body: bytes, content_type: str, *, timestamp: int | str | None = None, signature: str | None = None
    ) -> Response:
        timestamp = int(time.time()) if timestamp is None else timestamp
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1",
            "SERVER_NAME": "localhost", "SERVER_PORT": "3000", "wsgi.url_scheme": "http",
            "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
            "HTTP_X_SLACK_REQUEST_TIMESTAMP": str(timestamp),
            "HTTP_X_SLACK_SIGNATURE": signature or self.sign(body, timestamp),
        }  # fmt: skip
        started: list[str] = []
        try:
            chunks = self.wsgi(environ, lambda status, headers, exc_info=None: started.append(status))
            text = b"".join(chunks).decode()
        finally:
            after_the_answer()
        return self._checked(Response(int(started[0].split()[0]), text))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Page:
    status: int
    text: str
    headers: dict[str, list[str]] = field(default_factory=dict)


class Browser:
    """Plays the person installing touchbase (many-workspace mode): opens the install link,
    is sent to Slack's authorize page (whose *Allow* the fake plays: `fake.grant`) and comes
    back to the bot's redirect URL with the code and the state, carrying the state cookie as a
    browser does."""

    def __init__(self, bot_url: str, fake: FakeSlack) -> None:
        self.url = bot_url.rstrip("/")
        self.fake = fake
        self.cookies: dict[str, str] = {}
        self._opener = urllib.request.build_opener(_NoRedirects)

    def get(self, path: str, *, language: str = "en-US") -> Page:
        headers = {"Accept-Language": language}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        request = urllib.request.Request(self.url + path, headers=headers)
        try:
            with self._opener.open(request, timeout=30) as resp:
                page = Page(resp.status, resp.read().decode(), _headers(resp.headers))
        except urllib.error.HTTPError as err:
            page = Page(err.code, err.read().decode(), _headers(err.headers))
        for line in page.headers.get("set-cookie", []):
            for name, morsel in SimpleCookie(line).items():
                if morsel.value == "deleted":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return page

    def start(self) -> tuple[Page, str]:
        """Open the install link: the redirect to Slack's authorize page, and its state."""
        page = self.get("/slack/install")
        assert page.status == 302, page
        location = page.headers["location"][0]
        return page, parse_qs(urlparse(location).query)["state"][0]

    def back(self, code: str, state: str, **kw: Any) -> Page:
        """Slack sends the browser back to the redirect URL."""
        return self.get("/slack/oauth_redirect?" + urlencode({"code": code, "state": state}), **kw)

    def install(self, team: str, *, name: str | None = None, installer: str = USER, **kw: Any) -> Page:
        """The whole flow: the install link, *Allow* on Slack's page, and back."""
        _, state = self.start()
        return self.back(self.fake.grant(team, name=name, installer=installer), state, **kw)


def _headers(message: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in message.items():
        out.setdefault(key.lower(), []).append(value)
    return out


_INITIAL = object()


def _element_state(element: dict[str, Any], value: Any) -> dict[str, Any]:
    kind = element["type"]
    if value is _INITIAL:
        if kind in ("static_select", "external_select", "radio_buttons"):
            value = element.get("initial_option")
            return {"type": kind, "selected_option": value}
        if kind == "users_select":
            return {"type": kind, "selected_user": element.get("initial_user")}
        if kind == "datepicker":
            return {"type": kind, "selected_date": element.get("initial_date")}
        if kind == "datetimepicker":
            return {"type": kind, "selected_date_time": element.get("initial_date_time")}
        if kind == "timepicker":
            return {"type": kind, "selected_time": element.get("initial_time")}
        if kind == "checkboxes":
            return {"type": kind, "selected_options": element.get("initial_options", [])}
        if kind == "multi_users_select":
            return {"type": kind, "selected_users": element.get("initial_users", [])}
        if kind == "conversations_select":
            return {"type": kind, "selected_conversation": element.get("initial_conversation")}
        return {"type": kind, "value": element.get("initial_value")}
    if kind in ("static_select", "radio_buttons"):
        # choose by the option's label, as a person does
        options = element.get("options") or [o for g in element.get("option_groups", []) for o in g["options"]]
        chosen = [o for o in options if o["text"]["text"] == value or o["value"] == value]
        assert chosen or value is None, f"no option {value!r} in {[o['text']['text'] for o in options]}"
        return {"type": kind, "selected_option": chosen[0] if chosen else None}
    if kind == "external_select":
        return {"type": kind, "selected_option": value}  # an option dict, as the options endpoint gave it
    if kind == "users_select":
        return {"type": kind, "selected_user": value}
    if kind == "datepicker":
        return {"type": kind, "selected_date": value}
    if kind == "datetimepicker":
        return {"type": kind, "selected_date_time": value}
    if kind == "timepicker":
        return {"type": kind, "selected_time": value}
    if kind == "multi_users_select":
        return {"type": kind, "selected_users": value}
    if kind == "conversations_select":
        return {"type": kind, "selected_conversation": value}
    if kind == "checkboxes":
        options = element.get("options", [])
        return {"type": kind, "selected_options": [o for o in options if o["text"]["text"] in value or o["value"] in value]}
    return {"type": kind, "value": value}
