"""Data-care views: the erase and merge confirmations, the audit trail.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.i18n import EN, language, t
from bot.storage.models import AuditEvent, Customer
from bot.views.ids import AUDIT_MORE, CUSTOMER_ERASE, CUSTOMER_MERGE
from bot.views.kit import (
    Block,
    actions,
    button,
    customer_title,
    escape,
    format_when,
    mrkdwn,
    plain,
    section,
)


def erase_confirmation(locale: str | None, customer: Customer) -> tuple[str, list[Block]]:
    """`/crm erase`: asks first, naming the customer (in the message and in the dialog)."""
    name = escape(customer_title(customer))
    erase = button(t(locale, "button.erase"), CUSTOMER_ERASE, str(customer.id), style="danger")
    erase["confirm"] = {
        "title": plain(t(locale, "erase.confirm.title")),
        "text": mrkdwn(t(locale, "erase.confirm", customer=_short_title(customer))),
        "confirm": plain(t(locale, "button.erase")),
        "deny": plain(t(locale, "modal.cancel")),
        "style": "danger",
    }
    text = t(locale, "erase.ask", customer=name)
    return text, [section(text), actions(erase)]


def _short_title(customer: Customer, limit: int = 60) -> str:
    """The name cut to `limit` characters: a confirm dialog's text holds at most 300."""
    name = customer.name if len(customer.name) <= limit else customer.name[: limit - 1] + "…"
    return escape(f"{name} (#{customer.number})")


def merge_confirmation(locale: str | None, source: Customer, target: Customer) -> tuple[str, list[Block]]:
    """`/crm merge`: asks first, naming both customers."""
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
    text = t(locale, "merge.ask", **names)
    return text, [section(text), actions(merge)]


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


def audit_answer(
    locale: str | None, customer: Customer, rows: Sequence[AuditEvent], *, more: bool, offset: int, tz: str | None
) -> tuple[str, list[Block]]:
    """A page of the audit trail as an answer."""
    text = t(locale, "audit.title", customer=escape(customer_title(customer)))
    return text, audit_blocks(locale, customer, rows, more=more, offset=offset, tz=tz)
