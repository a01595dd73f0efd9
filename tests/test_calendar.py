"""The business calendar: hand-checked examples, then properties that must hold for any input."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.calendar import BusinessCalendar, parse_hours, parse_span

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
SPLIT = {d: ["09:00-12:00", "13:30-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def at(tz: ZoneInfo, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)


def local(instant: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


split_cn = BusinessCalendar.build(tz="Asia/Shanghai", hours=SPLIT, country="CN")
plain_berlin = BusinessCalendar.build(tz="Europe/Berlin")


# --- hand-checked examples ------------------------------------------------------------------


def test_within_a_span():
    # Wednesday 2026-11-25 10:00 + 1 h = 11:00
    assert local(split_cn.add(at(SHANGHAI, 2026, 11, 25, 10), H), SHANGHAI) == dt.datetime(2026, 11, 25, 11)


def test_over_the_lunch_break_of_a_split_shift():
    # 11:30 + 1 h: 30 min before lunch, 30 min after 13:30 -> 14:00
    start = at(SHANGHAI, 2026, 11, 25, 11, 30)
    assert local(split_cn.add(start, H), SHANGHAI) == dt.datetime(2026, 11, 25, 14)


def test_filling_a_span_exactly_ends_at_its_end_not_at_the_next_start():
    start = at(SHANGHAI, 2026, 11, 25, 11)
    assert local(split_cn.add(start, H), SHANGHAI) == dt.datetime(2026, 11, 25, 12)


def test_a_start_outside_hours_counts_from_the_next_working_instant():
    # Friday 20:00 + 1 h -> Monday 10:00
    start = at(SHANGHAI, 2026, 11, 27, 20)
    assert local(split_cn.add(start, H), SHANGHAI) == dt.datetime(2026, 11, 30, 10)
    # during lunch
    assert local(split_cn.add(at(SHANGHAI, 2026, 11, 25, 12, 10), 30 * M), SHANGHAI) == dt.datetime(2026, 11, 25, 14)


def test_over_a_weekend():
    # Friday 17:00 + 2 h -> Monday 10:00 (1 h Friday, 1 h Monday)
    start = at(SHANGHAI, 2026, 11, 27, 17)
    assert local(split_cn.add(start, 2 * H), SHANGHAI) == dt.datetime(2026, 11, 30, 10)


def test_chinese_public_holidays_are_skipped():
    # National Day week 2026: Oct 1-7 off (Thu..Wed); Sat Oct 10 is a make-up working day.
    start = at(SHANGHAI, 2026, 9, 30, 17)
    assert local(split_cn.add(start, 2 * H), SHANGHAI) == dt.datetime(2026, 10, 8, 10)


def test_chinese_make_up_working_days_on_weekends_count():
    # Sunday 2026-01-04 is worked (调休 for Friday 2026-01-02); a weekday rule would skip it.
    assert split_cn.is_working_day(dt.date(2026, 1, 4))
    assert not split_cn.is_working_day(dt.date(2026, 1, 2))
    assert not split_cn.is_working_day(dt.date(2026, 1, 3))
    # Wednesday 2025-12-31 17:00 + 2 h: 1 h on Dec 31, then Jan 1-3 off, 1 h on Sunday Jan 4
    start = at(SHANGHAI, 2025, 12, 31, 17)
    assert local(split_cn.add(start, 2 * H), SHANGHAI) == dt.datetime(2026, 1, 4, 10)
    # Saturday 2026-02-14 and 2026-02-28 are worked too (Spring Festival 2026)
    assert split_cn.is_working_day(dt.date(2026, 2, 14)) and split_cn.is_working_day(dt.date(2026, 2, 28))
    assert not split_cn.is_working_day(dt.date(2026, 2, 17))


def test_the_teams_own_days_off():
    cal = BusinessCalendar.build(tz="Europe/Berlin", days_off=[dt.date(2026, 11, 26)])
    start = at(BERLIN, 2026, 11, 25, 17)
    assert local(cal.add(start, 2 * H), BERLIN) == dt.datetime(2026, 11, 27, 10)


def test_german_holidays_without_make_up_days():
    cal = BusinessCalendar.build(tz="Europe/Berlin", country="DE")
    assert not cal.is_working_day(dt.date(2026, 12, 25))  # Friday, Christmas
    assert not cal.is_working_day(dt.date(2026, 12, 26))  # Saturday
    assert cal.is_working_day(dt.date(2026, 12, 28))


def test_dst_spring_forward_inside_working_hours():
    # Sunday 2026-03-29 02:00 CET -> 03:00 CEST. A 24/7 team: the night of the change is 1 h shorter.
    cal = BusinessCalendar.build(tz="Europe/Berlin", always_open=True)
    start = at(BERLIN, 2026, 3, 29, 0)
    assert local(cal.add(start, 3 * H), BERLIN) == dt.datetime(2026, 3, 29, 4)
    # A team working 00:00-06:00 every day: that Sunday has 5 real hours, not 6.
    night = BusinessCalendar.build(tz="Europe/Berlin", hours={d: ["00:00-06:00"] for d in ("sat", "sun", "mon")})
    sunday = night.between(at(BERLIN, 2026, 3, 29, 0), at(BERLIN, 2026, 3, 30, 0))
    assert sunday == 5 * H
    assert local(night.add(at(BERLIN, 2026, 3, 29, 0), 6 * H), BERLIN) == dt.datetime(2026, 3, 30, 1)


def test_dst_does_not_shift_working_hours():
    # Friday 2026-10-23 17:00 CEST + 2 h over the fall-back weekend -> Monday 10:00 CET
    start = at(BERLIN, 2026, 10, 23, 17)
    end = plain_berlin.add(start, 2 * H)
    assert local(end, BERLIN) == dt.datetime(2026, 10, 26, 10)
    assert end - start == dt.timedelta(days=2, hours=18)  # an hour longer than the wall clocks say


def test_between_counts_only_working_time():
    # Friday 11:00 to Monday 14:00: 1 h + 4.5 h on Friday, 3 h + 0.5 h on Monday
    a, b = at(SHANGHAI, 2026, 11, 27, 11), at(SHANGHAI, 2026, 11, 30, 14)
    assert split_cn.between(a, b) == 9 * H
    assert split_cn.between(b, a) == -9 * H


def test_next_working_instant():
    assert local(split_cn.next_working_instant(at(SHANGHAI, 2026, 11, 28, 9)), SHANGHAI) == dt.datetime(2026, 11, 30, 9)
    assert split_cn.next_working_instant(at(SHANGHAI, 2026, 11, 25, 10)) == at(SHANGHAI, 2026, 11, 25, 10)
    assert local(split_cn.next_working_instant(at(SHANGHAI, 2026, 11, 25, 12)), SHANGHAI) == dt.datetime(2026, 11, 25, 13, 30)
    assert split_cn.is_working(at(SHANGHAI, 2026, 11, 25, 9)) and not split_cn.is_working(at(SHANGHAI, 2026, 11, 25, 13))


def test_twenty_four_seven_is_plain_arithmetic():
    cal = split_cn.twenty_four_seven()
    start = at(SHANGHAI, 2026, 10, 1, 23)  # a holiday, at night
    assert cal.add(start, H) == start + H
    assert cal.between(start, start + 5 * H) == 5 * H


def test_a_business_day_is_the_length_of_the_first_working_weekday():
    assert split_cn.standard_day == dt.timedelta(hours=7, minutes=30)
    assert plain_berlin.standard_day == 9 * H


@pytest.mark.parametrize("bad", ["9-12", "12:00-09:00", "09:60-10:00", "09:00-25:00", ""])
def test_malformed_hours_are_refused(bad):
    with pytest.raises(ValueError):
        parse_span(bad)


def test_overlapping_or_unknown_days_are_refused():
    with pytest.raises(ValueError):
        parse_hours({"mon": ["09:00-12:00", "11:00-13:00"]})
    with pytest.raises(ValueError):
        parse_hours({"monday": ["09:00-12:00"]})


def test_a_calendar_without_working_hours_says_so():
    cal = BusinessCalendar.build(hours={})
    with pytest.raises(ValueError):
        cal.add(at(BERLIN, 2026, 1, 1), H)


def test_long_spans_are_counted_to_the_end():
    # five years of 9-hour weekdays, holidays aside: far more than the look-ahead window
    a, b = at(BERLIN, 2026, 1, 5, 9), at(BERLIN, 2031, 1, 6, 9)
    weeks = (b.date() - a.date()).days // 7
    assert weeks == 261 and plain_berlin.between(a, b) == weeks * 5 * 9 * H  # Monday 09:00 to Monday 09:00
    assert plain_berlin.add(a, plain_berlin.between(a, b)) == at(BERLIN, 2031, 1, 3, 18)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        plain_berlin.add(dt.datetime(2026, 1, 1), H)


# --- properties ---------------------------------------------------------------------------

calendars = st.sampled_from([
    split_cn,
    plain_berlin,
    BusinessCalendar.build(tz="America/New_York", country="US", hours={"mon": ["08:00-20:00"], "sun": ["01:00-03:30"]}),
    BusinessCalendar.build(tz="Europe/Berlin", hours={d: ["00:00-24:00"] for d in ("sat", "sun")}),
    BusinessCalendar.build(tz="Asia/Shanghai", always_open=True),
])  # fmt: skip
instants = st.datetimes(
    min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 6, 30), timezones=st.just(dt.UTC)
)
durations = st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(hours=120))


@settings(max_examples=200, deadline=None)
@given(calendars, instants, durations, durations)
def test_adding_in_two_steps_is_adding_the_sum(cal, start, a, b):
    assert cal.add(cal.add(start, a), b) == cal.add(start, a + b)


@settings(max_examples=200, deadline=None)
@given(calendars, instants, durations)
def test_between_inverts_add(cal, start, d):
    end = cal.add(start, d)
    assert end >= start
    assert cal.between(start, end) == d


@settings(max_examples=200, deadline=None)
@given(calendars, instants, instants, instants)
def test_between_is_additive_and_never_more_than_the_wall_clock(cal, x, y, z):
    a, b, c = sorted((x, y, z))
    assert cal.between(a, c) == cal.between(a, b) + cal.between(b, c)
    assert dt.timedelta(0) <= cal.between(a, c) <= c - a


@settings(max_examples=200, deadline=None)
@given(calendars, instants, st.timedeltas(min_value=dt.timedelta(microseconds=1), max_value=dt.timedelta(hours=120)))
def test_a_deadline_falls_in_working_time(cal, start, d):
    end = cal.add(start, d)
    # the last instant before the deadline is working time
    assert cal.is_working(end - dt.timedelta(microseconds=1))


@settings(max_examples=200, deadline=None)
@given(calendars, instants, durations)
def test_subtract_inverts_between(cal, end, d):
    start = cal.subtract(end, d)
    assert start <= end
    assert cal.between(start, end) == d
    assert cal.add(start, d) == cal.add(cal.subtract(end, d), d)  # and lands in working time again


def test_subtract_by_hand():
    # 80 % of 8 h before Thursday 8 Oct 2026 16:30 (after National Day): 1 h 36 min earlier -> 14:54
    due = at(SHANGHAI, 2026, 10, 8, 16, 30)
    assert local(split_cn.subtract(due, 96 * M), SHANGHAI) == dt.datetime(2026, 10, 8, 14, 54)
    # 4 h before Thursday 09:30: 30 min on the 8th, then back over the holidays to Sep 30 (3.5 h)
    assert local(split_cn.subtract(at(SHANGHAI, 2026, 10, 8, 9, 30), 4 * H), SHANGHAI) == dt.datetime(2026, 9, 30, 14, 30)


def test_one_calendar_per_definition_shared_by_threads_answers_as_a_new_one():
    from concurrent.futures import ThreadPoolExecutor

    from bot.services.calendar import _shared

    hours = {d: ["08:00-12:00", "13:00-17:30"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
    shared = BusinessCalendar.build(tz="Asia/Shanghai", hours=hours, country="CN")
    assert BusinessCalendar.build(tz="Asia/Shanghai", hours=dict(hours), country="CN") is shared
    start = at(SHANGHAI, 2025, 1, 1, 9)
    pairs = [(start + dt.timedelta(hours=37 * i), start + dt.timedelta(hours=53 * (200 - i))) for i in range(200)]
    with ThreadPoolExecutor(max_workers=8) as pool:  # the sums grow both ways from wherever each thread starts
        got = list(pool.map(lambda p: shared.between(*p), pairs))
    week = parse_hours(hours)
    _shared.cache_clear()
    fresh = [BusinessCalendar(tz="Asia/Shanghai", week=week, country="CN").between(*p) for p in pairs]
    assert got == fresh
