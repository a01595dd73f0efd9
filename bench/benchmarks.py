"""The registered benchmarks. Each returns Markdown tables; `bench.run` runs them in order.

To add one (touches, complaints, sweep, reports as they land): write `fn(ctx) -> list[Table]`,
decorate it with `@benchmark("name")` (`servers=True` when it talks to the running bot),
and remove its line from `harness.PENDING`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import (
    String,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bench.generate import TeamData
from bench.harness import (
    CPU_PARTS,
    Context,
    Payload,
    Sample,
    Table,
    benchmark,
    command_payload,
    cpu_ms,
    cpu_reading,
    load,
    ms,
    percentile,
    prepared,
    suggestion_payload,
)
from bot.clock import wall
from bot.scheduler import reminders
from bot.scheduler.base import JobRun
from bot.services import churn, complaints, reports, sla
from bot.services.access import Viewer
from bot.services.find import SEARCH_LIMIT, resolve_customer, search_customers
from bot.storage.db import unit_of_work
from bot.storage.models import (
    AuditEvent,
    ChannelLink,
    ChannelMessage,
    Complaint,
    Customer,
    Member,
    Notification,
    StageChange,
    Touch,
)
from bot.views import ids
from bot.views.touches import touch_modal

# Issue 18's acknowledge targets (p99, seconds): at concurrency 1, and under a burst (16).
ACK_P99_ALONE, ACK_P99_ALONE_SEARCH = 0.010, 0.020
ACK_P99_BURST, ACK_P99_BURST_SQLITE_WRITE = 0.100, 0.250
WRITES_TARGET = 400  # touches per second at concurrency 8


def ack_target(request: str, concurrency: int, *, sqlite: bool) -> float:
    """The p99 a request's ack must stay within: search (find, type-ahead) has twice the
    time of the others alone; under a burst, Log touch on SQLite waits for the one writer."""
    if concurrency == 1:
        return ACK_P99_ALONE_SEARCH if "find" in request or "type-ahead" in request else ACK_P99_ALONE
    return ACK_P99_BURST_SQLITE_WRITE if sqlite and "Log touch" in request else ACK_P99_BURST
SEARCH_P95_TARGET = 0.030
SWEEP_RATIO_TARGET = 2.0
REPORT_TARGET = 2.0  # seconds, a report (issue 9)
MONTH_REPORT_TARGET = 1.0  # seconds, the month report (issue 18)
WRITE_CONCURRENCY = 8
WRITE_MARK = "bench write"  # the summary of every touch the benchmarks log, to remove them after
WRITE_POOL = 200  # customers the benchmarks log touches on, cycled
SLACK_GIVES_UP = 3.0  # seconds: an ack later than this is a failure for the user
ROUNDS = 4  # touchbase and no-op alternate in rounds, so neighbours' load hits both alike
USERS = 8  # distinct callers, busiest owner first
GUEST_TEAM = "T0BENCHGUEST"  # the customers' own workspace: their people are Slack Connect guests
GUESTS = 50  # distinct people of the customers who write in their channels
BOT_USER = "U0BENCHBOT"  # who the app is in the benchmark's workspace (it logs the channels' touches)


# --- what people type ------------------------------------------------------------------------


FIND_KINDS = ("a word of a name", "a whole name", "`li` (matches many)", "`example.cn` (matches half)",
              "a phone fragment", "no match")  # fmt: skip


def labelled_find_queries(team: TeamData) -> list[tuple[str, str]]:
    """A mix of what people search for, each with its kind (`FIND_KINDS`); a word of a
    Chinese name is two of its characters."""
    queries: list[tuple[str, str]] = []
    for i, name in enumerate(team.sample_names):
        kind = i % len(FIND_KINDS)
        query = [
            name.split()[0] if name.isascii() else name[2:4], name, "li", "example.cn", f"555-{i % 10}", "zzqx",
        ][kind]  # fmt: skip
        queries.append((FIND_KINDS[kind], query))
    return queries or [(FIND_KINDS[0], "acme")]


def find_queries(team: TeamData) -> list[str]:
    return [q for _, q in labelled_find_queries(team)]


def labelled_typeahead_values(team: TeamData) -> list[tuple[str, str]]:
    """What a picker sends while someone types a name: one, two, then three characters."""
    values = [(f"{k} character{'s' if k > 1 else ''} typed", name[:k]) for name in team.sample_names for k in (1, 2, 3)]
    return values or [("1 character typed", "a")]


def typeahead_values(team: TeamData) -> list[str]:
    return [v for _, v in labelled_typeahead_values(team)]


def show_refs(team: TeamData) -> list[str]:
    refs = [ref for name, number in zip(team.sample_names, team.sample_numbers, strict=True)
            for ref in (name, f"#{number}")]  # fmt: skip
    return refs or ["#1"]


# --- acknowledge latency over HTTP --------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    payload: Callable[[int], Payload]
    check: Callable[[bytes], bool]  # the bot's answer is the real one (a 200 with no content proves nothing)
    # For an event, whose ack is an empty 200 whatever the bot did: the rows it has stored so far,
    # counted before and after each measured concurrency (each request must have stored one).
    stored: Callable[[], int] | None = None


# --- the "Log touch" modal, submitted ---------------------------------------------------------


@dataclass(frozen=True)
class WriteTarget:
    customer_id: int
    owner_id: str
    view: dict[str, Any]  # the modal as the bot opens it for this customer


def write_targets(ctx: Context) -> list[WriteTarget]:
    """The "Log touch" modal for a fixed set of customers (the last numbers), built by
    `touch_modal` as the bot builds it; `writes_undone` restores them after."""
    team = ctx.team
    with ctx.sessions() as session:
        found = session.scalars(
            select(Customer).where(Customer.team_id == team.team_id, Customer.owner_id.is_not(None))
            .order_by(Customer.number.desc()).limit(WRITE_POOL)
        ).all()  # fmt: skip
        return [WriteTarget(c.id, str(c.owner_id), touch_modal(None, now=wall(), customer=c)) for c in found]


def touch_submission(target: WriteTarget, *, team: str, n: int) -> Payload:
    """A signed `view_submission` of the Log touch modal, filled as tests/slackclient.py's
    `submit()` fills it: every input keeps its initial value, the summary is typed."""
    from tests.slackclient import _INITIAL, _element_state

    typed = {"summary": f"{WRITE_MARK} {n}"}
    state = {
        block["block_id"]: {block["element"]["action_id"]: _element_state(block["element"], typed.get(block["block_id"], _INITIAL))}
        for block in target.view["blocks"] if block.get("type") == "input"
    }  # fmt: skip
    payload = {
        "type": "view_submission", "team": {"id": team, "domain": "bench"},
        "user": {"id": target.owner_id, "team_id": team}, "api_app_id": "A0BENCH01", "trigger_id": f"bench.{n}",
        "view": dict(target.view, state={"values": state}, id=f"V{n}", team_id=team),
    }  # fmt: skip
    return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"


def _accepted(body: bytes) -> bool:
    """A view_submission the bot accepted: an empty ack (errors come back as `response_action`)."""
    return b"response_action" not in body


@contextmanager
def writes_undone(ctx: Context, targets: list[WriteTarget]) -> Iterator[None]:
    """Remove what the benchmarks' touches changed, so a reused data set stays the same: the
    touches (their revisit_done rows go with them), their audit rows, the stage moves they
    caused, and the customers' revisit and last touch dates and stage."""
    ids = [t.customer_id for t in targets]
    with ctx.engine.connect() as conn:
        saved = conn.execute(select(Customer.id, Customer.next_revisit, Customer.last_touch_at, Customer.stage,
                                    Customer.stage_since).where(Customer.id.in_(ids))).all()  # fmt: skip
        last_change = conn.scalar(select(func.coalesce(func.max(StageChange.id), 0)))
    try:
        yield
    finally:
        with ctx.engine.begin() as conn:
            team_id = ctx.team.team_id
            # The App Homes and DMs the touches asked for (services.home.asked_homes, services.notices):
            # a row the sender still holds is then not its to finish (its outcome is fenced off).
            conn.execute(delete(Notification).where(Notification.team_id == team_id,
                                                    Notification.kind.in_(("home", "said"))))  # fmt: skip
            written = select(Touch.id).where(Touch.team_id == team_id, Touch.summary.like(f"{WRITE_MARK} %"))
            touch_ids = list(conn.scalars(written))
            for i in range(0, len(touch_ids), 500):
                chunk = touch_ids[i : i + 500]
                conn.execute(delete(AuditEvent).where(AuditEvent.team_id == team_id, AuditEvent.entity == "touch",
                                                      AuditEvent.entity_id.in_(chunk)))  # fmt: skip
                conn.execute(delete(Touch).where(Touch.id.in_(chunk)))
            conn.execute(delete(StageChange).where(StageChange.team_id == team_id, StageChange.id > last_change))
            if saved:
                conn.execute(
                    update(Customer).where(Customer.id == bindparam("cid"))
                    .values(next_revisit=bindparam("nr"), last_touch_at=bindparam("lt"), stage=bindparam("st"),
                            stage_since=bindparam("ss")),
                    [{"cid": cid, "nr": nr, "lt": lt, "st": st, "ss": ss} for cid, nr, lt, st, ss in saved],
                )  # fmt: skip


