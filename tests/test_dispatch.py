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


# Bolt's name for the matcher of each kind (listener_matcher.builtins).
BOLT_MATCHERS = {"command": "command", "action": "action", "view": "view_submission", "options": "options",
                 "event": "event", "shortcut": "shortcut", "function": "function_executed"}  # fmt: skip


def test_bolt_has_one_listener_a_kind_the_slash_command_first(app):
    kinds = [listener.matchers[0].func.__qualname__.split(".")[0] for listener in app._listeners]
    assert kinds == [BOLT_MATCHERS[kind] for kind in BOLT_ORDER]
    assert BOLT_ORDER[0] == "command"


def test_a_step_nobody_registered_reaches_no_listener(local_slack, fake):
    """The steps share one bolt listener, which matches only the steps the registry has; the
    events' listener, tried before it, does not take a step either."""
    assert local_slack.step("no_such_step", {}).status == 404
    assert not [c for c in fake.calls if c.method.startswith("functions.")]


def test_each_request_is_tried_only_against_the_kinds_before_its_own(local_slack, tried):
    assert _tries(tried, lambda: local_slack.command("help")) == 1
    place = {kind: n for n, kind in enumerate(BOLT_ORDER, start=1)}
    assert _tries(tried, lambda: local_slack.suggest(ids.CUSTOMER_PICKER, "ab")) == place["options"]
    opened = {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}
    assert _tries(tried, lambda: local_slack.event(opened)) == place["event"]
