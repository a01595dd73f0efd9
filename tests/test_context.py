"""A request's context: what it reads once, it reads for itself, not in turn with other requests."""

from __future__ import annotations

import threading

import pytest

import bot.context
from bot.clock import wall
from bot.context import RequestContext
from bot.services.workspaces import TeamSettings


def _request(team_id: str) -> RequestContext:
    return RequestContext(session=None, team_id=team_id, user_id=None, now=wall(), directory=None,  # type: ignore[arg-type]
                          surface="command")  # fmt: skip


def test_one_request_reading_its_settings_does_not_hold_up_another(monkeypatch: pytest.MonkeyPatch) -> None:
    slow_started, release = threading.Event(), threading.Event()
    reads: list[str] = []

    def team_settings(_session: object, team_id: str) -> TeamSettings:
        reads.append(team_id)
        if team_id == "TSLOW":
            slow_started.set()
            release.wait(30)  # a read held up by the database (a lock, a slow disk)
        return TeamSettings()

    monkeypatch.setattr(bot.context, "team_settings", team_settings)
    slow, quick = _request("TSLOW"), _request("TQUICK")
    first = threading.Thread(target=lambda: slow.settings)
    first.start()
    try:
        assert slow_started.wait(10)
        second = threading.Thread(target=lambda: quick.settings)
        second.start()
        second.join(10)
        assert not second.is_alive(), "the second request waited for the first one's read"
    finally:
        release.set()
        first.join(10)
    assert reads == ["TSLOW", "TQUICK"]
    assert quick.settings is quick.settings and reads == ["TSLOW", "TQUICK"]  # read once per request


def test_a_refusal_forgets_what_the_request_had_read(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    monkeypatch.setattr(bot.context, "team_settings", lambda _s, team_id: reads.append(team_id) or TeamSettings())
    tb = _request("T0000001")
    tb.session = type("S", (), {"rollback": lambda self: None})()  # type: ignore[assignment]
    tb.settings
    tb.rollback()
    tb.settings
    assert reads == ["T0000001", "T0000001"]
