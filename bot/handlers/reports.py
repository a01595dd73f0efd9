"""`/crm report [week|month|quarter] [@user] [csv]`, `/crm report risk`, `/crm report grades`,
`/crm report churn [month|quarter] [csv]` (built by handlers.lifecycle), and the 1-5 buttons of
a satisfaction check-in DM.

The command is answered at once ("Working on your report…"); the report is built after the
answer (bot.later), in its own unit of work, and goes to the caller's DM: the report with its
chart, the CSV file, the customers most at risk, or grade suggestions. What the caller may
read is the service's rule (`reports.report_scope`, the viewer's customers for risk and
grades): in an "owner only" team a member gets their own figures.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from bot.charts import report_chart
from bot.context import FollowUp, RequestContext
from bot.handlers.answers import Answer, Replace
from bot.handlers.commands import usage
from bot.handlers.lifecycle import deliver_churn
from bot.handlers.registry import CommandInput, Registry
from bot.i18n import t
from bot.payloads import ButtonInput, Id
from bot.services import churn, health, reports, satisfaction, sla
from bot.views import ids
from bot.views.kit import customer_title, escape, notice
from bot.views.reports import grade_blocks, report_blocks, report_period, risk_blocks

log = logging.getLogger(__name__)
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


@dataclass(frozen=True)
class ReportAsked:
    kind: str = "week"
    user_id: str | None = None  # one owner's figures
    csv: bool = False
    risk: bool = False
    grades: bool = False  # grade suggestions
    churn: bool = False


CHURN_WORDS = ("churn", "流失")


def parse_report_args(text: str) -> dict[str, object] | None:
    """`[week|month|quarter] [@user] [csv]` in any order, `risk`, `grades`, or `churn
    [month|quarter] [csv]`, as the fields of `ReportAsked`; None when unreadable."""
    words = text.split()
    if words and words[0].lower() in ("risk", "grades"):
        return {words[0].lower(): True} if len(words) == 1 else None
    if words and words[0].lower() in CHURN_WORDS:
        return _churn_args([w.lower() for w in words[1:]])
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


def _churn_args(words: list[str]) -> dict[str, object] | None:
    """`churn [month|quarter] [csv]` (default: month)."""
    kinds = [w for w in words if w in churn.KINDS]
    if len(kinds) > 1 or words.count("csv") > 1 or len(kinds) + words.count("csv") != len(words):
        return None
    return {"churn": True, "kind": kinds[0] if kinds else "month", "csv": "csv" in words}


class ScoreButton(ButtonInput):
    refusal = "error.customer.gone"
    customer_id: Id
    score: int


def report(rq: RequestContext, cmd: CommandInput) -> Answer:
    args = parse_report_args(cmd.args)
    if args is None:
        return usage(rq, "report.usage")
    asked = ReportAsked(**args)  # type: ignore[arg-type]
    reports.report_scope(rq.viewer, asked.user_id)  # refused now, not in a DM later

    def build(later: FollowUp) -> None:
        try:
            deliver_report(later, asked)
        except Exception:
            log.exception("report for %s failed", later.actor)
            later.notifier.dm(later.actor, text=t(later.locale, "report.failed"))

    rq.after(build)
    return usage(rq, "report.working")


def deliver_report(later: FollowUp, asked: ReportAsked) -> None:
    """Build the report asked for, as the caller may read it, and put it in their DM."""
    session, viewer, locale, caller = later.session, later.viewer, later.locale, later.actor
    if asked.churn:
        deliver_churn(later, kind=asked.kind, csv=asked.csv)
        return
    if asked.grades:
        suggestions = health.grade_suggestions(session=session, viewer=viewer, now=later.now)
        body = grade_blocks(locale, suggestions, health.grade_rules(session, later.team_id), later.settings.currency)
        later.notifier.dm(caller, text=t(locale, "grades.text"), blocks=body)
        return
    if asked.risk:
        risk = health.risk_report(session=session, viewer=viewer, now=later.now, today=later.today)
        later.notifier.dm(caller, text=t(locale, "risk.title"), blocks=risk_blocks(locale, risk, later.settings.currency))
        return
    # Response and resolution times are counted in the team calendar's business hours.
    calendar, _ = sla.team_rules(session, later.team_id, later.default_tz)
    result = reports.build_report(
        session=session, viewer=viewer, kind=asked.kind, today=later.today, tz=later.tz, user_id=asked.user_id,
        duration=calendar.hours_between,
    )  # fmt: skip
    start = result.period.first_day.isoformat()
    if asked.csv:
        later.notifier.upload_to_dm(caller, filename=f"report-{asked.kind}-{start}.csv", content=reports.report_csv(result),
                                    title=t(locale, "report.csv.title", start=start))  # fmt: skip
        return
    later.notifier.dm(caller, text=report_period(locale, result), blocks=report_blocks(locale, result))
    later.notifier.upload_to_dm(caller, filename=f"report-{asked.kind}-{start}.png", content=report_chart(locale, result),
                                title=t(locale, "report.chart.title", start=start))  # fmt: skip


def score(rq: RequestContext, inp: ScoreButton) -> Answer:
    """A 1-5 button of a check-in DM: keep the score (a low one alerts the leads, through the
    outbox) and say so."""
    recorded = satisfaction.record_satisfaction(session=rq.session, viewer=rq.viewer, customer_id=inp.customer_id,
                                                score=inp.score, surface=rq.surface, now=rq.now,
                                                told_by=rq.if_refused)  # fmt: skip
    name = escape(customer_title(recorded.customer))
    text = t(rq.locale, "checkin.recorded", score=recorded.score.score, customer=name)
    return Replace(text, notice(text))


def register(on: Registry) -> None:
    on.command("report", report, reads_only=True)
    on.action(ids.SATISFACTION_SCORE, score)

