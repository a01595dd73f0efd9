"""Complaints in Slack: `/crm complaint|complaints|resolve`, the "Log as complaint" shortcut,
the two modals, and the buttons on a complaint's DM, channel message and card."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import RequestContext
from bot.forms import form_data, metadata
from bot.handlers import common
from bot.handlers.commands import (
    Command,
    reply,
    reply_text,
    resolve_or_reply,
    subcommand,
)
from bot.i18n import t
from bot.services import complaints, customers
from bot.services.complaints import ComplaintCard, Render
from bot.services.errors import FieldErrors, UserError
from bot.views import ids
from bot.views.complaints import (
    complaint_card,
    complaint_message,
    complaint_modal,
    complaint_title,
    resolve_modal,
)
from bot.views.complaints import complaint_list as complaint_list_view

log = logging.getLogger(__name__)


def _render(tb: RequestContext) -> Render:
    """Messages about a complaint, each in its recipient's language."""

    def render(card: ComplaintCard, kind: str, user_id: str | None) -> dict[str, Any]:
        return complaint_message(tb.locale_of(user_id) if user_id else tb.locale, card, kind)

    return render


def _id(body: dict[str, Any]) -> int:
    value = str(body["actions"][0].get("value") or "")
    if not value.isdigit():
        raise UserError("error.complaint.gone")
    return int(value)


def _tell(tb: RequestContext, respond: Respond, err: UserError) -> None:
    tb.session.rollback()
    respond(text=t(tb.locale, err.key, **err.params), response_type="ephemeral", replace_original=False)


# --- /crm complaint | complaints | resolve ---------------------------------------------------------


