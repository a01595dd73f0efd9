"""Follow-ups: the promises made to customers, kept track of until they are kept.

In "Log touch", a Next step with a "Next step due" day becomes a follow-up for its assignee
(default: the touch's author). It is listed in the assignee's `/crm due`, daily digest and App
Home beside their revisits, with **Done** and **Snooze** (which moves its due day), until
someone marks it done. Done or overdue, it is kept: reports count, per assignee, the
follow-ups due in a period that were done on time (on or before their due day), done late,
or are still open (services.reports), and an overdue one lowers the customer's health
(services.health). The follow-ups of a lost customer leave the due lists and the digest with
it, and come back if it is won back. Its words are the touch's `next_step`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from functools import cache
from typing import Any, NamedTuple, overload

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    bindparam,
    false,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from bot.services import access, audit
from bot.services.access import Viewer
from bot.services.errors import UserError
from bot.services.items import CUSTOMER_ITEM, CustomerItem, FollowUpItem, TouchNote, rows
from bot.storage.models import Customer, FollowUp, Touch

UPCOMING_DAYS = 7
SNOOZE_CHOICES = {1, 3, 7}


def promise(session: Session, *, touch: Touch, customer: Customer, assignee_id: str, due_on: dt.date) -> FollowUp:
    """The follow-up of a touch just logged (and flushed)."""
    follow_up = FollowUp(team_id=touch.team_id, customer=customer, touch=touch, assignee_id=assignee_id, due_on=due_on,
                         customer_lost=out_of_lists(customer))  # fmt: skip
    session.add(follow_up)
    return follow_up


def _open(team_id: str | ColumnElement[str] | Collection[str]) -> tuple[ColumnElement[bool], ...]:
    """Open follow-ups of customers that are not lost, in a workspace (or a bound parameter's)
    or in any of several."""
    one = isinstance(team_id, str | ColumnElement)
    in_team = FollowUp.team_id == team_id if one else FollowUp.team_id.in_(team_id)  # type: ignore[arg-type]
    return (in_team, *_still_open())


def _still_open() -> tuple[ColumnElement[bool], ...]:
    # `customer_lost` rather than the customer's stage: a person's count is then read from
    # ix_follow_up_assignee_open alone, not from a probe of each follow-up's customer.
    return (FollowUp.done_at.is_(None), FollowUp.customer_lost == false())


def out_of_lists(customer: Customer) -> bool:
    """Whether the customer's follow-ups are left out of the lists (`customer_lost`): while it
    is lost, or once it is erased."""
    return customer.stage == "lost" or customer.erased_at is not None


def sync_customer_lost(session: Session, customer: Customer) -> None:
    """The customer just moved to or from lost (services.lifecycle.move), was erased
    (services.datacare) or took another's follow-ups (a merge): its follow-ups follow."""
    session.execute(update(FollowUp).where(FollowUp.team_id == customer.team_id, FollowUp.customer_id == customer.id)
                    .values(customer_lost=out_of_lists(customer)))  # fmt: skip


def is_due(*, by: dt.date | ColumnElement[dt.date]) -> tuple[ColumnElement[bool], ...]:
    """The conditions of an open follow-up due on or before `by` (a date, or a column of
    dates), whose workspace the caller chooses."""
    return (*_still_open(), FollowUp.due_on <= by)


class DueFollowUps(NamedTuple):
    """A person's open follow-ups due by today (most overdue first), then in the next days:
    the first `limit` of them, and how many there are."""

    items: list[FollowUpItem]
    due_total: int
    upcoming_total: int

    @property
    def total(self) -> int:
        return self.due_total + self.upcoming_total


def due_follow_ups(
    *, session: Session, viewer: Viewer, today: dt.date, days: int = UPCOMING_DAYS, limit: int = 5
) -> DueFollowUps:
    """The viewer's own open follow-ups due by `today + days` (0: by today), earliest first."""
    counted, items = _own_due(viewer.sees_all)
    values = {"team_id": viewer.team_id, "user_id": viewer.user_id, "today": today,
              "horizon": today + dt.timedelta(days=days), "limit": limit}  # fmt: skip
    due_total, upcoming_total = rows(session, counted, values)[0]
    if not due_total + upcoming_total:
        return DueFollowUps([], 0, 0)
    found = [FollowUpItem(*row[:3], customer=CustomerItem(*row[3:-2]), touch=TouchNote(*row[-2:]))
             for row in rows(session, items, values)]  # the columns of `_own_due`'s items, in its order
    return DueFollowUps(found, due_total, upcoming_total)


@cache
def _own_due(sees_all: bool) -> tuple[Select[Any], Select[Any]]:
    """A person's open follow-ups due by `horizon`: counted (by `today`, then after), and the
    first `limit` with their customer and touch. Built once for each kind of viewer (every
    `/crm due`, App Home and digest asks), their values bound by `due_follow_ups`; the door's
    condition is the viewer's own, of a viewer whose workspace and person are parameters."""
    today, horizon = bindparam("today", type_=Date()), bindparam("horizon", type_=Date())
    team_id, user_id = bindparam("team_id", type_=String()), bindparam("user_id", type_=String())
    viewer = Viewer(team_id=team_id, user_id=user_id, sees_all=sees_all)  # type: ignore[arg-type]
    mine = (*_open(team_id), FollowUp.assignee_id == user_id, FollowUp.due_on <= horizon)
    counted = select(func.count().filter(FollowUp.due_on <= today), func.count().filter(FollowUp.due_on > today))
    counted = counted.select_from(FollowUp).where(*mine)
    if not sees_all:  # who sees all is counted from the index alone
        counted = counted.join(Customer, Customer.id == FollowUp.customer_id).where(viewer.customers())
    items = (
        select(FollowUp.id, FollowUp.assignee_id, FollowUp.due_on, *CUSTOMER_ITEM, Touch.next_step, Touch.summary)
        .join(FollowUp.customer).join(FollowUp.touch)
        .where(*mine, viewer.customers())
        .order_by(FollowUp.due_on, FollowUp.id)
        .limit(bindparam("limit", type_=Integer()))
    )  # fmt: skip
    return counted, items


@overload
def assignees_with_due(*, session: Session, team_id: str, by: dt.date) -> list[str]: ...
@overload
def assignees_with_due(*, session: Session, team_id: Collection[str], by: dt.date) -> list[tuple[str, str]]: ...
def assignees_with_due(*, session: Session, team_id: str | Collection[str], by: dt.date) -> list[Any]:
    """People with an open follow-up due on or before `by` (for the digest); of several
    workspaces: (workspace, person) pairs."""
    if isinstance(team_id, str):
        query = (
            select(FollowUp.assignee_id)
            .where(*_open(team_id), FollowUp.due_on <= by).distinct().order_by(FollowUp.assignee_id)
        )  # fmt: skip
        return list(session.scalars(query))
    pairs = (
        select(FollowUp.team_id, FollowUp.assignee_id)
        .where(*_open(team_id), FollowUp.due_on <= by).distinct()
        .order_by(FollowUp.team_id, FollowUp.assignee_id)
    )  # fmt: skip
    return [tuple(row) for row in rows(session, pairs)]


def follow_up(*, session: Session, viewer: Viewer, follow_up_id: int, for_update: bool = False) -> FollowUp:
    """The follow-up, if the viewer sees its customer."""
    query = select(FollowUp).where(FollowUp.team_id == viewer.team_id, FollowUp.id == follow_up_id)
    found = session.scalar(query.with_for_update() if for_update else query)
    if found is None:
        raise UserError("follow_up.gone")
    access.customer(session, viewer, found.customer_id)
    return found


def still_due(session: Session, *, follow_up_id: int, assignee_id: str, due_on: str) -> FollowUp | None:
    """For a reminder written earlier and sent now: the follow-up if it is still open, this
    person's, due that day, and its customer not lost."""
    found = session.get(FollowUp, follow_up_id)
    if (found is None or found.done_at is not None or found.assignee_id != assignee_id
            or found.due_on.isoformat() != due_on or found.customer_lost):  # fmt: skip
        return None
    return found


def mark_done(*, session: Session, viewer: Viewer, follow_up_id: int, now: dt.datetime, today: dt.date,
              surface: str) -> FollowUp:  # fmt: skip
    """Done, on `today` (the doer's day): kept, and counted on time when that is its due day or before."""
    found = follow_up(session=session, viewer=viewer, follow_up_id=follow_up_id, for_update=True)
    if found.done_at is not None:
        raise UserError("follow_up.already_done", date=found.done_on)
    found.done_at, found.done_on, found.done_by = now, today, viewer.user_id
    audit.record(session=session, team_id=viewer.team_id, actor_id=viewer.user_id, action="done", entity="follow_up",
                 entity_id=found.id, surface=surface,
                 changes={"customer_id": [found.customer_id, found.customer_id], "done_on": [None, today.isoformat()]})  # fmt: skip
    session.flush()
    return found


def snooze_until(today: dt.date, days: str | int) -> dt.date:
    """The day a "Snooze N days" choice means; only 1, 3 and 7 are offered."""
    n = int(days) if str(days).isdigit() else 0
    if n not in SNOOZE_CHOICES:
        raise UserError("error.generic")
    return today + dt.timedelta(days=n)


def snooze(*, session: Session, viewer: Viewer, follow_up_id: int, until: dt.date, today: dt.date,
           surface: str) -> FollowUp:  # fmt: skip
    """Move an open follow-up's due day to `until` (after `today`); audited."""
    if until <= today:
        raise UserError("snooze.past", example=(today + dt.timedelta(days=1)).isoformat())
    found = follow_up(session=session, viewer=viewer, follow_up_id=follow_up_id, for_update=True)
    if found.done_at is not None:
        raise UserError("follow_up.already_done", date=found.done_on)
    audit.record(session=session, team_id=viewer.team_id, actor_id=viewer.user_id, action="snooze", entity="follow_up",
                 entity_id=found.id, surface=surface,
                 changes={"customer_id": [found.customer_id, found.customer_id],
                          "due_on": [found.due_on.isoformat(), until.isoformat()]})  # fmt: skip
    found.due_on = until
    session.flush()
    return found
