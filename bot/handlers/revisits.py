"""The buttons of a due revisit (in a digest, a reminder, `/crm due` or the App Home): Snooze,
pick a date, Reassign; and the digest settings.

Snooze and Reassign answer in place: the digest is updated (`chat.update`) so the item shows
what was done to it and the other items keep their buttons; `/crm due` is answered anew; the
App Home is republished.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field

from bot.context import RequestContext
from bot.handlers.answers import Answer, OpenModal, Replace, UpdateMessage
from bot.handlers.customers import assign_to
from bot.handlers.home import show_home
from bot.handlers.registry import Registry
from bot.i18n import t
from bot.payloads import BlockActions, FormInput, Id, Input, NoInput, Short
from bot.services import home, reminders
from bot.views import ids
from bot.views.kit import customer_title, escape, notice
from bot.views.revisits import (
    digest_modal,
    due_answer,
    revisit_customer_id,
    revisit_item_answered,
)


class OnDueItem(Input):
    """A control of a due item (a revisit, a follow-up) and where the item is shown, to answer
    there (`in_place`)."""

    in_view: bool
    ephemeral: bool
    channel: Short | None = None
    ts: Short | None = None
    message_blocks: list[dict[str, Any]] = []

    @staticmethod
    def place_of(payload: BlockActions) -> dict[str, object]:
        container = payload.container
        return {
            "in_view": container.type == "view",
            "ephemeral": container.is_ephemeral or payload.message is None,
            "channel": container.channel_id, "ts": container.message_ts,
            "message_blocks": payload.message.blocks if payload.message else [],
        }  # fmt: skip


class OnItem(OnDueItem):
    """A control of a due revisit item: its choice and the customer its block names."""

    refusal = "error.customer.gone"
    choice: Short
    customer_id: Id

    @classmethod
    def values_from(cls, payload: BlockActions) -> dict[str, object]:
        action = payload.action
        chosen = action.selected_option.value if action.selected_option else None
        return {
            "choice": chosen or action.selected_date or action.selected_user or "",
            "customer_id": revisit_customer_id(action.block_id),
            **cls.place_of(payload),
        }


class SnoozeItem(OnItem):
    """Snooze's menu: a number of days (the service keeps to the ones offered)."""

    refusal = "error.unreadable"
    choice: Annotated[int, Field(ge=1, le=366)]  # type: ignore[assignment]


class DigestForm(FormInput):
    form: dict[str, object]
    meta: dict[str, object] = {}


def snooze(rq: RequestContext, inp: SnoozeItem) -> Answer:
    """Snooze 1 day / 3 days / 1 week."""
    return _snoozed(rq, inp, reminders.snooze_until(rq.today, inp.choice))


def snooze_to(rq: RequestContext, inp: OnItem) -> Answer:
    """A date picked for the revisit."""
    try:
        picked = dt.date.fromisoformat(inp.choice)
    except ValueError:
        picked = rq.today  # not a date: refused as a day in the past would be
    return _snoozed(rq, inp, picked)


def reassign(rq: RequestContext, inp: OnItem) -> Answer:
    return _in_place(rq, inp, assign_to(rq, inp.customer_id, inp.choice))


def digest_settings(rq: RequestContext, inp: NoInput) -> Answer:
    member = rq.member()
    time = reminders.digest_time_of(session=rq.session, team_id=rq.team_id, member=member)
    return OpenModal(digest_modal(rq.locale, enabled=member.digest_enabled, time=time))


def save_digest(rq: RequestContext, inp: DigestForm) -> Answer:
    enabled = inp.form.get(ids.FIELD_DIGEST_ENABLED) != "off"
    time = inp.form.get(ids.FIELD_DIGEST_TIME)
    member = reminders.set_digest(session=rq.session, member=rq.member(), enabled=enabled,
                                  time=str(time) if time else None)  # fmt: skip
    text = t(rq.locale, "digest.saved.on" if enabled else "digest.saved.off", time=member.digest_time)
    rq.tell(rq.actor, text, about=())
    return None


def _snoozed(rq: RequestContext, inp: OnItem, until: dt.date) -> Answer:
    customer = reminders.snooze_revisit(session=rq.session, viewer=rq.viewer, customer_id=inp.customer_id,
                                        until=until, today=rq.today, surface=rq.surface)  # fmt: skip
    text = t(rq.locale, "snooze.done", customer=escape(customer_title(customer)), date=customer.next_revisit)
    return _in_place(rq, inp, text)


def _in_place(rq: RequestContext, inp: OnItem, text: str) -> Answer:
    return in_place(rq, inp, text, lambda: revisit_item_answered(inp.message_blocks, inp.customer_id, text))


def in_place(rq: RequestContext, inp: OnDueItem, text: str, answered: Callable[[], list[dict[str, Any]]]) -> Answer:
    """Show what was done where the item was: the App Home published again at once (the
    person is looking at it); an ephemeral list answered with the list as it now is; a message
    with the item `answered` in it."""
    if inp.in_view:
        show_home(rq, rq.actor)
        return None
    if inp.ephemeral:
        _, due_blocks = due_answer(rq.locale, home.due_list(session=rq.session, viewer=rq.viewer, today=rq.today))
        return Replace(text, [*notice(text), *due_blocks])
    blocks = answered()
    if not inp.channel or not inp.ts:
        return Replace(text, blocks)
    return UpdateMessage(inp.channel, inp.ts, text, blocks)


def register(on: Registry) -> None:
    on.action(ids.REVISIT_SNOOZE, snooze)
    on.action(ids.REVISIT_SNOOZE_DATE, snooze_to)
    on.action(ids.CUSTOMER_REASSIGN, reassign)
    on.action(ids.DIGEST_SETTINGS, digest_settings, reads_only=True)
    on.view(ids.DIGEST_MODAL, save_digest, field=ids.FIELD_DIGEST_TIME)
