"""Delivery at Slack's pace (issue 18, point 4): the outbox's sender posting digests to a fake
Web API with Slack's latency and limits (bench/slackpace.py, its own process).

Two cases: N digests to N members of one workspace (its budget per minute is the limit), and
N / 10 workspaces of 10 members (each within its own budget at once: the limit is how many
messages are in flight, `runner.SEND_LANES`, times Slack's latency). Each digest is a real
one (`views.revisits.digest_message`, ten items) written to the outbox as the revisit job
writes it, then `Sender.deliver` runs until nothing is left.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from bench.harness import REPO, Context, Table, benchmark
from bench.slackpace import LATENCY, Limits
from bot.clock import wall
from bot.heap import settle_heap
from bot.scheduler.outbox import Sender, sender_client
from bot.scheduler.pacing import MARGIN, WORKSPACE_PER_MINUTE, Pacer
from bot.scheduler.rows import enqueue_many, notification
from bot.scheduler.runner import SEND_BATCH, SEND_LANES
from bot.scheduler.shares import Share
from bot.storage.db import make_engine, make_session_factory, unit_of_work
from bot.storage.models import PENDING, SENDING, SENT, Customer, Notification, Workspace
from bot.views.revisits import digest_message

TARGET_RATIO = 1.2
HANDFUL = 10  # 429s a sender that paces itself may still meet
SENDERS = 2  # the case of several `worker`s, each sending for its share of the workspaces (SENDER_SHARE)


@contextmanager
def paced_slack(speed: float) -> Iterator[str]:
    """`python -m bench.slackpace` in a process of its own (its threads sleep out the latency
    without taking the sender's interpreter); yields its API URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.slackpace", "--speed", str(speed)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))},
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("ready "):
            raise RuntimeError(f"bench.slackpace did not start: {line!r}")
        yield line.split()[1]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _call(url: str, path: str, body: Any = None) -> Any:
    base = url.removesuffix("/api/")
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as resp:
        return json.loads(resp.read())


def _digest(today: dt.date) -> tuple[str, list[dict[str, Any]]]:
    """A digest of ten due revisits, as the revisit job renders it."""
    customers = [
        Customer(id=900_000 + i, number=900_000 + i, name=f"Customer {i} Trading", company=f"Company {i} Ltd",
                 next_revisit=today - dt.timedelta(days=i))
        for i in range(10)
    ]  # fmt: skip
    return digest_message(None, customers, total=14, today=today, digest_time="09:00")


def _write_digests(ctx: Context, teams: list[str], per_team: int, now: dt.datetime) -> dict[str, str]:
    """One digest row per member; returns channel -> workspace."""
    text, blocks = _digest(now.date())
    channels: dict[str, str] = {}
    with unit_of_work(ctx.sessions, now=now) as session:
        known = set(session.scalars(select(Workspace.team_id).where(Workspace.team_id.in_(teams))))
        session.add_all(Workspace(team_id=t, name="touchbase bench: delivery", settings={}) for t in teams
                        if t not in known)  # fmt: skip
        session.flush()
        session.execute(delete(Notification).where(Notification.team_id.in_(teams)))
        rows = []
        for t in teams:
            for i in range(per_team):
                channel = f"U{t[-5:]}{i:05d}"
                channels[channel] = t
                rows.append(notification(now=now, team_id=t, key=f"digest:{channel}:{now.date().isoformat()}",
                                         kind="digest", channel=channel, text=text, blocks=blocks))  # fmt: skip
        enqueue_many(session, rows)
    return channels


def _left(engine: Engine, teams: list[str]) -> Counter[str]:
    with engine.connect() as conn:
        return Counter(dict(conn.execute(select(Notification.status, func.count()).where(
            Notification.team_id.in_(teams)).group_by(Notification.status)).all()))  # fmt: skip


def _deliver_all(engine: Engine, sender: Sender, teams: list[str], give_up: float,
                 check: Callable[[], None] = lambda: None) -> float:  # fmt: skip
    """Run the sender until every row is sent or failed (rows left for a later try are taken
    again when due, and another sender's share is left to it); seconds from the first claim to
    the last answer. `check` raises if the other senders can no longer finish theirs."""
    started = time.monotonic()
    while time.monotonic() - started < give_up:
        check()
        sender.deliver(now=wall())
        left = _left(engine, teams)
        if not left[PENDING] and not left[SENDING]:
            break
        time.sleep(0.2)  # a row that waits for its next try
    return time.monotonic() - started


def _sender(sessions: sessionmaker[Session], url: str, speed: float, *, senders: int = 1, share: int = 1) -> Sender:
    """The sender as a `worker` runs it; with `senders` > 1, that of `SENDER_SHARE=share/senders`,
    whose lanes are its part of `SEND_LANES` (so that as many messages are in flight in all)."""
    clients: dict[str, Any] = {}

    def client_for(team_id: str) -> Any:  # each workspace its own token, as OAuth installs give them
        if team_id not in clients:
            clients[team_id] = sender_client(f"xoxb-{team_id}-bench-pace-not-real", url, timeout=30)
        return clients[team_id]

    return Sender(sessions, client_for, wall=wall, lease=300, retry_budget=60,
                  # Bursts are counts of messages: time compression shortens the intervals, not
                  # them (as the fake's own burst), so the sender's is a real second's worth.
                  pacer=Pacer(per_minute=WORKSPACE_PER_MINUTE * MARGIN * speed, channel_rate=speed,
                              burst=round(WORKSPACE_PER_MINUTE * MARGIN / 60)),
                  lanes=SEND_LANES // senders, batch_size=SEND_BATCH, share=Share.fixed(share, senders))  # fmt: skip


def _other_sender(database_url: str, url: str, speed: float, teams: list[str], senders: int, share: int,
                  ready: Any, go: Any, give_up: float) -> None:  # fmt: skip
    """Another `worker`'s sender, in a process of its own (multiprocessing's spawn): ready once
    started, sending once told to go, until no row of `teams` is left."""
    engine = make_engine(database_url)
    sender = _sender(make_session_factory(engine), url, speed, senders=senders, share=share)
    settle_heap()
    ready.set()
    if go.wait(timeout=give_up):  # else the benchmark ended without it
        _deliver_all(engine, sender, teams, give_up)
    engine.dispose()


@contextmanager
def _other_senders(ctx: Context, url: str, speed: float, teams: list[str], senders: int,
                   give_up: float) -> Iterator[tuple[Callable[[], None], Callable[[], None]]]:  # fmt: skip
    """Shares 2 to `senders`, each a sender in a process of its own (`_other_sender`), started and
    ready; yields `go` (they start sending) and `check` (raises if one of them failed). On the way
    out each is given a while to see that nothing is left, then stopped."""
    spawn = multiprocessing.get_context("spawn")
    go, others = spawn.Event(), []

    def check() -> None:
        if failed := [o.exitcode for o, _ready in others if o.exitcode not in (None, 0)]:
            raise RuntimeError(f"a sender process ended with exit code {failed[0]}")

    try:
        for share in range(2, senders + 1):  # share 1 is the benchmark's own process
            ready = spawn.Event()
            other = spawn.Process(target=_other_sender, daemon=True,
                                  args=(ctx.engine.url.render_as_string(hide_password=False), url, speed, teams,
                                        senders, share, ready, go, give_up))  # fmt: skip
            other.start()
            others.append((other, ready))
        for other, ready in others:
            for _second in range(120):
                if ready.wait(timeout=1):
                    break
                check()
            else:
                raise RuntimeError(f"sender process {other.pid} did not start in 120 s")
        yield go.set, check
        for other, _ready in others:  # each ends within a look (0.2 s) of the last row
            other.join(timeout=30)
    finally:
        for other, _ready in others:
            if other.is_alive():
                other.terminate()


def _case(ctx: Context, url: str, label: str, teams: list[str], per_team: int, speed: float,
          senders: int = 1) -> list[str]:  # fmt: skip
    now = wall()
    channels = _write_digests(ctx, teams, per_team, now)
    _call(url, "/_bench/reset", {})
    _call(url, "/_bench/channels", channels)
    limits = Limits.slack(speed)
    sender = _sender(ctx.sessions, url, speed, senders=senders)
    by_team = Counter(channels.values())
    limits_floor = limits.floor(dict(by_team), {(t, c): 1 for c, t in channels.items()})
    mean_latency = sum(LATENCY) / 2 / speed
    # Each sender's share of the messages on its lanes (the shares are never quite even).
    each = [Share.fixed(k, senders) for k in range(1, senders + 1)]
    shares = Counter(next(s.k for s in each if s.has(t)) for t in channels.values())
    lanes_floor = max(shares.values()) * mean_latency / (SEND_LANES // senders)
    floor = max(limits_floor, lanes_floor)
    give_up = max(60.0, 5 * floor)
    with _other_senders(ctx, url, speed, teams, senders, give_up) as (go, check):
        settle_heap()  # as the `worker` has done before its sender runs: this process's heap is far larger
        go()
        took = _deliver_all(ctx.engine, sender, teams, give_up=give_up, check=check)
    stats = _call(url, "/_bench/stats")
    posts: dict[str, list[float]] = stats["posts"]
    doubled = sum(1 for c in channels if len(posts.get(c, ())) > 1)
    lost = sum(1 for c in channels if not posts.get(c))
    left = _left(ctx.engine, teams)
    refused = int(stats["refused"].get("chat.postMessage", 0))
    ratio = took / floor
    misses = [m for m, bad in (("time", ratio > TARGET_RATIO), ("lost", lost or left[SENT] != len(channels)),
                                ("doubled", doubled), ("429s", refused > HANDFUL)) if bad]  # fmt: skip
    with unit_of_work(ctx.sessions, now=now) as session:  # the workspaces go, and their rows with them
        session.execute(delete(Notification).where(Notification.team_id.in_(teams)))
        session.execute(delete(Workspace).where(Workspace.team_id.in_(teams)))
    lanes = str(SEND_LANES) if senders == 1 else f"{senders} × {SEND_LANES // senders}"
    return [label, f"{len(channels):,}", f"{len(teams):,}", lanes, f"{limits_floor:.1f}", f"{lanes_floor:.1f}",
            f"{took:.1f}", f"{ratio:.2f}×", str(refused), str(lost), str(doubled), str(stats["most_in_flight"]),
            "met" if not misses else "missed: " + ", ".join(misses)]  # fmt: skip


@benchmark("delivery")
def delivery(ctx: Context) -> list[Table]:
    n, speed = ctx.deliveries, ctx.slack_speed
    workspaces = max(1, n // 10)
    rows = []
    many = [f"T0PACE{i:04d}" for i in range(workspaces)]
    with paced_slack(speed) as url:
        rows.append(_case(ctx, url, "one workspace", ["T0PACE0ONE"], n, speed))
        rows.append(_case(ctx, url, "many workspaces of 10", many, 10, speed))
        rows.append(_case(ctx, url, f"many workspaces of 10, {SENDERS} senders", many, 10, speed, senders=SENDERS))
    if speed != 1:  # short at Slack's own pace (its lanes' floor, not a budget, bounds it): run it there too
        with paced_slack(1.0) as url:
            rows.append(_case(ctx, url, "many workspaces of 10, real pace", many, 10, 1.0))
    limits = Limits.slack(speed)
    notes = [
        f"The outbox's sender (`Sender.deliver`, {SEND_LANES} lanes, `pacing.Pacer`) posting one digest (ten items, "
        "`digest_message`) per member to `bench/slackpace.py`, a fake Web API in its own process that answers each "
        f"call after {LATENCY[0] * 1000:.0f}–{LATENCY[1] * 1000:.0f} ms and holds `chat.postMessage` to about one "
        f"message per second per channel (bursts of 3) and {limits.post_per_workspace * 60 / speed:.0f} per "
        "workspace and minute (bursts of 2 s' worth); beyond them it answers 429 with Retry-After and posts nothing. "
        "The sender assumes the same published figures and keeps 10 % below the workspace budget.",
        "Floors: the limits' (each workspace's and channel's messages beyond its burst at its rate, plus the least "
        f"latency) and the lanes' (messages × mean latency ÷ {SEND_LANES} messages in flight); the ratio is to the "
        "larger. One workspace is bound by its budget; many small ones are each within theirs at once, so there "
        "the bound is how many messages are in flight.",
        (f"With {SENDERS} senders (`SENDER_SHARE` 1/{SENDERS} to {SENDERS}/{SENDERS}, the second in a process of "
         f"its own) each has {SEND_LANES // SENDERS} of the lanes, so as many messages are in flight in all; the "
         "lanes' floor is then the larger share's messages on its lanes."),
        "Lost: a member whose digest never arrived (or a row not `sent`); doubled: a member who got it twice; "
        "most in flight: the fake's largest number of calls open at once. Time: from the first claim until no row "
        "is pending, on the database under test (claims, leases and outcomes are written there).",
    ]
    if speed != 1:
        notes.append(f"**Time compressed {speed:g}×**: latencies, limits and Retry-After all {speed:g}× shorter, so "
                     "the floors are too; the sender's own work is not, which makes a compressed run the harder one. "
                     "The last row is the many-workspace case again at Slack's real pace (a fake Slack at 1×), where "
                     "its lanes' floor is the real one; the one-workspace case would take its budget's 17 minutes.")
    columns = ["case", "digests", "workspaces", "lanes", "limits floor s", "lanes floor s", "took s", "ratio",
               "429s", "lost", "doubled", "most in flight", "target (≤ 1.2× floor, 0 lost, 0 doubled, ≤ 10 429s)"]
    return [Table("Delivery at Slack's pace (outbox → a fake Web API with Slack's latency and limits)", columns, rows,
                  notes)]
