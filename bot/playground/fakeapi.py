"""The Slack side of the playground: a fake Web API that keeps what the bot sends.

The bot's `SLACK_API_URL` points here. Like Slack, it keeps the workspace's conversations
(channels, each person's DM with the app, threads, ephemeral messages for one person), the
views (each person's stack of modals and App Home) and the files uploaded through
`files.getUploadURLExternal` / the upload URL / `files.completeUploadExternal`; it answers
`users.info`, `conversations.open`, `chat.getPermalink`, `auth.test` and the rest in Slack's
shapes, with Slack's error codes. It also plays the parts of Slack that are not the Web API:
response URLs and trigger ids.

Every change bumps `version`; the page asks for what changed since the version it has
(`changes`), waiting until there is something (`wait`). Messages and views are checked
against Block Kit's documented limits (`blockkit`) and refused as Slack refuses them.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import itertools
import json
import os
import logging
import mimetypes
import secrets
import string
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import wall
from bot.playground import blockkit

log = logging.getLogger(__name__)

BOT_USER = "U00TOUCHBASE"
BOT_ID = "B00TOUCHBASE"
APP_ID = "A00TOUCHBASE"
BOT_NAME = "touchbase"
SLACKBOT = "USLACKBOT"
TRIGGER_SECONDS = 3  # Slack refuses a trigger id older than this
TRIGGER_GRACE = 60  # the playground accepts it this long, and says when Slack would not have
MAX_MODALS = 3  # views.push: a stack holds at most three views
RESPONSE_URL_USES = 5  # a response URL answers five times, within 30 minutes
RESPONSE_URL_SECONDS = 30 * 60
MAX_TEXT = 40000  # chat.postMessage: a longer `text` is refused (msg_too_long)

_ID_CHARS = string.ascii_uppercase + string.digits


def new_id(prefix: str, length: int = 10) -> str:
    return prefix + "".join(secrets.choice(_ID_CHARS) for _ in range(length))


@dataclass(frozen=True)
class Person:
    """A member of the workspace, as `users.info` describes them."""

    id: str
    name: str  # the handle: @maria
    real_name: str
    tz: str
    locale: str
    title: str = ""
    email: str | None = None
    is_admin: bool = False
    is_owner: bool = False
    color: str = "#4a154b"
    role: str = ""  # what the page says about them, e.g. "lead"


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    purpose: str = ""


@dataclass
class Message:
    channel: str
    ts: str
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    user: str | None = None  # a person; None for the bot
    thread_ts: str | None = None
    ephemeral_to: str | None = None  # the one person who sees it
    files: list[str] = field(default_factory=list)
    edited: bool = False
    rev: int = 0
    deleted: bool = False

    @property
    def author(self) -> str:
        return self.user or BOT_USER

    def visible_to(self, person: str) -> bool:
        return self.ephemeral_to in (None, person)


@dataclass
class View:
    id: str
    user: str
    body: dict[str, Any]
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    trouble: str | None = None  # "We had some trouble connecting" after a failed submission

    @property
    def type(self) -> str:
        return str(self.body.get("type"))


@dataclass
class File:
    id: str
    name: str
    length: int
    title: str | None = None
    alt_txt: str | None = None
    data: bytes | None = None
    channels: list[str] = field(default_factory=list)
    created: int = field(default_factory=lambda: int(wall().timestamp()))

    @property
    def mimetype(self) -> str:
        return mimetypes.guess_type(self.name)[0] or "application/octet-stream"


@dataclass
class Trigger:
    user: str
    at: float
    used: bool = False


@dataclass
class ResponseTarget:
    """Where a response URL's answers go: the person, the conversation, the source message."""

    user: str
    channel: str
    message_ts: str | None
    ephemeral: bool
    at: float
    uses: int = 0


@dataclass
class Notice:
    """A line the page shows one person (or everyone) for a moment: a refusal, a sweep's result."""

    id: int
    text: str
    level: str  # info, warning, error
    user: str | None
    rev: int


