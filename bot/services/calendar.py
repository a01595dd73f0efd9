"""The team's business calendar: when the SLA clocks run.

A `BusinessCalendar` knows the team's time zone, its working hours per weekday (several
spans a day for split shifts, e.g. 09:00–12:00 and 13:30–18:00), a country's public holidays
from the `holidays` package, and the team's own days off. For countries that move working
days onto weekends (China's 调休 make-up days, e.g. Sunday 2026-01-04), those weekend days
are working days with the hours of the first configured weekday (normally Monday).

`always_open` makes a 24/7 calendar (calendar hours), used e.g. for urgent complaints.

Everything here is pure: instants in, instants out (timezone-aware, returned in UTC).
Arithmetic is exact to the microsecond, so `add` and `between` invert each other.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

Span = tuple[int, int]  # minutes from local midnight, [start, end); end may be 1440
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HOURS: dict[str, list[str]] = {d: ["09:00-18:00"] for d in WEEKDAYS[:5]}
# Far enough for any target we accept (10 business days around long holidays); a calendar
# that finds no working time in this window has no working hours at all.
MAX_DAYS = 3 * 366
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")
ZERO = dt.timedelta(0)


def parse_span(text: str) -> Span:
    """`"09:00-12:00"` -> (540, 720); `"24:00"` ends a day; raises ValueError when malformed."""
    m = _SPAN.match(text)
    if not m:
        raise ValueError(f"not a span of hours: {text!r}")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 >= 60 or m2 >= 60 or not 0 <= start < end <= 24 * 60:
        raise ValueError(f"not a span of hours: {text!r}")
    return start, end


def parse_hours(hours: Mapping[str, Sequence[str]]) -> tuple[tuple[Span, ...], ...]:
    """{"mon": ["09:00-12:00", "13:30-18:00"], ...} -> spans per weekday (Monday first)."""
    unknown = set(hours) - set(WEEKDAYS)
    if unknown:
        raise ValueError(f"unknown weekdays: {sorted(unknown)}")
    week = []
    for day in WEEKDAYS:
        spans = sorted(parse_span(s) for s in hours.get(day, ()))
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            if start < end:
                raise ValueError(f"overlapping hours on {day}")
        week.append(tuple(spans))
    return tuple(week)


@lru_cache(maxsize=256)
def _country_days(country: str, year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """(public holidays, weekend make-up working days) of a country in a year."""
    calendar = holidays_lib.country_holidays(country, years=year)
    days_off = frozenset(calendar.keys())
    workdays = frozenset(d for d in getattr(calendar, "weekend_workdays", ()) if d.year == year)
    return days_off, workdays


@dataclass(frozen=True)
class BusinessCalendar:
    tz: str = "UTC"
    week: tuple[tuple[Span, ...], ...] = field(default_factory=lambda: parse_hours(DEFAULT_HOURS))
    country: str | None = None
    days_off: frozenset[dt.date] = frozenset()  # the team's own holidays
    always_open: bool = False
    # Working time before each local day, from the first day asked about (see `_before_day`);
    # `build` shares one calendar per definition, so the sums outlive a request.
    _sums: dict[dt.date, dt.timedelta] = field(default_factory=dict, init=False, compare=False, repr=False)
    _covered: list[dt.date] = field(default_factory=list, init=False, compare=False, repr=False)  # [first, last]
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, compare=False, repr=False)
    # Each local day's working intervals once made: a report measures thousands of durations.
    _days: dict[dt.date, list[tuple[dt.datetime, dt.datetime]]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    @classmethod
    def build(
        cls,
        *,
        tz: str = "UTC",
        hours: Mapping[str, Sequence[str]] | None = None,
        country: str | None = None,
        days_off: Iterable[dt.date] = (),
        always_open: bool = False,
    ) -> BusinessCalendar:
        week = parse_hours(DEFAULT_HOURS if hours is None else hours)
        return _shared(tz, week, country or None, frozenset(days_off), always_open)

    def twenty_four_seven(self) -> BusinessCalendar:
        return BusinessCalendar(tz=self.tz, always_open=True)

    # --- days -----------------------------------------------------------------------

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def standard_day(self) -> dt.timedelta:
        """The length of one business day: the hours of the first weekday that has any."""
        for spans in self.week:
            if spans:
                return dt.timedelta(minutes=sum(end - start for start, end in spans))
        return dt.timedelta(days=1)

    def spans_on(self, day: dt.date) -> tuple[Span, ...]:
        """The working spans of a local date (none on a holiday or a day off)."""
        if day in self.days_off:
            return ()
        if self.country:
            public, makeup = _country_days(self.country, day.year)
            if day in makeup:
                return next((s for s in self.week if s), ())
            if day in public:
                return ()
        return self.week[day.weekday()]

    def is_working_day(self, day: dt.date) -> bool:
        return self.always_open or bool(self.spans_on(day))

    def _intervals_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = _intervals(self, day)
        return found

    def _intervals_from(self, at: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Working intervals (UTC) that end after `at`, in order."""
        day = at.astimezone(self.zone).date() - dt.timedelta(days=1)
        idle = 0  # days in a row without working time
        while idle < MAX_DAYS:
            intervals = self._intervals_on(day)
            idle = 0 if intervals else idle + 1
            for start, end in intervals:
                if end > at:
                    yield start, end
            day += dt.timedelta(days=1)
        raise ValueError("the calendar has no working hours")

    def _intervals_before(self, at: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Working intervals (UTC) that start before `at`, latest first."""
        day = at.astimezone(self.zone).date() + dt.timedelta(days=1)
        idle = 0
        while idle < MAX_DAYS:
            intervals = self._intervals_on(day)
            idle = 0 if intervals else idle + 1
            for start, end in reversed(intervals):
                if start < at:
                    yield start, end
            day -= dt.timedelta(days=1)
        raise ValueError("the calendar has no working hours")

    # --- arithmetic -----------------------------------------------------------------

    def add(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The instant when `duration` of working time has passed since `start`.

        A start outside working hours counts from the next working instant; a deadline that
        fills a span exactly is that span's end (12:00, not 13:30).
        """
        start = _utc(start)
        if duration < ZERO:
            raise ValueError("negative duration")
        if self.always_open or duration == ZERO:
            return start + duration
        left = duration
        for begin, end in self._intervals_from(start):
            begin = max(begin, start)
            if left <= end - begin:
                return begin + left
            left -= end - begin
        raise AssertionError("unreachable")  # pragma: no cover

    def subtract(self, end: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The latest instant from which `duration` of working time runs until `end`
        (e.g. when 80 % of a target is used: `subtract(deadline, 20 % of it)`)."""
        end = _utc(end)
        if duration < ZERO:
            raise ValueError("negative duration")
        if self.always_open or duration == ZERO:
            return end - duration
        left = duration
        for begin, stop in self._intervals_before(end):
            stop = min(stop, end)
            if left <= stop - begin:
                return stop - left
            left -= stop - begin
        raise AssertionError("unreachable")  # pragma: no cover

    def between(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        """Working time from `a` to `b`; negative when `b` is before `a`.

        A difference of running totals, so a complaint overdue for a year costs no more than
        one overdue for an hour once the calendar has summed those days (the scheduler asks
        this of every open complaint each minute)."""
        a, b = _utc(a), _utc(b)
        if self.always_open:
            return b - a
        return self._elapsed(b) - self._elapsed(a)

    def hours_between(self, a: dt.datetime, b: dt.datetime) -> float:
        """`between` in hours: how reports measure response and resolution times."""
        return self.between(a, b).total_seconds() / 3600

    def _elapsed(self, at: dt.datetime) -> dt.timedelta:
        """Working time from the start of the first day this calendar summed until `at`.

        A local day's intervals lie within that day, so every earlier day has ended by `at`
        and every later one starts after it: only `at`'s own day is cut."""
        day = at.astimezone(self.zone).date()
        today = ZERO
        for begin, end in self._intervals_on(day):
            if begin < at:
                today += min(end, at) - begin
        return self._before_day(day) + today

    def _before_day(self, day: dt.date) -> dt.timedelta:
        """Working time from the first day summed to the start of `day` (negative before it),
        extending the sums one day at a time from the nearest day already summed."""
        sums = self._sums
        if day in sums:
            return sums[day]
        with self._lock:  # a shared calendar: one thread extends the sums at a time
            return self._extend_to(day)

    def _extend_to(self, day: dt.date) -> dt.timedelta:
        sums, covered = self._sums, self._covered
        if day in sums:  # another thread got there first
            return sums[day]
        if not covered:
            sums[day] = ZERO
            covered[:] = [day, day]
            return ZERO
        one = dt.timedelta(days=1)
        first, last = covered  # the sums cover [first, last] without a gap
        if day > last:
            total = sums[last]
            while last < day:
                total += self._day_total(last)
                last += one
                sums[last] = total
        else:
            total = sums[first]
            while first > day:
                first -= one
                total -= self._day_total(first)
                sums[first] = total
        covered[:] = [first, last]
        return sums[day]

    def _day_total(self, day: dt.date) -> dt.timedelta:
        return sum((end - begin for begin, end in self._intervals_on(day)), ZERO)

    def next_working_instant(self, at: dt.datetime) -> dt.datetime:
        """`at` itself during working hours, else the start of the next working span."""
        at = _utc(at)
        if self.always_open:
            return at
        begin, _ = next(self._intervals_from(at))
        return max(begin, at)

    def is_working(self, at: dt.datetime) -> bool:
        return self.next_working_instant(at) == _utc(at)


@lru_cache(maxsize=256)
def _shared(
    tz: str, week: tuple[tuple[Span, ...], ...], country: str | None, days_off: frozenset[dt.date], always_open: bool
) -> BusinessCalendar:
    """One calendar per definition (a team's settings), kept with the sums it has made: a
    request asks for a few days' totals, not for every day since its oldest deadline again."""
    ZoneInfo(tz)  # fail early on an unknown zone (a failure is not kept)
    if country:
        holidays_lib.country_holidays(country)  # fail early on an unknown country
    return BusinessCalendar(tz=tz, week=week, country=country, days_off=days_off, always_open=always_open)


def _intervals(calendar: BusinessCalendar, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    """The day's spans as UTC intervals. Wall-clock times are placed with the zone's rules, so
    a span across a DST change lasts its real length (e.g. 01:00–04:00 is 2 h in spring)."""
    zone = calendar.zone
    out = []
    for start, end in calendar.spans_on(day):
        a = _local(day, start, zone)
        b = _local(day, end, zone)
        if a < b:
            out.append((a, b))
    return out


def _local(day: dt.date, minutes: int, zone: ZoneInfo) -> dt.datetime:
    if minutes >= 24 * 60:
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), zone).astimezone(dt.UTC)
    # fold=0: a repeated wall time is its first occurrence; a skipped one (inside a spring
    # DST jump) is read with the offset before the jump, i.e. as that much after the jump.
    wall = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), zone)
    return wall.astimezone(dt.UTC)


def _utc(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    return at.astimezone(dt.UTC)
