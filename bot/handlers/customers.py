"""Customer buttons, the customer modal's submission, and the customer type-ahead."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.app import RequestContext
from bot.forms import form_data, metadata
from bot.handlers import common
from bot.i18n import t
from bot.services import customers
from bot.services.errors import FieldErrors, UserError
from bot.views import ids
from bot.views.customers import customer_list, customer_modal, duplicate_modal
from bot.views.kit import (
    MAX_METADATA,
    customer_option,
    customer_title,
    escape,
    message_modal,
    section,
)

TYPEAHEAD_LIMIT = 20


def _action_value(body: dict[str, Any]) -> str:
    return str(body["actions"][0].get("value") or "")


def _customer_id(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _customer_from_button(tb: RequestContext, body: dict[str, Any]) -> Any:
    """The customer a button names, within this team only (button values can be forged)."""
    customer_id = _customer_id(_action_value(body))
    customer = customer_id and customers.get_customer(session=tb.session, team_id=tb.team_id, viewer=tb.viewer, customer_id=customer_id)
    if not customer:
        raise UserError("error.customer.gone")
    return customer


def on_show(ack: Ack, body: dict[str, Any], context: dict[str, Any], respond: Respond) -> None:
    ack()
    tb: RequestContext = context["tb"]
    customer = _customer_from_button(tb, body)
    card = common.card(tb, customer)
    if body.get("response_url"):
        respond(text=customer_title(customer), blocks=card, response_type="ephemeral", replace_original=False)
    else:  # a button in a modal has nowhere to answer in place: the card goes to the DM
        tb.notifier.dm(tb.user_id or "", text=customer_title(customer), blocks=card)


def on_edit(ack: Ack, body: dict[str, Any], context: dict[str, Any], client: WebClient, respond: Respond) -> None:
    ack()
    tb: RequestContext = context["tb"]
    customer = _customer_from_button(tb, body)  # a UserError is told by the app's error handler
    client.views_open(trigger_id=body["trigger_id"], view=customer_modal(tb.locale, customer=customer))


def on_new(ack: Ack, body: dict[str, Any], context: dict[str, Any], client: WebClient) -> None:
    ack()
    tb: RequestContext = context["tb"]
    view = customer_modal(tb.locale, name=_action_value(body) or None, owner_id=tb.user_id)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def on_find_more(ack: Ack, body: dict[str, Any], context: dict[str, Any], respond: Respond) -> None:
    ack()
    tb: RequestContext = context["tb"]
    try:
        page = json.loads(_action_value(body))
        text, offset = str(page["q"]), max(0, int(page["offset"]))
    except (ValueError, KeyError, TypeError):
        return
    found, more = customers.search_customers(session=tb.session, team_id=tb.team_id, viewer=tb.viewer, text=text, offset=offset)
    header = t(tb.locale, "find.header", text=escape(text))
    next_page = {"q": text, "offset": offset + len(found)} if more else None
    respond(text=header, blocks=customer_list(tb.locale, header, found, more=next_page), replace_original=True)


def on_assign_pick(ack: Ack, body: dict[str, Any], context: dict[str, Any], respond: Respond, client: WebClient) -> None:
    ack()
    tb: RequestContext = context["tb"]
    try:
        pick = json.loads(_action_value(body))
        customer_id, owner_id = int(pick["customer_id"]), str(pick["owner_id"])
    except (ValueError, KeyError, TypeError):
        return
    customer = customers.get_customer(session=tb.session, team_id=tb.team_id, viewer=tb.viewer, customer_id=customer_id)
    text = common.assign_owner(tb, customer, owner_id, client) if customer else t(tb.locale, "error.customer.gone")
    respond(text=text, replace_original=True)


def on_customer_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]) -> None:
    tb: RequestContext = context["tb"]
    locale = tb.locale
    customer_id = metadata(view).get("customer_id")
    try:
        data = customers.CustomerInput.parse(form_data(view))
        if customer_id:
            customer = customers.update_customer(
                session=tb.session, team_id=tb.team_id, actor_id=tb.user_id or "",
                customer_id=int(customer_id), data=data, surface=tb.surface, viewer=tb.viewer,
            )  # fmt: skip
        else:
            same = customers.with_email_or_phone(session=tb.session, team_id=tb.team_id, email=data.email, phone=data.phone)
            pending = data.model_dump_json()
            if same and len(pending) <= MAX_METADATA:
                # A possible duplicate: say so, offer the existing ones, let the caller save anyway.
                return ack(response_action="push", view=duplicate_modal(locale, same, pending))
            customer = customers.create_customer(
                session=tb.session, team_id=tb.team_id, actor_id=tb.user_id or "", data=data, surface=tb.surface
            )
    except FieldErrors as errors:
        return common.refuse(tb, ack, errors, "name")
    ack()
    _saved(tb, customer, "customer.updated" if customer_id else "customer.created")


def _saved(tb: RequestContext, customer: Any, key: str) -> None:
    text = t(tb.locale, key, name=escape(customer.name), number=customer.number)
    tb.notifier.dm(tb.user_id or "", text=text, blocks=[section(text), *common.card(tb, customer)])


def on_duplicate_submit(ack: Ack, view: dict[str, Any], context: dict[str, Any]) -> None:
    """"Save anyway" on the possible-duplicate view: create the customer as first submitted."""
    tb: RequestContext = context["tb"]
    try:
        data = customers.CustomerInput.model_validate_json(view.get("private_metadata") or "{}")
        customer = customers.create_customer(
            session=tb.session, team_id=tb.team_id, actor_id=tb.user_id or "", data=data, surface=tb.surface
        )
    except FieldErrors as errors:  # e.g. someone took the name meanwhile
        tb.session.rollback()
        key, params = next(iter(errors.errors.values()))
        return ack(response_action="update", view=message_modal(tb.locale, t(tb.locale, key, **params)))
    ack(response_action="clear")
    _saved(tb, customer, "customer.created")


def on_customer_options(ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
    tb: RequestContext = context["tb"]
    found, _ = customers.search_customers(session=tb.session, team_id=tb.team_id, viewer=tb.viewer, text=str(body.get("value") or ""), limit=TYPEAHEAD_LIMIT
    )
    ack(options=[customer_option(c) for c in found])


def register(app: Any) -> None:
    app.action(ids.CUSTOMER_SHOW)(on_show)
    app.action(ids.CUSTOMER_EDIT)(on_edit)
    app.action(ids.CUSTOMER_NEW)(on_new)
    app.action(ids.FIND_MORE)(on_find_more)
    app.action(ids.ASSIGN_PICK)(on_assign_pick)
    app.view(ids.CUSTOMER_MODAL)(on_customer_submit)
    app.view(ids.CUSTOMER_DUPLICATE)(on_duplicate_submit)
    app.options(ids.CUSTOMER_PICKER)(on_customer_options)
