"""Scheduled jobs: each looks at the data as of one instant and writes notification rows.

No job sends anything (the outbox's sender does) and every row has a key, so a job may run
any number of times, in any number of processes, and still create each notification once.

`JOBS` (bot/scheduler/base.py) is the registry `run_jobs` walks; a job is `fn(run, team_id) ->
rows written`, run in its own session per team. Another feature adds its job with
`@register_job("name")`, as bot/scheduler/reminders.py adds the digests; the
complaint warnings and escalations (bot/services/complaints.py) are meant to hook in here,
passing `urgent=True` to `quiet_hours_due` for what may wake people.

A workspace touchbase was uninstalled from gets no more rows: only the jobs registered with
`uninstalled=True` run for it (`purge_uninstalled`, which deletes its data once the retention
period is over). Each job reads people with its workspace's own directory (`directories`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any

from sqlalchemy import Select, String, cast, exists, literal, select
from sqlalchemy.orm import Session, sessionmaker

from bot import metrics
from bot.clock import zone
from bot.notify import Directory
from bot.scheduler import reminders  # noqa: F401 - registers the revisit reminders, the first job a minute runs
from bot.scheduler import said  # noqa: F401 - registers the renderers of the DMs requests write
from bot.scheduler.base import AT_ONCE, CANDIDATES, FOR_UNINSTALLED, JOBS, JobRun, register_job
from bot.scheduler.hours import WorkingHours
from bot.scheduler.outbox import Rendered, Upload, register_renderer
from bot.scheduler.rows import enqueue, written_keys
from bot.services import home, installs
from bot.services.access import Viewer
from bot.services.members import get_member
from bot.services.workspaces import TeamSettings, team_settings
from bot.storage.db import now_of, reading, unit_of_work
from bot.storage.models import ChannelMessage, Complaint, Member, Notification, Workspace
from bot.views.complaints import escalation_message
from bot.views.home import home_page
from bot.views.kit import block_plain_text, fit_view
from bot.views.reports import checkin_blocks, report_blocks

log = logging.getLogger(__name__)

TEAMS_AT_ONCE = 500  # workspaces handed at once to a job registered with `teams_at_once`


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
        if name in CANDIDATES and chosen:
            chosen, ok = _may_have_work(factory, name, chosen, now=now, default_tz=default_tz)
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


def _may_have_work(
    factory: sessionmaker[Session], name: str, teams: list[str], *, now: dt.datetime, default_tz: str
) -> tuple[list[str], bool]:
    """Of these workspaces, those the job may have work for (its `candidates`, a statement or
    two per `TEAMS_AT_ONCE` of them), in their order, and True; all of them and False if that
    cannot be told now (each then decides for itself, as before, and the job's run counts as
    failed in its metric)."""
    keep: set[str] = set()
    try:
        with reading(), unit_of_work(factory, now=now) as session:
            for start in range(0, len(teams), TEAMS_AT_ONCE):
                keep.update(CANDIDATES[name](session, teams[start : start + TEAMS_AT_ONCE], now, default_tz))
    except Exception:  # noqa: BLE001 - a narrowing that fails must not skip anyone's work
        log.exception("job %s could not narrow its %d workspaces down: running it for each", name, len(teams))
        return teams, False
    return [team_id for team_id in teams if team_id in keep], True


def _settings_by_team(session: Session, teams: Sequence[str]) -> tuple[dict[str, TeamSettings], list[str]]:
    """These workspaces' settings, read together, and the workspaces whose settings cannot be
    read (a narrowing keeps those: the job decides for each, and fails for it alone)."""
    found: dict[str, TeamSettings] = {}
    unreadable: list[str] = []
    for team_id, settings in session.execute(select(Workspace.team_id, Workspace.settings)
                                             .where(Workspace.team_id.in_(teams))):  # fmt: skip
        try:
            found[team_id] = TeamSettings.model_validate(settings)
        except ValueError:  # pydantic's ValidationError, or settings that are not a document
            unreadable.append(team_id)
    return found, unreadable


def _team_today(settings: TeamSettings, now: dt.datetime, default_tz: str) -> dt.date:
    """The team's own date at `now` (its time zone, `default_tz` until it sets one)."""
    return now.astimezone(zone(settings.tz, default_tz)).date()


