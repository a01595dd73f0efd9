"""Lifecycle views: a customer's stage and value on its card, "Mark as lost", the churn report.
"""

from __future__ import annotations

from bot.clock import local_today
from bot.i18n import format_money, t
from bot.storage.models import Customer
from bot.views.kit import Block, mrkdwn


def stage_name(locale: str | None, stage: str | None) -> str:
    return t(locale, f"stage.{stage or 'new'}")


def stage_block(locale: str | None, customer: Customer, *, currency: str, tz: str | None) -> Block:
    """The card's line `Stage Active since 2026-11-03 · Value CN¥1,200,000`."""
    c = customer
    since = local_today(c.stage_since, tz) if c.stage_since else None
    text = t(locale, "stage.line", stage=stage_name(locale, c.stage), since=since or "–",
             value=format_money(locale, c.value, currency))  # fmt: skip
    return {"type": "context", "elements": [mrkdwn(text)]}
