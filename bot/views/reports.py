"""Report views: the report message, health, the risk list, grade suggestions, check-ins.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.i18n import format_money, t
from bot.storage.models import Customer
from bot.views.customers import reasons_text
from bot.views.ids import CHECKIN_BLOCK, CUSTOMER_EDIT, SATISFACTION_SCORE
from bot.views.kit import (
    MAX_TEXT,
    Block,
    actions,
    button,
    customer_title,
    escape,
    mrkdwn,
    raw_cell,
    rich_cell,
    section,
    table,
    user_element,
)


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


OWNER_COLUMNS = ("owner", "touches", "customers", "revisits", "opened", "resolved", "open", "sla", "satisfaction",
                 "value", "follow_ups")


def _owner_table(locale: str | None, report: Any) -> Block | None:
    """The per-owner figures as a `table` block (None when it would not fit: see kit.table)."""
    from bot.services.reports import NOBODY

    rows = []
    for key in report.owners:
        m, b = report.current[key], report.before[key]
        who = raw_cell(t(locale, "report.nobody")) if key == NOBODY else rich_cell(user_element(key))
        rows.append([who, *(raw_cell(v) for v in (
            compared(m.touches, b.touches), compared(m.customers_touched, b.customers_touched),
            compared(m.revisits_on_time_pct, b.revisits_on_time_pct, "%"),
            compared(m.complaints_opened, b.complaints_opened), compared(m.complaints_resolved, b.complaints_resolved),
            compared(m.complaints_open, b.complaints_open),
            compared(m.first_response_sla_pct, b.first_response_sla_pct, "%"),
            compared(m.satisfaction_avg, b.satisfaction_avg), format_money(locale, m.value, report.currency),
            t(locale, "report.cell.follow_ups", due=m.follow_ups_due, on_time=m.follow_ups_on_time,
              late=m.follow_ups_late, open=m.follow_ups_open),
        ))])  # fmt: skip
    header = [t(locale, f"report.column.{c}") for c in OWNER_COLUMNS]
    return table(header, rows, align=[None, *("right",) * (len(OWNER_COLUMNS) - 1)])


def report_blocks(locale: str | None, report: Any, *, as_table: bool = True) -> list[Block]:
    """The report message: the team's (or one owner's) figures, then the figures per owner:
    a table (a message may hold one, at its end), or where none fits, a line each."""
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
          checkin_avg=c("checkin_avg"), checkins=c("checkins"), survey_avg=c("survey_avg"), surveys=c("surveys")),
        t(locale, "report.customers", customers=c("customers"), new=c("new_customers"),
          grades=_counts(now.by_grade), segments=_counts(now.by_segment)),
        t(locale, "report.value", value=format_money(locale, now.value, report.currency),
          grades=_amounts(locale, now.value_by_grade, report.currency)),
        t(locale, "report.follow_ups", due=c("follow_ups_due"), on_time=c("follow_ups_on_time"),
          late=c("follow_ups_late"), open=c("follow_ups_open")),
    ]  # fmt: skip
    body: list[Block] = [
        section(title),
        {"type": "context", "elements": [mrkdwn(t(
            locale, "report.compared", start=report.previous.first_day.isoformat(),
            end=report.previous.last_day.isoformat()))]},
        section("\n".join(lines)),
    ]  # fmt: skip
    if not report.user_id and report.owners and as_table:
        grid = _owner_table(locale, report)
        if grid is not None:
            return [*body, section(t(locale, "report.owners")), grid]
    if not report.user_id and report.owners:
        rows = []
        for key in report.owners:
            m, b = report.current[key], report.before[key]
            rows.append("• " + t(
                locale, "report.owner",
                user=t(locale, "report.nobody") if key == NOBODY else f"<@{key}>",
                touches=compared(m.touches, b.touches), customers=compared(m.customers_touched, b.customers_touched),
                revisits=compared(m.revisits_on_time_pct, b.revisits_on_time_pct, "%"),
                opened=compared(m.complaints_opened, b.complaints_opened),
                resolved=compared(m.complaints_resolved, b.complaints_resolved),
                open=compared(m.complaints_open, b.complaints_open),
                sla=compared(m.first_response_sla_pct, b.first_response_sla_pct, "%"),
                avg=compared(m.satisfaction_avg, b.satisfaction_avg),
            ) + t(
                locale, "report.owner.more", value=format_money(locale, m.value, report.currency),
                due=m.follow_ups_due, on_time=m.follow_ups_on_time, late=m.follow_ups_late, open=m.follow_ups_open,
            ))  # fmt: skip
        body.append(section(t(locale, "report.owners")))
        # A section holds 3,000 characters: long teams go in several.
        chunk: list[str] = []
        for row in rows:
            if sum(len(r) + 1 for r in chunk) + len(row) > MAX_TEXT:
                body.append(section("\n".join(chunk)))
                chunk = []
            chunk.append(row)
        body.append(section("\n".join(chunk)))
    return body


def _amounts(locale: str | None, amounts: dict[str, int], currency: str) -> str:
    return ", ".join(f"{k} {format_money(locale, v, currency)}" for k, v in sorted(amounts.items())) or "–"


def risk_blocks(locale: str | None, report: Any, currency: str) -> list[Block]:
    """`/crm report risk` (services.health.risk_report): the value at risk, then the customers
    with the lowest health, each with its value."""
    if not report.customers:
        return [section(t(locale, "risk.none"))]
    largest = ", ".join(f"{escape(f'{r.customer.name} (#{r.customer.number})')} {format_money(locale, r.customer.value, currency)}"
                        for r in report.largest) or t(locale, "report.none")  # fmt: skip
    at_risk = t(locale, "risk.value", value=format_money(locale, report.value_at_risk, currency),
                count=report.customers_under, largest=largest)  # fmt: skip
    lines = [
        t(locale, "risk.line", score=r.health.score, customer=escape(f"{r.customer.name} (#{r.customer.number})"),
          owner=f"<@{r.customer.owner_id}>" if r.customer.owner_id else t(locale, "report.nobody"),
          value=format_money(locale, r.customer.value, currency), reasons=reasons_text(locale, r.health))
        for r in report.customers
    ]  # fmt: skip
    return [section(t(locale, "risk.title")), section(at_risk), section("\n".join(f"• {line}" for line in lines))]


def grade_blocks(locale: str | None, suggestions: Sequence[Any], rules: Any, currency: str = "CNY") -> list[Block]:
    """Grade suggestions, each with **Edit** to apply it by hand."""
    tags = ", ".join(rules.a_tags) or t(locale, "report.none")
    title = t(locale, "grades.title", a=rules.a_touches, b=rules.b_touches, days=rules.days, tags=tags)
    if rules.a_value is not None or rules.b_value is not None:
        title += " " + t(locale, "grades.by_value", a=format_money(locale, rules.a_value, currency),
                         b=format_money(locale, rules.b_value, currency))  # fmt: skip
    body = [section(title)]
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
        actions(*buttons, block_id=f"{CHECKIN_BLOCK}{customer.id}"),
    ]
