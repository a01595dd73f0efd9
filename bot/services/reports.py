"""Reports: what a team lead reads every Monday, per owner and for the team.

Every figure is counted in SQL (COUNT, conditional SUM, AVG, GROUP BY over indexed columns).
The exceptions are the median and 90th percentile of complaint response and resolution times:
their durations go through an injectable `Duration` (business hours once the team calendar is
wired in; plain elapsed hours by default), which SQL cannot call, so only the two timestamps of
the complaints answered or resolved in the period are fetched (never whole rows, never other
periods). Percentiles interpolate linearly, as PostgreSQL's `percentile_cont` does.

Definitions (a period is [start, end) in the caller's time zone; weeks start on Monday):
- touches: touches that happened in the period, by author; customers touched: distinct customers.
- revisits done on time / late: revisits done in the period (`revisit_done`, written when a
  customer's newest touch is logged while a revisit is scheduled), on time when the touch's day
  is on or before the day the revisit was due; by the customer's owner at that time.
  % on time = on time / (on time + late).
- still overdue: revisits due before the "as of" day (the period's last day, or today for the
  current period) and not done by then: customers whose next revisit is before that day, plus
  revisits done later than that day. A revisit moved by `/crm revisit` without a touch is not a
  revisit done.
- complaints opened / resolved in the period, by assignee; open: opened before the period's end
  and not resolved by then. SLA met %: of the complaints answered (resolved) in the period that
  had a deadline, those answered (resolved) on or before it.
- satisfaction: average and count of the scores given at resolution in the period (by
  assignee), of those recorded at check-ins (by who recorded them), and of the customers' own
  survey answers (services.surveys; by the customer's owner now: the guest who answered is
  not one of the team).
- customers by grade and segment: customers created before the period's end, by their current
  grade and segment, by owner; new customers: created in the period.
- value: the summed yearly value, as it stands now, of those customers that are on the books
  now (new, active or at risk: not prospects, not lost), by owner and by grade.
- follow-ups, by assignee: those due in the period (their due day, as snoozing left it, falls
  in it), and of them, as they stand now: done on time (on or before the due day), done late,
  still open. The four add up: due = on time + late + open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import DateTime, Select, and_, case, func, select, type_coerce
from sqlalchemy.orm import Session

from bot.clock import zone
from bot.services import csvfile
from bot.services.access import Viewer
from bot.services.errors import UserError
from bot.services.workspaces import team_settings
from bot.storage.models import (
    ON_BOOKS,
    Complaint,
    Customer,
    FollowUp,
    Member,
    RevisitDone,
    SatisfactionScore,
    Touch,
)

PeriodKind = Literal["week", "month", "quarter"]
PERIOD_KINDS: tuple[str, ...] = ("week", "month", "quarter")
TREND_PERIODS = 8

# (start, end) -> hours. Plug the team's business-hours calendar in here (see `build_report`).
Duration = Callable[[dt.datetime, dt.datetime], float]


def elapsed_hours(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / 3600


@dataclass(frozen=True)
class Period:
    kind: str
    first_day: dt.date
    end_day: dt.date  # exclusive
    tz: str | None

    @property
    def last_day(self) -> dt.date:
        return self.end_day - dt.timedelta(days=1)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first_day, dt.time(), tzinfo=zone(self.tz))

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.end_day, dt.time(), tzinfo=zone(self.tz))

    def shifted(self, periods: int) -> Period:
        return period_of(self.kind, _shift(self.kind, self.first_day, periods), self.tz)


def _start_of(kind: str, day: dt.date) -> dt.date:
    if kind == "week":
        return day - dt.timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)


def _shift(kind: str, first_day: dt.date, periods: int) -> dt.date:
    if kind == "week":
        return first_day + dt.timedelta(weeks=periods)
    months = periods * (1 if kind == "month" else 3)
    index = first_day.year * 12 + first_day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_of(kind: str, day: dt.date, tz: str | None) -> Period:
    """The week (from Monday), month or quarter containing `day`."""
    first = _start_of(kind, day)
    return Period(kind=kind, first_day=first, end_day=_shift(kind, first, 1), tz=tz)


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks, as PostgreSQL's `percentile_cont(q)`."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass
class Figures:
    """One scope's figures for one period (a owner, or the whole team)."""

    touches: int = 0
    customers_touched: int = 0
    revisits_on_time: int = 0
    revisits_late: int = 0
    revisits_overdue: int = 0
    complaints_opened: int = 0
    complaints_resolved: int = 0
    complaints_open: int = 0
    first_response_median: float | None = None  # hours
    first_response_p90: float | None = None
    resolution_median: float | None = None
    resolution_p90: float | None = None
    first_response_met: int = 0
    first_response_with_sla: int = 0
    resolution_met: int = 0
    resolution_with_sla: int = 0
    satisfaction_avg: float | None = None
    satisfaction_answered: int = 0
    checkin_avg: float | None = None  # satisfaction recorded at check-ins, by who recorded it
    checkins: int = 0
    survey_avg: float | None = None  # the customers' answers to surveys, by the customer's owner
    surveys: int = 0
    customers: int = 0
    new_customers: int = 0
    by_grade: dict[str, int] = field(default_factory=dict)
    by_segment: dict[str, int] = field(default_factory=dict)
    value: int = 0  # of the customers on the books now, in whole units of the team's currency
    value_by_grade: dict[str, int] = field(default_factory=dict)
    follow_ups_due: int = 0
    follow_ups_on_time: int = 0
    follow_ups_late: int = 0
    follow_ups_open: int = 0

    @property
    def revisits_on_time_pct(self) -> float | None:
        return _pct(self.revisits_on_time, self.revisits_on_time + self.revisits_late)

    @property
    def first_response_sla_pct(self) -> float | None:
        return _pct(self.first_response_met, self.first_response_with_sla)

    @property
    def resolution_sla_pct(self) -> float | None:
        return _pct(self.resolution_met, self.resolution_with_sla)