# --- a customer's channel: messages from the customer's people --------------------------------


@contextmanager
def channels_linked(ctx: Context, targets: list[WriteTarget]) -> Iterator[list[str]]:
    """A channel linked to each write target's customer, as `/crm link` links one; removed again
    after, with the messages stored there (the touches they logged go with `writes_undone`)."""
    team_id = ctx.team.team_id
    channels = [f"C0BENCHLINK{i:04d}" for i in range(len(targets))]
    mine = (ChannelLink.team_id == team_id, ChannelLink.channel_id.in_(channels))

    def remove(conn: Any) -> None:
        conn.execute(delete(ChannelMessage).where(ChannelMessage.team_id == team_id,
                                                  ChannelMessage.channel_id.in_(channels)))  # fmt: skip
        conn.execute(delete(ChannelLink).where(*mine))

    with ctx.engine.begin() as conn:
        remove(conn)  # an interrupted run's
        conn.execute(insert(ChannelLink), [
            {"team_id": team_id, "channel_id": channel, "customer_id": t.customer_id, "contacts": [],
             "linked_by": t.owner_id, "created_at": wall()} for channel, t in zip(channels, targets, strict=True)
        ])  # fmt: skip
    try:
        yield channels
    finally:
        with ctx.engine.begin() as conn:
            remove(conn)


def channel_messages(channels: list[str], *, team: str) -> Callable[[int], Payload]:
    """`message` events from the customers' people (Slack Connect guests) in their linked
    channels, each with a `ts` of its own (Slack's key for a message, which the bot stores once):
    the first of a channel's hour also logs a touch, the others start a response clock."""
    count = itertools.count()  # across every load of the run, so that no message is sent twice
    second = int(wall().timestamp())

    def payload(_n: int) -> Payload:
        k = next(count)
        ts = f"{second}.{k:06d}"
        event = {"type": "message", "channel": channels[k % len(channels)], "channel_type": "channel",
                 "user": f"U0BENCHG{k % GUESTS:03d}", "user_team": GUEST_TEAM, "source_team": GUEST_TEAM,
                 "team": GUEST_TEAM, "text": f"{WRITE_MARK} {k}: 你好, any news on the delivery?", "ts": ts,
                 "event_ts": ts}  # fmt: skip
        body = {"type": "event_callback", "team_id": team, "api_app_id": "A0BENCH01", "event": event,
                "event_id": f"Ev0BENCH{k:08d}", "event_time": second,
                "authorizations": [{"team_id": team, "user_id": BOT_USER, "is_bot": True}]}  # fmt: skip
        return json.dumps(body).encode(), "application/json"

    return payload


def messages_stored(ctx: Context, channels: list[str]) -> Callable[[], int]:
    def count() -> int:
        with ctx.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(ChannelMessage).where(
                ChannelMessage.team_id == ctx.team.team_id, ChannelMessage.channel_id.in_(channels))) or 0)  # fmt: skip

    return count


def dm_floor(ctx: Context, targets: list[WriteTarget]) -> float:
    """The least time in which the sender may post one DM per touch of the run within the limits
    it keeps to (bot.scheduler.pacing): the workspace's budget and each author's channel."""
    from bot.scheduler.pacing import CHANNEL_BURST, CHANNEL_RATE, MARGIN, WORKSPACE_PER_MINUTE

    per_author: dict[str, int] = {}
    for n in range(ctx.requests):
        author = targets[n % len(targets)].owner_id
        per_author[author] = per_author.get(author, 0) + 1
    per_second = WORKSPACE_PER_MINUTE * MARGIN / 60
    workspace = max(0.0, (ctx.requests - per_second) / per_second)  # a second's worth goes at once
    channels = max((k - CHANNEL_BURST) / CHANNEL_RATE for k in per_author.values())
    return max(workspace, channels, 0.0)


def homes_waiting(ctx: Context) -> int:
    """The App Homes and DMs asked for and not yet sent by the worker's sender."""
    with ctx.engine.connect() as conn:
        query = select(func.count()).select_from(Notification).where(
            Notification.team_id == ctx.team.team_id, Notification.kind.in_(("home", "said")),
            Notification.status.in_(("pending", "sending")))  # fmt: skip
        return int(conn.scalar(query) or 0)


def homes_settled(ctx: Context, timeout: float = 300.0) -> float:
    """Wait (at most `timeout` s) until the worker has sent every Home and DM asked for; the seconds waited."""
    started = time.perf_counter()
    while homes_waiting(ctx) and time.perf_counter() - started < timeout:
        time.sleep(0.1)
    return time.perf_counter() - started


