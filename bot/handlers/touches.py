"""Touches and revisits: `/crm touch|revisit|due`, the "Log touch" modal from every surface,
the "Log as touch" message shortcut, touch history paging, edit and delete, and the App Home.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import RequestContext
from bot.clock import local_today
from bot.forms import form_data, metadata
from bot.handlers import common
from bot.handlers.commands import (
    Command,
    reply,
    reply_text,
    resolve_or_reply,
    subcommand,
)
from bot.i18n import format_date, t
from bot.services import customers, touches
from bot.services.dates import split_when
from bot.services.errors import FieldErrors, UserError
from bot.services.members import is_admin
from bot.storage.models import Customer, utcnow
from bot.views import ids
from bot.views.kit import customer_title, escape, section
from bot.views.touches import (
    revisit_modal,
    touch_delete_confirmation,
    touch_history,
    touch_modal,
)

OFF_WORDS = ("off", "never", "none", "关闭", "不回访", "无")


def _today(tb: RequestContext) -> dt.date:
    return local_today(utcnow(), tb.member().tz)


def open_touch_modal(
    tb: RequestContext, client: WebClient, trigger_id: str, customer: Customer | None, **extra: Any
) -> None:
    next_revisit = customer and touches.default_next_revisit(
        session=tb.session, team_id=tb.team_id, customer=customer, today=_today(tb)
    )
    view = touch_modal(tb.locale, now=utcnow(), customer=customer, next_revisit=next_revisit, **extra)
    client.views_open(trigger_id=trigger_id, view=view)


# --- slash sub-commands -------------------------------------------------------------------


@subcommand("touch")
def touch(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    customer = None
    if cmd.args:
        customer = resolve_or_reply(tb, ack, cmd.args, action_id=ids.TOUCH_LOG)
        if customer is None:
            return
    ack()
    open_touch_modal(tb, client, cmd.trigger_id, customer)


@subcommand("revisit")
def revisit(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    today = _today(tb)
    words = cmd.args.split()
    if not words:
        return reply_text(ack, t(tb.locale, "revisit.usage"))
    if len(words) > 1 and words[-1].lower() in OFF_WORDS:
        ref, when = " ".join(words[:-1]), None
    else:
        ref, when = split_when(cmd.args, today)  # also `张伟明天`: Chinese needs no space
        if when is None and len(words) < 2:
            return reply_text(ack, t(tb.locale, "revisit.usage"))
        if when is None or not ref:
            return reply_text(ack, t(tb.locale, "revisit.unreadable", text=escape(cmd.args)))
    customer = resolve_or_reply(tb, ack, ref, action_id=ids.REVISIT_SCHEDULE)
    if customer is None:
        return
    touches.set_revisit(
        session=tb.session, team_id=tb.team_id, actor_id=cmd.user_id, customer=customer, when=when,
        today=today, surface=tb.surface,
    )  # fmt: skip
    name = escape(customer_title(customer))
    if when is None:
        reply_text(ack, t(tb.locale, "revisit.cleared", customer=name))
    else:
        reply_text(ack, t(tb.locale, "revisit.set", customer=name, date=format_date(tb.locale, when)))
    common.refresh_home(tb, client, customer.owner_id)


@subcommand("due")
def due(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    reply(ack, common.due_list(tb), t(tb.locale, "due.now"))


# --- buttons and the shortcut -------------------------------------------------------------


def _respond_error(respond: Respond, tb: RequestContext, err: UserError) -> None:
    respond(text=t(tb.locale, err.key, **err.params), response_type="ephemeral", replace_original=False)


def on_log_touch(ack: Ack, body: dict[str, Any], context: dict[str, Any], client: WebClient, respond: Respond) -> None:
    ack()
    tb: RequestContext = context["tb"]
    value = str(body["actions"][0].get("value") or "")
    customer = None
    if value:
        customer = value.isdigit() and customers.get_customer(session=tb.session, team_id=tb.team_id, viewer=tb.viewer, customer_id=int(value))
        if not customer:
            if body.get("response_url"):
                _respond_error(respond, tb, UserError("error.customer.gone"))
            return
    open_touch_modal(tb, client, body["trigger_id"], customer)


def on_log_touch_shortcut(
    ack: Ack, body: dict[str, Any], shortcut: dict[str, Any], context: dict[str, Any], client: WebClient,
    respond: Respond,
) -> None:  # fmt: skip
    ack()
    tb: RequestContext = context["tb"]
    message = shortcut.get("message") or {}
    text = (message.get("text") or "").strip()
    if not text:
        return _respond_error(respond, tb, UserError("error.shortcut.no_text"))
    channel = (shortcut.get("channel") or {}).get("id")
    try:
        permalink = client.chat_getPermalink(channel=channel, message_ts=message.get("ts"))["permalink"]
    except (SlackApiError, OSError):
        permalink = None  # the touch is still worth logging without its link
    meta = {"permalink": permalink, "speaker": message.get("user")}
    open_touch_modal(tb, client, shortcut["trigger_id"], None, summary=text[:3000], metadata=meta)


def on_touch_submit(ack: Ack, view: dict[str, Any], context: dict[str, Any], client: WebClient) -> None:
    tb: RequestContext = context["tb"]
    meta = metadata(view)
    data = form_data(view)
    touch_id = meta.get("touch_id")
    try:
        if touch_id:
            touch = touches.get_touch(session=tb.session, team_id=tb.team_id, touch_id=int(touch_id))
            if touch is None:
                raise FieldErrors.one("summary", "error.touch.gone")
            data["customer"] = str(touch.customer_id)
            parsed = touches.TouchInput.parse_at(data, now=utcnow())
            touch = touches.update_touch(
                session=tb.session, team_id=tb.team_id, member=tb.member(), touch_id=int(touch_id), data=parsed,
                surface=tb.surface,
            )  # fmt: skip
        else:
            parsed = touches.TouchInput.parse_at(data, now=utcnow())
            touch = touches.log_touch(
                session=tb.session, team_id=tb.team_id, actor_id=tb.user_id or "", data=parsed,
                tz=tb.member().tz, surface=tb.surface, speaker_id=meta.get("speaker"), permalink=meta.get("permalink"),
                viewer=tb.viewer,
            )  # fmt: skip
    except (FieldErrors, UserError) as err:
        return common.refuse(tb, ack, err, "summary")
    ack()
    customer = touch.customer
    name = escape(customer_title(customer))
    if touch_id:
        text = t(tb.locale, "touch.updated", customer=name)
    else:
        revisit = (
            format_date(tb.locale, customer.next_revisit)
            if customer.revisits_enabled and customer.next_revisit
            else None
        )
        text = t(tb.locale, "touch.saved", customer=name, revisit=revisit or t(tb.locale, "revisit.none"))
    author = tb.user_id or ""
    tb.after(lambda later: later.notifier.dm(author, text=text))
    common.refresh_home(tb, client, tb.user_id, customer.owner_id)


def on_touch_history(ack: Ack, body: dict[str, Any], context: dict[str, Any], respond: Respond) -> None:
    ack()
    tb: RequestContext = context["tb"]
    customer_id, offset = common.customer_page(body)
    customer = customers.get_customer(session=tb.session, team_id=tb.team_id, viewer=tb.viewer, customer_id=customer_id)
    if customer is None:
        return _respond_error(respond, tb, UserError("error.customer.gone"))
    found, more = touches.recent_touches(
        session=tb.session, team_id=tb.team_id, customer_id=customer_id, limit=10, offset=offset
    )
    header = section(t(tb.locale, "touch.history", customer=escape(customer_title(customer))))
    page_blocks = touch_history(tb.locale, customer_id, found, more=more, offset=offset, tz=tb.member().tz)
    respond(text=header["text"]["text"], blocks=[header, *page_blocks], response_type="ephemeral", replace_original=False)


def on_touch_menu(ack: Ack, body: dict[str, Any], context: dict[str, Any], client: WebClient, respond: Respond) -> None:
    ack()
    tb: RequestContext = context["tb"]
    choice, _, raw_id = str((body["actions"][0].get("selected_option") or {}).get("value", "")).partition(":")
    touch = raw_id.isdigit() and touches.get_touch(session=tb.session, team_id=tb.team_id, touch_id=int(raw_id))
    if not touch:
        return _respond_error(respond, tb, UserError("error.touch.gone"))
    if touch.author_id != tb.user_id and not is_admin(tb.member()):
        return _respond_error(respond, tb, UserError("error.touch.not_yours"))
    if choice == "edit":
        client.views_open(trigger_id=body["trigger_id"], view=touch_modal(tb.locale, now=utcnow(), touch=touch))
    elif choice == "delete":
        text, body = touch_delete_confirmation(tb.locale, touch, tb.member().tz)
        respond(text=text, blocks=body, response_type="ephemeral", replace_original=False)


def on_touch_delete(ack: Ack, body: dict[str, Any], context: dict[str, Any], client: WebClient, respond: Respond) -> None:
    ack()
    tb: RequestContext = context["tb"]
    value = str(body["actions"][0].get("value") or "")
    try:
        if not value.isdigit():
            raise UserError("error.touch.gone")
        customer = touches.delete_touch(
            session=tb.session, team_id=tb.team_id, member=tb.member(), touch_id=int(value), surface=tb.surface
        )
    except UserError as err:
        return _respond_error(respond, tb, err)
    respond(text=t(tb.locale, "touch.deleted", customer=escape(customer_title(customer))),
            replace_original=True)  # fmt: skip
    common.refresh_home(tb, client, customer.owner_id)


def on_schedule_revisit(ack: Ack, body: dict[str, Any], context: dict[str, Any], client: WebClient, respond: Respond) -> None:
    ack()
    tb: RequestContext = context["tb"]
    value = str(body["actions"][0].get("value") or "")
    customer = value.isdigit() and customers.get_customer(session=tb.session, team_id=tb.team_id, viewer=tb.viewer, customer_id=int(value))
    if not customer:
        return _respond_error(respond, tb, UserError("error.customer.gone"))
    client.views_open(trigger_id=body["trigger_id"], view=revisit_modal(tb.locale, customer))


def on_revisit_submit(ack: Ack, view: dict[str, Any], context: dict[str, Any], client: WebClient) -> None:
    tb: RequestContext = context["tb"]
    data = form_data(view)
    off = "off" in (data.get("off") or [])
    if not off and not data.get("next_revisit"):
        return ack(response_action="errors", errors={"next_revisit": t(tb.locale, "revisit.usage")})
    when = None if off else dt.date.fromisoformat(str(data["next_revisit"]))
    try:
        customer = customers.get_customer(
            session=tb.session, team_id=tb.team_id, viewer=tb.viewer,
            customer_id=int(metadata(view).get("customer_id") or 0),
        )  # fmt: skip
        if customer is None:
            raise UserError("error.customer.gone")
        touches.set_revisit(
            session=tb.session, team_id=tb.team_id, actor_id=tb.user_id or "", customer=customer, when=when,
            today=_today(tb), surface=tb.surface,
        )  # fmt: skip
    except UserError as err:
        return common.refuse(tb, ack, err, "next_revisit")
    ack()
    common.refresh_home(tb, client, customer.owner_id)


def on_home_opened(event: dict[str, Any], context: dict[str, Any], client: WebClient) -> None:
    if event.get("tab") != "home":
        return
    tb: RequestContext = context["tb"]
    common.refresh_home(tb, client, event["user"])


def register(app: Any) -> None:
    app.action(ids.TOUCH_LOG)(on_log_touch)
    app.shortcut(ids.LOG_TOUCH_SHORTCUT)(on_log_touch_shortcut)
    app.view(ids.TOUCH_MODAL)(on_touch_submit)
    app.action(ids.TOUCH_HISTORY)(on_touch_history)
    app.action(ids.TOUCH_MENU)(on_touch_menu)
    app.action(ids.TOUCH_DELETE)(on_touch_delete)
    app.action(ids.REVISIT_SCHEDULE)(on_schedule_revisit)
    app.view(ids.REVISIT_MODAL)(on_revisit_submit)
    app.event("app_home_opened")(on_home_opened)
