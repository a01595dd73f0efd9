"""`<when>` as people type it: `2026-12-01`, `tomorrow`, `in 3 days`, `in 2 weeks`, `next monday`.

Dates are read relative to `today` in the caller's own time zone; the caller decides what
"today" is (see `local_today`).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_IN = re.compile(r"^in (\d{1,4}|a|an|one|two|three|four|five|six|seven) (day|days|week|weeks|month|months)$")
_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
MAX_WORDS = 3  # the longest phrase above


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_today(now: dt.datetime, tz: str | None) -> dt.date:
    return now.astimezone(zone(tz)).date()


def parse_when(text: str, today: dt.date) -> dt.date | None:
    """The date `text` names, or None when it is not one of the accepted forms."""
    text = " ".join(text.lower().split())
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    if text == "today":
        return today
    if text == "tomorrow":
        return today + dt.timedelta(days=1)
    if text.startswith("next ") and text[5:] in WEEKDAYS:
        ahead = (WEEKDAYS.index(text[5:]) - today.weekday()) % 7 or 7
        return today + dt.timedelta(days=ahead)
    if text in WEEKDAYS:
        ahead = (WEEKDAYS.index(text) - today.weekday()) % 7 or 7
        return today + dt.timedelta(days=ahead)
    match = _IN.match(text)
    if match:
        count = int(match.group(1)) if match.group(1).isdigit() else _WORDS[match.group(1)]
        unit = match.group(2)
        if unit.startswith("day"):
            return today + dt.timedelta(days=count)
        if unit.startswith("week"):
            return today + dt.timedelta(weeks=count)
        return _add_months(today, count)
    return None


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def split_when(text: str, today: dt.date) -> tuple[str, dt.date | None]:
    """Split `<customer> <when>`: the date is the longest readable phrase at the end."""
    words = text.split()
    for size in range(min(MAX_WORDS, len(words) - 1), 0, -1):
        when = parse_when(" ".join(words[-size:]), today)
        if when is not None:
            return " ".join(words[:-size]), when
    return text.strip(), None
