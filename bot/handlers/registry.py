"""The one way a listener is registered, and the one place that answers Slack.

A listener is a function `(rq: RequestContext, input: SomeInput) -> Answer`: it reads typed
input (bot.payloads: the second parameter's annotation says which `Input` model), calls a
service, and returns what to show (handlers.answers). The registry wraps it for bolt:

- it reads the input before the listener runs; an input that does not fit is refused;
- a refusal raised anywhere below (`UserError`, `Unreadable`, `FieldErrors`) rolls the unit of
  work back and is answered here, the same way for every listener: a line only the person
  sees, or the message under the modal's field;
- it turns the answer into the call the surface needs: the slash command's ack body, a
  `response_url` post, `views.open` / `views.push`, a modal's `response_action`, options,
  a workflow step's `functions.completeSuccess` / `completeError`; and keeps every view
  within Block Kit's limits before Slack is called (views.kit.fit).

`Registry.listeners` lists every registered listener (kind, id, input): tests walk it.
"""

from __future__ import annotations

import logging
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Complete, Fail, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import payloads
from bot.context import FollowUp, RequestContext
from bot.handlers.answers import (
    Answer,
    ModalAction,
    OpenModal,
    Options,
    Replace,
    Reply,
    StepDone,
    UpdateMessage,
)
from bot.i18n import t
from bot.logs import OUTCOME
from bot.payloads import FieldErrors, Payload, Unreadable
from bot.services.errors import UserError
from bot.views.kit import fit_blocks, fit_view, message_modal, notice

log = logging.getLogger(__name__)

CONTEXT = "touchbase.request"  # bolt context key: the RequestContext
PAYLOAD = "touchbase.payload"  # bolt context key: the typed payload
KINDS = ("command", "action", "view", "options", "shortcut", "event", "function")
BOLT_ORDER = ("command", "action", "view", "options", "event", "shortcut", "function")  # Registry.mount
assert sorted(BOLT_ORDER) == sorted(KINDS), "every kind has its place among bolt's listeners"
Refusal = UserError | Unreadable


class Answered(Exception):
    """Raised by a helper that has the whole answer already (candidates to pick from, no
    match): the listener stops there and the registry sends the answer."""

    def __init__(self, answer: Answer) -> None:
        super().__init__("answered")
        self.answer = answer


@dataclass(frozen=True)
class CommandInput:
    """A sub-command of `/crm`: the word (in English), as typed, and the rest of the text."""

    word: str
    typed: str
    args: str
    trigger_id: str
    channel_id: str | None


@dataclass(frozen=True)
class Listener:
    kind: str  # one of KINDS
    id: str  # sub-command word, action id, callback id, event type
    fn: Callable[..., Answer]
    input: type[Any]  # an Input model, or CommandInput
    field: str | None = None  # a modal's field that shows a refusal
    reads_only: bool = False  # SQLite: runs without taking the write lock
    # Pressed by people of other workspaces (a Slack Connect channel): the request's workspace
    # may be theirs, so a refusal here reads nothing of it (it is said in the default language).
    guests: bool = False

    def read(self, payload: Any) -> Any:
        return self.input.read(payload)


def _input_type(fn: Callable[..., Any]) -> type[Any]:
    hints = typing.get_type_hints(fn)
    params = [p for p in fn.__code__.co_varnames[: fn.__code__.co_argcount]]
    return hints[params[1]]


