"""The relational schema of the whole product.

Every table carries `team_id`, the Slack workspace it belongs to; every query filters on it.
Times are stored as UTC instants (`UTCDateTime`, with the other column types in
bot.storage.schema), dates as plain dates. The columns that say when a row was made or changed
(`created_at`, `updated_at`, `at`, …) are stamped with the instant of the unit of work that
writes them (`bot.storage.db`), never the wall clock.
Schema changes go through Alembic (`migrations/`); a test fails when this file and the
migrations differ.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    Computed,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    inspect,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.storage.crypto import EncryptedJSON, EncryptedText, lookup_hash
from bot.storage.pinyin import search_key
from bot.storage.schema import PerDialect, UTCDateTime, only_on
from bot.storage.search import han, search_doc, search_lines

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The largest value of an Integer column on every database (PostgreSQL's int4): ids and `#N`
# numbers read from a request are refused above it, before a query could fail on it.
INTEGER_MAX = 2**31 - 1


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Workspace(Base):
    """A Slack workspace (team). `settings` holds the team's choices (see services.settings)."""

    __tablename__ = "workspace"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Counters for the `#N` numbers; numbers are never reused, even after a delete.
    last_customer_number: Mapped[int] = mapped_column(Integer, default=0)
    last_complaint_number: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # When the scheduler last moved customers between active and at risk (services.lifecycle):
    # claimed by one sweep an hour, so the health of the whole book is not scored every minute.
    stages_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When touchbase was uninstalled here (or its bot token revoked); the data is purged
    # UNINSTALLED_RETENTION_DAYS later unless it is installed again (services.installs).
    uninstalled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Installation(Base):
    """touchbase installed in a workspace through Slack's OAuth flow (many-workspace mode):
    the bot's token for that workspace, and its refresh token when Slack rotates tokens.
    Deleted the moment the app is uninstalled there or its tokens are revoked."""

    __tablename__ = "installation"
    # Secrets, not the team's data: `export` leaves the table out.
    __table_args__ = (UniqueConstraint("team_id"), {"info": {"secret": True}})

    id: Mapped[int] = mapped_column(primary_key=True)  # rotate-keys walks tables by id
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    app_id: Mapped[str | None] = mapped_column(String(32))
    bot_id: Mapped[str | None] = mapped_column(String(32))
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    # Secrets: encrypted at rest when ENCRYPTION_KEYS is set, like personal fields.
    bot_token: Mapped[str] = mapped_column(EncryptedText)
    bot_refresh_token: Mapped[str | None] = mapped_column(EncryptedText)
    bot_token_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    bot_scopes: Mapped[str | None] = mapped_column(Text)  # comma-separated, as Slack gives them
    installer_id: Mapped[str | None] = mapped_column(String(32))  # who installed it (a Slack user id)
    installed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class OAuthState(Base):
    """A one-time `state` of the OAuth flow, stored as its hash until used or expired. Not a
    workspace's row: it is issued before Slack says which workspace installs."""

    __tablename__ = "oauth_state"
    __table_args__ = {"info": {"unscoped": "issued before any workspace is known"}}

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WorkspacePurge(Base):
    """An uninstalled workspace's data was deleted: when, and how many rows of each table. The
    one record about a workspace that outlives its data (no foreign key: its rows are gone);
    it holds ids, instants and counts, nothing personal."""

    __tablename__ = "workspace_purge"
    __table_args__ = (Index("ix_workspace_purge_team_id", "team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    uninstalled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    purged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    rows: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # table -> rows deleted


class Member(Base):
    """A Slack user of a workspace, as touchbase knows them (time zone, locale, role)."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(EncryptedText)  # a person's name, never searched
    tz: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(16))
    # None: no role granted; Slack admins and owners count as admins (see services.members).
    role: Mapped[str | None] = mapped_column(String(16))
    is_slack_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    digest_time: Mapped[str | None] = mapped_column(String(5))  # "HH:MM"; None: team default
    profile_fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# A customer's stages (services.lifecycle); "on the books": neither a prospect nor lost.
STAGES = ("prospect", "new", "active", "at_risk", "lost")
ON_BOOKS = ("new", "active", "at_risk")


class Customer(Base):
    __tablename__ = "customer"
    __table_args__ = (
        UniqueConstraint("team_id", "number"),
        UniqueConstraint("team_id", "name_key"),
        Index("ix_customer_team_owner", "team_id", "owner_id"),
        Index("ix_customer_team_next_revisit", "team_id", "next_revisit"),
        # An owner's due list and digest, and the reports' overdue counts: from the index alone.
        Index("ix_customer_owner_due", "team_id", "owner_id", "next_revisit", "revisits_enabled", "created_at"),
        # An owner's revisits in the due lists' order (day, then name): a page is its first entries.
        Index("ix_customer_owner_revisits", "team_id", "owner_id", "next_revisit", "name_key",
              postgresql_where=text("revisits_enabled IS true"), sqlite_where=text("revisits_enabled IS 1")),
        # The reports' customers by owner, grade and segment, and their value: from the index alone.
        Index("ix_customer_owner_kinds", "team_id", "owner_id", "grade", "segment", "created_at", "stage", "value"),
        Index("ix_customer_team_email_hash", "team_id", "email_hash"),
        Index("ix_customer_team_phone_hash", "team_id", "phone_hash"),
        # The scheduler's stage check reads the customers at risk; reports sum value by stage.
        Index("ix_customer_team_stage", "team_id", "stage"),
        # Covers search on SQLite: walked in name order without reading the table.
        only_on("sqlite", Index("ix_customer_search", "team_id", "name_key", "search_doc", "search_key")),
        # Serve `LIKE '%text%'` of three characters or more on PostgreSQL (pg_trgm).
        only_on("postgresql", Index("ix_customer_search_trgm", "search_doc", postgresql_using="gin",
                                    postgresql_ops={"search_doc": "gin_trgm_ops"})),
        only_on("postgresql", Index("ix_customer_search_key_trgm", "search_key", postgresql_using="gin",
                                    postgresql_ops={"search_key": "gin_trgm_ops"})),  # fmt: skip
        # Search walks names in order from the index alone on PostgreSQL too (search_doc is capped).
        only_on("postgresql", Index("ix_customer_name_search", "team_id", "name_key",
                                    postgresql_include=["id", "search_doc"])),  # fmt: skip
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    # lower-cased, trimmed, inner spaces collapsed: "the exact same name" in CONTRACT terms.
    name_key: Mapped[str] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    # Personal fields: encrypted at rest when ENCRYPTION_KEYS is set (storage.crypto). Name,
    # company, contact person and tags stay plain: search reads them.
    title: Mapped[str | None] = mapped_column(EncryptedText)  # at most 200 characters (an input rule)
    email: Mapped[str | None] = mapped_column(EncryptedText)
    phone: Mapped[str | None] = mapped_column(EncryptedText)
    address: Mapped[str | None] = mapped_column(EncryptedText)
    # Keyed hashes of the normalised email and phone, for lookups that work encrypted too.
    email_hash: Mapped[str | None] = mapped_column(String(64))
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    # Pinyin of name, company and contact person (storage.pinyin), kept by `_search_key`.
    search_key: Mapped[str | None] = mapped_column(Text)
    # The folded text `find` searches (storage.search), kept by `_search_key`.
    search_doc: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[str | None] = mapped_column(String(32))
    grade: Mapped[str | None] = mapped_column(String(1))  # A / B / C
    segment: Mapped[str | None] = mapped_column(String(16))  # potential / new / regular / key
    needs: Mapped[str | None] = mapped_column(EncryptedText)
    preferences: Mapped[str | None] = mapped_column(EncryptedText)
    tags: Mapped[str | None] = mapped_column(Text)  # comma-separated, as typed
    next_revisit: Mapped[dt.date | None] = mapped_column(Date)
    revisits_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # When `/crm erase` anonymised it: a row kept for the counts, out of every list of things to do.
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Yearly value (contract value or revenue) in whole units of the team's currency.
    value: Mapped[int | None] = mapped_column(BigInteger)
    # prospect / new / active / at_risk / lost (services.lifecycle), and since when.
    stage: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
    stage_since: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_touch_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    touches: Mapped[list[Touch]] = relationship(back_populates="customer", passive_deletes=True)


def _changed(customer: Customer, *fields: str) -> bool:
    """Whether any of these fields is new or changed in this flush (a touch only moves dates:
    its customer's hashes and search text stay as they are; `rotate-keys` redoes them all)."""
    state = inspect(customer)
    return not state.has_identity or any(state.attrs[f].history.has_changes() for f in fields)


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
def _lookup_hashes(_mapper: Any, _connection: Any, customer: Customer) -> None:
    if not _changed(customer, "email", "phone", "email_hash", "phone_hash"):
        return
    customer.email_hash = lookup_hash("email", customer.email)
    customer.phone_hash = lookup_hash("phone", customer.phone)


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
def _search_key(_mapper: Any, _connection: Any, customer: Customer) -> None:
    c = customer
    if not _changed(c, "name", "company", "contact_name", "email", "phone", "tags", "search_key", "search_doc"):
        return
    c.search_key = search_key(c.name, c.company, c.contact_name)
    c.search_doc = search_doc(name=c.name, company=c.company, contact_name=c.contact_name, email=c.email,
                              phone=c.phone, tags=c.tags)  # fmt: skip


class SearchGram(Base):
    """One Han character of a customer's search text (storage.search): how a Chinese query of
    one or two characters finds its customers without reading every name."""

    __tablename__ = "search_gram"
    __table_args__ = (Index("ix_search_gram_customer_id", "customer_id"),)  # for the cascade on delete

    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"), primary_key=True)
    gram: Mapped[str] = mapped_column(String(4), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True)


class SearchLine(Base):
    """A line of a customer's search text, or a pinyin token (storage.search): how a search
    finds the exact and prefix matches, in name order, without a scan."""

    __tablename__ = "search_line"
    __table_args__ = (
        Index("ix_search_line_customer_id", "customer_id"),  # for the cascade on delete
        # A common prefix's first matches in name order, walking the lines of its first
        # character instead of sorting (migration 0018; services.find writes the expression as
        # it is here).
        Index("ix_search_line_initial", "team_id", text("substr(line, 1, 1)"), "name_key", "customer_id", "line"),
        # The same by the first two characters, for a prefix of two or more (migration 0021).
        Index("ix_search_line_initials", "team_id", text("substr(line, 1, 2)"), "name_key", "customer_id", "line"),
    )

    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"), primary_key=True)
    # Compared byte by byte on PostgreSQL too, so that a prefix is a range of the key.
    line: Mapped[str] = mapped_column(Text().with_variant(Text(collation="C"), "postgresql"), primary_key=True)
    name_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True)


def write_search_rows(connection: Any, *, customer_id: int, team_id: str, name_key: str, search_doc: str | None,
                      search_key: str | None) -> None:  # fmt: skip
    """Replace a customer's `search_gram` and `search_line` rows with those of its search text."""
    for table in (SearchGram.__table__, SearchLine.__table__):
        connection.execute(table.delete().where(table.c.customer_id == customer_id))
    grams = [dict(team_id=team_id, gram=g, customer_id=customer_id) for g in han(search_doc or "")]
    if grams:
        connection.execute(SearchGram.__table__.insert(), grams)
    lines = [dict(team_id=team_id, line=line, name_key=name_key, customer_id=customer_id)
             for line in search_lines(search_doc, search_key)]  # fmt: skip
    if lines:
        connection.execute(SearchLine.__table__.insert(), lines)


@event.listens_for(Customer, "after_insert")
@event.listens_for(Customer, "after_update")
def _search_rows(_mapper: Any, connection: Any, customer: Customer) -> None:
    if inspect(customer).attrs.search_doc.history.has_changes():
        c = customer
        write_search_rows(connection, customer_id=c.id, team_id=c.team_id, name_key=c.name_key,
                          search_doc=c.search_doc, search_key=c.search_key)  # fmt: skip


class Touch(Base):
    """One contact with a customer: a call, email, meeting, visit, chat or note."""

    __tablename__ = "touch"
    __table_args__ = (
        Index("ix_touch_team_customer_at", "team_id", "customer_id", "happened_at"),
        Index("ix_touch_team_author_at", "team_id", "author_id", "happened_at"),
        # Deleting a customer finds its touches by customer_id alone (the cascade).
        Index("ix_touch_customer_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(String(32))
    speaker_id: Mapped[str | None] = mapped_column(String(32))  # who said the quoted message
    kind: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(EncryptedText)
    outcome: Mapped[str | None] = mapped_column(EncryptedText)
    next_step: Mapped[str | None] = mapped_column(EncryptedText)
    happened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    permalink: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship(back_populates="touches")
    follow_ups: Mapped[list[FollowUp]] = relationship(back_populates="touch", passive_deletes=True)


class ChannelLink(Base):
    """A channel that is a customer's (`/crm link`): messages there from people outside the
    team are logged as its touches, and unanswered ones start a response clock."""

    __tablename__ = "channel_link"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id"),  # a channel is one customer's
        Index("ix_channel_link_customer_id", "customer_id"),  # the profile card; the cascade
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    # Slack users of this workspace who speak for the customer here (e.g. its guests).
    contacts: Mapped[list[str]] = mapped_column(JSON, default=list)
    linked_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ChannelMessage(Base):
    """A customer's message in a linked channel: its response clock (waiting until someone of
    the team replies), and the touch it was logged as, if any (one per thread and hour).
    No text is kept here: the touch holds it."""

    __tablename__ = "channel_message"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "ts"),  # Slack may deliver an event twice
        Index("ix_channel_message_waiting", "team_id", "state", "due_at"),
        Index("ix_channel_message_thread", "team_id", "channel_id", "thread_key", "sent_at"),
        Index("ix_channel_message_link_id", "link_id"),  # for the cascade from channel_link
        Index("ix_channel_message_touch_id", "touch_id"),  # for the cascade from touch
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"))
    link_id: Mapped[int] = mapped_column(ForeignKey("channel_link.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))  # Slack's id of the message
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    thread_key: Mapped[str] = mapped_column(String(32))  # thread_ts, or "" for the channel itself
    speaker_id: Mapped[str] = mapped_column(String(32))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # when the owner is reminded
    state: Mapped[str] = mapped_column(String(12), default="waiting")  # waiting/answered/elsewhere/deleted
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[str | None] = mapped_column(String(32))
    touch_id: Mapped[int | None] = mapped_column(ForeignKey("touch.id", ondelete="SET NULL"))
    permalink: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# An active complaint's place in `/crm complaints` (services.complaints.list_complaints), as the
# database computes it (migration 0022, which holds the same text): the deadline that runs first
# — the first response's in the first cycle until answered, the resolution's unless paused — or
# the resolution's when it was missed before a pause (the complaint stays overdue); 9999-12-31
# when none runs; NULL once the complaint is no longer active (`sla.ACTIVE`). A complaint is
# overdue when it is at or before the first working instant from now, so overdue ones come
# first in this order. Then the severity's rank (`complaints.SEVERITY_RANK`) and the number.
# "Missed before a pause" is `resolution_due <= paused_at`, which agrees with the clocks for
# deadlines in working time; a deadline a calendar change left outside working hours, paused
# in that gap, is counted as not missed (as the list's order always did).
_FIRST_RUNS = "CASE WHEN cycle = 1 AND first_response_at IS NULL THEN first_response_due END"
_RESOLUTION_RUNS = "CASE WHEN paused_at IS NULL OR resolution_due <= paused_at THEN resolution_due END"
_ACTIVE = "state IN ('open', 'acknowledged', 'waiting', 'in_progress')"
LIST_DUE = {
    "sqlite": f"CASE WHEN {_ACTIVE} THEN min(coalesce({_FIRST_RUNS}, '9999-12-31 00:00:00.000000'), "
    f"coalesce({_RESOLUTION_RUNS}, '9999-12-31 00:00:00.000000')) END",
    "postgresql": f"CASE WHEN {_ACTIVE} THEN least(coalesce({_FIRST_RUNS}, TIMESTAMPTZ '9999-12-31 00:00:00+00'), "
    f"coalesce({_RESOLUTION_RUNS}, TIMESTAMPTZ '9999-12-31 00:00:00+00')) END",
}
LIST_RANK = "CASE severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 WHEN 'low' THEN 3 ELSE 9 END"


class Complaint(Base):
    """A customer's complaint, numbered `#N` per workspace, with its SLA clocks."""

    __tablename__ = "complaint"
    __table_args__ = (
        UniqueConstraint("team_id", "number"),
        Index("ix_complaint_team_state", "team_id", "state"),
        Index("ix_complaint_team_assignee_opened", "team_id", "assignee_id", "opened_at"),
        # The complaint list's order, a team's and one assignee's (migration 0022).
        Index("ix_complaint_list", "team_id", "list_due", "list_rank", "number"),
        Index("ix_complaint_assignee_list", "team_id", "assignee_id", "list_due", "list_rank", "number"),
        Index("ix_complaint_team_customer", "team_id", "customer_id"),
        Index("ix_complaint_customer_id", "customer_id"),  # for the cascade from customer
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(EncryptedText)  # at most 300 characters (an input rule)
    description: Mapped[str | None] = mapped_column(EncryptedText)
    severity: Mapped[str] = mapped_column(String(8), default="normal")
    category: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="open")
    author_id: Mapped[str] = mapped_column(String(32))
    assignee_id: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(Text)
    # The complaints-channel message whose thread follows this complaint.
    channel_id: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # SLA: deadlines as computed when the clock last changed; the cycle counts reopenings.
    first_response_due: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolution_due: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolution_clock_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cycle: Mapped[int] = mapped_column(Integer, default=1)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    resolution: Mapped[str | None] = mapped_column(EncryptedText)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Kept by the database from the columns above: the list's order (migration 0022 makes them
    # virtual on SQLite, which adds no stored column to a table; stored on PostgreSQL).
    list_due: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, Computed(PerDialect(**LIST_DUE), persisted=True))
    list_rank: Mapped[int] = mapped_column(Integer, Computed(LIST_RANK, persisted=True))

    events: Mapped[list[ComplaintEvent]] = relationship(
        back_populates="complaint", order_by="ComplaintEvent.id", passive_deletes=True
    )


class ComplaintEvent(Base):
    """The complaint's timeline: every state change and note, with who and when."""

    __tablename__ = "complaint_event"
    __table_args__ = (
        Index("ix_complaint_event_team_complaint", "team_id", "complaint_id"),
        Index("ix_complaint_event_complaint_id", "complaint_id"),  # for the cascade from complaint
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"))
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    actor_id: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(24))  # created, state, assigned, note, escalated
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(EncryptedText)  # a resolution's text, an escalation step
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    complaint: Mapped[Complaint] = relationship(back_populates="events")


# An outbox row's states (bot.scheduler.outbox): pending -> sending -> sent, failed (for good),
# expired (no longer worth sending) or cancelled (never to be sent: not installed, or naming an
# erased customer).
PENDING, SENDING, SENT, FAILED, EXPIRED, CANCELLED = "pending", "sending", "sent", "failed", "expired", "cancelled"
OUTBOX_STATES = (PENDING, SENDING, SENT, FAILED, EXPIRED, CANCELLED)


class Notification(Base):
    """The scheduler's outbox: one row per message to send, unique by its key.

    The key names what is sent (kind, target, due instant or level), so writing the same
    notification twice, from a repeated sweep or a second worker, creates it once.
    """

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("team_id", "key"),
        Index("ix_notification_status_due_id", "status", "due_at", "id"),  # the claim's order (migration 0027)
        # What requests ask the sender for, claimed first: App Homes (services.home.asked_homes)
        # and DMs (services.notices).
        Index("ix_notification_asked_due", "status", "due_at", sqlite_where=text("kind IN ('home', 'said')"),
              postgresql_where=text("kind IN ('home', 'said')")),  # fmt: skip
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))  # a user id (DM) or a channel id
    # The message (customer details, and the ids of the customers it names: `services.notices`):
    # encrypted. Rows written in SQL by `rows.enqueue_select` hold only ids and dates, in plain JSON.
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default=PENDING)  # see scheduler.outbox
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


SENDER_GONE = dt.timedelta(seconds=60)  # an `outbox_sender` unseen this long is taken for dead


class OutboxSender(Base):
    """A sender sharing the workspaces out with the others running (SENDER_SHARE=auto,
    bot.scheduler.roster): its row is there while it runs and says when it was last seen."""

    __tablename__ = "outbox_sender"
    __table_args__ = ({"info": {"unscoped": "a process sending for the workspaces, not a workspace's record"}},)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


def sender_seen_within(now: dt.datetime) -> ColumnElement[bool]:
    """A sender seen less than `SENDER_GONE` before `now`, or after it (a clock a little ahead; one
    far ahead is taken for dead too, or it would hold its share for as long as its clock was ahead)."""
    return OutboxSender.seen_at.between(now - SENDER_GONE, now + SENDER_GONE)


class AuditEvent(Base):
    """Who did what to which record, when, and from which Slack surface."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_team_entity", "team_id", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"))
    actor_id: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(24))  # create, update, delete, assign, export...
    entity: Mapped[str] = mapped_column(String(24))  # customer, touch, complaint, member
    entity_id: Mapped[int | None] = mapped_column(Integer)
    # {field: [old, new]} for updates; other actions put what they need here. Encrypted: the
    # values are a customer's personal data.
    changes: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    surface: Mapped[str | None] = mapped_column(String(24))  # command, modal, button, shortcut, cli
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RevisitDone(Base):
    """A revisit that was done: the touch that did it, the date it was due, and the owner then.

    Written by `touches.log_touch` when a customer with a scheduled revisit gets its newest touch,
    so reports can tell revisits done on time from late ones (see services.reports).
    """

    __tablename__ = "revisit_done"
    __table_args__ = (
        Index("ix_revisit_done_team_done_on", "team_id", "done_on"),
        Index("ix_revisit_done_team_due_on", "team_id", "due_on"),
        # A deleted customer's or touch's rows are found by these, not by reading every team's.
        Index("ix_revisit_done_customer_id", "customer_id"),
        Index("ix_revisit_done_touch_id", "touch_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    touch_id: Mapped[int] = mapped_column(ForeignKey("touch.id", ondelete="CASCADE"))
    owner_id: Mapped[str | None] = mapped_column(String(32))
    due_on: Mapped[dt.date] = mapped_column(Date)
    done_on: Mapped[dt.date] = mapped_column(Date)  # the touch's day in the author's time zone

    touch: Mapped[Touch] = relationship()


class StageChange(Base):
    """A customer's move from one stage to another (services.lifecycle), by a person
    (`actor_id`) or by the rules (None); the first row of each customer is its first stage.

    Kept as history: the churn report counts the customers lost and won back in a period from
    it, and the customers on the books at a period's start (see services.churn). A loss keeps
    its reason, the person's note, and the customer's owner and value at that moment.
    """

    __tablename__ = "stage_change"
    __table_args__ = (
        # A period's changes, and every change before an instant, from the index alone.
        Index("ix_stage_change_team_at", "team_id", "at", "from_stage", "to_stage"),
        Index("ix_stage_change_customer_at", "customer_id", "at"),  # a customer's history; the cascade
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    from_stage: Mapped[str | None] = mapped_column(String(16))  # None: the customer's first stage
    to_stage: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[str | None] = mapped_column(String(32))  # None: by the rules
    owner_id: Mapped[str | None] = mapped_column(String(32))  # the customer's owner then
    value: Mapped[int | None] = mapped_column(BigInteger)  # the customer's value then
    reason: Mapped[str | None] = mapped_column(String(24))  # why it was lost (services.lifecycle.REASONS)
    note: Mapped[str | None] = mapped_column(EncryptedText)


class FollowUp(Base):
    """A promise: a touch's next step with a due day and a person to do it (services.followups).

    Open until someone marks it done; done or overdue, it is kept, so reports can tell the
    promises kept on time from the late ones. Its words are the touch's `next_step`.
    """

    __tablename__ = "follow_up"
    __table_args__ = (
        # A person's open follow-ups by due day (their due list and digest), counted from it alone.
        Index("ix_follow_up_assignee_open", "team_id", "assignee_id", "customer_lost", "due_on", "id",
              postgresql_where=text("done_at IS NULL"), sqlite_where=text("done_at IS NULL")),
        # reports: the follow-ups due in a period, read from the index alone (migration 0017)
        Index("ix_follow_up_period_due", "team_id", "due_on", "assignee_id", "done_on", "done_at"),
        Index("ix_follow_up_customer_id", "customer_id"),  # health; the cascade
        Index("ix_follow_up_touch_id", "touch_id"),  # the cascade
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    touch_id: Mapped[int] = mapped_column(ForeignKey("touch.id", ondelete="CASCADE"))
    assignee_id: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[dt.date] = mapped_column(Date)  # moved by Snooze
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_on: Mapped[dt.date | None] = mapped_column(Date)  # the day it was done, in the doer's time zone
    done_by: Mapped[str | None] = mapped_column(String(32))
    # Whether its customer is lost or erased (kept by services.followups.sync_customer_lost): its
    # lists leave it out without reading the customer.
    customer_lost: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    touch: Mapped[Touch] = relationship(back_populates="follow_ups")
    customer: Mapped[Customer] = relationship()


# Where a satisfaction score came from (services.satisfaction): an owner's check-in, or the
# customer's own answer to a survey (services.surveys). Reports count them apart.
SCORE_SOURCES = ("checkin", "survey")


class SatisfactionScore(Base):
    """A customer's satisfaction (1-5): as told to its owner at a periodic check-in, or as the
    customer answered a survey in its channel (`source`). `recorded_by` is who gave it: the
    owner for a check-in, the customer's person who clicked for a survey."""

    __tablename__ = "satisfaction_score"
    __table_args__ = (
        Index("ix_satisfaction_score_team_customer_at", "team_id", "customer_id", "recorded_at"),
        Index("ix_satisfaction_score_customer_id", "customer_id"),  # a deleted customer's, as above
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(16), default="checkin", server_default="checkin")


class Survey(Base):
    """The one question (1-5) a customer is asked in its linked channel once one of its
    complaints is resolved (services.surveys), one per complaint and resolution cycle.

    Its buttons carry a random token whose SHA-256 is kept here (`token_hash`): the token alone
    names the survey, so a button's workspace or ids are never trusted, and one that was never
    posted finds nothing. Answered once (`answered_at`, `answered_by`, `score`); a second
    click changes nothing.
    """

    __tablename__ = "survey"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        UniqueConstraint("team_id", "complaint_id", "cycle"),
        Index("ix_survey_customer_id", "customer_id"),  # export, erase, merge; the cascade
        Index("ix_survey_complaint_id", "complaint_id"),  # the cascade from complaint
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    cycle: Mapped[int] = mapped_column(Integer)  # the complaint's cycle that was resolved
    token_hash: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))  # the customer's message it answers, if any
    message_ts: Mapped[str | None] = mapped_column(String(32))  # the survey's own message
    language: Mapped[str | None] = mapped_column(String(16))  # what it was asked in
    asked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[str | None] = mapped_column(String(32))
    score: Mapped[int | None] = mapped_column(Integer)


# Reports count by period: these let each count read only its period's index range.
# (Declared here, not in the classes, so the reports migration 0003r owns them.)
# (0006: with the author and customer, so a period's counts need not read the touches.
# 0017: the complaints' with the columns the reports read after the date, likewise.)
Index("ix_touch_team_happened_at", Touch.team_id, Touch.happened_at, Touch.author_id, Touch.customer_id)
Index("ix_complaint_period_opened", Complaint.team_id, Complaint.opened_at, Complaint.assignee_id)
Index("ix_complaint_period_answered", Complaint.team_id, Complaint.first_response_at, Complaint.first_response_due,
      Complaint.assignee_id, Complaint.opened_at)
Index("ix_complaint_period_resolved", Complaint.team_id, Complaint.resolved_at, Complaint.opened_at,
      Complaint.assignee_id, Complaint.resolution_due, Complaint.satisfaction)
Index("ix_customer_team_created_at", Customer.team_id, Customer.created_at)
