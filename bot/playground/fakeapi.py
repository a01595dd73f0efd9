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
import itertools
import json
import logging
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.clock import wall
from bot.playground import blockkit

log = logging.getLogger(__name__)
from bot.playground.slackdata import (
    APP_ID,
    BOT_ID,
    BOT_USER,
    RESPONSE_URL_SECONDS,
    RESPONSE_URL_USES,
    SLACKBOT,
    TRIGGER_GRACE,
    TRIGGER_SECONDS,
    Channel,
    Execution,
    File,
    Message,
    Notice,
    Person,
    ResponseTarget,
    SlackError,
    Trigger,
    View,
    about,
    decoded,
    new_id,
    truthy,
    with_ids,
)
from bot.playground.webapi import _METHODS, WebApiMethods


class FakeSlack(WebApiMethods):
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
        self.executions: dict[str, Execution] = {}  # function_execution_id -> the run of a workflow step
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

    # --- triggers, response URLs, workflow steps run -------------------------------------

    def run_step(self, user: str, channel: str, step: str) -> str:
        """A new run of a workflow step: its function_execution_id (its token: `executions`)."""
        with self.lock:
            execution_id = "Fx" + secrets.token_hex(5).upper()
            self.executions[execution_id] = Execution(user, channel, step, "xwfp-" + secrets.token_hex(12))
            return execution_id

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
        if truthy(body.get("delete_original")):
            if source is not None:
                self._delete(source)
            return {"ok": True}
        blocks = self._blocks(body, surface="message")
        text = str(body.get("text") or "")
        if truthy(body.get("replace_original")) and source is not None:
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

    def react(self, person: str, channel: str, ts: str, name: str) -> Message | None:
        """`person` adds the reaction `name` to a message, or takes theirs away (a second click,
        as in Slack); the message if it was added."""
        with self.lock:
            message = self._find(channel, ts)
            if message is None or message.ephemeral_to is not None:
                return None
            users = message.reactions.setdefault(name, [])
            added = person not in users
            if added:
                users.append(person)
            else:
                users.remove(person)
                if not users:
                    del message.reactions[name]
            message.rev = self._bump()
            return message if added else None

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

    def close_view(self, person: str, view_id: str) -> bool:
        """Close `view_id` and whatever was pushed over it (the previous view shows again);
        False if it was not open."""
        with self.lock:
            stack = self.stacks.get(person, [])
            if view_id not in stack:
                return False
            for gone in stack[stack.index(view_id):]:
                self.views.pop(gone, None)
            del stack[stack.index(view_id):]
            self._bump()
            return True

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
                run = next((r for r in self.executions.values() if r.token == token and not r.done), None)
                if run is None:
                    return self._logged(method, args, {"ok": False, "error": "invalid_auth"})
                if method.startswith("functions.") and self.executions.get(args.get("function_execution_id")) is not run:
                    return self._logged(method, args, {"ok": False, "error": "access_denied"})  # another run's
            handler = _METHODS.get(method)
            if handler is None:
                self.notify(f"The bot called {method}, which the playground does not fake yet", level="warning")
                return self._logged(method, args, {"ok": False, "error": "unknown_method"})
            try:
                result = {"ok": True, **handler(self, decoded(args))}
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
            "error": result.get("error"), "about": about(args),
            "messages": (result.get("response_metadata") or {}).get("messages", []),
        }  # fmt: skip
        entry["rev"] = self._bump()
        self.calls.append(entry)
        if not entry["ok"]:
            log.warning("%s refused: %s %s", method, entry["error"], " ".join(entry["messages"]))
        return result

    # auth, team, users, conversations

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
        return with_ids({"blocks": blocks})["blocks"]

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
        if message.reactions:
            out["reactions"] = _reactions(message)
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
            "reactions": _reactions(m),
        }  # fmt: skip

    def _page_view(self, view: View) -> dict[str, Any]:
        return {"id": view.id, "hash": view.hash, "view": view.body, "errors": view.errors, "trouble": view.trouble}


# --- helpers ---------------------------------------------------------------------------------


def _reactions(message: Message) -> list[dict[str, Any]]:
    """A message's reactions as Slack lists them (`reactions` of conversations.history)."""
    return [{"name": name, "users": list(users), "count": len(users)} for name, users in message.reactions.items()]


