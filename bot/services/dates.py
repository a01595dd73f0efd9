"""`<when>` as people type it: `2026-12-01`, `tomorrow`, `in 3 days`, `in 2 weeks`, `next monday`,
and in Chinese `今天`, `明天`, `后天`, `3天后`, `两周后`, `下周一`, `周五`, `12月1日`, `2026年12月1日`.

Dates are read relative to `today` in the caller's own time zone; the caller decides what
"today" is (`bot.clock.local_today`). Writing dates back is `bot.i18n.format_date`.
"""

from __future__ import annotations

import datetime as dt
import re

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_IN = re.compile(r"^in (\d{1,4}|a|an|one|two|three|four|five|six|seven) (day|days|week|weeks|month|months)$")
_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
MAX_WORDS = 3  # the longest phrase above
MAX_CJK_CHARS = 16  # the longest Chinese phrase above (`2026年12月31日`, `十二个星期以后`) with room

# --- Chinese ---
_ZH_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_NUMBER = r"(\d{1,4}|[零一二两三四五六七八九十]{1,3})"
_ZH_IN = re.compile(rf"^{_ZH_NUMBER}(?:个)?(天|日|周|星期|礼拜|月)(?:以?后|之后)$")
_ZH_WEEKDAY_CHARS = "一二三四五六日"  # 周一 … 周日 (also 周天, 星期天)
_ZH_WEEKDAY = re.compile(r"^(下下|下|这|本)?(?:周|星期|礼拜)([一二三四五六日天])$")
_ZH_DATE = re.compile(r"^(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]?$")
_ZH_SLASHED = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")
_ZH_DAYS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3}


def parse_when(text: str, today: dt.date) -> dt.date | None:
    """The date `text` names, or None when it is not one of the accepted forms."""
    text = " ".join(text.lower().split())
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    if _has_cjk(text) or _ZH_SLASHED.match(text):
        return _parse_zh(text.replace(" ", ""), today)
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


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _zh_number(text: str) -> int | None:
    """`3`, `三`, `两`, `十`, `十二`, `二十`, `二十一`; None for anything else."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        if (tens and tens not in _ZH_DIGITS) or (ones and ones not in _ZH_DIGITS):
            return None
        return (_ZH_DIGITS[tens] if tens else 1) * 10 + (_ZH_DIGITS[ones] if ones else 0)
    return _ZH_DIGITS.get(text) if len(text) == 1 else None


def _parse_zh(text: str, today: dt.date) -> dt.date | None:
    if text in _ZH_DAYS:
        return today + dt.timedelta(days=_ZH_DAYS[text])
    if match := _ZH_IN.match(text):
        count = _zh_number(match.group(1))
        if count is None:
            return None
        unit = match.group(2)
        if unit in ("天", "日"):
            return today + dt.timedelta(days=count)
        if unit == "月":
            return _add_months(today, count)
        return today + dt.timedelta(weeks=count)
    if match := _ZH_WEEKDAY.match(text):
        target = _ZH_WEEKDAY_CHARS.index(match.group(2).replace("天", "日"))
        monday = today - dt.timedelta(days=today.weekday())
        weeks = {"下": 1, "下下": 2}.get(match.group(1) or "")
        if weeks:  # 下周一: the Monday of next week, not merely the next Monday
            return monday + dt.timedelta(weeks=weeks, days=target)
        if match.group(1):  # 这周五 / 本周五: this week's, even if already past
            return monday + dt.timedelta(days=target)
        return today + dt.timedelta(days=(target - today.weekday()) % 7 or 7)
    if match := _ZH_DATE.match(text) or _ZH_SLASHED.match(text):
        year = int(match.group(1)) if match.group(1) else today.year
        try:
            day = dt.date(year, int(match.group(2)), int(match.group(3)))
        except ValueError:
            return None
        if not match.group(1) and day < today:  # 12月1日 said in December means next year's
            day = day.replace(year=year + 1)
        return day
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
    # Chinese is written without spaces: `张伟明天`, `张伟 下周一` already handled above.
    last = words[-1] if words else ""
    if _has_cjk(last):
        for start in range(max(1, len(last) - MAX_CJK_CHARS), len(last)):  # a date is at most this long
            when = parse_when(last[start:], today)
            if when is not None:
                return " ".join([*words[:-1], last[:start]]), when
    return text.strip(), None
