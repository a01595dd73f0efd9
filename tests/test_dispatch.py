"""Bolt finds a request's listener without trying the others first.

Bolt tries its listeners in the order they were registered, each through its argument
injection (about 14 µs a listener passed over). The registry hands bolt one listener per kind,
the slash command first (`Registry.mount`): a `/crm` command is matched by the first listener
bolt tries. Counted here by the built-in matchers bolt calls."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from slack_bolt.listener_matcher import builtins

from bot.handlers.registry import BOLT_ORDER
from bot.views import ids


@pytest.fixture
def tried(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many of bolt's listeners each request was tried against (their first matchers)."""
    counted: Counter[str] = Counter()
    build = builtins.build_required_kwargs

    def counting(**kw: Any) -> dict[str, Any]:
        counted["tried"] += 1
        return build(**kw)

    monkeypatch.setattr(builtins, "build_required_kwargs", counting)
    return counted


def _tries(tried: Counter[str], send: Any) -> int:
    tried.clear()
    response = send()
    assert response.status == 200, response.text
    return tried["tried"]


def test_bolt_has_one_listener_a_kind_the_slash_command_first(app):
    kinds = [listener.matchers[0].func.__qualname__.split(".")[0] for listener in app._listeners]
    assert kinds == ["command", "action", "view_submission", "options", "event", "shortcut", "function_executed"]


def test_each_request_is_tried_only_against_the_kinds_before_its_own(local_slack, tried):
    assert BOLT_ORDER[0] == "command"
    assert _tries(tried, lambda: local_slack.command("help")) == 1
    place = {kind: n for n, kind in enumerate(BOLT_ORDER, start=1)}
    assert _tries(tried, lambda: local_slack.suggest(ids.CUSTOMER_PICKER, "ab")) == place["options"]
    opened = {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}
    assert _tries(tried, lambda: local_slack.event(opened)) == place["event"]
