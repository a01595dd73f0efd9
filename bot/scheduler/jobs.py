"""Scheduled jobs: each looks at the data as of one instant and writes notification rows.

No job sends anything (the outbox's sender does) and every row has a key, so a job may run
any number of times, in any number of processes, and still create each notification once.

`JOBS` is the registry `run_jobs` walks; a job is `fn(run, team_id) -> rows written`, run in
its own session per team. Another feature adds its job with `@register_job("name")`; the
complaint warnings and escalations (bot/services/complaints.py) are meant to hook in here,
passing `urgent=True` to `quiet_hours_due` for what may wake people.

A workspace touchbase was uninstalled from gets no more rows: only the jobs registered with
`uninstalled=True` run for it (`purge_uninstalled`, which deletes its data once the retention
period is over). Each job reads people with its workspace's own directory (`directories`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import operator
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    Date,
    Select,
    String,
    bindparam,
    cast,
    column,
    func,
    literal,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, sessionmaker

from bot import metrics
from bot.clock import parse_time, zone
from bot.notify import Directory
from bot.scheduler.hours import WorkingHours
from bot.scheduler.outbox import (
    PENDING,
    Rendered,
    Upload,
    enqueue,
    enqueue_select,
    register_renderer,
)
from bot.services import followups, home, installs
from bot.services.access import Viewer, sees_all
from bot.services.members import PROFILE_MAX_AGE, get_member
from bot.services.reminders import due_by, owners_with_due_revisits
from bot.services.touches import due_revisits
from bot.services.workspaces import (
    TeamSettings,
    get_workspace,
    settings_of,
    team_settings,
)
from bot.storage.db import now_of, reading, unit_of_work
from bot.storage.models import Customer, FollowUp, Member, Notification, UTCDateTime, Workspace
from bot.views.complaints import escalation_message
from bot.views.followups import follow_up_reminder
from bot.views.home import home_page
from bot.views.kit import block_plain_text, fit_view
from bot.views.reports import checkin_blocks, report_blocks
from bot.views.revisits import (
    DIGEST_MAX_FOLLOW_UPS,
    DIGEST_MAX_ITEMS,
    digest_message,
    revisit_reminder,
)

log = logging.getLogger(__name__)

# The earliest and latest local dates anywhere are within these offsets of UTC.
_LATEST_OFFSET = dt.timedelta(hours=14)


@dataclass
class JobRun:
    """One run of the jobs: the instant it is "as of", and what jobs may read people with."""

    session: Session
    now: dt.datetime  # aware
    directory: Directory | None
    default_tz: str = "UTC"
    retention: dt.timedelta = dt.timedelta(days=30)  # UNINSTALLED_RETENTION_DAYS
    # A job given many workspaces at once reads each one's people with its own directory.
    directories: Callable[[str], Directory | None] | None = None

    def directory_of(self, team_id: str) -> Directory | None:
        return self.directories(team_id) if self.directories is not None else self.directory


Job = Callable[[JobRun, str], int]
JOBS: dict[str, Job] = {}
FOR_UNINSTALLED: set[str] = set()  # the jobs that run for uninstalled workspaces, and only for them
# Jobs that also take a list of workspaces and do them together (a few statements for all
# rather than a few each): run_jobs hands them `TEAMS_AT_ONCE` at a time, in one session.
AT_ONCE: set[str] = set()
TEAMS_AT_ONCE = 500


def register_job(name: str, *, uninstalled: bool = False, teams_at_once: bool = False) -> Callable[[Job], Job]:
    def add(fn: Job) -> Job:
        JOBS[name] = fn
        if uninstalled:
            FOR_UNINSTALLED.add(name)
        if teams_at_once:
            AT_ONCE.add(name)
        return fn

    return add


def quiet_hours_due(
    when: dt.datetime, *, member: Member, settings: TeamSettings, default_tz: str, urgent: bool = False
) -> dt.datetime:
    """When a message meant for `when` may reach `member`: then, or their next working hour."""
    if urgent:
        return when
    local = when.astimezone(zone(member.tz, settings.tz or default_tz))
    return WorkingHours.of(settings).next_open(local).astimezone(dt.UTC)


def run_jobs(
    factory: sessionmaker[Session], *, now: dt.datetime, directories: Callable[[str], Directory | None],
    default_tz: str = "UTC", retention: dt.timedelta = dt.timedelta(days=30),
    stopping: Callable[[], bool] = lambda: False, only: Collection[str] | None = None,
    teams: Sequence[str] | None = None,
) -> dict[str, int]:  # fmt: skip
    """Every registered job (or those named in `only`) once, for every workspace (or those in
    `teams`), as of `now`; rows written per job. `directories(team_id)` reads that
    workspace's people; `stopping()` true ends the run between two workspaces (or two
    batches of them: the process is stopping)."""
    query = select(Workspace.team_id, Workspace.uninstalled_at).order_by(Workspace.team_id)
    with reading(), unit_of_work(factory, now=now) as session:
        found = list(session.execute(query if teams is None else query.where(Workspace.team_id.in_(teams))))
    written: dict[str, int] = {}
    known: dict[str, Directory | None] = {}  # each workspace's directory, asked for once per run
    for name, job in JOBS.items():
        if only is not None and name not in only:
            continue
        written[name] = 0
        started, ok = time.perf_counter(), True
        chosen = [team_id for team_id, uninstalled_at in found
                  if (uninstalled_at is not None) == (name in FOR_UNINSTALLED)]  # fmt: skip
        one_by_one: list[str] = chosen
        if name in AT_ONCE:
            one_by_one = []
            for start in range(0, len(chosen), TEAMS_AT_ONCE):
                if stopping():
                    break
                chunk = []
                for team_id in chosen[start : start + TEAMS_AT_ONCE]:
                    try:  # before the session: a directory may read (or renew) its token in a session of its own
                        if team_id not in known:
                            known[team_id] = directories(team_id)
                        chunk.append(team_id)
                    except Exception:  # noqa: BLE001 - that workspace only
                        ok = False
                        log.exception("job %s failed for team %s", name, team_id)
                try:
                    with unit_of_work(factory, now=now) as session:
                        run = JobRun(session, now, None, default_tz, retention, directories=known.get)
                        written[name] += job(run, chunk)  # type: ignore[arg-type]
                except Exception:  # noqa: BLE001 - then each on its own, so one team's failure stops no other
                    log.exception("job %s failed for %d teams at once; trying them one by one", name, len(chunk))
                    one_by_one.extend(chunk)
        for team_id in one_by_one:
            if stopping():
                break
            try:
                if team_id not in known and name not in FOR_UNINSTALLED:
                    known[team_id] = directories(team_id)
                directory = known.get(team_id)
                with unit_of_work(factory, now=now) as session:
                    written[name] += job(JobRun(session, now, directory, default_tz, retention), team_id)
            except Exception:  # noqa: BLE001 - one team's failure must not stop the others
                ok = False
                log.exception("job %s failed for team %s", name, team_id)
        metrics.observe_job(name, time.perf_counter() - started, ok=ok)
    return written


# --- uninstalled workspaces -----------------------------------------------------------------


@register_job("purge_uninstalled", uninstalled=True)
def purge_uninstalled(run: JobRun, team_id: str) -> int:
    """Delete the data of a workspace uninstalled at least UNINSTALLED_RETENTION_DAYS before
    the run's instant (services.installs.purge); 1 when it was purged (its purge record)."""
    return int(installs.purge(session=run.session, team_id=team_id, now=run.now, retention=run.retention) is not None)


