"""Customer surveys: once a complaint of a customer with a linked channel is resolved, the
customer is asked there, in one question, how satisfied it is (1-5); its answer is that
customer's satisfaction.

- Where (`place`): in the thread of the customer's message the complaint was logged from, when
  the complaint's link points into one of the customer's linked channels; otherwise as a new
  message in the customer's first linked channel (the one linked first).
- When (`ask`): after the answer to the person who resolved it (bot.later), once per complaint
  and resolution cycle (a reopened complaint resolved again asks again). Not when the team
  turned surveys off (`TeamSettings.customer_survey`), nor for a customer without a linked
  channel. A survey Slack would not post is not kept (whoever resolved it is told).
- In which language: the team's Language setting when it has one, else the language of the
  customer's owner (the person the customer talks with). The customer is not a member: its
  own Slack language is not ours to read.
- Who may answer (`answer`): the customer's people only, as for its messages
  (services.channels `speaks_for_customer`: a Slack Connect guest, or a contact named on the
  link). A member of the team is refused: the survey asks the customer, and the team records
  what it hears at a check-in. The answer is a `SatisfactionScore` with `source` "survey",
  given by (`recorded_by`) the person who clicked; a score of 1 or 2 alerts the leads, as a
  check-in's does.
- One answer per survey: the first stands; a second click, by anyone, changes nothing and says so.

Access. A guest's click comes from their own workspace: the payload's `team.id` may be theirs,
not the team that asked. So nothing in the click is trusted but the token its button carries:
a random secret posted only in that survey's message, kept here as its SHA-256 (`Survey.token_hash`),
which names one survey, hence one team, customer and complaint. A forged or stale token finds
nothing; a token clicked outside its survey's channel finds nothing either. The answer acts
for the team that asked, on that one customer (`Viewer.whole_team`: the token is the grant),
and reads nothing of the workspace the click names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.notify import Notifier
from bot.services import satisfaction
from bot.services.access import Viewer
from bot.services.channels import speaks_for_customer
from bot.services.complaints import Announced
from bot.services.workspaces import team_settings
from bot.storage.models import ChannelLink, Complaint, Customer, Member, Survey

log = logging.getLogger(__name__)

TOKEN_BYTES = 24  # 32 characters in a button: guessing one is out of reach

# render(language, token) -> {"text": ..., "blocks": [...]}: the survey message (bot.views.surveys).
Render = Callable[[str | None, str], dict[str, Any]]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- asking -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    channel_id: str
    thread_ts: str | None  # None: a new message in the channel


def place(session: Session, complaint: Complaint) -> Place | None:
    """Where to ask about a complaint (see the module docstring); None: the customer has no
    linked channel."""
    channels = list(session.scalars(
        select(ChannelLink.channel_id)
        .where(ChannelLink.team_id == complaint.team_id, ChannelLink.customer_id == complaint.customer_id)
        .order_by(ChannelLink.id)
    ))  # fmt: skip
    if not channels:
        return None
    found = message_of(complaint.permalink)
    if found is not None and found[0] in channels:
        return Place(*found)
    return Place(channels[0], None)


def message_of(permalink: str | None) -> tuple[str, str] | None:
    """A Slack message link → (channel, the ts of the thread it is in: its own, or its
    parent's for a reply); None for anything else."""
    if not permalink:
        return None
    try:
        url = urlparse(permalink)
    except ValueError:
        return None
    parts = url.path.strip("/").split("/")
    if len(parts) != 3 or parts[0] != "archives" or not parts[2].startswith("p") or not parts[2][1:].isdigit():
        return None
    digits = parts[2][1:]
    if len(digits) <= 6:
        return None
    thread = parse_qs(url.query).get("thread_ts", [None])[0]
    return parts[1], thread or f"{digits[:-6]}.{digits[-6:]}"


def language_of(session: Session, complaint: Complaint) -> str | None:
    """The team's language, else the customer's owner's (None: English)."""
    chosen = team_settings(session, complaint.team_id).language
    if chosen:
        return chosen
    owner = session.scalar(select(Customer.owner_id).where(Customer.id == complaint.customer_id))
    if owner is None:
        return None
    return session.scalar(select(Member.locale).where(Member.team_id == complaint.team_id, Member.user_id == owner))


def ask(*, session: Session, complaint_id: int, notifier: Notifier, render: Render, now: dt.datetime) -> Announced:
    """After a complaint was resolved: post its survey, if it is one to ask (see the module
    docstring). Returns who could not be told (the channel, with Slack's error)."""
    complaint = session.get(Complaint, complaint_id)
    if complaint is None or complaint.state != "resolved" or not team_settings(session, complaint.team_id).customer_survey:
        return Announced({})
    where = place(session, complaint)
    if where is None:
        return Announced({})
    token = secrets.token_urlsafe(TOKEN_BYTES)
    language = language_of(session, complaint)
    survey = Survey(team_id=complaint.team_id, customer_id=complaint.customer_id, complaint_id=complaint.id,
                    cycle=complaint.cycle, token_hash=token_hash(token), channel_id=where.channel_id,
                    thread_ts=where.thread_ts, language=language, asked_at=now)  # fmt: skip
    try:
        with session.begin_nested():
            session.add(survey)
    except IntegrityError:  # this resolution's survey was asked already
        return Announced({})
    try:
        survey.message_ts = notifier.post(where.channel_id, thread_ts=where.thread_ts, **render(language, token))
    except Exception as exc:  # noqa: BLE001 - a courtesy: the resolution stands whatever happens here
        error = getattr(getattr(exc, "response", None), "get", lambda _k: None)("error") or type(exc).__name__
        log.warning("the survey of complaint %s could not be posted: %s", complaint.id, error)
        session.delete(survey)  # never shown: nothing to answer
        session.flush()
        return Announced({where.channel_id: str(error)})
    session.flush()
    return Announced({})


# --- answering ----------------------------------------------------------------------------------

Outcome = Literal["recorded", "gone", "answered", "team"]


@dataclass(frozen=True)
class Clicked:
    """What a click did: `recorded` (the score is kept), `gone` (no such survey here), `answered`
    (the first answer stands), `team` (a member of the team, not the customer)."""

    outcome: Outcome
    language: str | None = None  # the survey's, for what the clicker reads


def answer(
    *, session: Session, token: str, score: int, user_id: str, user_team: str | None, channel_id: str | None,
    surface: str, now: dt.datetime,
) -> Clicked:  # fmt: skip
    """A customer's click on a survey's score: kept once, as its satisfaction, given by `user_id`.
    `user_team` is the clicker's own workspace and `channel_id` where they clicked, as the
    request says (see the module docstring for what is trusted)."""
    survey = session.scalar(select(Survey).where(Survey.token_hash == token_hash(token)))
    if survey is None or channel_id != survey.channel_id:  # clicked nowhere, or not where it was posted
        return Clicked("gone")
    said = survey.language
    if survey.answered_at is not None:
        return Clicked("answered", said)
    if not speaks_for_customer(session, team_id=survey.team_id, customer_id=survey.customer_id, user_id=user_id,
                               user_team=user_team):  # fmt: skip
        return Clicked("team", said)
    # One answer: of two clicks at once, the one whose UPDATE finds the survey still open wins.
    taken = session.execute(
        update(Survey)
        .where(Survey.id == survey.id, Survey.answered_at.is_(None))
        .values(answered_at=now, answered_by=user_id, score=score)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        return Clicked("answered", said)
    satisfaction.record_satisfaction(
        session=session, viewer=Viewer.whole_team(survey.team_id), customer_id=survey.customer_id, score=score,
        surface=surface, now=now, source="survey", recorded_by=user_id, survey_id=survey.id,
    )  # fmt: skip
    return Clicked("recorded", said)
