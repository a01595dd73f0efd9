"""A request's body is read as bolt reads it (bot.payloads `read_body`), with a form's percent
escapes decoded in C where that gives the same text: compared here with bolt's reading and
urllib's on whatever hypothesis makes of the characters that matter to a form."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_bolt.request.internals import parse_body

from bot.payloads import form_fields, read_body

FORM = "application/x-www-form-urlencoded"
# What a form's reading turns on: separators, escapes (whole, cut short, not hex, lower and upper
# case, of UTF-8 and of bytes that are not), `+`, and text that is not ASCII.
FORM_ALPHABET = st.sampled_from(["&", "=", "%", "+", " ", "\n", "a", "Z", "0", "9", "f", "F", "g", "%2", "%20", "%3D",
                                 "%26", "%2B", "%25", "%e4%bd%a0", "%E4%BD", "%FF", "%C3%28", "%00", "你", "é", "_",
                                 "payload", "{", "}", '"'])  # fmt: skip
FORMS = st.lists(FORM_ALPHABET, max_size=40).map("".join) | st.text(max_size=60)


def _outcome(read, *args):
    try:
        return "read", read(*args)
    except ValueError as error:  # json's errors are ValueErrors
        return "refused", type(error)


@settings(max_examples=600, deadline=None)
@given(FORMS)
def test_a_form_is_read_as_urllib_reads_it(text):
    assert form_fields(text) == parse_qsl(text, keep_blank_values=True)


@settings(max_examples=300, deadline=None)
@given(FORMS, st.sampled_from([FORM, "application/json", None]))
def test_a_body_is_read_as_bolt_reads_it(text, content_type):
    assert _outcome(read_body, text, content_type) == _outcome(parse_body, text, content_type)


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12),
       st.sampled_from([lambda value: urlencode({"payload": value}), lambda value: "payload=" + quote(value, safe="{}:,\"[]")]))  # fmt: skip
def test_a_payload_is_read_back_whole_however_it_was_encoded(value, encode):
    body = encode(json.dumps({"type": "block_actions", "value": value}, ensure_ascii=False))
    assert read_body(body, FORM) == parse_body(body, FORM) == {"type": "block_actions", "value": value}


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("payload=%7B%22a%22%3A1%7D", [("payload", '{"a":1}')]),
        ("text=%e4%bd%a0%E5%A5%BD+a%2Bb", [("text", "你好 a+b")]),  # lower and upper case hex, + and %2B
        ("text=100%25+off%21", [("text", "100% off!")]),
        ("text=50%+off", [("text", "50% off")]),  # a % that starts no escape stays
        ("text=a=b%3D", [("text", "a=b=")]),  # an = in a value
        ("text=%FF", [("text", "\ufffd")]),  # a byte that is not UTF-8
        ("a&&b=&=c", [("a", ""), ("b", ""), ("", "c")]),
    ],
)
def test_what_a_form_field_reads(text, fields):
    assert form_fields(text) == fields == parse_qsl(text, keep_blank_values=True)
