"""What touchbase is doing, for Prometheus: `GET /metrics` (`exposition`).

- `touchbase_requests_total{kind, outcome}` and `touchbase_request_ack_seconds{kind}`: Slack's
  requests (and the OAuth pages) by kind, how they ended, and how long Slack waited for the
  answer (listeners finish before the answer, so this is the ack time Slack's 3 s limit is about);
  `touchbase_request_cpu_seconds_total{kind}`: the CPU time the answering thread spent on the
  requests bolt dispatches (divided by them, what a request costs the bot's process before its
  answer; not the HTTP stack's work, nor a database server's);
- `touchbase_slack_api_calls_total{method, result}`: Web API calls (`MeteredWebClient`) by
  method and result: ok, ratelimited, error;
- `touchbase_outbox_notifications{status}` and `touchbase_outbox_oldest_pending_seconds`: the
  scheduler's outbox as the database holds it at the scrape (`OutboxCollector`), and how long
  the oldest due notification has waited; `touchbase_outbox_deliveries_total{result}`: what
  the senders did with the rows they took;
- `touchbase_job_runs_total{job, outcome}` and `touchbase_job_seconds{job}`: scheduled jobs;
- `touchbase_sqlite_write_turns_total` and `touchbase_sqlite_write_turn_seconds_total{phase}`: on
  SQLite, the write turns taken (bot.storage.db: one writer at a time), and the time writers
  spent `waiting` for theirs and `holding` it. Holding over the seconds elapsed is how busy the
  one writer is; near 1, writes a second can only grow by each holding it for less.

Labels hold only values from fixed sets (kinds, outcomes, API method names, job names, row
states and the write turn's phases), never a workspace, a person or anything typed, so the
series stay few and hold no personal data.

Under gunicorn each worker is its own process: with `PROMETHEUS_MULTIPROC_DIR` set (an empty
directory, before the server starts) prometheus_client's multiprocess mode writes every
process's values there and a scrape adds them up, whichever worker answers it.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy import Engine, func, select

from bot.clock import wall
from bot.slackhttp import KeptAliveWebClient
from bot.storage import db
from bot.storage.models import OUTBOX_STATES, PENDING, SENDER_GONE, Notification, sender_seen_within

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

# The kinds and outcomes a request is counted under (bot.app).
KINDS = ("command", "action", "view", "options", "shortcut", "event", "install", "oauth_redirect", "other")
OUTCOMES = ("ok", "refused", "rejected", "failed", "not_installed")
SLACK_RESULTS = ("ok", "ratelimited", "error")
# The outbox's row states (bot.scheduler.outbox), each reported even when no row has it.
OUTBOX_STATUSES = OUTBOX_STATES

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter("touchbase_requests", "Requests from Slack and to the OAuth pages, by kind and outcome.",
                   ["kind", "outcome"], registry=REGISTRY)  # fmt: skip
ACK_SECONDS = Histogram(
    "touchbase_request_ack_seconds", "Time from a request's arrival to its answer (Slack waits at most 3 s).",
    ["kind"], buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0), registry=REGISTRY,
)  # fmt: skip
REQUEST_CPU = Counter(
    "touchbase_request_cpu_seconds", "CPU time of the thread answering Slack's requests, by kind (until the answer).",
    ["kind"], registry=REGISTRY,
)  # fmt: skip
SLACK_CALLS = Counter("touchbase_slack_api_calls", "Slack Web API calls, by method and result.",
                      ["method", "result"], registry=REGISTRY)  # fmt: skip
DELIVERIES = Counter("touchbase_outbox_deliveries", "Notifications the senders finished, by result.",
                     ["result"], registry=REGISTRY)  # fmt: skip
JOB_RUNS = Counter("touchbase_job_runs", "Scheduled job runs, by job and outcome.", ["job", "outcome"],
                   registry=REGISTRY)  # fmt: skip
JOB_SECONDS = Histogram(
    "touchbase_job_seconds", "How long a scheduled job ran (all workspaces).", ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0), registry=REGISTRY,
)  # fmt: skip
WRITE_TURNS = Counter("touchbase_sqlite_write_turns", "SQLite write transactions, each in its turn.",
                      registry=REGISTRY)  # fmt: skip
WRITE_TURN_SECONDS = Counter(
    "touchbase_sqlite_write_turn_seconds", "Time SQLite's writers spent waiting for their turn, and holding it.",
    ["phase"], registry=REGISTRY,
)  # fmt: skip
TURN_PHASES = ("waiting", "holding")
for _phase in TURN_PHASES:  # each shown from the start, 0 on PostgreSQL
    WRITE_TURN_SECONDS.labels(_phase)

_METHOD = re.compile(r"[a-zA-Z][a-zA-Z0-9.]{0,63}")


def observe_request(kind: str, outcome: str, seconds: float, cpu_seconds: float | None = None) -> None:
    kind = kind if kind in KINDS else "other"
    REQUESTS.labels(kind, outcome if outcome in OUTCOMES else "failed").inc()
    ACK_SECONDS.labels(kind).observe(seconds)
    if cpu_seconds is not None:
        REQUEST_CPU.labels(kind).inc(cpu_seconds)


def observe_turn(waited: float, held: float | None) -> None:
    """A write turn given back (`held` None: a writer that gave up waiting for it)."""
    WRITE_TURN_SECONDS.labels("waiting").inc(waited)
    if held is not None:
        WRITE_TURNS.inc()
        WRITE_TURN_SECONDS.labels("holding").inc(held)


db.turn_observers.append(observe_turn)


def observe_slack_call(method: str, result: str) -> None:
    SLACK_CALLS.labels(method if _METHOD.fullmatch(method) else "other", result).inc()


def observe_delivery(result: str, count: int = 1) -> None:
    if count:
        DELIVERIES.labels(result).inc(count)


def observe_job(job: str, seconds: float, *, ok: bool) -> None:
    JOB_RUNS.labels(job, "ok" if ok else "failed").inc()
    JOB_SECONDS.labels(job).observe(seconds)


def slack_result(error: BaseException | None) -> str:
    """ok, ratelimited or error: how a Web API call ended."""
    if error is None:
        return "ok"
    response = getattr(error, "response", None)
    if isinstance(error, SlackApiError) and response is not None:
        if response.status_code == 429 or response.get("error") == "ratelimited":
            return "ratelimited"
    return "error"


class MeteredWebClient(KeptAliveWebClient):
    """A WebClient that counts its calls by method and result, over kept-alive connections
    (bot.slackhttp). Every client touchbase makes is one; bolt's per-request clients are made
    into one by the app (bot.app)."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:  # type: ignore[override]
        try:
            response = super().api_call(api_method, **kwargs)
        except BaseException as exc:
            observe_slack_call(api_method, slack_result(exc))
            raise
        observe_slack_call(api_method, "ok")
        return response


