"""The buttons of a follow-up item (in a digest, a reminder, `/crm due` or the App Home):
Done and Snooze. Each answers where the item is: the digest is updated in place so the
others keep their buttons, `/crm due` is answered anew, the App Home is republished."""

from __future__ import annotations

from typing import Any

from bot.context import RequestContext
from bot.handlers.answers import Answer, Replace, UpdateMessage
from bot.handlers.home import refresh_home
from bot.handlers.registry import Registry
from bot.payloads import BlockActions, Id, Input, Short
from bot.services import followups, home
from bot.views import ids
from bot.views.followups import (
    done_text,
    follow_up_id,
    follow_up_item_answered,
    snoozed_text,
)
from bot.views.kit import notice
from bot.views.revisits import due_answer


class OnFollowUp(Input):
    """A control of a follow-up item: the follow-up its block names, the choice, and where the
    item is shown (to answer there)."""

    refusal = "follow_up.gone"
    follow_up_id: Id
    choice: Short = ""
    in_view: bool
    ephemeral: bool
    channel: Short | None = None
    ts: Short | None = None
    message_blocks: list[dict[str, Any]] = []

    @classmethod
    def values_from(cls, payload: BlockActions) -> dict[str, object]:
        action, container = payload.action, payload.container
        return {
            "follow_up_id": follow_up_id(action.block_id) or action.value,
            "choice": action.selected_option.value if action.selected_option else "",
            "in_view": container.type == "view",
            "ephemeral": container.is_ephemeral or payload.message is None,
            "channel": container.channel_id, "ts": container.message_ts,
            "message_blocks": payload.message.blocks if payload.message else [],
        }  # fmt: skip


def done(rq: RequestContext, inp: OnFollowUp) -> Answer:
    found = followups.mark_done(session=rq.session, viewer=rq.viewer, follow_up_id=inp.follow_up_id, now=rq.now,
                                today=rq.today, surface=rq.surface)  # fmt: skip
    return _in_place(rq, inp, done_text(rq.locale, found))


def snooze(rq: RequestContext, inp: OnFollowUp) -> Answer:
    """Snooze 1 day / 3 days / 1 week: the due day moves."""
    found = followups.snooze(session=rq.session, viewer=rq.viewer, follow_up_id=inp.follow_up_id,
                             until=followups.snooze_until(rq.today, inp.choice), today=rq.today,
                             surface=rq.surface)  # fmt: skip
    return _in_place(rq, inp, snoozed_text(rq.locale, found))


def _in_place(rq: RequestContext, inp: OnFollowUp, text: str) -> Answer:
    """Show what was done where the item was."""
    if inp.in_view:
        refresh_home(rq, rq.actor)
        return None
    if inp.ephemeral:
        _, blocks = due_answer(rq.locale, home.due_list(session=rq.session, viewer=rq.viewer, today=rq.today))
        return Replace(text, [*notice(text), *blocks])
    answered = follow_up_item_answered(inp.message_blocks, inp.follow_up_id, text)
    if not inp.channel or not inp.ts:
        return Replace(text, answered)
    return UpdateMessage(inp.channel, inp.ts, text, answered)


def register(on: Registry) -> None:
    on.action(ids.FOLLOW_UP_DONE, done)
    on.action(ids.FOLLOW_UP_SNOOZE, snooze)
