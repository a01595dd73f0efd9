"""Who may see and do what: the one door to customers, touches, complaints, revisits and scores.

Every service function that reads or changes one of these takes a `Viewer` (required, never
defaulted). With the team's Visibility `open` every member sees every customer; with `owner`
("owner only") a member sees the customers they own, work an active complaint for, or owe an
open follow-up to (services.followups), and
the complaints they are assigned or whose customer they see; leads and admins see all. A
scheduled job or a command-line tool acting for the whole team says so explicitly with
`Viewer.whole_team`.

Asked for something it may not see, a service raises `UserError("error.customer.hidden")` (or
`error.complaint.hidden`): "not one of yours", the same words everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import ColumnElement, Integer, String, bindparam, event, exists, inspect, or_, select, true
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from bot.services.errors import UserError
from bot.services.members import ADMIN, LEAD, SEES_EVERYTHING, role_of
from bot.services.sla import ACTIVE
from bot.services.workspaces import TeamSettings
from bot.storage.models import INTEGER_MAX, Complaint, Customer, FollowUp, Member, Touch


def sees_all(member: Member, settings: TeamSettings, role: str | None = None) -> bool:
    """Whether the member sees every customer of their workspace (`role`: theirs, if known)."""
    return settings.visibility == "open" or (role or role_of(member)) in SEES_EVERYTHING


@dataclass(frozen=True)
class Viewer:
    """Who is looking, and what that lets them see and do."""

    team_id: str
    user_id: str | None  # None: the whole team (a job, a tool)
    sees_all: bool
    admin: bool = False
    lead: bool = False

    @classmethod
    def of(cls, member: Member, settings: TeamSettings) -> Viewer:
        role = role_of(member)
        return cls(team_id=member.team_id, user_id=member.user_id, sees_all=sees_all(member, settings, role),
                   admin=role == ADMIN, lead=role == LEAD)  # fmt: skip

    @classmethod
    def whole_team(cls, team_id: str) -> Viewer:
        """For what acts for the whole team: the scheduler's jobs, the command-line tools."""
        return cls(team_id=team_id, user_id=None, sees_all=True, admin=True)

    # --- conditions a query adds ------------------------------------------------------------

    def customers(self) -> ColumnElement[bool]:
        """The customers this viewer sees (to add to a query on Customer)."""
        if self.sees_all:
            return true()
        working_on = select(Complaint.customer_id).where(
            Complaint.team_id == self.team_id,
            Complaint.assignee_id == self.user_id,
            Complaint.state.in_(ACTIVE),
        )
        promised = select(FollowUp.customer_id).where(
            FollowUp.team_id == self.team_id, FollowUp.assignee_id == self.user_id, FollowUp.done_at.is_(None)
        )
        return or_(Customer.owner_id == self.user_id, Customer.id.in_(working_on), Customer.id.in_(promised))

    def complaints(self) -> ColumnElement[bool]:
        """The complaints this viewer sees (to add to a query on Complaint): their own, and
        those of the customers they see."""
        if self.sees_all:
            return true()
        customer_seen = exists().where(Customer.id == Complaint.customer_id, self.customers())
        return or_(Complaint.assignee_id == self.user_id, customer_seen)

    def touches(self) -> ColumnElement[bool]:
        """The touches this viewer sees: those of the customers they see."""
        if self.sees_all:
            return true()
        return exists().where(Customer.id == Touch.customer_id, self.customers())


# Built once: every request about a customer reads it through the door.
_CUSTOMER = select(Customer).where(Customer.team_id == bindparam("team_id", type_=String()),
                                   Customer.id == bindparam("customer_id", type_=Integer()))  # fmt: skip
# Locked, it is read from the row: the session may hold what an earlier read saw (PostgreSQL).
_CUSTOMER_LOCKED = _CUSTOMER.with_for_update().execution_options(populate_existing=True)


def customer(
    session: Session, viewer: Viewer, customer_id: int, *, for_update: bool = False, to_record: bool = False
) -> Customer:
    """The customer, if this viewer may see it; else "no longer exists" or "not one of yours".
    `for_update`: its row locked until the transaction ends. `to_record`: refused ("erased") for
    a customer `/crm erase` erased, about which nothing more is recorded (a touch, a revisit, a
    stage, its details, a complaint, a score, a channel, a merge); its row stays for the counts.

    The answer is kept until the session writes what may change it (see
    `_forget_seen_if_who_sees_changed`) or its transaction ends, and is not used while the
    session holds unflushed changes: a profile card asks the door for the same customer five
    times (the card, its touches, complaints, health and channels), and each asking was a query.
    So is the lock: a customer read for update is not read again to be locked (nor is whether
    the viewer sees it asked again, as for any answer kept)."""
    if not 0 < customer_id <= INTEGER_MAX:  # no row has it (and PostgreSQL would refuse to compare)
        raise UserError("error.customer.gone")
    seen: dict[tuple[Viewer, int], _Seen] = session.info.setdefault(_SEEN, {})
    # Unflushed changes may change the answer too (a new owner not yet written): then ask.
    known = seen.get((viewer, customer_id)) if not (session.new or session.dirty or session.deleted) else None
    if known is not None and (known.held or not for_update):
        return recordable(known.customer) if to_record else known.customer
    which = {"team_id": viewer.team_id, "customer_id": customer_id}
    if viewer.sees_all:
        found, seen_it = session.scalar(_CUSTOMER_LOCKED if for_update else _CUSTOMER, which), True
    elif for_update and session.get_bind().dialect.name != "sqlite":
        found = session.scalar(_CUSTOMER_LOCKED, which)
        # Asked after the lock, so as of then: a reassignment committed while this waited counts
        # (PostgreSQL would read the subqueries of the locking statement as of before the wait).
        # The locked row itself is current: its owner sees it without asking.
        seen_it = found is not None and (found.owner_id == viewer.user_id or session.scalar(
            select(Customer.id).where(Customer.id == found.id, viewer.customers())) is not None)  # fmt: skip
    else:
        # Whether they see it in the same read: one round trip, not two. On SQLite a lock is
        # that too: it has no row locks, a writing transaction holds the whole database from
        # its BEGIN IMMEDIATE (bot.storage.db), and a transaction's reads see one snapshot.
        row = session.execute(_CUSTOMER.add_columns(viewer.customers().label("seen")), which).first()
        found, seen_it = (row[0], bool(row[1])) if row is not None else (None, False)
    if found is None:
        raise UserError("error.customer.gone")
    if not seen_it:
        raise UserError("error.customer.hidden")
    seen[viewer, customer_id] = _Seen(found, held=for_update)
    return recordable(found) if to_record else found