@subcommand("complaint")
def complaint(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    customer = None
    if cmd.args:
        customer = resolve_or_reply(tb, ack, cmd.args, action_id=ids.COMPLAINT_NEW)
        if customer is None:
            return
    ack()
    client.views_open(trigger_id=cmd.trigger_id, view=complaint_modal(tb.locale, customer=customer))


LIST_VIEW_WORDS = {"未结": "open", "未解决": "open", "超时": "overdue", "逾期": "overdue", "我的": "mine"}


@subcommand("complaints")
def complaint_list(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    view = (cmd.args or "open").lower()
    view = LIST_VIEW_WORDS.get(view, view)
    if view not in complaints.LIST_VIEWS:
        return reply_text(ack, t(tb.locale, "complaint.list.usage"))
    cards = complaints.list_complaints(
        session=tb.session, team_id=tb.team_id, user_id=cmd.user_id, view=view, default_tz=tb.default_tz
    )
    reply(ack, complaint_list_view(tb.locale, view, cards, limit=complaints.LIST_LIMIT),
          t(tb.locale, f"complaint.list.{view}"))  # fmt: skip


@subcommand("resolve")
def resolve(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    if not cmd.args:
        return reply_text(ack, t(tb.locale, "complaint.resolve.usage"))
    found = complaints.find_complaint(session=tb.session, team_id=tb.team_id, ref=cmd.args)
    complaints.check_can(found, "resolve")
    ack()
    client.views_open(trigger_id=cmd.trigger_id, view=resolve_modal(tb.locale, found))


# --- shortcut and buttons ----------------------------------------------------------------------------


def on_shortcut(ack: Ack, shortcut: dict[str, Any], context: dict[str, Any], client: WebClient) -> None:
    """"Log as complaint" on a message: its text becomes the description, its permalink is kept."""
    ack()
    tb: RequestContext = context["tb"]
    message = shortcut.get("message") or {}
    channel = (shortcut.get("channel") or {}).get("id")
    permalink = None
    try:
        permalink = client.chat_getPermalink(channel=channel, message_ts=message.get("ts"))["permalink"]
    except (SlackApiError, KeyError):
        log.warning("no permalink for a message in %s", channel)
    view = complaint_modal(tb.locale, description=message.get("text"), permalink=permalink)
    client.views_open(trigger_id=shortcut["trigger_id"], view=view)


def on_new(ack: Ack, body: dict[str, Any], context: dict[str, Any], client: WebClient, respond: Respond) -> None:
    ack()
    tb: RequestContext = context["tb"]
    value = str(body["actions"][0].get("value") or "")
    customer = value.isdigit() and customers.get_customer(
        session=tb.session, team_id=tb.team_id, viewer=tb.viewer, customer_id=int(value)
    )
    if not customer:
        return respond(text=t(tb.locale, "error.customer.gone"), response_type="ephemeral", replace_original=False)
    client.views_open(trigger_id=body["trigger_id"], view=complaint_modal(tb.locale, customer=customer))


def on_state_button(ack: Ack, body: dict[str, Any], context: dict[str, Any], respond: Respond) -> None:
    """Acknowledge, Waiting on customer, In progress, Close, Reopen: the message shows the result."""
    ack()
    tb: RequestContext = context["tb"]
    action = ids.COMPLAINT_STATE_BUTTONS[body["actions"][0]["action_id"]]
    try:
        card = complaints.change_state(
            session=tb.session, team_id=tb.team_id, actor_id=tb.user_id or "", complaint_id=_id(body),
            action=action, surface=tb.surface, notifier=tb.notifier, render=_render(tb), default_tz=tb.default_tz,
        )  # fmt: skip
    except UserError as err:
        return _tell(tb, respond, err)
    respond(text=complaint_title(card.complaint), blocks=complaint_card(tb.locale, card),
            replace_original=True)  # fmt: skip


def on_resolve_button(ack: Ack, body: dict[str, Any], context: dict[str, Any], client: WebClient,
                      respond: Respond) -> None:  # fmt: skip
    ack()
    tb: RequestContext = context["tb"]
    try:
        found = complaints.get_complaint(session=tb.session, team_id=tb.team_id, complaint_id=_id(body))
        complaints.check_can(found, "resolve")
    except UserError as err:
        return _tell(tb, respond, err)
    client.views_open(trigger_id=body["trigger_id"], view=resolve_modal(tb.locale, found))


def on_show(ack: Ack, body: dict[str, Any], context: dict[str, Any], respond: Respond) -> None:
    ack()
    tb: RequestContext = context["tb"]
    try:
        found = complaints.get_complaint(session=tb.session, team_id=tb.team_id, complaint_id=_id(body))
    except UserError as err:
        return _tell(tb, respond, err)
    card = complaints.card(session=tb.session, complaint=found, default_tz=tb.default_tz)
    respond(text=complaint_title(found), blocks=complaint_card(tb.locale, card),
            response_type="ephemeral", replace_original=False)  # fmt: skip


# --- modals -----------------------------------------------------------------------------------------


def on_complaint_submit(ack: Ack, view: dict[str, Any], context: dict[str, Any]) -> None:
    tb: RequestContext = context["tb"]
    try:
        data = complaints.ComplaintInput.parse(form_data(view))
        complaints.create_complaint(
            session=tb.session, team_id=tb.team_id, actor_id=tb.user_id or "", data=data,
            permalink=metadata(view).get("permalink"), surface=tb.surface, notifier=tb.notifier, render=_render(tb),
            viewer=tb.viewer,
            default_tz=tb.default_tz,
        )  # fmt: skip
    except FieldErrors as errors:
        return common.refuse(tb, ack, errors, "customer")
    ack()


def on_resolve_submit(ack: Ack, view: dict[str, Any], context: dict[str, Any]) -> None:
    tb: RequestContext = context["tb"]
    complaint_id = metadata(view).get("complaint_id")
    try:
        data = complaints.ResolveInput.parse(form_data(view))
        card = complaints.change_state(
            session=tb.session, team_id=tb.team_id, actor_id=tb.user_id or "", complaint_id=int(complaint_id or 0),
            action="resolve", surface=tb.surface, notifier=tb.notifier, render=_render(tb), resolution=data,
            default_tz=tb.default_tz,
        )  # fmt: skip
    except (FieldErrors, UserError) as err:
        # e.g. someone else resolved it a moment ago: say so where the person is looking
        return common.refuse(tb, ack, err, "resolution")
    ack()
    tb.notifier.dm(tb.user_id or "", text=complaint_title(card.complaint),
                   blocks=complaint_card(tb.locale, card))  # fmt: skip


def register(app: Any) -> None:
    app.shortcut(ids.COMPLAINT_SHORTCUT)(on_shortcut)
    app.action(ids.COMPLAINT_NEW)(on_new)
    app.action(ids.COMPLAINT_SHOW)(on_show)
    app.action(ids.COMPLAINT_RESOLVE)(on_resolve_button)
    for action_id in ids.COMPLAINT_STATE_BUTTONS:
        app.action(action_id)(on_state_button)
    app.view(ids.COMPLAINT_MODAL)(on_complaint_submit)
    app.view(ids.COMPLAINT_RESOLVE_MODAL)(on_resolve_submit)
