"""What a person has to do: their due list (`/crm due`) and their App Home.

A change that someone's App Home shows asks for it to be published again, in the changing
request's own transaction: a row of the outbox (kind `home`, one per person; `asked_homes`)
that the sender renders from the data as it is then and publishes (scheduler.outbox), in the
worker rather than in the process that answers Slack."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import local_today
from bot.notify import Directory
from bot.services import channels, followups, touches
from bot.services.access import Viewer
from bot.services.channels import ChannelRow
from bot.services.followups import DueFollowUps
from bot.services.items import ComplaintLine
from bot.services.members import get_member, language_of, zone_of
from bot.services.notices import HOME_KIND
from bot.services.touches import DueRevisits
from bot.services.workspaces import settings_of, workspace_and_member
from bot.storage.models import Notification

DUE_GROUP_MAX = 10  # items per group: a message holds at most 50 blocks, each item takes two
FOLLOW_UPS_SHOWN = 5  # they come first; the revisits take the room left
FAILED_SHOWN = 10


@dataclass(frozen=True)
class DueList:
    revisits: DueRevisits  # the viewer's own revisits due and upcoming
    complaints: list[ComplaintLine]  # the viewer's open complaints
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
        .where(Notification.team_id == viewer.team_id, Notification.status == "failed", Notification.kind != HOME_KIND)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class PersonsHome:
    locale: str | None
    page: Home


def of_person(*, session: Session, team_id: str, user_id: str, now: dt.datetime, default_tz: str,
              directory: Directory | None = None) -> PersonsHome:  # fmt: skip
    """Someone's App Home as of `now`, in their language and on their date. `directory`: read
    their Slack profile if it is missing or stale (None: as stored)."""
    workspace, found = workspace_and_member(session=session, team_id=team_id, user_id=user_id)
    member = get_member(session=session, team_id=team_id, user_id=user_id, directory=directory, now=now, found=found)
    settings = settings_of(workspace)
    today = local_today(now, zone_of(member, settings, default_tz))
    page = home(session=session, viewer=Viewer.of(member, settings), today=today)
    return PersonsHome(language_of(member, settings), page)


def asked_homes(
    *, now: dt.datetime, team_id: str, user_ids: Iterable[str | None], default_tz: str
) -> list[dict[str, Any]]:
    """The outbox rows that ask for these people's App Homes to be published again once the
    transaction writing them commits (`notices.ask`): each made pending and due at `now`, unless
    it is pending and due by then already (the publish to come shows this change too)."""
    return [{"team_id": team_id, "key": f"{HOME_KIND}:{user_id}", "kind": HOME_KIND, "channel": user_id, "now": now,
             "payload": {"render": HOME_KIND, "team_id": team_id, "user_id": user_id, "default_tz": default_tz}}
            for user_id in sorted({u for u in user_ids if u})]  # fmt: skip
