"""Acknowledgements over Socket Mode (issue 18, grown as Deploy landed): the same requests as the
HTTP acknowledgement benchmark, sent as envelopes by a fake Socket Mode end to the bot running
as `serve` runs it with `SLACK_APP_TOKEN` (`python -m bench.serve socket`: `WEB_CONCURRENCY`
connections, each in a process of its own), and to the no-op app served the same way
(`noop-socket`), alternating in rounds. An envelope's time is the
fake's, from sending it to reading its ack (`tests.fakesocket.Ack.after`): the ack Slack waits
for, 3 s at most.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from bench.benchmarks import (
    CHANNEL_MESSAGE,
    ROUNDS,
    USERS,
    Scenario,
    ack_scenarios,
    ack_target,
    channel_messages,
    channels_linked,
    messages_stored,
    write_targets,
    writes_undone,
)
from bench.harness import (
    Context,
    Server,
    Table,
    benchmark,
    generator_collector_held,
    ms,
    percentile,
    prepared,
    server_env,
    server_setting,
)

APP_TOKEN = "xapp-1-A0BENCH01-bench-socket-token-not-real"
MEASURED = ("`/crm help`", "`/crm find`", "`/crm show`", "`/crm due`", "Log touch `view_submission`", CHANNEL_MESSAGE)


@contextmanager
def socket_servers(database_url: str) -> Iterator[dict[str, tuple[Any, Any]]]:
    """The bot and the no-op app in Socket Mode, each with a fake Web API and Socket Mode end of
    its own (an envelope goes to whichever connection is open, so one end serves one app)."""
    from tests.fakeslack import FakeSlack
    from tests.fakesocket import FakeSocketMode

    with ExitStack() as stack:
        fakes = {}
        for which in ("socket", "noop-socket"):  # every fake listening before a server is given its port:
            fake, sockets = FakeSlack().start(), FakeSocketMode().start()  # a port free when handed out may
            stack.callback(fake.stop)  # otherwise go to a fake bound while the server is still starting
            stack.callback(sockets.stop)
            fake.sockets = sockets
            fakes[which] = (fake, sockets)
        started = {}
        for which, (fake, sockets) in fakes.items():
            server = Server(which, server_env(database_url, fake.api_url, SLACK_APP_TOKEN=APP_TOKEN))
            stack.callback(server.stop)
            started[which] = (server, sockets)
        for server, sockets in started.values():
            server.wait_ready()  # /healthz: 200 once the database answers and every connection is open
            sockets.wait_live(server_setting("WEB_CONCURRENCY"))
        yield started


def _load(sockets: Any, scenario: Scenario, *, requests: int, concurrency: int, check: bool = True
          ) -> tuple[list[float], int, int]:  # fmt: skip
    """`requests` envelopes from `concurrency` senders, each waiting for its ack before the next:
    the seconds from sending to ack of each answered as the bot answers (`scenario.check` on the
    ack's payload, where Slack shows one), how many were not acked in time, and how many were
    answered otherwise."""
    from tests.fakesocket import SocketSlack

    # What the HTTP benchmark would post, sent as Slack puts it in an envelope.
    envelope_of = SocketSlack(sockets, None).envelope  # type: ignore[arg-type]
    bodies = prepared(scenario.payload, requests)  # built before, as for HTTP (bench.harness.prepared)
    seconds: list[float] = []
    late = wrong = 0
    lock = threading.Lock()
    counter = itertools.count()

    def sender() -> None:
        nonlocal late, wrong
        while (n := next(counter)) < requests:
            envelope = envelope_of(*bodies(n))
            try:
                ack = sockets.wait_ack(envelope)
            except AssertionError:  # no ack within Slack's 3 s (or at all)
                with lock:
                    late += 1
                continue
            shown = json.dumps(ack.payload).encode() if envelope.accepts_response_payload and ack.payload else b""
            with lock:
                if check and envelope.accepts_response_payload and not scenario.check(shown):
                    wrong += 1
                else:
                    seconds.append(ack.after)

    threads = [threading.Thread(target=sender) for _ in range(concurrency)]
    with generator_collector_held():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return seconds, late, wrong


@benchmark("socket")
def socket_mode(ctx: Context) -> list[Table]:
    targets = write_targets(ctx)
    rows = []
    with writes_undone(ctx, targets), channels_linked(ctx, targets) as channels, \
            socket_servers(ctx.engine.url.render_as_string(hide_password=False)) as servers:  # fmt: skip
        posted = Scenario(CHANNEL_MESSAGE, channel_messages(channels, team=ctx.team.team_id), lambda _b: True,
                          stored=messages_stored(ctx, channels))  # fmt: skip
        scenarios = [s for s in ack_scenarios(ctx.team, targets, posted) if s.name in MEASURED]
        (_, tb), (_, noop) = servers["socket"], servers["noop-socket"]
        for scenario in scenarios:
            for sockets in (tb, noop):  # warm up: each caller's first profile fetch, the first envelope
                _load(sockets, scenario, requests=2 * USERS, concurrency=1, check=False)
            for concurrency in ctx.concurrency:
                per_round = max(1, ctx.requests // ROUNDS)
                got: dict[str, list[float]] = {"tb": [], "noop": []}
                late, wrong = {"tb": 0, "noop": 0}, 0
                stored_before = scenario.stored() if scenario.stored else 0
                for r in range(ROUNDS):
                    order = [("tb", tb), ("noop", noop)] if r % 2 == 0 else [("noop", noop), ("tb", tb)]
                    for key, sockets in order:
                        seconds, missed, answered_otherwise = _load(sockets, scenario, requests=per_round,
                                                                    concurrency=concurrency, check=key == "tb")  # fmt: skip
                        got[key] += seconds
                        late[key] += missed
                        wrong += answered_otherwise
                t, n = got["tb"], got["noop"]
                t99 = percentile(t, 99)
                target = ack_target(scenario.name, concurrency, sqlite=ctx.engine.dialect.name == "sqlite")
                misses = [f"p99 > {target * 1000:.0f} ms"] if not t99 <= target else []
                misses += (["late"] if late["tb"] else []) + (["wrong answers"] if wrong else [])
                if scenario.stored and (stored := scenario.stored() - stored_before) != len(t):
                    misses.append(f"{len(t)} acknowledged, {stored} stored")
                rows.append([scenario.name, str(concurrency), ms(percentile(t, 50)), ms(t99), ms(percentile(n, 50)),
                             ms(percentile(n, 99)), f"{t99 / percentile(n, 99):.2f}×", f"{late['tb']}/{late['noop']}",
                             str(wrong), "met" if not misses else "missed: " + ", ".join(misses)])  # fmt: skip
    processes, threads = server_setting("WEB_CONCURRENCY"), server_setting("GUNICORN_THREADS")
    notes = [
        f"The bot as `serve` runs it with SLACK_APP_TOKEN, WEB_CONCURRENCY={processes} and GUNICORN_THREADS={threads}: "
        f"{processes} connection(s), each in a process of its own when more than one, handling its envelopes on "
        f"{threads} threads (slack_sdk's websocket-client connection, "
        "bolt's Socket Mode handler), without the scheduler; the no-op is the HTTP benchmark's no-op app served "
        "the same way. The fake Socket Mode end sends the envelopes to the open connections in turn. Each has a fake Web API and a fake Socket Mode end of its "
        "own in this process (tests/fakesocket.py), which sends the envelopes (`slash_commands`, `interactive`, "
        "`events_api`) and times each from sending to reading its ack; the two alternate in "
        f"{ROUNDS} rounds of the same run.",
        "The requests are the HTTP benchmark's, each sender waiting for its envelope's ack before the next. "
        "Late: envelopes not acked within Slack's 3 s (touchbase/no-op). Wrong: touchbase's acks whose payload is "
        "not its answer (checked as over HTTP, where Slack shows one: commands, the type-ahead, a modal's "
        "submission); a channel message's row is missed when a message acknowledged was not stored.",
    ]
    columns = ["request", "concurrency", "touchbase median ms", "touchbase p99 ms", "no-op median ms", "no-op p99 ms",
               "ratio p99", "late tb/no-op", "wrong", "target (as over HTTP)"]  # fmt: skip
    return [Table("Acknowledge latency over Socket Mode (envelopes to the running bot)", columns, rows, notes)]
