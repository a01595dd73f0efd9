"""The Web API methods the playground's fake Slack answers, in Slack's shapes and with its
error codes (a part of `fakeapi.FakeSlack`)."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import wall
from bot.playground import blockkit, workflows
from bot.playground.manifest import STEPS
from bot.playground.slackdata import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER,
    MAX_MODALS,
    MAX_TEXT,
    File,
    Message,
    Person,
    SlackError,
    View,
    new_id,
    truthy,
    view_arg,
    with_ids,
)

log = logging.getLogger(__name__)


class WebApiMethods:
    """`users.*`, `conversations.*`, `chat.*`, `views.*`, `files.*` for `FakeSlack`."""

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
        return {"user": self.user_object(person, locale=truthy(args.get("include_locale")))}

    def _users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        members = [self.user_object(p, locale=truthy(args.get("include_locale"))) for p in self.people.values()]
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
        body = view_arg(args)
        user = self._use_trigger(str(args.get("trigger_id") or ""), "views.open")
        if self.stacks.get(user):
            # A trigger from an open modal: Slack wants views.push; the playground opens anew.
            self.notify("views.open while a modal is open: the new modal replaces the stack (Slack "
                        "would have the bot use views.push)", level="warning", user=user)  # fmt: skip
            self.clear_views(user)
        view = self._push(user, body)
        return {"view": self.slack_view(view)}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        body = view_arg(args)
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
        view = View(view_id, user, with_ids(body), secrets.token_hex(8), root, stack[-1] if stack else None)
        self.views[view_id] = view
        stack.append(view_id)
        self._bump()
        return view

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        body = view_arg(args)
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
        view.body, view.hash, view.errors, view.trouble = with_ids(body), secrets.token_hex(8), {}, None
        self._bump()
        return view

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        body = view_arg(args)
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
        view = View(view_id, user, with_ids(body), secrets.token_hex(8), view_id)
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

    # --- workflow steps (bot.playground.workflows) -------------------------------------

    def _functions_complete(self, args: dict[str, Any], *, error: str | None = None) -> dict[str, Any]:
        run = self.executions.get(str(args.get("function_execution_id") or ""))
        if run is None:
            raise SlackError("function_execution_not_found")
        if run.done:
            raise SlackError("execution_not_in_running_state")
        outputs = args.get("outputs")
        if error is None and not workflows.valid_outputs(STEPS[run.step], outputs):
            raise SlackError("parameter_validation_failed")  # the run goes on: the app may still fail it
        run.done = True
        self.slackbot(run.user, run.channel, workflows.ended(STEPS[run.step], outputs=outputs, error=error))
        return {}

    def _functions_complete_success(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._functions_complete(args)

    def _functions_complete_error(self, args: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(args.get("error"), str) or not args["error"]:
            raise SlackError("invalid_arguments", ["[ERROR] missing required field: error"])
        return self._functions_complete(args, error=args["error"])

    # --- storage ---------------------------------------------------------------------------



_METHODS: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any]]] = {
    "api.test": lambda fake, args: {"args": {}},
    "auth.test": WebApiMethods._auth_test,
    "team.info": WebApiMethods._team_info,
    "users.info": WebApiMethods._users_info,
    "users.list": WebApiMethods._users_list,
    "users.lookupByEmail": WebApiMethods._users_lookup_by_email,
    "conversations.open": WebApiMethods._conversations_open,
    "conversations.info": WebApiMethods._conversations_info,
    "conversations.list": WebApiMethods._conversations_list,
    "conversations.history": WebApiMethods._conversations_history,
    "conversations.replies": WebApiMethods._conversations_replies,
    "chat.postMessage": WebApiMethods._chat_post_message,
    "chat.postEphemeral": WebApiMethods._chat_post_ephemeral,
    "chat.update": WebApiMethods._chat_update,
    "chat.delete": WebApiMethods._chat_delete,
    "chat.getPermalink": WebApiMethods._chat_get_permalink,
    "views.open": WebApiMethods._views_open,
    "views.push": WebApiMethods._views_push,
    "views.update": WebApiMethods._views_update,
    "views.publish": WebApiMethods._views_publish,
    "files.getUploadURLExternal": WebApiMethods._files_get_upload_url,
    "files.completeUploadExternal": WebApiMethods._files_complete_upload,
    "files.info": WebApiMethods._files_info,
    "functions.completeSuccess": WebApiMethods._functions_complete_success,
    "functions.completeError": WebApiMethods._functions_complete_error,
}
