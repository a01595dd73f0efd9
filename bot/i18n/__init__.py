"""Language: the message catalog, the choice of language, and how dates are written.

Every word a user reads comes from the catalog. English is the source: the `EN` tables of
`bot/i18n/en_*.py` (one per part of the product), key → text. Simplified Chinese is the
gettext catalog `bot/locales/zh_CN/LC_MESSAGES/messages.po` (msgid = the key, msgstr = the
Chinese, the English as a translator comment), read once at import with Babel.
`t(locale, key, **params)` picks the language (`language`) and falls back to English for a
missing key; tests/test_i18n.py fails when a key lacks a translation or its placeholders differ.
Dates among the parameters are written the way the reader's language writes them
(`format_date`): ISO-like for English, `2026年12月1日 周二` for Chinese; money (`format_money`)
with the currency's sign and thousands separators, as Babel's CLDR data writes it.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po
from babel.numbers import format_currency, get_currency_name

from bot.clock import zone
from bot.i18n import (
    en_channels,
    en_common,
    en_complaints,
    en_customers,
    en_datacare,
    en_followups,
    en_lifecycle,
    en_install,
    en_reports,
    en_revisits,
    en_settings,
    en_surveys,
    en_touches,
)

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
_PARTS = (en_common, en_customers, en_touches, en_revisits, en_complaints, en_reports, en_settings, en_datacare,
          en_channels, en_lifecycle, en_followups, en_install, en_surveys)  # fmt: skip
EN: dict[str, str] = {key: text for part in _PARTS for key, text in part.EN.items()}
assert len(EN) == sum(len(part.EN) for part in _PARTS), "a message key is defined in two parts"


def load_po(path: Path) -> dict[str, str]:
    """key → translation from a gettext catalog; empty or fuzzy entries count as missing."""
    with path.open("rb") as f:
        catalog = read_po(f)
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


ZH: dict[str, str] = load_po(LOCALES_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po")
CATALOGS: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}
# What TeamSettings.language may hold (None: each user's Slack locale).
LANGUAGES: tuple[str, ...] = ("en", "zh")
ZH_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@lru_cache(maxsize=64)  # called for every text shown (about 200 for one `/crm due`), with a few locales
def language(locale: str | None) -> str:
    """The catalog for a Slack locale such as `en-US` or `zh-CN`, or a team language `zh`."""
    if locale:
        lang = locale.replace("_", "-").split("-")[0].lower()
        if lang in CATALOGS:
            return lang
    return "en"


def _is_date(value: object) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def t(locale: str | None, key: str, **params: object) -> str:
    """The text of `key` in the language of `locale`; a date among `params` is written the way
    that language writes dates (services pass dates, not their text)."""
    template = CATALOGS[language(locale)].get(key) or EN[key]
    if not params:
        return template
    params = {k: format_date(locale, v) if _is_date(v) else v for k, v in params.items()}
    return template.format(**params)


def format_date(locale: str | None, day: dt.date) -> str:
    """`2026-12-01` in English; `2026年12月1日 周二` in Chinese."""
    if language(locale) == "zh":
        return f"{day.year}年{day.month}月{day.day}日 {ZH_WEEKDAYS[day.weekday()]}"
    return day.isoformat()


def format_datetime(locale: str | None, instant: dt.datetime, tz: str | None) -> str:
    """`2026-12-01 09:00` in English; `2026年12月1日 周二 09:00` in Chinese; in the zone `tz`."""
    local = instant.astimezone(zone(tz))
    return f"{format_date(locale, local.date())} {local:%H:%M}"


# The CLDR locale whose number and currency formats each catalog's readers expect.
_MONEY_LOCALES = {"en": "en_US", "zh": "zh_CN"}


def format_money(locale: str | None, amount: int | None, currency: str) -> str:
    """`CN¥1,200,000` in English, `¥1,200,000` in Chinese (whole units: values are yearly
    estimates, not invoices); `–` for no amount."""
    if amount is None:
        return "–"
    return format_currency(amount, currency, format="¤#,##0", locale=_MONEY_LOCALES[language(locale)],
                           currency_digits=False)  # fmt: skip


def currency_name(locale: str | None, currency: str) -> str:
    """How a reader names the currency: its ISO code in English (`CNY`), its name in Chinese (`人民币`)."""
    return get_currency_name(currency, locale="zh_CN") if language(locale) == "zh" else currency


def format_period(locale: str | None, kind: str, first_day: dt.date) -> str:
    """A month or quarter as a reader names it: `2026-06` / `2026 Q2` (`2026年06月` / `2026年第2季度`)."""
    if kind == "quarter":
        return t(locale, "period.quarter", year=first_day.year, quarter=(first_day.month - 1) // 3 + 1)
    if kind == "month":
        return t(locale, "period.month", year=first_day.year, month=f"{first_day.month:02d}")
    return format_date(locale, first_day)
