"""What the DMs that requests write into the outbox say to someone other than the person acting
(services.notices): built by the sender when it sends them, in the recipient's language (asked
of Slack here, not by the request), from the ids the row holds, as things are then; none once
what they tell of no longer stands (given to someone else meanwhile, gone, or its customer
erased)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from bot.i18n import t
from bot.notify import Directory
from bot.scheduler.outbox import Rendered, register_renderer
from bot.services import complaints, notices, profiles
from bot.services.access import Viewer
from bot.services.errors import UserError
from bot.services.members import get_member, language_of, zone_of
from bot.services.workspaces import team_settings
from bot.storage.db import now_of
from bot.storage.models import Complaint, ComplaintEvent, Customer, FollowUp, SatisfactionScore, Survey
from bot.views.complaints import complaint_message
from bot.views.followups import given_text, step_of
from bot.views.customers import profile_answer, saved_text
from bot.views.kit import customer_title, escape, fit_blocks
from bot.views.surveys import survey_alert


def _locale(session: Session, payload: dict[str, Any], directory: Directory) -> str | None:
    """The recipient's language: the team's, else their Slack locale (read again when a day old)."""
    return notices.language(session=session, team_id=payload["team_id"], user_id=payload["user_id"],
                            now=now_of(session), directory=directory)  # fmt: skip


@register_renderer(notices.GIVEN)
def _render_given(session: Session, payload: dict[str, Any], directory: Directory) -> Rendered | None:
    """A follow-up someone else promised for this person (handlers.touches.save), as it is now
    (its customer's name, its words, its due day); none once it is done, given to someone else
    or gone (its touch deleted) meanwhile."""
    if "follow_up_id" not in payload:  # written before rows named their follow-up: as written then
        customer, step, due = payload["customer"], payload["step"], dt.date.fromisoformat(payload["due"])
    else:
        promised = session.get(FollowUp, int(payload["follow_up_id"]))
        if promised is None or promised.done_at is not None or promised.assignee_id != payload["user_id"]:
            return None
        customer, step, due = escape(customer_title(promised.customer)), step_of(promised), promised.due_on
    text = given_text(_locale(session, payload, directory), author=payload["author"], customer=customer, step=step,
                      due=due)  # fmt: skip
    return Rendered(text=text, blocks=[])


@register_renderer(notices.ASSIGNED)
def _render_assigned(session: Session, payload: dict[str, Any], directory: Directory) -> Rendered | None:
    """A customer someone else made this person's (handlers.customers.assign_to); none once it
    is someone else's again, or erased, meanwhile."""
    customer = session.get(Customer, int(payload["customer_id"]))
    if customer is None or customer.erased_at is not None or customer.owner_id != payload["user_id"]:
        return None
    text = t(_locale(session, payload, directory), "assign.notice", actor=payload["actor"],
             customer=escape(customer_title(customer)))  # fmt: skip
    return Rendered(text=text, blocks=[])


@register_renderer(notices.COMPLAINT)
def _render_complaint(session: Session, payload: dict[str, Any], directory: Directory) -> Rendered | None:
    """A complaint's DM to its assignee, its author or a lead (services.complaints.tell_of_new,
    tell_of_change), with the complaint's card as it is when sent; none once it is gone. An
    erased customer's complaint is still told of, as work owed (its card says "[erased]"); a
    low score is not, nor once the complaint was reopened or resolved again."""
    complaint = session.get(Complaint, int(payload["complaint_id"]))
    event = session.get(ComplaintEvent, int(payload["event_id"])) if payload.get("event_id") else None
    if complaint is None or (payload.get("event_id") and event is None):
        return None
    if payload["kind"] == "low_satisfaction" and (
        event is None or not complaints.low_score(complaint, event)
        or session.get_one(Customer, complaint.customer_id).erased_at is not None
    ):
        return None
    view = complaints.card(session=session, complaint=complaint, now=now_of(session), default_tz=payload["default_tz"],
                           event=event)  # fmt: skip
    message = complaint_message(_locale(session, payload, directory), view, payload["kind"])
    return Rendered(text=message["text"], blocks=message["blocks"])


@register_renderer(notices.LOW_SCORE)
def _render_low_score(session: Session, payload: dict[str, Any], directory: Directory) -> Rendered | None:
    """A lead's alert of a score of 1 or 2 (services.satisfaction): given at a check-in, or by
    the customer answering a survey; none once its customer is erased (or the survey with it)."""
    score = session.get(SatisfactionScore, int(payload["score_id"]))
    customer = session.get(Customer, score.customer_id) if score is not None else None
    if score is None or customer is None or customer.erased_at is not None:
        return None
    locale, name = _locale(session, payload, directory), customer_title(customer)
    if not payload.get("survey_id"):
        text = t(locale, "checkin.alert", actor=score.recorded_by, score=score.score, customer=escape(name))
        return Rendered(text=text, blocks=[])
    survey = session.get(Survey, int(payload["survey_id"]))
    if survey is None:
        return None
    complaint = session.get(Complaint, survey.complaint_id)
    text = survey_alert(locale, customer=name, score=score.score, number=complaint.number if complaint else None,
                        user_id=score.recorded_by, channel_id=survey.channel_id)  # fmt: skip
    return Rendered(text=text, blocks=[])


@register_renderer(notices.CARD)
def _render_card(session: Session, payload: dict[str, Any], directory: Directory) -> Rendered | None:
    """A customer just saved (handlers.customers: created or edited), under "saved", as its author
    sees it when it is sent (their language, time zone and what they may see); none once it is
    erased, gone or no longer theirs to see."""
    team_id, now, default_tz = payload["team_id"], now_of(session), payload["default_tz"]
    settings = team_settings(session, team_id)
    member = get_member(session=session, team_id=team_id, user_id=payload["user_id"], directory=directory, now=now)
    locale = language_of(member, settings)
    try:
        profile = profiles.profile(session=session, viewer=Viewer.of(member, settings),
                                   customer_id=int(payload["customer_id"]), now=now,
                                   tz=zone_of(member, settings, default_tz), default_tz=default_tz)  # fmt: skip
    except UserError:
        return None
    if profile.customer.erased_at is not None:
        return None
    text, blocks = profile_answer(locale, profile, saying=saved_text(locale, profile.customer,
                                                                     updated=bool(payload["updated"])))  # fmt: skip
    return Rendered(text=text, blocks=fit_blocks(blocks))
