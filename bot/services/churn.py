"""The churn report (`/crm report churn [month|quarter] [csv]`): who left, why, what it cost.

Every figure comes from the stage history (`stage_change`, services.lifecycle), counted in
SQL. A period is a month or a quarter in the caller's time zone, [start, end); the report
covers the one holding today (so far) and the 7 before it, oldest first.

- customers at the start: customers on the books (new, active or at risk: neither a
  prospect nor lost) at the period's first instant: the moves onto the books (added as new,
  a prospect made a customer, won back) less the moves off them (made a prospect again,
  lost) before that instant; counted back from the customers on the books now.
- lost: customers moved from the books to lost in the period, each once (a customer lost,
  won back and lost again in one period counts once, with its last loss). By reason and by
  owner: the reason given and the customer's owner at that loss.
- churn rate: lost ÷ customers at the start, in percent (none when nobody was on the
  books). A customer added and lost within the period is lost but was not at the start.
- value lost: the summed yearly value the lost customers had when they were lost.
- won back: customers moved from lost back onto the books in the period, each once.
- prospects lost: prospects marked lost in the period, each once; not churn (they never
  were customers), so in none of the figures above.

A person who sees only some customers (an owner-only team) gets the figures of those.
A customer deleted (merged into another) takes its history with it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from bot.services import csvfile
from bot.services.access import Viewer
from bot.services.errors import UserError
from bot.services.lifecycle import REASONS
from bot.services.reports import TREND_PERIODS, Period, period_of
from bot.services.workspaces import team_settings
from bot.storage.models import ON_BOOKS, Customer, StageChange

KINDS: tuple[str, ...] = ("month", "quarter")
NOBODY = "-"


@dataclass
class ChurnFigures:
    period: Period
    customers_at_start: int = 0
    lost: int = 0
    value_lost: int = 0
    won_back: int = 0
    prospects_lost: int = 0
    by_reason: dict[str, tuple[int, int]] = field(default_factory=dict)  # reason -> (customers, value)
    by_owner: dict[str, tuple[int, int]] = field(default_factory=dict)  # owner then -> (customers, value)

    @property
    def churn_rate(self) -> float | None:
        """Percent, one decimal; None when nobody was on the books at the start."""
        return round(100 * self.lost / self.customers_at_start, 1) if self.customers_at_start else None


@dataclass
class ChurnReport:
    kind: str
    periods: list[ChurnFigures]  # oldest first; the last is the period holding today
    currency: str
    own: bool  # only the customers the reader sees (an owner-only team)

    @property
    def current(self) -> ChurnFigures:
        return self.periods[-1]


def _seen(query: Select[Any], viewer: Viewer) -> Select[Any]:
    """`query` over the history, kept to the customers the viewer sees."""
    if viewer.sees_all:
        return query
    return query.join(Customer, Customer.id == StageChange.customer_id).where(viewer.customers())


def _on_books_at(session: Session, viewer: Viewer, starts: list[dt.datetime]) -> list[int]:
    """Customers on the books at each instant, counted back from today's book: those on it
    now, less the moves onto it since the instant, plus the moves off it since. (Every move is
    kept and a customer's stage is its last move, so this equals counting the history forward;
    it reads only the periods' moves, not the years before them.)"""
    now = session.scalar(select(func.count()).select_from(Customer).where(
        Customer.team_id == viewer.team_id, Customer.stage.in_(ON_BOOKS), viewer.customers())) or 0  # fmt: skip
    before, after = StageChange.from_stage, StageChange.to_stage
    onto = and_(or_(before.is_(None), before.not_in(ON_BOOKS)), after.in_(ON_BOOKS))
    off = and_(before.in_(ON_BOOKS), after.not_in(ON_BOOKS))
    delta = case((onto, 1), (off, -1), else_=0)
    since = [func.coalesce(func.sum(case((StageChange.at >= start, delta), else_=0)), 0) for start in starts]
    query = select(*since).select_from(StageChange).where(StageChange.team_id == viewer.team_id,
                                                          StageChange.at >= min(starts))  # fmt: skip
    return [int(now) - int(net) for net in session.execute(_seen(query, viewer)).one()]


def _period_of_row(periods: list[Period]) -> Any:
    """The index of the period a history row's instant falls in (None: in none)."""
    return case(*[(and_(StageChange.at >= p.start, StageChange.at < p.end), i) for i, p in enumerate(periods)],
                else_=None)  # fmt: skip


def _figures(session: Session, viewer: Viewer, periods: list[Period], bases: list[int]) -> list[ChurnFigures]:
    """Every period's figures from three grouped queries over the periods' history (each
    reads the rows once, whatever the number of periods)."""
    figures = [ChurnFigures(period=p, customers_at_start=base) for p, base in zip(periods, bases, strict=True)]
    bucket = _period_of_row(periods)
    in_range = [StageChange.team_id == viewer.team_id, StageChange.at >= periods[0].start,
                StageChange.at < periods[-1].end]  # fmt: skip
    last_losses = _seen(
        select(func.max(StageChange.id)).select_from(StageChange)
        .where(*in_range, StageChange.to_stage == "lost", StageChange.from_stage.in_(ON_BOOKS)), viewer,
    ).group_by(StageChange.customer_id, bucket)  # fmt: skip
    for i, reason, owner, n, value in session.execute(
        select(bucket, StageChange.reason, StageChange.owner_id, func.count(), func.coalesce(func.sum(StageChange.value), 0))
        .where(StageChange.id.in_(last_losses))
        .group_by(bucket, StageChange.reason, StageChange.owner_id)
    ):  # fmt: skip
        f, value = figures[i], int(value)
        f.lost += n
        f.value_lost += value
        for table, key in ((f.by_reason, reason or "other"), (f.by_owner, owner or NOBODY)):
            count, total = table.get(key, (0, 0))
            table[key] = (count + n, total + value)
    won = and_(StageChange.from_stage == "lost", StageChange.to_stage.in_(ON_BOOKS))
    prospect_lost = and_(StageChange.from_stage == "prospect", StageChange.to_stage == "lost")
    for attr, which in (("won_back", won), ("prospects_lost", prospect_lost)):
        query = select(bucket, func.count(distinct(StageChange.customer_id))).select_from(StageChange)
        for i, n in session.execute(_seen(query.where(*in_range, which), viewer).group_by(bucket)):
            setattr(figures[i], attr, n)
    return figures


def churn_report(*, session: Session, viewer: Viewer, kind: str = "month", today: dt.date, tz: str | None) -> ChurnReport:
    """The month's or quarter's churn (the one holding `today`) and the 7 before it, of the
    customers the viewer sees."""
    if kind not in KINDS:
        raise UserError("report.usage")
    current = period_of(kind, today, tz)
    periods = [current.shifted(-back) for back in range(TREND_PERIODS - 1, -1, -1)]
    bases = _on_books_at(session, viewer, [p.start for p in periods])
    return ChurnReport(kind=kind, periods=_figures(session, viewer, periods, bases),
                       currency=team_settings(session, viewer.team_id).currency, own=not viewer.sees_all)  # fmt: skip


CSV_FIGURES = ("customers_at_start", "lost", "churn_rate", "value_lost", "won_back", "prospects_lost")


def churn_csv(report: ChurnReport) -> bytes:
    """The same figures as CSV, one column per period (oldest first), one row per figure; then
    per reason and per owner, the customers lost and their value (csvfile: safe to open in a
    spreadsheet, the figures stay numbers)."""
    periods = report.periods
    rows: list[list[object]] = [["figure", *(f"{p.period.first_day}..{p.period.last_day}" for p in periods)]]
    for name in CSV_FIGURES:
        rows.append([name, *(getattr(p, name) for p in periods)])
    owners = sorted({owner for p in periods for owner in p.by_owner})
    for label, table, keys in (("reason", "by_reason", REASONS), ("owner", "by_owner", owners)):
        for key in keys:
            counts = [getattr(p, table).get(key, (0, 0)) for p in periods]
            rows.append([f"lost:{label}:{key}", *(n for n, _ in counts)])
            rows.append([f"value_lost:{label}:{key}", *(v for _, v in counts)])
    return csvfile.to_bytes(rows)