class Registry:
    def __init__(self, app: App) -> None:
        self.app = app
        self.listeners: list[Listener] = []
        self.routes: dict[str, dict[str, Listener]] = {}  # kind -> id -> listener
        self.subcommands: dict[str, Listener] = {}
        self.split: Callable[[str], tuple[str, str, str]] = lambda text: (text, text, "")
        self.fallback = "help"
        self.slash_command: str | None = None
        self.mounted = False  # handed to bolt (mount): nothing may be registered after

    # --- registering -----------------------------------------------------------------------

    def _add(self, listener: Listener) -> Listener:
        self.listeners.append(listener)
        return listener

    def command(self, word: str, fn: Callable[..., Answer], *, reads_only: bool = False) -> None:
        """A sub-command of `/crm` (`/crm <word> …`)."""
        self.subcommands[word] = self._add(Listener("command", word, fn, CommandInput, reads_only=reads_only))

    def slash(self, command: str, split: Callable[[str], tuple[str, str, str]]) -> None:
        """The slash command itself; `split(text)` gives (word, word as typed, arguments)."""
        assert not self.mounted, "registered after the listeners were handed to bolt"
        self.split, self.slash_command = split, command

    def action(self, action_id: str, fn: Callable[..., Answer], *, reads_only: bool = False, guests: bool = False) -> None:
        """A button or menu; `guests`: people of other workspaces press it (see `Listener.guests`)."""
        self._route(Listener("action", action_id, fn, _input_type(fn), reads_only=reads_only, guests=guests))

    def view(self, callback_id: str, fn: Callable[..., Answer], *, field: str | None = None) -> None:
        self._route(Listener("view", callback_id, fn, _input_type(fn), field=field))

    def options(self, action_id: str, fn: Callable[..., Answer]) -> None:
        self._route(Listener("options", action_id, fn, _input_type(fn), reads_only=True))

    def shortcut(self, callback_id: str, fn: Callable[..., Answer]) -> None:
        self._route(Listener("shortcut", callback_id, fn, _input_type(fn)))

    def event(self, event_type: str, fn: Callable[..., Answer], *, reads_only: bool = False) -> None:
        self._route(Listener("event", event_type, fn, _input_type(fn), reads_only=reads_only))

    def _route(self, listener: Listener) -> None:
        assert not self.mounted, "registered after the listeners were handed to bolt"
        self.routes.setdefault(listener.kind, {})[listener.id] = self._add(listener)

    def function(self, callback_id: str, fn: Callable[..., Answer]) -> None:
        """A Workflow Builder custom step (manifest.yml `functions:`, bolt's `function`
        listener): it completes with the listener's `StepDone` outputs once the unit of work
        is saved, or fails with the refusal's words. It never hangs: an unexpected error
        fails it too."""
        self._route(Listener("function", callback_id, fn, _input_type(fn)))

    def mount(self) -> None:
        """Hand the listeners to bolt, once all are registered: one bolt listener per kind,
        which finds the registry's by its id (an id nobody registered matches nothing: bolt
        answers 404).

        Bolt tries its listeners one after another, calling each one's matcher through its
        argument injection, about 14 µs a listener passed over: with a bolt listener per id
        that was 55 matchers a request, a tenth of `/crm due`'s time. The kinds go in `BOLT_ORDER`:
        the slash command first (what people type: it came last, after eight others), then the
        buttons and the modals of the morning's digests, the type-ahead and the events;
        shortcuts and the workflow steps (one bolt listener for all three), which come seldom,
        last."""
        assert not self.mounted, "the listeners were handed to bolt already"
        self.mounted = True
        register = {"action": self.app.action, "view": self.app.view, "options": self.app.options,
                    "shortcut": self.app.shortcut, "event": self.app.event, "function": self.app.function}  # fmt: skip
        for kind in BOLT_ORDER:
            if kind == "command":
                if self.slash_command is not None:
                    self.app.command(self.slash_command)(self._bolt(lambda _body: None))
                continue
            table = self.routes.get(kind)
            if not table:
                continue
            find = _finder(kind, table)
            run = self._step(find) if kind == "function" else self._bolt(find)
            register[kind](re.compile(".*"), matchers=[_is_for(find)])(run)

    # --- what a request will do ------------------------------------------------------------

    def reads_only(self, payload: Payload) -> bool:
        """Whether the listener this payload reaches only reads (SQLite: no write lock)."""
        if isinstance(payload, payloads.Command):
            word = self.split(payload.text)[0]
            found = self.subcommands.get(word) or self.subcommands.get(self.fallback)
            return bool(found and found.reads_only)
        if isinstance(payload, payloads.BlockSuggestion):
            return True
        kind_id = {
            payloads.EventCallback: lambda p: ("event", p.event.type),
            payloads.BlockActions: lambda p: ("action", p.action.action_id),
        }.get(type(payload))
        if kind_id is None:
            return False
        kind, id_ = kind_id(payload)
        return any(x.reads_only for x in self.listeners if x.kind == kind and x.id == id_)

    # --- running ---------------------------------------------------------------------------

    def _bolt(self, find: Callable[[dict[str, Any]], Listener | None]) -> Callable[..., None]:
        """Bolt's listener: `find(body)` is the registry's listener (None: the slash command)."""
        registry = self

        def run(ack: Ack, context: dict[str, Any], client: WebClient, respond: Respond, body: dict[str, Any]) -> None:
            rq: RequestContext = context[CONTEXT]
            payload: Payload = context[PAYLOAD]
            found, inp, saved = find(body), None, False
            try:
                if found is None:  # the slash command: find the sub-command
                    assert isinstance(payload, payloads.Command)
                    word, typed, args = registry.split(payload.text)
                    found = registry.subcommands.get(word) or registry.subcommands[registry.fallback]
                    inp = CommandInput(word=word, typed=typed, args=args, trigger_id=payload.trigger_id,
                                       channel_id=payload.channel_id)  # fmt: skip
                else:
                    inp = found.read(payload)
                answer = found.fn(rq, inp)
                if isinstance(answer, OpenModal) and not getattr(payload, "trigger_id", None):
                    raise Unreadable()  # a modal opens only with the trigger of a person's act
                saved = not found.reads_only and not found.guests  # a guest's workspace may not be the one saved
            except Answered as done:
                answer = done.answer
            except FieldErrors as errors:
                rq.rollback()
                context[OUTCOME] = "refused"
                answer = ModalAction("errors", errors={
                    field: t(rq.locale, key, **params) for field, (key, params) in errors.errors.items()
                })  # fmt: skip
            except (UserError, Unreadable) as refusal:
                rq.rollback()
                context[OUTCOME] = "refused"
                answer = _refusal(found, rq, refusal)
            kind = found.kind if found is not None else "command"
            _deliver(kind, answer, payload, rq, ack, respond, client, saved=saved)

        return run


    def _step(self, find: Callable[[dict[str, Any]], Listener | None]) -> Callable[..., None]:
        """Bolt's listener of the workflow steps: `find(body)` is the registry's."""

        def run(context: dict[str, Any], complete: Complete, fail: Fail, body: dict[str, Any]) -> None:
            rq: RequestContext = context[CONTEXT]
            listener = find(body)
            assert listener is not None  # bolt's matcher found it
            locale = _team_language(rq)  # a workflow has no person acting: the team's language
            try:
                answer = listener.fn(rq, listener.read(context[PAYLOAD]))
            except FieldErrors as errors:
                rq.rollback()
                return _fail(fail, " ".join(t(locale, key, **params) for key, params in errors.errors.values()))
            except (UserError, Unreadable) as refusal:
                rq.rollback()
                return _fail(fail, t(locale, refusal.key, **refusal.params))
            except Exception:
                _fail(fail, t(locale, "error.generic"))
                raise  # the app rolls the unit of work back and logs it
            outputs = answer.outputs if isinstance(answer, StepDone) else {}
            sorry = t(locale, "error.generic")

            def done(_later: FollowUp) -> None:
                try:
                    complete(outputs=outputs)
                except SlackApiError:  # outputs Slack refused: the workflow must still end
                    log.exception("functions.completeSuccess was refused")
                    _fail(fail, sorry)

            rq.after(done)
            rq.if_lost(lambda: _fail(fail, sorry))

        return run


