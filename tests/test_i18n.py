"""The Chinese catalog: complete, same placeholders as English, and chosen for the right people."""

from __future__ import annotations

import string

import pytest

from bot.messages import EN, ZH, language, load_po, LOCALES_DIR, t


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_every_english_key_has_a_chinese_translation() -> None:
    missing = sorted(set(EN) - set(ZH))
    assert not missing, f"add these keys to bot/locales/zh_CN/LC_MESSAGES/messages.po: {missing}"


def test_the_chinese_catalog_has_no_stale_keys() -> None:
    stale = sorted(set(ZH) - set(EN))
    assert not stale, f"these keys are no longer in EN: {stale}"


@pytest.mark.parametrize("key", sorted(EN))
def test_translation_keeps_the_placeholders(key: str) -> None:
    assert _placeholders(ZH.get(key, EN[key])) == _placeholders(EN[key])


def test_the_catalog_file_is_read_with_babel() -> None:
    assert load_po(LOCALES_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po") == ZH


@pytest.mark.parametrize(
    ("locale", "lang"),
    [("zh-CN", "zh"), ("zh-TW", "zh"), ("zh_CN", "zh"), ("zh", "zh"), ("en-US", "en"), ("ja-JP", "en"), (None, "en"), ("", "en")],
)
def test_language_of_a_locale(locale: str | None, lang: str) -> None:
    assert language(locale) == lang


def test_t_speaks_chinese_and_falls_back_to_english() -> None:
    assert t("zh-CN", "customer.created", name="张伟", number=3) == "客户 *张伟*（#3）已保存。"
    assert t("en-US", "customer.created", name="Acme", number=3) == "Customer *Acme* (#3) saved."
