"""Work left for after the response: run with a fresh context, one failure not stopping the rest."""

from __future__ import annotations

from bot.app import RequestContext
from bot.later import AfterResponse
from bot.storage.db import make_session_factory


def test_follow_ups_run_with_a_fresh_session_and_survive_a_failing_one(engine):
    factory = make_session_factory(engine)
    later = AfterResponse(factory, workers=1)
    tb = RequestContext(session=factory(), team_id="T0000001", user_id="U0000001", notifier=None,  # type: ignore[arg-type]
                        directory=None, surface="modal")  # type: ignore[arg-type]  # fmt: skip
    seen: list[tuple[str, bool]] = []

    def fails(_ctx: RequestContext) -> None:
        raise RuntimeError("Slack was down")

    later.submit(tb, [fails, lambda ctx: seen.append((ctx.team_id, ctx.session is not tb.session))])
    assert later.wait_idle(timeout=10)
    assert seen == [("T0000001", True)]
    tb.session.close()