# Where each kind's id is in the body Slack sends.
_IDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "action": lambda body: body["actions"][0]["action_id"],
    "view": lambda body: body["view"]["callback_id"],
    "options": lambda body: body["action_id"],
    "shortcut": lambda body: body["callback_id"],
    "event": lambda body: body["event"]["type"],
    "function": lambda body: body["event"]["function"]["callback_id"],
}


def _is_for(find: Callable[[dict[str, Any]], Listener | None]) -> Callable[[dict[str, Any]], bool]:
    """Bolt's matcher of a kind's listener (bolt passes the arguments it names: it asks for `body`)."""
    return lambda body: find(body) is not None


def _finder(kind: str, table: dict[str, Listener]) -> Callable[[dict[str, Any]], Listener | None]:
    """The listener of this kind a body is for, or None (not registered, or no id to read)."""
    id_of = _IDS[kind]

    def find(body: dict[str, Any]) -> Listener | None:
        try:
            return table.get(id_of(body))
        except (KeyError, IndexError, TypeError):
            return None

    return find


def _team_language(rq: RequestContext) -> str | None:
    try:
        return rq.settings.language
    except Exception:  # noqa: BLE001 - the database may be what failed: English then
        return None


def _fail(fail: Fail, error: str) -> None:
    try:
        fail(error=error[:2000])
    except Exception:  # noqa: BLE001 - nothing more can be done; Slack ends the step on its own
        log.warning("functions.completeError could not be sent", exc_info=True)


