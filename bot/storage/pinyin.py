"""Pinyin search keys: how `zhangwei`, `zw` and `wei` find 张伟.

A customer's `search_key` holds, for its name, company and contact person when they contain
Chinese characters, the full pinyin without tones (`zhangwei`), the initials (`zw`) and the
pinyin from each later syllable on (`wei`), as space-separated tokens with a space at both
ends, so a query matches a token's beginning with `LIKE '% q%'`. Latin words in mixed names
(`Acme 中国`) are kept as they are (`acmezhongguo`, `azg`). The first character of a name
may be read several ways (曾 zeng/ceng, 单 shan/dan are common surnames): every reading is
kept. pypinyin is the well-kept library that knows the readings.
"""

from __future__ import annotations

import re

from pypinyin import Style, lazy_pinyin, pinyin

_LATIN = re.compile(r"[0-9a-z]+")
_SUFFIXES = 8  # tokens from at most this many later syllables: names stay short keys


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


def _syllables(text: str) -> list[str]:
    out: list[str] = []
    for part in lazy_pinyin(text):
        out.extend(_LATIN.findall(part.lower()))
    return out


def _tokens(syllables: list[str]) -> list[str]:
    tokens = ["".join(syllables), "".join(s[0] for s in syllables)]
    tokens += ["".join(syllables[i:]) for i in range(1, min(len(syllables), _SUFFIXES))]
    return tokens


def pinyin_tokens(text: str | None) -> list[str]:
    """The tokens one name adds to a search key; none for a name without Chinese."""
    if not text or not has_chinese(text):
        return []
    text = text.strip()
    syllables = _syllables(text)
    if not syllables:
        return []
    tokens = _tokens(syllables)
    if has_chinese(text[0]):
        for reading in pinyin(text[0], style=Style.NORMAL, heteronym=True)[0]:
            if reading != syllables[0] and _LATIN.fullmatch(reading):
                tokens += _tokens([reading, *syllables[1:]])[:2]
    tokens += [tok.replace("v", "u") for tok in tokens if "v" in tok]  # 绿 lv, as many type lu
    return tokens


def search_key(*texts: str | None) -> str | None:
    tokens = list(dict.fromkeys(tok for text in texts for tok in pinyin_tokens(text) if tok))
    return f" {' '.join(tokens)} " if tokens else None
