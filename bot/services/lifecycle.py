"""Stages: where each customer stands in its life with the team, and how it moves.

    prospect → new → active ⇄ at risk → lost, and won back (lost → active)

- A customer is added as **new**, or as a **prospect** when the person adding it says so (the
  customer modal's Stage); a person moves a prospect to new (Stage: Customer), or a customer
  on the books back to prospect. Prospects and lost customers are set by people only.
- **New becomes active** when its second touch is logged (touches logged while it was a
  prospect do not count): two contacts make a relationship.
- **Active becomes at risk** while its health (services.health) is under `AT_RISK_BELOW`, and
  **returns to active** when it is `AT_RISK_BELOW` or more. The scheduler checks both once an
  hour per team, as of the sweep's instant (`check_stages`), and only that check moves a
  customer to at risk: health also falls with no one acting (days without a touch, a revisit
  or follow-up going overdue, a complaint passing its SLA), and only a clock notices that. So
  a customer turns at risk at most about an hour after its health fell under 40, and
  `stage_since` is the instant the sweep noticed it. A touch logged for a customer at risk
  checks its return at once (as of that request: a touch is what most often heals a
  customer, and the person sees the result at once); a touch never makes a customer at risk.
- **Lost** is set by a person with a reason (`mark_lost`, "Mark as lost"): the customer leaves
  the revisit cadence (revisits off), the due lists and the digest; its history stays.
  **Won back** (`won_back`) makes it active again and restarts its cadence.

Every move is a `StageChange` row (history for the churn report, services.churn); moves made by
people are audited as well.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from bot.services import access, audit, followups, health
from bot.services.access import Viewer
from bot.services.errors import FormModel, UserError
from bot.services.workspaces import revisit_interval, team_settings
from bot.storage.db import reading
from bot.storage.models import ON_BOOKS, Customer, StageChange, Touch, Workspace

REASONS: tuple[str, ...] = ("price", "service", "quality", "competitor", "not_needed", "moved_or_closed", "other")
Reason = Literal["price", "service", "quality", "competitor", "not_needed", "moved_or_closed", "other"]
AT_RISK_BELOW = 40
ACTIVE_AT_TOUCHES = 2
CHECK_EVERY = dt.timedelta(hours=1)
NOTE_MAX = 3000
BATCH = 500


def move(session: Session, customer: Customer, to_stage: str, *, now: dt.datetime, actor_id: str | None,
         reason: str | None = None, note: str | None = None) -> StageChange | None:  # fmt: skip
    """Move the customer to `to_stage` at `now` and keep the move; nothing when it is there."""
    if customer.stage == to_stage:
        return None
    change = StageChange(team_id=customer.team_id, customer_id=customer.id, from_stage=customer.stage,
                         to_stage=to_stage, at=now, actor_id=actor_id, owner_id=customer.owner_id,
                         value=customer.value, reason=reason, note=note)  # fmt: skip
    session.add(change)
    customer.stage, customer.stage_since = to_stage, now
    if "lost" in (change.from_stage, to_stage):
        followups.sync_customer_lost(session, customer)
    return change


def begin(session: Session, customer: Customer, *, prospect: bool, now: dt.datetime, actor_id: str | None) -> None:
    """A customer just added (and flushed): its first stage, new or prospect."""
    customer.stage, customer.stage_since = ("prospect" if prospect else "new"), now
    session.add(StageChange(team_id=customer.team_id, customer_id=customer.id, from_stage=None,
                            to_stage=customer.stage, at=now, actor_id=actor_id, owner_id=customer.owner_id,
                            value=customer.value))  # fmt: skip


def set_by_hand(*, session: Session, viewer: Viewer, customer: Customer, wanted: str | None, now: dt.datetime,
                surface: str) -> None:  # fmt: skip
    """The customer modal's Stage: "prospect" makes a customer on the books a prospect again;
    "customer" makes a prospect new. Lost customers come back with `won_back` only."""
    target = {"prospect": "prospect" if customer.stage in ON_BOOKS else None,
              "customer": "new" if customer.stage == "prospect" else None}.get(wanted or "")  # fmt: skip
    if target is None:
        return
    before = customer.stage
    move(session, customer, target, now=now, actor_id=viewer.user_id)
    audit.record(session=session, team_id=viewer.team_id, actor_id=viewer.user_id, action="stage", entity="customer",
                 entity_id=customer.id, surface=surface, changes={"stage": [before, target]})  # fmt: skip


def after_touch(*, session: Session, viewer: Viewer, customer: Customer, now: dt.datetime, today: dt.date) -> None:
    """A touch was logged (and flushed): new → active at its second touch; at risk → active
    when the customer's health is now `AT_RISK_BELOW` or more. A touch heals, it does not
    harm: an active customer whose health is under that is moved by the scheduler's check,
    as one nobody touched (its health is not read here, inside the write: on SQLite every
    other write waits for it)."""
    if customer.stage == "new" and _touches_as_customer(session, customer) >= ACTIVE_AT_TOUCHES:
        move(session, customer, "active", now=now, actor_id=None)
    if customer.stage == "at_risk":
        score = health.customer_health(session=session, viewer=viewer, customer=customer, now=now, today=today).score
        if score >= AT_RISK_BELOW:
            move(session, customer, "active", now=now, actor_id=None)


def _touches_as_customer(session: Session, customer: Customer) -> int:
    """The customer's touches, but for those logged while it was a prospect."""
    became = session.scalar(
        select(func.max(StageChange.at)).where(StageChange.customer_id == customer.id,
                                               StageChange.from_stage == "prospect", StageChange.to_stage == "new")
    )  # fmt: skip
    query = select(func.count()).select_from(Touch).where(Touch.team_id == customer.team_id,
                                                          Touch.customer_id == customer.id)  # fmt: skip
    return session.scalar(query.where(Touch.created_at >= became) if became else query) or 0


