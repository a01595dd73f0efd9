"""The scheduler as separate processes: `sweep --at`, two workers racing over one PostgreSQL,
and a worker killed with SIGKILL in the middle of a delivery batch.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, select

from bot.clock import wall
from bot.scheduler.rows import enqueue
from bot.scheduler.shares import Share
from bot.services.workspaces import get_workspace
from bot.storage.models import Customer, Member, Notification, OutboxSender
from tests.conftest import BOT_TOKEN
from tests.helpers import NO_DOTENV, add_customer, eventually
from tests.slackclient import TEAM, USER

TUESDAY = dt.date(2026, 12, 1)


@pytest.fixture
def env(database_url, fake):
    ours = ("SLACK_", "DATABASE_URL", "TZ_DEFAULT", "SCHEDULER_", "SENDER_", "TOUCHBASE_")
    base = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    return {**base, "DATABASE_URL": database_url, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": fake.api_url}


def bot(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=NO_DOTENV,  # no developer's .env: the settings are the env's alone
    )


def finish(proc: subprocess.Popen[str], timeout: float = 180) -> str:
    """What the process printed, once it has ended well."""
    return ended(proc, timeout)[0]


def ended(proc: subprocess.Popen[str], timeout: float = 180) -> tuple[str, str]:
    """What the process printed and what it logged, once it has ended well."""
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:  # timed out: never leave a process behind
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    return out, err


def statuses(session) -> dict[str, str]:
    session.expire_all()
    rows = {n.key: n.status for n in session.scalars(select(Notification))}
    session.commit()
    return rows


def test_sweep_at_sends_each_member_their_digest_at_their_own_nine(engine, session, fake, env):
    get_workspace(session, TEAM)
    session.commit()
    fake.add_user("U00SHANG", tz="Asia/Shanghai")
    fake.add_user("U00NEWYK", tz="America/New_York")
    for name, owner in (("Shanghai Co", "U00SHANG"), ("New York Co", "U00NEWYK")):
        add_customer(session, name, owner_id=owner).next_revisit = TUESDAY
        session.commit()

    out = finish(bot("sweep", "--at", "2026-12-01T09:00:00+08:00", env=env))
    assert "1 sent, 0 failed" in out
    assert [c.args["channel"] for c in fake.calls_to("chat.postMessage")] == ["U00SHANG"]

    finish(bot("sweep", "--at", "2026-12-01T09:00:00-05:00", env=env))
    finish(bot("sweep", "--at", "2026-12-01T09:00:00-05:00", env=env))
    assert [c.args["channel"] for c in fake.calls_to("chat.postMessage")] == ["U00SHANG", "U00NEWYK"]


def test_sweep_with_a_malformed_instant_stops_with_one_line(engine, env):
    proc = bot("sweep", "--at", "next tuesday", env=env)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.startswith("touchbase: --at 'next tuesday' is not an ISO-8601 instant")
    assert len(err.strip().splitlines()) == 1


def test_two_workers_over_a_thousand_due_items_send_each_exactly_once(engine, session, fake, env):
    if engine.dialect.name != "postgresql":
        pytest.skip("two processes claiming rows concurrently needs PostgreSQL (FOR UPDATE SKIP LOCKED)")
    # Ten workspaces of 50 owners with 2 customers each: the sender paces each workspace and
    # channel to Slack's limits, and this spread keeps that pace a few seconds, well inside
    # the minute `sweep` delivers for (one workspace's budget alone would take about as long).
    teams = [TEAM, *(f"{TEAM}{n}" for n in range(1, 10))]
    owners = [f"U{n:08d}" for n in range(50)]
    for team in teams:
        get_workspace(session, team)
        session.add_all(Member(team_id=team, user_id=o, tz="UTC", digest_enabled=False, profile_fetched_at=wall())
                        for o in owners)  # fmt: skip
    session.add_all(
        Customer(team_id=teams[n // 100], number=n % 100 + 1, name=f"Customer {n}", name_key=f"customer {n}",
                 owner_id=owners[n % len(owners)], next_revisit=TUESDAY)
        for n in range(1000)
    )  # fmt: skip
    session.commit()
    fake.slow("chat.postMessage", 0.002)  # long enough for the two to overlap

    workers = [bot("sweep", "--at", "2026-12-01T09:00:00Z", env=env) for _ in range(2)]
    outputs = [finish(w) for w in workers]

    sent = [int(out.split(" sent")[0].rsplit(" ", 1)[-1]) for out in outputs]
    assert sum(sent) == 1000 and min(sent) > 0, outputs  # both took part

    posted = Counter(c.args["text"] for c in fake.calls_to("chat.postMessage"))
    assert len(posted) == 1000, outputs
    assert max(posted.values()) == 1, [t for t, n in posted.items() if n > 1][:5]
    assert set(statuses(session).values()) == {"sent"} and len(statuses(session)) == 1000


def test_two_workers_with_shares_each_send_for_their_own_workspaces_at_once(engine, session, fake, env):
    if engine.dialect.name != "postgresql":
        pytest.skip("two processes sending at once over one database: PostgreSQL")
    teams = [TEAM, *(f"{TEAM}{n}" for n in range(1, 10))]
    for team in teams:
        get_workspace(session, team)
        for n in range(20):
            enqueue(session, now=wall(), team_id=team, key=f"share:{n}", kind="test", channel=f"U{n:08d}",
                    text=f"{team} {n}", due_at=wall() - dt.timedelta(minutes=1))  # fmt: skip
    session.commit()
    fake.slow("chat.postMessage", 0.002)  # long enough for the two to overlap

    workers = [bot("sweep", env={**env, "SENDER_SHARE": f"{k}/2"}) for k in (1, 2)]
    outputs = [finish(w) for w in workers]

    for k, out in zip((1, 2), outputs, strict=True):
        mine = [t for t in teams if Share.fixed(k, 2).has(t)]
        assert f" {20 * len(mine)} sent," in out, (k, outputs)
    posted = Counter(c.args["text"] for c in fake.calls_to("chat.postMessage"))
    assert len(posted) == 200 and max(posted.values()) == 1, outputs
    assert set(statuses(session).values()) == {"sent"}


def test_a_sweep_with_a_share_sends_for_its_share_alone_and_the_others_wait_for_theirs(engine, session, fake, env):
    teams = [TEAM, *(f"{TEAM}{n}" for n in range(1, 6))]
    first = [t for t in teams if Share.fixed(1, 2).has(t)]
    assert 0 < len(first) < len(teams)
    for team in teams:
        get_workspace(session, team)
        enqueue(session, now=wall(), team_id=team, key="share", kind="test", channel=USER, text=team,
                due_at=wall() - dt.timedelta(minutes=1))  # fmt: skip
    session.commit()

    out = finish(bot("sweep", env={**env, "SENDER_SHARE": "1/2"}))
    assert f" {len(first)} sent," in out
    assert sorted(c.args["text"] for c in fake.calls_to("chat.postMessage")) == sorted(first)
    assert {k: s for k, s in statuses_by_team(session).items() if s != "sent"} == {
        t: "pending" for t in teams if t not in first}

    finish(bot("sweep", env={**env, "SENDER_SHARE": "2/2"}))
    assert sorted(c.args["text"] for c in fake.calls_to("chat.postMessage")) == sorted(teams)
    assert set(statuses_by_team(session).values()) == {"sent"}


def test_a_sweep_with_an_auto_share_sends_its_share_among_the_senders_running_and_then_leaves(
    engine, session, fake, env
):
    teams = [TEAM, *(f"{TEAM}{n}" for n in range(1, 24))]
    for team in teams:
        get_workspace(session, team)
        enqueue(session, now=wall(), team_id=team, key="share", kind="test", channel=USER, text=team,
                due_at=wall() - dt.timedelta(minutes=1))  # fmt: skip
    session.add(OutboxSender(id="another-worker", seen_at=wall()))  # a worker with `auto`, running
    session.commit()

    out, logged = ended(bot("sweep", env={**env, "SENDER_SHARE": "auto"}))
    sent = sorted(c.args["text"] for c in fake.calls_to("chat.postMessage"))
    assert f" {len(sent)} sent," in out
    # Its share among the two senders, by its id (random: of 24 workspaces, none or all once in 8 million).
    [sender_id] = re.findall(r"sending for share \d/2 of the senders running, as (\w+)", logged)
    assert sent == sorted(t for t in teams if Share.among(sender_id, sorted([sender_id, "another-worker"])).has(t))
    assert statuses_by_team(session) == {t: "sent" if t in sent else "pending" for t in teams}
    assert list(session.scalars(select(OutboxSender.id))) == ["another-worker"]  # the sweep's own row is gone
    session.commit()

    session.execute(delete(OutboxSender))  # the other worker stopped: the next sweep sends for all
    session.commit()
    finish(bot("sweep", env={**env, "SENDER_SHARE": "auto"}))
    assert sorted(c.args["text"] for c in fake.calls_to("chat.postMessage")) == sorted(teams)
    assert set(statuses_by_team(session).values()) == {"sent"}


@pytest.mark.parametrize("share", ["3/2", "1/1025", "automatic"])
def test_a_malformed_share_stops_the_worker_with_one_line(engine, env, share):
    proc = bot("worker", env={**env, "SENDER_SHARE": share})
    try:
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # a worker that started after all: never leave it behind
            proc.kill()
            proc.wait()
    assert proc.returncode == 2
    assert err.startswith("touchbase: setting SENDER_SHARE is malformed")
    assert len(err.strip().splitlines()) == 1


def statuses_by_team(session) -> dict[str, str]:
    session.expire_all()
    rows = dict(session.execute(select(Notification.team_id, Notification.status)).all())
    session.commit()
    return rows


def test_a_worker_killed_mid_batch_loses_nothing_and_resends_nothing_marked_sent(engine, session, fake, env):
    get_workspace(session, TEAM)
    total = 30
    for n in range(total):
        enqueue(session, now=wall(), team_id=TEAM, key=f"crash:{n}", kind="test", channel=USER, text=f"message {n}",
                due_at=wall() - dt.timedelta(minutes=1))  # fmt: skip
    session.commit()
    fake.slow("chat.postMessage", 0.2)
    lease = 3
    env = {**env, "SCHEDULER_LEASE_SECONDS": str(lease)}

    worker = bot("worker", env=env)
    try:
        deadline = time.monotonic() + 60
        while len(fake.calls_to("chat.postMessage")) < 5:
            assert worker.poll() is None, worker.communicate()[1]
            assert time.monotonic() < deadline, "the worker sent nothing"
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.kill()
        worker.communicate()
    at_kill = statuses(session)
    marked_sent = {k for k, s in at_kill.items() if s == "sent"}
    assert 0 < len(marked_sent) < total, at_kill
    fake.slow("chat.postMessage", 0)
    time.sleep(lease + 1.5)  # the dead worker's lease runs out
    before_restart = len(fake.calls_to("chat.postMessage"))

    out = finish(bot("sweep", env=env))

    after_restart = statuses(session)
    assert set(after_restart.values()) == {"sent"}, (out, at_kill, after_restart)
    after = [c.args["text"] for c in fake.calls_to("chat.postMessage")[before_restart:]]
    resent_but_marked = [t for t in after if f"crash:{t.split()[-1]}" in marked_sent]
    assert resent_but_marked == [], (out, at_kill)
    posted = Counter(c.args["text"] for c in fake.calls_to("chat.postMessage"))
    assert set(posted) == {f"message {n}" for n in range(total)}
    # Only the one message in flight at the kill may have gone twice.
    assert sum(posted.values()) <= total + 1, (posted, at_kill)


def test_serve_runs_the_scheduler_in_process_unless_disabled(engine, session, fake, env):
    from tests.test_cli import _free_port

    get_workspace(session, TEAM)
    enqueue(session, now=wall(), team_id=TEAM, key="notice", kind="test", channel=USER, text="sent by serve")
    session.commit()
    port = _free_port()
    env = {**env, "SLACK_SIGNING_SECRET": "secret", "PORT": str(port), "WEB_CONCURRENCY": "1"}
    server = bot("serve", env=env)
    try:
        deadline = time.monotonic() + 60
        while not fake.calls_to("chat.postMessage"):
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, "serve did not deliver"
            time.sleep(0.1)
        assert fake.last("chat.postMessage")["text"] == "sent by serve"
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_a_worker_with_an_auto_share_joins_the_senders_running_and_leaves_them_on_sigterm(engine, session, env):
    worker = bot("worker", env={**env, "SENDER_SHARE": "auto"})
    with stopped_on_sigterm(worker):
        until_said(worker, "sending for share 1/1 of the senders running")
        assert len(session.scalars(select(OutboxSender.id)).all()) == 1
        session.commit()
    assert session.scalars(select(OutboxSender.id)).all() == []  # the others need not wait for it to be unseen


def test_two_workers_with_auto_shares_find_each_other_and_one_takes_over_when_the_other_stops(
    engine, session, fake, env
):
    if engine.dialect.name != "postgresql":
        pytest.skip("two processes sending at once over one database: PostgreSQL")
    teams = [TEAM, *(f"{TEAM}{n}" for n in range(1, 10))]
    for team in teams:
        get_workspace(session, team)
    session.commit()

    def due(round_: str) -> None:
        for team in teams:
            for n in range(5):
                enqueue(session, now=wall(), team_id=team, key=f"{round_}:{n}", kind="test", channel=f"U{n:08d}",
                        text=f"{round_} {team} {n}", due_at=wall() - dt.timedelta(minutes=1))  # fmt: skip
        session.commit()

    def all_sent(round_: str) -> None:
        eventually(lambda: len({c.args["text"] for c in fake.calls_to("chat.postMessage")
                                if c.args["text"].startswith(round_)}) == 50, f"the {round_} round sent")  # fmt: skip

    workers = [bot("worker", env={**env, "SENDER_SHARE": "auto"}) for _ in range(2)]
    said: list[list[str]] = [[], []]
    for worker, lines in zip(workers, said, strict=True):  # read as they come, so no pipe fills up
        threading.Thread(target=lambda w=worker, out=lines: out.extend(w.stderr), daemon=True).start()
    try:
        # Each counts two at its first beat after the other's first: within 10 s.
        eventually(lambda: all(any(re.search(r"share \d/2 of the senders running", line) for line in lines)
                               for lines in said), "both workers counting two")  # fmt: skip
        due("first")
        all_sent("first")
        workers[0].send_signal(signal.SIGTERM)
        assert workers[0].wait(timeout=30) == 0
        due("second")  # the other counts one at its next beat, and sends them all
        all_sent("second")
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            finally:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
    assert [worker.returncode for worker in workers] == [0, 0], said
    posted = Counter(c.args["text"] for c in fake.calls_to("chat.postMessage"))
    assert len(posted) == 100 and max(posted.values()) == 1
    assert list(session.scalars(select(OutboxSender.id))) == []


def test_the_worker_stops_cleanly_on_sigterm(engine, env):
    worker = bot("worker", env=env)
    with stopped_on_sigterm(worker):
        until_said(worker, "worker started")


def until_said(worker: subprocess.Popen[str], words: str) -> None:
    """Read the worker's log until a line says `words`."""
    while words not in (line := worker.stderr.readline()):
        assert line, f"the worker exited before it said {words!r}"


@contextlib.contextmanager
def stopped_on_sigterm(worker: subprocess.Popen[str]) -> Iterator[None]:
    """The worker, then a SIGTERM that it ends on with exit code 0 (killed if it does not)."""
    try:
        yield
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
        assert worker.returncode == 0, err
    finally:
        worker.kill()
        worker.wait()
