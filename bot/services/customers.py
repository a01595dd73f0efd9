"""Customer profiles: create (with the duplicate check), edit, get, assign an owner, merge.

Finding customers and reading a `<customer>` argument are in services.find. Every function
that reads or changes a customer takes the `Viewer` (services.access), who is also the person
acting for the audit trail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.notify import Directory, Unreachable
from bot.services import access, audit, followups, lifecycle
from bot.services.access import Viewer
from bot.services.errors import FieldErrors, FormModel, UserError
from bot.services.find import name_key, resolve_customer
from bot.services.members import USER_ID
from bot.services.workspaces import get_workspace, next_number
from bot.storage.crypto import lookup_hashes
from bot.storage.db import now_of
from bot.storage.models import AuditEvent, ChannelLink, Complaint, Customer, FollowUp, SatisfactionScore, Survey, Touch

Grade = Literal["A", "B", "C"]
Segment = Literal["potential", "new", "regular", "key"]
GRADES: tuple[str, ...] = ("A", "B", "C")
SEGMENTS: tuple[str, ...] = ("potential", "new", "regular", "key")
PROFILE_FIELDS = (
    "name", "company", "contact_name", "title", "email", "phone", "address",
    "owner_id", "grade", "segment", "needs", "preferences", "tags", "value",
)  # fmt: skip
_PHONE = re.compile(r"^\+?[\d\s().\-/]+$")
_TAG_SPLIT = re.compile(r"[,，;；]")
DUPLICATES_SHOWN = 5
VALUE_MAX = 10**15  # a yearly value beyond this is a typing slip
# A value as people type it: `120000`, `120,000`, `1 200 000.50`, `¥120,000`, `12万`, `1.5亿`,
# `250k`, `3m`, `USD 5,000`: separators, a currency sign or code, a multiplier.
_VALUE_MULTIPLIERS = {"": 1, "k": 10**3, "m": 10**6, "万": 10**4, "亿": 10**8}
_VALUE = re.compile(r"^(?:[a-z]{3}|[¥￥$€£]|cn¥|us\$)?\s*([0-9][0-9,，_' ]*(?:\.[0-9]+)?)\s*(k|m|万|亿)?\s*(?:元|块|[a-z]{3})?$")


def _error(key: str) -> PydanticCustomError:
    return PydanticCustomError(key, key)


class CustomerInput(FormModel):
    """A customer profile as typed into the modal."""

    name: str
    company: str | None = None
    contact_name: str | None = None
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    owner_id: str | None = None
    grade: Grade | None = None
    segment: Segment | None = None
    needs: str | None = None
    preferences: str | None = None
    tags: str | None = None
    value: int | None = None
    # "prospect" or "customer" (on the books); None leaves the stage as it is (services.lifecycle)
    stage: Literal["prospect", "customer"] | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _name_given(cls, value: object) -> object:
        name = " ".join(str(value or "").split())
        if not name:
            raise _error("error.name.empty")
        return name

    @field_validator("name", "company", "contact_name", "title")
    @classmethod
    def _short(cls, value: str | None) -> str | None:
        if value is not None and len(value) > 200:
            raise PydanticCustomError("error.too_long", "error.too_long", {"limit": 200})
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError:
            raise _error("error.email.invalid") from None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        # E.164 allows at most 15 digits; fewer than 5 is no reachable number.
        if value is None:
            return None
        digits = sum(ch.isdigit() for ch in value)
        if not _PHONE.match(value) or not 5 <= digits <= 15:
            raise _error("error.phone.invalid")
        return value

    @field_validator("owner_id")
    @classmethod
    def _owner(cls, value: str | None) -> str | None:
        if value is not None and not USER_ID.match(value):
            raise _error("error.owner.unknown")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: str | None) -> str | None:
        if value is None:
            return None
        tags = dict.fromkeys(t.strip() for t in _TAG_SPLIT.split(value) if t.strip())
        return ", ".join(tags) or None


    @field_validator("value", mode="before")
    @classmethod
    def _value(cls, value: object) -> object:
        if value is None or isinstance(value, int):
            return value
        return read_value(str(value)) if str(value).strip() else None


def read_value(text: str) -> int:
    """A yearly value as typed, in whole units (decimals rounded half up); refused with
    "error.value.invalid" when it is not one."""
    m = _VALUE.match(" ".join(text.strip().lower().split()))
    if not m:
        raise _error("error.value.invalid")
    try:
        number = Decimal(re.sub(r"[,，_' ]", "", m.group(1))) * _VALUE_MULTIPLIERS[m.group(2) or ""]
    except InvalidOperation:
        raise _error("error.value.invalid") from None
    whole = int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if whole > VALUE_MAX:
        raise _error("error.value.invalid")
    return whole


def profile_of(customer: Customer) -> dict[str, object]:
    return {field: getattr(customer, field) for field in PROFILE_FIELDS}


def _check_name_free(session: Session, team_id: str, name: str, *, except_id: int | None = None) -> str:
    key = name_key(name)
    clash = session.scalar(select(Customer).where(Customer.team_id == team_id, Customer.name_key == key))
    if clash is not None and clash.id != except_id:
        raise FieldErrors.one("name", "error.name.taken", name=clash.name, number=clash.number)
    return key


@dataclass(frozen=True)
class PossibleDuplicates:
    """A new customer not saved: others have its e-mail or phone. `pending` is the input, to
    save anyway."""

    same: list[Customer]
    pending: CustomerInput


def new_customer(
    *, session: Session, viewer: Viewer, data: CustomerInput, surface: str, anyway: bool = False
) -> Customer | PossibleDuplicates:
    """Create the customer, unless (and `anyway` is False) customers the viewer sees already
    have its e-mail or phone: then say which, and save nothing."""
    if not anyway:
        same = with_email_or_phone(session=session, viewer=viewer, email=data.email, phone=data.phone)
        if same:
            return PossibleDuplicates(same, data)
    return create_customer(session=session, viewer=viewer, data=data, surface=surface)


def create_customer(*, session: Session, viewer: Viewer, data: CustomerInput, surface: str) -> Customer:
    team_id = viewer.team_id
    get_workspace(session, team_id)
    key = _check_name_free(session, team_id, data.name)
    customer = Customer(
        team_id=team_id,
        number=next_number(session, team_id, "last_customer_number"),
        name_key=key,
        created_by=viewer.user_id,
        **data.model_dump(exclude={"stage"}),
    )
    customer.owner_id = customer.owner_id or viewer.user_id
    session.add(customer)
    session.flush()
    lifecycle.begin(session, customer, prospect=data.stage == "prospect", now=now_of(session), actor_id=viewer.user_id)
    audit.record(
        session=session, team_id=team_id, actor_id=viewer.user_id, action="create", entity="customer",
        entity_id=customer.id, surface=surface, changes=audit.diff({}, profile_of(customer)),
    )  # fmt: skip
    return customer


def update_customer(
    *, session: Session, viewer: Viewer, customer_id: int, data: CustomerInput, surface: str
) -> Customer:
    try:
        customer = access.customer(session, viewer, customer_id, for_update=True, to_record=True)
    except UserError as refusal:
        raise FieldErrors.one("name", refusal.key) from None
    key = _check_name_free(session, viewer.team_id, data.name, except_id=customer.id)
    before = profile_of(customer)
    values = data.model_dump(exclude={"stage"})
    values["owner_id"] = values["owner_id"] or customer.owner_id
    for field, value in values.items():
        setattr(customer, field, value)
    customer.name_key = key
    audit.record_update(
        session=session, team_id=viewer.team_id, actor_id=viewer.user_id, entity="customer", entity_id=customer.id,
        surface=surface, before=before, after=profile_of(customer),
    )  # fmt: skip
    lifecycle.set_by_hand(session=session, viewer=viewer, customer=customer, wanted=data.stage, now=now_of(session),
                          surface=surface)  # fmt: skip
    session.flush()
    return customer


def get_customer(*, session: Session, viewer: Viewer, customer_id: int, to_record: bool = False) -> Customer:
    """The customer, if the viewer may see it; else a refusal that says why. `to_record`: for a
    form that would record something about it (refused for an erased customer: `access.recordable`)."""
    return access.customer(session, viewer, customer_id, to_record=to_record)


def with_email_or_phone(
    *, session: Session, viewer: Viewer, email: str | None, phone: str | None, except_id: int | None = None
) -> list[Customer]:
    """Customers the viewer sees whose email or phone is the same (after normalising),
    encrypted or not."""
    same = []
    if email:
        same.append(Customer.email_hash.in_(lookup_hashes("email", email)))
    if phone:
        same.append(Customer.phone_hash.in_(lookup_hashes("phone", phone)))
    if not same:
        return []
    query = (
        select(Customer)
        .where(Customer.team_id == viewer.team_id, or_(*same), viewer.customers())
        .order_by(Customer.number)
        .limit(DUPLICATES_SHOWN)
    )
    return [c for c in session.scalars(query) if c.id != except_id]


def all_customers(*, session: Session, viewer: Viewer) -> list[Customer]:
    """Every customer the viewer sees, by number."""
    query = select(Customer).where(Customer.team_id == viewer.team_id, viewer.customers()).order_by(Customer.number)
    return list(session.scalars(query))


@dataclass(frozen=True)
class Assignment:
    customer: Customer
    previous: str | None
    changed: bool


def check_owner(*, directory: Directory, owner_id: str) -> None:
    """Refuse an owner that is not a person Slack knows in this workspace (`<!channel>`, a
    made-up id, 100,000 characters…)."""
    if not USER_ID.match(owner_id or ""):
        raise UserError("error.owner.unknown")
    try:
        directory.profile(owner_id)
    except Unreachable:  # users.info said no (user_not_found), or could not tell: refuse
        raise UserError("error.owner.unknown") from None


def assign_customer(
    *, session: Session, viewer: Viewer, customer_id: int, owner_id: str, surface: str, directory: Directory
) -> Assignment:
    """Make `owner_id` the owner (a person Slack knows here). Telling them is the caller's
    courtesy, after the answer (see `Assignment.changed`)."""
    customer = access.customer(session, viewer, customer_id, for_update=True)
    previous = customer.owner_id
    if previous == owner_id:
        return Assignment(customer, previous, changed=False)
    check_owner(directory=directory, owner_id=owner_id)
    audit.record(
        session=session, team_id=viewer.team_id, actor_id=viewer.user_id, action="assign", entity="customer",
        entity_id=customer.id, surface=surface, changes={"owner_id": [previous, owner_id]},
    )  # fmt: skip
    customer.owner_id = owner_id
    session.flush()
    return Assignment(customer, previous, changed=True)


def merge_customers(*, session: Session, viewer: Viewer, source_id: int, target_id: int, surface: str) -> Customer:
    """Move `source`'s touches and complaints onto `target`, fill `target`'s empty fields from
    `source`, delete `source` (admins only). Its audit trail joins `target`'s, with the merge."""
    access.require_admin(viewer)
    team_id = viewer.team_id
    if source_id == target_id:
        raise UserError("merge.same")
    # Their channels' links before the customers, as an erase takes them (services.datacare):
    # the two wait for each other at the links, before either holds a customer. (Moving a link
    # leaves its key alone: a message holding it is not waited for.)
    session.execute(select(ChannelLink.id).where(ChannelLink.team_id == team_id,
                                                 ChannelLink.customer_id.in_((source_id, target_id)))
                    .order_by(ChannelLink.id).with_for_update(key_share=True))  # fmt: skip
    rows = {
        c.id: c
        for c in session.scalars(
            select(Customer)
            .where(Customer.team_id == team_id, Customer.id.in_((source_id, target_id)))
            .order_by(Customer.id)  # in id order, as every lock of several customers is taken
            .with_for_update()
        )
    }
    source, target = rows.get(source_id), rows.get(target_id)
    if source is None or target is None:
        raise UserError("error.customer.gone")
    access.recordable(source), access.recordable(target)
    filled = {}
    for field in PROFILE_FIELDS:
        if field != "name" and getattr(target, field) is None and getattr(source, field) is not None:
            filled[field] = [None, getattr(source, field)]
            setattr(target, field, getattr(source, field))
    if source.next_revisit and (target.next_revisit is None or source.next_revisit < target.next_revisit):
        target.next_revisit = source.next_revisit
    if source.last_touch_at and (target.last_touch_at is None or source.last_touch_at > target.last_touch_at):
        target.last_touch_at = source.last_touch_at
    moved_touches = session.execute(
        update(Touch).where(Touch.team_id == team_id, Touch.customer_id == source.id).values(customer_id=target.id)
    ).rowcount
    # Open promises go with the touches they were made at, in or out of the lists as the target
    # is (a lost or erased source's come back into them); the source's stage history goes with
    # it (the target's own history is the customer's).
    session.execute(
        update(FollowUp).where(FollowUp.team_id == team_id, FollowUp.customer_id == source.id)
        .values(customer_id=target.id)
    )  # fmt: skip
    followups.sync_customer_lost(session, target)
    moved_complaints = session.execute(
        update(Complaint)
        .where(Complaint.team_id == team_id, Complaint.customer_id == source.id)
        .values(customer_id=target.id)
    ).rowcount
    # Its linked channels (and their waiting messages) are the target's from now on; so are its
    # satisfaction scores and surveys (the customer's answers, with the complaints they were about).
    for table in (ChannelLink, SatisfactionScore, Survey):
        session.execute(update(table).where(table.team_id == team_id, table.customer_id == source.id)
                        .values(customer_id=target.id))  # fmt: skip
    # Its audit records too: its history is the kept customer's now, which `/crm audit`, an export
    # and an erase find by its id. Left on the deleted one's id, they would be a new customer's
    # on SQLite, which gives a new row the highest id there is plus one.
    session.execute(update(AuditEvent).where(AuditEvent.team_id == team_id, AuditEvent.entity == "customer",
                                             AuditEvent.entity_id == source.id).values(entity_id=target.id))  # fmt: skip
    merged = {"merged_from": [source.number, target.number], "touches": [0, moved_touches],
              "complaints": [0, moved_complaints], **filled}  # fmt: skip
    audit.record(session=session, team_id=team_id, actor_id=viewer.user_id, action="merge", entity="customer",
                 entity_id=target.id, surface=surface, changes=merged)  # fmt: skip
    session.delete(source)
    session.flush()
    return target


def merge_pair(*, session: Session, viewer: Viewer, text: str) -> tuple[Customer, Customer]:
    """The two customers `/crm merge <customer> <customer>` names (admins only): the one way
    to split the text (names may hold spaces) where each side names exactly one customer."""
    access.require_admin(viewer)
    words = text.split()
    found = []
    for i in range(1, len(words)):
        first = resolve_customer(session=session, viewer=viewer, ref=" ".join(words[:i])).customer
        second = resolve_customer(session=session, viewer=viewer, ref=" ".join(words[i:])).customer
        if first is not None and second is not None:
            found.append((first, second))
    if len(found) != 1:
        raise UserError("merge.usage")
    source, target = found[0]
    if source.id == target.id:
        raise UserError("merge.same")
    return source, target
