"""Linked channels: a channel that is a customer's, and what touchbase notices there.

- `link`, `unlink`, `linked_channels` (`/crm link <customer> #channel [@contact …]`,
  `/crm unlink #channel`, `/crm channels`). The customer's owner, a lead or an admin may link
  and unlink. A public channel is joined; a private one needs the bot invited.
- `posted`: a message in a linked channel. One from the customer (a Slack Connect guest,
  whose `user_team` is not this workspace, or one of the link's contacts) is logged as an
  inbound touch (kind chat, its first 500 characters, its permalink), at most one per thread
  and hour, and starts a response clock. One from someone of the team answers what waits in
  its thread; in the channel itself, everything before it. Bots, edits, joins and other
  system messages are ignored. A deleted message's touch keeps its row and loses its text
  (the erase marker).
- The response clock runs in the team's business hours: the target of the customer's grade
  (`TeamSettings.response_targets`, default A 1h, B 4h, C 8h). The scheduler reminds the
  owner of the oldest waiting message of each channel (`reminders_due`); "I replied
  elsewhere" (`replied_elsewhere`) stops it.
- The complaint emoji's draft (`complaint_draft`) and the Workflow Builder steps
  (`step_touch`, `step_complaint`, `find_one`).

What arrives as an event (a message, a workflow step) acts for the whole team
(`Viewer.whole_team`); what a person asks for goes through their own viewer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from bot.i18n import CATALOGS, t
from bot.notify import Directory
from bot.services import access, audit, complaints, touches
from bot.services.access import Viewer
from bot.services.complaints import ComplaintCard, ComplaintInput
from bot.services.errors import UserError
from bot.services.find import resolve_customer
from bot.services.sla import parse_target, team_calendar
from bot.services.workspaces import (
    DEFAULT_GRADE,
    DEFAULT_RESPONSE_TARGETS,
    TeamSettings,
    team_settings,
)
from bot.storage.db import inserted_unless_there
from bot.storage.models import AuditEvent, ChannelLink, ChannelMessage, Customer, Touch

SUMMARY_CHARS = 500  # what of a customer's message becomes the touch's summary
TOUCH_EVERY = dt.timedelta(hours=1)  # at most one touch per thread in this time
CHANNELS_SHOWN = 50  # `/crm channels`: one table row each
WAITING, ANSWERED, ELSEWHERE, DELETED = "waiting", "answered", "elsewhere", "deleted"
# Messages a person wrote; every other subtype (edits, joins, topics, bots…) is not one.
PERSON_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})
USER_ID = re.compile(r"^[UW][A-Z0-9]{1,31}$")
SLACKBOT = "USLACKBOT"  # Slack's own bot writes as a user

Presence = Literal["joined", "member", "invite"]


# --- linking -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Linked:
    customer: Customer
    channel_id: str
    presence: Presence  # joined now, already in it, or needs to be invited
    again: bool = False  # the channel was already this customer's


def _may_link(viewer: Viewer, customer: Customer) -> None:
    if not (viewer.admin or viewer.lead or customer.owner_id == viewer.user_id):
        raise UserError("error.link.not_allowed")


def _link_of(session: Session, team_id: str, channel_id: str, *, held: bool = False) -> ChannelLink | None:
    """The channel's link. `held`: kept from being unlinked until this transaction ends (on
    PostgreSQL, `FOR KEY SHARE`; an unlink under way is waited for, and then there is none), so
    that a message stored for it still has its link when it is written."""
    query = select(ChannelLink).where(ChannelLink.team_id == team_id, ChannelLink.channel_id == channel_id)
    return session.scalar(query.with_for_update(read=True, key_share=True) if held else query)


def link(
    *, session: Session, viewer: Viewer, customer_id: int, channel_id: str, contacts: Sequence[str],
    directory: Directory, surface: str,
) -> Linked:  # fmt: skip
    """Make `channel_id` the customer's; `contacts` are Slack users of this workspace who speak
    for the customer there (given again, they replace the old list). The bot joins a public
    channel itself; a private one it cannot see needs an invitation."""
    customer = access.customer(session, viewer, customer_id, to_record=True)
    _may_link(viewer, customer)
    existing = _link_of(session, viewer.team_id, channel_id)
    if existing is not None and existing.customer_id != customer.id:
        try:
            other = access.customer(session, viewer, existing.customer_id)
        except UserError:
            raise UserError("error.link.taken_hidden", channel=channel_id) from None
        raise UserError("error.link.taken", channel=channel_id, customer=f"{other.name} (#{other.number})")
    if existing is None:
        existing = ChannelLink(team_id=viewer.team_id, channel_id=channel_id, customer_id=customer.id,
                               contacts=list(dict.fromkeys(contacts)), linked_by=viewer.user_id)  # fmt: skip
        session.add(existing)
        session.flush()
        audit.record(session=session, team_id=viewer.team_id, actor_id=viewer.user_id, action="link", entity="customer",
                     entity_id=customer.id, surface=surface, changes={"channel": [None, channel_id]})  # fmt: skip
        again = False
    else:
        again = True
        if contacts:
            existing.contacts = list(dict.fromkeys(contacts))
    return Linked(customer, channel_id, _presence(directory, channel_id), again)


def _presence(directory: Directory, channel_id: str) -> Presence:
    info = directory.channel(channel_id)
    if info is None or info.is_archived:
        return "invite"
    if info.is_member:
        return "member"
    if info.is_private:
        return "invite"
    return "joined" if directory.join(channel_id) else "invite"


def unlink(*, session: Session, viewer: Viewer, channel_id: str, surface: str) -> Customer:
    """The channel is no longer the customer's: its clocks stop, its touches stay."""
    found = _link_of(session, viewer.team_id, channel_id)
    if found is None:
        raise UserError("error.link.none", channel=channel_id)
    customer = access.customer(session, viewer, found.customer_id)
    _may_link(viewer, customer)
    session.delete(found)
    audit.record(session=session, team_id=viewer.team_id, actor_id=viewer.user_id, action="unlink", entity="customer",
                 entity_id=customer.id, surface=surface, changes={"channel": [channel_id, None]})  # fmt: skip
    session.flush()
    return customer


