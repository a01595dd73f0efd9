"""The one parser: every payload Slack sends is read here into typed input before a listener runs.

Two steps, both here:
1. `parse(body)` reads the envelope of any request into one of the `Payload` models (a slash
   command, a button, a modal submission, a type-ahead, a message shortcut, an event). A body
   that does not fit (no user, no team, an empty `actions`, a state that is not an object, an
   id that is not an id, …) raises `Unreadable`: the app answers with a clear refusal or ignores
   it, and no listener runs.
2. A listener declares the input it needs as an `Input` model (its second parameter's type);
   `Input.read(payload)` reads it from the payload: a button's value (`ButtonInput`), a
   select's choice (`ChoiceInput`), a modal's fields and metadata (`FormInput`), … An input
   that does not fit (a forged or stale button, a number that is not one, a date that is not
   a date) raises `Unreadable` with the refusal the person reads; a modal's field that does not
   fit raises `FieldErrors`, shown under the field.

NUL characters are removed from every string (a database refuses them, no person types them).
Lengths are bounded, ids are Slack ids, numbers are positive and fit a database integer.
"""

from __future__ import annotations

import binascii
import json
import re
from typing import Annotated, Any, ClassVar, Literal, Self
from urllib.parse import unquote

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from bot.services.errors import FieldErrors
from bot.storage.models import INTEGER_MAX

# Slack's ids: a letter saying what it is, then capitals and digits.
TeamId = Annotated[str, StringConstraints(pattern=r"^[TE][A-Z0-9]{1,31}$")]
UserId = Annotated[str, StringConstraints(pattern=r"^[UW][A-Z0-9]{1,31}$")]
ChannelId = Annotated[str, StringConstraints(pattern=r"^[CDG][A-Z0-9]{1,31}$")]
# A row id or a number as a database integer holds it.
Id = Annotated[int, Field(ge=1, le=INTEGER_MAX, strict=False)]
Offset = Annotated[int, Field(ge=0, le=1_000_000)]
Text = Annotated[str, StringConstraints(max_length=40_000)]
Short = Annotated[str, StringConstraints(max_length=2_000)]
# A message's id in its channel: seconds since the epoch, with microseconds (`1764064800.000100`).
Ts = Annotated[str, StringConstraints(pattern=r"^\d{1,12}(\.\d{1,9})?$")]
Name = Annotated[str, StringConstraints(max_length=100)]  # an emoji's, a workflow input's


# --- the body, as bolt reads it -----------------------------------------------------------------


def read_body(text: str, content_type: str | None) -> Any:
    """A request's body as bolt reads it (`slack_bolt.request.internals.parse_body`): JSON, a
    form's `payload` field read as JSON, or the form's fields (a slash command). The same
    answer and the same errors, faster for a form: a modal's submission is a form of about
    7 KB with a percent escape every few characters, which urllib decodes one by one in
    Python (about a quarter of a millisecond, a tenth of the CPU a Log touch takes)."""
    if not text:
        return {}
    if content_type == "application/json" or text.startswith("{"):
        return json.loads(text)
    fields = dict(form_fields(text))
    if "payload" in text:  # bolt asks the text, not the fields
        payload = fields.get("payload")
        return json.loads(payload) if payload is not None else {}
    return fields


def form_fields(text: str) -> list[tuple[str, str]]:
    """`urllib.parse.parse_qsl(text, keep_blank_values=True)`: `&`-separated `name=value`
    pairs, `+` a space, percent escapes UTF-8 (an undecodable sequence becomes U+FFFD)."""
    pairs = []
    for field in text.split("&"):
        if field:
            name, _, value = field.partition("=")
            pairs.append((_unquote_plus(name), _unquote_plus(value)))
    return pairs


_NOT_AN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _unquote_plus(text: str) -> str:
    """`urllib.parse.unquote_plus(text)`. Where it can, binascii's quoted-printable decoder
    (in C) decodes the escapes as `=XX`: for ASCII text without `=` in which every `%` starts
    an escape, it decodes exactly those and copies every other character; urllib the rest."""
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    if text.isascii() and "=" not in text and not _NOT_AN_ESCAPE.search(text):
        return binascii.a2b_qp(text.replace("%", "=")).decode("utf-8", "replace")
    return unquote(text)