# --- revisit reminders --------------------------------------------------------------------


@register_job("revisit_reminders", teams_at_once=True)
def revisit_reminders(run: JobRun, teams: str | Sequence[str]) -> int:
    """Each person's daily digest of their revisits and follow-ups due (or one message per due
    revisit and follow-up, digest off), written once per member and day when their digest time
    has come in their own time zone.

    Only on working days, between the digest time (moved into working hours) and the end of
    working hours; a day missed entirely is not sent late: its items are still due, so the
    next digest lists them. Rows expire at the end of the working day for the same reason.

    One workspace or many (`TEAMS_AT_ONCE`): their settings, owners with revisits due and
    members are read with one query each, and the one-message-per-revisit rows of them all
    are written with one `INSERT … SELECT` (each person's day and language a column of the
    people it joins); a digest, or a profile read
    from Slack, is still one member's work. Over 1,000 small workspaces, one workspace at a
    time cost 34 times the raw statement, most of it the same few statements built, planned
    and run again for each (docs/PERFORMANCE.md).
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
    for team_id, owner_id in whole_way:
        try:
            settings, hours = rules.of(workspaces.get(team_id) or get_workspace(session, team_id))
            with session.begin_nested():  # read from Slack once a day
                member = get_member(session=session, team_id=team_id, user_id=owner_id,
                                    directory=run.directory_of(team_id), now=run.now)  # fmt: skip
            today = day_of(settings, hours, member)
            if today is None:
                continue
            locale = settings.language or member.locale
            if member.digest_enabled:
                with session.begin_nested():
                    written += _write_digest(run, settings, hours, member, *today, locale=locale)
            else:
                if (team_id, owner_id) in owners:
                    singles.append((team_id, owner_id, today[0], locale))
                if (team_id, owner_id) in promised:
                    if sees_all(member, settings):
                        promises.append((team_id, owner_id, today[0], locale))
                    else:
                        with session.begin_nested():
                            written += _follow_up_reminders(run, settings, member, today[0], locale=locale)
        except Exception:  # noqa: BLE001 - one owner's failure must not stop the others
            log.exception("revisit reminders for %s in %s failed", owner_id, team_id)
    # One message per due revisit or follow-up: one statement for all these people, each with
    # their day and language (a statement per day and language read each due customer once per
    # group), rendered when sent. In one order, so concurrent sweeps cannot deadlock.
    for chosen, rows_of in ((singles, _revisit_reminder_rows), (promises, _follow_up_reminder_rows)):
        chosen.sort(key=_person)
        for start in range(0, len(chosen), _CHOSEN_AT_ONCE):
            written += enqueue_select(session, rows_of(session, chosen[start : start + _CHOSEN_AT_ONCE], now=run.now))
    return written


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


def _write_digest(
    run: JobRun, settings: TeamSettings, hours: WorkingHours, member: Member, today: dt.date, send_from: dt.time,
    *, locale: str | None,
) -> int:  # fmt: skip
    team_id = member.team_id
    viewer = Viewer.of(member, settings)
    revisits = due_revisits(session=run.session, viewer=viewer, today=today, days=0, limit=DIGEST_MAX_ITEMS)
    promises = followups.due_follow_ups(session=run.session, viewer=viewer, today=today, days=0,
                                        limit=DIGEST_MAX_FOLLOW_UPS)  # fmt: skip
    if not revisits.due_total and not promises.due_total:
        return 0
    tz = zone(member.tz, settings.tz or run.default_tz)
    expires = dt.datetime.combine(today, hours.end_on(today), tzinfo=tz)
    text, body = digest_message(locale, revisits.due, total=revisits.due_total, today=today,
                                digest_time=send_from.strftime("%H:%M"), follow_ups=promises.items,
                                follow_ups_total=promises.due_total)  # fmt: skip
    return int(enqueue(
        run.session, now=run.now, team_id=team_id, key=_digest_key(member.user_id, today), kind="digest",
        channel=member.user_id, text=text, blocks=body, due_at=run.now, expires_at=expires,
    ))  # fmt: skip


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


# --- customer stages -----------------------------------------------------------------------------


@register_job("customer_stages")
def customer_stages(run: JobRun, team_id: str) -> int:
    """Active customers whose health fell under 40 become at risk, and back when it recovers,
    as of the sweep's instant; one sweep an hour per team does it (services.lifecycle)."""
    from bot.services import lifecycle

    with reading():  # the check writes in a transaction of its own, after it has read
        settings = team_settings(run.session, team_id)
    today = run.now.astimezone(zone(settings.tz, run.default_tz)).date()
    return lifecycle.check_stages(session=run.session, team_id=team_id, now=run.now, today=today)


