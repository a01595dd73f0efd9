"""Stopping cleanly, as a deploy, systemd or `docker stop` stops touchbase: SIGTERM while a slow
send is in flight ends the process with 0, the message in flight is finished and no row is
left `sending` (the rest are back to pending, and go out once, later); the work a request left
for after its answer still happens. And gunicorn's workers count into one `/metrics`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter

import pytest

from bot.clock import wall
from bot.scheduler.rows import enqueue
from bot.services.workspaces import get_workspace
from tests.conftest import SIGNING_SECRET
from tests.helpers import NO_DOTENV, add_customer, children_of, eventually, running, scrape, value
from tests.slackclient import TEAM, USER, SignedSlack
from tests.test_cli import _free_port
from tests.test_scheduler_processes import bot, env, finish, statuses  # noqa: F401 - env is a fixture

OTHER_USER = "U0000002"
MESSAGES = 6


def wait_until(condition, proc: subprocess.Popen[str], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert proc.poll() is None, proc.communicate()[1]
        if time.monotonic() > deadline:
            kill(proc)
            raise AssertionError(f"{what}: {proc.communicate()[1]}")
        time.sleep(0.05)


def started(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """`python -m bot …` in a process group of its own, so that nothing it starts outlives a test."""
    return subprocess.Popen([sys.executable, "-m", "bot", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=NO_DOTENV, start_new_session=True)  # fmt: skip


def kill(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop(proc: subprocess.Popen[str], timeout: float = 90) -> str:
    """SIGTERM (to the process alone, as systemd's KillMode=mixed sends it), then the process
    must end by itself, with 0, and leave no process of its own behind."""
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            kill(proc)
            proc.wait()
    assert proc.returncode == 0, err
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return err
    kill(proc)
    raise AssertionError(f"a process of {proc.args} outlived it: {err}")


def due_messages(session) -> None:
    get_workspace(session, TEAM)
    for n in range(MESSAGES):
        enqueue(session, now=wall(), team_id=TEAM, key=f"stop:{n}", kind="test", channel=USER, text=f"message {n}",
                due_at=wall() - dt.timedelta(minutes=1))  # fmt: skip
    session.commit()


def serving(env: dict[str, str], **more: str) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    proc = started("serve", env={**env, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "PORT": str(port),
                                 "WEB_CONCURRENCY": "1", **more})  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    wait_until(up, proc, "the server did not come up")
    return proc, url


def assert_stopped_cleanly(session, fake) -> None:
    """Nothing left `sending`; what was sent was posted; the rest is pending and goes once."""
    after = statuses(session)
    assert "sending" not in after.values(), after
    sent = {k for k, s in after.items() if s == "sent"}
    assert len(sent) < MESSAGES and set(after.values()) <= {"sent", "pending"}, after  # stopped mid-batch
    posted = {c.args["text"] for c in fake.calls_to("chat.postMessage")}
    assert {f"message {k.split(':')[1]}" for k in sent} <= posted


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_sigterm_during_a_slow_send_exits_0_and_leaves_no_row_sending(command, engine, session, fake, env):
    due_messages(session)
    fake.slow("chat.postMessage", 1.0)
    if command == "worker":
        proc = started("worker", env=env)
    else:  # gunicorn, and the scheduler beside it
        proc, _ = serving(env)
    wait_until(lambda: "sending" in statuses(session).values(), proc, "nothing was claimed")
    time.sleep(0.3)  # the first message is on its way to Slack

    stop(proc)

    assert_stopped_cleanly(session, fake)
    fake.slow("chat.postMessage", 0)
    finish(bot("sweep", env=env))
    posted = Counter(c.args["text"] for c in fake.calls_to("chat.postMessage"))
    assert set(posted) == {f"message {n}" for n in range(MESSAGES)} and max(posted.values()) == 1, posted
    assert set(statuses(session).values()) == {"sent"}


# A SIGTERM while the worker already stops: serve's watch and systemd together may send two; honcho
# or foreman stop a Procfile with Ctrl-C to the whole group, then SIGTERM to each child.
@pytest.mark.parametrize(("first", "gap"), [(signal.SIGTERM, 0.0), (signal.SIGTERM, 0.3), (signal.SIGINT, 0.3)])
def test_a_sigterm_while_the_worker_stops_lets_the_stop_finish(first, gap, engine, session, fake, env):
    due_messages(session)
    fake.slow("chat.postMessage", 1.0)
    proc = started("worker", env=env)
    wait_until(lambda: "sending" in statuses(session).values(), proc, "nothing was claimed")
    time.sleep(0.3)  # the first message is on its way to Slack
    proc.send_signal(first)
    time.sleep(gap)  # at once, or once the stop is under way, waiting for that message
    err = stop(proc)  # SIGTERM

    assert_stopped_cleanly(session, fake)
    assert "scheduler stopped" in err and "Traceback" not in err, err
    # Its sender's full collections scan what it sends, not the modules (bot.heap.settle_heap).
    assert re.search(r"start-up heap set aside from the garbage collector: [1-9]\d{4,} objects", err), err


def test_the_scheduler_serve_started_stops_by_itself_when_serve_is_killed_outright(engine, session, fake, env):
    due_messages(session)
    proc, _ = serving(env)
    try:
        wait_until(lambda: fake.calls_to("chat.postMessage"), proc, "serve's scheduler did not deliver")
        [worker] = children_of(proc.pid, b"bot\0worker")
        proc.kill()  # SIGKILL: serve cannot stop what it started
        proc.wait()
        # Its stderr ends once every process holding it has ended: gunicorn's worker, the scheduler
        _, err = proc.communicate(timeout=60)
        # its stderr closes a moment before it has ended
        eventually(lambda: not running(worker), "the scheduler to end after serve", timeout=10)
    finally:
        kill(proc)
    assert f"the process that started it (pid {proc.pid}) is gone; stopping" in err, err
    assert "scheduler stopped" in err and "Traceback" not in err, err


def test_sigterm_right_after_an_answer_still_does_the_work_after_it(engine, session, fake, env):
    add_customer(session, "Acme")
    fake.slow("chat.postMessage", 1.5)  # the report's DM, built and sent after the answer
    proc, url = serving(env, SCHEDULER_ENABLED="false")
    reply = SignedSlack(url, SIGNING_SECRET, fake).command("report")
    assert reply.status == 200 and "Working on your report" in reply.shown

    stop(proc)

    [dm] = fake.calls_to("chat.postMessage")
    assert dm.args["channel"] == USER and "Touches" in str(dm.args["blocks"])


def test_gunicorn_workers_count_into_one_metrics_page(engine, fake, env, tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_99999.db").write_bytes(b"left by an earlier run")  # emptied at start
    proc, url = serving(env, SCHEDULER_ENABLED="false", WEB_CONCURRENCY="2", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    try:
        slack = SignedSlack(url, SIGNING_SECRET, fake)
        for _ in range(6):
            assert slack.command("help").status == 200
        seen = {value(scrape(url)[0], "touchbase_requests_total", kind="command", outcome="ok") for _ in range(4)}
        assert seen == {6.0}  # whichever worker answers the scrape
        assert not (metrics_dir / "counter_99999.db").exists()
    finally:
        err = stop(proc)
    # Each worker, once it has built the app (bot.heap.settle_heap).
    assert len(re.findall(r"start-up heap set aside from the garbage collector: [1-9]\d{4,} objects", err)) == 2, err
