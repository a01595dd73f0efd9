"""Block Kit builders: pure functions from data to views and messages, in one place.

Every `action_id`, `block_id` and `callback_id` the bot uses is a constant here, so
handlers and builders cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from bot.i18n import EN, language, t
from bot.i18n import format_date, format_datetime
from bot.services.customers import GRADES, SEGMENTS
from bot.services.touches import KINDS, DueRevisits
from bot.storage.models import AuditEvent, Complaint, Customer, Touch

Block = dict[str, Any]

# callback ids
CUSTOMER_MODAL = "customer_modal"
CUSTOMER_DUPLICATE = "customer_duplicate"  # "possible duplicate" view pushed over the customer modal
MESSAGE_MODAL = "message_modal"
TOUCH_MODAL = "touch_modal"
REVISIT_MODAL = "revisit_modal"
LOG_TOUCH_SHORTCUT = "log_touch"  # message shortcut, as in manifest.yml
SETTINGS_MODAL = "settings_modal"

# action ids
CUSTOMER_SHOW = "customer_show"
CUSTOMER_EDIT = "customer_edit"
CUSTOMER_NEW = "customer_new"
FIND_MORE = "find_more"
CUSTOMER_PICKER = "customer_picker"  # external_select; options come from block_suggestion
ASSIGN_PICK = "assign_pick"  # a candidate button of `/crm assign`
TOUCH_LOG = "touch_log"  # value: customer id, or "" to pick one in the modal
TOUCH_HISTORY = "touch_history"  # value: {"customer_id", "offset"}
TOUCH_MENU = "touch_menu"  # overflow on a touch: edit / delete
TOUCH_DELETE = "touch_delete"  # value: touch id; carries a confirm dialog
REVISIT_SCHEDULE = "revisit_schedule"  # value: customer id; opens the revisit modal
CUSTOMER_ERASE = "customer_erase"  # value: customer id; carries a confirm dialog naming the customer
AUDIT_MORE = "audit_more"  # value: {"customer_id", "offset"}
CUSTOMER_MERGE = "customer_merge"  # value: {"source", "target"}; carries a confirm dialog

# The action id of every input element: its block id names the field.
VALUE = "value"

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


def help_blocks(locale: str | None, unknown: str | None = None) -> list[Block]:
    blocks = [section(t(locale, "help.title"))]
    if unknown:
        blocks.append(section(t(locale, "help.unknown", word=escape(unknown))))
    blocks.append(section(t(locale, "help.body")))
    return blocks


# --- customer modal -------------------------------------------------------------------


def _text_input(
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
    title = t(locale, "customer.modal.edit" if c else "customer.modal.new")
    return modal(CUSTOMER_MODAL, title, blocks, locale=locale, metadata=json.dumps({"customer_id": c.id if c else None}))


def duplicate_modal(locale: str | None, same: Sequence[Customer], pending: str) -> dict[str, Any]:
    body: list[Block] = [section(t(locale, "duplicate.intro"))]
    for c in same:
        body.append(section(customer_line(c), button(t(locale, "button.show"), CUSTOMER_SHOW, str(c.id))))
    body.append(section(t(locale, "duplicate.outro")))
    return {
        "type": "modal",
        "callback_id": CUSTOMER_DUPLICATE,
        "private_metadata": pending,
        "title": plain(t(locale, "duplicate.title")),
        "submit": plain(t(locale, "duplicate.save")),
        "close": plain(t(locale, "duplicate.back")),
        "blocks": body,
    }


def message_modal(locale: str | None, text: str) -> dict[str, Any]:
    return {"type": "modal", "callback_id": MESSAGE_MODAL, "title": plain(t(locale, "home.title")),
            "close": plain(t(locale, "modal.close")), "blocks": [section(text)]}  # fmt: skip


# --- profile card and lists -------------------------------------------------------------


def _field(locale: str | None, label_key: str, value: str | None) -> dict[str, Any]:
    return mrkdwn(f"*{t(locale, label_key)}*\n{escape(value) if value else t(locale, 'card.none')}")


def customer_title(customer: Customer) -> str:
    return f"{customer.name} (#{customer.number})"


def customer_card(
    locale: str | None,
    customer: Customer,
    *,
    touches: Sequence[Touch] = (),
    more_touches: bool = False,
    complaints: Sequence[Block] = (),
    tz: str | None = None,
    health: Any = None,
) -> list[Block]:
    """The profile card; `complaints` are the open complaints' blocks (`customer_complaints`)."""
    c = customer
    contact = ", ".join(x for x in (c.contact_name, c.title) if x) or None
    if not c.revisits_enabled:
        revisit = t(locale, "card.no_revisits")
    else:
        revisit = format_date(locale, c.next_revisit) if c.next_revisit else None
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
    if health is not None:
        blocks.append(health_block(locale, health))
    for key in ("needs", "preferences"):
        value = getattr(c, key)
        if value:
            blocks.append(section(f"*{t(locale, f'field.{key}')}*\n{escape(value)}"))
    blocks.extend(complaints)
    blocks.extend(touch_history(locale, c.id, touches, more=more_touches, offset=0, tz=tz))
    blocks.append(
        actions(
            button(t(locale, "button.log_touch"), TOUCH_LOG, str(c.id), style="primary"),
            button(t(locale, "button.log_complaint"), COMPLAINT_NEW, str(c.id)),
            button(t(locale, "button.schedule_revisit"), REVISIT_SCHEDULE, str(c.id)),
            button(t(locale, "button.edit"), CUSTOMER_EDIT, str(c.id)),
        )
    )
    return blocks


