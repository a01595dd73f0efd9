"""Seeing what it does: `GET /metrics` (Prometheus text, parsed here as Prometheus parses it),
one log line per request, JSON lines with `LOG_FORMAT=json`, and a request id that follows a
request's work after the answer. Labels hold fixed words only: no workspace, person or text.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import logs, metrics
from bot.clock import wall
from bot.scheduler.jobs import JOBS
from bot.scheduler.rows import enqueue
from bot.scheduler.runner import Scheduler
from bot.services.workspaces import get_workspace
from bot.storage import db
from bot.storage.db import make_session_factory
from bot.storage.models import OutboxSender, Workspace
from tests.conftest import SIGNING_SECRET
from tests.helpers import add_customer, grew, needs_timed_waits, scrape, value
from tests.slackclient import TEAM, USER, SignedSlack

OTHER_USER = "U0000002"


def test_requests_and_slack_calls_are_counted_by_kind_outcome_and_method(bot, slack, fake, session):
    before, _ = scrape(bot.url)
    slack.command("help")
    slack.command("new Acme Ltd")  # views.open
    slack.action("customer_show", "not-a-number")  # a forged button: refused
    assert SignedSlack(bot.url, "wrong-secret", fake).command("help").status == 401
    fake.fail("views.open", status=429, retry_after=1)
    slack.command("new Beta Ltd")
    after, _ = scrape(bot.url)

    assert grew(before, after, "touchbase_requests_total", kind="command", outcome="ok") >= 2
    assert grew(before, after, "touchbase_requests_total", kind="action", outcome="refused") == 1
    assert grew(before, after, "touchbase_requests_total", kind="other", outcome="rejected") == 1
    assert grew(before, after, "touchbase_request_ack_seconds_count", kind="command") >= 3
    assert grew(before, after, "touchbase_request_cpu_seconds_total", kind="command") > 0  # the answering thread's work
    assert grew(before, after, "touchbase_slack_api_calls_total", method="views.open", result="ok") == 1
    assert grew(before, after, "touchbase_slack_api_calls_total", method="views.open", result="ratelimited") == 1
    assert grew(before, after, "touchbase_slack_api_calls_total", method="users.info", result="ok") >= 1


def test_sqlite_write_turns_are_counted_with_the_time_waited_for_them_and_held(bot, slack, fake, session, engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("the write turn is SQLite's (PostgreSQL has row locks)")
    add_customer(session, "Acme Ltd", grade="B")
    slack.command("touch Acme Ltd")
    view = fake.last("views.open")["view"]
    before, _ = scrape(bot.url)
    assert slack.submit(view, {"Kind": "Visit", "Summary": "Walked the plant"}).status == 200
    after, _ = scrape(bot.url)

    assert grew(before, after, "touchbase_sqlite_write_turns_total") >= 1  # the touch (the App Home's sender may add one)
    assert grew(before, after, "touchbase_sqlite_write_turn_seconds_total", phase="holding") > 0


def test_a_write_turn_that_cannot_be_counted_still_commits(engine, session, caplog):
    if engine.dialect.name != "sqlite":
        pytest.skip("the write turn is SQLite's")

    def broken(_waited: float, _held: float | None) -> None:
        raise OSError("No space left on device")  # e.g. prometheus_client's multiprocess files

    db.turn_observers.append(broken)
    try:
        get_workspace(session, TEAM)  # created: a write
        session.commit()
    finally:
        db.turn_observers.remove(broken)
    with make_session_factory(engine)() as other:
        assert other.get(Workspace, TEAM) is not None
    assert "a write turn could not be counted" in caplog.text


@needs_timed_waits  # the turn's lock is acquired with a timeout
def test_a_writer_that_gives_up_waiting_for_its_turn_counts_as_a_wait_not_a_turn(engine, session, monkeypatch):
    if engine.dialect.name != "sqlite":
        pytest.skip("the write turn is SQLite's")
    monkeypatch.setattr(db, "TURN_WAIT", 0.05)

    def counted() -> tuple[float, float, float]:
        turns = metrics.REGISTRY.get_sample_value("touchbase_sqlite_write_turns_total") or 0.0
        waiting, holding = (metrics.REGISTRY.get_sample_value("touchbase_sqlite_write_turn_seconds_total",
                                                              {"phase": phase}) or 0.0 for phase in metrics.TURN_PHASES)
        return turns, waiting, holding  # fmt: skip

    raw = engine.raw_connection()
    turns = raw.dbapi_connection.turns  # this process's turn, held here by someone else
    before = counted()
    assert turns.acquire(timeout=5)
    try:
        get_workspace(session, TEAM)  # a write: it waits 0.05 s, then goes on and lets SQLite decide
        session.commit()
    finally:
        turns.release()
        raw.close()
    after = counted()
    assert after[0] == before[0] and after[2] == before[2]  # no turn was taken or held
    assert after[1] - before[1] >= 0.05  # but its wait is counted
    with make_session_factory(engine)() as other:
        assert other.get(Workspace, TEAM) is not None


def test_the_outbox_is_reported_by_status_with_the_age_of_the_oldest_due_notification(bot, session):
    get_workspace(session, TEAM)
    now = wall()
    enqueue(session, now=now, team_id=TEAM, key="waiting", kind="test", channel=USER, text="hello",
            due_at=now - dt.timedelta(minutes=10))  # fmt: skip
    enqueue(session, now=now, team_id=TEAM, key="tomorrow", kind="test", channel=USER, text="later",
            due_at=now + dt.timedelta(days=1))  # fmt: skip
    session.commit()
    samples, _ = scrape(bot.url)
    assert value(samples, "touchbase_outbox_notifications", status="pending") == 2
    assert value(samples, "touchbase_outbox_notifications", status="sending") == 0
    age = value(samples, "touchbase_outbox_oldest_pending_seconds")
    assert 600 <= age < 3600  # the one due ten minutes ago; tomorrow's is not late


def test_the_senders_running_with_an_auto_share_are_counted_and_a_dead_one_is_not(bot, session):
    session.add_all([OutboxSender(id="running", seen_at=wall() - dt.timedelta(seconds=5)),
                     OutboxSender(id="another", seen_at=wall()),
                     OutboxSender(id="dead", seen_at=wall() - dt.timedelta(minutes=2)),
                     OutboxSender(id="clock-far-ahead", seen_at=wall() + dt.timedelta(hours=1))])  # fmt: skip
    session.commit()
    samples, _ = scrape(bot.url)
    assert value(samples, "touchbase_outbox_senders") == 2


def test_every_metric_served_is_described_in_the_readme(bot, slack):
    slack.command("help")  # a request, so that its metrics are served too
    samples, _ = scrape(bot.url)
    served = {re.sub(r"_(bucket|count|sum)$", "", name) for name, _ in samples
              if name.startswith("touchbase_") and not name.endswith("_created")}  # fmt: skip
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert {"touchbase_outbox_senders", "touchbase_requests_total"} <= served
    # Named whole, as `name` or `name{labels}`: not only as the start of another's name.
    assert sorted(name for name in served if f"`{name}`" not in readme and f"`{name}{{" not in readme) == []


def test_job_runs_durations_and_deliveries_are_counted(bot, settings, engine, session, fake):
    add_customer(session, "Acme", owner_id=USER).next_revisit = dt.date(2026, 12, 1)
    session.commit()
    before, _ = scrape(bot.url)
    Scheduler(settings, make_session_factory(engine)).sweep(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC))
    after, _ = scrape(bot.url)
    for job in (*JOBS, "deliver"):
        assert grew(before, after, "touchbase_job_runs_total", job=job, outcome="ok") > 0, job
        assert grew(before, after, "touchbase_job_seconds_count", job=job) > 0, job
    assert grew(before, after, "touchbase_outbox_deliveries_total", result="sent") == 1


def test_labels_hold_only_fixed_words_never_people_workspaces_or_text(bot, slack, fake, session):
    slack.command("new Zebulon Crates")
    slack.command("find Zebulon")
    _, body = scrape(bot.url)
    allowed = {
        "kind": set(metrics.KINDS), "outcome": set(metrics.OUTCOMES) | {"ok", "failed"},
        "result": set(metrics.SLACK_RESULTS) | {"sent", "failed", "expired", "cancelled", "retry_later"},
        "status": set(metrics.OUTBOX_STATUSES), "job": set(JOBS) | {"deliver"},
        "phase": set(metrics.TURN_PHASES),
    }  # fmt: skip
    for family in text_string_to_metric_families(body):
        if not family.name.startswith("touchbase_"):
            continue
        for sample in family.samples:
            for label, text in sample.labels.items():
                if label == "le":
                    continue
                if label == "method":
                    assert re.fullmatch(r"[a-z][a-zA-Z0-9.]+", text), sample  # a Web API method: oauth.v2.access
                else:
                    assert text in allowed[label], sample
    for private in (TEAM, USER, "Zebulon", "Crates"):
        assert private not in body


# --- logs -----------------------------------------------------------------------------------


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The process's log lines as LOG_FORMAT=json writes them."""
    stream = io.StringIO()
    handler = logs.handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def lines_of(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]  # each line one JSON object


