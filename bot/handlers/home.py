"""The App Home: published when a person opens it, and republished after the answer for the
people whose items a request changed (`refresh_home`)."""

from __future__ import annotations

import logging

from bot.context import FollowUp, RequestContext
from bot.handlers.answers import Answer
from bot.handlers.registry import Registry
from bot.later import Latest
from bot.payloads import EventCallback, Input
from bot.services import home
from bot.services.access import Viewer
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
        refresh_home(rq, inp.user)
    return None


# An App Home is republished at most this often per person: it shows things as they are when
# it is built, so one publish after a burst of a person's changes shows them all (bot.later).
HOME_EVERY = 3.0  # seconds


def refresh_home(rq: RequestContext, *user_ids: str | None) -> None:
    """Republish the App Home of these people after the answer (a burst of asks for one
    person: once, as things are then); a failure there is only logged."""
    for user_id in dict.fromkeys(u for u in user_ids if u):

        def publish(later: FollowUp, user_id: str = user_id) -> None:
            try:
                member = later.member(user_id)
                viewer = Viewer.of(member, later.settings)
                page = home.home(session=later.session, viewer=viewer, today=later.today_of(user_id))
                later.notifier.publish_home(user_id, fit_view(home_page(later.locale_of(user_id), page)))
            except Exception as exc:  # noqa: BLE001 - a failed App Home is not worth telling the person
                log.warning("views.publish for %s failed: %s", user_id, exc)

        rq.after(Latest(("home", rq.team_id, user_id), publish, every=HOME_EVERY))


def register(on: Registry) -> None:
    on.event("app_home_opened", opened, reads_only=True)