class SlackError(Exception):
    def __init__(self, error: str, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []


class FakeSlack:
    def __init__(
        self,
        *,
        team_id: str,
        team_name: str,
        domain: str,
        people: list[Person],
        channels: list[Channel],
        token: str,
        base_url: str = "http://127.0.0.1",
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.domain = domain
        self.people = {p.id: p for p in people}
        self.channels = {c.id: c for c in channels}
        self.token = token
        self.base_url = base_url
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.version = 0
        self.messages: dict[str, list[Message]] = {}
        self.views: dict[str, View] = {}
        self.stacks: dict[str, list[str]] = {}  # person -> view ids, bottom first
        self.homes: dict[str, str] = {}  # person -> view id
        self.files: dict[str, File] = {}
        self.triggers: dict[str, Trigger] = {}
        self.responses: dict[str, ResponseTarget] = {}
        self.notices: deque[Notice] = deque(maxlen=200)
        self.calls: deque[dict[str, Any]] = deque(maxlen=300)  # the Web API log the page shows
        self._last_ts = 0.0
        self._ids = itertools.count(1)

    # --- ids and bookkeeping ------------------------------------------------------------

    def _bump(self) -> int:
        self.version += 1
        self.changed.notify_all()
        return self.version

    def _ts(self) -> str:
        now = max(wall().timestamp(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    def dm_of(self, person: str) -> str:
        """The id of `person`'s DM with the app (D…, as conversations.open gives it)."""
        return "D" + person[1:]

    def person_of_dm(self, channel: str) -> str | None:
        if channel.startswith("D") and "U" + channel[1:] in self.people:
            return "U" + channel[1:]
        return None

    def conversation(self, channel: str) -> str:
        """A channel id as the Web API takes it: a person's id means their DM with the app."""
        if channel in self.people:
            return self.dm_of(channel)
        if channel in self.channels or self.person_of_dm(channel):
            return channel
        raise SlackError("channel_not_found")

    def can_see(self, person: str, channel: str) -> bool:
        """A person sees the channels and their own DM with the app."""
        return channel in self.channels or (channel.startswith("D") and self.person_of_dm(channel) == person)

    def channel_name(self, channel: str) -> str:
        if channel in self.channels:
            return self.channels[channel].name
        return "directmessage"

    def notify(self, text: str, *, level: str = "info", user: str | None = None) -> None:
        with self.lock:
            rev = self._bump()
            self.notices.append(Notice(next(self._ids), text, level, user, rev))

    def wait(self, since: int, timeout: float) -> int:
        """Block until the version passes `since` (or `timeout`); the version then."""
        with self.changed:
            self.changed.wait_for(lambda: self.version > since, timeout)
            return self.version

    # --- triggers and response URLs ------------------------------------------------------

    def new_trigger(self, user: str) -> str:
        trigger_id = f"{int(wall().timestamp())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        with self.lock:
            now = time.monotonic()
            for old in [k for k, t in self.triggers.items() if now - t.at > TRIGGER_GRACE]:
                del self.triggers[old]
            self.triggers[trigger_id] = Trigger(user, now)
        return trigger_id

    def _use_trigger(self, trigger_id: str, method: str) -> str:
        trigger = self.triggers.get(trigger_id or "")
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        age = time.monotonic() - trigger.at
        if trigger.used:
            raise SlackError("trigger_exchanged")
        if age > TRIGGER_GRACE:
            raise SlackError("expired_trigger_id")
        if age > TRIGGER_SECONDS:
            self.notify(f"{method} came {age:.1f} s after the click: Slack accepts a trigger id for "
                        f"{TRIGGER_SECONDS} s only (expired_trigger_id)",
                        level="warning", user=trigger.user)  # fmt: skip
        trigger.used = True
        return trigger.user

    def new_response_url(self, *, user: str, channel: str, message_ts: str | None = None,
                         ephemeral: bool = False) -> str:  # fmt: skip
        token = secrets.token_urlsafe(16)
        with self.lock:
            now = time.monotonic()
            for old in [k for k, r in self.responses.items() if now - r.at > RESPONSE_URL_SECONDS]:
                del self.responses[old]
            self.responses[token] = ResponseTarget(user, channel, message_ts, ephemeral, now)
        return f"{self.base_url}/response/{token}"

    def respond(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        """A post to a response URL: replace or delete the source message, or a new message
        (ephemeral to the person unless `response_type` is `in_channel`)."""
        with self.lock:
            target = self.responses.get(token)
            if target is None or time.monotonic() - target.at > RESPONSE_URL_SECONDS:
                return self._logged("response_url", body, {"ok": False, "error": "expired_url"})
            if target.uses >= RESPONSE_URL_USES:
                return self._logged("response_url", body, {"ok": False, "error": "used_url"})
            target.uses += 1
            try:
                result = self._respond(target, body)
            except SlackError as err:
                result = {"ok": False, "error": err.error, "response_metadata": {"messages": err.messages}}
            return self._logged("response_url", body, result)

    def respond_to(self, person: str, channel: str, body: dict[str, Any]) -> None:
        """A slash command's acknowledgement with a message: shown under the command."""
        with self.lock:
            self._respond(ResponseTarget(person, channel, None, False, time.monotonic()), body)

    def _respond(self, target: ResponseTarget, body: dict[str, Any]) -> dict[str, Any]:
        source = self._find(target.channel, target.message_ts) if target.message_ts else None
        if _true(body.get("delete_original")):
            if source is not None:
                self._delete(source)
            return {"ok": True}
        blocks = self._blocks(body, surface="message")
        text = str(body.get("text") or "")
        if _true(body.get("replace_original")) and source is not None:
            source.text, source.blocks, source.files = text, blocks, []
            source.edited = source.ephemeral_to is None
            source.rev = self._bump()
            return {"ok": True}
        if not text and not blocks:
            raise SlackError("no_text")
        thread_ts = body.get("thread_ts")
        if body.get("response_type") == "in_channel":
            self._add(Message(target.channel, self._ts(), text, blocks, thread_ts=thread_ts))
        else:
            self._add(Message(target.channel, self._ts(), text, blocks, thread_ts=thread_ts, ephemeral_to=target.user))
        return {"ok": True}

    # --- what people do in the client ---------------------------------------------------

    def post_as(self, person: str, channel: str, text: str, *, thread_ts: str | None = None) -> Message:
        with self.lock:
            return self._add(Message(self.conversation(channel), self._ts(), text, user=person, thread_ts=thread_ts))

    def slackbot(self, person: str, channel: str, text: str) -> Message:
        """What Slack itself tells one person (an unknown command, a failed one)."""
        with self.lock:
            return self._add(Message(channel, self._ts(), text, user=SLACKBOT, ephemeral_to=person))

    def dismiss(self, person: str, channel: str, ts: str) -> None:
        with self.lock:
            message = self._find(channel, ts)
            if message is not None and message.ephemeral_to == person:
                self._delete(message)

    def message(self, channel: str, ts: str) -> Message | None:
        with self.lock:
            return self._find(channel, ts)

    def view(self, view_id: str) -> View | None:
        with self.lock:
            return self.views.get(view_id)

    def stack(self, person: str) -> list[View]:
        with self.lock:
            return [self.views[v] for v in self.stacks.get(person, [])]

    def set_errors(self, view_id: str, errors: dict[str, str]) -> None:
        with self.lock:
            view = self.views.get(view_id)
            if view is not None:
                view.errors, view.trouble = dict(errors), None
                self._bump()

    def trouble(self, view_id: str, text: str) -> None:
        with self.lock:
            view = self.views.get(view_id)
            if view is not None:
                view.trouble = text
                self._bump()

    def close_view(self, person: str, view_id: str) -> None:
        """Close `view_id` and whatever was pushed over it (the previous view shows again)."""
        with self.lock:
            stack = self.stacks.get(person, [])
            if view_id in stack:
                for gone in stack[stack.index(view_id):]:
                    self.views.pop(gone, None)
                del stack[stack.index(view_id):]
                self._bump()

    def clear_views(self, person: str) -> None:
        with self.lock:
            for gone in self.stacks.pop(person, []):
                self.views.pop(gone, None)
            self._bump()

    def replace_view(self, view_id: str, body: dict[str, Any]) -> View:
        """`response_action: update`: the same view, new content."""
        with self.lock:
            view = self.views.get(view_id)
            if view is None:
                raise SlackError("not_found")
            return self._update(view, body, surface="modal")

    def push_view(self, person: str, body: dict[str, Any]) -> View:
        """`response_action: push`."""
        with self.lock:
            return self._push(person, body)

    # --- the Web API ----------------------------------------------------------------------

    def call(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        """Answer a Web API call as Slack does: `{"ok": true, …}` or `{"ok": false, "error": …}`."""
        with self.lock:
            if token != self.token:
                return self._logged(method, args, {"ok": False, "error": "invalid_auth"})
            handler = _METHODS.get(method)
            if handler is None:
                self.notify(f"The bot called {method}, which the playground does not fake yet", level="warning")
                return self._logged(method, args, {"ok": False, "error": "unknown_method"})
            try:
                result = {"ok": True, **handler(self, _decoded(args))}
            except SlackError as err:
                result = {"ok": False, "error": err.error}
                if err.messages:
                    result["response_metadata"] = {"messages": err.messages}
            return self._logged(method, args, result)

    def log_request(self, what: str, outcome: str, *, ok: bool) -> None:
        """A request Slack sent the bot, for the page's log next to the bot's calls."""
        with self.lock:
            entry = {"rev": self._bump(), "at": wall().timestamp(), "method": "→ bot", "ok": ok,
                     "error": None if ok else outcome, "about": f"{what}: {outcome}", "messages": []}  # fmt: skip
            self.calls.append(entry)

    def _logged(self, method: str, args: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        entry = {
            "rev": 0, "at": wall().timestamp(), "method": method, "ok": result.get("ok", False),
            "error": result.get("error"), "about": _about(args),
            "messages": (result.get("response_metadata") or {}).get("messages", []),
        }  # fmt: skip
        entry["rev"] = self._bump()
        self.calls.append(entry)
        if not entry["ok"]:
            log.warning("%s refused: %s %s", method, entry["error"], " ".join(entry["messages"]))
        return result

    # auth, team, users, conversations

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"https://{self.domain}.slack.com/", "team": self.team_name, "user": BOT_NAME,
                "team_id": self.team_id, "user_id": BOT_USER, "bot_id": BOT_ID,
                "is_enterprise_install": False}  # fmt: skip

    def _team_info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"team": {"id": self.team_id, "name": self.team_name, "domain": self.domain}}

    def user_object(self, person: Person, *, locale: bool = True) -> dict[str, Any]:
        offset = wall().astimezone(ZoneInfo(person.tz)).utcoffset() or dt.timedelta()
        user: dict[str, Any] = {
            "id": person.id, "team_id": self.team_id, "name": person.name, "deleted": False,
            "real_name": person.real_name, "tz": person.tz, "tz_label": person.tz,
            "tz_offset": int(offset.total_seconds()), "is_admin": person.is_admin, "is_owner": person.is_owner,
            "is_primary_owner": person.is_owner, "is_restricted": False, "is_ultra_restricted": False,
            "is_bot": False, "is_app_user": False, "updated": 0, "color": person.color.lstrip("#"),
            "profile": {"real_name": person.real_name, "display_name": person.name, "title": person.title,
                        "email": person.email, "team": self.team_id},
        }  # fmt: skip
        if locale:
            user["locale"] = person.locale
        return user

    def _bot_object(self) -> dict[str, Any]:
        return {"id": BOT_USER, "team_id": self.team_id, "name": BOT_NAME, "real_name": BOT_NAME, "deleted": False,
                "is_bot": True, "is_app_user": False, "tz": "America/Los_Angeles",
                "profile": {"real_name": BOT_NAME, "bot_id": BOT_ID, "api_app_id": APP_ID}}  # fmt: skip

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user") or "")
        if user == BOT_USER:
            return {"user": self._bot_object()}
        person = self.people.get(user)
        if person is None:
            raise SlackError("user_not_found")
        return {"user": self.user_object(person, locale=_true(args.get("include_locale")))}

    def _users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        members = [self.user_object(p, locale=_true(args.get("include_locale"))) for p in self.people.values()]
        return {"members": [*members, self._bot_object()], "response_metadata": {"next_cursor": ""}}

    def _users_lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email") or "").lower()
        for person in self.people.values():
            if person.email and person.email.lower() == email:
                return {"user": self.user_object(person)}
        raise SlackError("users_not_found")

    def _channel_object(self, channel: str) -> dict[str, Any]:
        if channel in self.channels:
            c = self.channels[channel]
            return {"id": c.id, "name": c.name, "is_channel": True, "is_group": False, "is_im": False,
                    "is_private": False, "is_archived": False, "is_member": True, "is_general": c.name == "general",
                    "is_ext_shared": False, "purpose": {"value": c.purpose}, "created": 0}  # fmt: skip
        return {"id": channel, "is_im": True, "is_channel": False, "is_private": True,
                "user": self.person_of_dm(channel), "created": 0}  # fmt: skip

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            return {"channel": {"id": self.conversation(str(args["channel"]))}}
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if len(users) != 1:
            raise SlackError("not_supported" if users else "users_list_not_supplied")
        if users[0] not in self.people:
            raise SlackError("user_not_found")
        return {"channel": {"id": self.dm_of(users[0])}, "already_open": True}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channel": self._channel_object(self.conversation(str(args.get("channel") or "")))}

    def _conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channels": [self._channel_object(c) for c in self.channels], "response_metadata": {"next_cursor": ""}}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.conversation(str(args.get("channel") or ""))
        found = [m for m in self.messages.get(channel, []) if m.ephemeral_to is None and m.thread_ts in (None, m.ts)]
        limit = int(args.get("limit") or 100)
        return {"messages": [self.slack_message(m) for m in reversed(found)][:limit], "has_more": len(found) > limit}

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.conversation(str(args.get("channel") or ""))
        ts = str(args.get("ts") or "")
        found = [m for m in self.messages.get(channel, []) if m.ephemeral_to is None and ts in (m.ts, m.thread_ts)]
        if not found:
            raise SlackError("thread_not_found")
        return {"messages": [self.slack_message(m) for m in found], "has_more": False}

    # chat

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.conversation(str(args.get("channel") or ""))
        text, blocks = str(args.get("text") or ""), self._blocks(args, surface="message")
        if not text and not blocks and not args.get("attachments"):
            raise SlackError("no_text")
        if len(text) > MAX_TEXT:
            raise SlackError("msg_too_long")
        thread_ts = args.get("thread_ts") or None
        if thread_ts and self._find(channel, str(thread_ts)) is None:
            raise SlackError("thread_not_found")
        message = self._add(Message(channel, self._ts(), text, blocks, thread_ts=thread_ts))
        return {"channel": channel, "ts": message.ts, "message": self.slack_message(message)}

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.conversation(str(args.get("channel") or ""))
        user = str(args.get("user") or "")
        if user not in self.people or self.person_of_dm(channel) not in (None, user):
            raise SlackError("user_not_in_channel")
        text, blocks = str(args.get("text") or ""), self._blocks(args, surface="message")
        if not text and not blocks:
            raise SlackError("no_text")
        message = self._add(Message(channel, self._ts(), text, blocks, thread_ts=args.get("thread_ts") or None,
                                    ephemeral_to=user))  # fmt: skip
        return {"message_ts": message.ts}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.conversation(str(args.get("channel") or ""))
        message = self._find(channel, str(args.get("ts") or ""))
        if message is None or message.ephemeral_to is not None:
            raise SlackError("message_not_found")
        if message.user is not None:
            raise SlackError("cant_update_message")
        if "blocks" in args:
            message.blocks = self._blocks(args, surface="message")
        if "text" in args:
            message.text = str(args.get("text") or "")
        message.edited, message.rev = True, self._bump()
        return {"channel": channel, "ts": message.ts, "text": message.text, "message": self.slack_message(message)}

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.conversation(str(args.get("channel") or ""))
        message = self._find(channel, str(args.get("ts") or ""))
        if message is None or message.ephemeral_to is not None:
            raise SlackError("message_not_found")
        if message.user is not None:
            raise SlackError("cant_delete_message")
        self._delete(message)
        return {"channel": channel, "ts": message.ts}

    def permalink(self, channel: str, ts: str) -> str:
        return f"{self.base_url}/archives/{channel}/p{ts.replace('.', '')}"

    def _chat_get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.conversation(str(args.get("channel") or ""))
        ts = str(args.get("message_ts") or "")
        if self._find(channel, ts) is None:
            raise SlackError("message_not_found")
        return {"channel": channel, "permalink": self.permalink(channel, ts)}

    # views

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        body = _view_arg(args)
        user = self._use_trigger(str(args.get("trigger_id") or ""), "views.open")
        if self.stacks.get(user):
            # A trigger from an open modal: Slack wants views.push; the playground opens anew.
            self.notify("views.open while a modal is open: the new modal replaces the stack (Slack "
                        "would have the bot use views.push)", level="warning", user=user)  # fmt: skip
            self.clear_views(user)
        view = self._push(user, body)
        return {"view": self.slack_view(view)}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        body = _view_arg(args)
        user = self._use_trigger(str(args.get("trigger_id") or ""), "views.push")
        if not self.stacks.get(user):
            raise SlackError("not_found")
        view = self._push(user, body)
        return {"view": self.slack_view(view)}

    def _push(self, user: str, body: dict[str, Any]) -> View:
        self._check_view(body, surface="modal")
        stack = self.stacks.setdefault(user, [])
        if len(stack) >= MAX_MODALS:
            raise SlackError("push_limit_reached")
        view_id = new_id("V")
        root = self.views[stack[0]].root_view_id if stack else view_id
        view = View(view_id, user, _with_ids(body), secrets.token_hex(8), root, stack[-1] if stack else None)
        self.views[view_id] = view
        stack.append(view_id)
        self._bump()
        return view

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        body = _view_arg(args)
        view = self.views.get(str(args.get("view_id") or ""))
        if view is None and args.get("external_id"):
            view = next((v for v in self.views.values() if v.body.get("external_id") == args["external_id"]), None)
        if view is None:
            raise SlackError("not_found")
        if args.get("hash") and args["hash"] != view.hash:
            raise SlackError("hash_conflict")
        view = self._update(view, body, surface="home" if view.type == "home" else "modal")
        return {"view": self.slack_view(view)}

    def _update(self, view: View, body: dict[str, Any], *, surface: str) -> View:
        self._check_view(body, surface=surface)
        view.body, view.hash, view.errors, view.trouble = _with_ids(body), secrets.token_hex(8), {}, None
        self._bump()
        return view

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        body = _view_arg(args)
        user = str(args.get("user_id") or "")
        if user not in self.people:
            raise SlackError("user_not_found")
        current = self.views.get(self.homes.get(user, ""))
        if current is not None:
            if args.get("hash") and args["hash"] != current.hash:
                raise SlackError("hash_conflict")
            return {"view": self.slack_view(self._update(current, body, surface="home"))}
        self._check_view(body, surface="home")
        view_id = new_id("V")
        view = View(view_id, user, _with_ids(body), secrets.token_hex(8), view_id)
        self.views[view_id] = view
        self.homes[user] = view_id
        self._bump()
        return {"view": self.slack_view(view)}

    def _check_view(self, body: dict[str, Any], *, surface: str) -> None:
        problems = blockkit.check_view(body, surface=surface)
        if problems:
            raise SlackError("invalid_arguments", [f"[ERROR] {p}" for p in problems])

    # files

    def _files_get_upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args.get("filename") or "")
        if not name:
            raise SlackError("invalid_arguments", ["[ERROR] missing required field: filename"])
        try:
            length = int(args.get("length") or 0)
        except ValueError:
            raise SlackError("invalid_arguments", ["[ERROR] length must be a number"]) from None
        file = File(new_id("F"), name, length, alt_txt=args.get("alt_txt"))
        self.files[file.id] = file
        return {"upload_url": f"{self.base_url}/upload/{file.id}", "file_id": file.id}

    def upload(self, file_id: str, data: bytes) -> tuple[int, str]:
        """A post to an upload URL: the file's bytes."""
        with self.lock:
            file = self.files.get(file_id)
            if file is None:
                return 404, "not found"
            file.data = data
            self._logged("upload", {"file": file_id, "name": file.name}, {"ok": True})
            return 200, f"OK - {len(data)}"

    def _files_complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        listed = args.get("files")
        if not isinstance(listed, list) or not listed:
            raise SlackError("invalid_arguments", ["[ERROR] missing required field: files"])
        done: list[File] = []
        for item in listed:
            file = self.files.get(str((item or {}).get("id")))
            if file is None or file.data is None:
                raise SlackError("file_not_found")
            file.title = item.get("title") or file.name
            done.append(file)
        channel = args.get("channel_id") or args.get("channels")
        if channel:
            channel = self.conversation(str(channel).split(",")[0])
            thread_ts = args.get("thread_ts") or None
            for file in done:
                file.channels.append(channel)
            self._add(Message(channel, self._ts(), str(args.get("initial_comment") or ""), thread_ts=thread_ts,
                              files=[f.id for f in done]))  # fmt: skip
        return {"files": [self.file_object(f) for f in done]}

    def _files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        file = self.files.get(str(args.get("file") or ""))
        if file is None or file.data is None:
            raise SlackError("file_not_found")
        return {"file": self.file_object(file)}

    def file_object(self, file: File) -> dict[str, Any]:
        url = f"{self.base_url}/files/{file.id}/{file.name}"
        return {"id": file.id, "name": file.name, "title": file.title or file.name, "mimetype": file.mimetype,
                "filetype": file.name.rsplit(".", 1)[-1].lower(), "size": len(file.data or b""),
                "url_private": url, "url_private_download": url, "permalink": url, "created": file.created,
                "user": BOT_USER, "channels": list(file.channels), "alt_txt": file.alt_txt}  # fmt: skip

    def file_bytes(self, file_id: str) -> tuple[File, bytes] | None:
        with self.lock:
            file = self.files.get(file_id)
            return (file, file.data) if file is not None and file.data is not None else None

    # --- storage ---------------------------------------------------------------------------

    def _blocks(self, args: dict[str, Any], *, surface: str) -> list[dict[str, Any]]:
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks) if blocks.strip() else []
            except ValueError:
                raise SlackError("invalid_blocks_format") from None
        if blocks in (None, ""):
            return []
        if not isinstance(blocks, list):
            raise SlackError("invalid_blocks_format")
        problems = blockkit.check_blocks(blocks, surface=surface)
        if problems:
            raise SlackError("invalid_blocks", [f"[ERROR] {p}" for p in problems])
        return _with_ids({"blocks": blocks})["blocks"]

    def _add(self, message: Message) -> Message:
        thread = self.messages.setdefault(message.channel, [])
        thread.append(message)
        message.rev = self._bump()
        if message.thread_ts and message.thread_ts != message.ts:
            parent = self._find(message.channel, message.thread_ts)
            if parent is not None:
                parent.rev = message.rev
        return message

    def _find(self, channel: str, ts: str | None) -> Message | None:
        for message in reversed(self.messages.get(channel, [])):
            if message.ts == ts and not message.deleted:
                return message
        return None

    def _delete(self, message: Message) -> None:
        message.deleted, message.rev = True, self._bump()
        if message.thread_ts and message.thread_ts != message.ts:
            parent = self._find(message.channel, message.thread_ts)
            if parent is not None:
                parent.rev = message.rev  # its reply count changed

    # --- what Slack shows: messages and views in Slack's own shapes -------------------------

    def slack_message(self, message: Message) -> dict[str, Any]:
        """The message as Slack hands it to apps (`message` of a payload, API answers)."""
        out: dict[str, Any] = {"type": "message", "ts": message.ts, "text": message.text, "team": self.team_id}
        if message.user is None:
            out.update(user=BOT_USER, bot_id=BOT_ID, app_id=APP_ID)
        else:
            out["user"] = message.user
        if message.blocks:
            out["blocks"] = message.blocks
        if message.thread_ts:
            out["thread_ts"] = message.thread_ts
        if message.files:
            out["files"] = [self.file_object(self.files[f]) for f in message.files if f in self.files]
        if message.edited:
            out["edited"] = {"user": message.author, "ts": message.ts}
        return out

    def slack_view(self, view: View, values: dict[str, Any] | None = None) -> dict[str, Any]:
        """The view as Slack hands it to apps, with the person's input as `state.values`."""
        body = view.body
        return {
            "id": view.id, "team_id": self.team_id, "type": body.get("type"), "blocks": body.get("blocks", []),
            "private_metadata": body.get("private_metadata", ""), "callback_id": body.get("callback_id", ""),
            "state": {"values": values or {}}, "hash": view.hash, "title": body.get("title"),
            "clear_on_close": bool(body.get("clear_on_close")), "notify_on_close": bool(body.get("notify_on_close")),
            "close": body.get("close"), "submit": body.get("submit"), "previous_view_id": view.previous_view_id,
            "root_view_id": view.root_view_id, "app_id": APP_ID, "external_id": body.get("external_id", ""),
            "app_installed_team_id": self.team_id, "bot_id": BOT_ID,
        }  # fmt: skip

    # --- kept across restarts, as a workspace keeps its history ------------------------------

    def save(self, path: Path) -> None:
        """Conversations, App Homes and files, written whole (open modals are not kept)."""
        with self.lock:
            state = {
                "messages": [dataclasses.asdict(m) for listed in self.messages.values() for m in listed
                             if not m.deleted],
                "homes": {person: self.views[v].body for person, v in self.homes.items() if v in self.views},
                "files": [{**dataclasses.asdict(f), "data": base64.b64encode(f.data).decode()}
                          for f in self.files.values() if f.data is not None],
            }  # fmt: skip
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, path)

    def load(self, path: Path) -> None:
        state = json.loads(path.read_text(encoding="utf-8"))
        with self.lock:
            for item in state.get("files", []):
                file = File(**{**item, "data": base64.b64decode(item["data"])})
                self.files[file.id] = file
            for item in state.get("messages", []):
                message = Message(**{**item, "rev": 0})
                self.messages.setdefault(message.channel, []).append(message)
                self._last_ts = max(self._last_ts, float(message.ts))
            for person, body in state.get("homes", {}).items():
                if person in self.people:
                    view_id = new_id("V")
                    self.views[view_id] = View(view_id, person, body, secrets.token_hex(8), view_id)
                    self.homes[person] = view_id
            for listed in self.messages.values():
                for message in listed:
                    message.rev = self._bump()

    def keep(self, path: Path, *, every: float = 1.0) -> Callable[[], None]:
        """Save to `path` whenever something changed, at most every `every` seconds; the
        function returned stops that and saves one last time."""
        stopped = threading.Event()

        def save() -> None:
            try:
                self.save(path)
            except OSError as exc:
                log.warning("could not keep the playground's messages in %s: %s", path, exc)

        def run() -> None:
            saved = -1
            while not stopped.is_set():
                with self.changed:
                    self.changed.wait_for(lambda: self.version != saved or stopped.is_set(), timeout=60)
                    version = self.version
                if version != saved and not stopped.is_set():
                    save()
                    saved = version
                stopped.wait(every)

        thread = threading.Thread(target=run, name="playground-keeper", daemon=True)
        thread.start()

        def stop() -> None:
            stopped.set()
            with self.changed:
                self.changed.notify_all()
            thread.join(timeout=5)
            save()

        return stop

    # --- what the page asks for -----------------------------------------------------------

    def changes(self, person: str, since: int) -> dict[str, Any]:
        """What `person` sees that changed after version `since` (everything for 0)."""
        with self.lock:
            messages, removed = [], []
            for channel, listed in self.messages.items():
                if not self.can_see(person, channel):
                    continue  # someone else's DM with the app
                replies: dict[str, int] = {}
                for m in listed:
                    if m.thread_ts and m.thread_ts != m.ts and not m.deleted and m.ephemeral_to is None:
                        replies[m.thread_ts] = replies.get(m.thread_ts, 0) + 1
                for m in listed:
                    if m.rev <= since or not m.visible_to(person):
                        continue
                    if m.deleted:
                        removed.append({"channel": channel, "ts": m.ts})
                    else:
                        messages.append(self._page_message(m, replies.get(m.ts, 0)))
            home = self.views.get(self.homes.get(person, ""))
            return {
                "version": self.version,
                "messages": messages,
                "removed": removed,
                "modals": [self._page_view(v) for v in self.stack(person)],
                "home": self._page_view(home) if home else None,
                "notices": [{"id": n.id, "text": n.text, "level": n.level}
                            for n in self.notices if n.rev > since and n.user in (None, person)],
                "calls": [c for c in self.calls if c["rev"] > since],
            }  # fmt: skip

    def _page_message(self, m: Message, replies: int) -> dict[str, Any]:
        return {
            "channel": m.channel, "ts": m.ts, "user": m.author, "text": m.text, "blocks": m.blocks,
            "thread_ts": m.thread_ts, "ephemeral": m.ephemeral_to is not None, "edited": m.edited, "rev": m.rev,
            "reply_count": replies, "files": [self.file_object(self.files[f]) for f in m.files if f in self.files],
        }  # fmt: skip

    def _page_view(self, view: View) -> dict[str, Any]:
        return {"id": view.id, "hash": view.hash, "view": view.body, "errors": view.errors, "trouble": view.trouble}


# --- helpers ---------------------------------------------------------------------------------


def _true(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _decoded(args: dict[str, Any]) -> dict[str, Any]:
    """Form posts carry JSON as strings (`view`, `files`, `blocks`): read them as Slack does."""
    out = dict(args)
    for key in ("view", "files"):
        if isinstance(out.get(key), str):
            try:
                out[key] = json.loads(out[key])
            except ValueError:
                raise SlackError(f"invalid_{key}_format" if key == "view" else "invalid_arguments") from None
    return out


def _view_arg(args: dict[str, Any]) -> dict[str, Any]:
    view = args.get("view")
    if not isinstance(view, dict):
        raise SlackError("invalid_arguments", ["[ERROR] missing required field: view"])
    return view


def _with_ids(body: dict[str, Any]) -> dict[str, Any]:
    """A copy where every block has a `block_id` and every element an `action_id`, as Slack
    fills them in for blocks that lack them."""
    body = json.loads(json.dumps(body))
    for block in body.get("blocks") or []:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", new_id("", 5))
        for element in _elements(block):
            if isinstance(element, dict) and element.get("type") not in ("image", "plain_text", "mrkdwn"):
                element.setdefault("action_id", new_id("", 5))
    return body


def _elements(block: dict[str, Any]) -> list[Any]:
    found = []
    if isinstance(block.get("accessory"), dict):
        found.append(block["accessory"])
    if isinstance(block.get("element"), dict):
        found.append(block["element"])
    if block.get("type") == "actions" and isinstance(block.get("elements"), list):
        found.extend(block["elements"])
    return found


def _about(args: dict[str, Any]) -> str:
    """A few words on a call for the page's log: whom or where it went, not what it said."""
    for key in ("channel", "channel_id", "user", "user_id", "users", "view_id", "file", "name"):
        if args.get(key):
            return f"{key}={args[key]}"
    return ""


_METHODS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "api.test": lambda fake, args: {"args": {}},
    "auth.test": FakeSlack._auth_test,
    "team.info": FakeSlack._team_info,
    "users.info": FakeSlack._users_info,
    "users.list": FakeSlack._users_list,
    "users.lookupByEmail": FakeSlack._users_lookup_by_email,
    "conversations.open": FakeSlack._conversations_open,
    "conversations.info": FakeSlack._conversations_info,
    "conversations.list": FakeSlack._conversations_list,
    "conversations.history": FakeSlack._conversations_history,
    "conversations.replies": FakeSlack._conversations_replies,
    "chat.postMessage": FakeSlack._chat_post_message,
    "chat.postEphemeral": FakeSlack._chat_post_ephemeral,
    "chat.update": FakeSlack._chat_update,
    "chat.delete": FakeSlack._chat_delete,
    "chat.getPermalink": FakeSlack._chat_get_permalink,
    "views.open": FakeSlack._views_open,
    "views.push": FakeSlack._views_push,
    "views.update": FakeSlack._views_update,
    "views.publish": FakeSlack._views_publish,
    "files.getUploadURLExternal": FakeSlack._files_get_upload_url,
    "files.completeUploadExternal": FakeSlack._files_complete_upload,
    "files.info": FakeSlack._files_info,
}