def ack_scenarios(team: TeamData, targets: list[WriteTarget] | None = None,
                  channels: Scenario | None = None) -> list[Scenario]:  # fmt: skip
    users = team.members[:USERS] or ("U0BENCH01",)
    finds, refs, values = find_queries(team), show_refs(team), typeahead_values(team)

    def user(n: int) -> str:
        return users[n % len(users)]

    return [
        Scenario("`/crm help`", lambda n: command_payload("help", team=team.team_id, user=user(n), n=n),
                 # The help list in the caller's language (zh-CN members get `/crm 查找`, JSON-escaped).
                 lambda b: b'"blocks"' in b and b"/crm " in b),
        Scenario("`/crm find`", lambda n: command_payload(f"find {finds[n % len(finds)]}", team=team.team_id,
                                                          user=user(n), n=n),
                 lambda b: b'"blocks"' in b),
        Scenario("`/crm show`", lambda n: command_payload(f"show {refs[n % len(refs)]}", team=team.team_id,
                                                          user=user(n), n=n),
                 lambda b: b'"blocks"' in b),
        Scenario("type-ahead `block_suggestion`",
                 lambda n: suggestion_payload(ids.CUSTOMER_PICKER, values[n % len(values)], team=team.team_id,
                                              user=user(n)),
                 lambda b: b'"options"' in b),
        Scenario("`/crm due`", lambda n: command_payload("due", team=team.team_id, user=user(n), n=n),
                 lambda b: b'"blocks"' in b),
        Scenario("`/crm complaints`", lambda n: command_payload("complaints", team=team.team_id, user=user(n), n=n),
                 lambda b: b'"blocks"' in b),
    ] + ([
        Scenario("Log touch `view_submission`",
                 lambda n: touch_submission(targets[n % len(targets)], team=team.team_id, n=n), _accepted),
    ] if targets else []) + ([channels] if channels else [])  # fmt: skip


def _merge(a: Sample, b: Sample) -> Sample:
    return Sample(a.seconds + b.seconds, a.errors + b.errors, a.first_error or b.first_error)


@benchmark("ack", servers=True)
def ack_latency(ctx: Context) -> list[Table]:
    assert ctx.servers is not None
    targets = write_targets(ctx)
    with writes_undone(ctx, targets), channels_linked(ctx, targets) as channels:
        posted = Scenario(CHANNEL_MESSAGE, channel_messages(channels, team=ctx.team.team_id), lambda _b: True,
                          stored=messages_stored(ctx, channels))  # fmt: skip
        return _ack_latency(ctx, ack_scenarios(ctx.team, targets, posted))


CHANNEL_MESSAGE = "a customer's channel message `event_callback`"