def format_when(locale: str | None, instant: dt.datetime, tz: str | None) -> str:
    return format_datetime(locale, instant, tz)


def touch_line(locale: str | None, touch: Touch, tz: str | None) -> str:
    link = f" <{touch.permalink}|{t(locale, 'touch.source')}>" if touch.permalink else ""
    summary = escape(touch.summary if len(touch.summary) <= 300 else touch.summary[:300] + "…")
    return (
        f"*{t(locale, 'kind.' + touch.kind)}* · {format_when(locale, touch.happened_at, tz)} · <@{touch.author_id}>"
        f"\n{summary}{link}"
    )


def touch_history(
    locale: str | None, customer_id: int, touches: Sequence[Touch], *, more: bool, offset: int, tz: str | None
) -> list[Block]:
    """A page of a customer's touches, newest first, each with an Edit / Delete menu."""
    if not touches:
        return [section(t(locale, "touch.none"))] if offset == 0 else []
    blocks: list[Block] = [section(f"*{t(locale, 'touch.recent')}*")]
    for touch in touches:
        menu = {
            "type": "overflow",
            "action_id": TOUCH_MENU,
            "options": [
                _option(t(locale, "button.edit"), f"edit:{touch.id}"),
                _option(t(locale, "button.delete"), f"delete:{touch.id}"),
            ],
        }
        blocks.append(section(touch_line(locale, touch, tz), menu))
    if more:
        page = {"customer_id": customer_id, "offset": offset + len(touches)}
        blocks.append(actions(button(t(locale, "button.more"), TOUCH_HISTORY, json.dumps(page))))
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
        blocks.append(section(customer_line(c)))
        blocks.append(
            actions(
                button(t(locale, "button.show"), CUSTOMER_SHOW, str(c.id)),
                button(t(locale, "button.log_touch"), TOUCH_LOG, str(c.id)),
            )
        )
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


# --- touches and revisits -----------------------------------------------------------------


def _picker(locale: str | None, customer: Customer | None) -> Block:
    element: dict[str, Any] = {"type": "external_select", "action_id": CUSTOMER_PICKER, "min_query_length": 1}
    if customer is not None:
        element["initial_option"] = customer_option(customer)
    return {"type": "input", "block_id": "customer", "label": plain(t(locale, "field.customer")), "element": element}


