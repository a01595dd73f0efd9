"""The playground's Slack workspace as data: people, channels, messages, views, files, and the
little parts of Slack that are not the Web API (trigger ids, response URLs)."""

from __future__ import annotations

import json
import logging
import mimetypes
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from bot.clock import wall

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
    reactions: dict[str, list[str]] = field(default_factory=dict)  # an emoji's name -> who reacted, in order

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
class Execution:
    """A run of one of the app's workflow steps (bot.playground.workflows): who ran it, where, and
    the token Slack gives the app for that run's calls."""

    user: str
    channel: str
    step: str  # its callback_id
    token: str
    done: bool = False


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


def truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def decoded(args: dict[str, Any]) -> dict[str, Any]:
    """Form posts carry JSON as strings (`view`, `files`, `blocks`): read them as Slack does."""
    out = dict(args)
    for key in ("view", "files", "outputs"):
        if isinstance(out.get(key), str):
            try:
                out[key] = json.loads(out[key])
            except ValueError:
                raise SlackError(f"invalid_{key}_format" if key == "view" else "invalid_arguments") from None
    return out


def view_arg(args: dict[str, Any]) -> dict[str, Any]:
    view = args.get("view")
    if not isinstance(view, dict):
        raise SlackError("invalid_arguments", ["[ERROR] missing required field: view"])
    return view


def with_ids(body: dict[str, Any]) -> dict[str, Any]:
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


def about(args: dict[str, Any]) -> str:
    """A few words on a call for the page's log: whom or where it went, not what it said."""
    for key in ("channel", "channel_id", "user", "user_id", "users", "view_id", "file", "name"):
        if args.get(key):
            return f"{key}={args[key]}"
    return ""


