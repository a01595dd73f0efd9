"""Revisit reminders: what is due for whom, snoozing, and each member's digest choice.

The revisit reminders (bot/scheduler/reminders.py) read `owners_with_due_revisits`; the buttons
in a digest call `snooze_revisit` and `set_digest`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any, overload

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import parse_time
from bot.services import access, audit
from bot.services.access import Viewer
from bot.services.errors import FieldErrors, UserError
from bot.services.items import rows
from bot.services.workspaces import team_settings
from bot.storage.models import Customer, Member

SNOOZE_CHOICES = {1, 3, 7}


def is_due(team_id: str | Collection[str], by: dt.date):  # type: ignore[no-untyped-def]
    """The conditions of a revisit due on or before `by`, in a workspace or in any of several."""
    in_team = Customer.team_id == team_id if isinstance(team_id, str) else Customer.team_id.in_(team_id)
    return (in_team, *due_by(by))


def due_by(by: dt.date):  # type: ignore[no-untyped-def]
    """The conditions of a revisit due on or before `by`, whose workspace the caller chooses."""
    return (
        Customer.revisits_enabled.is_(True),
        Customer.next_revisit.is_not(None),
        Customer.next_revisit <= by,
        Customer.owner_id.is_not(None),
    )


@overload
def owners_with_due_revisits(*, session: Session, team_id: str, by: dt.date) -> list[str]: ...
@overload
def owners_with_due_revisits(*, session: Session, team_id: Collection[str], by: dt.date) -> list[tuple[str, str]]: ...
def owners_with_due_revisits(*, session: Session, team_id: str | Collection[str], by: dt.date) -> list[Any]:
    """Owners with a revisit due on or before `by` (the latest "today" anywhere on Earth); of
    several workspaces: (workspace, owner) pairs."""
    # Ordered, so concurrent sweeps write rows in the same order and cannot deadlock.
    if isinstance(team_id, str):
        query = select(Customer.owner_id).where(*is_due(team_id, by)).distinct().order_by(Customer.owner_id)
        return list(session.scalars(query))
    pairs = select(Customer.team_id, Customer.owner_id).where(*is_due(team_id, by)).distinct()
    return [tuple(row) for row in rows(session, pairs.order_by(Customer.team_id, Customer.owner_id))]


def snooze_until(today: dt.date, days: str | int) -> dt.date:
    """The date a "Snooze N days" choice means; only 1, 3 and 7 are offered."""
    n = int(days)
    if n not in SNOOZE_CHOICES:
        raise UserError("error.generic")
    return today + dt.timedelta(days=n)


def snooze_revisit(
    *, session: Session, viewer: Viewer, customer_id: int, until: dt.date, today: dt.date, surface: str
) -> Customer:
    """Move the customer's next revisit to `until` (a date after `today`, the viewer's today)."""
    if until <= today:
        raise UserError("snooze.past", example=(today + dt.timedelta(days=1)).isoformat())
    customer = access.customer(session, viewer, customer_id, for_update=True, to_record=True)
    audit.record(
        session=session, team_id=viewer.team_id, actor_id=viewer.user_id, action="snooze", entity="customer",
        entity_id=customer.id, surface=surface,
        changes={"next_revisit": [customer.next_revisit and customer.next_revisit.isoformat(), until.isoformat()]},
    )  # fmt: skip
    customer.next_revisit = until
    session.flush()
    return customer


def digest_time_of(*, session: Session, team_id: str, member: Member) -> str:
    """The member's own digest time, else the team's."""
    return member.digest_time or team_settings(session, team_id).digest_time


def set_digest(*, session: Session, member: Member, enabled: bool, time: str | None) -> Member:
    """Turn the member's own digest on or off and set its time ("HH:MM")."""
    team_id, user_id = member.team_id, member.user_id
    parsed = parse_time(time)
    if parsed is None:
        raise FieldErrors.one("digest_time", "error.time.invalid")
    audit.record(
        session=session, team_id=team_id, actor_id=user_id, action="update", entity="member", entity_id=member.id,
        surface="modal", changes=audit.diff(
            {"digest_enabled": member.digest_enabled, "digest_time": member.digest_time},
            {"digest_enabled": enabled, "digest_time": parsed.strftime("%H:%M")},
        ),
    )  # fmt: skip
    member.digest_enabled = enabled
    member.digest_time = parsed.strftime("%H:%M")
    session.flush()
    return member