@dataclass(frozen=True)
class ChannelRow:
    channel_id: str
    customer: Customer
    oldest: ChannelMessage | None  # the oldest message still waiting for a reply


def linked_channels(*, session: Session, viewer: Viewer, limit: int = CHANNELS_SHOWN) -> tuple[list[ChannelRow], int]:
    """The linked channels of the customers the viewer sees (by customer name), each with its
    oldest unanswered message; the first `limit` and how many there are."""
    query = (
        select(ChannelLink, Customer)
        .join(Customer, Customer.id == ChannelLink.customer_id)
        .where(ChannelLink.team_id == viewer.team_id, viewer.customers())
        .order_by(Customer.name_key, ChannelLink.channel_id)
    )
    rows = session.execute(query.limit(limit + 1)).all()
    total = len(rows)
    if total > limit:
        total = session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0
    rows = rows[:limit]
    oldest = _oldest_waiting(session, viewer.team_id, [link.channel_id for link, _ in rows])
    return [ChannelRow(link.channel_id, customer, oldest.get(link.channel_id)) for link, customer in rows], total


def customer_channels(*, session: Session, viewer: Viewer, customer_id: int) -> list[str]:
    """The channels linked to a customer the viewer sees (for its profile card)."""
    access.customer(session, viewer, customer_id)
    return list(session.scalars(
        select(ChannelLink.channel_id)
        .where(ChannelLink.team_id == viewer.team_id, ChannelLink.customer_id == customer_id)
        .order_by(ChannelLink.channel_id)
    ))  # fmt: skip


