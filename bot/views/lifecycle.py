"""Lifecycle views: a customer's stage and value on its card, "Mark as lost", won back, the
churn report.
"""

from __future__ import annotations

import json
from typing import Any

from bot.clock import local_today
from bot.i18n import format_money, format_period, t
from bot.services.churn import NOBODY, ChurnReport
from bot.services.lifecycle import REASONS
from bot.storage.models import Customer, StageChange
from bot.views.ids import LOST_MODAL, VALUE
from bot.views.kit import (
    Block,
    customer_title,
    escape,
    labelled,
    modal,
    mrkdwn,
    option,
    section,
    text_input,
)


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


# --- the churn report ----------------------------------------------------------------------------


def _rate(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.1f}%"


def _breakdown(locale: str | None, table: dict[str, tuple[int, int]], name: Any, currency: str) -> str:
    """`Price 3 (CN¥600,000), Service 1 (CN¥20,000)`, most lost first."""
    ordered = sorted(table.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
    return ", ".join(f"{name(key)} {n} ({format_money(locale, value, currency)})" for key, (n, value) in ordered) \
        or t(locale, "churn.none")  # fmt: skip


def churn_title(locale: str | None, report: ChurnReport) -> str:
    p = report.current.period
    return t(locale, "churn.title", period=format_period(locale, p.kind, p.first_day))


def churn_blocks(locale: str | None, report: ChurnReport) -> list[Block]:
    """The churn report message: this period's figures, by reason and owner, then the trend."""
    now, money = report.current, report.currency

    def owner(key: str) -> str:
        return t(locale, "report.nobody") if key == NOBODY else f"<@{key}>"

    summary = [
        t(locale, "churn.summary", base=now.customers_at_start, lost=now.lost, rate=_rate(now.churn_rate),
          value=format_money(locale, now.value_lost, money), won=now.won_back, prospects=now.prospects_lost),
        t(locale, "churn.by_reason", reasons=_breakdown(locale, now.by_reason, lambda r: reason_name(locale, r), money)),
        t(locale, "churn.by_owner", owners=_breakdown(locale, now.by_owner, owner, money)),
    ]  # fmt: skip
    trend = [
        "• " + t(locale, "churn.trend.line", period=format_period(locale, f.period.kind, f.period.first_day),
                 base=f.customers_at_start, lost=f.lost, rate=_rate(f.churn_rate),
                 value=format_money(locale, f.value_lost, money), won=f.won_back)
        for f in report.periods
    ]  # fmt: skip
    about = t(locale, "churn.about") + (" " + t(locale, "churn.own") if report.own else "")
    return [
        section(churn_title(locale, report)),
        section("\n".join(summary)),
        section("\n".join([t(locale, f"churn.trend.{report.kind}"), *trend])),
        {"type": "context", "elements": [mrkdwn(about)]},
    ]
