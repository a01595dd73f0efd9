"""NUL characters: `bot.payloads.parse` takes them out of every string of a payload, and skips
that walk when the request's text cannot hold one (`may_hold_nul`). The skip is sound only if
no text it lets by reads as a body with a NUL in it, however the text is written: JSON, a form
with a JSON `payload`, a plain form, with any character percent-encoded or left as it is."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from slack_bolt.request.internals import parse_body

from bot.payloads import may_hold_nul, without_nul
from tests.test_bad_input import DERANDOMIZE, EXAMPLES

# What makes a NUL, or almost: the letters of `\u0000` and of `%00`, and what a form must encode.
TRICKY = st.sampled_from(["\x00", "\\", "u", "0", "%", "&", "+", "=", "é", '"', " ", "a"])
STRINGS = st.text(alphabet=TRICKY | st.characters(codec="utf-8"), max_size=12)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | STRINGS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(STRINGS, inner, max_size=4),
    max_leaves=12,
)
MUST_ENCODE = set("&+%#")


def form_encoded(text: str, encode: list[bool]) -> str:
    """`text` as a form value: each character percent-encoded (its UTF-8 bytes) where it must
    be or where `encode` says so (cycled), else left as it is, as a lax client might."""
    out = []
    for i, char in enumerate(text):
        if char in MUST_ENCODE or (encode and encode[i % len(encode)]):
            out.append("".join(f"%{byte:02X}" for byte in char.encode()))
        else:
            out.append(char)
    return "".join(out)


def has_nul(value: Any) -> bool:
    return without_nul(value) != value


@settings(max_examples=max(EXAMPLES, 1000), deadline=None, database=None, derandomize=DERANDOMIZE)
@given(value=VALUES, ascii_only=st.booleans(), encode=st.lists(st.booleans(), max_size=7))
def test_a_text_said_to_hold_no_nul_reads_as_a_body_without_one(value: Any, ascii_only: bool, encode: list[bool]):
    as_json = json.dumps({"event": value}, ensure_ascii=ascii_only)
    texts = [(as_json, "application/json"),
             ("payload=" + form_encoded(as_json, encode), "application/x-www-form-urlencoded")]  # fmt: skip
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        fields = "&".join(f"{form_encoded(k, encode)}={form_encoded(v, encode)}" for k, v in value.items())
        texts.append(("command=%2Fcrm&" + fields, "application/x-www-form-urlencoded"))
    for text, content_type in texts:
        body = parse_body(text, content_type)
        assert may_hold_nul(text) or not has_nul(body), text


def test_slacks_own_text_is_not_walked_and_a_nul_anywhere_is_found():
    slack_form = "payload=" + form_encoded(json.dumps({"type": "view_submission", "view": {"id": "V1"}}), [False])
    assert not may_hold_nul(slack_form)
    for text in ('{"text": "a\\u0000b"}', "text=a%00b", "payload=%7B%22t%22%3A%22%5Cu0000%22%7D",
                 "payload=%7B%22t%22%3A%22%5C%750000%22%7D", "payload=%7B%22t%22%3A%22%5Cu0%3000%22%7D",
                 "text=a\x00b"):  # fmt: skip
        assert may_hold_nul(text) and has_nul(parse_body(text, None)), text
