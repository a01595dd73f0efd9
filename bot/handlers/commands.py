"""`/crm <sub-command> …`: one router, one small function per sub-command.

Replies to a slash command go in the ack body, which Slack shows to the caller only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot import blocks
from bot.app import RequestContext
from bot.messages import t
from bot.services import complaints, customers
from bot.services.errors import UserError
from bot.storage.models import Customer

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


@dataclass(frozen=True)
class Command:
    word: str
    args: str
    trigger_id: str
    user_id: str
    channel_id: str | None


Handler = Callable[[RequestContext, Command, Ack, WebClient], None]
SUBCOMMANDS: dict[str, Handler] = {}


def subcommand(*words: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for word in words:
            SUBCOMMANDS[word] = fn
        return fn

    return register


def reply(ack: Ack, blocks_: list[dict[str, Any]], text: str) -> None:
    ack(text=text, blocks=blocks_, response_type="ephemeral")


def reply_text(ack: Ack, text: str) -> None:
    reply(ack, [blocks.section(text)], text)


def resolve_or_reply(
    tb: RequestContext, ack: Ack, ref: str, *, action_id: str, value: Callable[[Customer], str] | None = None
) -> Customer | None:
    """The customer `ref` names; otherwise answer with the candidates or "no match" and None."""
    match = customers.resolve_customer(session=tb.session, team_id=tb.team_id, ref=ref)
    if match.customer is not None:
        return match.customer
    locale = tb.locale
    if not match.candidates:
        reply(ack, blocks.no_match(locale, ref), t(locale, "customer.none", text=ref))
        return None
    labels = {blocks.CUSTOMER_EDIT: "button.edit", blocks.COMPLAINT_NEW: "button.log_complaint"}
    label = labels.get(action_id, "button.show")
    body = [blocks.section(t(locale, "customer.ambiguous", text=blocks.escape(ref)))]
    for c in match.candidates:
        v = value(c) if value else str(c.id)
        body.append(blocks.section(blocks.customer_line(c), blocks.button(t(locale, label), action_id, v)))
    reply(ack, body, t(locale, "customer.ambiguous", text=ref))
    return None


@subcommand("help")
def help_(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    unknown = cmd.word if cmd.word and cmd.word not in SUBCOMMANDS else None
    reply(ack, blocks.help_blocks(tb.locale, unknown), t(tb.locale, "help.title"))


@subcommand("new")
def new(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    ack()
    view = blocks.customer_modal(tb.locale, name=cmd.args or None, owner_id=cmd.user_id)
    client.views_open(trigger_id=cmd.trigger_id, view=view)


@subcommand("find")
def find(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    if not cmd.args:
        return reply_text(ack, t(tb.locale, "find.usage"))
    found, more = customers.search_customers(session=tb.session, team_id=tb.team_id, text=cmd.args)
    if not found:
        return reply(ack, blocks.no_match(tb.locale, cmd.args), t(tb.locale, "find.none", text=cmd.args))
    header = t(tb.locale, "find.header", text=blocks.escape(cmd.args))
    next_page = {"q": cmd.args, "offset": len(found)} if more else None
    reply(ack, blocks.customer_list(tb.locale, header, found, more=next_page), header)


@subcommand("show")
def show(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    if not cmd.args:
        return reply_text(ack, t(tb.locale, "customer.usage", command="show"))
    customer = resolve_or_reply(tb, ack, cmd.args, action_id=blocks.CUSTOMER_SHOW)
    if customer is not None:
        reply(ack, customer_card(tb, customer), blocks.customer_title(customer))


def customer_card(tb: RequestContext, customer: Customer) -> list[dict[str, Any]]:
    """The profile card with the customer's open complaints (shared with the Show button)."""
    open_complaints = complaints.open_complaints_of(
        session=tb.session, team_id=tb.team_id, customer_id=customer.id, default_tz=tb.default_tz
    )
    return blocks.customer_card(tb.locale, customer) + blocks.customer_complaints(tb.locale, open_complaints)


@subcommand("edit")
def edit(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    if not cmd.args:
        return reply_text(ack, t(tb.locale, "customer.usage", command="edit"))
    customer = resolve_or_reply(tb, ack, cmd.args, action_id=blocks.CUSTOMER_EDIT)
    if customer is not None:
        ack()
        client.views_open(trigger_id=cmd.trigger_id, view=blocks.customer_modal(tb.locale, customer=customer))


@subcommand("assign")
def assign(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    ref, _, last = cmd.args.rpartition(" ")
    mention = MENTION.match(last)
    if not ref.strip() or not mention:
        return reply_text(ack, t(tb.locale, "assign.usage"))
    owner_id = mention.group(1)
    customer = resolve_or_reply(
        tb, ack, ref, action_id=blocks.ASSIGN_PICK,
        value=lambda c: json.dumps({"customer_id": c.id, "owner_id": owner_id}),
    )  # fmt: skip
    if customer is not None:
        reply_text(ack, assign_owner(tb, customer, owner_id))


def assign_owner(tb: RequestContext, customer: Customer, owner_id: str) -> str:
    """Assign and return the confirmation for the caller (shared with the candidate button)."""
    name = blocks.escape(blocks.customer_title(customer))
    notice = t(tb.locale_of(owner_id), "assign.notice", actor=tb.user_id, customer=name)
    result = customers.assign_customer(
        session=tb.session, team_id=tb.team_id, actor_id=tb.user_id or "", customer=customer,
        owner_id=owner_id, surface=tb.surface, notifier=tb.notifier, notice=notice,
    )  # fmt: skip
    return t(tb.locale, "assign.done" if result.changed else "assign.same", customer=name, owner=owner_id)


def on_crm(ack: Ack, command: dict[str, Any], context: dict[str, Any], client: WebClient) -> None:
    tb: RequestContext = context["tb"]
    word, _, args = (command.get("text") or "").strip().partition(" ")
    cmd = Command(
        word=word.lower(),
        args=args.strip(),
        trigger_id=command.get("trigger_id", ""),
        user_id=command["user_id"],
        channel_id=command.get("channel_id"),
    )
    handler = SUBCOMMANDS.get(cmd.word, help_)
    try:
        handler(tb, cmd, ack, client)
    except UserError as err:
        tb.session.rollback()
        reply_text(ack, t(tb.locale, err.key, **err.params))


def register(app: Any) -> None:
    app.command("/crm")(on_crm)
