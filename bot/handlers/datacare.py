"""Admins' data tools: `/crm audit`, `/crm export`, `/crm erase` (with a confirmation naming the customer)."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot import blocks
from bot.app import RequestContext
from bot.handlers import common
from bot.handlers.commands import Command, command_word, reply, reply_text, resolve_or_reply, subcommand
from bot.messages import t
from bot.services import customers, datacare
from bot.services.errors import UserError
from bot.storage.models import Customer


def upload_to_dm(client: WebClient, user_id: str, *, filename: str, content: bytes, title: str) -> None:
    """Slack's current upload flow (getUploadURLExternal, then completeUploadExternal) into the DM."""
    channel = client.conversations_open(users=user_id)["channel"]["id"]
    client.files_upload_v2(channel=channel, content=content, filename=filename, title=title)


def _admin_customer(tb: RequestContext, ack: Ack, cmd: Command, action_id: str) -> Customer | None:
    datacare.require_admin(tb.member())
    if not cmd.args:
        reply_text(ack, t(tb.locale, "customer.usage", command=command_word(tb.locale, cmd.word)))
        return None
    return resolve_or_reply(tb, ack, cmd.args, action_id=action_id)


@subcommand("audit")
def audit_(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    customer = _admin_customer(tb, ack, cmd, blocks.AUDIT_MORE)
    if customer is not None:
        rows, more = datacare.audit_page(session=tb.session, team_id=tb.team_id, member=tb.member(), customer=customer)
        body = blocks.audit_blocks(tb.locale, customer, rows, more=more, offset=0, tz=tb.member().tz)
        reply(ack, body, t(tb.locale, "audit.title", customer=blocks.customer_title(customer)))


@subcommand("export")
def export(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    datacare.require_admin(tb.member())
    if not cmd.args:
        content = datacare.customers_csv(session=tb.session, team_id=tb.team_id)
        datacare.audit.record(
            session=tb.session, team_id=tb.team_id, actor_id=cmd.user_id, action="export", entity="customer",
            entity_id=None, surface=tb.surface,
        )  # fmt: skip
        upload_to_dm(client, cmd.user_id, filename="customers.csv", content=content, title="customers.csv")
        return reply_text(ack, t(tb.locale, "export.sent", name="customers.csv"))
    customer = resolve_or_reply(tb, ack, cmd.args, action_id=blocks.CUSTOMER_SHOW)
    if customer is None:
        return
    content = datacare.export_customer(
        session=tb.session, team_id=tb.team_id, member=tb.member(), customer=customer, surface=tb.surface
    )
    name = f"customer-{customer.number}.json"
    upload_to_dm(client, cmd.user_id, filename=name, content=content, title=name)
    reply_text(ack, t(tb.locale, "export.sent", name=name))


@subcommand("erase")
def erase(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    customer = _admin_customer(tb, ack, cmd, blocks.CUSTOMER_SHOW)
    if customer is not None:
        reply(ack, blocks.erase_confirmation(tb.locale, customer), t(tb.locale, "erase.ask", customer=customer.name))


@subcommand("merge")
def merge(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    datacare.require_admin(tb.member())
    pair = customers.split_pair(session=tb.session, team_id=tb.team_id, text=cmd.args)
    if pair is None:
        return reply_text(ack, t(tb.locale, "merge.usage"))
    source, target = pair
    if source.id == target.id:
        return reply_text(ack, t(tb.locale, "merge.same"))
    reply(ack, blocks.merge_confirmation(tb.locale, source, target), t(tb.locale, "merge.ask", source=source.name,
                                                                       target=target.name))  # fmt: skip


def on_merge(ack: Ack, body: dict[str, Any], context: dict[str, Any], respond: Respond) -> None:
    ack()
    tb: RequestContext = context["tb"]
    try:
        pair = json.loads(str(body["actions"][0].get("value") or "{}"))
        source_id, target_id = int(pair["source"]), int(pair["target"])
    except (ValueError, KeyError, TypeError):
        return
    datacare.require_admin(tb.member())
    target = customers.merge_customers(session=tb.session, team_id=tb.team_id, actor_id=tb.user_id or "",
                                       source_id=source_id, target_id=target_id, surface=tb.surface)  # fmt: skip
    respond(text=t(tb.locale, "merge.done", target=blocks.escape(blocks.customer_title(target))), replace_original=True)


def on_erase(ack: Ack, body: dict[str, Any], context: dict[str, Any], respond: Respond) -> None:
    ack()
    tb: RequestContext = context["tb"]
    value = str(body["actions"][0].get("value") or "")
    try:
        customer = datacare.erase_customer(
            session=tb.session, team_id=tb.team_id, member=tb.member(),
            customer_id=int(value) if value.isdigit() else 0, surface=tb.surface, locale=tb.locale,
        )  # fmt: skip
    except UserError as err:
        return respond(text=t(tb.locale, err.key, **err.params), response_type="ephemeral", replace_original=False)
    number = customer.number
    tb.session.commit()
    datacare.purge_freed_pages(tb.session.get_bind())
    respond(text=t(tb.locale, "erase.done", number=number), replace_original=True)


def on_audit_more(ack: Ack, body: dict[str, Any], context: dict[str, Any], respond: Respond) -> None:
    ack()
    tb: RequestContext = context["tb"]
    customer_id, offset = common.customer_page(body)  # a candidate button gives a bare id: page one
    customer = customers.get_customer(session=tb.session, team_id=tb.team_id, viewer=tb.viewer, customer_id=customer_id)
    try:
        if customer is None:
            raise UserError("error.customer.gone")
        rows, more = datacare.audit_page(
            session=tb.session, team_id=tb.team_id, member=tb.member(), customer=customer, offset=offset
        )
    except UserError as err:
        return respond(text=t(tb.locale, err.key, **err.params), response_type="ephemeral", replace_original=False)
    body_ = blocks.audit_blocks(tb.locale, customer, rows, more=more, offset=offset, tz=tb.member().tz)
    respond(text=t(tb.locale, "audit.title", customer=customer.name), blocks=body_, replace_original=False)


def register(app: Any) -> None:
    app.action(blocks.CUSTOMER_ERASE)(on_erase)
    app.action(blocks.AUDIT_MORE)(on_audit_more)
    app.action(blocks.CUSTOMER_MERGE)(on_merge)
