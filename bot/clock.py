"""The one clock, and time zones.

"Now" is an input. The entry points read the wall clock once and hand the instant down: a
request (bot.context), a scheduler run (bot.scheduler.runner), a command of the command line.
Nothing below them calls `wall()` (tests/test_one_clock.py checks it): services, views and
storage take `now` as an argument, and a database session carries its unit of work's instant
for the rows it stamps (bot.storage.db).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.UTC


def wall() -> dt.datetime:
    """The wall clock's instant, aware, in UTC: for entry points only."""
    return dt.datetime.now(UTC)


def elapsed() -> float:
    """Seconds on a clock that only moves forward, for waits and rates, never for what a
    record says happened. Read with clock_gettime, which freezegun leaves alone: a test that
    freezes the date must not stop the work that waits on this."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def zone(name: str | None, fallback: str | None = "UTC") -> ZoneInfo:
    """The named time zone, else `fallback`, else UTC: a zone Slack knows but we don't never
    stops a request or a job."""
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def local_today(now: dt.datetime, tz: str | None, fallback: str | None = "UTC") -> dt.date:
    """The date at `now` in the zone `tz` (else `fallback`)."""
    return now.astimezone(zone(tz, fallback)).date()


def parse_time(value: str | None) -> dt.time | None:
    """`"09:00"` -> 09:00; anything else -> None."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value or "")
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        return None
    return dt.time(int(match.group(1)), int(match.group(2)))