def waiting_for(*, session: Session, viewer: Viewer, limit: int = 10) -> list[ChannelRow]:
    """The viewer's own customers' channels with a message waiting for a reply, oldest first
    (the App Home)."""
    query = (
        select(ChannelLink, Customer)
        .join(Customer, Customer.id == ChannelLink.customer_id)
        .where(ChannelLink.team_id == viewer.team_id, Customer.owner_id == viewer.user_id)
        .where(select(ChannelMessage.id).where(ChannelMessage.link_id == ChannelLink.id,
                                               ChannelMessage.state == WAITING).exists())  # fmt: skip
    )
    rows = session.execute(query).all()
    oldest = _oldest_waiting(session, viewer.team_id, [link.channel_id for link, _ in rows])
    found = [ChannelRow(link.channel_id, customer, oldest[link.channel_id])
             for link, customer in rows if link.channel_id in oldest]  # fmt: skip
    found.sort(key=lambda r: r.oldest.sent_at if r.oldest else dt.datetime.max.replace(tzinfo=dt.UTC))
    return found[:limit]


def _oldest_waiting(session: Session, team_id: str, channel_ids: Sequence[str]) -> dict[str, ChannelMessage]:
    if not channel_ids:
        return {}
    oldest: dict[str, ChannelMessage] = {}
    for row in session.scalars(
        select(ChannelMessage)
        .where(ChannelMessage.team_id == team_id, ChannelMessage.channel_id.in_(channel_ids),
               ChannelMessage.state == WAITING)
        .order_by(ChannelMessage.sent_at, ChannelMessage.id)
    ):  # fmt: skip
        oldest.setdefault(row.channel_id, row)
    return oldest


# --- what is written in a linked channel -----------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    """A `message` event, as far as it matters here."""

    channel_id: str
    ts: str
    user_id: str | None = None
    user_team: str | None = None  # the speaker's own workspace (Slack Connect)
    text: str = ""
    thread_ts: str | None = None
    subtype: str | None = None
    bot_id: str | None = None
    deleted_ts: str | None = None  # subtype message_deleted: which message
    logger_id: str | None = None  # the bot user, the author of the touches it logs

    @property
    def sent_at(self) -> dt.datetime:
        return instant(self.ts)


def instant(ts: str) -> dt.datetime:
    """A Slack message id (`1764064800.000100`, seconds since the epoch) as an instant."""
    return dt.datetime.fromtimestamp(float(ts), dt.UTC)


Outcome = Literal["ignored", "touch", "waiting", "answered", "deleted"]


@dataclass(frozen=True)
class Noticed:
    """What a message did: `owner` is who should see it on their App Home."""

    outcome: Outcome
    owner: str | None = None


def posted(
    *, session: Session, viewer: Viewer, message: Posted, directory: Directory, now: dt.datetime,
    default_tz: str = "UTC",
) -> Noticed:  # fmt: skip
    """A message in a channel the bot is in: nothing unless the channel is linked."""
    if message.subtype == "message_deleted":
        return _deleted(session, viewer, message, now)
    if message.subtype not in PERSON_SUBTYPES or message.bot_id or message.user_id in (None, SLACKBOT):
        return Noticed("ignored")
    found = _link_of(session, viewer.team_id, message.channel_id, held=True)
    if found is None:
        return Noticed("ignored")
    while True:  # again only after a merge moved the link on: each deletes a customer, so not for ever
        customers = speaks_for_customer(session, team_id=viewer.team_id, customer_id=found.customer_id,
                                        user_id=message.user_id, user_team=message.user_team)  # fmt: skip
        # Locked at once where the message may log a touch, which locks it (access.customer: not read twice).
        try:
            customer = access.customer(session, viewer, found.customer_id, for_update=customers)
            break
        except UserError:
            # Merged into another while this waited for its lock: the link, held, moved with it.
            gone = found.customer_id
            session.refresh(found)
            if found.customer_id == gone:
                raise
    if customers:
        return _from_the_customer(session, viewer, found, customer, message, directory, now, default_tz)
    answered = _answer(session, viewer.team_id, message.channel_id, thread=message.thread_ts, until=message.sent_at,
                       state=ANSWERED, by=message.user_id, now=now)  # fmt: skip
    return Noticed("answered", customer.owner_id) if answered else Noticed("ignored")