def metered(client: WebClient) -> MeteredWebClient:
    """The same client (token, address, timeouts, retries), counted."""
    if isinstance(client, MeteredWebClient):
        return client
    return MeteredWebClient(
        token=client.token, base_url=client.base_url, timeout=client.timeout, ssl=client.ssl, proxy=client.proxy,
        headers=client.headers, team_id=client.default_params.get("team_id"), logger=client.logger,
        retry_handlers=list(client.retry_handlers) if client.retry_handlers is not None else None,
    )  # fmt: skip


class OutboxCollector:
    """The outbox at the scrape: rows by status, the age of the oldest notification that is due
    and still pending (0 when none waits), and the senders running with SENDER_SHARE=auto. Two
    index-only queries over all workspaces, and one of a row per sender."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        n = Notification
        try:
            with self.engine.connect() as connection:
                counts = dict(connection.execute(select(n.status, func.count()).group_by(n.status)).all())
                oldest = connection.scalar(select(func.min(n.due_at)).where(n.status == PENDING, n.due_at <= now))
                senders = connection.scalar(select(func.count()).where(sender_seen_within(now)))
        except Exception:  # noqa: BLE001 - no database, no outbox figures; the rest is still served
            return
        by_status = GaugeMetricFamily("touchbase_outbox_notifications", "Outbox rows by status.", labels=["status"])
        for status in OUTBOX_STATUSES:
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        if oldest is not None and oldest.tzinfo is None:  # SQLite hands back naive UTC
            oldest = oldest.replace(tzinfo=dt.UTC)
        age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
        yield GaugeMetricFamily("touchbase_outbox_oldest_pending_seconds",
                                "How long the oldest due, still pending notification has waited.", value=age)  # fmt: skip
        yield GaugeMetricFamily("touchbase_outbox_senders", "Senders sharing the workspaces out (SENDER_SHARE=auto), "
                                f"seen in the last {SENDER_GONE.total_seconds():.0f} s.", value=senders or 0)  # fmt: skip


class _Own:
    """This process's metrics (single-process mode)."""

    def collect(self) -> Iterator[Metric]:
        return REGISTRY.collect()


def exposition(engine: Engine | None = None, *, clock: Callable[[], dt.datetime] = wall,
               more: Iterable[Any] = ()) -> tuple[bytes, str]:  # fmt: skip
    """The body and content type of `GET /metrics`: every process's counters (multiprocess
    mode) or this one's, the outbox read from `engine` as of `clock()`, and the collectors in
    `more` (read at the scrape, in this process)."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_DIR):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Own())  # type: ignore[arg-type]
    if engine is not None:
        registry.register(OutboxCollector(engine, clock))  # type: ignore[arg-type]
    for collector in more:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST


def prepare_multiprocess_dir() -> None:
    """Before the server starts: empty the multiprocess directory of an earlier run's values."""
    path = os.environ.get(MULTIPROC_DIR)
    if path and os.path.isdir(path):
        for stale in glob.glob(os.path.join(path, "*.db")):
            os.remove(stale)


def process_gone(pid: int) -> None:
    """A gunicorn worker exited: drop its live values (its counters stay counted)."""
    if os.environ.get(MULTIPROC_DIR):
        multiprocess.mark_process_dead(pid)
