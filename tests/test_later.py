"""Work left for after the response: run with a fresh context, one failure not stopping the rest."""

from __future__ import annotations

import threading

from bot.clock import wall
from bot.context import FollowUp, RequestContext
from bot.later import AfterResponse
from bot.storage.db import make_session_factory


class _Notes:
    def __init__(self) -> None:
        self.dms: list[tuple[str, str]] = []

    def dm(self, user_id: str, *, text: str, blocks: object = None) -> None:
        self.dms.append((user_id, text))


def test_follow_ups_run_with_a_fresh_session_and_survive_a_failing_one(engine):
    factory = make_session_factory(engine)
    notes = _Notes()
    later = AfterResponse(factory, notes, workers=1)  # type: ignore[arg-type]
    tb = RequestContext(session=factory(), team_id="T0000001", user_id="U0000001", now=wall(),
                        directory=None, surface="modal")  # type: ignore[arg-type]  # fmt: skip
    seen: list[tuple[str, bool]] = []

    def fails(_ctx: FollowUp) -> None:
        raise RuntimeError("Slack was down")

    later.submit(tb, [fails, lambda ctx: seen.append((ctx.team_id, ctx.session is not tb.session))])
    assert later.wait_idle(timeout=10)
    assert seen == [("T0000001", True)]
    tb.session.close()


def test_asks_of_which_the_latest_is_enough_run_once_per_turn_with_the_latest_context(engine):
    """A burst of asks under one key: the first runs at once, the others wait for the key's
    next turn and only the latest of them runs, with its own request's context; other keys
    do not wait. Nothing asked is dropped: the last ask always runs."""
    import time

    from bot.clock import elapsed
    from bot.later import Latest

    factory = make_session_factory(engine)
    later = AfterResponse(factory, _Notes(), workers=2)  # type: ignore[arg-type]
    runs: list[tuple[str, str | None, float]] = []
    done = threading.Event()

    def request(user: str) -> RequestContext:
        return RequestContext(session=factory(), team_id="T0000001", user_id=user, now=wall(),
                              directory=None, surface="modal")  # type: ignore[arg-type]  # fmt: skip

    def publish(key: str):  # noqa: ANN202
        def work(ctx: FollowUp) -> None:
            runs.append((key, ctx.user_id, elapsed()))
            time.sleep(0.05)
            if len(runs) == 3:
                done.set()

        return Latest(key, work, every=0.5)

    asked = [request(u) for u in ("U1", "U2", "U3", "U4")]
    for rq in asked[:3]:
        later.submit(rq, [publish("home:U0")])
    later.submit(asked[3], [publish("home:U9")])
    assert done.wait(timeout=10)  # without wait_idle(): the turn comes by itself
    by_key = {}
    for key, user, at in runs:
        by_key.setdefault(key, []).append((user, at))
    assert [u for u, _ in by_key["home:U0"]] == ["U1", "U3"]  # U2's ask was overtaken by U3's
    assert [u for u, _ in by_key["home:U9"]] == ["U4"]
    (_, first), (_, second) = by_key["home:U0"]
    assert second - first >= 0.5  # its next turn, not before
    later.submit(asked[1], [publish("home:U0")])
    assert later.wait_idle(timeout=10)  # a test's wait runs what waits for its turn at once
    assert [u for k, u, _ in runs if k == "home:U0"] == ["U1", "U3", "U2"]
    for rq in asked:
        rq.session.close()