def _refusal(listener: Listener | None, rq: RequestContext, refusal: Refusal) -> Answer:
    locale = None if listener is not None and listener.guests else rq.locale
    text = t(locale, refusal.key, **refusal.params)
    kind = listener.kind if listener else "command"
    if kind == "view":
        if listener is not None and listener.field:
            return ModalAction("errors", errors={listener.field: text})
        return ModalAction("update", view=message_modal(rq.locale, text))
    if kind == "options":
        return Options([])
    if kind == "event":
        return None
    return Reply(text)


def _deliver(kind: str, answer: Answer, payload: Any, rq: RequestContext, ack: Ack, respond: Respond,
             client: WebClient, *, saved: bool) -> None:  # fmt: skip
    """Answer Slack as the surface needs. `saved`: the listener may have written something (it
    does not only read, and was not refused), so a DM that answers it goes with what it wrote."""
    if kind == "command":
        if isinstance(answer, Reply | Replace):
            return ack(text=answer.text, blocks=fit_blocks(answer.blocks or notice(answer.text)),
                       response_type="ephemeral")  # fmt: skip
        if isinstance(answer, OpenModal):
            _open(client, payload, answer.view, rq)
        return ack()
    if kind == "view":
        if isinstance(answer, ModalAction):
            body: dict[str, Any] = {"response_action": answer.action}
            if answer.view is not None:
                body["view"] = fit_view(answer.view)
            if answer.action == "errors":
                body["errors"] = {k: v[:2000] for k, v in answer.errors.items()}
            return ack(**body)
        if isinstance(answer, Reply):
            _dm(rq, answer, saved=saved)
        return ack()
    if kind == "options":
        return ack(options=answer.options[:100] if isinstance(answer, Options) else [])
    response_url = getattr(payload, "response_url", None)
    if isinstance(answer, Reply) and not response_url:  # in a modal or the App Home: nowhere to answer in place
        _dm(rq, answer, saved=saved)
    ack()
    try:
        if isinstance(answer, Reply) and response_url:
            respond(text=answer.text, blocks=fit_blocks(answer.blocks) if answer.blocks else None,
                    response_type="ephemeral", replace_original=False)  # fmt: skip
        elif isinstance(answer, Replace) and response_url:
            respond(text=answer.text, blocks=fit_blocks(answer.blocks) if answer.blocks else None,
                    replace_original=True)  # fmt: skip
        elif isinstance(answer, UpdateMessage):
            client.chat_update(channel=answer.channel, ts=answer.ts, text=answer.text, blocks=fit_blocks(answer.blocks))
        elif isinstance(answer, OpenModal):
            _open(client, payload, answer.view, rq)
    except Exception:  # noqa: BLE001 - the work is done and committed; only telling failed
        log.warning("could not answer %s %s in place", kind, type(answer).__name__, exc_info=True)


def _open(client: WebClient, payload: Any, view: dict[str, Any], rq: RequestContext) -> None:
    trigger = payload.trigger_id  # checked in `run`
    in_modal = isinstance(payload, payloads.BlockActions) and payload.view is not None and payload.view.type == "modal"
    if in_modal:
        client.views_push(trigger_id=trigger, view=fit_view(view))
    else:
        client.views_open(trigger_id=trigger, view=fit_view(view))


def _dm(rq: RequestContext, answer: Reply, *, saved: bool) -> None:
    """The answer by DM: through the outbox with what the request saved (`RequestContext.tell`),
    else after the answer (a refusal or a read writes nothing, and takes no write turn for it)."""
    actor, text, blocks = rq.actor, answer.text, fit_blocks(answer.blocks) if answer.blocks else None
    if saved:
        rq.tell(actor, text, blocks=blocks, about=answer.about)
        return

    def dm(later: FollowUp) -> None:
        later.notifier.dm(actor, text=text, blocks=blocks)

    rq.after(dm)
