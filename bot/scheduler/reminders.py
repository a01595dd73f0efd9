"""The revisit reminders: each person's daily digest of their revisits and follow-ups due, or
one message per item with the digest off (`revisit_reminders`), and the renderers that build
those messages when they are sent.

Over many workspaces the job reads with a few statements for all of them and writes the
one-message-per-item rows with `INSERT … SELECT`; what it reads, it reads without SQLite's
write turn (docs/PERFORMANCE.md, sections 31, 64 and 65).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import operator
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Date, Select, String, bindparam, cast, column, func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from bot.clock import parse_time, zone
from bot.notify import Directory, Profile, Unreachable
from bot.scheduler.base import JobRun, register_job
from bot.scheduler.hours import WorkingHours
from bot.scheduler.outbox import Rendered, register_renderer
from bot.scheduler.rows import any_new, enqueue_many, enqueue_select, notification, written_keys
from bot.services import followups
from bot.services.access import Viewer, sees_all
from bot.services.members import PROFILE_MAX_AGE, get_member
from bot.services.reminders import due_by, owners_with_due_revisits
from bot.services.touches import due_revisits
from bot.services.workspaces import TeamSettings, get_workspace, settings_of
from bot.storage.db import reading
from bot.storage.models import PENDING, Customer, FollowUp, Member, Notification, Workspace
from bot.storage.schema import UTCDateTime
from bot.views.followups import follow_up_reminder
from bot.views.revisits import DIGEST_MAX_FOLLOW_UPS, DIGEST_MAX_ITEMS, digest_message, revisit_reminder

log = logging.getLogger(__name__)

# The earliest and latest local dates anywhere are within these offsets of UTC.
_LATEST_OFFSET = dt.timedelta(hours=14)


@register_job("revisit_reminders", teams_at_once=True)
def revisit_reminders(run: JobRun, teams: str | Sequence[str]) -> int:
    """Each person's daily digest of their revisits and follow-ups due (or one message per due
    revisit and follow-up, digest off), written once per member and day when their digest time
    has come in their own time zone.

    Only on working days, between the digest time (moved into working hours) and the end of
    working hours; a day missed entirely is not sent late: its items are still due, so the
    next digest lists them. Rows expire at the end of the working day for the same reason.

    One workspace or many (`jobs.TEAMS_AT_ONCE`): their settings, owners with revisits due and
    members are read with one query each, and the one-message-per-revisit rows of them all
    are written with one `INSERT … SELECT` (each person's day and language a column of the
    people it joins); a digest, or a profile read from Slack, is still one member's work
    (`_whole_way`). Over 1,000 small workspaces, one workspace at a time cost 34 times the raw
    statement, most of it the same few statements built, planned and run again for each
    (docs/PERFORMANCE.md).
    """
    team_ids = [teams] if isinstance(teams, str) else list(teams)
    session = run.session
    rules = _TeamRules()
    written = 0
    singles: list[_Chosen] = []  # whose due revisits get a message each
    promises: list[_Chosen] = []  # whose follow-ups due get a message each (who see all their customers)
    latest_today = (run.now.astimezone(dt.UTC) + _LATEST_OFFSET).date()
    days: dict[tuple[int, str | None, str | None], tuple[dt.date, dt.time] | None] = {}

    def day_of(settings: TeamSettings, hours: WorkingHours, member: Any) -> tuple[dt.date, dt.time] | None:
        when = (id(settings), member.tz, member.digest_time)  # what the member's reminder day depends on
        if when not in days:
            days[when] = _reminder_day(run, settings, hours, member)
        return days[when]

    # Who may have something to be told now is read in a transaction that only reads: the job
    # runs every minute, and most minutes it finds everyone's digest written or their window
    # closed (on SQLite, touches go on being written meanwhile). Those left are then read again,
    # or from Slack, and written for, in a transaction of their own.
    with reading():
        rows = session.connection()  # what is read as plain rows skips the ORM's work per row (a third of it)
        workspaces = {w.team_id: w for w in rows.execute(select(Workspace.team_id, Workspace.settings)
                                                         .where(Workspace.team_id.in_(team_ids))).all()}  # fmt: skip
        # Read as tuples, not ORM objects (a fifth of the job when they were), and only what decides
        # their reminders (not the name: decrypting it was a tenth): a member who needs more (a
        # digest, a profile read again) is read as one then.
        known = {(m.team_id, m.user_id): m for m in map(_Deciding._make, rows.execute(
            select(*_DECIDING).where(Member.team_id.in_(team_ids)), {"fresh_after": run.now - PROFILE_MAX_AGE}).all())}
        owners = set(owners_with_due_revisits(session=session, team_id=team_ids, by=latest_today))
        promised = set(followups.assignees_with_due(session=session, team_id=team_ids, by=latest_today))
        digested = _digested_today(session, owners | promised, known, workspaces, rules, day_of)
    session.commit()

    # Most people are decided from what was read: a fresh profile tells their day, and with the
    # digest off they get a message per item, written for all of them at once below. The rest
    # go the whole way one by one: their profile read (again, or from Slack), their digest built.
    whole_way: list[tuple[str, str]] = []
    last_team: str | None = None  # people come sorted: a workspace's rules are looked up once
    for person in sorted((owners | promised) - digested):
        team_id, owner_id = person
        member, workspace = known.get(person), workspaces.get(team_id)
        try:
            if member is None or workspace is None or not member.fresh:
                whole_way.append(person)
                continue
            if team_id != last_team:
                settings, hours = rules.of(workspace)
                last_team = team_id
            today = day_of(settings, hours, member)
            if today is None:  # their window is not open now
                continue
            if member.digest_enabled or (person in promised and not sees_all(member, settings)):
                whole_way.append(person)
                continue
            locale = settings.language or member.locale
            if person in owners:
                singles.append((team_id, owner_id, today[0], locale))
            if person in promised:  # all their follow-ups are theirs to be told of
                promises.append((team_id, owner_id, today[0], locale))
        except Exception:  # noqa: BLE001 - one owner's failure must not stop the others
            log.exception("revisit reminders for %s in %s failed", owner_id, team_id)
    if whole_way:
        written += _whole_way(run, whole_way, known, workspaces, rules, day_of, owners, promised, singles, promises)
    # One message per due revisit or follow-up: one statement for all these people, each with
    # their day and language (a statement per day and language read each due customer once per
    # group), rendered when sent. In one order, so concurrent sweeps cannot deadlock.
    # Their rows are written once a day and looked for every working minute: looked for first in
    # a transaction that only reads (on SQLite, 5,000 people's took the write turn 96 ms a minute
    # to write nothing), then written only when one is new.
    writing = session.in_transaction()  # the digests above were written in one still open
    for chosen, rows_of in ((singles, _revisit_reminder_rows), (promises, _follow_up_reminder_rows)):
        chosen.sort(key=_person)
        for start in range(0, len(chosen), _CHOSEN_AT_ONCE):
            query = rows_of(session, chosen[start : start + _CHOSEN_AT_ONCE], now=run.now)
            if not writing:  # once writing, no need to look first
                with reading():
                    new = any_new(session, query)
                session.commit()
                if not new:
                    continue
                writing = True
            written += enqueue_select(session, query)
    return written


def _whole_way(
    run: JobRun, people: list[tuple[str, str]], known: dict[tuple[str, str], Any], workspaces: dict[str, Any],
    rules: _TeamRules, day_of: Callable[[TeamSettings, WorkingHours, Any], tuple[dt.date, dt.time] | None],
    owners: set[tuple[str, str]], promised: set[tuple[str, str]], singles: list[_Chosen], promises: list[_Chosen],
) -> int:  # fmt: skip
    """The people `revisit_reminders` could not decide from what it read: their profiles
    missing or old, their digest on, or follow-ups they see as owners only. Adds to `singles`
    and `promises`; returns the rows written.

    Slack is asked for the profiles first, outside any transaction, and what it gave is saved
    in a short one: asked inside, each round trip held SQLite's write turn. The digests and
    follow-up reminders are then read and built `WRITE_EVERY` people at a time in a transaction
    that only reads, and each batch's rows written in one statement (built in the turn, they
    held it about 2 ms each: seconds for 1,000 workspaces whose digests fall due in a minute)."""
    session = run.session
    asked: dict[str, _Asked] = {}  # each workspace's answers from Slack
    failed: set[tuple[str, str]] = set()
    for person in people:
        team_id, user_id = person
        member = known.get(person)
        try:
            directory = run.directory_of(team_id)
            if directory is not None and (member is None or not member.fresh):
                asked.setdefault(team_id, _Asked()).ask(directory, user_id)
        except Exception:  # noqa: BLE001 - one owner's failure must not stop the others
            failed.add(person)
            log.exception("revisit reminders for %s in %s failed", user_id, team_id)
    people = [person for person in people if person not in failed]
    saving = [(t, u) for t, u in people if t not in workspaces or (t, u) not in known
              or t in asked and isinstance(asked[t].answers.get(u), Profile)]  # fmt: skip
    for team_id, user_id in saving:  # in one order, so concurrent sweeps cannot deadlock
        try:
            with session.begin_nested():
                if team_id not in workspaces:
                    get_workspace(session, team_id)
                get_member(session=session, team_id=team_id, user_id=user_id, directory=asked.get(team_id),
                           now=run.now)  # fmt: skip
        except Exception:  # noqa: BLE001 - one owner's failure must not stop the others
            log.exception("revisit reminders for %s in %s failed", user_id, team_id)
    session.commit()
    written = 0
    for start in range(0, len(people), WRITE_EVERY):
        built: list[list[dict[str, Any]]] = []  # each person's rows
        with reading():
            for person in people[start : start + WRITE_EVERY]:
                try:
                    with session.begin_nested():
                        built.append(_built(run, person, workspaces, rules, day_of, owners, promised, singles,
                                            promises))  # fmt: skip
                except Exception:  # noqa: BLE001 - one owner's failure must not stop the others
                    log.exception("revisit reminders for %s in %s failed", person[1], person[0])
        session.commit()
        written += _write_each(session, built)
        session.commit()  # the turn given back between two batches
    return written


WRITE_EVERY = 100  # people whose digests are built before they are written (one about 30-75 kB)


def _built(
    run: JobRun, person: tuple[str, str], workspaces: dict[str, Any], rules: _TeamRules,
    day_of: Callable[[TeamSettings, WorkingHours, Any], tuple[dt.date, dt.time] | None],
    owners: set[tuple[str, str]], promised: set[tuple[str, str]], singles: list[_Chosen], promises: list[_Chosen],
) -> list[dict[str, Any]]:  # fmt: skip
    """One person's outbox rows (their digest, or their follow-up reminders), read in a
    transaction that only reads; or their place in `singles` and `promises`. Someone whose
    workspace or member row is still missing (its save failed) is left for the next run:
    making it here would write in that transaction."""
    team_id, user_id = person
    session = run.session
    workspace = workspaces.get(team_id) or session.get(Workspace, team_id)
    member = session.scalar(select(Member).where(Member.team_id == team_id, Member.user_id == user_id))
    if workspace is None or member is None:
        log.warning("revisit reminders for %s in %s: not saved, left for the next run", user_id, team_id)
        return []
    settings, hours = rules.of(workspace)
    today = day_of(settings, hours, member)
    if today is None:
        return []
    locale = settings.language or member.locale
    if member.digest_enabled:
        if written_keys(session, team_id, [_digest_key(user_id, today[0])]):  # a profile Slack did not renew
            return []  # (`_digested_today` leaves those people here)
        return _digest(run, settings, hours, member, *today, locale=locale)
    if person in owners:
        singles.append((team_id, user_id, today[0], locale))
    if person in promised:
        if not sees_all(member, settings):
            return _follow_up_reminders(run, settings, member, today[0], locale=locale)
        promises.append((team_id, user_id, today[0], locale))
    return []


def _write_each(session: Session, built: list[list[dict[str, Any]]]) -> int:
    """These people's rows in one statement; if it fails, each person's in a statement of their
    own, so that one bad row stops no one else."""
    try:
        with session.begin_nested():
            return enqueue_many(session, [row for rows in built for row in rows])
    except Exception:  # noqa: BLE001 - then one by one
        log.exception("reminder rows failed together; writing them person by person")
    written = 0
    for rows in built:
        try:
            with session.begin_nested():
                written += enqueue_many(session, rows)
        except Exception:  # noqa: BLE001 - one owner's failure must not stop the others
            log.exception("reminder rows for %s failed", rows[0]["channel"] if rows else "nobody")
    return written


class _Asked:
    """What Slack said of a workspace's people, asked before the transaction: `get_member`
    reads it as it reads a directory (`Profiles`; a failure is raised again, where it logs it)."""

    def __init__(self) -> None:
        self.answers: dict[str, Profile | Unreachable] = {}

    def ask(self, directory: Directory, user_id: str) -> None:
        try:
            self.answers[user_id] = directory.profile(user_id)
        except Unreachable as exc:
            self.answers[user_id] = exc

    def __contains__(self, user_id: str) -> bool:
        return user_id in self.answers

    def profile(self, user_id: str) -> Profile:
        answer = self.answers.get(user_id) or Unreachable("not asked")
        if isinstance(answer, Unreachable):
            raise answer
        return answer


def _digested_today(
    session: Session, people: set[tuple[str, str]], known: dict[tuple[str, str], Any], workspaces: dict[str, Any],
    rules: _TeamRules, day_of: Callable[[TeamSettings, WorkingHours, Any], tuple[dt.date, dt.time] | None],
) -> set[tuple[str, str]]:  # fmt: skip
    """Of these (workspace, person), those whose digest for their day is written already.

    Their reminder window stays open all working day, and the job runs every minute: without
    this it read each one's profile and due items and built their digest again, only for its
    INSERT to do nothing (at 200 owners, 0.4-0.6 s a minute of SQLite's write turn). Only
    people read as tuples, with a profile still fresh and their digest on, are looked for: the
    others go the whole way as before."""
    keys: dict[tuple[str, str], tuple[str, str]] = {}
    for team_id, person in people:
        member = known.get((team_id, person))
        workspace = workspaces.get(team_id)
        if member is None or workspace is None or not member.digest_enabled or not member.fresh:
            continue
        try:
            today = day_of(*rules.of(workspace), member)
        except Exception:  # noqa: BLE001 - left to the whole way, which logs it for this person alone
            continue
        if today is not None:
            keys[(team_id, _digest_key(person, today[0]))] = (team_id, person)
    pairs, done = list(keys), set()
    for start in range(0, len(pairs), _DIGESTS_AT_ONCE):
        done.update(keys[(row.team_id, row.key)] for row in session.execute(
            select(Notification.team_id, Notification.key)
            .where(tuple_(Notification.team_id, Notification.key).in_(pairs[start : start + _DIGESTS_AT_ONCE]))
        ))  # fmt: skip
    return done


_DIGESTS_AT_ONCE = 1000  # (workspace, key) pairs per statement


def _digest_key(user_id: str, day: dt.date) -> str:
    """The outbox key of a person's digest for their day: one a day."""
    return f"digest:{user_id}:{day.isoformat()}"


# A member's columns that decide their reminders (`_reminder_day`, `sees_all`), and whether
# their profile is fresh (`is_fresh` as of "fresh_after"), told by the database: parsing each
# member's instant was a twentieth of the job over 1,000 workspaces.
_DECIDING = (Member.team_id, Member.user_id, Member.tz, Member.locale, Member.role, Member.is_slack_admin,
             Member.digest_enabled, Member.digest_time,
             (Member.profile_fetched_at > bindparam("fresh_after", type_=UTCDateTime())).label("fresh"))  # fmt: skip


class _Deciding(NamedTuple):
    """A member as `_DECIDING` reads them. A tuple's fields read ten times faster than a row's,
    and the job reads each a few times for each of up to 5,000 people a batch."""

    team_id: str
    user_id: str
    tz: str | None
    locale: str | None
    role: str | None
    is_slack_admin: bool
    digest_enabled: bool
    digest_time: str | None
    fresh: bool | None


class _TeamRules:
    """Workspaces' settings and working hours, read once per distinct settings (most teams
    keep the defaults, and parsing them is most of what a workspace costs here), and looked
    up once per workspace."""

    def __init__(self) -> None:
        self.known: dict[str, tuple[TeamSettings, WorkingHours]] = {}
        self.of_team: dict[str, tuple[TeamSettings, WorkingHours]] = {}

    def of(self, workspace: Any) -> tuple[TeamSettings, WorkingHours]:
        """Of a `Workspace`, or a row of its `team_id` and `settings`."""
        if workspace.team_id not in self.of_team:
            key = json.dumps(workspace.settings, sort_keys=True, default=str) if workspace.settings else "{}"
            if key not in self.known:
                settings = settings_of(workspace)
                self.known[key] = (settings, WorkingHours.of(settings))
            self.of_team[workspace.team_id] = self.known[key]
        return self.of_team[workspace.team_id]


def _reminder_day(
    run: JobRun, settings: TeamSettings, hours: WorkingHours, member: Member
) -> tuple[dt.date, dt.time] | None:
    """The member's local date and digest time if their reminders are due now, else None."""
    local = run.now.astimezone(zone(member.tz, settings.tz or run.default_tz))
    today = local.date()
    if not hours.is_working_day(today):
        return None
    digest_time = parse_time(member.digest_time or settings.digest_time)  # as digest_time_of, from `settings`
    send_from = hours.clamp(today, digest_time or hours.start_on(today))
    if not send_from <= local.time() < hours.end_on(today):
        return None
    return today, send_from


def _digest(
    run: JobRun, settings: TeamSettings, hours: WorkingHours, member: Member, today: dt.date, send_from: dt.time,
    *, locale: str | None,
) -> list[dict[str, Any]]:  # fmt: skip
    """The member's digest for their day as an outbox row (none: nothing is due)."""
    team_id = member.team_id
    viewer = Viewer.of(member, settings)
    revisits = due_revisits(session=run.session, viewer=viewer, today=today, days=0, limit=DIGEST_MAX_ITEMS)
    promises = followups.due_follow_ups(session=run.session, viewer=viewer, today=today, days=0,
                                        limit=DIGEST_MAX_FOLLOW_UPS)  # fmt: skip
    if not revisits.due_total and not promises.due_total:
        return []
    tz = zone(member.tz, settings.tz or run.default_tz)
    expires = dt.datetime.combine(today, hours.end_on(today), tzinfo=tz)
    text, body = digest_message(locale, revisits.due, total=revisits.due_total, today=today,
                                digest_time=send_from.strftime("%H:%M"), follow_ups=promises.items,
                                follow_ups_total=promises.due_total)  # fmt: skip
    return [notification(
        now=run.now, team_id=team_id, key=_digest_key(member.user_id, today), kind="digest",
        channel=member.user_id, text=text, blocks=body, due_at=run.now, expires_at=expires,
        customers=[*(c.id for c in revisits.due), *(f.customer.id for f in promises.items)],
    )]  # fmt: skip


_Chosen = tuple[str, str, dt.date, str | None]  # workspace, person, their day, their language
_person = operator.itemgetter(0, 1)
_CHOSEN_AT_ONCE = 5000  # people per statement (a bound document of about 450 kB): a batch of workspaces in one


def _chosen(session: Session, people: list[_Chosen]) -> Any:
    """These people, their day and language, as a table to join, read from one bound JSON
    document: the statement is then the same for every batch (built and planned once, where
    a `VALUES` list of 8,000 bound values was compiled again each time), and each person's
    rows are sought in the index that starts with (workspace, person). On SQLite each person
    is an array, not an object: half the text to write and for SQLite to read."""
    days = {day: day.isoformat() for day in {person[2] for person in people}}
    if session.get_bind().dialect.name == "postgresql":
        document = [{"team_id": t, "person": p, "day": days[d], "locale": lang} for t, p, d, lang in people]
        return func.jsonb_to_recordset(bindparam("people", document, type_=JSONB)).table_valued(
            column("team_id", String), column("person", String), column("day", Date), column("locale", String),
        ).render_derived(name="chosen", with_types=True)  # fmt: skip
    each = func.json_each(bindparam("people", json.dumps([(t, p, days[d], lang) for t, p, d, lang in people]),
                                    type_=String)).table_valued("value")  # fmt: skip
    return select(*(func.json_extract(each.c.value, f"$[{i}]").label(name)
                    for i, name in enumerate(("team_id", "person", "day", "locale")))).subquery("chosen")  # fmt: skip


def _json_object(session: Session) -> Any:
    return func.json_build_object if session.get_bind().dialect.name == "postgresql" else func.json_object


def _revisit_reminder_rows(session: Session, people: list[_Chosen], *, now: dt.datetime) -> Select[Any]:
    """The outbox rows of these owners' due revisits, one each, keyed by customer, owner and
    due date (an overdue revisit is not repeated daily); the payload holds what
    `_render_revisit` needs."""
    c, chosen = Customer, _chosen(session, people)
    due = cast(c.next_revisit, String)
    payload = _json_object(session)(
        "render", "revisit", "customer_id", c.id, "owner_id", c.owner_id, "due", due,
        "today", cast(chosen.c.day, String), "locale", chosen.c.locale, "text", "",
    )  # fmt: skip
    return select(
        c.team_id, literal("revisit:") + cast(c.id, String) + ":" + c.owner_id + ":" + due, literal("revisit"),
        c.owner_id, payload, literal(PENDING), literal(now, Notification.due_at.type), literal(0),
        literal(now, Notification.created_at.type),
    ).select_from(chosen).join(c, (c.team_id == chosen.c.team_id) & (c.owner_id == chosen.c.person)).where(
        *due_by(chosen.c.day)
    )  # fmt: skip


def _follow_up_reminder_rows(session: Session, people: list[_Chosen], *, now: dt.datetime) -> Select[Any]:
    """The outbox rows of these people's follow-ups due, as `_follow_up_reminders` writes them
    one by one (the first 100 of each, earliest first), for people who see every customer."""
    f, chosen = FollowUp, _chosen(session, people)
    ranked = select(
        f.id, f.team_id, f.assignee_id, cast(f.due_on, String).label("due"), chosen.c.day, chosen.c.locale,
        func.row_number().over(partition_by=(f.team_id, f.assignee_id), order_by=(f.due_on, f.id)).label("n"),
    ).select_from(chosen).join(f, (f.team_id == chosen.c.team_id) & (f.assignee_id == chosen.c.person)).where(
        *followups.is_due(by=chosen.c.day),
    ).subquery()  # fmt: skip
    payload = _json_object(session)(
        "text", "", "render", "follow_up", "follow_up_id", ranked.c.id, "assignee_id", ranked.c.assignee_id,
        "due", ranked.c.due, "today", cast(ranked.c.day, String), "locale", ranked.c.locale,
    )  # fmt: skip
    key = literal("follow_up:") + cast(ranked.c.id, String) + ":" + ranked.c.assignee_id + ":" + ranked.c.due
    return select(
        ranked.c.team_id, key, literal("follow_up"), ranked.c.assignee_id, payload, literal(PENDING),
        literal(now, Notification.due_at.type), literal(0), literal(now, Notification.created_at.type),
    ).where(ranked.c.n <= FOLLOW_UP_SINGLES_MAX)  # fmt: skip


@register_renderer("revisit")
def _render_revisit(session: Session, payload: dict[str, Any], _directory: Directory) -> Rendered | None:
    """A due revisit's reminder as the customer is now; None if it is no longer this owner's
    revisit due on that date (logged, snoozed, reassigned, turned off, or deleted meanwhile)."""
    customer = session.get(Customer, payload["customer_id"])
    if (
        customer is None
        or not customer.revisits_enabled
        or customer.owner_id != payload["owner_id"]
        or customer.next_revisit is None
        or customer.next_revisit.isoformat() != payload["due"]
    ):
        return None
    return Rendered(*revisit_reminder(payload.get("locale"), customer,
                                             today=dt.date.fromisoformat(payload["today"])))  # fmt: skip


FOLLOW_UP_SINGLES_MAX = 100  # follow-up messages per person and day, digest off


def _follow_up_reminders(run: JobRun, settings: TeamSettings, member: Member, today: dt.date, *,
                         locale: str | None) -> list[dict[str, Any]]:  # fmt: skip
    """Digest off: one message per follow-up due, once per due day, rendered when it is sent
    (`_render_follow_up`), so one done or snoozed meanwhile is not sent. The outbox rows."""
    promises = followups.due_follow_ups(session=run.session, viewer=Viewer.of(member, settings), today=today, days=0,
                                        limit=FOLLOW_UP_SINGLES_MAX)  # fmt: skip
    rows = []
    for f in promises.items:
        meta = {"render": "follow_up", "follow_up_id": f.id, "assignee_id": f.assignee_id, "due": f.due_on.isoformat(),
                "today": today.isoformat(), "locale": locale}  # fmt: skip
        rows.append(notification(now=run.now, team_id=member.team_id, kind="follow_up", channel=member.user_id,
                                 key=f"follow_up:{f.id}:{f.assignee_id}:{f.due_on.isoformat()}", text="",
                                 meta=meta))  # fmt: skip
    return rows


@register_renderer("follow_up")
def _render_follow_up(session: Session, payload: dict[str, Any], _directory: Directory) -> Rendered | None:
    found = followups.still_due(session, follow_up_id=payload["follow_up_id"], assignee_id=payload["assignee_id"],
                                due_on=payload["due"])  # fmt: skip
    if found is None:
        return None
    return Rendered(*follow_up_reminder(payload.get("locale"), found, today=dt.date.fromisoformat(payload["today"])))
