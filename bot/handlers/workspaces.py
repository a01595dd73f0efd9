"""Slack says touchbase was removed from a workspace (many-workspace mode): `app_uninstalled`,
or `tokens_revoked` naming the bot. Its tokens are forgotten at once and nothing more is sent
there; its data is purged after UNINSTALLED_RETENTION_DAYS unless it is installed again
(services.installs). Registered only in many-workspace mode: with one bot token, the
installation is the operator's, not ours to forget."""

from __future__ import annotations

from bot.context import RequestContext
from bot.handlers.answers import Answer
from bot.handlers.registry import Registry
from bot.payloads import EventCallback, Input, NoInput
from bot.services import installs


class Revoked(Input):
    bots: list[str] = []

    @classmethod
    def values_from(cls, payload: EventCallback) -> dict[str, object]:
        tokens = payload.event.tokens
        return {"bots": list(tokens.bot) if tokens else []}


def uninstalled(rq: RequestContext, inp: NoInput) -> Answer:
    installs.uninstalled(session=rq.session, team_id=rq.team_id, now=rq.now, why="app_uninstalled")
    return None


def tokens_revoked(rq: RequestContext, inp: Revoked) -> Answer:
    if inp.bots:  # only people's tokens revoked: touchbase keeps none, the bot still works
        installs.uninstalled(session=rq.session, team_id=rq.team_id, now=rq.now, why="tokens_revoked")
    return None


def register(on: Registry) -> None:
    on.event("app_uninstalled", uninstalled)
    on.event("tokens_revoked", tokens_revoked)
