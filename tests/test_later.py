"""Work left for after the response: run with a fresh context, one failure not stopping the rest."""

from __future__ import annotations

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
