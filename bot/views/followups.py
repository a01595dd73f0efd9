"""Follow-up views: an item with Done and Snooze (in `/crm due`, the digest, the App Home, a
reminder of its own), and what is said when one is promised, done or snoozed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.i18n import t
from bot.services.items import FollowUpItem
from bot.storage.models import FollowUp
from bot.views.ids import (
    DIGEST_SETTINGS,
    FOLLOW_UP_ACTIONS_BLOCK,
    FOLLOW_UP_DONE,
    FOLLOW_UP_SNOOZE,
    FOLLOW_UP_TEXT_BLOCK,
)
from bot.views.kit import (
    Block,
    actions,
    button,
    customer_title,
    escape,
    item_replaced,
    option,
    plain,
    section,
)

SNOOZE_DAYS = (1, 3, 7)
STEP_SHOWN = 300  # characters of a next step in a list


def step_of(follow_up: FollowUp | FollowUpItem) -> str:
    """The promise in words: the touch's next step (escaped, cut for lists)."""
    step = follow_up.touch.next_step or follow_up.touch.summary or ""
    return escape(step if len(step) <= STEP_SHOWN else step[:STEP_SHOWN] + "…")


def follow_up_id(block_id: str | None) -> int | None:
    """The follow-up id a follow-up item's block id carries, or None."""
    prefix, _, rest = (block_id or "").partition(":")
    return int(rest) if prefix + ":" in (FOLLOW_UP_ACTIONS_BLOCK, FOLLOW_UP_TEXT_BLOCK) and rest.isdigit() else None


def follow_up_item(locale: str | None, follow_up: FollowUp | FollowUpItem, today: dt.date) -> list[Block]:
    """One open follow-up: the customer, the promise, when due; Done and Snooze."""
    f = follow_up
    overdue = (today - f.due_on).days
    key = "follow_up.item" if overdue <= 0 else "follow_up.item.overdue.one" if overdue == 1 else "follow_up.item.overdue"
    text = t(locale, key, customer=escape(customer_title(f.customer)), step=step_of(f), due=f.due_on, days=overdue)
    snooze = {
        "type": "static_select", "action_id": FOLLOW_UP_SNOOZE, "placeholder": plain(t(locale, "snooze.placeholder")),
        "options": [option(t(locale, f"snooze.{days}"), str(days)) for days in SNOOZE_DAYS],
    }  # fmt: skip
    text_block = section(text)
    text_block["block_id"] = f"{FOLLOW_UP_TEXT_BLOCK}{f.id}"
    return [text_block, actions(button(t(locale, "button.done"), FOLLOW_UP_DONE, str(f.id), style="primary"), snooze,
                                block_id=f"{FOLLOW_UP_ACTIONS_BLOCK}{f.id}")]  # fmt: skip


def follow_up_group(locale: str | None, items: Sequence[FollowUpItem], *, total: int, today: dt.date,
                    most: int) -> list[Block]:  # fmt: skip
    """A header, the first items that fit in `most` blocks, and how many more."""
    if not items:
        return []
    room = max(0, (most - 2) // 2)
    shown = list(items)[:room]
    blocks: list[Block] = [section(f"*{t(locale, 'follow_up.header')}*")]
    for f in shown:
        blocks.extend(follow_up_item(locale, f, today))
    if total > len(shown):
        blocks.append(section(t(locale, "due.more", count=total - len(shown))))
    return blocks


def follow_up_reminder(locale: str | None, follow_up: FollowUp, *, today: dt.date) -> tuple[str, list[Block]]:
    """One due follow-up as its own message (for people who turned the digest off)."""
    f = follow_up
    text = t(locale, "follow_up.reminder", customer=escape(customer_title(f.customer)), step=step_of(f), due=f.due_on)
    return text, [*follow_up_item(locale, f, today),
                  actions(button(t(locale, "button.digest_settings"), DIGEST_SETTINGS, "digest"))]  # fmt: skip


def follow_up_item_answered(message_blocks: Sequence[Block], follow_up_id_: int, text: str) -> list[Block]:
    """The same message with one follow-up item replaced by what was done to it."""
    return item_replaced(message_blocks, lambda block_id: follow_up_id(block_id) == follow_up_id_, text)


def promised_text(locale: str | None, follow_up: FollowUp) -> str:
    """Said to the author after the touch: ` Follow-up “send the quote” due 2026-12-02 for @li.`"""
    return t(locale, "follow_up.promised", step=step_of(follow_up), due=follow_up.due_on, assignee=follow_up.assignee_id)


def given_text(locale: str | None, *, author: str, customer: str, step: str, due: dt.date) -> str:
    """Said to an assignee who is not the author (`customer` and `step` escaped)."""
    return t(locale, "follow_up.given", author=author, customer=customer, step=step, due=due)


def done_text(locale: str | None, follow_up: FollowUp) -> str:
    return t(locale, "follow_up.done", customer=escape(customer_title(follow_up.customer)), step=step_of(follow_up))


def snoozed_text(locale: str | None, follow_up: FollowUp) -> str:
    return t(locale, "follow_up.snoozed", customer=escape(customer_title(follow_up.customer)), step=step_of(follow_up),
             due=follow_up.due_on)  # fmt: skip