def stages_unchecked(now: dt.datetime) -> ColumnElement[bool]:
    """A workspace whose customers' stages are due their check at `now` (none this hour)."""
    return or_(Workspace.stages_checked_at.is_(None), Workspace.stages_checked_at <= now - CHECK_EVERY)


def check_stages(*, session: Session, team_id: str, now: dt.datetime, today: dt.date) -> int:
    """The scheduler's check (at most once per `CHECK_EVERY` per team, whichever sweep claims
    it first): active customers whose health is under `AT_RISK_BELOW` become at risk, customers
    at risk whose health is that or more become active again, as of `now`. Returns the moves.

    Scoring the team takes seconds at 100,000 customers, so it is done in a transaction that
    only reads: on SQLite touches go on being written meanwhile, on PostgreSQL nothing is held.
    Before it, the check is claimed in a short transaction of its own, so that however many
    sweeps run, one scores the team (a sweep stopped after its claim leaves that hour's check to
    the next one). After it, in a transaction of its own, the customers it would move are locked
    and scored again, and moved by that second score: a touch that committed in between is not
    undone by a stale one. The session's transaction ends at each step, so it must hold no
    unsaved work."""
    with reading():  # most minutes, this is all: the hour's check is done
        checked = session.scalar(select(Workspace.stages_checked_at).where(Workspace.team_id == team_id))
    if checked is not None and checked > now - CHECK_EVERY:
        return 0
    session.commit()
    claimed = session.execute(
        update(Workspace)
        .where(Workspace.team_id == team_id, stages_unchecked(now))
        .values(stages_checked_at=now)
    ).rowcount  # fmt: skip
    session.commit()
    if not claimed:  # another sweep claimed it since
        return 0
    with reading():
        viewer = Viewer.whole_team(team_id)
        low = _low(session, viewer, now=now, today=today)
        at_risk = set(session.scalars(select(Customer.id).where(Customer.team_id == team_id,
                                                                Customer.stage == "at_risk")))  # fmt: skip
    session.commit()
    # The active ones under 40 and those at risk at 40 or more, locked in one id order, as a merge
    # locks its two: a merge that held one of them and waited for another held here would wait
    # for the check while the check waits for it (PostgreSQL).
    ids = sorted((low - at_risk) | (at_risk - low))
    locked: list[Customer] = []
    for start in range(0, len(ids), BATCH):
        locked += session.scalars(
            select(Customer).where(Customer.team_id == team_id, Customer.id.in_(ids[start : start + BATCH]),
                                   Customer.stage.in_(("active", "at_risk")), Customer.erased_at.is_(None))
            .order_by(Customer.id).with_for_update().execution_options(populate_existing=True)
        )  # fmt: skip
    ids = [c.id for c in locked]
    still = set().union(*(_low(session, viewer, now=now, today=today, ids=ids[i : i + BATCH])
                          for i in range(0, len(ids), BATCH)))  # fmt: skip
    moved = 0
    for customer in locked:
        moved += move(session, customer, "at_risk" if customer.id in still else "active", now=now,
                      actor_id=None) is not None  # fmt: skip
    session.flush()
    return moved


