"""Revisit views: `/crm due`, the daily digest and its items, a single reminder, the digest modal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from bot.i18n import t
from bot.services.followups import DueFollowUps
from bot.services.home import DueList
from bot.services.items import ComplaintLine, CustomerItem, FollowUpItem
from bot.services.touches import DueRevisits
from bot.storage.models import Customer
from bot.views.followups import follow_up_group
from bot.views.ids import (
    CUSTOMER_REASSIGN,
    DIGEST_MODAL,
    DIGEST_SETTINGS,
    FIELD_DIGEST_ENABLED,
    FIELD_DIGEST_TIME,
    REVISIT_ACTIONS_BLOCK,
    REVISIT_SNOOZE,
    REVISIT_SNOOZE_DATE,
    REVISIT_TEXT_BLOCK,
    TOUCH_LOG,
    VALUE,
)
from bot.views.kit import (
    Block,
    actions,
    button,
    customer_title,
    escape,
    item_replaced,
    modal,
    mrkdwn,
    option,
    plain,
    section,
)

DUE_GROUP_MAX = 10  # items per group: a message holds at most 50 blocks, each item takes two


def due_blocks(
    locale: str | None, *, revisits: DueRevisits, complaints: Sequence[ComplaintLine], today: dt.date,
    follow_ups: DueFollowUps | None = None, most: int = 50,
) -> list[Block]:  # fmt: skip
    """My follow-ups (each with Done and Snooze), my revisits due or overdue, then the next
    days (each with Log touch, Snooze, pick a date, Reassign; the first `DUE_GROUP_MAX` of each,
    fewer when follow-ups take the room of a message's `most` blocks, and how many more), then
    my open complaints."""
    blocks: list[Block] = []
    if follow_ups is not None and follow_ups.items:
        blocks += follow_up_group(locale, follow_ups.items, total=follow_ups.total, today=today, most=12)
    room = (most - len(blocks) - 5) // 2  # two headers, two "more" lines, the complaints
    r = revisits
    for title_key, group, total in (("due.now", r.due, r.due_total), ("due.upcoming", r.upcoming, r.upcoming_total)):
        if not group or room <= 0:
            continue
        blocks.append(section(f"*{t(locale, title_key)}*"))
        shown = group[: min(DUE_GROUP_MAX, room)]
        room -= len(shown)
        for c in shown:
            blocks.extend(revisit_item(locale, c, today))
        if total > len(shown):
            blocks.append(section(t(locale, "due.more", count=total - len(shown))))
    if complaints:
        lines = "\n".join(f"#{x.number} {escape(x.title)} · {t(locale, 'severity.' + x.severity)}" for x in complaints)
        blocks.append(section(f"*{t(locale, 'due.complaints')}*\n{lines}"))
    if not blocks:
        blocks.append(section(t(locale, "due.nothing")))
    return blocks


SNOOZE_DAYS = (1, 3, 7)


DIGEST_MAX_ITEMS = 20  # a message holds at most 50 blocks; each item takes two
DIGEST_MAX_FOLLOW_UPS = 10


def revisit_customer_id(block_id: str | None) -> int | None:
    """The customer id a revisit item's block id carries, or None."""
    prefix, _, rest = (block_id or "").partition(":")
    return int(rest) if prefix + ":" in (REVISIT_ACTIONS_BLOCK, REVISIT_TEXT_BLOCK) and rest.isdigit() else None


def _company(customer: Customer | CustomerItem) -> str:
    return f" · {escape(customer.company)}" if customer.company else ""


def revisit_item(locale: str | None, customer: Customer | CustomerItem, today: Any) -> list[Block]:
    """One due revisit: what and since when, then Log touch, Snooze, pick a date, Reassign."""
    c = customer
    overdue = (today - c.next_revisit).days if c.next_revisit else 0
    key = "digest.item" if overdue <= 0 else "digest.item.overdue.one" if overdue == 1 else "digest.item.overdue"
    text = t(locale, key, customer=escape(customer_title(c)), company=_company(c), due=c.next_revisit, days=overdue)
    snooze = {
        "type": "static_select",
        "action_id": REVISIT_SNOOZE,
        "placeholder": plain(t(locale, "snooze.placeholder")),
        "options": [option(t(locale, f"snooze.{days}"), str(days)) for days in SNOOZE_DAYS],
    }
    pick = {"type": "datepicker", "action_id": REVISIT_SNOOZE_DATE, "placeholder": plain(t(locale, "snooze.pick_date"))}
    reassign = {
        "type": "users_select", "action_id": CUSTOMER_REASSIGN, "placeholder": plain(t(locale, "reassign.placeholder"))
    }  # fmt: skip
    text_block = section(text)
    text_block["block_id"] = f"{REVISIT_TEXT_BLOCK}{c.id}"
    return [
        text_block,
        actions(button(t(locale, "button.log_touch"), TOUCH_LOG, str(c.id)), snooze, pick, reassign,
                block_id=f"{REVISIT_ACTIONS_BLOCK}{c.id}"),
    ]  # fmt: skip


def digest_message(
    locale: str | None, customers: Sequence[CustomerItem], *, total: int | None = None, today: Any, digest_time: str,
    follow_ups: Sequence[FollowUpItem] = (), follow_ups_total: int = 0,
) -> tuple[str, list[Block]]:  # fmt: skip
    """The daily digest: the due or overdue revisits, most overdue first (the caller's order),
    the first `DIGEST_MAX_ITEMS` of `total` (default: all of `customers`); then the follow-ups
    due or overdue (`DIGEST_MAX_FOLLOW_UPS` of `follow_ups_total`), which take the room of as
    many revisits so that the message stays within 50 blocks."""
    count = len(customers) if total is None else total
    if count:
        header = t(locale, "digest.header.one") if count == 1 else t(locale, "digest.header", count=count)
    else:
        header = (t(locale, "follow_up.digest.one") if follow_ups_total == 1
                  else t(locale, "follow_up.digest", count=follow_ups_total))  # fmt: skip
    promises = follow_up_group(locale, follow_ups, total=follow_ups_total, today=today,
                               most=2 + 2 * DIGEST_MAX_FOLLOW_UPS)  # fmt: skip
    most_revisits = min(DIGEST_MAX_ITEMS, DIGEST_MAX_ITEMS + 2 - (len(promises) - 1) // 2)
    body: list[Block] = [section(header)]
    for customer in customers[:most_revisits]:
        body.extend(revisit_item(locale, customer, today))
    if count > most_revisits:
        body.append(section(t(locale, "digest.more", count=count - most_revisits)))
    body.extend(promises)
    body.append({"type": "context", "elements": [mrkdwn(t(locale, "digest.footer", time=digest_time))]})
    body.append(actions(button(t(locale, "button.digest_settings"), DIGEST_SETTINGS, "digest")))
    return header, body


def revisit_reminder(locale: str | None, customer: Customer, *, today: Any) -> tuple[str, list[Block]]:
    """One due revisit as its own message (for members who turned the digest off)."""
    c = customer
    text = t(locale, "revisit.reminder", customer=escape(customer_title(c)), company=_company(c), due=c.next_revisit)
    return text, [*revisit_item(locale, c, today),
                  actions(button(t(locale, "button.digest_settings"), DIGEST_SETTINGS, "digest"))]  # fmt: skip


def revisit_item_answered(message_blocks: Sequence[Block], customer_id: int, text: str) -> list[Block]:
    """The same message with one item's text and buttons replaced by what was done to it."""
    return item_replaced(message_blocks, lambda block_id: revisit_customer_id(block_id) == customer_id, text)


def digest_modal(locale: str | None, *, enabled: bool, time: str) -> dict[str, Any]:
    on, off = option(t(locale, "digest.modal.on"), "on"), option(t(locale, "digest.modal.off"), "off")
    body = [
        {"type": "input", "block_id": FIELD_DIGEST_ENABLED, "label": plain(t(locale, "digest.modal.enabled")),
         "element": {"type": "radio_buttons", "action_id": VALUE, "options": [on, off],
                     "initial_option": on if enabled else off}},
        {"type": "input", "block_id": FIELD_DIGEST_TIME, "label": plain(t(locale, "digest.modal.time")),
         "element": {"type": "timepicker", "action_id": VALUE, "initial_time": time}},
    ]  # fmt: skip
    return modal(DIGEST_MODAL, t(locale, "digest.modal.title"), body, locale=locale)


def due_answer(locale: str | None, due: DueList) -> tuple[str, list[Block]]:
    """`/crm due` (services.home.due_list): its text and blocks."""
    return t(locale, "due.now"), due_blocks(locale, revisits=due.revisits, complaints=due.complaints, today=due.today,
                                            follow_ups=due.follow_ups)  # fmt: skip
