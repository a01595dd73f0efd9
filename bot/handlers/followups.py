"""The buttons of a follow-up item (in a digest, a reminder, `/crm due` or the App Home):
Done and Snooze. Each answers where the item is: the digest is updated in place so the
others keep their buttons, `/crm due` is answered anew, the App Home is republished."""

from __future__ import annotations

from bot.context import RequestContext
from bot.handlers.answers import Answer
from bot.handlers.registry import Registry
from bot.handlers.revisits import OnDueItem, in_place
from bot.payloads import BlockActions, Id, Short
from bot.services import followups
from bot.views import ids
from bot.views.followups import (
    done_text,
    follow_up_id,
    follow_up_item_answered,
    snoozed_text,
)


class OnFollowUp(OnDueItem):
    """A control of a follow-up item: the follow-up its block names and the choice."""

    refusal = "follow_up.gone"
    follow_up_id: Id
    choice: Short = ""

    @classmethod
    def values_from(cls, payload: BlockActions) -> dict[str, object]:
        action = payload.action
        return {
            "follow_up_id": follow_up_id(action.block_id) or action.value,
            "choice": action.selected_option.value if action.selected_option else "",
            **cls.place_of(payload),
        }


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
    return in_place(rq, inp, text, lambda: follow_up_item_answered(inp.message_blocks, inp.follow_up_id, text))


def register(on: Registry) -> None:
    on.action(ids.FOLLOW_UP_DONE, done)
    on.action(ids.FOLLOW_UP_SNOOZE, snooze)
