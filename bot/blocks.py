"""Block Kit builders: pure functions from data to views and messages, in one place.

Every `action_id`, `block_id` and `callback_id` the bot uses is a constant here, so
handlers and builders cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from bot.messages import EN, language, t
from bot.services.dates import format_date, format_datetime
from bot.services.customers import GRADES, SEGMENTS
from bot.services.touches import KINDS
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
    return {
        "type": "modal",
        "callback_id": CUSTOMER_MODAL,
        "private_metadata": json.dumps({"customer_id": c.id if c else None}),
        "title": plain(t(locale, "customer.modal.edit" if c else "customer.modal.new")),
        "submit": plain(t(locale, "modal.save")),
        "close": plain(t(locale, "modal.cancel")),
        "blocks": blocks,
    }


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
    return {
        "type": "modal",
        "callback_id": TOUCH_MODAL,
        "private_metadata": json.dumps(meta),
        "title": plain(t(locale, "touch.modal.edit" if touch else "touch.modal.new")),
        "submit": plain(t(locale, "modal.save")),
        "close": plain(t(locale, "modal.cancel")),
        "blocks": blocks,
    }


def revisit_modal(locale: str | None, customer: Customer) -> dict[str, Any]:
    date: dict[str, Any] = {"type": "datepicker", "action_id": VALUE}
    if customer.next_revisit:
        date["initial_date"] = customer.next_revisit.isoformat()
    off_option = _option(t(locale, "revisit.off"), "off")
    off: dict[str, Any] = {"type": "checkboxes", "action_id": VALUE, "options": [off_option]}
    if not customer.revisits_enabled:
        off["initial_options"] = [off_option]
    return {
        "type": "modal",
        "callback_id": REVISIT_MODAL,
        "private_metadata": json.dumps({"customer_id": customer.id}),
        "title": plain(t(locale, "revisit.modal")),
        "submit": plain(t(locale, "modal.save")),
        "close": plain(t(locale, "modal.cancel")),
        "blocks": [
            section(f"*{escape(customer_title(customer))}*"),
            {"type": "input", "block_id": "next_revisit", "optional": True,
             "label": plain(t(locale, "field.next_revisit")), "element": date},
            {"type": "input", "block_id": "off", "optional": True,
             "label": plain(t(locale, "revisit.off.label")), "element": off},
        ],
    }  # fmt: skip


def revisit_line(locale: str | None, customer: Customer, today: dt.date) -> str:
    assert customer.next_revisit is not None
    late = (today - customer.next_revisit).days
    if late > 0:
        when = t(locale, "due.overdue", days=late)
    elif late == 0:
        when = t(locale, "due.today")
    else:
        when = format_date(locale, customer.next_revisit)
    return f"*{escape(customer_title(customer))}* · {when}"


def due_blocks(
    locale: str | None,
    *,
    due: Sequence[Customer],
    upcoming: Sequence[Customer],
    complaints: Sequence[Complaint],
    today: dt.date,
    snooze: Any = None,
) -> list[Block]:
    """My revisits due or overdue, then the next days, then my open complaints."""
    blocks: list[Block] = []
    for title_key, group in (("due.now", due), ("due.upcoming", upcoming)):
        if not group:
            continue
        blocks.append(section(f"*{t(locale, title_key)}*"))
        for c in group:
            elements = [button(t(locale, "button.log_touch"), TOUCH_LOG, str(c.id), style="primary")]
            if snooze is not None:
                elements.append(snooze(locale, c))
            blocks.append(section(revisit_line(locale, c, today)))
            blocks.append(actions(*elements))
    if complaints:
        blocks.append(section(f"*{t(locale, 'due.complaints')}*"))
        for x in complaints:
            blocks.append(section(f"#{x.number} {escape(x.title)} · {t(locale, 'severity.' + x.severity)}"))
    if not blocks:
        blocks.append(section(t(locale, "due.nothing")))
    return blocks[:50]


def home_view(
    locale: str | None,
    *,
    due: Sequence[Customer],
    upcoming: Sequence[Customer],
    complaints: Sequence[Complaint],
    by_grade: dict[str, int],
    today: dt.date,
    snooze: Any = None,
) -> dict[str, Any]:
    counts = " · ".join(f"{grade}: {n}" for grade, n in sorted(by_grade.items())) or "0"
    body = [
        {"type": "header", "text": plain(t(locale, "home.title"))},
        actions(
            button(t(locale, "button.new_customer"), CUSTOMER_NEW, ""),
            button(t(locale, "button.log_touch"), TOUCH_LOG, "", style="primary"),
        ),
        section(t(locale, "home.customers", counts=counts)),
        {"type": "divider"},
        *due_blocks(locale, due=due, upcoming=upcoming, complaints=complaints, today=today, snooze=snooze),
    ]
    return {"type": "home", "blocks": body[:100]}


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
    return {
        "type": "modal",
        "callback_id": SETTINGS_MODAL,
        "title": plain(t(locale, "settings.title")),
        "submit": plain(t(locale, "modal.save")),
        "close": plain(t(locale, "modal.cancel")),
        "blocks": blocks,
    }


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
    return {
        "type": "modal",
        "callback_id": COMPLAINT_MODAL,
        "private_metadata": json.dumps({"permalink": permalink}),
        "title": plain(t(locale, "complaint.modal.new")),
        "submit": plain(t(locale, "modal.save")),
        "close": plain(t(locale, "modal.cancel")),
        "blocks": blocks,
    }


def resolve_modal(locale: str | None, complaint: Any) -> dict[str, Any]:
    """"Resolve": Resolution*, Satisfaction (1–5)."""
    return {
        "type": "modal",
        "callback_id": COMPLAINT_RESOLVE_MODAL,
        "private_metadata": json.dumps({"complaint_id": complaint.id}),
        "title": plain(t(locale, "complaint.modal.resolve", number=complaint.number)[:24]),
        "submit": plain(t(locale, "modal.save")),
        "close": plain(t(locale, "modal.cancel")),
        "blocks": [
            section(f"*#{complaint.number}* {escape(complaint.title)}"),
            _text_input(locale, "resolution", None, optional=False, multiline=True),
            _text_input(locale, "satisfaction", None, hint=t(locale, "field.satisfaction.hint")),
        ],
    }


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
