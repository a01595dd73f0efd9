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


def test_json_inside_a_payload_loses_its_nul_characters_too():
    """A button's value and a modal's private metadata are JSON inside the payload's JSON: a
    `\\u0000` in them is only a NUL once they are read, after the payload's own walk."""
    from bot.handlers.customers import CustomerForm, SearchPage
    from bot.payloads import parse

    inner = json.dumps({"q": "a\x00b", "offset": 10})  # written as JSON: `"a\u0000b"`
    button = {"type": "block_actions", "team": {"id": "T0000001"}, "user": {"id": "U0000001", "team_id": "T0000001"},
              "api_app_id": "A0000001", "trigger_id": "t.1", "channel": {"id": "C0000001"},
              "container": {"type": "message", "channel_id": "C0000001", "message_ts": "1.0"},
              "actions": [{"action_id": "search_page", "block_id": "b", "type": "button", "value": inner}]}  # fmt: skip
    text = "payload=" + form_encoded(json.dumps(button), [False])
    read = SearchPage.read(parse(parse_body(text, "application/x-www-form-urlencoded"), text=text))
    assert (read.q, read.offset) == ("ab", 10)
    modal = {"type": "view_submission", "team": {"id": "T0000001"}, "user": {"id": "U0000001", "team_id": "T0000001"},
             "api_app_id": "A0000001", "trigger_id": "t.1",
             "view": {"id": "V1", "type": "modal", "callback_id": "customer_modal", "team_id": "T0000001",
                      "private_metadata": json.dumps({"customer_id": 12, "note": "x\x00"}),
                      "state": {"values": {"name": {"name": {"type": "plain_text_input", "value": "Acme"}}}}}}  # fmt: skip
    assert not has_nul(CustomerForm.values_from(parse(modal))["meta"])