# The figures, in the order reports and CSV files show them (names are the CSV's).
FIGURES: tuple[str, ...] = (
    "touches", "customers_touched", "revisits_on_time", "revisits_late", "revisits_overdue",
    "revisits_on_time_pct", "complaints_opened", "complaints_resolved", "complaints_open",
    "first_response_median", "first_response_p90", "resolution_median", "resolution_p90",
    "first_response_sla_pct", "resolution_sla_pct", "satisfaction_avg", "satisfaction_answered",
    "checkin_avg", "checkins", "survey_avg", "surveys", "customers", "new_customers", "value", "follow_ups_due", "follow_ups_on_time",
    "follow_ups_late", "follow_ups_open",
)  # fmt: skip

TEAM = ""  # the key of the team's own figures in `Report.scopes`


@dataclass
class TrendPoint:
    period: Period
    touches: int
    first_response_sla_pct: float | None


@dataclass
class Report:
    period: Period
    previous: Period
    user_id: str | None  # a report about one owner (`@user`), else the team
    current: dict[str, Figures]  # TEAM and one entry per owner ("-" for nobody)
    before: dict[str, Figures]
    trend: list[TrendPoint]
    names: dict[str, str]  # user id -> display name, for the chart
    currency: str = "CNY"  # the team's, for the value

    @property
    def owners(self) -> list[str]:
        return sorted(k for k in self.current if k != TEAM)


NOBODY = "-"


class _Collector:
    """Runs each grouped query twice: per owner (GROUP BY) and for the whole scope."""

    def __init__(self, session: Session, team_id: str, user_id: str | None) -> None:
        self.session, self.team_id, self.user_id = session, team_id, user_id
        self.figures: dict[str, Figures] = {TEAM: Figures()}

    def of(self, key: str | None) -> Figures:
        return self.figures.setdefault(NOBODY if key is None else key, Figures())

    def rows(
        self, key: Any, columns: list[Any], where: list[Any], *, additive: bool = False
    ) -> Iterable[tuple[str, tuple[Any, ...]]]:
        """Per owner, then the team: summed from the owners' rows when every column is a
        count (`additive`), else asked of the database (distinct counts, averages)."""
        if self.user_id is not None:
            where = [*where, key == self.user_id]
        groups = [(row[0] or NOBODY, tuple(row[1:])) for row in self.session.execute(
            select(key, *columns).where(*where).group_by(key))]  # fmt: skip
        yield from groups
        if additive:
            totals = [sum(int(v or 0) for v in column) for column in zip(*(g for _, g in groups), strict=True)]
            yield TEAM, tuple(totals) if groups else (0,) * len(columns)
        else:
            yield TEAM, tuple(self.session.execute(select(*columns).where(*where)).one())

    def durations(self, key: Any, start: Any, end: Any, where: list[Any], duration: Duration) -> dict[str, list[float]]:
        """`duration(start, end)` of each row, listed per owner and for the team (measured
        once per row: with business hours, this is most of a report's own work)."""
        if self.user_id is not None:
            where = [*where, key == self.user_id]
        out: dict[str, list[float]] = {TEAM: []}
        team = out[TEAM]
        # Plain DateTime columns (SQLite hands back naive UTC) through Core, without the ORM's
        # and UTCDateTime's work per value: tens of thousands of them in a busy month.
        plain = select(key, type_coerce(start, DateTime()), type_coerce(end, DateTime())).where(*where)
        for owner, a, b in self.session.connection().execute(plain):
            if a.tzinfo is None:
                a, b = a.replace(tzinfo=dt.UTC), b.replace(tzinfo=dt.UTC)
            hours = duration(a, b)
            team.append(hours)
            out.setdefault(owner or NOBODY, []).append(hours)
        return out


