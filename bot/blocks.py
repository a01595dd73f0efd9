"""Block Kit builders: pure functions from data to views and messages, in one place.

Every `action_id`, `block_id` and `callback_id` the bot uses is a constant here, so
handlers and builders cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.messages import t
from bot.services.customers import GRADES, SEGMENTS
from bot.storage.models import Customer

Block = dict[str, Any]

# callback ids
CUSTOMER_MODAL = "customer_modal"

# action ids
CUSTOMER_SHOW = "customer_show"
CUSTOMER_EDIT = "customer_edit"
CUSTOMER_NEW = "customer_new"
FIND_MORE = "find_more"
CUSTOMER_PICKER = "customer_picker"  # external_select; options come from block_suggestion
ASSIGN_PICK = "assign_pick"  # a candidate button of `/crm assign`

# The action id of every input element: its block id names the field.
VALUE = "value"

MAX_TEXT = 3000  # Slack's limit for a section's text


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text[:MAX_TEXT]}


def section(text: str, accessory: dict[str, Any] | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if accessory:
        block["accessory"] = accessory
    return block


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    element = {"type": "button", "text": plain(text), "action_id": action_id, "value": value}
    if style:
        element["style"] = style
    return element


def actions(*elements: dict[str, Any], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def help_blocks(locale: str | None, unknown: str | None = None) -> list[Block]:
    blocks = [section(t(locale, "help.title"))]
    if unknown:
        blocks.append(section(t(locale, "help.unknown", word=escape(unknown))))
    blocks.append(section(t(locale, "help.body")))
    return blocks


# --- customer modal -------------------------------------------------------------------


def _text_input(
    locale: str | None, field: str, value: str | None, *, optional: bool = True,
    multiline: bool = False, max_length: int | None = None, hint: str | None = None,
) -> Block:  # fmt: skip
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": VALUE, "multiline": multiline}
    if value:
        element["initial_value"] = value
    if max_length:
        element["max_length"] = max_length
    block: Block = {
        "type": "input",
        "block_id": field,
        "optional": optional,
        "label": plain(t(locale, f"field.{field}")),
        "element": element,
    }
    if hint:
        block["hint"] = plain(hint)
    return block


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def _static_select(locale: str | None, field: str, choices: Sequence[str], value: str | None) -> Block:
    options = [_option(t(locale, f"{field}.{c}"), c) for c in choices]
    element: dict[str, Any] = {"type": "static_select", "action_id": VALUE, "options": options}
    if value in choices:
        element["initial_option"] = options[choices.index(value)]
    return {
        "type": "input", "block_id": field, "optional": True,
        "label": plain(t(locale, f"field.{field}")), "element": element,
    }  # fmt: skip


def customer_modal(
    locale: str | None,
    *,
    customer: Customer | None = None,
    name: str | None = None,
    owner_id: str | None = None,
) -> dict[str, Any]:
    """The "New customer" modal, or the edit modal when `customer` is given."""
    c = customer
    owner = c.owner_id if c else owner_id
    owner_element: dict[str, Any] = {"type": "users_select", "action_id": VALUE}
    if owner:
        owner_element["initial_user"] = owner
    blocks = [
        _text_input(locale, "name", c.name if c else name, optional=False, max_length=200),
        _text_input(locale, "company", c and c.company, max_length=200),
        _text_input(locale, "contact_name", c and c.contact_name, max_length=200),
        _text_input(locale, "title", c and c.title, max_length=200),
        _text_input(locale, "email", c and c.email),
        _text_input(locale, "phone", c and c.phone),
        _text_input(locale, "address", c and c.address, multiline=True),
        {"type": "input", "block_id": "owner_id", "optional": True,
         "label": plain(t(locale, "field.owner")), "element": owner_element},
        _static_select(locale, "grade", GRADES, c and c.grade),
        _static_select(locale, "segment", SEGMENTS, c and c.segment),
        _text_input(locale, "needs", c and c.needs, multiline=True),
        _text_input(locale, "preferences", c and c.preferences, multiline=True),
        _text_input(locale, "tags", c and c.tags, hint=t(locale, "field.tags.hint")),
    ]  # fmt: skip
    return {
        "type": "modal",
        "callback_id": CUSTOMER_MODAL,
        "private_metadata": json.dumps({"customer_id": c.id if c else None}),
        "title": plain(t(locale, "customer.modal.edit" if c else "customer.modal.new")),
        "submit": plain(t(locale, "modal.save")),
        "close": plain(t(locale, "modal.cancel")),
        "blocks": blocks,
    }


# --- profile card and lists -------------------------------------------------------------


def _field(locale: str | None, label_key: str, value: str | None) -> dict[str, Any]:
    return mrkdwn(f"*{t(locale, label_key)}*\n{escape(value) if value else t(locale, 'card.none')}")


def customer_title(customer: Customer) -> str:
    return f"{customer.name} (#{customer.number})"


def customer_card(locale: str | None, customer: Customer) -> list[Block]:
    c = customer
    contact = ", ".join(x for x in (c.contact_name, c.title) if x) or None
    if not c.revisits_enabled:
        revisit = t(locale, "card.no_revisits")
    else:
        revisit = c.next_revisit.isoformat() if c.next_revisit else None
    fields = [
        _field(locale, "field.company", c.company),
        _field(locale, "card.contact", contact),
        _field(locale, "field.email", c.email),
        _field(locale, "field.phone", c.phone),
        mrkdwn(f"*{t(locale, 'card.owner')}*\n" + (f"<@{c.owner_id}>" if c.owner_id else t(locale, "card.none"))),
        _field(locale, "field.grade", c.grade),
        _field(locale, "field.segment", c.segment and t(locale, f"segment.{c.segment}")),
        _field(locale, "card.next_revisit", revisit),
        _field(locale, "field.address", c.address),
        _field(locale, "field.tags", c.tags),
    ]
    blocks: list[Block] = [
        {"type": "header", "text": plain(customer_title(c)[:150])},
        {"type": "section", "fields": fields},
    ]
    for key in ("needs", "preferences"):
        value = getattr(c, key)
        if value:
            blocks.append(section(f"*{t(locale, f'field.{key}')}*\n{escape(value)}"))
    blocks.append(actions(button(t(locale, "button.edit"), CUSTOMER_EDIT, str(c.id))))
    return blocks


def customer_line(customer: Customer) -> str:
    c = customer
    extras = " · ".join(escape(x) for x in (c.company, c.contact_name, c.tags) if x)
    owner = f" · <@{c.owner_id}>" if c.owner_id else ""
    return f"*{escape(customer_title(c))}*" + (f"\n{extras}" if extras else "") + owner


def customer_list(
    locale: str | None, header: str, customers: Sequence[Customer], *, more: dict[str, Any] | None = None
) -> list[Block]:
    blocks: list[Block] = [section(header)]
    for c in customers:
        blocks.append(section(customer_line(c), button(t(locale, "button.show"), CUSTOMER_SHOW, str(c.id))))
    if more is not None:
        blocks.append(actions(button(t(locale, "button.more"), FIND_MORE, json.dumps(more))))
    return blocks


def no_match(locale: str | None, text: str) -> list[Block]:
    return [
        section(t(locale, "customer.none", text=escape(text))),
        section(
            t(locale, "customer.none.new", text=escape(text)),
            button(t(locale, "button.new"), CUSTOMER_NEW, text[:2000]),
        ),
    ]


def customer_option(customer: Customer) -> dict[str, Any]:
    # option text is limited to 75 characters
    return {"text": plain(customer_title(customer)[:75]), "value": str(customer.id)}


# --- scheduler ---------------------------------------------------------------------------

# action ids
TOUCH_LOG = "touch_log"  # button, value = customer id; its modal belongs to the touches feature
REVISIT_SNOOZE = "revisit_snooze"  # static_select: 1 day / 3 days / 1 week
REVISIT_SNOOZE_DATE = "revisit_snooze_date"  # datepicker: pick a date
CUSTOMER_REASSIGN = "customer_reassign"  # users_select
DIGEST_SETTINGS = "digest_settings"  # button at the end of a digest: opens DIGEST_MODAL
# callback ids
DIGEST_MODAL = "digest_modal"
# block ids: a revisit item's text and its actions carry the customer id after the prefix
REVISIT_TEXT_BLOCK = "revisit_text:"
REVISIT_ACTIONS_BLOCK = "revisit:"
DIGEST_ENABLED_BLOCK = "digest_enabled"
DIGEST_TIME_BLOCK = "digest_time"

SNOOZE_DAYS = (1, 3, 7)
DIGEST_MAX_ITEMS = 20  # a message holds at most 50 blocks; each item takes two


def revisit_customer_id(block_id: str | None) -> int | None:
    """The customer id a revisit item's block id carries, or None."""
    prefix, _, rest = (block_id or "").partition(":")
    return int(rest) if prefix + ":" in (REVISIT_ACTIONS_BLOCK, REVISIT_TEXT_BLOCK) and rest.isdigit() else None


