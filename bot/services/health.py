"""Customer health: a score from 0 (about to be lost) to 100 (all well), with its reasons.

`score` is a pure function of a customer's signals; `customer_health` and `at_risk` gather
the signals in one SQL query (complaint counts and satisfaction averages are aggregated in the
database). The formula, also in README ("Customer health"), starts at 100 and subtracts:

- recency: no touch (or, never touched, no touch since the customer was added) for longer
  than the grade's revisit interval: 40 × (days − interval) / interval, at most 40;
- overdue revisit: 5 + 1 per day overdue, at most 20;
- open complaints: 10 each, at most 20; of those, past their SLA deadline: 15 more each, at most 30;
- satisfaction (scores given at complaint resolution, at check-ins and by customers in their
  surveys, services.surveys): average of the last
  90 days at most 2.5: 20;
  otherwise at least 0.5 below the 90 days before: 10;
- overdue follow-ups (a promise not done by its due day, services.followups): 10 each, at most 20.

Only customers on the books (new, active, at risk) are scored for the risk list and the value
at risk; prospects are not customers yet and lost ones are gone.

Grade suggestions (`grade_suggestions`) live here too: like health, they read a customer's
activity and only advise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    false,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from bot.services import access
from bot.services.access import Viewer
from bot.services.sla import CLOSED
from bot.services.workspaces import (
    DEFAULT_GRADE,
    get_workspace,
    revisit_interval,
    team_settings,
)
from bot.storage.models import (
    ON_BOOKS,
    Complaint,
    Customer,
    FollowUp,
    SatisfactionScore,
    Touch,
)
from bot.storage.schema import UTCDateTime

RECENCY_MAX = 40
OVERDUE_BASE, OVERDUE_MAX = 5, 20
OPEN_EACH, OPEN_MAX = 10, 20
BREACHED_EACH, BREACHED_MAX = 15, 30
SATISFACTION_LOW, SATISFACTION_LOW_PENALTY = 2.5, 20
SATISFACTION_DROP, SATISFACTION_DROP_PENALTY = 0.5, 10
SATISFACTION_WINDOW = dt.timedelta(days=90)
FOLLOW_UP_EACH, FOLLOW_UP_MAX = 10, 20
RISK_LIMIT = 15
VALUE_AT_RISK_BELOW = 50  # customers under this health make the value at risk
VALUE_AT_RISK_NAMED = 5
SUGGESTION_LIMIT = 30


@dataclass(frozen=True)
class Reason:
    key: str  # a message catalog key, "health.…"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Health:
    score: int
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class Signals:
    interval_days: int
    created_at: dt.datetime
    last_touch_at: dt.datetime | None = None
    next_revisit: dt.date | None = None  # None: no revisit scheduled (or revisits off)
    open_complaints: int = 0
    breached_complaints: int = 0
    satisfaction_recent: float | None = None  # average of the last 90 days
    satisfaction_before: float | None = None  # average of the 90 days before
    overdue_follow_ups: int = 0  # open follow-ups due before today


def score(signals: Signals, *, now: dt.datetime, today: dt.date) -> Health:
    """The health of one customer from its signals (see the module docstring for the formula)."""
    s = signals
    penalty = 0
    reasons: list[Reason] = []
    since = s.last_touch_at or s.created_at
    days = (now - since).days
    if days > s.interval_days:
        penalty += min(RECENCY_MAX, round(RECENCY_MAX * (days - s.interval_days) / max(s.interval_days, 1)))
        key = "health.no_touch" if s.last_touch_at else "health.never_touched"
        reasons.append(Reason(key, {"days": days, "interval": s.interval_days}))
    if s.next_revisit is not None and s.next_revisit < today:
        overdue = (today - s.next_revisit).days
        penalty += min(OVERDUE_MAX, OVERDUE_BASE + overdue)
        reasons.append(Reason("health.revisit_overdue", {"days": overdue}))
    if s.open_complaints:
        penalty += min(OPEN_MAX, OPEN_EACH * s.open_complaints)
        reasons.append(Reason("health.open_complaints", {"count": s.open_complaints}))
    if s.breached_complaints:
        penalty += min(BREACHED_MAX, BREACHED_EACH * s.breached_complaints)
        reasons.append(Reason("health.breached", {"count": s.breached_complaints}))
    recent, before = s.satisfaction_recent, s.satisfaction_before
    if recent is not None and recent <= SATISFACTION_LOW:
        penalty += SATISFACTION_LOW_PENALTY
        reasons.append(Reason("health.satisfaction_low", {"recent": f"{recent:.1f}"}))
    elif recent is not None and before is not None and recent <= before - SATISFACTION_DROP:
        penalty += SATISFACTION_DROP_PENALTY
        reasons.append(Reason("health.satisfaction_falling", {"before": f"{before:.1f}", "recent": f"{recent:.1f}"}))
    if s.overdue_follow_ups:
        penalty += min(FOLLOW_UP_MAX, FOLLOW_UP_EACH * s.overdue_follow_ups)
        reasons.append(Reason("health.follow_ups_overdue", {"count": s.overdue_follow_ups}))
    return Health(score=max(0, 100 - penalty), reasons=tuple(reasons))


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _complaint_signals(team_id: Any, now: Any, customer_id: Any = None) -> Any:
    """Per customer (or for one): open complaints, and those past an SLA deadline."""
    open_ = Complaint.state.not_in(CLOSED)
    breached = or_(
        and_(Complaint.first_response_at.is_(None), Complaint.first_response_due < now),
        Complaint.resolution_due < now,
    )
    return (
        select(Complaint.customer_id.label("customer_id"), func.count().label("open"), _count(breached).label("breached"))
        .where(Complaint.team_id == team_id, open_, *_one(Complaint.customer_id, customer_id))
        .group_by(Complaint.customer_id)
        .subquery()
    )


def _one(column: Any, customer_id: Any) -> list[Any]:
    """The condition that narrows a per-customer subquery to one customer (or to a list of
    them), inside it (where an index finds the rows), rather than grouping the whole team and
    keeping those groups."""
    if customer_id is None:
        return []
    return [column.in_(customer_id)] if isinstance(customer_id, list | tuple) else [column == customer_id]


def _satisfaction_signals(team_id: Any, recent_from: Any, before_from: Any, customer_id: Any = None) -> Any:
    """Per customer (or for one): average satisfaction of the last 90 days (from `recent_from`)
    and of the 90 days before (from `before_from`: see `_windows`), from scores given at
    complaint resolution, at check-ins and in customers' surveys (satisfaction_score, whatever
    its source). For the team only those two windows are read; for one customer, its own
    scores (an index on the customer finds them, where one on the time would read the whole
    team's half year)."""
    if customer_id is None:
        of_complaint, of_score = [Complaint.resolved_at >= before_from], [SatisfactionScore.recorded_at >= before_from]
    else:
        of_complaint, of_score = _one(Complaint.customer_id, customer_id), _one(SatisfactionScore.customer_id, customer_id)
    scores = union_all(
        select(Complaint.customer_id, Complaint.satisfaction.label("score"), Complaint.resolved_at.label("at")).where(
            Complaint.team_id == team_id, Complaint.satisfaction.is_not(None), *of_complaint
        ),
        select(SatisfactionScore.customer_id, SatisfactionScore.score, SatisfactionScore.recorded_at).where(
            SatisfactionScore.team_id == team_id, *of_score
        ),
    ).subquery()
    return (
        select(
            scores.c.customer_id.label("customer_id"),
            func.avg(case((scores.c.at >= recent_from, scores.c.score))).label("recent"),
            func.avg(case((and_(scores.c.at < recent_from, scores.c.at >= before_from), scores.c.score))).label("before"),
        )
        .group_by(scores.c.customer_id)
        .subquery()
    )


def _windows(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Where the recent and the earlier satisfaction windows start."""
    return now - SATISFACTION_WINDOW, now - 2 * SATISFACTION_WINDOW


def _follow_up_signals(team_id: Any, today: Any, customer_id: Any = None) -> Any:
    """Per customer (or for one): its open follow-ups due before `today`."""
    return (
        select(FollowUp.customer_id.label("customer_id"), func.count().label("overdue"))
        .where(FollowUp.team_id == team_id, FollowUp.done_at.is_(None), FollowUp.due_on < today,
               *_one(FollowUp.customer_id, customer_id))
        .group_by(FollowUp.customer_id)
        .subquery()
    )  # fmt: skip


def _signals(customer: Any, interval_days: int, complaints: Any) -> Signals:
    """`customer`: a Customer or a row with its columns; `complaints`: a row with the counts of
    `_complaint_signals`, `_satisfaction_signals` and `_follow_up_signals`."""
    return Signals(
        interval_days=interval_days, created_at=customer.created_at, last_touch_at=customer.last_touch_at,
        next_revisit=customer.next_revisit if customer.revisits_enabled else None,
        open_complaints=int(complaints.open or 0), breached_complaints=int(complaints.breached or 0),
        satisfaction_recent=float(complaints.recent) if complaints.recent is not None else None,
        satisfaction_before=float(complaints.before) if complaints.before is not None else None,
        overdue_follow_ups=int(complaints.overdue or 0),
    )  # fmt: skip


@cache
def _one_customer_signals() -> Select[Any]:
    """One customer's signals in one round trip, as one statement built once: the profile card
    and every touch logged ask for it, and building its subqueries anew each time cost more
    than running it. Its values are bound by `customer_health`."""
    team_id, customer_id = bindparam("team_id", type_=String()), bindparam("customer_id", type_=Integer())
    complaints = _complaint_signals(team_id, bindparam("now", type_=UTCDateTime()), customer_id)
    satisfaction = _satisfaction_signals(team_id, bindparam("recent_from", type_=UTCDateTime()),
                                         bindparam("before_from", type_=UTCDateTime()), customer_id)  # fmt: skip
    follow_ups = _follow_up_signals(team_id, bindparam("today", type_=Date()), customer_id)

    def one(column: Any, default: Any = 0) -> Any:  # a subquery's only row, or `default` when it has none
        return func.coalesce(select(column).scalar_subquery(), default)

    return select(one(complaints.c.open), one(complaints.c.breached), one(satisfaction.c.recent, None),
                  one(satisfaction.c.before, None), one(follow_ups.c.overdue))  # fmt: skip


def customer_health(*, session: Session, viewer: Viewer, customer: Customer, now: dt.datetime, today: dt.date) -> Health:
    """The customer's health at `now` (the viewer must see it)."""
    team_id = viewer.team_id
    access.customer(session, viewer, customer.id)
    recent_from, before_from = _windows(now)
    values = {"team_id": team_id, "customer_id": customer.id, "now": now, "today": today, "recent_from": recent_from,
              "before_from": before_from}  # fmt: skip
    open_, breached, recent, before, overdue = session.execute(_one_customer_signals(), values).one()
    interval = revisit_interval(team_settings(session, team_id), customer.grade).days
    signals = _Signals(open=open_, breached=breached, recent=recent, before=before, overdue=overdue)
    return score(_signals(customer, interval, signals), now=now, today=today)


@dataclass(frozen=True)
class _Signals:
    open: int
    breached: int
    recent: float | None
    before: float | None
    overdue: int


@dataclass(frozen=True)
class RiskCustomer:
    """What the risk list shows of a customer (not the whole row: there may be many candidates)."""

    id: int
    number: int
    name: str
    owner_id: str | None
    value: int | None = None
    stage: str | None = None


@dataclass(frozen=True)
class AtRisk:
    customer: RiskCustomer
    health: Health


def scored(
    *, session: Session, viewer: Viewer, now: dt.datetime, today: dt.date, stages: tuple[str, ...] = ON_BOOKS,
    ids: list[int] | None = None,
) -> list[AtRisk]:
    """The health of every customer in `stages` the viewer sees (of `ids`, if given; an erased
    one aside) that shows a warning sign (no touch within the grade's interval, an overdue revisit
    or follow-up, an open complaint, a recent satisfaction score); the others are at 100. SQL
    finds the few with a sign, so the Python scoring never sees the whole book."""
    team_id = viewer.team_id
    settings = team_settings(session, team_id)
    complaints = _complaint_signals(team_id, now, ids)
    satisfaction = _satisfaction_signals(team_id, *_windows(now), ids)
    follow_ups = _follow_up_signals(team_id, today, ids)
    since = func.coalesce(Customer.last_touch_at, Customer.created_at)
    stale = []
    for grade, days in settings.revisit_days.items():
        of_grade = Customer.grade == grade
        if grade == DEFAULT_GRADE:
            of_grade = or_(of_grade, Customer.grade.is_(None))
        stale.append(and_(of_grade, since < now - dt.timedelta(days=days)))
    candidates = or_(
        *stale,
        and_(Customer.revisits_enabled.is_(True), Customer.next_revisit < today),
        complaints.c.open > 0,
        satisfaction.c.recent.is_not(None),
        follow_ups.c.overdue > 0,
    )
    rows = session.execute(
        select(
            Customer.id, Customer.number, Customer.name, Customer.owner_id, Customer.value, Customer.stage,
            Customer.grade, Customer.created_at, Customer.last_touch_at, Customer.next_revisit,
            Customer.revisits_enabled, complaints.c.open, complaints.c.breached, satisfaction.c.recent,
            satisfaction.c.before, follow_ups.c.overdue,
        )
        .outerjoin(complaints, complaints.c.customer_id == Customer.id)
        .outerjoin(satisfaction, satisfaction.c.customer_id == Customer.id)
        .outerjoin(follow_ups, follow_ups.c.customer_id == Customer.id)
        .where(Customer.team_id == team_id, Customer.stage.in_(stages), Customer.erased_at.is_(None), candidates,
               viewer.customers(), *_one(Customer.id, ids))
    ).all()  # fmt: skip
    intervals = {grade: revisit_interval(settings, grade).days for grade in {row.grade for row in rows}}
    return [
        AtRisk(RiskCustomer(row.id, row.number, row.name, row.owner_id, row.value, row.stage),
               score(_signals(row, intervals[row.grade], row), now=now, today=today))
        for row in rows
    ]  # fmt: skip


def _lowest_first(rows: list[AtRisk], limit: int) -> list[AtRisk]:
    listed = [r for r in rows if r.health.score < 100]
    listed.sort(key=lambda r: (r.health.score, r.customer.number))
    return listed[:limit]


def at_risk(
    *, session: Session, viewer: Viewer, now: dt.datetime, today: dt.date, limit: int = RISK_LIMIT
) -> list[AtRisk]:
    """The customers on the books with the lowest health, lowest first."""
    return _lowest_first(scored(session=session, viewer=viewer, now=now, today=today), limit)


@dataclass(frozen=True)
class RiskReport:
    """`/crm report risk`: the lowest health first, and the value at risk: the summed value of
    the customers whose health is under `VALUE_AT_RISK_BELOW`, the largest of them named."""

    customers: list[AtRisk]
    value_at_risk: int
    customers_under: int  # how many customers make it
    largest: list[AtRisk]


def risk_report(
    *, session: Session, viewer: Viewer, now: dt.datetime, today: dt.date, limit: int = RISK_LIMIT
) -> RiskReport:
    rows = scored(session=session, viewer=viewer, now=now, today=today)
    under = [r for r in rows if r.health.score < VALUE_AT_RISK_BELOW]
    largest = sorted((r for r in under if r.customer.value), key=lambda r: (-(r.customer.value or 0), r.customer.number))
    return RiskReport(customers=_lowest_first(rows, limit), value_at_risk=sum(r.customer.value or 0 for r in under),
                      customers_under=len(under), largest=largest[:VALUE_AT_RISK_NAMED])  # fmt: skip


# --- grade suggestions ---------------------------------------------------------------


class GradeRules(BaseModel):
    """The admin's rules for suggesting grades, read from the workspace settings key
    `grade_rules` (the value thresholds are set in the settings modal; the rest keep the
    defaults below unless set there by hand). A customer is suggested A with at least
    `a_touches` touches in the last `days`, a tag in `a_tags`, or a value of at least
    `a_value`; B with at least `b_touches` or a value of at least `b_value`; C otherwise.
    Suggestions are never applied by themselves."""

    days: int = 90
    a_touches: int = 6
    b_touches: int = 2
    a_tags: list[str] = Field(default_factory=lambda: ["vip", "key"])
    a_value: int | None = None  # None: not by value
    b_value: int | None = None


@dataclass(frozen=True)
class GradeSuggestion:
    customer: RiskCustomer
    grade: str | None
    suggested: str
    touches: int


def grade_rules(session: Session, team_id: str) -> GradeRules:
    raw = get_workspace(session, team_id).settings.get("grade_rules") or {}
    try:
        return GradeRules.model_validate(raw)
    except ValueError:
        return GradeRules()  # a broken setting must not break the report


def grade_suggestions(
    *, session: Session, viewer: Viewer, now: dt.datetime, limit: int = SUGGESTION_LIMIT
) -> list[GradeSuggestion]:
    """Customers the viewer sees whose grade differs from what the rules suggest, counted and
    compared in SQL."""
    team_id = viewer.team_id
    rules = grade_rules(session, team_id)
    recent = (
        select(Touch.customer_id.label("customer_id"), func.count().label("touches"))
        .where(Touch.team_id == team_id, Touch.happened_at >= now - dt.timedelta(days=rules.days))
        .group_by(Touch.customer_id)
        .subquery()
    )
    touches = func.coalesce(recent.c.touches, 0)
    # ",vip,key," contains ",vip," exactly: tags are compared whole, ignoring case and spaces.
    tags = literal(",") + func.replace(func.lower(func.coalesce(Customer.tags, "")), " ", "") + literal(",")
    tagged = or_(false(), *[tags.like(f"%,{tag.strip().lower()},%") for tag in rules.a_tags if tag.strip()])
    def worth(threshold: int | None) -> Any:
        return Customer.value >= threshold if threshold is not None else false()

    suggested = case((or_(touches >= rules.a_touches, tagged, worth(rules.a_value)), "A"),
                     (or_(touches >= rules.b_touches, worth(rules.b_value)), "B"), else_="C")  # fmt: skip
    rows = session.execute(
        select(Customer.id, Customer.number, Customer.name, Customer.owner_id, Customer.grade, suggested, touches)
        .outerjoin(recent, recent.c.customer_id == Customer.id)
        .where(Customer.team_id == team_id, Customer.stage != "lost", Customer.erased_at.is_(None),
               func.coalesce(Customer.grade, "") != suggested, viewer.customers())
        .order_by(Customer.number)
        .limit(limit)
    ).all()
    return [
        GradeSuggestion(RiskCustomer(r[0], r[1], r[2], r[3]), grade=r[4], suggested=r[5], touches=r[6]) for r in rows
    ]