class Unreadable(Exception):
    """A payload, or a listener's input in it, that does not fit; `key` is what the person reads."""

    def __init__(self, key: str = "error.unreadable", **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# --- envelopes ------------------------------------------------------------------------------


class Team(_Model):
    id: TeamId


class User(_Model):
    id: UserId
    team_id: TeamId | None = None


class Channel(_Model):
    id: ChannelId


class Option(_Model):
    value: Short = ""


class Action(_Model):
    action_id: Short
    block_id: Short | None = None
    type: Short = "button"
    value: Short | None = None
    selected_option: Option | None = None
    selected_date: Short | None = None
    selected_time: Short | None = None
    selected_user: Short | None = None


class Container(_Model):
    type: Short = "message"
    channel_id: Short | None = None
    message_ts: Short | None = None
    is_ephemeral: bool = False
    view_id: Short | None = None


class StateElement(_Model):
    """One input's state: whichever of these its element type fills."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    type: Short = "plain_text_input"
    value: Text | None = None
    selected_option: Option | None = None
    selected_options: list[Option] = []
    selected_user: Short | None = None
    selected_users: list[Short] = []
    selected_conversation: Short | None = None
    selected_channel: Short | None = None
    selected_date: Short | None = None
    selected_time: Short | None = None
    selected_date_time: int | None = None

    def reading(self) -> Any:
        """The value a person chose, as the services read it."""
        kind = self.type
        if kind in ("static_select", "external_select", "radio_buttons"):
            return self.selected_option.value if self.selected_option else None
        if kind == "users_select":
            return self.selected_user
        if kind == "conversations_select":
            return self.selected_conversation
        if kind == "channels_select":
            return self.selected_channel
        if kind == "datepicker":
            return self.selected_date
        if kind == "timepicker":
            return self.selected_time
        if kind == "datetimepicker":
            return self.selected_date_time
        if kind == "checkboxes":
            return [o.value for o in self.selected_options]
        if kind == "multi_users_select":
            return list(self.selected_users)
        return self.value


class ViewState(_Model):
    values: dict[Short, dict[Short, StateElement]] = {}


class View(_Model):
    id: Short | None = None
    type: Short  # bolt reads it too
    callback_id: Short = ""
    private_metadata: Short = ""
    state: ViewState = ViewState()
    team_id: TeamId | None = None
    app_installed_team_id: TeamId | None = None


class SubmittedView(View):
    callback_id: Short  # bolt finds the listener by it


class Message(_Model):
    text: Text = ""
    ts: Short = ""
    thread_ts: Short | None = None  # in a thread: its first message's (that message's own included)
    parent_user_id: Short | None = None  # a reply's: whose message it answers
    user: Short | None = None
    blocks: list[dict[str, Any]] = []


class _Payload(_Model):
    """What every request has: who acts, in which workspace (`team_id`), from where."""

    surface: ClassVar[str]

    @property
    def team_id(self) -> str:
        raise NotImplementedError

    @property
    def user_id(self) -> str | None:
        raise NotImplementedError


class Command(_Payload):
    surface: ClassVar[str] = "command"
    command: Short
    # As long as a message may be (a long name reaches the modal, cut to fit), and as typed:
    # Slack's escaping of &, < and > undone (mentions keep their brackets).
    text: Text = ""
    team_id_: TeamId = Field(alias="team_id")
    user_id_: UserId = Field(alias="user_id")
    channel_id: ChannelId | None = None
    trigger_id: Short
    response_url: Short | None = None

    @field_validator("text")
    @classmethod
    def _unescaped(cls, text: str) -> str:
        # Slack sends a typed `&`, `<`, `>` as `&amp;`, `&lt;`, `&gt;`; `Granite & Co` is a name.
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    @property
    def team_id(self) -> str:
        return self.team_id_

    @property
    def user_id(self) -> str:
        return self.user_id_


class _Interactive(_Payload):
    team: Team
    user: User

    @property
    def team_id(self) -> str:
        return self.team.id

    @property
    def user_id(self) -> str:
        return self.user.id


class BlockActions(_Interactive):
    surface: ClassVar[str] = "button"
    type: Literal["block_actions"]
    actions: Annotated[list[Action], Field(min_length=1, max_length=1)]
    trigger_id: Short | None = None
    container: Container = Container()
    channel: Channel | None = None
    message: Message | None = None
    response_url: Short | None = None
    view: View | None = None

    @property
    def action(self) -> Action:
        return self.actions[0]


class ViewSubmission(_Interactive):
    surface: ClassVar[str] = "modal"
    type: Literal["view_submission"]
    view: SubmittedView
    trigger_id: Short | None = None


class ViewClosed(_Interactive):
    surface: ClassVar[str] = "modal"
    type: Literal["view_closed"]
    view: SubmittedView


class BlockSuggestion(_Interactive):
    surface: ClassVar[str] = "modal"
    type: Literal["block_suggestion"]
    action_id: Short
    block_id: Short = ""
    value: Annotated[str, StringConstraints(max_length=500)] = ""


class MessageShortcut(_Interactive):
    surface: ClassVar[str] = "shortcut"
    type: Literal["message_action"]
    callback_id: Short
    channel: Channel
    message: Message
    trigger_id: Short
    response_url: Short | None = None


class ReactionItem(_Model):
    """What a reaction is on: a message (`channel`, `ts`), or a file."""

    type: Short = "message"
    channel: ChannelId | None = None
    ts: Ts | None = None


class StepFunction(_Model):
    """The custom step (manifest.yml `functions:`) a `function_executed` event runs."""

    callback_id: Short = ""


class RevokedTokens(_Model):
    """`tokens_revoked`: whose tokens Slack revoked (people's, the bot's)."""

    oauth: list[Short] = Field(default_factory=list, max_length=1000)
    bot: list[Short] = Field(default_factory=list, max_length=1000)


class Event(_Model):
    """The events touchbase subscribes to: `app_home_opened`; `message` in the channels it is
    in (`subtype` says an edit, a deletion, a join…; `user_team` is the speaker's own
    workspace in a Slack Connect channel); `reaction_added`; `function_executed`; and in
    many-workspace mode `app_uninstalled` and `tokens_revoked`."""

    type: Short
    user: Short | None = None
    tab: Short | None = None
    channel: Short | None = None
    # message
    subtype: Short | None = None
    text: Text = ""
    ts: Ts | None = None
    thread_ts: Ts | None = None
    user_team: Short | None = None
    team: Short | None = None
    bot_id: Short | None = None
    deleted_ts: Ts | None = None
    # reaction_added
    reaction: Name | None = None
    item: ReactionItem | None = None
    # function_executed: the inputs are checked by the step that reads them (a bad one is
    # an error the workflow shows, not an unreadable request: the step must never hang)
    function: StepFunction | None = None
    inputs: Annotated[dict[Name, Any], Field(max_length=50)] = {}
    function_execution_id: Short | None = None
    # tokens_revoked
    tokens: RevokedTokens | None = None


class Authorization(_Model):
    team_id: TeamId | None = None
    user_id: Short | None = None
    is_bot: bool = False


class EventCallback(_Payload):
    surface: ClassVar[str] = "event"
    type: Literal["event_callback"]
    team_id_: TeamId = Field(alias="team_id")
    event: Event
    # Who the app is in this workspace: the bot user is the author of what it logs itself.
    authorizations: Annotated[list[Authorization], Field(max_length=10)] = []

    @property
    def bot_user(self) -> str | None:
        return next((a.user_id for a in self.authorizations if a.is_bot and a.user_id), None)

    @property
    def team_id(self) -> str:
        """The workspace the app is installed in, as bolt reads it (`authorizations[0]`; the
        outer `team_id` when that names none, as for an org-wide install, which touchbase
        refuses anyway): in a Slack Connect channel another organisation created, the outer
        `team_id` is theirs."""
        return (self.authorizations[0].team_id if self.authorizations else None) or self.team_id_

    @property
    def user_id(self) -> str | None:
        return self.event.user


Payload = Command | BlockActions | ViewSubmission | ViewClosed | BlockSuggestion | MessageShortcut | EventCallback
_KINDS: dict[str, type[_Payload]] = {
    "block_actions": BlockActions,
    "view_submission": ViewSubmission,
    "view_closed": ViewClosed,
    "block_suggestion": BlockSuggestion,
    "message_action": MessageShortcut,
    "event_callback": EventCallback,
}


def without_nul(value: Any) -> Any:
    """The same JSON value with NUL characters removed from every string."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


def may_hold_nul(text: str) -> bool:
    """Whether a request's text, JSON or a form (whose values may be JSON), can hold a NUL
    character once read: as itself, as `%00` in a form, or as JSON's `\\u0000`, any of whose
    letters a form may percent-encode (`%75` for u, `%30` for 0). Slack's never do."""
    return any(mark in text for mark in ("\x00", "%00", "u0000", "%30", "%75"))


def parse(body: dict[str, Any], *, text: str | None = None) -> Payload:
    """The request's payload, typed; `Unreadable` when it does not fit any kind we handle.
    `text`, the request's text that `body` was read from: where it cannot hold a NUL
    character, the body is not walked to take them out."""
    try:
        if text is None or may_hold_nul(text):
            body = without_nul(body)
        kind = _KINDS.get(str(body.get("type"))) if "command" not in body else Command
        if kind is None:
            raise Unreadable()
        payload = kind.model_validate(body)
    except (ValidationError, RecursionError):  # RecursionError: nested deeper than any payload of Slack's
        raise Unreadable() from None
    _check_team(payload)
    return payload  # type: ignore[return-value]


def _check_team(payload: _Payload) -> None:
    """Which workspace a request acts for: the one of the person acting (`team_id` of a command,
    `team.id` of an interaction), or for an event the installation's (`EventCallback.team_id`).
    A modal belongs to the workspace it was opened in; a submission of a modal of another
    workspace is refused, so it cannot write there."""
    view = getattr(payload, "view", None)
    if view is not None:
        for owner in (view.team_id, view.app_installed_team_id):
            if owner is not None and owner != payload.team_id:
                raise Unreadable("error.other_workspace")


# --- a listener's input -----------------------------------------------------------------------


class Input(_Model):
    """What a listener reads from its payload; `read` raises `Unreadable(refusal)` when it
    does not fit."""

    refusal: ClassVar[str] = "error.unreadable"

    @classmethod
    def values_from(cls, payload: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def read(cls, payload: Any) -> Self:
        try:
            return cls.model_validate(cls.values_from(payload))
        except (ValidationError, ValueError, TypeError, RecursionError):
            raise Unreadable(cls.refusal) from None


def _json_or_scalar(value: str | None, first_field: str) -> Any:
    """A button value: a JSON object names each field; a bare value is the first field."""
    text = (value or "").strip()
    if text.startswith("{"):
        return without_nul(json.loads(text))  # JSON in JSON: its `\\u0000` only reads as NUL here
    return {first_field: text} if text else {}


class ButtonInput(Input):
    """Read from the pressed button's value (`"12"` or `{"customer_id": 12, "offset": 10}`)."""

    @classmethod
    def values_from(cls, payload: BlockActions) -> Any:
        first = next(iter(cls.model_fields))
        fields = _json_or_scalar(payload.action.value, first)
        if not isinstance(fields, dict):
            raise ValueError("not an object")
        return {**fields, "action_id": payload.action.action_id}  # a model that needs it declares it


class ChoiceInput(Input):
    """Read from the chosen option of a select or overflow menu (`value` of the option)."""

    @classmethod
    def values_from(cls, payload: BlockActions) -> Any:
        action = payload.action
        first = next(iter(cls.model_fields))
        chosen = action.selected_option.value if action.selected_option else None
        return {first: chosen or action.selected_date or action.selected_user or action.selected_time,
                "block_id": action.block_id or ""}  # fmt: skip


class NoInput(Input):
    """A listener that needs nothing but its payload's who and where."""

    @classmethod
    def values_from(cls, payload: Any) -> Any:
        return {}


class FormInput(Input):
    """A modal's submission: `form` holds the fields (read by the service's input model, e.g.
    `form: CustomerInput`, whose `parse` raises `FieldErrors` shown under each field), `meta`
    the private metadata the modal was opened with (a model of the subclass's own; metadata
    that does not fit, forged or stale, is `Unreadable`)."""

    refusal: ClassVar[str] = "error.modal.stale"

    @classmethod
    def values_from(cls, payload: ViewSubmission) -> Any:
        values = payload.view.state.values
        form = {block: next(iter(elements.values())).reading() for block, elements in values.items() if elements}
        meta_text = payload.view.private_metadata.strip()
        meta = without_nul(json.loads(meta_text)) if meta_text else {}
        if not isinstance(meta, dict):  # every modal's metadata is a JSON object, or none
            raise ValueError("metadata is not an object")
        return {"form": form, "meta": meta}

    @classmethod
    def read(cls, payload: Any) -> Self:
        try:
            source = cls.values_from(payload)
        except (ValueError, RecursionError):
            raise Unreadable(cls.refusal) from None
        form_type = cls.model_fields["form"].annotation
        form = form_type.parse(source["form"]) if hasattr(form_type, "parse") else source["form"]
        try:
            return cls.model_validate({"form": form, "meta": source["meta"]})
        except ValidationError:
            raise Unreadable(cls.refusal) from None


__all__ = [
    "Action", "BlockActions", "BlockSuggestion", "ButtonInput", "ChoiceInput", "Command", "EventCallback",
    "FieldErrors", "FormInput", "Id", "Input", "MessageShortcut", "NoInput", "Offset", "Payload", "Ts", "Unreadable",
    "UserId", "ViewClosed", "ViewSubmission", "parse",
]  # fmt: skip
