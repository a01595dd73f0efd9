"""Quiet hours: when a member may be messaged, in their own time zone.

Nothing but urgent escalations is sent outside the team's working hours (`TeamSettings.
working_hours`, `working_days`; default Monday to Friday 09:00-18:00) read in the recipient's
own time zone. This is deliberately small: a team business-hours calendar (holidays and all)
can replace `WorkingHours` later without the jobs or the outbox changing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.services.workspaces import TeamSettings

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
DEFAULT_START, DEFAULT_END = dt.time(9, 0), dt.time(18, 0)


def zone(name: str | None, fallback: str = "UTC") -> ZoneInfo:
    """The named time zone, else `fallback`; a zone Slack knows but we don't never stops a job."""
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def parse_time(value: str | None) -> dt.time | None:
    """`"09:00"` -> 09:00; anything else -> None."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value or "")
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        return None
    return dt.time(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True)
class WorkingHours:
    start: dt.time = DEFAULT_START
    end: dt.time = DEFAULT_END
    days: frozenset[int] = frozenset({1, 2, 3, 4, 5})  # ISO weekdays, 1 = Monday

    @classmethod
    def of(cls, settings: TeamSettings) -> WorkingHours:
        """The team's hours; a malformed setting falls back to the default rather than to silence."""
        start, end = DEFAULT_START, DEFAULT_END
        match = _RANGE.match(settings.working_hours or "")
        if match:
            a = parse_time(f"{match.group(1)}:{match.group(2)}")
            b = parse_time(f"{match.group(3)}:{match.group(4)}")
            if a and b and a < b:
                start, end = a, b
        days = frozenset(d for d in settings.working_days if 1 <= d <= 7) or frozenset({1, 2, 3, 4, 5})
        return cls(start, end, days)

    def is_working_day(self, day: dt.date) -> bool:
        return day.isoweekday() in self.days

    def is_open(self, local: dt.datetime) -> bool:
        return self.is_working_day(local.date()) and self.start <= local.time() < self.end

    def next_open(self, local: dt.datetime) -> dt.datetime:
        """`local` itself when within working hours, else the start of the next working period."""
        if self.is_open(local):
            return local
        day = local.date()
        if not (self.is_working_day(day) and local.time() < self.start):
            day += dt.timedelta(days=1)
        for _ in range(8):
            if self.is_working_day(day):
                return dt.datetime.combine(day, self.start, tzinfo=local.tzinfo)
            day += dt.timedelta(days=1)
        return local  # unreachable: `days` is never empty

    def clamp(self, time: dt.time) -> dt.time:
        """A time of day moved inside working hours (a 07:00 digest goes at opening time)."""
        if time < self.start or time >= self.end:
            return self.start
        return time
