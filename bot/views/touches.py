"""Touch views: the Log touch modal, a touch's line and the history pages, the revisit modal.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from bot.i18n import t
from bot.services.touches import KINDS
from bot.storage.models import Customer, Touch
from bot.views.ids import (
    FIELD_ASSIGNEE,
    FIELD_HAPPENED_AT,
    FIELD_KIND,
    FIELD_NEXT_REVISIT,
    FIELD_NEXT_STEP_DUE,
    FIELD_REVISITS_OFF,
    REVISIT_MODAL,
    TOUCH_DELETE,
    TOUCH_HISTORY,
    TOUCH_MENU,
    TOUCH_MODAL,
    VALUE,
)
from bot.views.kit import (
    Block,
    actions,
    button,
    customer_picker,
    customer_title,
    escape,
    format_when,
    modal,
    option,
    plain,
    section,
    text_input,
)


def touch_line(locale: str | None, touch: Touch, tz: str | None) -> str:
    link = f" <{touch.permalink}|{t(locale, 'touch.source')}>" if touch.permalink else ""
    summary = escape(touch.summary if len(touch.summary) <= 300 else touch.summary[:300] + "…")
    return (
        f"*{t(locale, 'kind.' + touch.kind)}* · {format_when(locale, touch.happened_at, tz)} · <@{touch.author_id}>"
        f"\n{summary}{link}"
    )


def touch_history(
    locale: str | None, customer: Customer, touches: Sequence[Touch], *, more: bool, offset: int, tz: str | None
) -> list[Block]:
    """A page of a customer's touches, newest first, each with an Edit / Delete menu (none for a
    customer erased: its touches stay as the erase left them)."""
    if not touches:
        return [section(t(locale, "touch.none"))] if offset == 0 else []
    blocks: list[Block] = [section(f"*{t(locale, 'touch.recent')}*")]
    editable = customer.erased_at is None
    for touch in touches:
        menu = {
            "type": "overflow",
            "action_id": TOUCH_MENU,
            "options": [
                option(t(locale, "button.edit"), f"edit:{touch.id}"),
                option(t(locale, "button.delete"), f"delete:{touch.id}"),
            ],
        } if editable else None
        blocks.append(section(touch_line(locale, touch, tz), menu))
    if more:
        page = {"customer_id": customer.id, "offset": offset + len(touches)}
        blocks.append(actions(button(t(locale, "button.more"), TOUCH_HISTORY, json.dumps(page))))
    return blocks


def touch_modal(
    locale: str | None,
    *,
    now: dt.datetime,
    customer: Customer | None = None,
    next_revisit: dt.date | None = None,
    summary: str | None = None,
    touch: Touch | None = None,
    metadata: dict[str, Any] | None = None,
    author_id: str | None = None,
) -> dict[str, Any]:
    """"Log touch"; with `touch` given, the same modal to edit it (customer, follow-up and
    revisit fixed). A next step with a due day becomes a follow-up for the assignee (default
    `author_id`)."""
    kind_options = [option(t(locale, f"kind.{k}"), k) for k in KINDS]
    kind: dict[str, Any] = {"type": "static_select", "action_id": VALUE, "options": kind_options}
    initial_kind = touch.kind if touch else "call"
    kind["initial_option"] = kind_options[KINDS.index(initial_kind)]
    when = {"type": "datetimepicker", "action_id": VALUE,
            "initial_date_time": int((touch.happened_at if touch else now).timestamp())}  # fmt: skip
    blocks: list[Block] = []
    if touch is None:
        blocks.append(customer_picker(locale, customer))
    blocks += [
        {"type": "input", "block_id": FIELD_KIND, "label": plain(t(locale, "field.kind")), "element": kind},
        text_input(locale, "summary", touch.summary if touch else summary, optional=False, multiline=True,
                    max_length=3000),
        {"type": "input", "block_id": FIELD_HAPPENED_AT, "optional": True, "label": plain(t(locale, "field.when")),
         "element": when},
        text_input(locale, "outcome", touch and touch.outcome, multiline=True),
        text_input(locale, "next_step", touch and touch.next_step),
    ]  # fmt: skip
    if touch is None:
        assignee: dict[str, Any] = {"type": "users_select", "action_id": VALUE}
        if author_id:
            assignee["initial_user"] = author_id
        blocks += [
            {"type": "input", "block_id": FIELD_NEXT_STEP_DUE, "optional": True,
             "label": plain(t(locale, "field.next_step_due")), "element": {"type": "datepicker", "action_id": VALUE},
             "hint": plain(t(locale, "field.next_step_due.hint"))},
            {"type": "input", "block_id": FIELD_ASSIGNEE, "optional": True, "label": plain(t(locale, "field.assignee")),
             "element": assignee},
        ]  # fmt: skip
        date: dict[str, Any] = {"type": "datepicker", "action_id": VALUE}
        if next_revisit:
            date["initial_date"] = next_revisit.isoformat()
        blocks.append({
            "type": "input", "block_id": FIELD_NEXT_REVISIT, "optional": True,
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
    off_option = option(t(locale, "revisit.off"), "off")
    off: dict[str, Any] = {"type": "checkboxes", "action_id": VALUE, "options": [off_option]}
    if not customer.revisits_enabled:
        off["initial_options"] = [off_option]
    body = [
        section(f"*{escape(customer_title(customer))}*"),
        {"type": "input", "block_id": FIELD_NEXT_REVISIT, "optional": True,
         "label": plain(t(locale, "field.next_revisit")), "element": date},
        {"type": "input", "block_id": FIELD_REVISITS_OFF, "optional": True,
         "label": plain(t(locale, "revisit.off.label")), "element": off},
    ]  # fmt: skip
    return modal(REVISIT_MODAL, t(locale, "revisit.modal"), body, locale=locale,
                 metadata=json.dumps({"customer_id": customer.id}))  # fmt: skip


def touch_delete_confirmation(locale: str | None, touch: Touch, tz: str | None) -> tuple[str, list[Block]]:
    """The touch's line with a Delete button that asks first."""
    delete = button(t(locale, "button.delete"), TOUCH_DELETE, str(touch.id), style="danger")
    delete["confirm"] = {
        "title": plain(t(locale, "touch.delete.title")),
        "text": plain(t(locale, "touch.delete.confirm")),
        "confirm": plain(t(locale, "button.delete")),
        "deny": plain(t(locale, "modal.cancel")),
        "style": "danger",
    }
    line = touch_line(locale, touch, tz)
    return line, [section(line, delete)]


def touch_history_page(
    locale: str | None, customer: Customer, found: Sequence[Touch], *, more: bool, offset: int, tz: str | None
) -> tuple[str, list[Block]]:
    """A page of a customer's touches under a line naming the customer (the More button)."""
    header = t(locale, "touch.history", customer=escape(customer_title(customer)))
    return header, [section(header), *touch_history(locale, customer, found, more=more, offset=offset, tz=tz)]