def _company(customer: Customer) -> str:
    return f" · {escape(customer.company)}" if customer.company else ""


def revisit_item(locale: str | None, customer: Customer, today: Any) -> list[Block]:
    """One due revisit: what and since when, then Log touch, Snooze, pick a date, Reassign."""
    c = customer
    overdue = (today - c.next_revisit).days if c.next_revisit else 0
    key = "digest.item" if overdue <= 0 else "digest.item.overdue.one" if overdue == 1 else "digest.item.overdue"
    text = t(locale, key, customer=escape(customer_title(c)), company=_company(c), due=c.next_revisit, days=overdue)
    snooze = {
        "type": "static_select",
        "action_id": REVISIT_SNOOZE,
        "placeholder": plain(t(locale, "snooze.placeholder")),
        "options": [_option(t(locale, f"snooze.{days}"), str(days)) for days in SNOOZE_DAYS],
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
    locale: str | None, customers: Sequence[Customer], *, today: Any, digest_time: str
) -> tuple[str, list[Block]]:
    """The daily digest: every due or overdue revisit, most overdue first (the caller's order)."""
    count = len(customers)
    header = t(locale, "digest.header.one") if count == 1 else t(locale, "digest.header", count=count)
    body: list[Block] = [section(header)]
    for customer in customers[:DIGEST_MAX_ITEMS]:
        body.extend(revisit_item(locale, customer, today))
    if count > DIGEST_MAX_ITEMS:
        body.append(section(t(locale, "digest.more", count=count - DIGEST_MAX_ITEMS)))
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
    out: list[Block] = []
    replaced = False
    for block in message_blocks:
        if revisit_customer_id(block.get("block_id")) == customer_id:
            if not replaced:
                out.append(section(text))
                replaced = True
            continue
        out.append(block)
    return out if replaced else [*out, section(text)]


def digest_modal(locale: str | None, *, enabled: bool, time: str) -> dict[str, Any]:
    on, off = _option(t(locale, "digest.modal.on"), "on"), _option(t(locale, "digest.modal.off"), "off")
    return {
        "type": "modal",
        "callback_id": DIGEST_MODAL,
        "title": plain(t(locale, "digest.modal.title")),
        "submit": plain(t(locale, "modal.save")),
        "close": plain(t(locale, "modal.cancel")),
        "blocks": [
            {"type": "input", "block_id": DIGEST_ENABLED_BLOCK, "label": plain(t(locale, "digest.modal.enabled")),
             "element": {"type": "radio_buttons", "action_id": VALUE, "options": [on, off],
                         "initial_option": on if enabled else off}},
            {"type": "input", "block_id": DIGEST_TIME_BLOCK, "label": plain(t(locale, "digest.modal.time")),
             "element": {"type": "timepicker", "action_id": VALUE, "initial_time": time}},
        ],
    }  # fmt: skip