def _ack_latency(ctx: Context, scenarios: list[Scenario]) -> list[Table]:
    assert ctx.servers is not None
    tb, noop = ctx.servers.touchbase, ctx.servers.noop
    rows, notes, split = [], [], []
    for scenario in scenarios:
        # Warm up both: each worker's first request, and each caller's first profile fetch.
        for server in (tb, noop):
            load(server.url, scenario.payload, requests=2 * USERS, concurrency=1)
            load(server.url, scenario.payload, requests=4 * max(ctx.concurrency), concurrency=max(ctx.concurrency))
        for concurrency in ctx.concurrency:
            per_round = max(1, ctx.requests // ROUNDS)
            got = {"tb": Sample(), "noop": Sample()}
            busy = {"tb": 0.0, "noop": 0.0}
            spent: dict[str, Counter[str]] = {"tb": Counter(), "noop": Counter()}
            cpu_before = tb.answering_cpu()
            stored_before = scenario.stored() if scenario.stored else 0
            for r in range(ROUNDS):
                order = [("tb", tb), ("noop", noop)] if r % 2 == 0 else [("noop", noop), ("tb", tb)]
                for key, server in order:
                    check = scenario.check if key == "tb" else (lambda _b: True)
                    bodies = prepared(scenario.payload, per_round)
                    reading = cpu_reading(ctx.servers, server)
                    started = time.perf_counter()
                    sample = load(server.url, bodies, requests=per_round, concurrency=concurrency, check=check)
                    busy[key] += time.perf_counter() - started
                    if reading and (after := cpu_reading(ctx.servers, server)):
                        # While the no-op answers, the bot's sender may still publish what
                        # the bot's last round asked for: that is not the no-op's.
                        not_its = ("other",) if key == "tb" else ("other", "sender")
                        spent[key].update(after.since(reading, not_its=not_its))
                    got[key] = _merge(got[key], sample)
            thread_ms = _cpu_per_request(cpu_before, tb.answering_cpu())
            t, n = got["tb"], got["noop"]
            t50, t99 = percentile(t.seconds, 50), percentile(t.seconds, 99)
            n50, n99 = percentile(n.seconds, 50), percentile(n.seconds, 99)
            ratio50, ratio99 = t50 / n50, t99 / n99
            misses = []
            target = ack_target(scenario.name, concurrency, sqlite=ctx.engine.dialect.name == "sqlite")
            if not t99 <= target:
                misses.append(f"p99 > {target * 1000:.0f} ms")
            if t.errors or n.errors:
                misses.append("errors")
            answered = {"tb": len(t.seconds) + t.errors, "noop": len(n.seconds) + n.errors}
            if scenario.stored:
                stored = scenario.stored() - stored_before
                notes.append(f"{scenario.name} c={concurrency}: {len(t.seconds)} acknowledged, {stored} stored")
                if stored != len(t.seconds):
                    misses.append("not stored")
            machine = {key: cpu_ms(spent[key], "machine", answered[key]) for key in spent}
            rows.append([
                scenario.name, str(concurrency), ms(t50), ms(t99), ms(n50), ms(n99),
                f"{ratio50:.2f}×", f"{ratio99:.2f}×", f"{len(t.seconds) / busy['tb']:.0f}",
                f"{len(n.seconds) / busy['noop']:.0f}", thread_ms, f"{machine['tb']} / {machine['noop']}",
                f"{t.errors}/{n.errors}", str(sum(x > SLACK_GIVES_UP for x in t.seconds)),
                "met" if not misses else "missed: " + ", ".join(misses),
            ])  # fmt: skip
            split.append([scenario.name, str(concurrency), *(cpu_ms(spent["tb"], part, answered["tb"])
                                                             for part in (*CPU_PARTS, "machine")),
                          machine["noop"], _budget(concurrency, spent["tb"], answered["tb"])])  # fmt: skip
            for label, s in (("touchbase", t), ("no-op", n)):
                if s.first_error:
                    notes.append(f"{scenario.name} c={concurrency} {label}: first error {s.first_error}")
    notes += [
        f"gunicorn gthread, {ctx.servers.workers} workers × {ctx.servers.threads} threads, bound to 127.0.0.1; "
        "requests signed with v0 HMAC-SHA256 and checked by bolt, over keep-alive connections.",
        "The no-op server is the same stack (gunicorn, bolt's WSGI adapter, signature check, "
        "`process_before_response=True`) whose listeners only ack; the ratio is touchbase ÷ no-op, measured in "
        f"{ROUNDS} alternating rounds of the same run.",
        "Latency: from sending the request to reading the whole answer (the ack Slack waits for). Errors are "
        "answers other than touchbase's own (e.g. HTTP 500) and requests unanswered after 30 s; answers after "
        "3 s are counted apart because Slack has given up on them by then.",
        f"Peak RSS of a worker after the run: touchbase {_mb(ctx.servers.touchbase.peak_rss_mb())}, "
        f"no-op {_mb(ctx.servers.noop.peak_rss_mb())}.",
        "The load generator runs on the same cores as the servers. It builds each round's bodies before the round "
        "is timed, as Slack builds them on its own machines, and only signs and sends them while it runs.",
        "touchbase CPU ms/request: the CPU time of the server's thread answering each measured request, until "
        "its answer (bot.metrics' `touchbase_request_cpu_seconds_total` over `touchbase_requests_total`), the "
        "mean; not the work after the answer, the HTTP stack's, the load generator's or PostgreSQL's server's. "
        "Machine CPU ms/request: all of these, every process's (the next table splits it).",
        "`/crm due` is sent by the busiest owners (the list of their due revisits). The Log touch "
        "`view_submission` is the modal `touch_modal` builds for one of "
        f"{WRITE_POOL} customers, submitted by its owner with a summary typed: the bot writes the touch, its "
        "audit row, the new revisit date and the outbox rows of the DM to the author and of the owner's App "
        "Home, and acks; the worker's sender beside the server (a process of its own, on the same cores; on "
        "SQLite, sharing the write lock) posts the DM and builds and publishes the App Home (services.notices, "
        "services.home). The touches are removed after the run.",
        f"A customer's channel message is a `message` event (JSON) from one of {GUESTS} of the customers' people "
        f"(Slack Connect guests) in one of {WRITE_POOL} channels linked to those customers, each message new: the "
        "bot stores it with its permalink (asked of the fake Slack by `chat.getPermalink` until an answer shows "
        "how the channel's links are built, then built so in each process: most messages here are a channel's "
        "first in their process, and ask) and its response clock; "
        "the first of a channel's hour also logs a touch, as Log touch does; the owner's App Home is asked for. "
        "Its ack is an empty 200 whatever the bot did, so the messages stored are counted (below); the no-op "
        "acks the event unread. The links, messages and touches are removed after the run.",
    ]
    columns = ["request", "concurrency", "touchbase median ms", "touchbase p99 ms", "no-op median ms",
               "no-op p99 ms", "ratio median", "ratio p99", "touchbase req/s", "no-op req/s",
               "touchbase CPU ms/request", "machine CPU ms/request tb / no-op", "errors tb/no-op",
               "tb answers > 3 s", "target (issue 18: c=1 p99 ≤ 10 ms, search ≤ 20; c=16 p99 ≤ 100 ms, Log touch "
               "on SQLite ≤ 250)"]  # fmt: skip
    budget = 1000 * CORES / BUSY_RATE
    split_notes = [
        "The machine's CPU (every core, Linux's /proc/stat: busy is all but idle, I/O wait and steal) while the "
        "measured requests ran, over the requests sent, split by process (/proc/PID/stat): the bot's server "
        "(gunicorn's master and workers: bolt, the listeners, the HTTP stack and, on SQLite, the database's own "
        "work), its worker's sender (the App Homes a touch asks for), the load generator (this process: signing, "
        "sending and reading the requests, whose bodies it builds before they are timed, and the fake Slack "
        "answering the DMs), and the rest (PostgreSQL's server, the kernel's work for all of them, anything else "
        "running). Clock ticks of 10 ms: a part under 0.1 ms a request is within the reading's grain.",
        f"At concurrency 16 the p99 goes with the answers a second: in section 46 of docs/PERFORMANCE.md every "
        f"request answered at {BUSY_RATE} a second or more met 100 ms (some answered more slowly met it too). "
        f"{BUSY_RATE} a second on {CORES} cores is {budget:.1f} ms of the machine's CPU per request, load generator "
        f"included. \"to {BUSY_RATE}/s\": the machine's CPU per request over that budget, the factor by which it "
        "would have to shrink (– where it is within it, and at concurrency 1, whose target is one request's "
        "latency).",
    ]
    return [
        Table("Acknowledge latency (signed HTTP requests to the running server)", columns, rows, notes),
        Table("Where the machine's CPU went (ms per request)",
              ["request", "concurrency", *(f"touchbase {part}" for part in CPU_PARTS), "touchbase machine",
               "no-op machine", f"to {BUSY_RATE}/s"], split, split_notes),
    ]


# Section 46 of docs/PERFORMANCE.md: at concurrency 16 on this stack, every request answered at
# this rate or more met its 100 ms p99 (some answered more slowly met it too: section 49).
BUSY_RATE = 400
CORES = os.cpu_count() or 1  # as /proc/stat counts them: every core of the machine


def _budget(concurrency: int, spent: dict[str, float], requests: int) -> str:
    """How many times over the machine's CPU per request at BUSY_RATE a request is; – at
    concurrency 1 (see _over)."""
    return "–" if concurrency == 1 else _over(spent, requests, BUSY_RATE)


def _over(spent: dict[str, float], requests: int, rate: int) -> str:
    """How many times over the machine's CPU per request at `rate` a second `requests` took;
    – where they were within it, or nothing was measured."""
    if not requests or "machine" not in spent:
        return "–"
    over = spent["machine"] / requests / (CORES / rate)
    return f"{over:.2f}×" if over > 1 else "–"


def _cpu_per_request(before: tuple[float, float] | None, after: tuple[float, float] | None) -> str:
    """The bot's CPU ms per request between two readings of its /metrics; – without both, or
    when no request reached it."""
    if before is None or after is None or after[1] <= before[1]:
        return "–"
    return f"{1000 * (after[0] - before[0]) / (after[1] - before[1]):.1f}"


def _mb(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.0f} MB"


# --- search services, called directly ----------------------------------------------------------


def _time_calls(ctx: Context, inputs: list[str], call: Callable[..., object], count: int) -> list[float]:
    """Each call in its own session, as each request has one; the session's start is included."""
    seconds = []
    for i in range(count):
        with ctx.sessions() as session:
            started = time.perf_counter()
            call(session, inputs[i % len(inputs)])
            seconds.append(time.perf_counter() - started)
            session.rollback()
    return seconds


def _slowest(ctx: Context, labelled: list[tuple[str, str]], seconds: list[float], call: Callable[..., object]) -> str:
    """The slowest call's input and kind, and its time when called again at once (three times,
    the fastest): whether a slow call is its input's cost or the moment's (a checkpoint, the
    other core, the collector)."""
    kind, text = labelled[seconds.index(max(seconds)) % len(labelled)]
    again = min(_time_calls(ctx, [text], call, 3))
    return f"{kind if f'`{text}`' in kind else f'`{text}` ({kind})'}: {ms(again)}"


@benchmark("search")
def search(ctx: Context) -> list[Table]:
    team = ctx.team
    count = max(ctx.requests, 20)
    calls = [
        ("`find` (search_customers, 10 per page)", labelled_find_queries(team),
         lambda s, q: search_customers(session=s, viewer=Viewer.whole_team(team.team_id), text=q, limit=SEARCH_LIMIT), True),
        ("type-ahead (search_customers, 20 options)", labelled_typeahead_values(team),
         lambda s, q: search_customers(session=s, viewer=Viewer.whole_team(team.team_id), text=q, limit=20), True),
        ("`show` argument (resolve_customer)", [("name or #N", r) for r in show_refs(team)],
         lambda s, q: resolve_customer(session=s, viewer=Viewer.whole_team(team.team_id), ref=q), False),
    ]  # fmt: skip
    rows, by_kind = [], []
    for name, labelled, call, has_target in calls:
        inputs = [q for _, q in labelled]
        _time_calls(ctx, inputs, call, min(20, count))  # warm the database's cache
        seconds = _time_calls(ctx, inputs, call, count)
        p95 = percentile(seconds, 95)
        verdict = ("met" if p95 < SEARCH_P95_TARGET else "missed") if has_target else "(no target)"
        rows.append([name, str(len(seconds)), ms(percentile(seconds, 50)), ms(p95), ms(percentile(seconds, 99)),
                     ms(max(seconds)), _slowest(ctx, labelled, seconds, call), verdict])  # fmt: skip
        if has_target:
            # The same figures by kind of input: a flat cost whatever is typed means a scan.
            kinds: dict[str, list[float]] = {}
            for i, took in enumerate(seconds):
                kinds.setdefault(labelled[i % len(labelled)][0], []).append(took)
            by_kind += [[name.split(" (")[0], kind, str(len(xs)), ms(percentile(xs, 50)), ms(percentile(xs, 95))]
                        for kind, xs in kinds.items()]  # fmt: skip
    notes = [
        "In-process service calls, one session each, on one thread: the database's work plus the ORM's.",
        "Queries cycle through a fixed mix (below); Chinese names give two of their characters as the word.",
        "Slowest input: the input of the call that took `max ms` (generated data), timed again at once, best of 3.",
    ]
    columns = ["service call", "calls", "p50 ms", "p95 ms", "p99 ms", "max ms", "slowest input: again, ms",
               "target (p95 < 30 ms)"]  # fmt: skip
    return [
        Table("Search (service calls)", columns, rows, notes),
        Table("Search by kind of input", ["service call", "input", "calls", "p50 ms", "p95 ms"], by_kind),
    ]


# --- writes: touches logged through the bot ----------------------------------------------------


@benchmark("writes", servers=True)
def writes(ctx: Context) -> list[Table]:
    assert ctx.servers is not None
    targets = write_targets(ctx)
    team = ctx.team

    def payload(n: int) -> Payload:
        return touch_submission(targets[n % len(targets)], team=team.team_id, n=n)

    def count() -> int:
        with ctx.engine.connect() as conn:
            query = select(func.count()).select_from(Touch).where(Touch.team_id == team.team_id,
                                                                  Touch.summary.like(f"{WRITE_MARK} %"))
            return int(conn.scalar(query) or 0)

    fake = ctx.servers.fake
    with writes_undone(ctx, targets):
        load(ctx.servers.touchbase.url, payload, requests=2 * WRITE_CONCURRENCY, concurrency=WRITE_CONCURRENCY,
             check=_accepted)  # warm-up
        homes_settled(ctx)
        before, dms_before = count(), len(fake.calls_to("chat.postMessage"))
        published_before = len(fake.calls_to("views.publish"))
        bodies = prepared(payload, ctx.requests)
        first, turns_first = cpu_reading(ctx.servers), ctx.servers.touchbase.write_turns()
        started, started_at = time.perf_counter(), time.monotonic()
        sample = load(ctx.servers.touchbase.url, bodies, requests=ctx.requests, concurrency=WRITE_CONCURRENCY,
                      check=_accepted)
        took = time.perf_counter() - started
        answered, turns_answered = cpu_reading(ctx.servers), ctx.servers.touchbase.write_turns()
        stored = count() - before
        homes_after = homes_settled(ctx)
        settled = cpu_reading(ctx.servers)
        dm_calls = fake.calls_to("chat.postMessage")[dms_before:]
        dm_times = [c.at - started_at for c in dm_calls]
        dms, dms_last, dms_half = len(dm_calls), max(dm_times, default=0.0), percentile(dm_times or [0.0], 50)
        published = len(fake.calls_to("views.publish")) - published_before
        waiting = homes_waiting(ctx)
    owners = len({targets[n % len(targets)].owner_id for n in range(ctx.requests)})
    delivered = stored == ctx.requests and dms == ctx.requests and not waiting
    rows = [[
        "Log touch `view_submission`", str(WRITE_CONCURRENCY), str(ctx.requests), str(stored),
        f"{stored / took:.0f}", ms(percentile(sample.seconds, 50)), ms(percentile(sample.seconds, 99)),
        str(sample.errors),
        f"{dms}: half by {dms_half:.1f} s, the last {dms_last:.1f} (the limits allow {dm_floor(ctx, targets):.1f})",
        f"{published} for {owners} owners, the last {homes_after:.1f} s after",
        "met" if stored / took >= WRITES_TARGET and delivered else "missed",
    ]]  # fmt: skip
    notes = [
        f"{ctx.requests} signed submissions of the Log touch modal from {WRITE_CONCURRENCY} clients at once, "
        f"cycling over {len(targets)} customers (each submitted by its owner); touches/s = touches found in the "
        "database afterwards ÷ wall time. Each one also writes an audit row and moves the customer's revisit; the "
        "DM to the author and the App Homes are asked for in the touch's transaction (outbox rows) and sent by "
        "the worker's sender beside the server, at Slack's pace (services.notices, services.home.asked_homes; one "
        "publish per owner for a burst of their touches). Removed again after the run.",
        "DMs: `chat.postMessage` calls the fake Slack received during the run, and how long after the first "
        "touch was sent it had received half of them and the last; beside it the least time Slack's limits for "
        "`chat.postMessage` allow for them (the sender's pacer: a workspace's budget, one a second per person "
        "with bursts of three), as if every touch had come at once. App Homes: its `views.publish` calls, and "
        "how long after the last answer the worker had sent the last Home and DM.",
        f"Target (issue 18): at least {WRITES_TARGET} touches/s, every submission stored, its DM sent and no App "
        "Home left unpublished.",
    ]
    if turns_first and turns_answered and turns_answered[0] > turns_first[0]:
        turns, waited, held = (b - a for a, b in zip(turns_first, turns_answered, strict=True))
        notes.append(
            f"SQLite's write turn (one writer at a time; bot.metrics' `touchbase_sqlite_write_turn_seconds_total`), "
            f"the server's workers while the touches were answered: {turns:.0f} turns, held {1000 * held / turns:.2f} ms "
            f"each, {100 * held / took:.0f} % of the time; a turn waited {1000 * waited / turns:.1f} ms for it on "
            "average (every write transaction of the workers in that window: the touches, and any other). With "
            "the turn held all the time, touches a second are at most 1 s ÷ the time each holds it: "
            f"{WRITES_TARGET} a second needs {1000 / WRITES_TARGET:.1f} ms or less."
        )  # fmt: skip
    if sample.first_error:
        notes.append(f"first error: {sample.first_error}")
    columns = ["request", "concurrency", "sent", "touches stored", "touches/s", "median ms", "p99 ms", "errors",
               "DMs", "App Homes published", f"target (≥ {WRITES_TARGET}/s)"]
    during = answered.since(first) if first and answered else {}
    after = {part: seconds for part, seconds in settled.since(answered).items() if part in ("server", "sender")
             } if answered and settled else {}  # fmt: skip
    split = [
        ["until the last answer", *(cpu_ms(during, part, ctx.requests) for part in (*CPU_PARTS, "machine")),
         _over(during, ctx.requests, WRITES_TARGET)],
        ["after it, until the last App Home and DM", *(cpu_ms(after, part, ctx.requests) for part in CPU_PARTS),
         "–", "–"],
    ]  # fmt: skip
    split_notes = [
        "As in the acknowledgements' table of the same name, over the touches sent: the first row while the "
        "touches were being answered; the second from then until the worker's sender had published the last "
        "App Home and DM (at Slack's pace), the bot's processes only (meanwhile "
        "this process polls the database for the Homes still waiting, which is not the bot's work).",
        f"{WRITES_TARGET} touches a second on {CORES} cores is {1000 * CORES / WRITES_TARGET:.1f} ms of the "
        f"machine's CPU per touch, everything included; \"to {WRITES_TARGET}/s\": the factor by which the "
        "machine's CPU per touch would have to shrink.",
    ]
    return [
        Table("Writes (touches logged through the bot)", columns, rows, notes),
        Table("Where the machine's CPU went during the writes (ms per touch)",
              ["window", *(f"touchbase {part}" for part in CPU_PARTS), "machine", f"to {WRITES_TARGET}/s"],
              split, split_notes),
    ]


# --- sweep: due revisits into outbox rows ------------------------------------------------------

SWEEP_TZ = "America/New_York"


def _sweep_instant(day: dt.date) -> dt.datetime:
    """15:00 in SWEEP_TZ on `day` or the next weekday: within default working hours, after any digest time."""
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(15, 0), tzinfo=ZoneInfo(SWEEP_TZ)).astimezone(dt.UTC)