def test_each_request_writes_one_line_with_its_kind_workspace_outcome_and_duration(slack, json_lines):
    slack.command("new Zebulon Crates")
    slack.action("customer_show", "not-a-number")
    requests = [line for line in lines_of(json_lines) if line["logger"] == "bot.requests"]
    assert [(r["kind"], r["team"], r["outcome"]) for r in requests] == [
        ("command", TEAM, "ok"), ("action", TEAM, "refused")]  # fmt: skip
    assert all(r["duration_ms"] >= 0 and r["level"] == "info" for r in requests)
    assert len({r["request_id"] for r in requests}) == 2
    for line in requests:  # nothing a person typed, nobody's id
        assert "Zebulon" not in json.dumps(line) and USER not in json.dumps(line)


def test_the_request_id_follows_the_work_after_the_answer(slack, fake, session, json_lines):
    add_customer(session, "Acme")
    # The report, built and sent after the answer, fails to go; so does the DM saying so.
    fake.fail("chat.postMessage", error="channel_not_found", times=2)
    slack.command("report")
    lines = lines_of(json_lines)
    [answered] = [line for line in lines if line["logger"] == "bot.requests"]
    [failed] = [line for line in lines if line["message"] == "work after the response failed"]
    assert answered["request_id"] == failed["request_id"] != "-"
    assert "channel_not_found" in failed["error"]


