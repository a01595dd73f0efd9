"""What a person has to do: their due list (`/crm due`) and their App Home."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import channels, followups, touches
from bot.services.access import Viewer
from bot.services.channels import ChannelRow
from bot.services.followups import DueFollowUps
from bot.services.touches import DueRevisits
from bot.storage.models import Complaint, Notification

DUE_GROUP_MAX = 10  # items per group: a message holds at most 50 blocks, each item takes two
FOLLOW_UPS_SHOWN = 5  # they come first; the revisits take the room left
FAILED_SHOWN = 10


@dataclass(frozen=True)
class DueList:
    revisits: DueRevisits  # the viewer's own revisits due and upcoming
    complaints: list[Complaint]  # the viewer's open complaints
    today: dt.date
    follow_ups: DueFollowUps = DueFollowUps([], 0, 0)  # the viewer's own, due and upcoming


@dataclass(frozen=True)
class Home:
    due: DueList
    by_grade: dict[str, int]
    failed_sends: list[Notification]  # admins only: messages Slack refused for good, newest first
    waiting: list[ChannelRow] = field(default_factory=list)  # my customers' channels waiting for a reply


def due_list(*, session: Session, viewer: Viewer, today: dt.date) -> DueList:
    """The viewer's follow-ups and revisits due or overdue and the next days', and their open
    complaints."""
    return DueList(
        revisits=touches.due_revisits(session=session, viewer=viewer, today=today, limit=DUE_GROUP_MAX),
        complaints=touches.open_complaints(session=session, viewer=viewer),
        today=today,
        follow_ups=followups.due_follow_ups(session=session, viewer=viewer, today=today, limit=FOLLOW_UPS_SHOWN),
    )


def home(*, session: Session, viewer: Viewer, today: dt.date) -> Home:
    """The viewer's App Home."""
    return Home(
        due=due_list(session=session, viewer=viewer, today=today),
        by_grade=touches.customers_by_grade(session=session, viewer=viewer),
        failed_sends=failed_sends(session=session, viewer=viewer) if viewer.admin else [],
        waiting=channels.waiting_for(session=session, viewer=viewer),
    )


def failed_sends(*, session: Session, viewer: Viewer, limit: int = FAILED_SHOWN) -> list[Notification]:
    """The team's sends that failed for good, newest first (what admins are shown)."""
    query = (
        select(Notification)
        .where(Notification.team_id == viewer.team_id, Notification.status == "failed")
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