def speaks_for_customer(
    session: Session, *, team_id: str, customer_id: int, user_id: str | None, user_team: str | None
) -> bool:
    """Whether someone in a customer's channel is the customer's, not the team's: a Slack
    Connect guest (`user_team`, their own workspace, is not this one), or a contact listed on
    one of the customer's links. (Their messages are the customer's; so is their survey answer.)"""
    if user_team and user_team != team_id:
        return True
    contacts = session.scalars(select(ChannelLink.contacts).where(ChannelLink.team_id == team_id,
                                                                 ChannelLink.customer_id == customer_id))  # fmt: skip
    return any(user_id in (listed or []) for listed in contacts)


def _from_the_customer(
    session: Session, viewer: Viewer, found: ChannelLink, customer: Customer, message: Posted, directory: Directory,
    now: dt.datetime, default_tz: str,
) -> Noticed:  # fmt: skip
    team_id = viewer.team_id
    settings = team_settings(session, team_id)
    sent_at = message.sent_at
    permalink = directory.message_link(message.channel_id, message.ts, message.thread_ts)
    # The touch first, so that the message is stored with it (one statement, not an insert and
    # an update). Slack delivering the message again finds it stored, touched: no touch twice.
    text = message.text.strip()
    touch = None
    if text and not _touched_lately(session, team_id, message):
        data = touches.TouchInput(customer=customer.id, kind="chat", summary=text[:SUMMARY_CHARS], happened_at=sent_at)
        touch = touches.log_touch(session=session, viewer=viewer, data=data, tz=settings.tz or default_tz,
                                  surface="channel", now=now, speaker_id=message.user_id, permalink=permalink,
                                  author_id=message.logger_id or message.user_id)  # fmt: skip
    row = ChannelMessage(
        team_id=team_id, link_id=found.id, channel_id=message.channel_id, ts=message.ts, thread_ts=message.thread_ts,
        thread_key=message.thread_ts or "", speaker_id=message.user_id, sent_at=sent_at,
        due_at=response_due(settings, customer.grade, sent_at, default_tz), state=WAITING, permalink=permalink,
        touch_id=touch.id if touch is not None else None,
    )  # fmt: skip
    if inserted_unless_there(session, row, unique=("team_id", "channel_id", "ts")) is None:
        # Stored already (the customer's row, locked first, kept the two deliveries apart).
        if touch is not None:  # only if what it found has changed since (its thread's touch deleted)
            raise StoredAlready(message.channel_id, message.ts)
        return Noticed("ignored")
    return Noticed("touch" if touch is not None else "waiting", customer.owner_id)


class StoredAlready(Exception):
    """A message stored already, whose second delivery wrote something before it found out: the
    caller rolls its unit of work back."""


def _touched_lately(session: Session, team_id: str, message: Posted) -> bool:
    """Whether the message's thread (or, for a message in the channel itself, the channel's
    own conversation) already made a touch within the last hour before it."""
    m = ChannelMessage
    thread = message.thread_ts
    same = or_(m.thread_key == thread, m.ts == thread) if thread else m.thread_key == ""
    return session.scalar(
        select(m.id).where(m.team_id == team_id, m.channel_id == message.channel_id, same, m.touch_id.is_not(None),
                           m.sent_at > message.sent_at - TOUCH_EVERY, m.sent_at <= message.sent_at).limit(1)
    ) is not None  # fmt: skip


def response_due(settings: TeamSettings, grade: str | None, sent_at: dt.datetime, default_tz: str = "UTC") -> dt.datetime:
    """When a customer's message of `sent_at` should have had a reply: the target of the
    customer's grade (B's for none) in the team's business hours."""
    calendar = team_calendar(settings, default_tz)
    targets = {**DEFAULT_RESPONSE_TARGETS, **settings.response_targets}
    target = parse_target(targets.get(grade or DEFAULT_GRADE) or targets["B"], calendar.standard_day)
    return calendar.add(sent_at, target)


def _answer(
    session: Session, team_id: str, channel_id: str, *, thread: str | None, until: dt.datetime, state: str,
    by: str | None, now: dt.datetime,
) -> int:  # fmt: skip
    """Stop the clocks of what waits in the channel up to `until`: in `thread` (its first
    message included), or everywhere for a reply in the channel itself. Returns how many."""
    m = ChannelMessage
    where = [m.team_id == team_id, m.channel_id == channel_id, m.state == WAITING, m.sent_at <= until]
    if thread:
        where.append(or_(m.thread_key == thread, m.ts == thread))
    result = session.execute(update(m).where(*where).values(state=state, answered_at=now, answered_by=by)
                             .execution_options(synchronize_session=False))  # fmt: skip
    return int(result.rowcount or 0)


