"""Personal data: who may act, the audit trail, exports (one customer as JSON, all as CSV), and erasure.

Erasure removes the personal fields everywhere they occur (profile, touch texts and links,
complaint texts, audit values) but keeps the rows, so counts in reports stay true.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.i18n import t
from bot.services import access, audit, csvfile, followups, notices
from bot.services.access import Viewer, require_admin
from bot.services.customers import PROFILE_FIELDS, all_customers
from bot.storage.db import now_of
from bot.storage.models import (
    AuditEvent,
    ChannelLink,
    ChannelMessage,
    Complaint,
    ComplaintEvent,
    Customer,
    FollowUp,
    RevisitDone,
    SatisfactionScore,
    StageChange,
    Survey,
    Touch,
)
from bot.storage.schema import stored_columns

AUDIT_PAGE = 10
PERSONAL_FIELDS = ("company", "contact_name", "title", "email", "phone", "address", "needs", "preferences", "tags")


def _row(obj: Any) -> dict[str, Any]:
    values = {}
    for column in stored_columns(obj.__table__):
        value = getattr(obj, column.key)
        values[column.key] = value.isoformat() if isinstance(value, dt.date | dt.datetime) else value
    return values


def export_customer(*, session: Session, viewer: Viewer, customer_id: int, surface: str, now: dt.datetime) -> bytes:
    """Everything stored about one customer, as JSON (admins only); the export itself is audited."""
    require_admin(viewer)
    team_id = viewer.team_id
    customer = access.customer(session, viewer, customer_id)
    complaints = session.scalars(
        select(Complaint).where(Complaint.team_id == team_id, Complaint.customer_id == customer.id)
    ).all()
    events = session.scalars(
        select(ComplaintEvent).where(
            ComplaintEvent.team_id == team_id, ComplaintEvent.complaint_id.in_([c.id for c in complaints])
        )
    ).all()
    links = session.scalars(select(ChannelLink).where(ChannelLink.team_id == team_id,
                                                      ChannelLink.customer_id == customer.id)).all()  # fmt: skip
    data = {
        "exported_at": now.isoformat(),
        "customer": _row(customer),
        "touches": [_row(t) for t in session.scalars(
            select(Touch).where(Touch.team_id == team_id, Touch.customer_id == customer.id).order_by(Touch.id))],
        "complaints": [_row(c) for c in complaints],
        "complaint_events": [_row(e) for e in events],
        "satisfaction_scores": [_row(x) for x in session.scalars(select(SatisfactionScore).where(
            SatisfactionScore.team_id == team_id, SatisfactionScore.customer_id == customer.id).order_by(SatisfactionScore.id))],
        "revisits_done": [_row(x) for x in session.scalars(select(RevisitDone).where(
            RevisitDone.team_id == team_id, RevisitDone.customer_id == customer.id).order_by(RevisitDone.id))],
        "channel_links": [_row(x) for x in links],
        "channel_messages": [_row(x) for x in session.scalars(select(ChannelMessage).where(
            ChannelMessage.team_id == team_id, ChannelMessage.link_id.in_([x.id for x in links]))
            .order_by(ChannelMessage.id))],
        "stage_changes": [_row(x) for x in session.scalars(select(StageChange).where(
            StageChange.team_id == team_id, StageChange.customer_id == customer.id).order_by(StageChange.id))],
        "follow_ups": [_row(x) for x in session.scalars(select(FollowUp).where(
            FollowUp.team_id == team_id, FollowUp.customer_id == customer.id).order_by(FollowUp.id))],
        # The surveys it was asked and its answers (not the token's hash: it opens nothing, and is no one's data).
        "surveys": [{k: v for k, v in _row(x).items() if k != "token_hash"} for x in session.scalars(select(Survey).where(
            Survey.team_id == team_id, Survey.customer_id == customer.id).order_by(Survey.id))],
        "audit": [_row(a) for a in _audit_query(session, customer)],
    }  # fmt: skip
    audit.record(
        session=session, team_id=team_id, actor_id=viewer.user_id, action="export", entity="customer",
        entity_id=customer.id, surface=surface,
    )  # fmt: skip
    return json.dumps(data, ensure_ascii=False, indent=2).encode()


def _audit_query(session: Session, customer: Customer, limit: int | None = None, offset: int = 0) -> Any:
    """The customer's audit records, newest first (a customer merged into it brought its own:
    services.customers.merge_customers)."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.team_id == customer.team_id, AuditEvent.entity == "customer",
               AuditEvent.entity_id == customer.id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset(offset)
    )  # fmt: skip
    if limit is not None:
        query = query.limit(limit + 1)
    return session.scalars(query).all()


def audit_page(
    *, session: Session, viewer: Viewer, customer_id: int, offset: int = 0
) -> tuple[Customer, list[AuditEvent], bool]:
    """A page of the customer's audit trail, newest first (admins only)."""
    require_admin(viewer)
    customer = access.customer(session, viewer, customer_id)
    rows = list(_audit_query(session, customer, AUDIT_PAGE, offset))
    return customer, rows[:AUDIT_PAGE], len(rows) > AUDIT_PAGE


