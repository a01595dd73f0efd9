"""Touches and revisits: `/crm touch|revisit|due`, the "Log touch" modal from every surface,
the "Log as touch" message shortcut, touch history paging, edit and delete, and the
"Schedule revisit" modal."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from bot.context import RequestContext
from bot.handlers.answers import Answer, OpenModal, Replace, Reply
from bot.handlers.commands import customer_named, usage
from bot.handlers.home import refresh_home
from bot.handlers.inputs import (
    CustomerButton,
    CustomerPage,
    ShortcutMessage,
    TouchButton,
)
from bot.handlers.registry import CommandInput, Registry
from bot.i18n import format_date, t
from bot.payloads import (
    ButtonInput,
    ChoiceInput,
    FormInput,
    Id,
    Input,
    Short,
)
from bot.services import customers, home, touches
from bot.services.dates import split_when
from bot.services.errors import FieldErrors, UserError
from bot.services.notices import GIVEN, NAMES, Said
from bot.storage.models import INTEGER_MAX, Customer
from bot.views import ids
from bot.views.followups import promised_text
from bot.views.kit import customer_title, escape
from bot.views.revisits import due_answer
from bot.views.touches import (
    revisit_modal,
    touch_delete_confirmation,
    touch_history_page,
    touch_modal,
)

OFF_WORDS = ("off", "never", "none", "关闭", "不回访", "无")


# --- inputs -----------------------------------------------------------------------------------


class LogTouchButton(ButtonInput):
    """"Log touch": for a customer, or (value "") to pick one in the modal."""

    refusal = "error.customer.gone"
    customer_id: Id | None = None


class TouchChoice(ChoiceInput):
    """The ⋯ menu of a touch: `edit:<id>` or `delete:<id>`."""

    refusal = "error.touch.gone"
    choice: Short
    block_id: str = ""

    @property
    def what(self) -> tuple[Literal["edit", "delete"], int]:
        verb, _, number = self.choice.partition(":")
        if verb not in ("edit", "delete") or not number.isdigit() or not 0 < int(number) <= INTEGER_MAX:
            raise UserError("error.touch.gone")
        return verb, int(number)  # type: ignore[return-value]


class TouchMeta(Input):
    touch_id: Id | None = None
    permalink: Short | None = None
    speaker: Short | None = None


class TouchForm(FormInput):
    form: dict[str, object]
    meta: TouchMeta = TouchMeta()


class RevisitMeta(Input):
    customer_id: Id


class RevisitForm(FormInput):
    form: dict[str, object]
    meta: RevisitMeta


# --- sub-commands -----------------------------------------------------------------------------


def touch(rq: RequestContext, cmd: CommandInput) -> Answer:
    customer = customer_named(rq, cmd.args, action_id=ids.TOUCH_LOG, to_record=True) if cmd.args else None
    return _touch_modal(rq, customer)


def revisit(rq: RequestContext, cmd: CommandInput) -> Answer:
    """`revisit <customer> <when>`: the date is the longest readable date at the end, read in
    the caller's time zone; `off` turns revisits off."""
    today = rq.today
    words = cmd.args.split()
    if not words:
        return usage(rq, "revisit.usage")
    if len(words) > 1 and words[-1].lower() in OFF_WORDS:
        ref, when = " ".join(words[:-1]), None
    else:
        ref, when = split_when(cmd.args, today)  # also `张伟明天`: Chinese needs no space
        if when is None and len(words) < 2:
            return usage(rq, "revisit.usage")
        if when is None or not ref:
            return usage(rq, "revisit.unreadable", text=escape(cmd.args))
    found = customer_named(rq, ref, action_id=ids.REVISIT_SCHEDULE)
    customer = touches.set_revisit(session=rq.session, viewer=rq.viewer, customer_id=found.id, when=when, today=today,
                                   surface=rq.surface)  # fmt: skip
    refresh_home(rq, customer.owner_id)
    name = escape(customer_title(customer))
    if when is None:
        return Reply(t(rq.locale, "revisit.cleared", customer=name))
    return Reply(t(rq.locale, "revisit.set", customer=name, date=format_date(rq.locale, when)))


def due(rq: RequestContext, cmd: CommandInput) -> Answer:
    return Reply(*due_answer(rq.locale, home.due_list(session=rq.session, viewer=rq.viewer, today=rq.today)))


# --- buttons and the shortcut -----------------------------------------------------------------


def log_touch_button(rq: RequestContext, inp: LogTouchButton) -> Answer:
    customer = None
    if inp.customer_id is not None:
        customer = customers.get_customer(session=rq.session, viewer=rq.viewer, customer_id=inp.customer_id,
                                          to_record=True)  # fmt: skip
    return _touch_modal(rq, customer)


def log_as_touch(rq: RequestContext, inp: ShortcutMessage) -> Answer:
    """"Log as touch" on a message: its text is the summary; its link and speaker are kept."""
    if not inp.text:
        raise UserError("error.shortcut.no_text")
    meta = {"permalink": inp.link(rq.directory), "speaker": inp.speaker}
    return _touch_modal(rq, None, summary=inp.text[:3000], metadata=meta)


def history(rq: RequestContext, inp: CustomerPage) -> Answer:
    customer = customers.get_customer(session=rq.session, viewer=rq.viewer, customer_id=inp.customer_id)
    found, more = touches.recent_touches(session=rq.session, viewer=rq.viewer, customer_id=customer.id, limit=10,
                                         offset=inp.offset)  # fmt: skip
    return Reply(*touch_history_page(rq.locale, customer, found, more=more, offset=inp.offset, tz=rq.tz))


