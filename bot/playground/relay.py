"""What Slack's servers do when a person acts in the client.

A person types `/crm find acme`, writes in a channel, presses a button, picks from a
type-ahead, submits a modal, opens the App Home, runs a message shortcut, reacts to a message
or runs one of the app's workflow steps: the relay builds the payload Slack would send (the
documented shapes of slash commands, `block_actions`, `block_suggestion`, `view_submission`,
`view_closed`, `message_action`, and the `message`, `reaction_added`, `app_home_opened` and
`function_executed` events), signs
it as Slack does, posts it to the bot's request URL, and applies the bot's acknowledgement
as Slack would: an ephemeral answer under the command, the errors shown under a modal's
fields, a view pushed, updated or closed, the options of a type-ahead.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from bot.clock import wall
from bot.playground import workflows
from bot.playground.fakeapi import FakeSlack
from bot.playground.manifest import STEPS
from bot.playground.signer import Answer, Signer
from bot.playground.slackdata import APP_ID, BOT_USER, SlackError

ACK_SECONDS = 3  # Slack gives up on an acknowledgement after this long
VERIFICATION_TOKEN = "playground-verification-token"  # deprecated by Slack, still sent; the bot ignores it
TROUBLE = "We had some trouble connecting. Try again?"  # what Slack shows in a modal the app failed to answer

_MENTION = re.compile(r"(?<![\w@/])@([\w.\-]+)")
_CHANNEL = re.compile(r"(?<![\w&])#([a-z0-9_\-]+)")
_URL = re.compile(r"(?<![<|\w])(https?://[^\s<>]+)")
EMOJI_NAME = re.compile(r"[a-z0-9_+\-']{1,64}(::skin-tone-[2-6])?")  # as Slack names an emoji


def _now_ts() -> str:
    return f"{wall().timestamp():.6f}"


class Relay:
    def __init__(self, fake: FakeSlack, signer: Signer, *, command: str, shortcuts: dict[str, str]) -> None:
        self.fake = fake
        self.signer = signer
        self.command_name = command
        self.shortcuts = shortcuts  # callback id -> name

    # --- who and where, as Slack writes them ---------------------------------------------

    def _user(self, person: str) -> dict[str, Any]:
        p = self.fake.people[person]
        return {"id": p.id, "username": p.name, "name": p.name, "team_id": self.fake.team_id}

    def _team(self) -> dict[str, Any]:
        return {"id": self.fake.team_id, "domain": self.fake.domain}

    def _envelope(self, kind: str, person: str) -> dict[str, Any]:
        return {"type": kind, "team": self._team(), "user": self._user(person), "api_app_id": APP_ID,
                "token": VERIFICATION_TOKEN, "is_enterprise_install": False, "enterprise": None}  # fmt: skip

    def typed(self, text: str, *, names: bool) -> str:
        """Text as Slack delivers what a person typed: `&<>` escaped; known @people, #channels
        and links in angle brackets (with the name too when the command escapes, `names`)."""
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        handles = {p.name.lower(): p for p in self.fake.people.values()}
        channels = {c.name: c for c in self.fake.channels.values()}

        def person(match: re.Match[str]) -> str:
            p = handles.get(match.group(1).lower())
            if p is None:
                return match.group(0)
            return f"<@{p.id}|{p.name}>" if names else f"<@{p.id}>"

        def channel(match: re.Match[str]) -> str:
            c = channels.get(match.group(1))
            return f"<#{c.id}|{c.name}>" if c else match.group(0)

        text = _URL.sub(lambda m: f"<{m.group(1)}>", text)
        return _CHANNEL.sub(channel, _MENTION.sub(person, text))

    # --- posting ---------------------------------------------------------------------------

    def _post(self, person: str, send: Any, what: str) -> Answer:
        started = time.monotonic()
        answer: Answer = send()
        took = time.monotonic() - started
        outcome = answer.error or f"HTTP {answer.status}, {took * 1000:.0f} ms"
        self.fake.log_request(what, outcome, ok=answer.ok)
        if answer.error is not None:
            self.fake.notify(f"The bot is not answering ({answer.error})", level="error", user=person)
        elif answer.status != 200:
            self.fake.notify(f"The bot answered {what} with HTTP {answer.status}", level="error", user=person)
        elif took > ACK_SECONDS:
            self.fake.notify(f"The bot took {took:.1f} s to acknowledge {what}; Slack gives up after "
                             f"{ACK_SECONDS} s", level="warning", user=person)  # fmt: skip
        return answer

    # --- the message box ----------------------------------------------------------------------

    def send(self, person: str, channel: str, text: str, *, thread_ts: str | None = None) -> None:
        """What a person sends from the message box: a slash command or a message."""
        text = text.strip()
        if not text or not self.fake.can_see(person, channel):
            return
        if text.startswith("/"):
            name, _, rest = text.partition(" ")
            if name != self.command_name:
                self.fake.slackbot(person, channel, f"`{name}` is not a valid command. In Slack, all messages that "
                                                    "start with the \"/\" character are interpreted as commands.")
            elif thread_ts:
                self.fake.slackbot(person, channel, f"`{name}` is not supported in threads. Sorry!")
            else:
                self.command(person, channel, rest)
            return
        said = self.fake.post_as(person, channel, self.typed(text, names=False), thread_ts=thread_ts)
        if channel in self.fake.channels:  # the bot is in every channel: Slack tells it of each message
            event = {"type": "message", "channel": channel, "user": person, "text": said.text, "ts": said.ts,
                     "event_ts": said.ts, "channel_type": "channel", "team": self.fake.team_id}  # fmt: skip
            if said.thread_ts:
                event["thread_ts"] = said.thread_ts
            self._event(person, event, "message")

    def command(self, person: str, channel: str, text: str) -> None:
        fields = {
            "token": VERIFICATION_TOKEN, "team_id": self.fake.team_id, "team_domain": self.fake.domain,
            "channel_id": channel, "channel_name": self.fake.channel_name(channel), "user_id": person,
            "user_name": self.fake.people[person].name, "command": self.command_name,
            "text": self.typed(text, names=True), "api_app_id": APP_ID, "is_enterprise_install": "false",
            "response_url": self.fake.new_response_url(user=person, channel=channel),
            "trigger_id": self.fake.new_trigger(person),
        }  # fmt: skip
        # The log names the sub-command, not what followed it (a customer's name, say).
        word = f"{self.command_name} {text.split(' ')[0]}".strip()
        answer = self._post(person, lambda: self.signer.form(fields), word)
        if not answer.ok:
            error = "operation_timeout" if answer.error else "dispatch_failed"
            self.fake.slackbot(person, channel, f"`{self.command_name}` failed with the error \"{error}\"")
            return
        body = answer.json() if answer.body.lstrip().startswith("{") else {"text": answer.body}
        if not body.get("text") and not body.get("blocks"):
            return  # acknowledged with nothing to say: a modal or a later answer follows
        if body.get("response_type") == "in_channel":
            self.fake.post_as(person, channel, f"{self.command_name} {fields['text']}")
        try:
            self.fake.respond_to(person, channel, body)
        except SlackError as err:
            self.fake.slackbot(person, channel, f"`{self.command_name}` answered something Slack refuses "
                                                f"({err.error}): {' '.join(err.messages)}")  # fmt: skip

    # --- interactions ------------------------------------------------------------------------

    def _container(self, person: str, where: dict[str, Any], payload: dict[str, Any],
                   values: dict[str, Any] | None) -> bool:  # fmt: skip
        """Fill in where the interaction happened; False when that place is gone."""
        if where.get("view_id"):
            view = self.fake.view(str(where["view_id"]))
            if view is None or view.user != person:
                return False
            payload["container"] = {"type": "view", "view_id": view.id}
            payload["view"] = self.fake.slack_view(view, values)
            return True
        channel, ts = str(where.get("channel") or ""), str(where.get("ts") or "")
        message = self.fake.message(channel, ts) if self.fake.can_see(person, channel) else None
        if message is None or not message.visible_to(person):
            return False
        ephemeral = message.ephemeral_to is not None
        payload["container"] = {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": ephemeral}
        payload["channel"] = {"id": channel, "name": self.fake.channel_name(channel)}
        if not ephemeral:  # Slack does not hand ephemeral messages back
            payload["message"] = self.fake.slack_message(message)
        payload["state"] = {"values": values or {}}
        payload["response_url"] = self.fake.new_response_url(user=person, channel=channel, message_ts=ts,
                                                             ephemeral=ephemeral)  # fmt: skip
        return True

    def action(self, person: str, where: dict[str, Any], action: dict[str, Any], values: dict[str, Any] | None) -> None:
        """`block_actions`: a button pressed, an option picked, a date chosen."""
        payload = self._envelope("block_actions", person)
        payload["trigger_id"] = self.fake.new_trigger(person)
        if not self._container(person, where, payload, values):
            return
        payload["actions"] = [{**action, "action_ts": _now_ts()}]
        self._post(person, lambda: self.signer.payload(payload), f"block_actions {action.get('action_id')}")

    def suggest(self, person: str, where: dict[str, Any], block_id: str, action_id: str, value: str,
                values: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
        """`block_suggestion`: the options of a type-ahead for what the person typed so far."""
        payload = self._envelope("block_suggestion", person)
        if not self._container(person, where, payload, values):
            return {"options": []}
        payload.pop("response_url", None)
        payload.update(action_id=action_id, block_id=block_id, value=value)
        answer = self._post(person, lambda: self.signer.payload(payload), f"block_suggestion {action_id}")
        body = answer.json() if answer.ok else {}
        if "option_groups" in body:
            return {"option_groups": body["option_groups"]}
        return {"options": body.get("options") or []}

    def submit(self, person: str, view_id: str, values: dict[str, Any]) -> None:
        """`view_submission`, then what the acknowledgement says to do with the modal."""
        view = self.fake.view(view_id)
        if view is None or view.user != person:
            return
        if view.body.get("callback_id") == workflows.FORM:  # the playground's own: a workflow step to run
            return self._run_step(person, view_id, values)
        payload = self._envelope("view_submission", person)
        payload.update(trigger_id=self.fake.new_trigger(person), view=self.fake.slack_view(view, values),
                       response_urls=[])  # fmt: skip
        answer = self._post(person, lambda: self.signer.payload(payload),
                            f"view_submission {view.body.get('callback_id') or view.id}")  # fmt: skip
        if not answer.ok:
            return self.fake.trouble(view_id, TROUBLE)
        body = answer.json()
        action = body.get("response_action")
        try:
            if action == "errors":
                self.fake.set_errors(view_id, {str(k): str(v) for k, v in (body.get("errors") or {}).items()})
            elif action == "update":
                self.fake.replace_view(view_id, body.get("view") or {})
            elif action == "push":
                self.fake.push_view(person, body.get("view") or {})
            elif action == "clear":
                self.fake.clear_views(person)
            else:
                self.fake.close_view(person, view_id)
        except SlackError as err:
            self.fake.notify(f"The bot answered the modal with a view Slack refuses ({err.error}): "
                             + " ".join(err.messages), level="error", user=person)  # fmt: skip
            self.fake.trouble(view_id, TROUBLE)

    def close(self, person: str, view_id: str, values: dict[str, Any] | None = None) -> None:
        """The person closed a modal (Cancel or ×): `view_closed` if the view asked for it."""
        view = self.fake.view(view_id)
        if view is None or view.user != person:
            return
        clear = bool(view.body.get("clear_on_close"))
        if view.body.get("notify_on_close"):
            payload = self._envelope("view_closed", person)
            payload.update(view=self.fake.slack_view(view, values), is_cleared=clear)
            what = f"view_closed {view.body.get('callback_id') or view.id}"
            self._post(person, lambda: self.signer.payload(payload), what)
        if clear:
            self.fake.clear_views(person)
        else:
            self.fake.close_view(person, view_id)

    def shortcut(self, person: str, callback_id: str, channel: str, ts: str) -> None:
        """A message shortcut from a message's ⋮ menu (`message_action`)."""
        message = self.fake.message(channel, ts) if self.fake.can_see(person, channel) else None
        if message is None or message.ephemeral_to is not None or callback_id not in self.shortcuts:
            return
        payload = self._envelope("message_action", person)
        payload.update(
            callback_id=callback_id, trigger_id=self.fake.new_trigger(person), action_ts=_now_ts(),
            channel={"id": channel, "name": self.fake.channel_name(channel)}, message_ts=ts,
            message=self.fake.slack_message(message),
            response_url=self.fake.new_response_url(user=person, channel=channel),
        )  # fmt: skip
        self._post(person, lambda: self.signer.payload(payload), f"message_action {callback_id}")

    def react(self, person: str, channel: str, ts: str, name: str) -> None:
        """A reaction from a message's menu, or one taken away. Slack tells the bot of one added
        (`reaction_added`: it is in every conversation here); the bot asks for no removals."""
        if not EMOJI_NAME.fullmatch(name) or not self.fake.can_see(person, channel):
            return
        message = self.fake.react(person, channel, ts, name)
        if message is not None:
            event = {"type": "reaction_added", "user": person, "reaction": name, "item_user": message.author,
                     "item": {"type": "message", "channel": channel, "ts": ts}, "event_ts": _now_ts()}  # fmt: skip
            self._event(person, event, f"reaction_added :{name}:")

    def workflow(self, person: str, callback_id: str, channel: str) -> None:
        """The ⚡ menu of a conversation: the form of one of the app's workflow steps."""
        if callback_id in STEPS and self.fake.can_see(person, channel):
            self.fake.push_view(person, workflows.form(callback_id, channel, person))

    def _run_step(self, person: str, view_id: str, values: dict[str, Any]) -> None:
        """The step's form submitted: Workflow Builder's `function_executed`, with the run's token."""
        view = self.fake.view(view_id)
        found = workflows.submitted(view.body, values) if view is not None else None
        if found is None:
            return
        callback_id, step, channel, inputs = found
        missing = {p.name: "Please complete this required field." for p in step.inputs
                   if p.required and p.name not in inputs}  # fmt: skip
        if missing:
            return self.fake.set_errors(view_id, missing)
        if not self.fake.close_view(person, view_id):
            return  # submitted twice at once: it runs once
        execution = self.fake.run_step(person, channel, callback_id)
        event = {
            "type": "function_executed", "inputs": inputs, "function_execution_id": execution,
            "function": {"id": "Fn" + callback_id.upper()[:9], "callback_id": callback_id, "title": step.title,
                         "description": step.description, "type": "app", "app_id": APP_ID,
                         "input_parameters": [], "output_parameters": [], "date_created": 0, "date_updated": 0,
                         "date_deleted": 0},
            "workflow_execution_id": "Wx" + secrets.token_hex(5).upper(), "event_ts": _now_ts(),
            "bot_access_token": self.fake.executions[execution].token,
        }  # fmt: skip
        self._event(person, event, f"function_executed {callback_id}")

    def home_opened(self, person: str, tab: str) -> None:
        """The person opened the app's Home or Messages tab: the `app_home_opened` event."""
        event: dict[str, Any] = {"type": "app_home_opened", "user": person, "channel": self.fake.dm_of(person),
                                 "tab": tab, "event_ts": _now_ts()}  # fmt: skip
        home = self.fake.views.get(self.fake.homes.get(person, ""))
        if home is not None:
            event["view"] = self.fake.slack_view(home)
        self._event(person, event, f"app_home_opened ({tab})")

    def _event(self, person: str, event: dict[str, Any], what: str) -> None:
        """An event of the Events API, in its envelope, as Slack posts it to the bot."""
        envelope = {
            "token": VERIFICATION_TOKEN, "team_id": self.fake.team_id, "api_app_id": APP_ID, "event": event,
            "type": "event_callback", "event_id": "Ev" + secrets.token_hex(5).upper(),
            "event_time": int(wall().timestamp()),
            "authorizations": [{"enterprise_id": None, "team_id": self.fake.team_id, "user_id": BOT_USER,
                                "is_bot": True, "is_enterprise_install": False}],
            "is_ext_shared_channel": False,
        }  # fmt: skip
        self._post(person, lambda: self.signer.event(envelope), what)