def _held_with_its_links(session: Session, viewer: Viewer, customer_id: int) -> Customer:
    """The customer locked, and its channels' links before it, in the order a message in one
    takes them (services.channels.posted) and a merge does: a message under way is waited for,
    not deadlocked with. A link that became the customer's in between (a merge into it committed
    while this waited) was not locked first, and a message may hold it waiting for the customer:
    then both locks are let go, the message goes by, and they are taken again. (The door reads a
    customer it locks from the row: after an attempt let go, a merge may have filled its fields.)"""
    links = select(ChannelLink.id).where(ChannelLink.team_id == viewer.team_id, ChannelLink.customer_id == customer_id)
    while True:  # again only after another transaction moved links to the customer: not for ever
        attempt = session.begin_nested()
        held = set(session.scalars(links.order_by(ChannelLink.id).with_for_update()))
        customer = access.customer(session, viewer, customer_id, for_update=True)
        if set(session.scalars(links)) <= held:
            attempt.commit()
            return customer
        attempt.rollback()


def erase_customer(
    *, session: Session, viewer: Viewer, customer_id: int, surface: str, locale: str | None = None
) -> Customer:
    """Remove the customer's personal data everywhere; keep anonymised rows for the counts,
    marked as erased in `locale` (the team's language, or the admin's). The customer leaves every
    list of things to do: its revisits are off, its follow-ups out of their lists, and it is left
    out of the check-ins, the regrade suggestions and the stage check."""
    require_admin(viewer)
    team_id = viewer.team_id
    customer = _held_with_its_links(session, viewer, customer_id)
    # What is still to be sent about it goes first, found by what it is called until now.
    assignees = select(FollowUp.assignee_id).where(FollowUp.team_id == team_id, FollowUp.customer_id == customer.id,
                                                   FollowUp.done_at.is_(None))  # fmt: skip
    notices.forget(session=session, team_id=team_id, customer_id=customer.id,
                   people=[p for p in (customer.owner_id, *session.scalars(assignees)) if p],
                   names=(customer.name, customer.company, customer.contact_name))  # fmt: skip
    label, erased = t(locale, "erase.label", number=customer.number), t(locale, "erase.marker")
    customer.name, customer.name_key = label, label.casefold()
    for field in PERSONAL_FIELDS:
        setattr(customer, field, None)
    customer.erased_at = now_of(session)
    customer.next_revisit, customer.revisits_enabled = None, False
    followups.sync_customer_lost(session, customer)
    session.execute(
        update(Touch)
        .where(Touch.team_id == team_id, Touch.customer_id == customer.id)
        .values(summary=erased, outcome=None, next_step=None, permalink=None, speaker_id=None)
    )
    complaint_ids = select(Complaint.id).where(Complaint.team_id == team_id, Complaint.customer_id == customer.id)
    session.execute(
        update(Complaint)
        .where(Complaint.team_id == team_id, Complaint.customer_id == customer.id)
        .values(title=erased, description=None, resolution=None, permalink=None)
    )
    # Notes people wrote go; an escalation's note is which step it was ("cycle:step"), which the
    # scan reads so as not to escalate again (services.sla.sent_steps).
    session.execute(
        update(ComplaintEvent)
        .where(ComplaintEvent.team_id == team_id, ComplaintEvent.complaint_id.in_(complaint_ids),
               ComplaintEvent.kind != "escalated")
        .values(note=None)
    )
    # Its channels are no longer its: what its people write there is not logged any more, and
    # the messages' clocks (who wrote when, links) go with the links.
    session.execute(delete(ChannelLink).where(ChannelLink.team_id == team_id, ChannelLink.customer_id == customer.id))
    # Its surveys go too: one still open cannot be answered any more, and who answered is its
    # people's. The scores stay (a number and a date), for the counts.
    session.execute(delete(Survey).where(Survey.team_id == team_id, Survey.customer_id == customer.id))
    # A loss's note is free text about the customer; the reason (a fixed choice) stays for the counts.
    session.execute(
        update(StageChange).where(StageChange.team_id == team_id, StageChange.customer_id == customer.id).values(note=None)
    )
    # Old audit records held the values; keep who changed which field, drop what it was.
    for row in _audit_query(session, customer):
        row.changes = {field: [None, None] for field in row.changes}
    touch_ids = select(Touch.id).where(Touch.team_id == team_id, Touch.customer_id == customer.id)
    for row in session.scalars(
        select(AuditEvent).where(AuditEvent.team_id == team_id, AuditEvent.entity == "touch",
                                 AuditEvent.entity_id.in_(touch_ids))  # fmt: skip
    ):
        row.changes = {field: [None, None] for field in row.changes}
    touches = session.scalar(select(func.count()).select_from(Touch).where(Touch.customer_id == customer.id))
    audit.record(
        session=session, team_id=team_id, actor_id=viewer.user_id, action="erase", entity="customer",
        entity_id=customer.id, surface=surface, changes={"fields": [None, list(PROFILE_FIELDS)], "touches": [None, touches]},
    )  # fmt: skip
    session.flush()
    return customer


def customers_csv(*, session: Session, viewer: Viewer, surface: str) -> bytes:
    """`/crm export` (admins only): every customer as CSV, safe to open in a spreadsheet; the
    export is audited."""
    require_admin(viewer)
    header = ["number", *PROFILE_FIELDS, "next_revisit", "stage", "stage_since"]
    rows = ([c.number, *(getattr(c, f) for f in PROFILE_FIELDS), c.next_revisit, c.stage, c.stage_since]
            for c in all_customers(session=session, viewer=viewer))  # fmt: skip
    audit.record(session=session, team_id=viewer.team_id, actor_id=viewer.user_id, action="export", entity="customer",
                 entity_id=None, surface=surface)  # fmt: skip
    return csvfile.to_bytes([header, *rows])
