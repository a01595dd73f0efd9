"""Migrations carry what they run: none imports bot, and the copies they carry agree with the
live code today. Their files are named by their revision ids, numbered in one style."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
from alembic.script import ScriptDirectory
from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.storage import crypto, pinyin, search

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"
MIGRATIONS = sorted(VERSIONS.glob("*.py"))
SCRIPTS = list(ScriptDirectory(str(VERSIONS.parent)).walk_revisions())
# Landed before the numbering was one style; databases record them in alembic_version, so
# they keep their ids for good (migrations/env.py).
LANDED_IRREGULAR = {"0002b", "0003r"}


def _imported_modules(tree: ast.AST) -> list[str]:
    """Every module a file imports, at its top or inside a function, by statement or by name."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.append(str(node.args[0].value))
    return names


def test_the_import_check_sees_every_way_of_importing_bot():
    code = "import bot\nfrom bot.storage import search\ndef f():\n    import bot.storage.pinyin\n" \
           "importlib.import_module('bot.storage.search')\n"  # fmt: skip
    assert sorted(_imported_modules(ast.parse(code))) == ["bot", "bot.storage", "bot.storage.pinyin", "bot.storage.search"]


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda p: p.name)
def test_no_migration_imports_bot(path: Path):
    """A migration runs the same whenever it runs, so it imports nothing that may change:
    what it needs from bot is copied into it (alembic, SQLAlchemy and pypinyin may stay)."""
    imported = _imported_modules(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    assert [name for name in imported if name == "bot" or name.startswith(("bot.", "."))] == []


def _number(revision: str) -> str:
    match = re.match(r"\d+", revision)
    assert match, f"revision {revision!r} does not begin with its number"
    return match.group()


def test_every_migration_is_found_by_alembic():
    assert sorted(Path(script.path).name for script in SCRIPTS) == [path.name for path in MIGRATIONS]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: s.revision)
def test_every_migration_file_name_starts_with_its_revision_number(script):
    assert Path(script.path).name.startswith(_number(script.revision))


@pytest.mark.parametrize("script", [s for s in SCRIPTS if s.revision not in LANDED_IRREGULAR], ids=lambda s: s.revision)
def test_revision_ids_are_four_digits_one_after_their_parent_and_name_their_file(script):
    """The style every new migration follows (migrations/env.py); only the two landed
    exceptions are spared, as changing a landed id would break the databases that hold it."""
    assert re.fullmatch(r"\d{4}", script.revision)
    assert Path(script.path).name.startswith(f"{script.revision}_")
    if script.down_revision is not None:
        assert isinstance(script.down_revision, str)  # one line of history, no merges
        assert int(script.revision) == int(_number(script.down_revision)) + 1


