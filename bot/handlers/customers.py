"""Customers: `/crm new|find|show|edit|assign`, their buttons, the customer modal and its
possible-duplicate view, and the customer type-ahead of every picker."""

from __future__ import annotations

import re

from pydantic import Field

from bot.context import RequestContext
from bot.handlers.answers import Answer, ModalAction, OpenModal, Options, Replace, Reply
from bot.handlers.commands import command_word, customer_named, usage
from bot.handlers.home import refresh_home
from bot.handlers.inputs import CustomerButton
from bot.handlers.registry import CommandInput, Registry
from bot.i18n import t
from bot.payloads import (
    BlockSuggestion,
    ButtonInput,
    FormInput,
    Id,
    Input,
    Offset,
    Short,
    UserId,
)
from bot.services import customers, find, notices, profiles
from bot.services.customers import CustomerInput, PossibleDuplicates
from bot.services.errors import FieldErrors
from bot.services.notices import ASSIGNED, NAMES, Said
from bot.views import ids
from bot.views.customers import (
    customer_modal,
    duplicate_modal,
    profile_answer,
    search_results,
)
from bot.views.kit import (
    MAX_METADATA,
    customer_option,
    customer_title,
    escape,
    message_modal,
)

TYPEAHEAD_LIMIT = 20
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


# --- inputs -----------------------------------------------------------------------------------


class NewButton(ButtonInput):
    name: Short = ""


class SearchPage(ButtonInput):
    q: Short
    offset: Offset


class AssignPick(ButtonInput):
    refusal = "error.customer.gone"
    customer_id: Id
    owner_id: UserId


class CustomerMeta(Input):
    customer_id: Id | None = None


class CustomerForm(FormInput):
    form: CustomerInput
    meta: CustomerMeta = CustomerMeta()


class DuplicateForm(FormInput):
    """"Save anyway": the customer as first submitted is the view's metadata."""

    form: dict[str, object] = Field(default_factory=dict)
    meta: CustomerInput


class Typed(Input):
    text: str

    @classmethod
    def values_from(cls, payload: BlockSuggestion) -> dict[str, str]:
        return {"text": payload.value}


# --- sub-commands -----------------------------------------------------------------------------


def new(rq: RequestContext, cmd: CommandInput) -> Answer:
    return OpenModal(customer_modal(rq.locale, name=cmd.args or None, owner_id=rq.actor, currency=rq.settings.currency))


def find_(rq: RequestContext, cmd: CommandInput) -> Answer:
    if not cmd.args:
        return usage(rq, "find.usage")
    return _page(rq, cmd.args, 0, Reply)


def show(rq: RequestContext, cmd: CommandInput) -> Answer:
    if not cmd.args:
        return usage(rq, "customer.usage", command=command_word(rq.locale, "show"))
    customer = customer_named(rq, cmd.args, action_id=ids.CUSTOMER_SHOW)
    return Reply(*_card(rq, customer.id))


def edit(rq: RequestContext, cmd: CommandInput) -> Answer:
    if not cmd.args:
        return usage(rq, "customer.usage", command=command_word(rq.locale, "edit"))
    customer = customer_named(rq, cmd.args, action_id=ids.CUSTOMER_EDIT, to_record=True)
    return OpenModal(customer_modal(rq.locale, customer=customer, currency=rq.settings.currency))


def assign(rq: RequestContext, cmd: CommandInput) -> Answer:
    """`assign <customer> @user`: the mention is the last word."""
    ref, _, last = cmd.args.rpartition(" ")
    mention = MENTION.match(last)
    if not ref.strip() or not mention:
        return usage(rq, "assign.usage")
    owner_id = mention.group(1)
    value = '{"customer_id": {id}, "owner_id": "%s"}' % owner_id
    customer = customer_named(rq, ref, action_id=ids.ASSIGN_PICK, value=value)
    return Reply(assign_to(rq, customer.id, owner_id))


# --- buttons ------------------------------------------------------------------------------------


def show_button(rq: RequestContext, inp: CustomerButton) -> Answer:
    return Reply(*_card(rq, inp.customer_id))


def edit_button(rq: RequestContext, inp: CustomerButton) -> Answer:
    customer = customers.get_customer(session=rq.session, viewer=rq.viewer, customer_id=inp.customer_id, to_record=True)
    return OpenModal(customer_modal(rq.locale, customer=customer, currency=rq.settings.currency))


def new_button(rq: RequestContext, inp: NewButton) -> Answer:
    return OpenModal(customer_modal(rq.locale, name=inp.name or None, owner_id=rq.actor, currency=rq.settings.currency))


def more_found(rq: RequestContext, inp: SearchPage) -> Answer:
    return _page(rq, inp.q, inp.offset, Replace)


def assign_pick(rq: RequestContext, inp: AssignPick) -> Answer:
    return Replace(assign_to(rq, inp.customer_id, inp.owner_id))


def typeahead(rq: RequestContext, inp: Typed) -> Answer:
    found, _ = find.search_customers(session=rq.session, viewer=rq.viewer, text=inp.text, limit=TYPEAHEAD_LIMIT)
    return Options([customer_option(c) for c in found])