@contextmanager
def one_message_per_revisit(ctx: Context) -> Iterator[None]:
    """Every member with the digest off (one outbox row per due revisit, like the raw INSERT)
    and in one time zone (so one instant is within everyone's working hours); restored after,
    with the outbox rows the sweep wrote."""
    team_id = ctx.team.team_id
    with ctx.engine.connect() as conn:
        saved = conn.execute(select(Member.id, Member.tz, Member.digest_enabled).where(Member.team_id == team_id)).all()
        undated = list(conn.scalars(select(Customer.id).where(Customer.team_id == team_id,
                                                              Customer.next_revisit.is_(None))))  # fmt: skip
    _clear_outbox(ctx)
    with ctx.engine.begin() as conn:
        conn.execute(update(Member).where(Member.team_id == team_id).values(tz=SWEEP_TZ, digest_enabled=False))
        # Customers without a revisit get one a year ahead, so the largest due set is every customer.
        conn.execute(update(Customer).where(Customer.team_id == team_id, Customer.next_revisit.is_(None))
                     .values(next_revisit=ctx.scale.anchor + dt.timedelta(days=365)))  # fmt: skip
    try:
        yield
    finally:
        _clear_outbox(ctx)
        with ctx.engine.begin() as conn:
            for i in range(0, len(undated), 500):
                conn.execute(update(Customer).where(Customer.id.in_(undated[i : i + 500])).values(next_revisit=None))
            conn.execute(update(Member).where(Member.id == bindparam("mid")).values(tz=bindparam("tz"),
                         digest_enabled=bindparam("de")), [{"mid": i, "tz": tz, "de": de} for i, tz, de in saved])