FOLLOW_UP_SINGLES_MAX = 100  # follow-up messages per person and day, digest off


def _follow_up_reminders(run: JobRun, settings: TeamSettings, member: Member, today: dt.date, *,
                         locale: str | None) -> int:  # fmt: skip
    """Digest off: one message per follow-up due, once per due day, rendered when it is sent
    (`_render_follow_up`), so one done or snoozed meanwhile is not sent."""
    promises = followups.due_follow_ups(session=run.session, viewer=Viewer.of(member, settings), today=today, days=0,
                                        limit=FOLLOW_UP_SINGLES_MAX)  # fmt: skip
    written = 0
    for f in promises.items:
        meta = {"render": "follow_up", "follow_up_id": f.id, "assignee_id": f.assignee_id, "due": f.due_on.isoformat(),
                "today": today.isoformat(), "locale": locale}  # fmt: skip
        written += enqueue(run.session, now=run.now, team_id=member.team_id, kind="follow_up", channel=member.user_id,
                           key=f"follow_up:{f.id}:{f.assignee_id}:{f.due_on.isoformat()}", text="", meta=meta)  # fmt: skip
    return written


@register_renderer("follow_up")
def _render_follow_up(session: Session, payload: dict[str, Any], _directory: Directory) -> Rendered | None:
    found = followups.still_due(session, follow_up_id=payload["follow_up_id"], assignee_id=payload["assignee_id"],
                                due_on=payload["due"])  # fmt: skip
    if found is None:
        return None
    return Rendered(*follow_up_reminder(payload.get("locale"), found, today=dt.date.fromisoformat(payload["today"])))


