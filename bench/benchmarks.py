"""The registered benchmarks. Each returns Markdown tables; `bench.run` runs them in order.

To add one (touches, complaints, sweep, reports as they land): write `fn(ctx) -> list[Table]`,
decorate it with `@benchmark("name")` (`servers=True` when it talks to the running bot),
and remove its line from `harness.PENDING`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.generate import TeamData
from bench.harness import (
    Context,
    Payload,
    Sample,
    Table,
    benchmark,
    command_payload,
    load,
    ms,
    percentile,
    suggestion_payload,
)
from bot import blocks
from bot.services.customers import SEARCH_LIMIT, resolve_customer, search_customers

ACK_P99_TARGET = 0.050  # seconds, at concurrency 1
ACK_RATIO_TARGET = 1.5
SEARCH_P95_TARGET = 0.030
SLACK_GIVES_UP = 3.0  # seconds: an ack later than this is a failure for the user
ROUNDS = 4  # touchbase and no-op alternate in rounds, so neighbours' load hits both alike
USERS = 8  # distinct callers, busiest owner first


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


def ack_scenarios(team: TeamData) -> list[Scenario]:
    users = team.members[:USERS] or ("U0BENCH01",)
    finds, refs, values = find_queries(team), show_refs(team), typeahead_values(team)

    def user(n: int) -> str:
        return users[n % len(users)]

    return [
        Scenario("`/crm help`", lambda n: command_payload("help", team=team.team_id, user=user(n), n=n),
                 lambda b: b"/crm find" in b),
        Scenario("`/crm find`", lambda n: command_payload(f"find {finds[n % len(finds)]}", team=team.team_id,
                                                          user=user(n), n=n),
                 lambda b: b'"blocks"' in b),
        Scenario("`/crm show`", lambda n: command_payload(f"show {refs[n % len(refs)]}", team=team.team_id,
                                                          user=user(n), n=n),
                 lambda b: b'"blocks"' in b),
        Scenario("type-ahead `block_suggestion`",
                 lambda n: suggestion_payload(blocks.CUSTOMER_PICKER, values[n % len(values)], team=team.team_id,
                                              user=user(n)),
                 lambda b: b'"options"' in b),
    ]  # fmt: skip


def _merge(a: Sample, b: Sample) -> Sample:
    return Sample(a.seconds + b.seconds, a.errors + b.errors, a.first_error or b.first_error)


@benchmark("ack", servers=True)
def ack_latency(ctx: Context) -> list[Table]:
    assert ctx.servers is not None
    tb, noop = ctx.servers.touchbase, ctx.servers.noop
    rows, notes = [], []
    for scenario in ack_scenarios(ctx.team):
        # Warm up both: each worker's first request, and each caller's first profile fetch.
        for server in (tb, noop):
            load(server.url, scenario.payload, requests=2 * USERS, concurrency=1)
            load(server.url, scenario.payload, requests=4 * max(ctx.concurrency), concurrency=max(ctx.concurrency))
        for concurrency in ctx.concurrency:
            per_round = max(1, ctx.requests // ROUNDS)
            got = {"tb": Sample(), "noop": Sample()}
            busy = {"tb": 0.0, "noop": 0.0}
            for r in range(ROUNDS):
                order = [("tb", tb), ("noop", noop)] if r % 2 == 0 else [("noop", noop), ("tb", tb)]
                for key, server in order:
                    check = scenario.check if key == "tb" else (lambda _b: True)
                    started = time.perf_counter()
                    sample = load(server.url, scenario.payload, requests=per_round, concurrency=concurrency, check=check)
                    busy[key] += time.perf_counter() - started
                    got[key] = _merge(got[key], sample)
            t, n = got["tb"], got["noop"]
            t50, t99 = percentile(t.seconds, 50), percentile(t.seconds, 99)
            n50, n99 = percentile(n.seconds, 50), percentile(n.seconds, 99)
            ratio50, ratio99 = t50 / n50, t99 / n99
            misses = []
            if concurrency == 1 and not t99 < ACK_P99_TARGET:
                misses.append("p99 ≥ 50 ms")
            if not ratio99 <= ACK_RATIO_TARGET:
                misses.append(f"p99 > {ACK_RATIO_TARGET}× no-op")
            if t.errors or n.errors:
                misses.append("errors")
            rows.append([
                scenario.name, str(concurrency), ms(t50), ms(t99), ms(n50), ms(n99),
                f"{ratio50:.2f}×", f"{ratio99:.2f}×", f"{len(t.seconds) / busy['tb']:.0f}",
                f"{t.errors}/{n.errors}", str(sum(x > SLACK_GIVES_UP for x in t.seconds)),
                "met" if not misses else "missed: " + ", ".join(misses),
            ])  # fmt: skip
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
        "The load generator runs on the same cores as the servers.",
    ]
    columns = ["request", "concurrency", "touchbase median ms", "touchbase p99 ms", "no-op median ms",
               "no-op p99 ms", "ratio median", "ratio p99", "touchbase req/s", "errors tb/no-op",
               "tb answers > 3 s", "target (c=1 p99 < 50 ms; p99 ≤ 1.5× no-op)"]  # fmt: skip
    return [Table("Acknowledge latency (signed HTTP requests to the running server)", columns, rows, notes)]


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


@benchmark("search")
def search(ctx: Context) -> list[Table]:
    team = ctx.team
    count = max(ctx.requests, 20)
    calls = [
        ("`find` (search_customers, 10 per page)", labelled_find_queries(team),
         lambda s, q: search_customers(session=s, team_id=team.team_id, text=q, limit=SEARCH_LIMIT), True),
        ("type-ahead (search_customers, 20 options)", labelled_typeahead_values(team),
         lambda s, q: search_customers(session=s, team_id=team.team_id, text=q, limit=20), True),
        ("`show` argument (resolve_customer)", [("name or #N", r) for r in show_refs(team)],
         lambda s, q: resolve_customer(session=s, team_id=team.team_id, ref=q), False),
    ]  # fmt: skip
    rows, by_kind = [], []
    for name, labelled, call, has_target in calls:
        inputs = [q for _, q in labelled]
        _time_calls(ctx, inputs, call, min(20, count))  # warm the database's cache
        seconds = _time_calls(ctx, inputs, call, count)
        p95 = percentile(seconds, 95)
        verdict = ("met" if p95 < SEARCH_P95_TARGET else "missed") if has_target else "(no target)"
        rows.append([name, str(len(seconds)), ms(percentile(seconds, 50)), ms(p95), ms(percentile(seconds, 99)),
                     ms(max(seconds) if seconds else math.nan), verdict])  # fmt: skip
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
    ]
    columns = ["service call", "calls", "p50 ms", "p95 ms", "p99 ms", "max ms", "target (p95 < 30 ms)"]
    return [
        Table("Search (service calls)", columns, rows, notes),
        Table("Search by kind of input", ["service call", "input", "calls", "p50 ms", "p95 ms"], by_kind),
    ]
