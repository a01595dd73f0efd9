"""The buttons in scheduled messages: Snooze, pick a date, Reassign, and the digest settings.

Snooze and Reassign answer in place: the digest is updated (`chat.update`) so the item
shows what was done to it, and the other items keep their buttons.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.app import RequestContext
from bot.forms import form_data
from bot.handlers import common
from bot.i18n import t
from bot.services import customers, reminders
from bot.services.errors import FieldErrors, UserError
from bot.views import ids
from bot.views.kit import customer_title, escape, section
from bot.views.revisits import digest_modal, revisit_customer_id, revisit_item_answered


def _action(body: dict[str, Any]) -> dict[str, Any]:
    return body["actions"][0]


def _answer_in_place(
    tb: RequestContext, client: WebClient, respond: Respond, body: dict[str, Any], customer_id: int, text: str
) -> None:
    """Show what was done where the button was: the DM (chat.update), the `/crm due` answer
    (its response_url), or the App Home (republished)."""
    container = body.get("container") or {}
    if container.get("type") == "view":
        return common.refresh_home(tb, client, tb.user_id)
    if container.get("is_ephemeral") or not body.get("message"):
        return respond(text=text, blocks=[section(text), *common.due_list(tb)], replace_original=True)
    answered = revisit_item_answered(body["message"].get("blocks") or [], customer_id, text)
    client.chat_update(channel=container["channel_id"], ts=container["message_ts"], text=text, blocks=answered)


def _snooze(tb: RequestContext, body: dict[str, Any], client: WebClient, respond: Respond, until: Any) -> None:
    action = _action(body)
    customer_id = revisit_customer_id(action.get("block_id"))
    today = reminders.today_of(session=tb.session, team_id=tb.team_id, member=tb.member())
    try:
        if customer_id is None:
            raise UserError("error.customer.gone")
        customer = reminders.snooze_revisit(
            session=tb.session, team_id=tb.team_id, actor_id=tb.user_id or "", customer_id=customer_id,
            until=until(today), today=today, surface=tb.surface,
        )  # fmt: skip
    except UserError as err:
        tb.session.rollback()
        return respond(text=t(tb.locale, err.key, **err.params), response_type="ephemeral", replace_original=False)
    text = t(tb.locale, "snooze.done", customer=escape(customer_title(customer)),
             date=customer.next_revisit)  # fmt: skip
    _answer_in_place(tb, client, respond, body, customer.id, text)


def on_snooze(ack: Ack, body: dict[str, Any], context: dict[str, Any], client: WebClient, respond: Respond) -> None:
    ack()
    days = str((_action(body).get("selected_option") or {}).get("value") or "")
    _snooze(context["tb"], body, client, respond, lambda today: reminders.snooze_until(today, days))


def on_snooze_date(
    ack: Ack, body: dict[str, Any], context: dict[str, Any], client: WebClient, respond: Respond
) -> None:
    ack()
    picked = dt.date.fromisoformat(str(_action(body).get("selected_date")))
    _snooze(context["tb"], body, client, respond, lambda _today: picked)


def on_reassign(ack: Ack, body: dict[str, Any], context: dict[str, Any], client: WebClient, respond: Respond) -> None:
    ack()
    tb: RequestContext = context["tb"]
    action = _action(body)
    customer_id = revisit_customer_id(action.get("block_id"))
    owner_id = str(action.get("selected_user") or "")
    customer = customers.get_customer(session=tb.session, team_id=tb.team_id, viewer=tb.viewer, customer_id=customer_id or 0)
    if customer is None:
        raise UserError("error.customer.gone")  # told by the app's error handler
    _answer_in_place(tb, client, respond, body, customer.id, common.assign_owner(tb, customer, owner_id, client))


def on_digest_settings(ack: Ack, body: dict[str, Any], context: dict[str, Any], client: WebClient) -> None:
    ack()
    tb: RequestContext = context["tb"]
    member = tb.member()
    time = reminders.digest_time_of(session=tb.session, team_id=tb.team_id, member=member)
    view = digest_modal(tb.locale, enabled=member.digest_enabled, time=time)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def on_digest_submit(ack: Ack, view: dict[str, Any], context: dict[str, Any]) -> None:
    tb: RequestContext = context["tb"]
    data = form_data(view)
    enabled = data.get(ids.FIELD_DIGEST_ENABLED) != "off"
    try:
        member = reminders.set_digest(
            session=tb.session, team_id=tb.team_id, user_id=tb.user_id or "",
            enabled=enabled, time=data.get(ids.FIELD_DIGEST_TIME),
        )  # fmt: skip
    except FieldErrors as errors:
        return common.refuse(tb, ack, errors, ids.FIELD_DIGEST_TIME)
    ack()
    key = "digest.saved.on" if enabled else "digest.saved.off"
    tb.notifier.dm(tb.user_id or "", text=t(tb.locale, key, time=member.digest_time))


def register(app: Any) -> None:
    app.action(ids.REVISIT_SNOOZE)(on_snooze)
    app.action(ids.REVISIT_SNOOZE_DATE)(on_snooze_date)
    app.action(ids.CUSTOMER_REASSIGN)(on_reassign)
    app.action(ids.DIGEST_SETTINGS)(on_digest_settings)
    app.view(ids.DIGEST_MODAL)(on_digest_submit)