def test_text_lines_carry_the_request_id_too(slack):
    stream = io.StringIO()
    requests = logging.getLogger("bot.requests")
    handler, level = logs.handler("text", stream), requests.level
    requests.addHandler(handler)
    requests.setLevel(logging.INFO)
    try:
        slack.command("help")
    finally:
        requests.removeHandler(handler)
        requests.setLevel(level)
    [line] = stream.getvalue().splitlines()
    assert re.search(r" INFO bot\.requests \[[0-9a-f]{16}\]: request kind=command team=T0000001 outcome=ok "
                     r"duration_ms=[0-9.]+$", line), line  # fmt: skip


def test_a_workspace_that_is_not_installed_is_counted_and_logged_as_such(multi_bot, fake, json_lines):
    before, _ = scrape(multi_bot.url)
    SignedSlack(multi_bot.url, SIGNING_SECRET, fake).command("help", team="T0000B002")
    after, _ = scrape(multi_bot.url)
    key = ("touchbase_requests_total", frozenset({("kind", "command"), ("outcome", "not_installed")}))
    assert after.get(key, 0) - before.get(key, 0) == 1
    [line] = [line for line in lines_of(json_lines) if line["logger"] == "bot.requests"]
    assert (line["team"], line["outcome"]) == ("T0000B002", "not_installed")


def test_the_install_pages_are_counted_and_logged(multi_bot, fake, json_lines):
    from tests.slackclient import Browser

    Browser(multi_bot.url, fake).install("T0000A001")
    kinds = [(line["kind"], line["status"]) for line in lines_of(json_lines) if line["logger"] == "bot.requests"]
    assert kinds == [("install", 302), ("oauth_redirect", 200)]


def test_a_requests_time_and_cpu_count_from_its_arrival_its_reading_included(local_slack, json_lines, monkeypatch):
    """Over HTTP a request is read (`guard`) before bolt dispatches it: its logged duration and
    its CPU in the metrics count from when the WSGI app took it. On a clock of the test's own,
    the reading takes five seconds."""
    from types import SimpleNamespace

    import bot.app
    from bot import metrics

    clock = [1000.0]
    real_guard = bot.app.guard

    def slow_guard(*args):  # type: ignore[no-untyped-def]
        read = real_guard(*args)
        clock[0] += 5.0
        return read

    monkeypatch.setattr(bot.app, "time", SimpleNamespace(perf_counter=lambda: clock[0], thread_time=lambda: clock[0]))
    monkeypatch.setattr(bot.app, "guard", slow_guard)
    cpu_before = metrics.REGISTRY.get_sample_value("touchbase_request_cpu_seconds_total", {"kind": "command"}) or 0.0
    assert local_slack.command("help").status == 200
    [line] = [r for r in lines_of(json_lines) if r["logger"] == "bot.requests"]
    assert line["duration_ms"] == 5000.0
    cpu = metrics.REGISTRY.get_sample_value("touchbase_request_cpu_seconds_total", {"kind": "command"}) - cpu_before
    assert cpu == pytest.approx(5.0)
