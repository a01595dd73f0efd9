"""Work left for after the response: run with a fresh context, one failure not stopping the rest."""

from __future__ import annotations

import threading
import time

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
    later = AfterResponse(factory, lambda _team: notes, workers=1)  # type: ignore[arg-type]
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
    from bot.clock import elapsed
    from bot.later import Latest

    factory = make_session_factory(engine)
    later = AfterResponse(factory, lambda _team: _Notes(), workers=2)  # type: ignore[arg-type,return-value]
    runs: list[tuple[str, str | None, float]] = []
    done, asked_all = threading.Event(), threading.Event()

    def request(user: str) -> RequestContext:
        return RequestContext(session=factory(), team_id="T0000001", user_id=user, now=wall(),
                              directory=None, surface="modal")  # type: ignore[arg-type]  # fmt: skip

    def publish(key: str):  # noqa: ANN202
        def work(ctx: FollowUp) -> None:
            runs.append((key, ctx.user_id, elapsed()))
            if ctx.user_id == "U1":
                asked_all.wait(10)  # still running while the others ask, however slow the machine
            if len(runs) == 3:
                done.set()

        return Latest(key, work, every=0.5)

    asked = [request(u) for u in ("U1", "U2", "U3", "U4")]
    for rq in asked[:3]:
        later.submit(rq, [publish("home:U0")])
    later.submit(asked[3], [publish("home:U9")])
    asked_all.set()
    assert done.wait(timeout=10)  # without wait_idle(): the turn comes by itself
    by_key = {}
    for key, user, at in runs:
        by_key.setdefault(key, []).append((user, at))
    assert [u for u, _ in by_key["home:U0"]] == ["U1", "U3"]  # U2's ask was overtaken by U3's
    assert [u for u, _ in by_key["home:U9"]] == ["U4"]
    (_, first), (_, second) = by_key["home:U0"]
    assert second - first >= 0.45  # its next turn, not before (each stamped just after its turn began)
    later.submit(asked[1], [publish("home:U0")])
    assert later.wait_idle(timeout=10)  # a test's wait runs what waits for its turn at once
    assert [u for k, u, _ in runs if k == "home:U0"] == ["U1", "U3", "U2"]
    for rq in asked:
        rq.session.close()


def _request(factory) -> RequestContext:
    return RequestContext(session=factory(), team_id="T0000001", user_id="U0000001", now=wall(),
                          directory=None, surface="modal")  # type: ignore[arg-type]  # fmt: skip


def test_a_stop_finishes_the_work_handed_over_and_takes_no_more(engine):
    factory = make_session_factory(engine)
    later = AfterResponse(factory, lambda _team: _Notes(), workers=1)  # type: ignore[arg-type,return-value]
    started, release, seen, stopped = threading.Event(), threading.Event(), [], []

    def slow(_ctx: FollowUp) -> None:
        started.set()
        release.wait()
        seen.append("slow")

    rq = _request(factory)
    later.submit(rq, [slow])
    assert started.wait(10)
    stopping = threading.Thread(target=lambda: stopped.append(later.shutdown(timeout=60)))
    stopping.start()
    time.sleep(0.3)
    assert stopping.is_alive() and seen == []  # the stop waits for the follow-up
    release.set()
    stopping.join()
    assert stopped == [True] and seen == ["slow"]
    later.submit(rq, [lambda _ctx: seen.append("late")])  # after the stop: not run
    assert seen == ["slow"] and later.wait_idle(timeout=1)
    rq.session.close()


def test_a_stop_waits_a_bounded_time(engine):
    factory = make_session_factory(engine)
    later = AfterResponse(factory, lambda _team: _Notes(), workers=1)  # type: ignore[arg-type,return-value]
    started, release = threading.Event(), threading.Event()

    def stuck(_ctx: FollowUp) -> None:
        started.set()
        release.wait()

    rq = _request(factory)
    later.submit(rq, [stuck])
    assert started.wait(10)
    assert later.shutdown(timeout=0.2) is False  # gives up waiting; the process may exit
    release.set()
    assert later.wait_idle(timeout=10)
    rq.session.close()
