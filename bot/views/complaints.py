"""Complaint views: the modals, the card with its deadlines and buttons, lists and messages.

services.complaints holds the rules; these builders only show them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.i18n import format_datetime, t
from bot.services.sla import CLOSED
from bot.storage.models import Customer
from bot.views.ids import (
    COMPLAINT_ACKNOWLEDGE,
    COMPLAINT_CLOSE,
    COMPLAINT_MODAL,
    COMPLAINT_PROGRESS,
    COMPLAINT_REOPEN,
    COMPLAINT_RESOLVE,
    COMPLAINT_RESOLVE_MODAL,
    COMPLAINT_SHOW,
    COMPLAINT_WAIT,
    FIELD_ASSIGNEE,
    VALUE,
)
from bot.views.kit import (
    Block,
    actions,
    button,
    customer_picker,
    customer_title,
    date_element,
    escape,
    modal,
    mrkdwn,
    plain,
    raw_cell,
    rich_cell,
    section,
    static_select,
    table,
    text_element,
    text_input,
    user_element,
    when,
)

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

    severity = static_select(locale, "severity", SEVERITIES, "normal")
    severity["optional"] = False
    assignee: dict[str, Any] = {"type": "users_select", "action_id": VALUE}
    if assignee_id or (customer is not None and customer.owner_id):
        assignee["initial_user"] = assignee_id or customer.owner_id  # type: ignore[union-attr]
    blocks = [
        customer_picker(locale, customer),
        # Not the contact's job title: one English word, two Chinese ones (标题 / 职位).
        text_input(locale, "title", None, optional=False, max_length=300, label="field.complaint_title"),
        text_input(locale, "description", description[:3000] if description else None, multiline=True),
        severity,
        static_select(locale, "category", CATEGORIES, None),
        {"type": "input", "block_id": FIELD_ASSIGNEE, "optional": True,
         "label": plain(t(locale, "field.assignee")), "element": assignee},
    ]  # fmt: skip
    meta = json.dumps({"permalink": permalink})
    return modal(COMPLAINT_MODAL, t(locale, "complaint.modal.new"), blocks, locale=locale, metadata=meta)


def resolve_modal(locale: str | None, complaint: Any) -> dict[str, Any]:
    """"Resolve": Resolution*, Satisfaction (1–5)."""
    body = [
        section(f"*#{complaint.number}* {escape(complaint.title)}"),
        text_input(locale, "resolution", None, optional=False, multiline=True),
        text_input(locale, "satisfaction", None, hint=t(locale, "field.satisfaction.hint")),
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
    if k.resolved_at is not None and c.state in CLOSED:
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
    if c.resolution and c.state in CLOSED:
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


COMPLAINT_COLUMNS = ("number", "title", "customer", "severity", "age", "assignee", "deadline")


def _complaint_table(locale: str | None, cards: Sequence[Any]) -> Block | None:
    """The list as a `table` block (None when it would not fit: see kit.table)."""
    rows = []
    for k in cards:
        c, deadline = k.complaint, k.clocks.next_deadline
        number = rich_cell(*([{"type": "emoji", "name": "red_circle"}] if k.clocks.overdue else []),
                           text_element(f"#{c.number}"))  # fmt: skip
        due = (rich_cell(date_element(deadline, format_datetime(locale, deadline, None) + " UTC"))
               if deadline else raw_cell(t(locale, "complaint.list.no_deadline")))  # fmt: skip
        rows.append([
            number, raw_cell(c.title, limit=300), raw_cell(k.customer.name), raw_cell(t(locale, f"severity.{c.severity}")),
            raw_cell(_age(locale, k.clocks.now - c.opened_at)),
            rich_cell(user_element(c.assignee_id)) if c.assignee_id else raw_cell(t(locale, "card.none")), due,
        ])  # fmt: skip
    return table([t(locale, f"complaint.column.{col}") for col in COMPLAINT_COLUMNS], rows)


def complaint_list(locale: str | None, view: str, cards: Sequence[Any], *, limit: int, as_table: bool = True) -> list[Block]:
    """`/crm complaints …`: severity, age, assignee and next deadline of each, with Show: a
    table (a message may hold one, at its end) with a Show button per complaint above it, or
    where none fits, a section each with its own Show."""
    if not cards:
        return [section(t(locale, f"complaint.list.none.{view}"))]
    blocks: list[Block] = [section(t(locale, f"complaint.list.{view}"))]
    grid = _complaint_table(locale, cards) if as_table else None
    if grid is not None:
        shows = [button(t(locale, "button.show_number", number=k.complaint.number), COMPLAINT_SHOW, str(k.complaint.id))
                 for k in cards]  # fmt: skip
        blocks += [actions(*shows[i : i + 25]) for i in range(0, len(shows), 25)]  # 25 buttons a block
        if len(cards) >= limit:
            blocks.append({"type": "context", "elements": [mrkdwn(t(locale, "complaint.list.more", shown=len(cards)))]})
        return [*blocks, grid]
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


def complaint_answer(locale: str | None, card: Any) -> tuple[str, list[Block]]:
    """A complaint's card as an answer: its escaped title, and the card."""
    return escape(complaint_title(card.complaint)), complaint_card(locale, card)


def complaint_list_answer(locale: str | None, view: str, cards: Sequence[Any], *, limit: int) -> tuple[str, list[Block]]:
    """`/crm complaints …` as an answer."""
    return t(locale, f"complaint.list.{view}"), complaint_list(locale, view, cards, limit=limit)
