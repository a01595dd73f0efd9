"""The 1-5 buttons of a customer survey in a linked channel (services.surveys).

Whoever presses them is usually a Slack Connect guest: the request names their own workspace
(`rq.team_id` may be theirs, not the team that asked). So this listener reads nothing of the
request's workspace or person (no `rq.viewer`, `rq.settings`, `rq.locale`): the token on the
button names the survey, hence the team; what the person reads is in the survey's language;
the leads' alerts of a low score are the asking team's (services.satisfaction).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from bot.context import RequestContext
from bot.handlers.answers import Answer, Replace, Reply
from bot.handlers.registry import Registry
from bot.payloads import BlockActions, ButtonInput, ChannelId
from bot.services import surveys
from bot.views import ids
from bot.views.surveys import survey_refusal, survey_thanks

# What `secrets.token_urlsafe` makes; anything else is no survey's.
Token = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
Score = Annotated[int, Field(ge=1, le=5)]


class SurveyClick(ButtonInput):
    """A score pressed: the survey's token and the score from the button; where it was pressed
    and the presser's own workspace (`user_team`) from the request, never from the value."""

    refusal = "survey.gone"
    token: Token
    score: Score
    channel: ChannelId | None = None
    user_team: str | None = None

    @classmethod
    def values_from(cls, payload: BlockActions) -> Any:
        fields = super().values_from(payload)
        where = payload.container.channel_id or (payload.channel.id if payload.channel else None)
        return {**fields, "channel": where, "user_team": payload.user.team_id or payload.team.id}


def answer(rq: RequestContext, inp: SurveyClick) -> Answer:
    """Keep the customer's answer (once) and thank them in place; else say why not, to them alone."""
    clicked = surveys.answer(session=rq.session, token=inp.token, score=inp.score, user_id=rq.actor,
                             user_team=inp.user_team, channel_id=inp.channel, surface=rq.surface, now=rq.now)  # fmt: skip
    if clicked.outcome != "recorded":
        return Reply(survey_refusal(clicked.language, clicked.outcome))
    return Replace(*survey_thanks(clicked.language, rq.actor))


def register(on: Registry) -> None:
    on.action(ids.SURVEY_SCORE, answer, guests=True)