def touch_modal(
    locale: str | None,
    *,
    now: dt.datetime,
    customer: Customer | None = None,
    next_revisit: dt.date | None = None,
    summary: str | None = None,
    touch: Touch | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """"Log touch"; with `touch` given, the same modal to edit it (customer and revisit fixed)."""
    kind_options = [_option(t(locale, f"kind.{k}"), k) for k in KINDS]
    kind: dict[str, Any] = {"type": "static_select", "action_id": VALUE, "options": kind_options}
    initial_kind = touch.kind if touch else "call"
    kind["initial_option"] = kind_options[KINDS.index(initial_kind)]
    when = {"type": "datetimepicker", "action_id": VALUE,
            "initial_date_time": int((touch.happened_at if touch else now).timestamp())}  # fmt: skip
    blocks: list[Block] = []
    if touch is None:
        blocks.append(_picker(locale, customer))
    blocks += [
        {"type": "input", "block_id": "kind", "label": plain(t(locale, "field.kind")), "element": kind},
        _text_input(locale, "summary", touch.summary if touch else summary, optional=False, multiline=True,
                    max_length=3000),
        {"type": "input", "block_id": "happened_at", "optional": True, "label": plain(t(locale, "field.when")),
         "element": when},
        _text_input(locale, "outcome", touch and touch.outcome, multiline=True),
        _text_input(locale, "next_step", touch and touch.next_step),
    ]  # fmt: skip
    if touch is None:
        date: dict[str, Any] = {"type": "datepicker", "action_id": VALUE}
        if next_revisit:
            date["initial_date"] = next_revisit.isoformat()
        blocks.append({
            "type": "input", "block_id": "next_revisit", "optional": True,
            "label": plain(t(locale, "field.next_revisit")), "element": date,
            "hint": plain(t(locale, "field.next_revisit.hint")),
        })  # fmt: skip
    meta = dict(metadata or {})
    if touch is not None:
        meta["touch_id"] = touch.id
    title = t(locale, "touch.modal.edit" if touch else "touch.modal.new")
    return modal(TOUCH_MODAL, title, blocks, locale=locale, metadata=json.dumps(meta))


def revisit_modal(locale: str | None, customer: Customer) -> dict[str, Any]:
    date: dict[str, Any] = {"type": "datepicker", "action_id": VALUE}
    if customer.next_revisit:
        date["initial_date"] = customer.next_revisit.isoformat()
    off_option = _option(t(locale, "revisit.off"), "off")
    off: dict[str, Any] = {"type": "checkboxes", "action_id": VALUE, "options": [off_option]}
    if not customer.revisits_enabled:
        off["initial_options"] = [off_option]
    body = [
        section(f"*{escape(customer_title(customer))}*"),
        {"type": "input", "block_id": "next_revisit", "optional": True,
         "label": plain(t(locale, "field.next_revisit")), "element": date},
        {"type": "input", "block_id": "off", "optional": True,
         "label": plain(t(locale, "revisit.off.label")), "element": off},
    ]  # fmt: skip
    return modal(REVISIT_MODAL, t(locale, "revisit.modal"), body, locale=locale,
                 metadata=json.dumps({"customer_id": customer.id}))  # fmt: skip


DUE_GROUP_MAX = 10  # items per group: a message holds at most 50 blocks, each item takes two


def due_blocks(
    locale: str | None, *, revisits: DueRevisits, complaints: Sequence[Complaint], today: dt.date
) -> list[Block]:
    """My revisits due or overdue, then the next days (each with Log touch, Snooze, pick a
    date, Reassign; the first `DUE_GROUP_MAX` of each and how many more), then my open
    complaints."""
    blocks: list[Block] = []
    r = revisits
    for title_key, group, total in (("due.now", r.due, r.due_total), ("due.upcoming", r.upcoming, r.upcoming_total)):
        if not group:
            continue
        blocks.append(section(f"*{t(locale, title_key)}*"))
        shown = group[:DUE_GROUP_MAX]
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


def home_view(
    locale: str | None,
    *,
    revisits: DueRevisits,
    complaints: Sequence[Complaint],
    by_grade: dict[str, int],
    today: dt.date,
    failed_sends: Sequence[Any] = (),
) -> dict[str, Any]:
    """`failed_sends` (admins only): messages Slack refused for good, newest first."""
    counts = " · ".join(f"{grade}: {n}" for grade, n in sorted(by_grade.items())) or "0"
    body = [
        {"type": "header", "text": plain(t(locale, "home.title"))},
        actions(
            button(t(locale, "button.new_customer"), CUSTOMER_NEW, ""),
            button(t(locale, "button.log_touch"), TOUCH_LOG, "", style="primary"),
        ),
        section(t(locale, "home.customers", counts=counts)),
        {"type": "divider"},
        *due_blocks(locale, revisits=revisits, complaints=complaints, today=today),
    ]
    if failed_sends:
        lines = "\n".join(
            t(locale, "home.failed.line", when=format_when(locale, n.created_at, None), to=_recipient(n.channel),
              kind=n.kind, error=escape(n.last_error or ""))
            for n in failed_sends
        )  # fmt: skip
        body += [{"type": "divider"}, section(f"*{t(locale, 'home.failed.title')}*\n{lines}")]
    return {"type": "home", "blocks": body[:100]}


def _recipient(channel: str) -> str:
    return f"<@{channel}>" if channel[:1] in ("U", "W") else f"<#{channel}>"


# --- data care ------------------------------------------------------------------------------


def erase_confirmation(locale: str | None, customer: Customer) -> list[Block]:
    name = escape(customer_title(customer))
    erase = button(t(locale, "button.erase"), CUSTOMER_ERASE, str(customer.id), style="danger")
    erase["confirm"] = {
        "title": plain(t(locale, "erase.confirm.title")),
        "text": mrkdwn(t(locale, "erase.confirm", customer=_short_title(customer))),
        "confirm": plain(t(locale, "button.erase")),
        "deny": plain(t(locale, "modal.cancel")),
        "style": "danger",
    }
    return [section(t(locale, "erase.ask", customer=name)), actions(erase)]


def _short_title(customer: Customer, limit: int = 60) -> str:
    """The name cut to `limit` characters: a confirm dialog's text holds at most 300."""
    name = customer.name if len(customer.name) <= limit else customer.name[: limit - 1] + "…"
    return escape(f"{name} (#{customer.number})")


def merge_confirmation(locale: str | None, source: Customer, target: Customer) -> list[Block]:
    names = {"source": escape(customer_title(source)), "target": escape(customer_title(target))}
    short = {"source": _short_title(source, 30), "target": _short_title(target, 30)}  # named 5 times
    merge = button(t(locale, "button.merge"), CUSTOMER_MERGE,
                   json.dumps({"source": source.id, "target": target.id}), style="danger")  # fmt: skip
    merge["confirm"] = {
        "title": plain(t(locale, "merge.confirm.title")),
        "text": mrkdwn(t(locale, "merge.ask", **short)),
        "confirm": plain(t(locale, "button.merge")),
        "deny": plain(t(locale, "modal.cancel")),
        "style": "danger",
    }
    return [section(t(locale, "merge.ask", **names)), actions(merge)]


def _word(locale: str | None, prefix: str, value: str) -> str:
    """A recorded code word in the reader's language. English readers see the code itself (the
    audit trail's established form); a code the catalog lacks shows as is."""
    key = f"{prefix}.{value}"
    return t(locale, key) if key in EN and language(locale) != "en" else value


def _audit_value(locale: str | None, value: object) -> str:
    return t(locale, "card.none") if value is None and language(locale) != "en" else escape(str(value))


def _audit_field(locale: str | None, name: str) -> str:
    return _word(locale, "field", name.removesuffix("_id"))


def audit_blocks(
    locale: str | None, customer: Customer, rows: Sequence[AuditEvent], *, more: bool, offset: int, tz: str | None
) -> list[Block]:
    body: list[Block] = [section(f"*{t(locale, 'audit.title', customer=escape(customer_title(customer)))}*")]
    for row in rows:
        fields = ", ".join(
            f"{_audit_field(locale, k)}: {_audit_value(locale, v[0])} → {_audit_value(locale, v[1])}"
            if isinstance(v, list) and len(v) == 2 else _audit_field(locale, k)
            for k, v in row.changes.items()
        )  # fmt: skip
        who = f"<@{row.actor_id}>" if row.actor_id else "—"
        action, entity = _word(locale, "audit.action", row.action), _word(locale, "audit.entity", row.entity)
        surface = _word(locale, "audit.surface", row.surface) if row.surface else ""
        line = f"{format_when(locale, row.at, tz)} · {who} · *{action}* {entity} · {surface}"
        body.append(section(line + (f"\n{fields}" if fields else "")))
    if not rows:
        body.append(section(t(locale, "audit.none")))
    if more:
        page = {"customer_id": customer.id, "offset": offset + len(rows)}
        body.append(actions(button(t(locale, "button.more"), AUDIT_MORE, json.dumps(page))))
    return body


# --- settings -------------------------------------------------------------------------------


def _labelled(locale: str | None, block_id: str, label_key: str, element: dict[str, Any], optional: bool = True) -> Block:
    return {"type": "input", "block_id": block_id, "optional": optional,
            "label": plain(t(locale, label_key)), "element": element}  # fmt: skip


def settings_modal(
    locale: str | None, settings: Any, *, admins: Sequence[str], leads: Sequence[str], hours_text: str, sla_text: str
) -> dict[str, Any]:
    """`hours_text` and `sla_text` are the working hours and SLA targets as editable lines."""
    vis_options = [_option(t(locale, f"visibility.{v}"), v) for v in ("open", "owner")]
    visibility = {"type": "static_select", "action_id": VALUE, "options": vis_options,
                  "initial_option": vis_options[0 if settings.visibility == "open" else 1]}  # fmt: skip
    # Each language names itself too, so a reader who cannot read the other still finds theirs.
    lang_options = [_option(t(locale, f"language.{v}"), v) for v in ("auto", "en", "zh")]
    language = {"type": "static_select", "action_id": VALUE, "options": lang_options,
                "initial_option": lang_options[("auto", "en", "zh").index(settings.language or "auto")]}  # fmt: skip

    def users(initial: Sequence[str]) -> dict[str, Any]:
        element: dict[str, Any] = {"type": "multi_users_select", "action_id": VALUE}
        if initial:
            element["initial_users"] = list(initial)
        return element

    def channel(initial: str | None) -> dict[str, Any]:
        element: dict[str, Any] = {"type": "conversations_select", "action_id": VALUE,
                                   "filter": {"include": ["public", "private"], "exclude_bot_users": True}}  # fmt: skip
        if initial:
            element["initial_conversation"] = initial
        return element

    def text(initial: str | None) -> dict[str, Any]:
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": VALUE}
        if initial:
            element["initial_value"] = initial
        return element

    def days(grade: str) -> dict[str, Any]:
        return {"type": "number_input", "action_id": VALUE, "is_decimal_allowed": False, "min_value": "1",
                "max_value": "3650", "initial_value": str(settings.revisit_days.get(grade, 30))}  # fmt: skip

    blocks = [
        _labelled(locale, "visibility", "settings.visibility", visibility, optional=False),
        _labelled(locale, "admins", "settings.admins", users(admins), optional=False),
        _labelled(locale, "leads", "settings.leads", users(leads)),
        _labelled(locale, "language", "settings.language", language, optional=False),
        _labelled(locale, "tz", "settings.tz", text(settings.tz)),
        _labelled(locale, "digest_time", "settings.digest_time",
                  {"type": "timepicker", "action_id": VALUE, "initial_time": settings.digest_time}),
        _labelled(locale, "revisit_a", "settings.revisit_a", days("A"), optional=False),
        _labelled(locale, "revisit_b", "settings.revisit_b", days("B"), optional=False),
        _labelled(locale, "revisit_c", "settings.revisit_c", days("C"), optional=False),
        _labelled(locale, "escalation_channel", "settings.escalation_channel", channel(settings.escalation_channel)),
        _labelled(locale, "complaints_channel", "settings.complaints_channel", channel(settings.complaints_channel)),
        _labelled(locale, "report_channel", "settings.report_channel", channel(settings.report_channel)),
        {**_labelled(locale, "working_hours", "settings.working_hours", {**text(hours_text), "multiline": True}),
         "hint": plain(t(locale, "settings.working_hours.hint"))},
        {**_labelled(locale, "holidays_country", "settings.holidays_country", text(settings.holidays_country)),
         "hint": plain(t(locale, "settings.holidays_country.hint"))},
        {**_labelled(locale, "days_off", "settings.days_off",
                     {**text(", ".join(d.isoformat() for d in settings.days_off)), "multiline": True}),
         "hint": plain(t(locale, "settings.days_off.hint"))},
        {**_labelled(locale, "sla", "settings.sla", {**text(sla_text), "multiline": True}),
         "hint": plain(t(locale, "settings.sla.hint"))},
        _labelled(locale, "warning_percent", "settings.warning_percent",
                  {"type": "number_input", "action_id": VALUE, "is_decimal_allowed": False, "min_value": "1",
                   "max_value": "99", "initial_value": str(round(settings.sla_warning_share * 100))}, optional=False),
        _labelled(locale, "level2_share", "settings.level2_share",
                  {"type": "number_input", "action_id": VALUE, "is_decimal_allowed": True, "min_value": "1",
                   "max_value": "10", "initial_value": str(settings.escalation_level2_share)}, optional=False),
        _labelled(locale, "level3_share", "settings.level3_share",
                  {"type": "number_input", "action_id": VALUE, "is_decimal_allowed": True, "min_value": "1",
                   "max_value": "10", "initial_value": str(settings.escalation_level3_share)}, optional=False),
    ]  # fmt: skip
    return modal(SETTINGS_MODAL, t(locale, "settings.title"), blocks, locale=locale)


# --- complaints -------------------------------------------------------------------------
# (services.complaints holds the rules; these builders only show them)

COMPLAINT_MODAL = "complaint_modal"  # callback id of "Log complaint"
COMPLAINT_RESOLVE_MODAL = "complaint_resolve_modal"  # callback id of "Resolve"
COMPLAINT_SHORTCUT = "log_complaint"  # message shortcut "Log as complaint" (manifest.yml)
COMPLAINT_NEW = "complaint_new"  # "Log complaint" for a customer (value: customer id)
COMPLAINT_SHOW = "complaint_show"  # value: complaint id
COMPLAINT_ACKNOWLEDGE = "complaint_acknowledge"
COMPLAINT_WAIT = "complaint_wait"
COMPLAINT_PROGRESS = "complaint_progress"
COMPLAINT_RESOLVE = "complaint_resolve"  # opens the "Resolve" modal
COMPLAINT_REOPEN = "complaint_reopen"
COMPLAINT_CLOSE = "complaint_close"
# state-changing buttons -> the service's action names (value: complaint id)
COMPLAINT_STATE_BUTTONS: dict[str, str] = {
    COMPLAINT_ACKNOWLEDGE: "acknowledge",
    COMPLAINT_WAIT: "wait",
    COMPLAINT_PROGRESS: "progress",
    COMPLAINT_REOPEN: "reopen",
    COMPLAINT_CLOSE: "close",
}
# which buttons a complaint offers in each state, in order
_COMPLAINT_BUTTONS: dict[str, tuple[tuple[str, str], ...]] = {
    "open": (("button.acknowledge", COMPLAINT_ACKNOWLEDGE), ("button.wait", COMPLAINT_WAIT),
             ("button.progress", COMPLAINT_PROGRESS), ("button.resolve", COMPLAINT_RESOLVE)),
    "acknowledged": (("button.wait", COMPLAINT_WAIT), ("button.progress", COMPLAINT_PROGRESS),
                     ("button.resolve", COMPLAINT_RESOLVE)),
    "waiting": (("button.progress", COMPLAINT_PROGRESS), ("button.resolve", COMPLAINT_RESOLVE)),
    "in_progress": (("button.wait", COMPLAINT_WAIT), ("button.resolve", COMPLAINT_RESOLVE)),
    "resolved": (("button.close", COMPLAINT_CLOSE), ("button.reopen", COMPLAINT_REOPEN)),
    "closed": (("button.reopen", COMPLAINT_REOPEN),),
}  # fmt: skip


def when(instant: Any, locale: str | None = None) -> str:
    """An instant each reader sees in their own time zone (the fallback is UTC, written the
    way the reader's language writes dates)."""
    fallback = f"{format_datetime(locale, instant, 'UTC')} UTC"
    return f"<!date^{int(instant.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def complaint_modal(
    locale: str | None,
    *,
    customer: Customer | None = None,
    description: str | None = None,
    permalink: str | None = None,
    assignee_id: str | None = None,
) -> dict[str, Any]:
    """"Log complaint": Customer*, Title*, Description, Severity* (normal), Category, Assignee."""
    from bot.services.complaints import CATEGORIES, SEVERITIES

    picker: dict[str, Any] = {"type": "external_select", "action_id": CUSTOMER_PICKER, "min_query_length": 1}
    if customer is not None:
        picker["initial_option"] = customer_option(customer)
    severity = _static_select(locale, "severity", SEVERITIES, "normal")
    severity["optional"] = False
    assignee: dict[str, Any] = {"type": "users_select", "action_id": VALUE}
    if assignee_id or (customer is not None and customer.owner_id):
        assignee["initial_user"] = assignee_id or customer.owner_id  # type: ignore[union-attr]
    blocks = [
        {"type": "input", "block_id": "customer", "optional": False,
         "label": plain(t(locale, "field.customer")), "element": picker},
        # Not the contact's job title: one English word, two Chinese ones (标题 / 职位).
        _text_input(locale, "title", None, optional=False, max_length=300, label="field.complaint_title"),
        _text_input(locale, "description", description[:3000] if description else None, multiline=True),
        severity,
        _static_select(locale, "category", CATEGORIES, None),
        {"type": "input", "block_id": "assignee_id", "optional": True,
         "label": plain(t(locale, "field.assignee")), "element": assignee},
    ]  # fmt: skip
    meta = json.dumps({"permalink": permalink})
    return modal(COMPLAINT_MODAL, t(locale, "complaint.modal.new"), blocks, locale=locale, metadata=meta)


