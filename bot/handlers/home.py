"""The App Home: published after the answer when a person opens it, and through the outbox
for the people whose items a request changed (`refresh_home`)."""

from __future__ import annotations

import logging

from bot.context import FollowUp, RequestContext
from bot.handlers.answers import Answer
from bot.handlers.registry import Registry
from bot.later import Latest
from bot.payloads import EventCallback, Input
from bot.services import home
from bot.views.home import home_page
from bot.views.kit import fit_view

log = logging.getLogger(__name__)


class HomeTab(Input):
    user: str
    tab: str = ""

    @classmethod
    def values_from(cls, payload: EventCallback) -> dict[str, object]:
        return {"user": payload.event.user, "tab": payload.event.tab or ""}


def opened(rq: RequestContext, inp: HomeTab) -> Answer:
    if inp.tab == "home":
        show_home(rq, inp.user)
    return None


def show_home(rq: RequestContext, user_id: str) -> None:
    """Publish this person's App Home after the answer, in this process, not through the
    worker: they are looking at it (they opened it, or pressed one of its buttons), and a
    request that only reads writes no outbox row."""

    def publish(later: FollowUp) -> None:
        try:
            mine = home.of_person(session=later.session, team_id=later.team_id, user_id=user_id, now=later.now,
                                  default_tz=later.default_tz, directory=later.directory)  # fmt: skip
            later.notifier.publish_home(user_id, fit_view(home_page(mine.locale, mine.page)))
        except Exception as exc:  # noqa: BLE001 - a failed App Home is not worth telling the person
            log.warning("views.publish for %s failed: %s", user_id, exc)

    rq.after(Latest(("home", rq.team_id, user_id), publish, every=HOME_EVERY))


# An App Home shown at once is published at most this often per person: it shows things as
# they are when it is built, so one publish after a burst of opens shows them all (bot.later).
HOME_EVERY = 3.0  # seconds


def refresh_home(rq: RequestContext, *user_ids: str | None) -> None:
    """These people's App Homes show what this request changed: published again by the
    sender once the request has committed (written with the request's other outbox rows,
    RequestContext.ask; a burst of changes for one person is one publish, built as things are
    then)."""
    rq.ask(home.asked_homes(now=rq.now, team_id=rq.team_id, user_ids=user_ids, default_tz=rq.default_tz))


def register(on: Registry) -> None:
    on.event("app_home_opened", opened, reads_only=True)