def _clear_outbox(ctx: Context) -> int:
    with ctx.engine.begin() as conn:
        return conn.execute(delete(Notification).where(Notification.team_id == ctx.team.team_id)).rowcount


def _outbox_count(ctx: Context, kind: str | None = None) -> int:
    with ctx.engine.connect() as conn:
        query = select(func.count()).select_from(Notification).where(Notification.team_id == ctx.team.team_id)
        if kind is not None:
            query = query.where(Notification.kind == kind)
        return int(conn.scalar(query) or 0)


def _due_count(ctx: Context, day: dt.date) -> int:
    c = Customer
    with ctx.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(c).where(
            c.team_id == ctx.team.team_id, c.revisits_enabled.is_(True), c.next_revisit.is_not(None),
            c.next_revisit <= day, c.owner_id.is_not(None))) or 0)  # fmt: skip


def _day_with_due(ctx: Context, wanted: int) -> dt.date:
    """The first weekday on which at least `wanted` revisits are due (else the last revisit date)."""
    with ctx.engine.connect() as conn:
        dates = sorted(conn.scalars(select(Customer.next_revisit).where(
            Customer.team_id == ctx.team.team_id, Customer.revisits_enabled.is_(True),
            Customer.next_revisit.is_not(None), Customer.owner_id.is_not(None))))  # fmt: skip
    if not dates:
        return ctx.scale.anchor
    day = dates[min(wanted, len(dates)) - 1]
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _job_sweep(ctx: Context, at: dt.datetime) -> int:
    """The revisit job as `run_jobs` runs it: one session per team, committed."""
    with unit_of_work(ctx.sessions, now=wall()) as session:
        return reminders.revisit_reminders(JobRun(session, at, None), ctx.team.team_id)