def resolve_modal(locale: str | None, complaint: Any) -> dict[str, Any]:
    """"Resolve": Resolution*, Satisfaction (1–5)."""
    body = [
        section(f"*#{complaint.number}* {escape(complaint.title)}"),
        _text_input(locale, "resolution", None, optional=False, multiline=True),
        _text_input(locale, "satisfaction", None, hint=t(locale, "field.satisfaction.hint")),
    ]
    title = t(locale, "complaint.modal.resolve", number=complaint.number)[:24]
    return modal(COMPLAINT_RESOLVE_MODAL, title, body, locale=locale, metadata=json.dumps({"complaint_id": complaint.id}))


def complaint_title(complaint: Any) -> str:
    return f"#{complaint.number} {complaint.title}"


def _first_response_text(locale: str | None, card: Any) -> str:
    c, k = card.complaint, card.clocks
    if k.first_response_at is not None:
        return t(locale, "complaint.card.made", when=when(k.first_response_at, locale))
    if k.first_response_due is None:
        return t(locale, "card.none")
    if c.state not in ("open",) or c.cycle > 1:
        return t(locale, "complaint.card.stopped")
    key = "complaint.card.overdue" if k.first_response_due <= k.now else "complaint.card.due"
    return t(locale, key, when=when(k.first_response_due, locale))