def _deleted(session: Session, viewer: Viewer, message: Posted, now: dt.datetime) -> Noticed:
    """A deleted message stops its clock; its touch keeps its row, without the text."""
    if not message.deleted_ts:
        return Noticed("ignored")
    row = session.scalar(select(ChannelMessage).where(ChannelMessage.team_id == viewer.team_id,
                                                      ChannelMessage.channel_id == message.channel_id,
                                                      ChannelMessage.ts == message.deleted_ts))  # fmt: skip
    if row is None:
        return Noticed("ignored")
    if row.state == WAITING:
        row.state, row.answered_at = DELETED, now
    row.permalink = None
    if row.touch_id is not None:
        touch = session.get(Touch, row.touch_id)
        if touch is not None and touch.team_id == viewer.team_id:
            language = team_settings(session, viewer.team_id).language
            touch.summary, touch.permalink = t(language, "erase.marker"), None
            # The text was also in the touch's audit record: keep which fields, drop what they held.
            for record in session.scalars(select(AuditEvent).where(
                AuditEvent.team_id == viewer.team_id, AuditEvent.entity == "touch", AuditEvent.entity_id == touch.id
            )):  # fmt: skip
                record.changes = {field: [None, None] for field in record.changes}
            audit.record(session=session, team_id=viewer.team_id, actor_id=None, action="redact", entity="touch",
                         entity_id=touch.id, surface="channel", changes={"summary": [None, None]})  # fmt: skip
    session.flush()
    return Noticed("deleted")


# --- the response clock --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    message: ChannelMessage
    customer: Customer
    remind: str  # who is reminded: the owner, else who linked the channel