def _having(teams: Sequence[str], *where: Any) -> Select[tuple[str]]:
    """The workspaces among `teams` with at least one row meeting `where` (which refers to
    `Workspace.team_id`): each stops at its first row."""
    return select(Workspace.team_id).where(Workspace.team_id.in_(teams), exists().where(*where))


# --- uninstalled workspaces -----------------------------------------------------------------


@register_job("purge_uninstalled", uninstalled=True)
def purge_uninstalled(run: JobRun, team_id: str) -> int:
    """Delete the data of a workspace uninstalled at least UNINSTALLED_RETENTION_DAYS before
    the run's instant (services.installs.purge); 1 when it was purged (its purge record)."""
    return int(installs.purge(session=run.session, team_id=team_id, now=run.now, retention=run.retention) is not None)


# --- customer stages -----------------------------------------------------------------------------


def _stages_unchecked(session: Session, teams: Sequence[str], now: dt.datetime, _default_tz: str) -> list[str]:
    """The workspaces whose customer stages are due their hourly check (`check_stages`' own test)."""
    from bot.services.lifecycle import stages_unchecked

    return list(session.scalars(select(Workspace.team_id).where(Workspace.team_id.in_(teams), stages_unchecked(now))))


@register_job("customer_stages", candidates=_stages_unchecked)
def customer_stages(run: JobRun, team_id: str) -> int:
    """Active customers whose health fell under 40 become at risk, and back when it recovers,
    as of the sweep's instant; one sweep an hour per team does it (services.lifecycle)."""
    from bot.services import lifecycle

    with reading():  # the check writes in a transaction of its own, after it has read
        settings = team_settings(run.session, team_id)
    today = _team_today(settings, run.now, run.default_tz)
    return lifecycle.check_stages(session=run.session, team_id=team_id, now=run.now, today=today)


# --- complaint warnings and escalations -----------------------------------------------------


def _with_steps_due(session: Session, teams: Sequence[str], now: dt.datetime, default_tz: str) -> list[str]:
    """The workspaces with a warning or escalation level due now, told for all of them at once
    by the job's own rule (`complaints.teams_with_steps_due`); one whose settings cannot be read
    is kept, and the job decides for it."""
    from bot.services import complaints

    settings, unreadable = _settings_by_team(session, teams)
    due = complaints.teams_with_steps_due(session=session, settings=settings, now=now, default_tz=default_tz)
    return unreadable + [team_id for team_id in teams if team_id in due]


@register_job("complaint_escalations", candidates=_with_steps_due)
def complaint_escalations(run: JobRun, team_id: str) -> int:
    """Each warning and escalation level due now (rules: services.complaints), written once per
    complaint, cycle, step and recipient, and built when it is sent (`_render_escalation`). Urgent
    complaints may wake people; the rest waits for the recipient's working hours."""
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
        urgent = complaint.severity == "urgent"
        for step in steps:
            for recipient in complaints.escalation_recipients(session=run.session, complaint=complaint, escalation=step):
                is_person = recipient[:1] in ("U", "W")
                person = (get_member(session=run.session, team_id=team_id, user_id=recipient, directory=run.directory,
                                     now=run.now)
                          if is_person else Member(team_id=team_id, user_id=recipient))  # fmt: skip
                written += enqueue(
                    run.session, now=run.now, team_id=team_id, kind="escalation", channel=recipient,
                    key=f"complaint:{complaint.id}:{complaint.cycle}:{step.step}:{recipient}", text="",
                    due_at=quiet_hours_due(run.now, member=person, settings=settings, default_tz=run.default_tz,
                                           urgent=urgent),
                    meta={"render": "escalation", "complaint_id": complaint.id, "cycle": complaint.cycle,
                          "step": step.step, "level": step.level, "locale": settings.language or person.locale,
                          "default_tz": run.default_tz},
                )  # fmt: skip
            complaints.record_escalation(session=run.session, complaint=complaint, escalation=step, now=run.now)
    return written