# --- the modal -----------------------------------------------------------------------------------


def save(rq: RequestContext, inp: CustomerForm) -> Answer:
    """New customer or edit; a new one whose e-mail or phone others have first shows them."""
    if inp.meta.customer_id:
        customer = customers.update_customer(session=rq.session, viewer=rq.viewer, customer_id=inp.meta.customer_id,
                                             data=inp.form, surface=rq.surface)  # fmt: skip
        _confirm(rq, customer.id, updated=True)
        return None
    pending = inp.form.model_dump_json()
    anyway = len(pending) > MAX_METADATA  # too long to carry to "Save anyway": save it as it is
    saved = customers.new_customer(session=rq.session, viewer=rq.viewer, data=inp.form, surface=rq.surface,
                                   anyway=anyway)  # fmt: skip
    if isinstance(saved, PossibleDuplicates):
        return ModalAction("push", view=duplicate_modal(rq.locale, saved.same, pending))
    _confirm(rq, saved.id, updated=False)
    return None


def save_anyway(rq: RequestContext, inp: DuplicateForm) -> Answer:
    try:
        customer = customers.new_customer(session=rq.session, viewer=rq.viewer, data=inp.meta, surface=rq.surface,
                                          anyway=True)  # fmt: skip
    except FieldErrors as refusal:  # e.g. someone took the name meanwhile: say so in the modal
        rq.rollback()
        key, params = next(iter(refusal.errors.values()))
        return ModalAction("update", view=message_modal(rq.locale, t(rq.locale, key, **params)))
    assert not isinstance(customer, PossibleDuplicates)
    _confirm(rq, customer.id, updated=False)
    return ModalAction("clear")


# --- shared -------------------------------------------------------------------------------------


def _card(rq: RequestContext, customer_id: int) -> tuple[str, list]:  # type: ignore[type-arg]
    profile = profiles.profile(session=rq.session, viewer=rq.viewer, customer_id=customer_id, now=rq.now, tz=rq.tz,
                               default_tz=rq.default_tz)  # fmt: skip
    return profile_answer(rq.locale, profile)


def _page(rq: RequestContext, text: str, offset: int, answer: type[Reply] | type[Replace]) -> Answer:
    found, more = find.search_customers(session=rq.session, viewer=rq.viewer, text=text, offset=offset)
    next_page = {"q": text, "offset": offset + len(found)} if more else None
    return answer(*search_results(rq.locale, text, found, more=next_page))


def assign_to(rq: RequestContext, customer_id: int, owner_id: str) -> str:
    """Make `owner_id` the owner; they are told by DM through the outbox and both App Homes are
    asked for again (refresh_home). Returns the caller's confirmation."""
    done = customers.assign_customer(session=rq.session, viewer=rq.viewer, customer_id=customer_id, owner_id=owner_id,
                                     surface=rq.surface, directory=rq.directory)  # fmt: skip
    name = escape(customer_title(done.customer))
    if done.changed:  # in their language, which the sender asks Slack for (services.notices)
        notice = {"render": ASSIGNED, "team_id": rq.team_id, "user_id": owner_id, "actor": rq.actor,
                  "customer_id": customer_id, "if_refused": rq.if_refused,
                  NAMES: [customer_id]}  # fmt: skip
        key = f"{ASSIGNED}:{customer_id}:{owner_id}:{rq.now.isoformat()}"
        rq.say(Said(owner_id, key, notice))
        refresh_home(rq, owner_id, done.previous)
    return t(rq.locale, "assign.done" if done.changed else "assign.same", customer=name, owner=owner_id)


def _confirm(rq: RequestContext, customer_id: int, *, updated: bool) -> None:
    """The saved customer's card in the author's DM, written into the outbox with it and built by
    the worker's sender as they see it then (scheduler.said): a courtesy that goes only if the
    customer was saved, and never undoes it."""
    card = {"render": notices.CARD, "team_id": rq.team_id, "user_id": rq.actor, "customer_id": customer_id,
            "updated": updated, "default_tz": rq.default_tz, NAMES: [customer_id],
            "if_refused": rq.if_refused}  # fmt: skip
    key = f"{notices.CARD}:{customer_id}:{'updated' if updated else 'created'}:{rq.now.isoformat()}"
    rq.say(Said(rq.actor, key, card))


def register(on: Registry) -> None:
    on.command("new", new, reads_only=True)
    on.command("find", find_, reads_only=True)
    on.command("show", show, reads_only=True)
    on.command("edit", edit, reads_only=True)
    on.command("assign", assign)
    on.action(ids.CUSTOMER_SHOW, show_button, reads_only=True)
    on.action(ids.CUSTOMER_EDIT, edit_button, reads_only=True)
    on.action(ids.CUSTOMER_NEW, new_button, reads_only=True)
    on.action(ids.FIND_MORE, more_found, reads_only=True)
    on.action(ids.ASSIGN_PICK, assign_pick)
    on.view(ids.CUSTOMER_MODAL, save, field="name")
    on.view(ids.CUSTOMER_DUPLICATE, save_anyway)
    on.options(ids.CUSTOMER_PICKER, typeahead)