def overdue(now: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    """A customer's message still waiting for a reply past its target at `now`."""
    return ChannelMessage.state == WAITING, ChannelMessage.due_at <= now


def reminders_due(*, session: Session, team_id: str, now: dt.datetime) -> list[Due]:
    """For each linked channel, its oldest message waiting past its target at `now` (the
    scheduler's)."""
    m = ChannelMessage
    rows = session.execute(
        select(m, ChannelLink, Customer)
        .join(ChannelLink, ChannelLink.id == m.link_id)
        .join(Customer, Customer.id == ChannelLink.customer_id)
        .where(m.team_id == team_id, *overdue(now))
        .order_by(m.sent_at, m.id)
    ).all()
    due: dict[str, Due] = {}
    for row, found, customer in rows:
        remind = customer.owner_id or found.linked_by
        if remind and row.channel_id not in due:
            due[row.channel_id] = Due(row, customer, remind)
    return list(due.values())


def still_waiting(session: Session, message_id: int) -> tuple[ChannelMessage, Customer] | None:
    """The message and its customer while it still waits (a reminder is rendered when sent)."""
    found = session.execute(
        select(ChannelMessage, Customer)
        .join(ChannelLink, ChannelLink.id == ChannelMessage.link_id)
        .join(Customer, Customer.id == ChannelLink.customer_id)
        .where(ChannelMessage.id == message_id, ChannelMessage.state == WAITING)
    ).first()
    return (found[0], found[1]) if found else None


def replied_elsewhere(*, session: Session, viewer: Viewer, message_id: int, now: dt.datetime) -> Customer:
    """"I replied elsewhere": the message, and what waited before it in its channel, is answered."""
    row = session.scalar(select(ChannelMessage).where(ChannelMessage.team_id == viewer.team_id,
                                                      ChannelMessage.id == message_id))  # fmt: skip
    if row is None:
        raise UserError("error.channel_message.gone")
    found = session.get_one(ChannelLink, row.link_id)
    customer = access.customer(session, viewer, found.customer_id)
    _answer(session, viewer.team_id, row.channel_id, thread=None, until=max(now, row.sent_at), state=ELSEWHERE,
            by=viewer.user_id, now=now)  # fmt: skip
    return customer


# --- the complaint emoji --------------------------------------------------------------------------------


def channel_customer(*, session: Session, viewer: Viewer, channel_id: str) -> Customer | None:
    """The customer whose channel this is, if it is one and the viewer sees it (what "Log
    complaint" offered for a reaction starts from)."""
    found = _link_of(session, viewer.team_id, channel_id)
    if found is None:
        return None
    try:
        return access.customer(session, viewer, found.customer_id)
    except UserError:
        return None


# --- Workflow Builder steps ---------------------------------------------------------------------------


def find_one(*, session: Session, viewer: Viewer, text: str) -> Customer:
    """The one customer `text` names (`#N`, a name or a unique prefix); else why not."""
    text = " ".join(str(text or "").split())[:200]
    if not text:
        raise UserError("step.error.customer")
    match = resolve_customer(session=session, viewer=viewer, ref=text)
    if match.customer is not None:
        return match.customer
    if match.candidates:
        names = ", ".join(f"{c.name} (#{c.number})" for c in match.candidates[:5])
        raise UserError("step.error.ambiguous", text=text, names=names)
    raise UserError("step.error.no_customer", text=text)


def _author(author: object) -> str:
    if not isinstance(author, str) or not USER_ID.match(author):
        raise UserError("step.error.author")
    return author


def _choice(value: object, choices: Sequence[str], field: str, default: str | None = None) -> str:
    """A choice by its code or by its label in any language (`Call`, `电话`)."""
    word = " ".join(str(value or "").split()).casefold()
    if not word and default is not None:
        return default
    for code in choices:
        labels = {code, *(catalog.get(f"{field}.{code}", "").casefold() for catalog in CATALOGS.values())}
        if word in labels:
            return code
    raise UserError(f"step.error.{field}", choices=", ".join(choices))


def _when(value: object, now: dt.datetime) -> dt.datetime | None:
    """A workflow's timestamp: seconds since the epoch (a number, or its text)."""
    if value is None or value == "":
        return None
    try:
        when = dt.datetime.fromtimestamp(float(str(value)), dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise UserError("step.error.when") from None
    if when > now + touches.FUTURE_SLACK:
        raise UserError("error.when.future")
    return when


def step_touch(
    *, session: Session, viewer: Viewer, inputs: dict[str, object], now: dt.datetime, tz: str | None
) -> Touch:
    """"Log touch" in a workflow: customer, kind, summary, when, author → the touch."""
    author = _author(inputs.get("author"))
    customer = find_one(session=session, viewer=viewer, text=str(inputs.get("customer") or ""))
    kind = _choice(inputs.get("kind"), touches.KINDS, "kind")
    summary = str(inputs.get("summary") or "").strip()
    if not summary:
        raise UserError("error.summary.empty")
    if len(summary) > 3000:
        raise UserError("error.too_long", limit=3000)
    data = touches.TouchInput(customer=customer.id, kind=kind, summary=summary, happened_at=_when(inputs.get("when"), now))
    return touches.log_touch(session=session, viewer=viewer, data=data, tz=tz, surface="workflow", now=now,
                             author_id=author)  # fmt: skip


def step_complaint(
    *, session: Session, viewer: Viewer, inputs: dict[str, object], now: dt.datetime, default_tz: str = "UTC"
) -> ComplaintCard:
    """"Log complaint" in a workflow: customer, title, description, severity, author → the complaint."""
    author = _author(inputs.get("author"))
    customer = find_one(session=session, viewer=viewer, text=str(inputs.get("customer") or ""))
    severity = _choice(inputs.get("severity"), complaints.SEVERITIES, "severity", default="normal")
    data = ComplaintInput.parse({"customer": str(customer.id), "title": inputs.get("title"),
                                 "description": inputs.get("description"), "severity": severity})  # fmt: skip
    return complaints.create_complaint(session=session, viewer=viewer, data=data, permalink=None, surface="workflow",
                                       now=now, default_tz=default_tz, author_id=author)  # fmt: skip