def touch_menu(rq: RequestContext, inp: TouchChoice) -> Answer:
    verb, touch_id = inp.what
    found = touches.editable_touch(session=rq.session, viewer=rq.viewer, touch_id=touch_id)
    if verb == "edit":
        return OpenModal(touch_modal(rq.locale, now=rq.now, touch=found))
    return Reply(*touch_delete_confirmation(rq.locale, found, rq.tz))


def delete(rq: RequestContext, inp: TouchButton) -> Answer:
    customer = touches.delete_touch(session=rq.session, viewer=rq.viewer, touch_id=inp.touch_id, surface=rq.surface)
    refresh_home(rq, customer.owner_id)
    return Replace(t(rq.locale, "touch.deleted", customer=escape(customer_title(customer))))


def schedule_revisit(rq: RequestContext, inp: CustomerButton) -> Answer:
    customer = customers.get_customer(session=rq.session, viewer=rq.viewer, customer_id=inp.customer_id, to_record=True)
    return OpenModal(revisit_modal(rq.locale, customer))


# --- modals -----------------------------------------------------------------------------------


def save(rq: RequestContext, inp: TouchForm) -> Answer:
    """"Log touch" saved (a new touch, or the edit of one)."""
    touch_id = inp.meta.touch_id
    saved = touches.save_touch(session=rq.session, viewer=rq.viewer, touch_id=touch_id, form=inp.form, tz=rq.tz,
                               surface=rq.surface, now=rq.now, speaker_id=inp.meta.speaker,
                               permalink=inp.meta.permalink)  # fmt: skip
    customer = saved.customer
    name = escape(customer_title(customer))
    if touch_id:
        text = t(rq.locale, "touch.updated", customer=name)
    else:
        revisit = customer.next_revisit if customer.revisits_enabled else None
        text = t(rq.locale, "touch.saved", customer=name,
                 revisit=format_date(rq.locale, revisit) if revisit else t(rq.locale, "revisit.none"))  # fmt: skip
    promised = saved.follow_ups[0] if not touch_id and saved.follow_ups else None
    author, assignee = rq.actor, promised.assignee_id if promised is not None else None
    if promised is not None:
        text += " " + promised_text(rq.locale, promised)
    named = [customer.id]  # what `notices.forget` finds these by if the customer is erased before they go
    said = [Said(author, f"touch:{saved.id}:{rq.now.isoformat()}", {"text": text, NAMES: named})]
    if promised is not None and assignee != author:  # in their language, which the sender asks Slack for
        said.append(Said(promised.assignee_id, f"given:{promised.id}:{rq.now.isoformat()}", {
            "render": GIVEN, "team_id": rq.team_id, "user_id": promised.assignee_id, "author": author,
            "follow_up_id": promised.id, "if_refused": rq.if_refused,
            NAMES: named}))  # fmt: skip
    # Posted by the worker's sender once this commits (services.notices), not by this process.
    rq.say(*said)
    refresh_home(rq, rq.actor, customer.owner_id, assignee)
    return None


def save_revisit(rq: RequestContext, inp: RevisitForm) -> Answer:
    off = "off" in (inp.form.get(ids.FIELD_REVISITS_OFF) or [])  # type: ignore[operator]
    picked = inp.form.get(ids.FIELD_NEXT_REVISIT)
    if not off and not picked:
        raise FieldErrors.one(ids.FIELD_NEXT_REVISIT, "revisit.usage")
    try:
        when = None if off else dt.date.fromisoformat(str(picked))
    except ValueError:
        raise FieldErrors.one(ids.FIELD_NEXT_REVISIT, "revisit.usage") from None
    customer = touches.set_revisit(session=rq.session, viewer=rq.viewer, customer_id=inp.meta.customer_id, when=when,
                                   today=rq.today, surface=rq.surface)  # fmt: skip
    refresh_home(rq, customer.owner_id)
    return None


def _touch_modal(rq: RequestContext, customer: Customer | None, **extra: object) -> Answer:
    next_revisit = customer and touches.default_next_revisit(session=rq.session, team_id=rq.team_id,
                                                             customer=customer, today=rq.today)  # fmt: skip
    return OpenModal(touch_modal(rq.locale, now=rq.now, customer=customer, next_revisit=next_revisit or None,
                                 author_id=rq.actor, **extra))  # type: ignore[arg-type]  # fmt: skip


def register(on: Registry) -> None:
    on.command("touch", touch, reads_only=True)
    on.command("revisit", revisit)
    on.command("due", due, reads_only=True)
    on.action(ids.TOUCH_LOG, log_touch_button, reads_only=True)
    on.shortcut(ids.LOG_TOUCH_SHORTCUT, log_as_touch)
    on.view(ids.TOUCH_MODAL, save, field="summary")
    on.action(ids.TOUCH_HISTORY, history, reads_only=True)
    on.action(ids.TOUCH_MENU, touch_menu, reads_only=True)
    on.action(ids.TOUCH_DELETE, delete)
    on.action(ids.REVISIT_SCHEDULE, schedule_revisit, reads_only=True)
    on.view(ids.REVISIT_MODAL, save_revisit, field=ids.FIELD_NEXT_REVISIT)