def recordable(found: Customer) -> Customer:
    """The customer, unless `/crm erase` erased it: nothing more is recorded about it."""
    if found.erased_at is not None:
        raise UserError("error.customer.erased")
    return found


class _Seen(NamedTuple):
    customer: Customer
    held: bool  # read for update: its row is locked until the transaction ends


_SEEN = "touchbase.customers_seen"  # session.info: (viewer, customer id) -> the customer the door let through (_Seen)


def seen_through(session: Session, viewer: Viewer, customer: Customer) -> None:
    """`customer` was just read with `viewer.customers()` in its conditions (a `<customer>`
    argument resolved): the door's answer for it, kept as `customer` keeps its own, so the
    card that follows does not ask again."""
    if not (session.new or session.dirty or session.deleted):
        session.info.setdefault(_SEEN, {}).setdefault((viewer, customer.id), _Seen(customer, held=False))


@event.listens_for(Session, "after_transaction_end")
def _forget_seen(session: Session, transaction: SessionTransaction) -> None:
    """A new transaction may see other rows, and a savepoint rolled back may undo a write.
    (Not the inner transaction each flush runs in: `_forget_seen_if_who_sees_changed`.)"""
    if transaction.parent is None or transaction.nested:
        session.info.pop(_SEEN, None)


@event.listens_for(Session, "after_flush")
def _forget_seen_if_who_sees_changed(session: Session, *_: object) -> None:
    """A write may change who sees what (`Viewer.customers`): a customer's owner, a complaint's
    or follow-up's assignee or state, and any delete (a customer gone, or rows the database
    deletes with it: a touch takes its follow-ups). Any other write leaves the answers
    standing: a touch logged does not make its customer another person's, and the health read
    after it need not ask again."""
    if _SEEN in session.info and (session.deleted or any(_changes_who_sees(row) for row in (*session.new, *session.dirty))):
        session.info.pop(_SEEN, None)


def _changes_who_sees(row: object) -> bool:
    if isinstance(row, Complaint | FollowUp):
        return True
    if not isinstance(row, Customer):
        return False
    state = inspect(row)
    return any(state.attrs[name].history.has_changes() for name in ("owner_id", "team_id"))


@event.listens_for(Session, "do_orm_execute")
def _forget_seen_on_bulk_writes(state: ORMExecuteState) -> None:
    """An UPDATE or DELETE statement run through the session changes rows without a flush."""
    if state.is_update or state.is_delete:
        state.session.info.pop(_SEEN, None)


def complaint(session: Session, viewer: Viewer, complaint_id: int) -> Complaint:
    """The complaint, if this viewer may see it; else "no longer exists" or "not one of yours"."""
    if not 0 < complaint_id <= INTEGER_MAX:
        raise UserError("error.complaint.gone")
    found = session.scalar(select(Complaint).where(Complaint.team_id == viewer.team_id, Complaint.id == complaint_id))
    if found is None:
        raise UserError("error.complaint.gone")
    check_complaint(session, viewer, found)
    return found


def check_complaint(session: Session, viewer: Viewer, found: Complaint) -> None:
    if not viewer.sees_all and session.scalar(select(Complaint.id).where(Complaint.id == found.id,
                                                                         viewer.complaints())) is None:  # fmt: skip
        raise UserError("error.complaint.hidden")


def touch(session: Session, viewer: Viewer, touch_id: int, *, to_record: bool = False) -> Touch:
    """The touch, if this viewer sees its customer (`to_record`: and it was not erased)."""
    if not 0 < touch_id <= INTEGER_MAX:
        raise UserError("error.touch.gone")
    found = session.scalar(select(Touch).where(Touch.team_id == viewer.team_id, Touch.id == touch_id))
    if found is None:
        raise UserError("error.touch.gone")
    customer(session, viewer, found.customer_id, to_record=to_record)
    return found


def require_admin(viewer: Viewer) -> None:
    if not viewer.admin:
        raise UserError("error.admin_only")
