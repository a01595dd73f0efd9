"""`/crm report [week|month|quarter] [@user] [csv]`, `/crm report risk` and `/crm report grades`.

The command is acknowledged at once ("Working on your report…"); the report is built in a
worker thread that opens its own database session (the request's session is closed when the
request ends, and under `process_before_response` Slack would otherwise wait for the whole
report). The result goes to the caller's DM: the report with its chart, the CSV file, the
customers most at risk, or grade suggestions. A bounded pool keeps a burst of reports from
starving the server.

Also here: the 1-5 buttons of a satisfaction check-in DM (`checkin_blocks`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.app import RequestContext
from bot.charts import report_chart
from bot.clock import local_today
from bot.handlers.commands import MENTION, Command, reply_text, subcommand
from bot.handlers.datacare import upload_to_dm
from bot.i18n import t
from bot.services import complaints, health, reports, satisfaction
from bot.services.errors import UserError
from bot.storage.db import make_session_factory, reading, session_scope
from bot.storage.models import Customer, utcnow
from bot.views import ids
from bot.views.kit import customer_title, escape, section
from bot.views.reports import (
    grade_blocks,
    report_blocks,
    report_period,
    risk_blocks,
)

log = logging.getLogger(__name__)
WORKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="report")


@dataclass(frozen=True)
class ReportJob:
    team_id: str
    caller: str
    locale: str | None
    tz: str | None
    today: dt.date
    kind: str = "week"
    user_id: str | None = None  # a report about one manager
    csv: bool = False
    risk: bool = False
    grades: bool = False  # grade suggestions
    default_tz: str = "UTC"  # TZ_DEFAULT: the team calendar's zone until the team sets its own
    owner_id: str | None = None  # `owner only` teams: a member's risk and grade lists hold their own


def parse_report_args(text: str) -> dict[str, object] | None:
    """`[week|month|quarter] [@user] [csv]` in any order, `risk` or `grades`; None when unreadable."""
    words = text.split()
    if words and words[0].lower() in ("risk", "grades"):
        return {words[0].lower(): True} if len(words) == 1 else None
    found: dict[str, object] = {}
    for word in words:
        mention = MENTION.match(word)
        if word.lower() in reports.PERIOD_KINDS and "kind" not in found:
            found["kind"] = word.lower()
        elif word.lower() == "csv" and "csv" not in found:
            found["csv"] = True
        elif mention and "user_id" not in found:
            found["user_id"] = mention.group(1)
        else:
            return None
    return found


@subcommand("report")
def report(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    args = parse_report_args(cmd.args)
    if args is None:
        return reply_text(ack, t(tb.locale, "report.usage"))
    if not tb.viewer.sees_all:
        # `owner only`: a member reads their own figures and customers, nobody else's.
        if args.get("user_id") not in (None, cmd.user_id):
            return reply_text(ack, t(tb.locale, "report.own_only"))
        args = {**args, "owner_id": cmd.user_id}
        if not args.get("risk") and not args.get("grades"):
            args["user_id"] = cmd.user_id
    tz = tb.member().tz
    job = ReportJob(team_id=tb.team_id, caller=cmd.user_id, locale=tb.locale, tz=tz, default_tz=tb.default_tz,
                    today=local_today(utcnow(), tz), **args)  # type: ignore[arg-type]  # fmt: skip
    reply_text(ack, t(tb.locale, "report.working"))
    submit(make_session_factory(tb.session.get_bind()), client, job)


def submit(factory: sessionmaker[Session], client: WebClient, job: ReportJob) -> Future[None]:
    return WORKERS.submit(_reading, run_report, factory, client, job)


def _reading(fn: Any, *args: Any) -> None:
    """A report only reads: on SQLite it must not hold the write lock while it counts."""
    with reading():
        fn(*args)


def run_report(factory: sessionmaker[Session], client: WebClient, job: ReportJob) -> None:
    """Build the report in its own unit of work and deliver it to the caller's DM."""
    locale = job.locale
    try:
        if job.grades:
            with session_scope(factory) as session:
                suggestions = health.grade_suggestions(session=session, team_id=job.team_id, now=utcnow(),
                                                       owner_id=job.owner_id)  # fmt: skip
                body = grade_blocks(locale, suggestions, health.grade_rules(session, job.team_id))
            client.chat_postMessage(channel=job.caller, text=t(locale, "grades.text"), blocks=body)
            return
        if job.risk:
            with session_scope(factory) as session:
                rows = health.at_risk(session=session, team_id=job.team_id, now=utcnow(), today=job.today,
                                      owner_id=job.owner_id)  # fmt: skip
                body = risk_blocks(locale, rows)  # rendered while the customers are loaded
            client.chat_postMessage(channel=job.caller, text=t(locale, "risk.title"), blocks=body)
            return
        with session_scope(factory) as session:
            # Response and resolution times are counted in the team calendar's business hours.
            calendar, _ = complaints.team_rules(session, job.team_id, job.default_tz)
            result = reports.build_report(
                session=session, team_id=job.team_id, kind=job.kind, today=job.today, tz=job.tz, user_id=job.user_id,
                duration=lambda a, b: calendar.between(a, b).total_seconds() / 3600,
            )
        start = result.period.first_day.isoformat()
        if job.csv:
            name = f"report-{job.kind}-{start}.csv"
            upload_to_dm(client, job.caller, filename=name, content=reports.report_csv(result),
                         title=t(locale, "report.csv.title", start=start))  # fmt: skip
            return
        body = report_blocks(locale, result)
        client.chat_postMessage(channel=job.caller, text=report_period(locale, result), blocks=body)
        upload_to_dm(client, job.caller, filename=f"report-{job.kind}-{start}.png", content=report_chart(locale, result),
                     title=t(locale, "report.chart.title", start=start))  # fmt: skip
    except Exception:
        log.exception("report for %s failed", job.caller)
        try:
            client.chat_postMessage(channel=job.caller, text=t(locale, "report.failed"))
        except Exception:  # noqa: BLE001 - telling the caller is best effort
            log.warning("could not tell %s that the report failed", job.caller)


def on_satisfaction(ack: Ack, body: dict[str, Any], context: dict[str, Any], respond: Respond) -> None:
    """A 1-5 button of a check-in DM: keep the score (a low one alerts the leads) and say so."""
    ack()
    tb: RequestContext = context["tb"]
    try:
        value = json.loads(str(body["actions"][0].get("value") or ""))
        customer_id, score = int(value["customer_id"]), int(value["score"])
    except (ValueError, KeyError, TypeError):
        customer_id, score = 0, 0  # forged or broken: names no customer

    def alert(customer: Customer) -> str:
        name = escape(customer_title(customer))
        return t(tb.locale, "checkin.alert", actor=tb.user_id, score=score, customer=name)

    try:
        recorded = satisfaction.record_satisfaction(
            session=tb.session, team_id=tb.team_id, actor_id=tb.user_id or "", customer_id=customer_id, score=score,
            surface=tb.surface, notifier=tb.notifier, alert=alert,
        )  # fmt: skip
    except UserError as err:
        return respond(text=t(tb.locale, err.key, **err.params), response_type="ephemeral", replace_original=False)
    name = escape(customer_title(recorded.customer))
    text = t(tb.locale, "checkin.recorded", score=recorded.score.score, customer=name)
    respond(text=text, blocks=[section(text)], replace_original=True)


def register(app: Any) -> None:
    app.action(ids.SATISFACTION_SCORE)(on_satisfaction)
