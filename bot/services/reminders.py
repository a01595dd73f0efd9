"""Revisit reminders: what is due for whom, snoozing, and each member's digest choice.

The scheduler's jobs (bot/scheduler/jobs.py) read `owners_with_due_revisits`; the buttons in a digest
call `snooze_revisit` and `set_digest`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import parse_time, zone
from bot.services import audit
from bot.services.errors import FieldErrors, UserError
from bot.services.members import get_member
from bot.services.workspaces import team_settings
from bot.storage.models import Customer, Member

SNOOZE_CHOICES = {1, 3, 7}


def is_due(team_id: str, by: dt.date):  # type: ignore[no-untyped-def]
    """The conditions of a revisit due on or before `by`."""
    return (
        Customer.team_id == team_id,
        Customer.revisits_enabled.is_(True),
        Customer.next_revisit.is_not(None),
        Customer.next_revisit <= by,
        Customer.owner_id.is_not(None),
    )


def owners_with_due_revisits(*, session: Session, team_id: str, by: dt.date) -> list[str]:
    """Owners with a revisit due on or before `by` (the latest "today" anywhere on Earth)."""
    # Ordered, so concurrent sweeps write rows in the same order and cannot deadlock.
    query = select(Customer.owner_id).where(*is_due(team_id, by)).distinct().order_by(Customer.owner_id)
    return list(session.scalars(query))  # type: ignore[arg-type]


def snooze_until(today: dt.date, days: str | int) -> dt.date:
    """The date a "Snooze N days" choice means; only 1, 3 and 7 are offered."""
    n = int(days)
    if n not in SNOOZE_CHOICES:
        raise UserError("error.generic")
    return today + dt.timedelta(days=n)


def snooze_revisit(
    *, session: Session, team_id: str, actor_id: str, customer_id: int, until: dt.date, today: dt.date, surface: str
) -> Customer:
    """Move the customer's next revisit to `until` (a date after `today`, the actor's today)."""
    if until <= today:
        raise UserError("snooze.past", example=(today + dt.timedelta(days=1)).isoformat())
    customer = session.scalar(
        select(Customer).where(Customer.team_id == team_id, Customer.id == customer_id).with_for_update()
    )
    if customer is None:
        raise UserError("error.customer.gone")
    audit.record(
        session=session, team_id=team_id, actor_id=actor_id, action="snooze", entity="customer",
        entity_id=customer.id, surface=surface,
        changes={"next_revisit": [customer.next_revisit and customer.next_revisit.isoformat(), until.isoformat()]},
    )  # fmt: skip
    customer.next_revisit = until
    session.flush()
    return customer


def digest_time_of(*, session: Session, team_id: str, member: Member) -> str:
    """The member's own digest time, else the team's."""
    return member.digest_time or team_settings(session, team_id).digest_time


def set_digest(*, session: Session, team_id: str, user_id: str, enabled: bool, time: str | None) -> Member:
    """Turn the member's digest on or off and set its time ("HH:MM")."""
    parsed = parse_time(time)
    if parsed is None:
        raise FieldErrors.one("digest_time", "error.time.invalid")
    member = get_member(session=session, team_id=team_id, user_id=user_id, directory=None)
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


def today_of(*, session: Session, team_id: str, member: Member, now: dt.datetime | None = None) -> dt.date:
    """The member's date now, in their own time zone (else the team's)."""
    tz = zone(member.tz, team_settings(session, team_id).tz or "UTC")
    return (now or dt.datetime.now(dt.UTC)).astimezone(tz).date()
