"""The customer survey (services.surveys): the question in the customer's channel, what the
person who clicked reads, and the leads' alert of a low score."""

from __future__ import annotations

import json
from typing import Any

from bot.i18n import t
from bot.views.ids import SURVEY_BLOCK, SURVEY_SCORE
from bot.views.kit import Block, actions, button, escape, mrkdwn, notice, section


def survey_message(locale: str | None, token: str) -> dict[str, Any]:
    """The question, one button per score (each carrying the survey's token), and the scale."""
    buttons = [button(str(score), SURVEY_SCORE, json.dumps({"token": token, "score": score})) for score in range(1, 6)]
    question = t(locale, "survey.ask")
    blocks: list[Block] = [
        section(question),
        actions(*buttons, block_id=SURVEY_BLOCK),
        {"type": "context", "elements": [mrkdwn(t(locale, "survey.scale"))]},
    ]
    return {"text": question, "blocks": blocks}


def survey_thanks(locale: str | None, user_id: str) -> tuple[str, list[Block]]:
    """What the survey message becomes once answered (its buttons gone; the score is not shown
    to the channel)."""
    text = t(locale, "survey.thanks", user=user_id)
    return text, notice(text)


def survey_refusal(locale: str | None, outcome: str) -> str:
    """Why a click recorded nothing: the survey is closed, answered already, or the clicker is
    of the team."""
    return t(locale, f"survey.{outcome}")


def survey_alert(locale: str | None, *, customer: str, score: int, number: int | None, user_id: str,
                 channel_id: str) -> str:  # fmt: skip
    return t(locale, "survey.alert", customer=escape(customer), score=score, number=number or "?", user=user_id,
             channel=channel_id)  # fmt: skip