@register_renderer("escalation")
def _render_escalation(session: Session, payload: dict[str, Any], _directory: Directory) -> Rendered | None:
    """A warning or escalation as things are when it is sent (one may wait for its recipient's
    working hours): its clocks as of then, and nothing of a customer erased meanwhile (the row
    holds ids, not the title or the name). None once it is not worth sending (`sla.still_due`):
    resolved or closed meanwhile, reopened (its new cycle warns anew), or, for the first-response
    warning, acknowledged."""
    from bot.services import complaints
    from bot.services.sla import still_due

    complaint = session.get(Complaint, int(payload["complaint_id"]))
    if complaint is None or not still_due(complaint, payload["step"], payload["cycle"]):
        return None
    card = complaints.card(session=session, complaint=complaint, now=now_of(session), default_tz=payload["default_tz"])
    message = escalation_message(payload.get("locale"), card, payload["step"])
    return Rendered(message["text"], message["blocks"])


# --- linked channels: the response clock -------------------------------------------------------


_RESPONSE = "response:"  # a response reminder's key: this, and its message's id


def _response_key(message_id: int) -> str:
    return f"{_RESPONSE}{message_id}"


def _with_messages_waiting(session: Session, teams: Sequence[str], now: dt.datetime, _default_tz: str) -> list[str]:
    """The workspaces with a customer's message waiting past its target (`reminders_due`' own
    test) and not reminded of yet (its key not written: `_response_key`, in SQL)."""
    from bot.services.channels import overdue

    m, n = ChannelMessage, Notification
    told = exists().where(n.team_id == m.team_id, n.key == literal(_RESPONSE) + cast(m.id, String))
    return list(session.scalars(_having(teams, m.team_id == Workspace.team_id, *overdue(now), ~told)))