# --- complaint warnings and escalations -----------------------------------------------------


@register_job("complaint_escalations")
def complaint_escalations(run: JobRun, team_id: str) -> int:
    """Each warning and escalation level due now (rules: services.complaints), written once per
    complaint, cycle, step and recipient. Urgent complaints may wake people; the rest waits for
    the recipient's working hours."""
    from bot.services import complaints

    # Every minute the whole team's active complaints are read to find the few steps due: in a
    # transaction that only reads (on SQLite touches go on being written meanwhile). Those
    # found are then locked and read again in a transaction of their own, and written.
    with reading():
        settings = team_settings(run.session, team_id)
        due = [c.id for c, _ in complaints.escalations_due(session=run.session, team_id=team_id, now=run.now,
                                                           default_tz=run.default_tz)]  # fmt: skip
    run.session.commit()
    if not due:
        return 0
    written = 0
    for complaint, steps in complaints.escalations_due(
        session=run.session, team_id=team_id, now=run.now, default_tz=run.default_tz, ids=due
    ):
        card = complaints.card(session=run.session, complaint=complaint, now=run.now, default_tz=run.default_tz)
        urgent = complaint.severity == "urgent"
        for step in steps:
            for recipient in complaints.escalation_recipients(session=run.session, complaint=complaint, escalation=step):
                is_person = recipient[:1] in ("U", "W")
                person = (get_member(session=run.session, team_id=team_id, user_id=recipient, directory=run.directory,
                                     now=run.now)
                          if is_person else Member(team_id=team_id, user_id=recipient))  # fmt: skip
                message = escalation_message(settings.language or person.locale, card, step.step)
                written += enqueue(
                    run.session, now=run.now, team_id=team_id, kind="escalation", channel=recipient,
                    key=f"complaint:{complaint.id}:{complaint.cycle}:{step.step}:{recipient}",
                    text=message["text"], blocks=message["blocks"],
                    due_at=quiet_hours_due(run.now, member=person, settings=settings, default_tz=run.default_tz,
                                           urgent=urgent),
                    meta={"complaint_id": complaint.id, "level": step.level},
                )  # fmt: skip
            complaints.record_escalation(session=run.session, complaint=complaint, escalation=step, now=run.now)
    return written


# --- linked channels: the response clock -------------------------------------------------------


@register_job("response_reminders")
def response_reminders(run: JobRun, team_id: str) -> int:
    """For each linked channel whose oldest customer message has waited past its target (in
    business hours, services.channels), one reminder to the customer's owner, in their working
    hours; written as it is when sent (`_render_response`), so a reply meanwhile cancels it."""
    from bot.services import channels

    settings = team_settings(run.session, team_id)
    written = 0
    for due in channels.reminders_due(session=run.session, team_id=team_id, now=run.now):
        try:
            with run.session.begin_nested():
                owner = get_member(session=run.session, team_id=team_id, user_id=due.remind, directory=run.directory,
                                   now=run.now)  # fmt: skip
                written += enqueue(
                    run.session, now=run.now, team_id=team_id, key=f"response:{due.message.id}", kind="response",
                    channel=due.remind, text="",
                    due_at=quiet_hours_due(run.now, member=owner, settings=settings, default_tz=run.default_tz),
                    meta={"render": "response", "message_id": due.message.id,
                          "locale": settings.language or owner.locale},
                )  # fmt: skip
        except Exception:  # noqa: BLE001 - one channel's failure must not stop the others
            log.exception("response reminder for message %s failed", due.message.id)
    return written


@register_renderer("response")
def _render_response(session: Session, payload: dict[str, Any], _directory: Directory) -> Rendered | None:
    """The reminder as things are when it is sent; None once someone replied (or the channel
    was unlinked, or the message deleted)."""
    from bot.services import channels
    from bot.views.channels import response_reminder

    found = channels.still_waiting(session, int(payload["message_id"]))
    if found is None:
        return None
    return Rendered(*response_reminder(payload.get("locale"), *found))