def _sum(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _figures(
    *, session: Session, team_id: str, period: Period, user_id: str | None, today: dt.date, duration: Duration
) -> dict[str, Figures]:
    c = _Collector(session, team_id, user_id)
    start, end = period.start, period.end

    in_period = [Touch.team_id == team_id, Touch.happened_at >= start, Touch.happened_at < end]
    for key, (touches, customers) in c.rows(
        Touch.author_id, [func.count(), func.count(func.distinct(Touch.customer_id))], in_period
    ):
        c.of(key).touches, c.of(key).customers_touched = touches, customers

    done = [RevisitDone.team_id == team_id, RevisitDone.done_on >= period.first_day, RevisitDone.done_on < period.end_day]
    on_time = RevisitDone.done_on <= RevisitDone.due_on
    for key, (n_on_time, n_late) in c.rows(RevisitDone.owner_id, [_sum(on_time), _sum(~on_time)], done, additive=True):
        c.of(key).revisits_on_time, c.of(key).revisits_late = n_on_time, n_late

    as_of = min(today, period.last_day)
    not_yet = [Customer.team_id == team_id, Customer.revisits_enabled.is_(True), Customer.next_revisit < as_of,
               Customer.created_at < end]  # fmt: skip
    for key, (n,) in c.rows(Customer.owner_id, [func.count()], not_yet, additive=True):
        c.of(key).revisits_overdue += n
    done_later = [RevisitDone.team_id == team_id, RevisitDone.due_on < as_of, RevisitDone.done_on > as_of]
    for key, (n,) in c.rows(RevisitDone.owner_id, [func.count()], done_later, additive=True):
        c.of(key).revisits_overdue += n

    team = Complaint.team_id == team_id
    opened = [team, Complaint.opened_at >= start, Complaint.opened_at < end]
    for key, (n,) in c.rows(Complaint.assignee_id, [func.count()], opened, additive=True):
        c.of(key).complaints_opened = n
    resolved = [team, Complaint.resolved_at >= start, Complaint.resolved_at < end]
    met = and_(Complaint.resolution_due.is_not(None), Complaint.resolved_at <= Complaint.resolution_due)
    for key, (n, n_met, n_sla, avg, answered) in c.rows(
        Complaint.assignee_id,
        [func.count(), _sum(met), _sum(Complaint.resolution_due.is_not(None)),
         func.avg(Complaint.satisfaction), func.count(Complaint.satisfaction)],
        resolved,
    ):  # fmt: skip
        f = c.of(key)
        f.complaints_resolved, f.resolution_met, f.resolution_with_sla = n, n_met, n_sla
        f.satisfaction_avg = round(float(avg), 2) if avg is not None else None
        f.satisfaction_answered = answered
    # Open at the end: not resolved, or resolved after it. Two ranges of the resolved_at index
    # rather than one OR, which read every complaint opened before the end (nearly all of them).
    for not_by_end in (Complaint.resolved_at.is_(None), Complaint.resolved_at >= end):
        for key, (n,) in c.rows(Complaint.assignee_id, [func.count()], [team, not_by_end, Complaint.opened_at < end], additive=True):
            c.of(key).complaints_open += n
    answered = [team, Complaint.first_response_at >= start, Complaint.first_response_at < end]
    met = and_(Complaint.first_response_due.is_not(None), Complaint.first_response_at <= Complaint.first_response_due)
    for key, (n_met, n_sla) in c.rows(
        Complaint.assignee_id, [_sum(met), _sum(Complaint.first_response_due.is_not(None))], answered, additive=True
    ):
        c.of(key).first_response_met, c.of(key).first_response_with_sla = n_met, n_sla

    # Durations: only two timestamps per complaint answered / resolved in this period.
    first = c.durations(Complaint.assignee_id, Complaint.opened_at, Complaint.first_response_at, answered, duration)
    for key, values in first.items():
        c.of(key).first_response_median, c.of(key).first_response_p90 = _round(percentile(values, 0.5)), _round(percentile(values, 0.9))
    fix = c.durations(Complaint.assignee_id, Complaint.opened_at, Complaint.resolved_at, resolved, duration)
    for key, values in fix.items():
        c.of(key).resolution_median, c.of(key).resolution_p90 = _round(percentile(values, 0.5)), _round(percentile(values, 0.9))

    scores = [SatisfactionScore.team_id == team_id, SatisfactionScore.recorded_at >= start, SatisfactionScore.recorded_at < end]
    checkins = [*scores, SatisfactionScore.source == "checkin"]
    for key, (avg, n) in c.rows(SatisfactionScore.recorded_by, [func.avg(SatisfactionScore.score), func.count()], checkins):
        c.of(key).checkin_avg, c.of(key).checkins = (round(float(avg), 2) if avg is not None else None), n
    answers = [*scores, SatisfactionScore.source == "survey", Customer.id == SatisfactionScore.customer_id]
    for key, (avg, n) in c.rows(Customer.owner_id, [func.avg(SatisfactionScore.score), func.count()], answers):
        c.of(key).survey_avg, c.of(key).surveys = (round(float(avg), 2) if avg is not None else None), n

    promised = [FollowUp.team_id == team_id, FollowUp.due_on >= period.first_day, FollowUp.due_on < period.end_day]
    done = FollowUp.done_on.is_not(None)
    for key, (n, n_on_time, n_late, n_open) in c.rows(
        FollowUp.assignee_id,
        [func.count(), _sum(and_(done, FollowUp.done_on <= FollowUp.due_on)),
         _sum(and_(done, FollowUp.done_on > FollowUp.due_on)), _sum(FollowUp.done_at.is_(None))],
        promised, additive=True,
    ):  # fmt: skip
        f = c.of(key)
        f.follow_ups_due, f.follow_ups_on_time, f.follow_ups_late, f.follow_ups_open = n, n_on_time, n_late, n_open
    return c.figures


def _customers(
    *, session: Session, team_id: str, user_id: str | None, period: Period, current: dict[str, Figures], before: dict[str, Figures]
) -> None:
    """Customers by owner, grade and segment, with the value of those on the books, added to
    the figures of the period and of the one before it, from one pass over the customers: the
    period before's are those of the period less the customers created in it."""
    existing = [Customer.team_id == team_id, Customer.created_at < period.end]
    if user_id:
        existing.append(Customer.owner_id == user_id)
    new, new_before = Customer.created_at >= period.start, Customer.created_at >= period.shifted(-1).start
    on_books = Customer.stage.in_(ON_BOOKS)
    value, new_value = (func.coalesce(func.sum(case((cond, Customer.value))), 0) for cond in (on_books, and_(on_books, new)))
    groups = (Customer.owner_id, Customer.grade, Customer.segment)
    counts = (func.count(), _sum(new), _sum(and_(new_before, ~new)), value, new_value)
    for owner, grade, segment, n, n_new, n_new_before, worth, new_worth in session.execute(
        select(*groups, *counts).where(*existing).group_by(*groups)
    ):
        for figures, n, n_new, worth in ((current, n, n_new, worth), (before, n - n_new, n_new_before, worth - new_worth)):
            if not n:
                continue
            for key in (owner or NOBODY, TEAM):
                f = figures.setdefault(key, Figures())
                f.customers, f.new_customers = f.customers + n, f.new_customers + n_new
                f.by_grade[grade or NOBODY] = f.by_grade.get(grade or NOBODY, 0) + n
                f.by_segment[segment or NOBODY] = f.by_segment.get(segment or NOBODY, 0) + n
                f.value += int(worth)
                f.value_by_grade[grade or NOBODY] = f.value_by_grade.get(grade or NOBODY, 0) + int(worth)


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def _trend(
    *, session: Session, team_id: str, period: Period, user_id: str | None, known: dict[Period, Figures]
) -> list[TrendPoint]:
    """The team's (or the owner's) touches and first-response SLA met % over the last periods;
    those of the periods in `known` (the report's two) are taken from their figures."""
    points = []
    for back in range(TREND_PERIODS - 1, -1, -1):
        p = period.shifted(-back)
        if p in known:
            points.append(TrendPoint(period=p, touches=known[p].touches, first_response_sla_pct=known[p].first_response_sla_pct))
            continue
        touches: Select[Any] = select(func.count()).where(
            Touch.team_id == team_id, Touch.happened_at >= p.start, Touch.happened_at < p.end
        )
        sla: Select[Any] = select(
            _sum(and_(Complaint.first_response_due.is_not(None), Complaint.first_response_at <= Complaint.first_response_due)),
            _sum(Complaint.first_response_due.is_not(None)),
        ).where(Complaint.team_id == team_id, Complaint.first_response_at >= p.start, Complaint.first_response_at < p.end)
        if user_id:
            touches, sla = touches.where(Touch.author_id == user_id), sla.where(Complaint.assignee_id == user_id)
        met, total = session.execute(sla).one()
        points.append(TrendPoint(period=p, touches=session.scalar(touches) or 0, first_response_sla_pct=_pct(met, total)))
    return points


def report_scope(viewer: Viewer, user_id: str | None) -> str | None:
    """Whose figures the viewer may read: anyone's (or the team's, None) when they see every
    customer; otherwise only their own, whatever they asked for."""
    if viewer.sees_all:
        return user_id
    if user_id not in (None, viewer.user_id):
        raise UserError("report.own_only")
    return viewer.user_id


def build_report(
    *,
    session: Session,
    viewer: Viewer,
    kind: str = "week",
    today: dt.date,
    tz: str | None,
    user_id: str | None = None,
    duration: Duration = elapsed_hours,
) -> Report:
    """The report for the period containing `today` and the one before it: the team's, or
    `user_id`'s, as far as the viewer may read (`report_scope`).

    `duration` measures complaint response and resolution times; pass the team calendar's
    business-hours function here (default: elapsed hours).
    """
    team_id, user_id = viewer.team_id, report_scope(viewer, user_id)
    period = period_of(kind, today, tz)
    previous = period.shifted(-1)
    args = {"session": session, "team_id": team_id, "user_id": user_id, "today": today, "duration": duration}
    current = _figures(period=period, **args)  # type: ignore[arg-type]
    before = _figures(period=previous, **args)  # type: ignore[arg-type]
    _customers(session=session, team_id=team_id, user_id=user_id, period=period, current=current, before=before)
    for key in current:  # a owner new this period is compared with zeros
        before.setdefault(key, Figures())
    ids = [k for k in current if k not in (TEAM, NOBODY)]
    members = select(Member.user_id, Member.name).where(Member.team_id == team_id, Member.user_id.in_(ids))
    names = {user: name for user, name in session.execute(members)}
    return Report(
        period=period, previous=previous, user_id=user_id, current=current, before=before,
        trend=_trend(session=session, team_id=team_id, period=period, user_id=user_id,
                     known={period: current[TEAM], previous: before[TEAM]}),
        names={i: names.get(i) or i for i in ids}, currency=team_settings(session, team_id).currency,
    )  # fmt: skip


def report_csv(report: Report) -> bytes:
    """The same figures as CSV: scope, figure, this period, previous period (csvfile: safe to
    open in a spreadsheet; the figures stay numbers)."""
    rows: list[list[object]] = [["scope", "figure", f"{report.period.first_day}..{report.period.last_day}",
                                 f"{report.previous.first_day}..{report.previous.last_day}"]]  # fmt: skip
    for key in [TEAM, *report.owners]:
        scope = report.user_id if key == TEAM and report.user_id else (key or "team")
        now, before = report.current[key], report.before[key]
        for name in FIGURES:
            rows.append([scope, name, getattr(now, name), getattr(before, name)])
        for attr, name in (("by_grade", "grade"), ("by_segment", "segment"), ("value_by_grade", "value:grade")):
            for value in sorted(set(getattr(now, attr)) | set(getattr(before, attr))):
                rows.append([scope, f"{name}:{value}", getattr(now, attr).get(value, 0), getattr(before, attr).get(value, 0)])
    return csvfile.to_bytes(rows)