def _resolution_text(locale: str | None, card: Any) -> str:
    c, k = card.complaint, card.clocks
    if k.resolved_at is not None and c.state in ("resolved", "closed"):
        return t(locale, "complaint.card.resolved", when=when(k.resolved_at, locale))
    if k.resolution_due is None:
        return t(locale, "card.none")
    if k.paused:
        return t(locale, "complaint.card.paused", when=when(k.resolution_due, locale))
    key = "complaint.card.overdue" if k.resolution_due <= k.now else "complaint.card.due"
    return t(locale, key, when=when(k.resolution_due, locale))


def complaint_buttons(locale: str | None, complaint: Any) -> Block:
    value = str(complaint.id)
    buttons = _COMPLAINT_BUTTONS[complaint.state]
    return actions(*(button(t(locale, label), action_id, value) for label, action_id in buttons))


def complaint_card(locale: str | None, card: Any, *, with_buttons: bool = True) -> list[Block]:
    """The complaint with every deadline (first response and resolution), and its buttons."""
    c = card.complaint
    none = t(locale, "card.none")
    assignee = f"<@{c.assignee_id}>" if c.assignee_id else none
    category = t(locale, f"category.{c.category}") if c.category else none
    fields = [
        mrkdwn(f"*{t(locale, 'complaint.card.customer')}*\n{escape(customer_title(card.customer))}"),
        mrkdwn(f"*{t(locale, 'complaint.card.severity')}*\n{t(locale, f'severity.{c.severity}')}"),
        mrkdwn(f"*{t(locale, 'complaint.card.state')}*\n{t(locale, f'complaint.state.{c.state}')}"),
        mrkdwn(f"*{t(locale, 'complaint.card.assignee')}*\n{assignee}"),
        mrkdwn(f"*{t(locale, 'complaint.card.category')}*\n{category}"),
        mrkdwn(f"*{t(locale, 'complaint.card.opened')}*\n{when(c.opened_at, locale)}"),
        mrkdwn(f"*{t(locale, 'complaint.card.first_response')}*\n{_first_response_text(locale, card)}"),
        mrkdwn(f"*{t(locale, 'complaint.card.resolution_due')}*\n{_resolution_text(locale, card)}"),
    ]  # fmt: skip
    blocks: list[Block] = [
        {"type": "header", "text": plain(complaint_title(c)[:150])},
        {"type": "section", "fields": fields},
    ]
    if c.description:
        blocks.append(section(escape(c.description)))
    if c.resolution and c.state in ("resolved", "closed"):
        text = f"*{t(locale, 'complaint.card.resolution')}*\n{escape(c.resolution)}"
        if c.satisfaction:
            text += "\n" + t(locale, "complaint.card.satisfaction", score=c.satisfaction)
        blocks.append(section(text))
    notes = []
    if c.cycle > 1:
        notes.append(t(locale, "complaint.card.cycle", times=c.cycle - 1))
    if c.permalink:
        notes.append(t(locale, "complaint.card.permalink", url=c.permalink))
    if notes:
        blocks.append({"type": "context", "elements": [mrkdwn(" · ".join(notes))]})
    if with_buttons:
        blocks.append(complaint_buttons(locale, c))
    return blocks