# --- App Homes -----------------------------------------------------------------------------------


@register_renderer(home.HOME_KIND)
def _render_home(session: Session, payload: dict[str, Any], directory: Directory) -> Rendered:
    """Someone's App Home as things are when it is sent (services.home.republish asked for it),
    on their date at the sender's instant; their Slack profile read again when it is a day old,
    as a request would (their language, time zone, and whether Slack still makes them an admin)."""
    mine = home.of_person(session=session, team_id=payload["team_id"], user_id=payload["user_id"],
                          now=now_of(session), default_tz=payload["default_tz"], directory=directory)  # fmt: skip
    return Rendered(text="", blocks=[], view=fit_view(home_page(mine.locale, mine.page)))


# --- satisfaction check-ins and the weekly report ---------------------------------------------

CHECKINS_PER_DM = 5  # a few at a time: a new team with many customers due is not flooded


@register_job("satisfaction_checkins")
def satisfaction_checkins(run: JobRun, team_id: str) -> int:
    """Once a week at most, each owner is asked for the satisfaction of a few customers whose
    check-in is due (services.satisfaction), in one DM, in their working hours."""
    from bot.services import satisfaction

    # Read in a transaction that only reads (on SQLite touches go on being written meanwhile):
    # every minute but once a week per owner, there is nothing to write (those asked this week
    # are left out by checkins_due).
    with reading():
        settings = team_settings(run.session, team_id)
        today = run.now.astimezone(zone(settings.tz, run.default_tz)).date()
        by_owner: dict[str, list] = {}
        for customer in satisfaction.checkins_due(session=run.session, team_id=team_id, today=today):
            by_owner.setdefault(customer.owner_id, []).append(customer)
    run.session.commit()
    written = 0
    for owner_id, customers in sorted(by_owner.items()):
        member = get_member(session=run.session, team_id=team_id, user_id=owner_id, directory=run.directory,
                            now=run.now)
        locale = settings.language or member.locale
        body = [b for c in customers[:CHECKINS_PER_DM] for b in checkin_blocks(locale, c)]
        written += enqueue(
            run.session, now=run.now, team_id=team_id, key=satisfaction.checkin_key(owner_id, today), kind="checkin",
            channel=owner_id, text=block_plain_text(body[:1]), blocks=body,
            due_at=quiet_hours_due(run.now, member=member, settings=settings, default_tz=run.default_tz),
        )  # fmt: skip
    return written


@register_job("weekly_report")
def weekly_report(run: JobRun, team_id: str) -> int:
    """Monday from 09:00 team time: last week's team report in the report channel, once,
    with its chart in the thread (built when it is sent: `_render_weekly_report`)."""
    settings = team_settings(run.session, team_id)
    if not settings.report_channel:
        return 0
    tz = settings.tz or run.default_tz
    local = run.now.astimezone(zone(tz))
    if local.weekday() != 0 or local.time() < dt.time(9):
        return 0
    last_week = local.date() - dt.timedelta(days=7)
    monday = last_week - dt.timedelta(days=last_week.weekday())
    payload = {"render": "weekly_report", "team_id": team_id, "day": last_week.isoformat(), "tz": tz}
    return int(enqueue(
        run.session, now=run.now, team_id=team_id, key=f"report:weekly:{monday.isoformat()}", kind="report",
        channel=settings.report_channel, text="", due_at=run.now, meta=payload,
    ))  # fmt: skip


@register_renderer("weekly_report")
def _render_weekly_report(session: Session, payload: dict[str, Any], _directory: Directory) -> Rendered:
    from bot.charts import report_chart
    from bot.i18n import t
    from bot.services import reports, sla

    team_id, tz = payload["team_id"], payload["tz"]
    calendar, _ = sla.team_rules(session, team_id, tz)
    report = reports.build_report(
        session=session, viewer=Viewer.whole_team(team_id), kind="week", today=dt.date.fromisoformat(payload["day"]),
        tz=tz,
        duration=calendar.hours_between,
    )  # fmt: skip
    language = team_settings(session, team_id).language
    body = report_blocks(language, report)
    start = report.period.first_day.isoformat()
    chart = Upload(filename=f"report-week-{start}.png", content=report_chart(language, report),
                   title=t(language, "report.chart.title", start=start))  # fmt: skip
    return Rendered(block_plain_text(body[:1]), body, (chart,))