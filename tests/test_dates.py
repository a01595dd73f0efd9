"""`<when>` parsing and splitting, as pure functions."""

import datetime as dt

import pytest

from bot.clock import local_today
from bot.i18n import format_date, format_datetime
from bot.services.dates import parse_when, split_when

WED = dt.date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01", dt.date(2026, 12, 1)),
        ("Tomorrow", dt.date(2026, 11, 26)),
        ("in 3 days", dt.date(2026, 11, 28)),
        ("in 1 day", dt.date(2026, 11, 26)),
        ("in a week", dt.date(2026, 12, 2)),
        ("in 2 weeks", dt.date(2026, 12, 9)),
        ("in 3 months", dt.date(2027, 2, 25)),
        ("next monday", dt.date(2026, 11, 30)),
        ("next wednesday", dt.date(2026, 12, 2)),  # never today
        ("friday", dt.date(2026, 11, 27)),
        ("someday", None),
        ("in three fortnights", None),
        ("", None),
    ],
)
def test_parse_when(text, expected):
    assert parse_when(text, WED) == expected


def test_months_clamp_to_the_end_of_the_month():
    assert parse_when("in 1 month", dt.date(2027, 1, 31)) == dt.date(2027, 2, 28)


@pytest.mark.parametrize(
    ("text", "ref", "when"),
    [
        ("Acme Trading Co in 2 weeks", "Acme Trading Co", dt.date(2026, 12, 9)),
        ("Next Monday Cafe next monday", "Next Monday Cafe", dt.date(2026, 11, 30)),
        ("Acme 2026-12-01", "Acme", dt.date(2026, 12, 1)),
        ("Acme soon", "Acme soon", None),
        ("tomorrow", "tomorrow", None),  # a date alone names no customer
    ],
)
def test_split_takes_the_longest_date_at_the_end(text, ref, when):
    assert split_when(text, WED) == (ref, when)


def test_local_today_uses_the_zone():
    instant = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)
    assert local_today(instant, "Asia/Shanghai") == dt.date(2026, 12, 1)
    assert local_today(instant, "America/New_York") == dt.date(2026, 11, 30)
    assert local_today(instant, "Not/AZone") == dt.date(2026, 11, 30)


# --- Chinese ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天", WED),
        ("明天", dt.date(2026, 11, 26)),
        ("后天", dt.date(2026, 11, 27)),
        ("大后天", dt.date(2026, 11, 28)),
        ("3天后", dt.date(2026, 11, 28)),
        ("3 天后", dt.date(2026, 11, 28)),
        ("三天后", dt.date(2026, 11, 28)),
        ("十天之后", dt.date(2026, 12, 5)),
        ("两周后", dt.date(2026, 12, 9)),
        ("2周后", dt.date(2026, 12, 9)),
        ("一个星期后", dt.date(2026, 12, 2)),
        ("3个月后", dt.date(2027, 2, 25)),
        ("下周一", dt.date(2026, 11, 30)),  # the Monday of next week
        ("下周五", dt.date(2026, 12, 4)),  # next week's Friday, not this week's
        ("下周日", dt.date(2026, 12, 6)),
        ("下星期三", dt.date(2026, 12, 2)),
        ("周五", dt.date(2026, 11, 27)),  # the coming Friday
        ("星期三", dt.date(2026, 12, 2)),  # never today
        ("12月1日", dt.date(2026, 12, 1)),
        ("12月1号", dt.date(2026, 12, 1)),
        ("11月1日", dt.date(2027, 11, 1)),  # already past this year: next year's
        ("2026年12月1日", dt.date(2026, 12, 1)),
        ("2026年11月1日", dt.date(2026, 11, 1)),  # an explicit past date stays past (refused later)
        ("2026/12/1", dt.date(2026, 12, 1)),
        ("2月30日", None),
        ("改天", None),
        ("几天后", None),
    ],
)
def test_parse_when_chinese(text, expected):
    assert parse_when(text, WED) == expected


@pytest.mark.parametrize(
    ("text", "ref", "when"),
    [
        ("张伟 明天", "张伟", dt.date(2026, 11, 26)),
        ("张伟明天", "张伟", dt.date(2026, 11, 26)),  # written without a space
        ("上海宏达贸易 两周后", "上海宏达贸易", dt.date(2026, 12, 9)),
        ("Acme 中国 下周一", "Acme 中国", dt.date(2026, 11, 30)),
        ("张伟 2026年12月1日", "张伟", dt.date(2026, 12, 1)),
        ("张伟", "张伟", None),
    ],
)
def test_split_when_chinese(text, ref, when):
    assert split_when(text, WED) == (ref, when)


def test_dates_read_the_way_each_language_writes_them():
    tuesday = dt.date(2026, 12, 1)
    assert format_date("zh-CN", tuesday) == "2026年12月1日 周二"
    assert format_date("en-US", tuesday) == "2026-12-01"
    instant = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
    assert format_datetime("zh-CN", instant, "Asia/Shanghai") == "2026年12月1日 周二 09:00"
    assert format_datetime(None, instant, "Asia/Shanghai") == "2026-12-01 09:00"
    assert format_date("zh", dt.date(2026, 12, 6)) == "2026年12月6日 周日"