def complaint_message(locale: str | None, card: Any, kind: str) -> dict[str, Any]:
    """A DM or channel message about a complaint: a line saying why, then the card."""
    c = card.complaint
    params = {"number": c.number, "customer": escape(card.customer.name), "author": c.author_id,
              "assignee": c.assignee_id, "severity": t(locale, f"severity.{c.severity}")}  # fmt: skip
    if kind == "update" and card.event is not None:
        e = card.event
        text = t(locale, "complaint.changed", actor=e.actor_id, number=c.number,
                 from_state=t(locale, f"complaint.state.{e.from_state}"),
                 to_state=t(locale, f"complaint.state.{e.to_state}"))  # fmt: skip
        return {"text": text, "blocks": [section(text)]}
    if kind == "low_satisfaction":
        text = t(locale, "complaint.low_satisfaction", number=c.number, customer=escape(card.customer.name),
                 score=c.satisfaction, actor=card.event.actor_id if card.event else "")  # fmt: skip
        return {"text": text, "blocks": [section(text), *complaint_card(locale, card)]}
    key = {"assignee": "complaint.created.assignee", "channel": "complaint.created.channel"}.get(kind)
    if key is None:
        key = "complaint.created.author_self" if c.author_id == c.assignee_id else "complaint.created.author"
    text = t(locale, key, **params)
    return {"text": text, "blocks": [section(text), *complaint_card(locale, card)]}


