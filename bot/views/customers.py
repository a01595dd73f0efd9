"""Customer views: the New / Edit modal, the possible-duplicate view, the profile card, lists.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.i18n import currency_name, format_date, t
from bot.services.customers import GRADES, SEGMENTS
from bot.services.items import CustomerItem
from bot.services.profiles import Profile
from bot.storage.models import Customer, Touch
from bot.views.channels import channels_line
from bot.views.complaints import customer_complaints
from bot.views.ids import (
    CHANNEL_LINK_PICK,
    COMPLAINT_NEW,
    CUSTOMER_DUPLICATE,
    CUSTOMER_EDIT,
    CUSTOMER_MODAL,
    CUSTOMER_NEW,
    CUSTOMER_SHOW,
    FIELD_OWNER,
    FIND_MORE,
    LOST_PICK,
    REVISIT_SCHEDULE,
    TOUCH_LOG,
    VALUE,
    WON_PICK,
)
from bot.views.kit import (
    Block,
    actions,
    button,
    customer_title,
    escape,
    modal,
    mrkdwn,
    plain,
    section,
    static_select,
    text_input,
)
from bot.views.lifecycle import stage_block
from bot.views.touches import touch_history


def customer_modal(
    locale: str | None,
    *,
    customer: Customer | None = None,
    name: str | None = None,
    owner_id: str | None = None,
    currency: str = "CNY",
) -> dict[str, Any]:
    """The "New customer" modal, or the edit modal when `customer` is given; values are in
    the team's `currency`."""
    c = customer
    owner = c.owner_id if c else owner_id
    owner_element: dict[str, Any] = {"type": "users_select", "action_id": VALUE}
    if owner:
        owner_element["initial_user"] = owner
    blocks = [
        text_input(locale, "name", c.name if c else name, optional=False, max_length=200),
        text_input(locale, "company", c and c.company, max_length=200),
        text_input(locale, "contact_name", c and c.contact_name, max_length=200),
        text_input(locale, "title", c and c.title, max_length=200),
        text_input(locale, "email", c and c.email),
        text_input(locale, "phone", c and c.phone),
        text_input(locale, "address", c and c.address, multiline=True),
        {"type": "input", "block_id": FIELD_OWNER, "optional": True,
         "label": plain(t(locale, "field.owner")), "element": owner_element},
        static_select(locale, "grade", GRADES, c and c.grade),
        static_select(locale, "segment", SEGMENTS, c and c.segment),
        text_input(locale, "needs", c and c.needs, multiline=True),
        text_input(locale, "preferences", c and c.preferences, multiline=True),
        text_input(locale, "tags", c and c.tags, hint=t(locale, "field.tags.hint")),
        text_input(locale, "value", f"{c.value:,}" if c and c.value is not None else None, max_length=40,
                   hint=t(locale, "field.value.hint", currency=currency_name(locale, currency))),
    ]  # fmt: skip
    if c is None or c.stage != "lost":  # a lost customer comes back with `/crm won`
        blocks.append(static_select(locale, "stage", ("prospect", "customer"),
                                    "prospect" if c and c.stage == "prospect" else "customer"))  # fmt: skip
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


def _field(locale: str | None, label_key: str, value: str | None) -> dict[str, Any]:
    return mrkdwn(f"*{t(locale, label_key)}*\n{escape(value) if value else t(locale, 'card.none')}")


def profile_blocks(
    locale: str | None,
    customer: Customer,
    *,
    touches: Sequence[Touch] = (),
    more_touches: bool = False,
    complaints: Sequence[Block] = (),
    tz: str | None = None,
    health: Any = None,
    channels: Sequence[str] = (),
    currency: str = "CNY",
    loss: Any = None,
) -> list[Block]:
    """The profile card; `complaints` are the open complaints' blocks (`customer_complaints`),
    `channels` its linked channels."""
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
    blocks.append(stage_block(locale, c, currency=currency, tz=tz, loss=loss))
    if health is not None:
        blocks.append(health_block(locale, health))
    blocks.extend(channels_line(locale, channels))
    for key in ("needs", "preferences"):
        value = getattr(c, key)
        if value:
            blocks.append(section(f"*{t(locale, f'field.{key}')}*\n{escape(value)}"))
    blocks.extend(complaints)
    blocks.extend(touch_history(locale, c, touches, more=more_touches, offset=0, tz=tz))
    if c.erased_at is None:  # nothing more is recorded about an erased customer (access.recordable)
        blocks.append(
            actions(
                button(t(locale, "button.log_touch"), TOUCH_LOG, str(c.id), style="primary"),
                button(t(locale, "button.log_complaint"), COMPLAINT_NEW, str(c.id)),
                button(t(locale, "button.schedule_revisit"), REVISIT_SCHEDULE, str(c.id)),
                button(t(locale, "button.edit"), CUSTOMER_EDIT, str(c.id)),
            )
        )
    return blocks