def _raw_sweep(ctx: Context, at: dt.datetime) -> int:
    """The same rows as one `INSERT … SELECT … ON CONFLICT DO NOTHING`: key, kind, channel,
    a JSON payload with a text and the customer id (no Block Kit), due now."""
    c = Customer
    day = at.astimezone(ZoneInfo(SWEEP_TZ)).date()
    postgres = ctx.engine.dialect.name == "postgresql"
    build = func.json_build_object if postgres else func.json_object
    key = literal("revisit:") + cast(c.id, String) + ":" + c.owner_id + ":" + cast(c.next_revisit, String)
    now = wall()
    query = select(
        c.team_id, key, literal("revisit"), c.owner_id,
        build("text", literal("Time to revisit ") + c.name, "customer_id", c.id),
        literal("pending"), literal(at, Notification.due_at.type), literal(0), literal(now, Notification.created_at.type),
    ).where(c.team_id == ctx.team.team_id, c.revisits_enabled.is_(True), c.next_revisit.is_not(None),
            c.next_revisit <= day, c.owner_id.is_not(None))  # fmt: skip
    insert = (postgresql.insert if postgres else sqlite.insert)(Notification)
    stmt = insert.from_select(["team_id", "key", "kind", "channel", "payload", "status", "due_at", "attempts",
                               "created_at"], query).on_conflict_do_nothing(index_elements=["team_id", "key"])
    with ctx.engine.begin() as conn:
        return int(conn.execute(stmt).rowcount)


def _timed(fn: Callable[[], int], *, memory: bool = False) -> tuple[float, int, float]:
    """Seconds, rows written and (with memory) the tracemalloc peak in MB; timed without tracing."""
    if memory:
        tracemalloc.start()
        tracemalloc.reset_peak()
    started = time.perf_counter()
    rows = fn()
    took = time.perf_counter() - started
    peak = 0.0
    if memory:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return took, rows, peak