def _low(session: Session, viewer: Viewer, *, now: dt.datetime, today: dt.date,
         ids: list[int] | None = None) -> set[int]:  # fmt: skip
    """The ids of customers active or at risk (of `ids`, if given) with health under `AT_RISK_BELOW`."""
    scored = health.scored(session=session, viewer=viewer, now=now, today=today, stages=("active", "at_risk"), ids=ids)
    return {r.customer.id for r in scored if r.health.score < AT_RISK_BELOW}


# --- lost and won back --------------------------------------------------------------------------


class LostInput(FormModel):
    """"Mark as lost" as typed: a reason (required) and a note."""

    reason: Reason
    note: str | None = None

    @field_validator("reason", mode="before")
    @classmethod
    def _reason_given(cls, value: object) -> object:
        if value not in REASONS:
            raise PydanticCustomError("error.reason.required", "error.reason.required")
        return value

    @field_validator("note")
    @classmethod
    def _short(cls, value: str | None) -> str | None:
        if value is not None and len(value) > NOTE_MAX:
            raise PydanticCustomError("error.too_long", "error.too_long", {"limit": NOTE_MAX})
        return value


def losable(*, session: Session, viewer: Viewer, customer_id: int) -> Customer:
    """The customer, if the viewer sees it, it is not lost already and not erased."""
    customer = access.customer(session, viewer, customer_id, to_record=True)
    if customer.stage == "lost":
        raise UserError("lost.already", customer=customer.name, number=customer.number)
    return customer


def mark_lost(*, session: Session, viewer: Viewer, customer_id: int, data: LostInput, now: dt.datetime,
              surface: str) -> Customer:  # fmt: skip
    """The customer is lost, for `data.reason`: it leaves the revisit cadence and the due lists
    (its revisits are turned off) and keeps its history. Audited."""
    customer = access.customer(session, viewer, customer_id, for_update=True, to_record=True)
    if customer.stage == "lost":
        raise UserError("lost.already", customer=customer.name, number=customer.number)
    before = {"stage": customer.stage, "next_revisit": customer.next_revisit, "revisits_enabled": customer.revisits_enabled}
    move(session, customer, "lost", now=now, actor_id=viewer.user_id, reason=data.reason, note=data.note)
    customer.next_revisit, customer.revisits_enabled = None, False
    audit.record(
        session=session, team_id=viewer.team_id, actor_id=viewer.user_id, action="lost", entity="customer",
        entity_id=customer.id, surface=surface,
        changes={**audit.diff(before, {"stage": "lost", "next_revisit": None, "revisits_enabled": False}),
                 "reason": [None, data.reason], "note": [None, data.note]},
    )  # fmt: skip
    session.flush()
    return customer


def won_back(*, session: Session, viewer: Viewer, customer_id: int, now: dt.datetime, today: dt.date,
             surface: str) -> Customer:  # fmt: skip
    """A lost customer is back: active, its revisits on again from `today` plus its grade's
    interval. Audited."""
    customer = access.customer(session, viewer, customer_id, for_update=True, to_record=True)
    if customer.stage != "lost":
        raise UserError("won.not_lost", customer=customer.name, number=customer.number)
    next_revisit = today + revisit_interval(team_settings(session, viewer.team_id), customer.grade)
    move(session, customer, "active", now=now, actor_id=viewer.user_id)
    customer.next_revisit, customer.revisits_enabled = next_revisit, True
    audit.record(
        session=session, team_id=viewer.team_id, actor_id=viewer.user_id, action="won", entity="customer",
        entity_id=customer.id, surface=surface,
        changes={"stage": ["lost", "active"], "next_revisit": [None, next_revisit.isoformat()],
                 "revisits_enabled": [False, True]},
    )  # fmt: skip
    session.flush()
    return customer


def last_loss(*, session: Session, viewer: Viewer, customer: Customer) -> StageChange | None:
    """Why and when a lost customer was lost (None unless it is lost)."""
    if customer.stage != "lost":
        return None
    access.customer(session, viewer, customer.id)
    return session.scalar(
        select(StageChange).where(StageChange.customer_id == customer.id, StageChange.to_stage == "lost")
        .order_by(StageChange.at.desc(), StageChange.id.desc()).limit(1)
    )  # fmt: skip
