"""Block Kit primitives: texts, sections, buttons, inputs, modals, Slack's date tokens.

Every view is built from these; a user's text is escaped (`escape`) wherever it goes in mrkdwn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from bot.i18n import format_datetime, t
from bot.services.items import CustomerItem
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


def customer_title(customer: Customer | CustomerItem) -> str:
    return f"{customer.name} (#{customer.number})"


def customer_option(customer: Customer | CustomerItem) -> dict[str, Any]:
    # option text is limited to 75 characters
    return {"text": plain(customer_title(customer)[:75]), "value": str(customer.id)}


def customer_picker(locale: str | None, customer: Customer | None) -> Block:
    """The "Customer" input of Log touch and Log complaint: type-ahead, starting at `customer`."""
    element: dict[str, Any] = {"type": "external_select", "action_id": CUSTOMER_PICKER, "min_query_length": 1}
    if customer is not None:
        element["initial_option"] = customer_option(customer)
    return {"type": "input", "block_id": FIELD_CUSTOMER, "optional": False, "label": plain(t(locale, "field.customer")),
            "element": element}


def item_replaced(message_blocks: Sequence[Block], is_item: Callable[[str | None], bool], text: str) -> list[Block]:
    """The same message with one item (its blocks, by block id) replaced by what was done to it."""
    out: list[Block] = []
    replaced = False
    for block in message_blocks:
        if is_item(block.get("block_id")):
            if not replaced:
                out.append(section(text))
                replaced = True
            continue
        out.append(block)
    return out if replaced else [*out, section(text)]


def notice(text: str) -> list[Block]:
    """A line of text as blocks."""
    return [section(text)]


# --- tables -----------------------------------------------------------------------------------------
# Block Kit's `table` block is for messages only (not modals, not the App Home), one per
# message, shown at the message's end: at most 100 rows (the header row included) of at most
# 20 cells, and 10,000 characters in all its cells together. A view that would need more, or
# is not a message, keeps its sections.

TABLE_ROWS, TABLE_CELLS, TABLE_CHARS = 100, 20, 10_000
CELL_CHARS = 200  # a user's text in a cell (a title, a name): enough to read, never the table's whole budget


def raw_cell(text: str, *, limit: int = CELL_CHARS) -> dict[str, Any]:
    """A plain cell (a cell may not be empty: a dash stands for nothing)."""
    text = " ".join(str(text).split())
    return {"type": "raw_text", "text": _cut(text, limit) if text else "–"}


def rich_cell(*elements: dict[str, Any]) -> dict[str, Any]:
    """A cell of rich text elements: a user, a channel, a date that links to a message…"""
    return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": list(elements)}]}


def user_element(user_id: str) -> dict[str, Any]:
    return {"type": "user", "user_id": user_id}


def channel_element(channel_id: str) -> dict[str, Any]:
    return {"type": "channel", "channel_id": channel_id}


def text_element(text: str) -> dict[str, Any]:
    return {"type": "text", "text": _cut(str(text), CELL_CHARS) or "–"}


def date_element(instant: dt.datetime, fallback: str, url: str | None = None) -> dict[str, Any]:
    """An instant each reader sees in their own time zone, linking to `url`."""
    element: dict[str, Any] = {"type": "date", "timestamp": int(instant.timestamp()),
                               "format": "{date_short_pretty} {time}", "fallback": fallback}  # fmt: skip
    if url:
        element["url"] = url
    return element


def cell_chars(cell: dict[str, Any]) -> int:
    """How many characters a cell counts for against the table's budget: a rich text's user,
    channel, date and emoji as long as their mrkdwn (`<@U…>`, `<!date^…|…>`), to be safe."""
    if cell.get("type") == "raw_text":
        return len(cell.get("text", ""))

    def length(e: dict[str, Any]) -> int:
        kind = e.get("type")
        if kind == "date":
            return len(f"<!date^{e.get('timestamp')}^{e.get('format', '')}|{e.get('fallback', '')}>")
        if kind in ("user", "channel"):
            return len(str(e.get("user_id") or e.get("channel_id") or "")) + 3
        if kind == "emoji":
            return len(str(e.get("name", ""))) + 2
        return len(str(e.get("text", "")))

    return sum(length(e) for section in cell.get("elements", []) for e in section.get("elements", []))


def table(header: Sequence[str], rows: Sequence[Sequence[dict[str, Any]]], *,
          align: Sequence[str | None] = ()) -> Block | None:  # fmt: skip
    """A `table` block (the header row first), or None when it would not fit Slack's limits:
    the caller then shows its sections instead."""
    body = [[raw_cell(h) for h in header], *[list(r) for r in rows]]
    if len(body) > TABLE_ROWS or any(len(r) != len(header) or len(r) > TABLE_CELLS for r in body):
        return None
    if sum(cell_chars(c) for r in body for c in r) > TABLE_CHARS:
        return None
    block: Block = {"type": "table", "rows": body}
    if align:
        block["column_settings"] = [{"align": a} if a else None for a in align]
    return block


# --- Block Kit's limits, checked before Slack is called ------------------------------------------
# A user's text can be as long as they like; Slack refuses a view or message over these limits
# (`invalid_blocks`). `fit_view` and `fit_blocks` cut what is too long, so nothing a person typed
# can break what the bot shows.

_TEXT_LIMITS = {  # a text object's length, by (the element it is in, the key it is under)
    ("view", "title"): 24, ("view", "submit"): 24, ("view", "close"): 24,
    ("section", "text"): 3000, ("section", "fields"): 2000, ("header", "text"): 150,
    ("context", "elements"): 3000, ("input", "label"): 2000, ("input", "hint"): 2000,
    ("button", "text"): 75, ("option", "text"): 75, ("option", "description"): 75,
    ("confirm", "title"): 100, ("confirm", "text"): 300, ("confirm", "confirm"): 30, ("confirm", "deny"): 30,
    (None, "placeholder"): 150,
}  # fmt: skip
_VALUE_LIMITS = {  # a plain string's length, by (element type, key)
    ("button", "value"): 2000, ("button", "url"): 3000, ("option", "value"): 150, ("view", "private_metadata"): 3000,
    (None, "block_id"): 255, (None, "action_id"): 255, ("plain_text_input", "initial_value"): 3000,
    ("image", "alt_text"): 2000,
}  # fmt: skip
_COUNT_LIMITS = {("section", "fields"): 10, ("context", "elements"): 10, ("actions", "elements"): 25,
                 ("static_select", "options"): 100, ("overflow", "options"): 5, ("checkboxes", "options"): 10,
                 ("radio_buttons", "options"): 10}  # fmt: skip


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _by_owner(limits: dict[tuple[str | None, str], int]) -> dict[str | None, dict[str, int]]:
    """`limits` as one table of key → limit per element type, each with the keys any element has
    (`None`'s) under its own; the walk below looks a key up once per node."""
    anywhere = {key: limit for (own, key), limit in limits.items() if own is None}
    owners = {own for own, _ in limits if own}
    return {None: anywhere} | {
        own: anywhere | {key: limit for (o, key), limit in limits.items() if o == own} for own in owners
    }


_TEXTS, _VALUES = _by_owner(_TEXT_LIMITS), _by_owner(_VALUE_LIMITS)
_TEXT_TYPES = ("plain_text", "mrkdwn")


def _fit(node: Any) -> Any:
    """`node` within the limits, cutting only what is over them: a node with nothing to cut is
    copied without its text objects and strings, and a table's rows are passed as they are (a
    message has a few hundred nodes, and this runs on every answer)."""
    if isinstance(node, list):
        return [_fit(item) for item in node]
    if not isinstance(node, dict):
        return node
    own = "option" if "value" in node and "text" in node and "type" not in node else node.get("type")
    own = "view" if own in ("modal", "home") else own
    if own != "confirm" and "confirm" in node and isinstance(node["confirm"], dict):
        # An element's confirmation dialog, tagged so that its texts get the dialog's limits;
        # the dialog's own `confirm` is its button's label, a text object left as it is.
        node = {**node, "confirm": {**node["confirm"], "type": "confirm"}}
    texts, values = _TEXTS.get(own, _TEXTS[None]), _VALUES.get(own, _VALUES[None])
    out: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, str):
            limit = values.get(key)
            out[key] = _cut(value, limit) if limit else value
        elif isinstance(value, dict):
            if value.get("type") in _TEXT_TYPES and "text" in value:
                limit = texts.get(key)
                if limit:
                    text = value["text"]
                    if not isinstance(text, str) or len(text) > limit:
                        value = {**value, "text": _cut(str(text), limit)}
                out[key] = value
            else:
                out[key] = _fit(value)
        elif own == "table" and key == "rows":  # `table` kept them within the table's limits; no key in
            out[key] = value  # a cell has one of the limits here, and a table is most of its message's nodes
        elif isinstance(value, list):
            count = _COUNT_LIMITS.get((own, key))
            items = value[:count] if count else value
            if own in ("section", "context") and key in ("fields", "elements"):
                limit = _TEXT_LIMITS[(own, key)]
                items = [{**i, "text": _cut(i["text"], limit)} if isinstance(i, dict) and isinstance(i.get("text"), str)
                         and len(i["text"]) > limit else i for i in items]  # fmt: skip
            out[key] = [_fit(item) for item in items]
        else:
            out[key] = value
    if own == "confirm":
        out.pop("type", None)
    if own == "plain_text_input" and isinstance(out.get("initial_value"), str) and out.get("max_length"):
        out["initial_value"] = out["initial_value"][: int(out["max_length"])]
    return out


def fit_blocks(blocks: list[Block] | None, *, most: int = 50) -> list[Block] | None:
    """A message's blocks within Slack's limits (at most `most` blocks)."""
    return None if blocks is None else _fit(blocks[:most])


def fit_view(view: dict[str, Any]) -> dict[str, Any]:
    """A modal or App Home within Slack's limits (at most 100 blocks)."""
    fitted = _fit({**view, "type": view.get("type", "modal")})
    fitted["blocks"] = fitted.get("blocks", [])[:100]
    return fitted