@benchmark("sweep")
def sweep(ctx: Context) -> list[Table]:
    sizes = sorted({ctx.scale.customers // 10 or 1, ctx.scale.customers})  # issue 9: 10k and 100k
    rows = []
    with one_message_per_revisit(ctx):
        for wanted in sizes:
            day = _day_with_due(ctx, wanted)
            at = _sweep_instant(day)
            due = _due_count(ctx, at.astimezone(ZoneInfo(SWEEP_TZ)).date())
            job_t, raw_t = [], []
            job_rows = raw_rows = 0
            for _ in range(3):  # best of three each, alternating
                _clear_outbox(ctx)
                took, _, _ = _timed(lambda: _job_sweep(ctx, at))
                job_t.append(took)
                job_rows = _outbox_count(ctx, kind="revisit")
                _clear_outbox(ctx)
                took, _, _ = _timed(lambda: _raw_sweep(ctx, at))
                raw_t.append(took)
                raw_rows = _outbox_count(ctx)  # psycopg gives no rowcount for INSERT … SELECT … ON CONFLICT
            _clear_outbox(ctx)
            _, _, job_mem = _timed(lambda: _job_sweep(ctx, at), memory=True)
            _clear_outbox(ctx)
            _, _, raw_mem = _timed(lambda: _raw_sweep(ctx, at), memory=True)
            ratio = min(job_t) / min(raw_t)
            rows.append([
                f"{due:,}", f"{job_rows:,}", f"{min(job_t) * 1000:.0f}", f"{job_mem:.1f}", f"{raw_rows:,}",
                f"{min(raw_t) * 1000:.0f}", f"{raw_mem:.1f}", f"{ratio:.1f}×",
                "met" if ratio <= SWEEP_RATIO_TARGET else "missed",
            ])  # fmt: skip
    mems = [float(r[3]) for r in rows]
    notes = [
        "The revisit job (`bot.scheduler.reminders.revisit_reminders`, as `run_jobs` runs it: one committed session per "
        f"team) at 15:00 {SWEEP_TZ} on the first weekday when N revisits are due, with every member's digest "
        "**off** and time zone set to that zone for the run (restored after): so it writes one outbox row per due "
        "revisit, the same rows as the raw statement (with the digest on it writes one row per owner instead); "
        "it also writes one row per follow-up due (digest off), which the job rows column leaves out. "
        "Customers without a revisit date get one a year ahead for the run (restored after), so the largest due "
        "set is every customer.",
        "Raw: one `INSERT INTO notification … SELECT … FROM customer … ON CONFLICT DO NOTHING` for the whole team "
        "with the same keys, kinds, channels and due time, and a JSON payload of a text and the customer id. The job "
        "also writes one such statement per owner (`rows.enqueue_select`), after reading each owner's member row "
        "and settings; its payload names what the sender renders when it posts (`render: revisit`). The outbox is "
        "emptied before each run. Time: best of three, untraced; memory: tracemalloc peak of a separate run "
        "(Python allocations only, the database's own memory not included).",
    ]
    if len(mems) == 2 and mems[0] > 0:
        items = float(rows[1][0].replace(",", "")) / float(rows[0][0].replace(",", ""))
        notes.append(f"Peak memory: {mems[0]:.1f} MB at {rows[0][0]} due revisits, {mems[1]:.1f} MB at {rows[1][0]} "
                     f"({mems[1] / mems[0]:.1f}× for {items:.0f}× the items).")
    columns = ["due revisits", "job rows", "job ms", "job peak MB", "raw rows", "raw ms", "raw peak MB",
               "ratio job ÷ raw", "target (≤ 2× raw)"]  # fmt: skip
    return [Table("Sweep (due revisits into outbox rows)", columns, rows, notes)]


# --- reports -------------------------------------------------------------------------------------


def month_report(session: Session, team_id: str, today: dt.date, user_id: str | None = None) -> reports.Report:
    """The month report as `/crm report month` builds it: response and resolution times in the
    team calendar's business hours (TZ_DEFAULT's default zone until the team sets its own)."""
    calendar, _ = sla.team_rules(session, team_id, "UTC")
    return reports.build_report(session=session, viewer=Viewer.whole_team(team_id), kind="month", today=today, tz=None,
                                user_id=user_id, duration=calendar.hours_between)  # fmt: skip


@benchmark("reports")
def month_reports(ctx: Context) -> list[Table]:
    team = ctx.team
    runs = 5
    rows = []
    for label, user in (("team", None), ("busiest owner", team.members[0] if team.members else None)):
        seconds = []
        for _ in range(runs + 1):  # the first warms the database's cache and is not counted
            with ctx.sessions() as session:
                started = time.perf_counter()
                month_report(session, team.team_id, ctx.scale.anchor, user)
                seconds.append(time.perf_counter() - started)
                session.rollback()
        seconds = seconds[1:]
        p50, worst = percentile(seconds, 50), max(seconds)
        rows.append([f"month report, {label}", str(runs), ms(p50), ms(worst),
                     "met" if worst < MONTH_REPORT_TARGET else "missed"])  # fmt: skip
    notes = [
        "`reports.build_report(kind=\"month\")` for the month holding the data's anchor day and the one before, "
        "with the trend, as `/crm report month` builds it: response and resolution times in the team calendar's "
        "business hours. In-process, one session each; rendering the chart is not included.",
        "Target (issue 18): every run under 1 s.",
    ]
    return [Table("Reports", ["report", "runs", "median ms", "max ms", "target (< 1 s)"], rows, notes)]


@benchmark("churn")
def churn_report(ctx: Context) -> list[Table]:
    """`/crm report churn` at full scale: the month's and the quarter's, for the team and for the
    busiest owner as an owner-only member sees it."""
    team, runs = ctx.team, 5
    owner = team.members[0] if team.members else None
    viewers = [("team", Viewer.whole_team(team.team_id))]
    if owner:
        viewers.append(("busiest owner, owner only", Viewer(team_id=team.team_id, user_id=owner, sees_all=False)))
    rows = []
    for kind in churn.KINDS:
        for label, viewer in viewers:
            seconds, lost = [], 0
            for _ in range(runs + 1):  # the first warms the database's cache and is not counted
                with ctx.sessions() as session:
                    started = time.perf_counter()
                    report = churn.churn_report(session=session, viewer=viewer, kind=kind, today=ctx.scale.anchor, tz=None)
                    seconds.append(time.perf_counter() - started)
                    lost = sum(f.lost for f in report.periods)
                    session.rollback()
            seconds = seconds[1:]
            worst = max(seconds)
            rows.append([f"{kind}, {label}", f"{lost:,}", str(runs), ms(percentile(seconds, 50)), ms(worst),
                         "met" if worst < REPORT_TARGET else "missed"])  # fmt: skip
    with ctx.engine.connect() as conn:
        changes = conn.scalar(select(func.count()).select_from(StageChange).where(StageChange.team_id == team.team_id))
    notes = [
        "`churn.churn_report` for the month (quarter) holding the data's anchor day and the 7 before it: customers on "
        "the books at each start, lost by reason and owner, value lost, won back, prospects lost. In-process, one "
        "session each; the chart and the CSV are not included. \"lost\" is the customers lost in the 8 periods.",
        f"The team's stage history holds {changes or 0:,} moves (bench/lifecycle_data.py: 6 % of customers lost "
        "over the data's years, 1 % won back). Target: issue 9's for a report (< 2 s).",
    ]
    columns = ["report", "lost", "runs", "median ms", "max ms", "target (< 2 s)"]
    return [Table("Churn report", columns, rows, notes)]


@benchmark("escalations")
def escalation_scan(ctx: Context) -> list[Table]:
    """What the escalation job reads every minute: each open complaint's clocks and due steps."""
    team, runs = ctx.team, 5
    now = dt.datetime.combine(ctx.scale.anchor, dt.time(12), dt.UTC)
    seconds, found = [], 0
    for _ in range(runs + 1):  # the first warms the database's cache and is not counted
        with ctx.sessions() as session:
            started = time.perf_counter()
            found = len(complaints.escalations_due(session=session, team_id=team.team_id, now=now))
            seconds.append(time.perf_counter() - started)
            session.rollback()
    with ctx.sessions() as session:
        active = session.scalar(select(func.count()).select_from(Complaint).where(
            Complaint.team_id == team.team_id, Complaint.state.in_(complaints.ACTIVE)))  # fmt: skip
    seconds = seconds[1:]
    rows = [[f"{active:,}", f"{found:,}", str(runs), ms(percentile(seconds, 50)), ms(max(seconds))]]
    notes = [
        "`complaints.escalations_due` at noon UTC of the data's anchor day: every active complaint with its "
        "events, its clocks on the team's business calendar, and the warnings and levels due and not sent yet "
        "(the escalation job then writes those). In-process, one session each; nothing is written.",
        "No target in issue 9; the generated complaints stay open for up to years, so most are long overdue.",
    ]
    columns = ["active complaints", "with steps due", "runs", "median ms", "max ms"]
    return [Table("Escalation scan (the escalation job's read)", columns, rows, notes)]


# --- the complaint list (issue 18, point 3) -----------------------------------------------------

COMPLAINTS_P99_TARGET = 0.050  # seconds, at concurrency 1


@benchmark("complaints")
def complaint_list(ctx: Context) -> list[Table]:
    """`/crm complaints [open|overdue|mine]` as the service builds it, with its peak memory, for
    views holding many and few active complaints (the memory must not follow their number)."""
    team = ctx.team
    now = dt.datetime.combine(ctx.scale.anchor, dt.time(12), dt.UTC)
    with ctx.sessions() as session:
        active = (Complaint.team_id == team.team_id, Complaint.state.in_(complaints.ACTIVE))
        by_assignee = session.execute(
            select(Complaint.assignee_id, func.count()).where(*active).group_by(Complaint.assignee_id)
            .order_by(func.count().desc(), Complaint.assignee_id)
        ).all()  # fmt: skip
        total = sum(n for _, n in by_assignee)
    whole = Viewer.whole_team(team.team_id)
    cases = [("open", whole, total), ("overdue", whole, total)]
    if by_assignee:
        busiest, few = by_assignee[0], by_assignee[-1]
        cases += [("mine", Viewer(team_id=team.team_id, user_id=u, sees_all=True), n) for u, n in (busiest, few)]
    runs = max(20, ctx.requests // 4)
    rows = []
    for view, viewer, in_view in cases:

        def call(session: Any, _input: str, view: str = view, viewer: Viewer = viewer) -> object:
            return complaints.list_complaints(session=session, viewer=viewer, view=view, now=now)

        _time_calls(ctx, [""], call, 5)  # warm the database's cache
        seconds = _time_calls(ctx, [""], call, runs)
        with ctx.sessions() as session:
            tracemalloc.start()
            shown = len(call(session, ""))  # type: ignore[arg-type]
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            session.rollback()
        p99 = percentile(seconds, 99)
        rows.append([f"`{view}`", f"{in_view:,}", str(shown), str(runs), ms(percentile(seconds, 50)), ms(p99),
                     f"{peak:.2f}", "met" if p99 <= COMPLAINTS_P99_TARGET else "missed"])  # fmt: skip
    notes = [
        "`complaints.list_complaints` at noon UTC of the data's anchor day, as a whole-team viewer (`mine`: as the "
        "assignee with the most and the one with the fewest active complaints); in-process, one session each, "
        "on one thread. Peak MB: tracemalloc's peak during one call (Python allocations only).",
        "The database walks the active complaints in the order it keeps on each row (`Complaint.list_due`, "
        f"`list_rank`: migration 0022) and returns the first {complaints.LIST_LIMIT}; the acknowledge latency of "
        "`/crm complaints` over HTTP is in the table above.",
    ]
    columns = ["view", "active complaints in view", "shown", "calls", "p50 ms", "p99 ms", "peak MB",
               "target (p99 ≤ 50 ms)"]  # fmt: skip
    return [Table("Complaint list (`/crm complaints`)", columns, rows, notes)]
