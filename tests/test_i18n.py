"""The Chinese catalog: complete, same placeholders as English, chosen for the right people,
and no text a person reads written outside it."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

import bot
from bot.i18n import EN, LOCALES_DIR, ZH, language, load_po, t


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _po_stub(key: str) -> str:
    """A ready-to-paste .po entry for `key`: its English as the comment, msgstr to fill in."""
    comment = "".join(f"#. {line}\n" for line in EN[key].splitlines())
    return f'{comment}msgid "{key}"\nmsgstr ""\n'


def test_every_english_key_has_a_chinese_translation() -> None:
    missing = [key for key in EN if key not in ZH]
    assert not missing, (
        "translate these in bot/locales/zh_CN/LC_MESSAGES/messages.po (same {placeholders}):\n\n"
        + "\n".join(_po_stub(key) for key in missing)
    )


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


# --- no text outside the catalog ---------------------------------------------------------------

# Where a call puts text a person reads: function name -> index of that positional argument.
_TEXT_ARGS = {"section": 0, "plain": 0, "mrkdwn": 0, "button": 0, "option": 0, "reply_text": 1, "dm": 1}
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
SOURCES = ["handlers/*.py", "views/*.py", "app.py", "notify.py"]


def _literal_texts(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    return []


def _shown_literals(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        shown: list[ast.AST] = []
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in _TEXT_ARGS and len(node.args) > _TEXT_ARGS[name]:
                shown.append(node.args[_TEXT_ARGS[name]])
            shown += [k.value for k in node.keywords if k.arg == "text"]
        elif isinstance(node, ast.Dict):  # {"type": "plain_text", "text": "..."}
            keys = [k.value if isinstance(k, ast.Constant) else None for k in node.keys]
            if "text" in keys and "type" in keys:
                shown.append(node.values[keys.index("text")])
        found += [(node.lineno, text) for part in shown for text in _literal_texts(part) if _LATIN_WORD.search(text)]
    return found


def test_handlers_and_builders_show_no_text_outside_the_catalog() -> None:
    root = Path(bot.__file__).parent
    leaks = [
        f"{path.relative_to(root)}:{line}: {text!r}"
        for pattern in SOURCES
        for path in sorted(root.glob(pattern))
        for line, text in _shown_literals(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not leaks, "put these texts in the catalog (bot/i18n/en_*.py and the .po file):\n" + "\n".join(leaks)


def test_the_literal_check_finds_a_literal() -> None:
    tree = ast.parse('section("Saved!")\nbutton(f"Show {x}", A, v)\nreply_text(ack, t(loc, "k"))')
    assert [text for _, text in _shown_literals(tree)] == ["Saved!", "Show "]