def _age(locale: str | None, delta: Any) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return t(locale, "age.days", days=days, hours=hours)
    if hours:
        return t(locale, "age.hours", hours=hours, minutes=mins)
    return t(locale, "age.minutes", minutes=mins)


def complaint_list(locale: str | None, view: str, cards: Sequence[Any], *, limit: int) -> list[Block]:
    """`/crm complaints …`: severity, age, assignee and next deadline of each, with Show."""
    if not cards:
        return [section(t(locale, f"complaint.list.none.{view}"))]
    blocks: list[Block] = [section(t(locale, f"complaint.list.{view}"))]
    for k in cards:
        c = k.complaint
        deadline = k.clocks.next_deadline
        line = t(
            locale, "complaint.list.line", number=c.number, title=escape(c.title),
            customer=escape(k.customer.name), severity=t(locale, f"severity.{c.severity}"),
            age=_age(locale, k.clocks.now - c.opened_at),
            assignee=f"<@{c.assignee_id}>" if c.assignee_id else t(locale, "card.none"),
            deadline=when(deadline, locale) if deadline else t(locale, "complaint.list.no_deadline"),
        )  # fmt: skip
        if k.clocks.overdue:
            line = ":red_circle: " + line
        blocks.append(section(line, button(t(locale, "button.show"), COMPLAINT_SHOW, str(c.id))))
    if len(cards) >= limit:
        blocks.append({"type": "context", "elements": [mrkdwn(t(locale, "complaint.list.more", shown=len(cards)))]})
    return blocks


def escalation_message(locale: str | None, card: Any, step: str) -> dict[str, Any]:
    """A warning or escalation about a complaint (for the scheduler to deliver)."""
    c = card.complaint
    text = t(locale, f"complaint.escalation.{step}", number=c.number, title=escape(c.title),
             customer=escape(card.customer.name), assignee=c.assignee_id or "—")  # fmt: skip
    return {"text": text, "blocks": [section(text), *complaint_card(locale, card)]}


def customer_complaints(locale: str | None, cards: Sequence[Any]) -> list[Block]:
    """The open complaints on a customer's profile card."""
    if not cards:
        return []
    lines = []
    for k in cards:
        c, deadline = k.complaint, k.clocks.next_deadline
        due = when(deadline, locale) if deadline else t(locale, "complaint.list.no_deadline")
        mark = ":red_circle: " if k.clocks.overdue else ""
        lines.append(t(locale, "complaint.customer.line", mark=mark, number=c.number, title=escape(c.title),
                       severity=t(locale, f"severity.{c.severity}"), deadline=due))  # fmt: skip
    return [section(f"*{t(locale, 'complaint.customer.header')}*\n" + "\n".join(lines))]



# --- scheduler ---------------------------------------------------------------------------

# action ids
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
    locale: str | None, customers: Sequence[Customer], *, total: int | None = None, today: Any, digest_time: str
) -> tuple[str, list[Block]]:
    """The daily digest: the due or overdue revisits, most overdue first (the caller's order),
    the first `DIGEST_MAX_ITEMS` of `total` (default: all of `customers`)."""
    count = len(customers) if total is None else total
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
    body = [
        {"type": "input", "block_id": DIGEST_ENABLED_BLOCK, "label": plain(t(locale, "digest.modal.enabled")),
         "element": {"type": "radio_buttons", "action_id": VALUE, "options": [on, off],
                     "initial_option": on if enabled else off}},
        {"type": "input", "block_id": DIGEST_TIME_BLOCK, "label": plain(t(locale, "digest.modal.time")),
         "element": {"type": "timepicker", "action_id": VALUE, "initial_time": time}},
    ]  # fmt: skip
    return modal(DIGEST_MODAL, t(locale, "digest.modal.title"), body, locale=locale)


# --- reports ---
# `/crm report`, the customer health line, grade suggestions and satisfaction check-ins.

SATISFACTION_SCORE = "satisfaction_score"  # value: {"customer_id", "score"}; a check-in DM's 1-5 buttons


def _number(value: float | int | None, suffix: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}{suffix}"
    return f"{int(value)}{suffix}"


def compared(now: float | int | None, before: float | int | None, suffix: str = "") -> str:
    """`12 (▲3)`: the figure, and how it moved since the previous period."""
    text = _number(now, suffix)
    if now is None or before is None:
        return text
    diff = round(now - before, 1)
    if diff == 0:
        return f"{text} (=)"
    return f"{text} ({'▲' if diff > 0 else '▼'}{_number(abs(diff))})"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "–"


def report_period(locale: str | None, report: Any) -> str:
    return t(locale, f"report.period.{report.period.kind}", start=report.period.first_day.isoformat())