@register_job("response_reminders", candidates=_with_messages_waiting)
def response_reminders(run: JobRun, team_id: str) -> int:
    """For each linked channel whose oldest customer message has waited past its target (in
    business hours, services.channels), one reminder to the customer's owner, in their working
    hours; written as it is when sent (`_render_response`), so a reply meanwhile cancels it."""
    from bot.services import channels

    # Read every minute in a transaction that only reads (on SQLite touches go on being written
    # meanwhile), leaving out the messages reminded of already; written only when one is due.
    with reading():
        settings = team_settings(run.session, team_id)
        waiting = channels.reminders_due(session=run.session, team_id=team_id, now=run.now)
        told = written_keys(run.session, team_id, [_response_key(due.message.id) for due in waiting])
    run.session.commit()
    written = 0
    for due in (due for due in waiting if _response_key(due.message.id) not in told):
        try:
            with run.session.begin_nested():
                owner = get_member(session=run.session, team_id=team_id, user_id=due.remind, directory=run.directory,
                                   now=run.now)  # fmt: skip
                written += enqueue(
                    run.session, now=run.now, team_id=team_id, key=_response_key(due.message.id), kind="response",
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
    """Someone's App Home as things are when it is sent (services.home.asked_homes asked for it),
    on their date at the sender's instant; their Slack profile read again when it is a day old,
    as a request would (their language, time zone, and whether Slack still makes them an admin)."""
    mine = home.of_person(session=session, team_id=payload["team_id"], user_id=payload["user_id"],
                          now=now_of(session), default_tz=payload["default_tz"], directory=directory)  # fmt: skip
    return Rendered(text="", blocks=[], view=fit_view(home_page(mine.locale, mine.page)))


# --- satisfaction check-ins and the weekly report ---------------------------------------------

CHECKINS_PER_DM = 5  # a few at a time: a new team with many customers due is not flooded


def _with_checkins_due(session: Session, teams: Sequence[str], now: dt.datetime, default_tz: str) -> list[str]:
    """The workspaces with a customer whose check-in is due on their own date at `now` (as the
    job reckons it), a statement per date (at most three at one instant)."""
    from bot.services import satisfaction

    readable, keep = _settings_by_team(session, teams)
    on: dict[dt.date, list[str]] = {}
    for team_id, settings in readable.items():
        on.setdefault(_team_today(settings, now, default_tz), []).append(team_id)
    for today, these in on.items():
        keep += satisfaction.teams_with_checkins_due(session=session, teams=these, today=today)
    return keep


@register_job("satisfaction_checkins", candidates=_with_checkins_due)
def satisfaction_checkins(run: JobRun, team_id: str) -> int:
    """Once a week at most, each owner is asked for the satisfaction of a few customers whose
    check-in is due (services.satisfaction), in one DM, in their working hours."""
    from bot.services import satisfaction

    # Read in a transaction that only reads (on SQLite touches go on being written meanwhile):
    # every minute but once a week per owner, there is nothing to write (those asked this week
    # are left out by checkins_due).
    with reading():
        settings = team_settings(run.session, team_id)
        today = _team_today(settings, run.now, run.default_tz)
        by_owner: dict[str, list] = {}
        for customer in satisfaction.checkins_due(session=run.session, team_id=team_id, today=today):
            by_owner.setdefault(customer.owner_id, []).append(customer)
    run.session.commit()
    written = 0
    for owner_id, customers in sorted(by_owner.items()):
        member = get_member(session=run.session, team_id=team_id, user_id=owner_id, directory=run.directory,
                            now=run.now)
        locale = settings.language or member.locale
        asked = customers[:CHECKINS_PER_DM]
        body = [b for c in asked for b in checkin_blocks(locale, c)]
        written += enqueue(
            run.session, now=run.now, team_id=team_id, key=satisfaction.checkin_key(owner_id, today), kind="checkin",
            channel=owner_id, text=block_plain_text(body[:1]), blocks=body, customers=[c.id for c in asked],
            due_at=quiet_hours_due(run.now, member=member, settings=settings, default_tz=run.default_tz),
        )  # fmt: skip
    return written


def _report_week(settings: TeamSettings, now: dt.datetime, default_tz: str) -> dt.date | None:
    """A day of the week whose report is due at `now` (Monday from 09:00 team time, with a
    report channel), or None."""
    local = now.astimezone(zone(settings.tz or default_tz))
    if not settings.report_channel or local.weekday() != 0 or local.time() < dt.time(9):
        return None
    return local.date() - dt.timedelta(days=7)


def _reports_due(session: Session, teams: Sequence[str], now: dt.datetime, default_tz: str) -> list[str]:
    """The workspaces whose weekly report is due at `now` and not written yet."""
    readable, keep = _settings_by_team(session, teams)
    keys: dict[str, str] = {}
    for team_id, settings in readable.items():
        if (last_week := _report_week(settings, now, default_tz)) is not None:
            keys[team_id] = _report_key(last_week)
    if not keys:  # most minutes: not Monday from 09:00 anywhere, or no report channel
        return keep
    written = set(session.execute(select(Notification.team_id, Notification.key).where(
        Notification.team_id.in_(sorted(keys)), Notification.key.in_(sorted(set(keys.values()))))))  # fmt: skip
    return keep + [team_id for team_id, key in keys.items() if (team_id, key) not in written]


def _report_key(last_week: dt.date) -> str:
    return f"report:weekly:{(last_week - dt.timedelta(days=last_week.weekday())).isoformat()}"


@register_job("weekly_report", candidates=_reports_due)
def weekly_report(run: JobRun, team_id: str) -> int:
    """Monday from 09:00 team time: last week's team report in the report channel, once,
    with its chart in the thread (built when it is sent: `_render_weekly_report`). Decided in a
    transaction that only reads: it runs every minute, and writes once a week."""
    with reading():
        settings = team_settings(run.session, team_id)
        tz = settings.tz or run.default_tz
        last_week = _report_week(settings, run.now, run.default_tz)
        if last_week is None:
            return 0
        key = _report_key(last_week)
        if written_keys(run.session, team_id, [key]):
            return 0
    run.session.commit()
    payload = {"render": "weekly_report", "team_id": team_id, "day": last_week.isoformat(), "tz": tz}
    return int(enqueue(
        run.session, now=run.now, team_id=team_id, key=key, kind="report",
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