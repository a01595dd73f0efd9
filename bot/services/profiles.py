"""A customer's profile as its card shows it: the customer, its latest touches, its open
complaints with their clocks, its health and its linked channels, all as the viewer may see them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.clock import local_today
from bot.services import access, channels, complaints, health, lifecycle, touches
from bot.services.access import Viewer
from bot.services.complaints import ComplaintCard
from bot.services.health import Health
from bot.services.workspaces import team_settings
from bot.storage.models import Customer, StageChange, Touch

RECENT_TOUCHES = 5


@dataclass(frozen=True)
class Profile:
    customer: Customer
    touches: list[Touch]
    more_touches: bool
    complaints: list[ComplaintCard]
    health: Health | None  # None for a customer erased: it is scored no more (services.health.scored)
    tz: str  # the reader's time zone, for the touches' times
    currency: str  # the team's, for the customer's value
    loss: StageChange | None = None  # why and when, if the customer is lost
    channels: tuple[str, ...] = ()  # its linked channels


def profile(
    *, session: Session, viewer: Viewer, customer_id: int, now: dt.datetime, tz: str, default_tz: str = "UTC"
) -> Profile:
    """The profile of a customer the viewer sees, as of `now`, for a reader in `tz`."""
    customer = access.customer(session, viewer, customer_id)
    recent, more = touches.recent_touches(session=session, viewer=viewer, customer_id=customer.id,
                                          limit=RECENT_TOUCHES)  # fmt: skip
    open_complaints = complaints.open_complaints_of(session=session, viewer=viewer, customer_id=customer.id, now=now,
                                                    default_tz=default_tz)  # fmt: skip
    score = None if customer.erased_at is not None else health.customer_health(
        session=session, viewer=viewer, customer=customer, now=now, today=local_today(now, tz))  # fmt: skip
    linked = channels.customer_channels(session=session, viewer=viewer, customer_id=customer.id)
    currency = team_settings(session, viewer.team_id).currency
    loss = lifecycle.last_loss(session=session, viewer=viewer, customer=customer)
    return Profile(customer, recent, more, open_complaints, score, tz, currency=currency, loss=loss,
                   channels=tuple(linked))
