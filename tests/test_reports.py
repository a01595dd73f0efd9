"""Report figures on a small hand-made data set; every expected value is worked out by hand below."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from bot.services import reports
from bot.services.reports import TEAM, build_report, percentile, period_of
from bot.services.workspaces import get_workspace
from bot.storage.models import (
    Complaint,
    Customer,
    Member,
    RevisitDone,
    SatisfactionScore,
    Touch,
)
from tests.helpers import as_admin
from tests.slackclient import TEAM as TEAM_ID

A, B = "U000000A", "U000000B"
TODAY = dt.date(2026, 11, 25)  # a Wednesday: this week is 11-23 .. 11-29, the one before 11-16 .. 11-22


def at(day: int, hour: int = 9, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


def customer(session, number, owner, grade, segment, created, next_revisit=None) -> Customer:
    c = Customer(team_id=TEAM_ID, number=number, name=f"C{number}", name_key=f"c{number}", owner_id=owner,
                 grade=grade, segment=segment, created_at=created, next_revisit=next_revisit)  # fmt: skip
    session.add(c)
    session.flush()
    return c


def touch(session, c, author, when) -> Touch:
    t = Touch(team_id=TEAM_ID, customer_id=c.id, author_id=author, kind="call", summary="s", happened_at=when)
    session.add(t)
    session.flush()
    return t


def complaint(session, number, c, assignee, opened, **fields) -> Complaint:
    k = Complaint(team_id=TEAM_ID, number=number, customer_id=c.id, title="t", author_id=assignee,
                  assignee_id=assignee, opened_at=opened, **fields)  # fmt: skip
    session.add(k)
    return k


@pytest.fixture
def data(session):
    get_workspace(session, TEAM_ID)
    session.add_all([Member(team_id=TEAM_ID, user_id=A, name="Ann"), Member(team_id=TEAM_ID, user_id=B, name="Bo")])
    c1 = customer(session, 1, A, "A", "key", at(1, month=1))
    c2 = customer(session, 2, A, "B", "regular", at(17), next_revisit=dt.date(2026, 11, 21))
    c3 = customer(session, 3, B, "C", None, at(24))
    customer(session, 4, B, "B", "new", at(24), next_revisit=dt.date(2026, 11, 20))
    # This week: A touches c1 twice and c2 once; B touches c3. Last week: A touches c1.
    t1 = touch(session, c1, A, at(23, 10))
    touch(session, c1, A, at(24, 10))
    t3 = touch(session, c2, A, at(25, 9))
    t4 = touch(session, c3, B, at(24))
    t0 = touch(session, c1, A, at(18))
    for t, owner, due, done in [
        (t1, A, 24, 23),  # on time
        (t3, A, 22, 25),  # late
        (t4, B, 24, 24),  # on time (the due day itself)
        (t0, A, 10, 18),  # last week, late
    ]:
        session.add(RevisitDone(team_id=TEAM_ID, customer_id=t.customer_id, touch_id=t.id, owner_id=owner,
                                due_on=dt.date(2026, 11, due), done_on=dt.date(2026, 11, done)))  # fmt: skip
    complaint(session, 1, c1, A, at(23, 9), state="resolved",
              first_response_at=at(23, 11), first_response_due=at(23, 13),  # 2 h, met
              resolved_at=at(24, 9), resolution_due=at(25, 9), satisfaction=4)  # 24 h, met  # fmt: skip
    complaint(session, 2, c1, A, at(23, 10), first_response_at=at(23, 16), first_response_due=at(23, 12),  # 6 h, missed
              resolution_due=at(26, 10))  # fmt: skip
    complaint(session, 3, c3, B, at(20, 8), state="closed",
              first_response_at=at(20, 9), first_response_due=at(20, 10),  # last week: 1 h, met
              resolved_at=at(25, 8), resolution_due=at(24, 8), satisfaction=2)  # 120 h, missed  # fmt: skip
    complaint(session, 4, c2, A, at(24, 12), first_response_at=at(24, 22))  # 10 h, no deadline
    for c, by, score, when in [(c1, A, 5, at(24)), (c3, B, 3, at(25)), (c2, A, 1, at(17))]:  # the last one last week
        session.add(SatisfactionScore(team_id=TEAM_ID, customer_id=c.id, score=score, recorded_by=by, recorded_at=when))
    session.commit()


def test_periods_start_on_monday_first_of_month_and_quarter():
    week = period_of("week", TODAY, None)
    assert (week.first_day, week.end_day) == (dt.date(2026, 11, 23), dt.date(2026, 11, 30))
    assert week.shifted(-1).first_day == dt.date(2026, 11, 16)
    month = period_of("month", TODAY, None)
    assert (month.first_day, month.end_day, month.shifted(-11).first_day) == (
        dt.date(2026, 11, 1), dt.date(2026, 12, 1), dt.date(2025, 12, 1))  # fmt: skip
    quarter = period_of("quarter", TODAY, "Asia/Shanghai")
    assert (quarter.first_day, quarter.end_day) == (dt.date(2026, 10, 1), dt.date(2027, 1, 1))
    assert quarter.start == dt.datetime(2026, 9, 30, 16, tzinfo=dt.UTC)  # midnight in Shanghai


def test_percentile_interpolates_like_percentile_cont():
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([10, 2, 6], 0.5) == 6
    assert percentile([2, 6, 10], 0.9) == pytest.approx(9.2)  # rank 1.8: 6 + 0.8 * 4
    assert percentile([24, 120], 0.5) == 72


def test_touches_and_revisits(session, data):
    r = build_report(session=session, viewer=as_admin(team=TEAM_ID), kind="week", today=TODAY, tz=None)
    now, before = r.current, r.before
    assert (now[A].touches, now[A].customers_touched, now[B].touches, now[B].customers_touched) == (3, 2, 1, 1)
    assert (now[TEAM].touches, now[TEAM].customers_touched) == (4, 3)  # c1, c2, c3
    assert (before[A].touches, before[TEAM].touches, before[B].touches) == (1, 1, 0)
    assert (now[A].revisits_on_time, now[A].revisits_late, now[A].revisits_on_time_pct) == (1, 1, 50.0)
    assert (now[B].revisits_on_time, now[B].revisits_late, now[B].revisits_on_time_pct) == (1, 0, 100.0)
    assert now[TEAM].revisits_on_time_pct == 66.7  # 2 of 3
    assert (before[A].revisits_late, before[A].revisits_on_time_pct) == (1, 0.0)
    # Overdue today: c2 (due 11-21, A) and c4 (due 11-20, B). On 11-22: only c2; c4 did not exist yet.
    assert (now[A].revisits_overdue, now[B].revisits_overdue, now[TEAM].revisits_overdue) == (1, 1, 2)
    assert (before[A].revisits_overdue, before[B].revisits_overdue, before[TEAM].revisits_overdue) == (1, 0, 1)


def test_complaint_figures(session, data):
    r = build_report(session=session, viewer=as_admin(team=TEAM_ID), kind="week", today=TODAY, tz=None)
    a, b, team = r.current[A], r.current[B], r.current[TEAM]
    assert (a.complaints_opened, a.complaints_resolved, a.complaints_open) == (3, 1, 2)  # #1 #2 #4; #1; #2 #4
    assert (b.complaints_opened, b.complaints_resolved, b.complaints_open) == (0, 1, 0)  # #3 resolved this week
    assert (team.complaints_opened, team.complaints_resolved, team.complaints_open) == (3, 2, 2)
    # First responses this week: 2 h (met), 6 h (missed), 10 h (no deadline).
    assert (a.first_response_median, a.first_response_p90, a.first_response_sla_pct) == (6.0, 9.2, 50.0)
    assert (team.first_response_median, team.first_response_with_sla) == (6.0, 2)
    assert (b.first_response_median, b.first_response_sla_pct) == (None, None)
    # Resolutions this week: #1 in 24 h (met), #3 in 120 h (missed).
    assert (a.resolution_median, a.resolution_p90, a.resolution_sla_pct) == (24.0, 24.0, 100.0)
    assert (b.resolution_median, b.resolution_sla_pct) == (120.0, 0.0)
    assert (team.resolution_median, team.resolution_p90, team.resolution_sla_pct) == (72.0, 110.4, 50.0)
    assert (a.satisfaction_avg, a.satisfaction_answered, b.satisfaction_avg) == (4.0, 1, 2.0)
    assert (team.satisfaction_avg, team.satisfaction_answered) == (3.0, 2)
    assert (a.checkin_avg, a.checkins, b.checkin_avg, b.checkins, team.checkin_avg, team.checkins) == (5.0, 1, 3.0, 1, 4.0, 2)
    assert (r.before[A].checkin_avg, r.before[TEAM].checkins) == (1.0, 1)
    before = r.before
    assert (before[B].complaints_opened, before[B].complaints_open, before[TEAM].complaints_resolved) == (1, 1, 0)
    assert (before[B].first_response_median, before[B].first_response_sla_pct) == (1.0, 100.0)


def test_customers_by_grade_and_segment_and_new(session, data):
    r = build_report(session=session, viewer=as_admin(team=TEAM_ID), kind="week", today=TODAY, tz=None)
    team = r.current[TEAM]
    assert (team.customers, team.new_customers) == (4, 2)
    assert team.by_grade == {"A": 1, "B": 2, "C": 1}
    assert team.by_segment == {"key": 1, "regular": 1, "new": 1, "-": 1}
    assert (r.current[A].customers, r.current[A].new_customers, r.current[B].new_customers) == (2, 0, 2)
    assert r.current[B].by_grade == {"C": 1, "B": 1}
    assert (r.before[TEAM].customers, r.before[TEAM].new_customers, r.before[B].customers) == (2, 1, 0)


def test_the_value_on_the_books_at_the_end_of_each_period(session, data):
    values = {1: (100, "active"), 2: (20, "active"), 3: (3, "new"), 4: (4, "prospect")}  # c2 last week; c3, c4 this
    for number, (value, stage) in values.items():
        session.execute(update(Customer).where(Customer.number == number).values(value=value, stage=stage))
    session.commit()
    r = build_report(session=session, viewer=as_admin(team=TEAM_ID), kind="week", today=TODAY, tz=None)
    now, before = r.current, r.before
    assert (now[TEAM].value, now[TEAM].value_by_grade, now[B].value) == (123, {"A": 100, "B": 20, "C": 3}, 3)
    assert (before[TEAM].value, before[TEAM].value_by_grade, before[A].value, before[B].value) == (
        120, {"A": 100, "B": 20}, 120, 0)  # fmt: skip
    assert (before[A].customers, before[A].new_customers, before[A].by_grade) == (2, 1, {"A": 1, "B": 1})


def test_business_hours_are_injected_and_the_trend_covers_eight_periods(session, data):
    halved = build_report(session=session, viewer=as_admin(team=TEAM_ID), kind="week", today=TODAY, tz=None,
                          duration=lambda start, end: (end - start).total_seconds() / 7200)  # fmt: skip
    assert halved.current[TEAM].resolution_median == 36.0
    assert [(p.touches, p.first_response_sla_pct) for p in halved.trend] == [(0, None)] * 6 + [(1, 100.0), (4, 50.0)]
    assert halved.trend[0].period.first_day == dt.date(2026, 10, 5)
    assert halved.names == {A: "Ann", B: "Bo"}


def test_a_report_about_one_manager(session, data):
    r = build_report(session=session, viewer=as_admin(team=TEAM_ID), kind="week", today=TODAY, tz=None, user_id=B)
    assert r.owners == [B]
    assert (r.current[TEAM].touches, r.current[TEAM].complaints_resolved, r.current[TEAM].customers) == (1, 1, 2)
    assert [p.touches for p in r.trend][-2:] == [0, 1]


def test_month_and_csv(session, data):
    r = build_report(session=session, viewer=as_admin(team=TEAM_ID), kind="month", today=TODAY, tz=None)
    assert (r.current[TEAM].touches, r.current[TEAM].complaints_opened, r.before[TEAM].customers) == (5, 4, 1)
    rows = reports.report_csv(r).decode("utf-8-sig").splitlines()
    assert rows[0] == "scope,figure,2026-11-01..2026-11-30,2026-10-01..2026-10-31"
    assert "team,touches,5,0" in rows and f"{A},touches,4,0" in rows and "team,grade:B,2,0" in rows


def test_report_text_compares_with_the_previous_period(session, data):
    from bot.views.reports import compared, report_blocks
    from tests.slackclient import block_text

    r = build_report(session=session, viewer=as_admin(team=TEAM_ID), kind="week", today=TODAY, tz=None)
    assert (compared(12, 9), compared(50.0, 100.0, "%"), compared(3, 3), compared(None, 2)) == (
        "12 (▲3)", "50% (▼50)", "3 (=)", "–")  # fmt: skip
    text = block_text(report_blocks(None, r, as_table=False))  # the lines where no table fits
    assert "*Team report* · week of 2026-11-23" in text
    assert "Compared with 2026-11-16 – 2026-11-22" in text
    assert "*Touches* 4 (▲3) · *customers touched* 3 (▲2)" in text
    assert "*Revisits* on time 2 (▲2) · late 1 (=) · still overdue 2 (▲1) · on time 66.7% (▲66.7)" in text
    assert "*First response* median 6 (▲5) · p90 9.2 (▲8.2) · SLA met 50% (▼50)" in text
    assert "*Satisfaction* at resolution 3 · answered 2 (▲2) · at check-ins 4 (▲3) · check-ins 2 (▲1)" in text
    assert "*Customers* 4 (▲2) · new 2 (▲1) · by grade A 1, B 2, C 1 · by segment - 1, key 1, new 1, regular 1" in text
    assert f"<@{A}>: touches 3 (▲2)" in text and f"<@{B}>: touches 1 (▲1)" in text
    # in a message, the same figures are a table: the last block, a row per owner
    table = report_blocks(None, r)[-1]
    rows = [[block_text([cell]) for cell in row] for row in table["rows"]]
    assert rows[0][:3] == ["Owner", "Touches", "Customers"]
    assert [f"<@{A}>", "3 (▲2)"] in [row[:2] for row in rows] and [f"<@{B}>", "1 (▲1)"] in [row[:2] for row in rows]