def customer_line(customer: Customer | CustomerItem) -> str:
    c = customer
    extras = " · ".join(escape(x) for x in (c.company, c.contact_name, c.tags) if x)
    owner = f" · <@{c.owner_id}>" if c.owner_id else ""
    return f"*{escape(customer_title(c))}*" + (f"\n{extras}" if extras else "") + owner


def customer_list(
    locale: str | None, header: str, customers: Sequence[CustomerItem], *, more: dict[str, Any] | None = None
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


def no_match(locale: str | None, text: str) -> tuple[str, list[Block]]:
    """Nothing matches `text`: say so, and offer to add it as a new customer."""
    none = t(locale, "customer.none", text=escape(text))
    return none, [
        section(none),
        section(
            t(locale, "customer.none.new", text=escape(text)),
            button(t(locale, "button.new"), CUSTOMER_NEW, text[:200]),
        ),
    ]


def reasons_text(locale: str | None, health: Any) -> str:
    return "; ".join(t(locale, r.key, **r.params) for r in health.reasons) or t(locale, "health.fine")


def health_block(locale: str | None, health: Any) -> Block:
    """The card's health line: `Health 62/100 · no touch for 47 days, interval 30`."""
    text = t(locale, "health.line", score=health.score, reasons=reasons_text(locale, health))
    return {"type": "context", "elements": [mrkdwn(text)]}


def profile_answer(locale: str | None, profile: Profile, *, saying: str | None = None) -> tuple[str, list[Block]]:
    """The profile card of `services.profiles.profile`, with `saying` (already escaped) above it."""
    blocks = profile_blocks(
        locale, profile.customer, touches=profile.touches, more_touches=profile.more_touches, tz=profile.tz,
        health=profile.health, complaints=customer_complaints(locale, profile.complaints), channels=profile.channels,
        currency=profile.currency, loss=profile.loss,
    )  # fmt: skip
    title = escape(customer_title(profile.customer))
    return (saying or title), ([section(saying), *blocks] if saying else blocks)


def candidates(
    locale: str | None, ref: str, found: Sequence[Customer], *, action_id: str, value: str | None = None
) -> tuple[str, list[Block]]:
    """Several customers match `ref`: each as a button that does `action_id` (value: `value`
    with `{id}` for the customer's id, default the id)."""
    label = _CANDIDATE_LABELS.get(action_id, "button.show")
    text = t(locale, "customer.ambiguous", text=escape(ref))
    body = [section(text)]
    for c in found:
        v = value.replace("{id}", str(c.id)) if value else str(c.id)
        body.append(section(customer_line(c), button(t(locale, label), action_id, v)))
    return text, body


# What a candidate button says, by what it does.
_CANDIDATE_LABELS = {
    CHANNEL_LINK_PICK: "button.link",
    CUSTOMER_EDIT: "button.edit",
    TOUCH_LOG: "button.log_touch",
    REVISIT_SCHEDULE: "button.schedule_revisit",
    COMPLAINT_NEW: "button.log_complaint",
    LOST_PICK: "button.mark_lost",
    WON_PICK: "button.won_back",
}


def saved_text(locale: str | None, customer: Customer, *, updated: bool) -> str:
    return t(locale, "customer.updated" if updated else "customer.created", name=escape(customer.name),
             number=customer.number)  # fmt: skip


def search_results(
    locale: str | None, text: str, found: Sequence[CustomerItem], *, more: dict[str, Any] | None
) -> tuple[str, list[Block]]:
    """`/crm find` and its More pages; "no match" with a New button when nothing matched."""
    if not found:
        return t(locale, "find.none", text=escape(text)), no_match(locale, text)[1]
    header = t(locale, "find.header", text=escape(text))
    return header, customer_list(locale, header, found, more=more)
