"""Lifecycle views: a customer's stage and value on its card, "Mark as lost", won back.
"""

from __future__ import annotations

import json
from typing import Any

from bot.clock import local_today
from bot.i18n import format_money, t
from bot.services.lifecycle import REASONS
from bot.storage.models import Customer, StageChange
from bot.views.ids import LOST_MODAL, VALUE
from bot.views.kit import Block, customer_title, escape, labelled, modal, mrkdwn, option, section, text_input


def stage_name(locale: str | None, stage: str | None) -> str:
    return t(locale, f"stage.{stage or 'new'}")


def reason_name(locale: str | None, reason: str | None) -> str:
    return t(locale, f"lost.reason.{reason or 'other'}")


def stage_block(locale: str | None, customer: Customer, *, currency: str, tz: str | None,
                loss: StageChange | None = None) -> Block:  # fmt: skip
    """The card's line `Stage Active since 2026-11-03 · Value CN¥1,200,000` (a lost customer's
    with the reason)."""
    c = customer
    since = local_today(c.stage_since, tz) if c.stage_since else "–"
    value = format_money(locale, c.value, currency)
    if loss is not None:
        text = t(locale, "stage.lost_line", since=since, reason=reason_name(locale, loss.reason), value=value)
    else:
        text = t(locale, "stage.line", stage=stage_name(locale, c.stage), since=since, value=value)
    return {"type": "context", "elements": [mrkdwn(text)]}


def lost_modal(locale: str | None, customer: Customer) -> dict[str, Any]:
    """"Mark as lost": Reason* and Note."""
    reasons = {"type": "static_select", "action_id": VALUE,
               "options": [option(reason_name(locale, r), r) for r in REASONS]}  # fmt: skip
    body = [
        section(t(locale, "lost.intro", customer=escape(customer_title(customer)))),
        labelled(locale, "reason", "field.reason", reasons, optional=False),
        text_input(locale, "note", None, multiline=True, max_length=3000),
    ]
    return modal(LOST_MODAL, t(locale, "lost.modal.title"), body, locale=locale,
                 metadata=json.dumps({"customer_id": customer.id}))  # fmt: skip


def lost_text(locale: str | None, customer: Customer, reason: str) -> str:
    return t(locale, "lost.done", customer=escape(customer_title(customer)), reason=reason_name(locale, reason))


def won_text(locale: str | None, customer: Customer) -> str:
    return t(locale, "won.done", customer=escape(customer_title(customer)), date=customer.next_revisit)
