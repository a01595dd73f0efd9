"""`<when>` parsing and splitting, as pure functions."""

import datetime as dt

import pytest

from bot.services.dates import local_today, parse_when, split_when

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