def report_blocks(locale: str | None, report: Any) -> list[Block]:
    """The report message: the team's (or one manager's) figures, then one line per manager."""
    from bot.services.reports import NOBODY, TEAM

    now, before = report.current[TEAM], report.before[TEAM]

    def c(attr: str, suffix: str = "") -> str:
        return compared(getattr(now, attr), getattr(before, attr), suffix)

    period = report_period(locale, report)
    title = (t(locale, "report.title.user", user=report.user_id, period=period) if report.user_id
             else t(locale, "report.title.team", period=period))  # fmt: skip
    lines = [
        t(locale, "report.touches", touches=c("touches"), customers=c("customers_touched")),
        t(locale, "report.revisits", on_time=c("revisits_on_time"), late=c("revisits_late"),
          overdue=c("revisits_overdue"), pct=c("revisits_on_time_pct", "%")),
        t(locale, "report.complaints", opened=c("complaints_opened"), resolved=c("complaints_resolved"),
          open=c("complaints_open")),
        t(locale, "report.response", median=c("first_response_median"), p90=c("first_response_p90"),
          sla=c("first_response_sla_pct", "%")),
        t(locale, "report.resolution", median=c("resolution_median"), p90=c("resolution_p90"),
          sla=c("resolution_sla_pct", "%")),
        t(locale, "report.satisfaction", avg=c("satisfaction_avg"), answered=c("satisfaction_answered"),
          checkin_avg=c("checkin_avg"), checkins=c("checkins")),
        t(locale, "report.customers", customers=c("customers"), new=c("new_customers"),
          grades=_counts(now.by_grade), segments=_counts(now.by_segment)),
    ]  # fmt: skip
    body: list[Block] = [
        section(title),
        {"type": "context", "elements": [mrkdwn(t(
            locale, "report.compared", start=report.previous.first_day.isoformat(),
            end=report.previous.last_day.isoformat()))]},
        section("\n".join(lines)),
    ]  # fmt: skip
    if not report.user_id and report.managers:
        rows = []
        for key in report.managers:
            m, b = report.current[key], report.before[key]
            rows.append("• " + t(
                locale, "report.manager",
                user=t(locale, "report.nobody") if key == NOBODY else f"<@{key}>",
                touches=compared(m.touches, b.touches), customers=compared(m.customers_touched, b.customers_touched),
                revisits=compared(m.revisits_on_time_pct, b.revisits_on_time_pct, "%"),
                opened=compared(m.complaints_opened, b.complaints_opened),
                resolved=compared(m.complaints_resolved, b.complaints_resolved),
                open=compared(m.complaints_open, b.complaints_open),
                sla=compared(m.first_response_sla_pct, b.first_response_sla_pct, "%"),
                avg=compared(m.satisfaction_avg, b.satisfaction_avg),
            ))  # fmt: skip
        body.append(section(t(locale, "report.managers")))
        # A section holds 3,000 characters: long teams go in several.
        chunk: list[str] = []
        for row in rows:
            if sum(len(r) + 1 for r in chunk) + len(row) > MAX_TEXT:
                body.append(section("\n".join(chunk)))
                chunk = []
            chunk.append(row)
        body.append(section("\n".join(chunk)))
    return body


def reasons_text(locale: str | None, health: Any) -> str:
    return "; ".join(t(locale, r.key, **r.params) for r in health.reasons) or t(locale, "health.fine")


def health_block(locale: str | None, health: Any) -> Block:
    """The card's health line: `Health 62/100 · no touch for 47 days, interval 30`."""
    text = t(locale, "health.line", score=health.score, reasons=reasons_text(locale, health))
    return {"type": "context", "elements": [mrkdwn(text)]}


def risk_blocks(locale: str | None, rows: Sequence[Any]) -> list[Block]:
    if not rows:
        return [section(t(locale, "risk.none"))]
    lines = [
        t(locale, "risk.line", score=r.health.score, customer=escape(f"{r.customer.name} (#{r.customer.number})"),
          owner=f"<@{r.customer.owner_id}>" if r.customer.owner_id else t(locale, "report.nobody"),
          reasons=reasons_text(locale, r.health))
        for r in rows
    ]  # fmt: skip
    return [section(t(locale, "risk.title")), section("\n".join(f"• {line}" for line in lines))]


def grade_blocks(locale: str | None, suggestions: Sequence[Any], rules: Any) -> list[Block]:
    """Grade suggestions, each with **Edit** to apply it by hand."""
    tags = ", ".join(rules.a_tags) or t(locale, "report.none")
    body = [section(t(locale, "grades.title", a=rules.a_touches, b=rules.b_touches, days=rules.days, tags=tags))]
    if not suggestions:
        return [*body, section(t(locale, "grades.none"))]
    for s in suggestions:
        line = t(
            locale, "grades.line", customer=escape(f"{s.customer.name} (#{s.customer.number})"),
            owner=f"<@{s.customer.owner_id}>" if s.customer.owner_id else t(locale, "report.nobody"),
            grade=s.grade or t(locale, "report.none"), suggested=s.suggested, touches=s.touches, days=rules.days,
        )  # fmt: skip
        body.append(section(line, button(t(locale, "button.edit"), CUSTOMER_EDIT, str(s.customer.id))))
    return body


def checkin_blocks(locale: str | None, customer: Customer) -> list[Block]:
    """The check-in DM to a customer's owner: the question and one button per score."""
    buttons = [
        button(str(score), SATISFACTION_SCORE, json.dumps({"customer_id": customer.id, "score": score}))
        for score in range(1, 6)
    ]
    return [
        section(t(locale, "checkin.ask", customer=escape(customer_title(customer)))),
        actions(*buttons, block_id=f"checkin_{customer.id}"),
    ]
