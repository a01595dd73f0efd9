"""Block Kit primitives: texts, sections, buttons, inputs, modals, Slack's date tokens.

Every view is built from these; a user's text is escaped (`escape`) wherever it goes in mrkdwn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from bot.i18n import format_datetime, t
from bot.storage.models import Customer
from bot.views.ids import CUSTOMER_PICKER, FIELD_CUSTOMER, MESSAGE_MODAL, VALUE

Block = dict[str, Any]


MAX_TEXT = 3000  # Slack's limit for a section's text


MAX_METADATA = 3000  # Slack's limit for a view's private_metadata


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


def block_plain_text(blocks: Sequence[Block]) -> str:
    """The text of sections, for a message's notification text."""
    return "\n".join(b["text"]["text"] for b in blocks if b.get("type") == "section" and "text" in b)


def modal(
    callback_id: str, title: str, blocks: list[Block], *, locale: str | None, metadata: str | None = None
) -> dict[str, Any]:
    """A modal with Save and Cancel; `title` is already in the reader's language."""
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title),
        "submit": plain(t(locale, "modal.save")),
        "close": plain(t(locale, "modal.cancel")),
        "blocks": blocks,
    }
    if metadata is not None:
        view["private_metadata"] = metadata
    return view


def text_input(
    locale: str | None, field: str, value: str | None, *, optional: bool = True,
    multiline: bool = False, max_length: int | None = None, hint: str | None = None, label: str | None = None,
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
        "label": plain(t(locale, label or f"field.{field}")),
        "element": element,
    }
    if hint:
        block["hint"] = plain(hint)
    return block


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def static_select(locale: str | None, field: str, choices: Sequence[str], value: str | None) -> Block:
    options = [option(t(locale, f"{field}.{c}"), c) for c in choices]
    element: dict[str, Any] = {"type": "static_select", "action_id": VALUE, "options": options}
    if value in choices:
        element["initial_option"] = options[choices.index(value)]
    return {
        "type": "input", "block_id": field, "optional": True,
        "label": plain(t(locale, f"field.{field}")), "element": element,
    }  # fmt: skip


def message_modal(locale: str | None, text: str) -> dict[str, Any]:
    return {"type": "modal", "callback_id": MESSAGE_MODAL, "title": plain(t(locale, "home.title")),
            "close": plain(t(locale, "modal.close")), "blocks": [section(text)]}  # fmt: skip


def format_when(locale: str | None, instant: dt.datetime, tz: str | None) -> str:
    return format_datetime(locale, instant, tz)


def labelled(locale: str | None, block_id: str, label_key: str, element: dict[str, Any], optional: bool = True) -> Block:
    return {"type": "input", "block_id": block_id, "optional": optional,
            "label": plain(t(locale, label_key)), "element": element}  # fmt: skip


def when(instant: Any, locale: str | None = None) -> str:
    """An instant each reader sees in their own time zone (the fallback is UTC, written the
    way the reader's language writes dates)."""
    fallback = f"{format_datetime(locale, instant, 'UTC')} UTC"
    return f"<!date^{int(instant.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


# --- a customer, wherever it appears ---------------------------------------------------------


def customer_title(customer: Customer) -> str:
    return f"{customer.name} (#{customer.number})"


def customer_option(customer: Customer) -> dict[str, Any]:
    # option text is limited to 75 characters
    return {"text": plain(customer_title(customer)[:75]), "value": str(customer.id)}


def customer_picker(locale: str | None, customer: Customer | None) -> Block:
    """The "Customer" input of Log touch and Log complaint: type-ahead, starting at `customer`."""
    element: dict[str, Any] = {"type": "external_select", "action_id": CUSTOMER_PICKER, "min_query_length": 1}
    if customer is not None:
        element["initial_option"] = customer_option(customer)
    return {"type": "input", "block_id": FIELD_CUSTOMER, "optional": False, "label": plain(t(locale, "field.customer")),
            "element": element}
