"""A list's lines: the customers, follow-ups and complaints that `/crm due`, the App Home, the
digest, `/crm find`, the type-ahead and `/crm complaints` list, read as plain rows.

An object of the ORM costs a list more than its row does: built, given loaders for the columns
left out, tracked by the session (docs/PERFORMANCE.md, section 47). A line is only shown, never
changed: whatever changes a customer, follow-up or complaint reads it whole, through the door
(services.access), by the id its line carries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Executable, Row
from sqlalchemy.orm import Session

from bot.storage.models import Complaint, Customer


class CustomerItem(NamedTuple):
    """A customer as a list shows it (views.revisits, views.followups, views.customers)."""

    id: int
    team_id: str
    number: int
    name: str
    company: str | None
    contact_name: str | None
    tags: str | None
    owner_id: str | None
    next_revisit: dt.date | None
    revisits_enabled: bool


# CustomerItem's columns, in the order of its fields.
CUSTOMER_ITEM = (Customer.id, Customer.team_id, Customer.number, Customer.name, Customer.company,
                 Customer.contact_name, Customer.tags, Customer.owner_id, Customer.next_revisit,
                 Customer.revisits_enabled)  # fmt: skip


class TouchNote(NamedTuple):
    """What a follow-up promises: its touch's next step, or else its summary."""

    next_step: str | None
    summary: str | None


class FollowUpItem(NamedTuple):
    """An open follow-up as a list shows it, with its customer's line and its touch's note."""

    id: int
    assignee_id: str
    due_on: dt.date
    customer: CustomerItem
    touch: TouchNote


class ComplaintLine(NamedTuple):
    """A complaint as the lists show it (`/crm due`, `/crm complaints`, a profile card's), with
    what its clocks read (services.sla): not its description or resolution (encrypted, and
    long), which only its own card shows."""

    id: int
    team_id: str
    number: int
    customer_id: int
    title: str
    severity: str
    state: str
    assignee_id: str | None
    opened_at: dt.datetime
    cycle: int
    first_response_at: dt.datetime | None
    first_response_due: dt.datetime | None
    resolution_due: dt.datetime | None
    paused_at: dt.datetime | None
    resolved_at: dt.datetime | None


# ComplaintLine's columns, in the order of its fields.
COMPLAINT_LINE = (Complaint.id, Complaint.team_id, Complaint.number, Complaint.customer_id, Complaint.title,
                  Complaint.severity, Complaint.state, Complaint.assignee_id, Complaint.opened_at, Complaint.cycle,
                  Complaint.first_response_at, Complaint.first_response_due, Complaint.resolution_due,
                  Complaint.paused_at, Complaint.resolved_at)  # fmt: skip


class ClockLine(NamedTuple):
    """An active complaint as its clocks and escalation steps read it (services.sla), and no more:
    the scheduler's escalations tell many workspaces' complaints at once."""

    id: int
    team_id: str
    severity: str
    state: str
    cycle: int
    first_response_at: dt.datetime | None
    first_response_due: dt.datetime | None
    resolution_due: dt.datetime | None
    paused_at: dt.datetime | None


# ClockLine's columns, in the order of its fields.
CLOCK_LINE = (Complaint.id, Complaint.team_id, Complaint.severity, Complaint.state, Complaint.cycle,
              Complaint.first_response_at, Complaint.first_response_due, Complaint.resolution_due,
              Complaint.paused_at)  # fmt: skip


class CustomerName(NamedTuple):
    """A customer as a complaint's line names it."""

    id: int
    team_id: str
    number: int
    name: str


CUSTOMER_NAME = (Customer.id, Customer.team_id, Customer.number, Customer.name)


def rows(session: Session, statement: Executable, values: Mapping[str, Any] | None = None) -> Sequence[Row[Any]]:
    """The statement's rows, read on the session's connection, past the ORM. What the session
    holds unwritten is written first, as `Session.execute` would."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, values).all()