def _migration(stem: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"migration_{stem}", VERSIONS / f"{stem}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


M0004, M0005, M0008 = _migration("0004_pinyin"), _migration("0005_search_doc"), _migration("0008_search_line")
M0020 = _migration("0020_search_line_email_domain")

# Drift note for the tests below: they compare the frozen copies with the live search as it is
# today. When the search changes on purpose, the old migrations keep their frozen behaviour
# (that is the point) and these tests are changed to pin the frozen copies' own results, no
# longer the live code's; the new behaviour reaches old rows through a new migration.

LONG_LATIN = "Acme Trading and Logistics " * 80  # 2,160 bytes: over the 1,600-byte cap
LONG_HAN = "深圳市前海国际贸易有限公司" * 50  # 1,950 bytes, three to a character: the cut falls inside one
NAMES = [
    "Acme Trading", "  Acme   LTD  ", "O'Brien & Sons", "Müller GmbH", "STRASSE ß", "İstanbul Tekstil",
    "张伟", "曾伟", "曾国藩", "单田芳", "朴志成", "乐乐", "重庆火锅", "长城", "绿地控股", "吕布", "女娲",
    "Acme 中国", "3M 中国有限公司", "中国 Acme 2", "㐀字", "𠀀 Ext-B", "🙂 Emoji", "", "   ", "\t\n",
    LONG_LATIN, LONG_HAN, "曾" + LONG_HAN,
]  # fmt: skip
EMAILS = [None, "", "Buyer@Acme.com", "li.wei@example.cn", "  ZENG@EXAMPLE.COM ", "gAAAAABnotreallyatoken=="]
PHONES = [None, "", "+86 139 0000 0000", "(555) 010-0199", "gAAAAABnotreallyatoken=="]
TAGS = [None, "", "vip, east", "重点, 华南", "  VIP   Key ", LONG_LATIN]


def _rows() -> list[dict[str, str | None]]:
    """Customers mixing every sample: each name once, beside e-mails, phones and tags in turn,
    with long companies and contacts among them."""
    rows = []
    for i, name in enumerate(NAMES):
        company = [None, "Acme", "曾氏集团", LONG_LATIN, LONG_HAN, "单位"][i % 6]
        contact = [None, "张伟", "Zeng Wei", "曾 Wei", LONG_HAN][i % 5]
        rows.append({"name": name, "company": company, "contact_name": contact, "email": EMAILS[i % len(EMAILS)],
                     "phone": PHONES[i % len(PHONES)], "tags": TAGS[i % len(TAGS)]})  # fmt: skip
    return rows


@pytest.fixture(params=[False, True], ids=["plain", "encrypting"])
def encrypting(request: pytest.FixtureRequest):
    crypto.configure(Fernet.generate_key().decode() if request.param else None)
    yield request.param
    crypto.configure(None)


def test_0004_computes_the_pinyin_keys_the_search_computes_today():
    """The frozen copy of bot.storage.pinyin in migration 0004 agrees with the live one
    (allowed to drift: see the drift note above)."""
    texts = [*NAMES, *(row["contact_name"] for row in _rows())]
    assert {"zengwei", "cengwei"} <= set(M0004.search_key("曾伟").split())  # both readings of the surname
    for text in texts:
        assert M0004.search_key(text) == pinyin.search_key(text), text
    for row in _rows():
        assert M0004.search_key(row["name"], row["company"], row["contact_name"]) == pinyin.search_key(
            row["name"], row["company"], row["contact_name"])  # fmt: skip


def test_0005_computes_the_search_text_the_search_computes_today(encrypting):
    """The frozen copy of bot.storage.search in migration 0005 agrees with the live one, with
    and without encryption keys (allowed to drift: see the drift note above)."""
    for row in _rows():
        doc = M0005.search_doc(**row, encrypting=encrypting)
        assert doc == search.search_doc(**row), row
        assert M0005.han(doc) == search.han(doc)
    long = M0005.search_doc(name="Acme", company=LONG_HAN, contact_name=None, email="li@acme.cn", phone=None,
                            tags=None, encrypting=encrypting)  # fmt: skip
    assert len(long.encode()) <= search.DOC_BYTES and long.endswith("\n")
    assert ("li@acme.cn" in long) is not encrypting


def _lines_after_0020(doc: str | None, key: str | None) -> set[str]:
    """A customer's search lines as migration 0008 wrote them and 0020 added to them."""
    before = M0008.search_lines(doc, key)
    assert M0020.lines_before(doc, key) == before
    return before | M0020.domains(before)


def test_0005_0008_and_0020_cut_and_split_the_search_text_as_the_search_does_today():
    """The frozen copies of `capped` and `search_lines` in migrations 0005 and 0008, with the
    e-mail domains migration 0020 adds, agree with the live ones (allowed to drift: see the
    drift note above)."""
    assert M0005.DOC_BYTES == M0008.DOC_BYTES == search.DOC_BYTES
    docs = [None, "", "\n\t\n", "\nacme\nli@acme.cn\n\tvip\n", "\n" + LONG_LATIN + "\n\t\n", "\n" + LONG_HAN + "\n\t\n",
            "\n" + "é" * 799 + "\n\t" + "x" * 10 + "\n"]  # fmt: skip
    keys = [None, "", " zengwei zw wei cengwei cw ", " acmezhongguo azg "]
    for doc in docs:
        if doc is not None:
            assert M0005.capped(doc) == M0008.capped(doc) == search.capped(doc)
        for key in keys:
            assert _lines_after_0020(doc, key) == search.search_lines(doc, key)
    assert "acme.cn" in search.search_lines("\nacme\nli@acme.cn\n\t\n", None)


# Latin, accented and Han characters (CJK and extension A), with the separators the search
# text gives a meaning to.
_chars = st.one_of(
    st.characters(max_codepoint=0x24F),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0x3400, max_codepoint=0x4DBF),
    st.sampled_from(" \t\n@.+-,"),
)
_texts = st.one_of(st.none(), st.text(_chars, max_size=40), st.text(_chars, min_size=500, max_size=900))


@settings(max_examples=150, deadline=None)
@given(name=st.text(_chars, max_size=40), company=_texts, contact=_texts, email=_texts, phone=_texts, tags=_texts)
def test_the_frozen_copies_agree_with_the_search_on_any_customer(name, company, contact, email, phone, tags):
    """Any customer, plain: migrations 0004, 0005, 0008 and 0020 compute what the live search
    computes today (allowed to drift: see the drift note above)."""
    key = M0004.search_key(name, company, contact)
    assert key == pinyin.search_key(name, company, contact)
    row = {"name": name, "company": company, "contact_name": contact, "email": email, "phone": phone, "tags": tags}
    doc = M0005.search_doc(**row, encrypting=False)
    assert doc == search.search_doc(**row)
    assert M0005.han(doc) == search.han(doc)
    assert M0008.capped(doc) == search.capped(doc)
    assert _lines_after_0020(doc, key) == search.search_lines(doc, key)
