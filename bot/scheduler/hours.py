"""Quiet hours: when a member may be messaged, in their own time zone.

Nothing but urgent escalations is sent outside the team calendar's working hours (the
working hours per weekday, holidays and days off of `/crm settings`; default Monday to Friday
09:00-18:00), read in the recipient's own time zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from bot.services.calendar import BusinessCalendar
from bot.services.workspaces import TeamSettings

DEFAULT_START, DEFAULT_END = dt.time(9, 0), dt.time(18, 0)


@dataclass(frozen=True)
class WorkingHours:
    """The team calendar (`services.calendar`: hours per weekday, split shifts, public holidays,
    the team's days off) read in whichever time zone the local times passed in carry, which is
    the recipient's own."""

    calendar: BusinessCalendar

    @classmethod
    def of(cls, settings: TeamSettings) -> WorkingHours:
        """The team's hours; a malformed setting falls back to the default rather than to silence."""
        try:
            calendar = BusinessCalendar.build(
                hours=settings.working_hours, country=settings.holidays_country, days_off=settings.days_off
            )
        except (ValueError, KeyError, NotImplementedError):
            calendar = BusinessCalendar.build()
        return cls(calendar)

    def _in(self, local: dt.datetime) -> BusinessCalendar:
        key = getattr(local.tzinfo, "key", "UTC")
        return replace(self.calendar, tz=key)

    def is_working_day(self, day: dt.date) -> bool:
        return self.calendar.is_working_day(day)

    def start_on(self, day: dt.date) -> dt.time:
        spans = self.calendar.spans_on(day)
        return _clock(spans[0][0]) if spans else DEFAULT_START

    def end_on(self, day: dt.date) -> dt.time:
        """The end of the day's last span (23:59:59 for a span that runs to midnight)."""
        spans = self.calendar.spans_on(day)
        return _clock(spans[-1][1]) if spans else DEFAULT_END

    def is_open(self, local: dt.datetime) -> bool:
        return self._in(local).is_working(local)

    def next_open(self, local: dt.datetime) -> dt.datetime:
        """`local` itself when within working hours, else the start of the next working span."""
        return self._in(local).next_working_instant(local).astimezone(local.tzinfo)

    def clamp(self, day: dt.date, time: dt.time) -> dt.time:
        """A time of day moved inside the day's working hours (a 07:00 digest goes at opening)."""
        if time < self.start_on(day) or time >= self.end_on(day):
            return self.start_on(day)
        return time


def _clock(minutes: int) -> dt.time:
    return dt.time.max if minutes >= 24 * 60 else dt.time(minutes // 60, minutes % 60)
