"""Socket Mode end to end: the real bot over a fake Slack Socket Mode server (tests/fakesocket.py)
and the fake Web API, as Slack behaves: hello, envelopes acked within 3 s, `disconnect`, a
dropped connection, /healthz and /metrics on PORT, the scheduler alongside, and `serve` itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.app import create_app
from bot.clock import wall
from bot.config import Settings, SettingsError
from bot.scheduler.rows import enqueue
from bot.server import start_scheduler
from bot.services.workspaces import get_workspace
from bot.socketmode import SocketModeServer
from bot.storage import crypto
from bot.storage.db import make_session_factory
from bot.storage.models import Notification
from tests.conftest import BOT_TOKEN, home_worker
from tests.fakeslack import FakeSlack
from tests.fakesocket import FakeSocketMode, SocketSlack
from tests.helpers import (
    NO_DOTENV,
    add_customer,
    children_of,
    customers_of,
    eventually,
    grew,
    needs_timed_waits,
    running,
    scrape,
)
from tests.slackclient import USER, block_text

APP_TOKEN = "xapp-1-A0000001-test-token-not-real"

# The Socket Mode client is made of timed waits (Event.wait(interval) loops): see needs_timed_waits.
pytestmark = needs_timed_waits


@pytest.fixture(scope="session")
def _socket_server() -> Iterator[FakeSocketMode]:
    sockets = FakeSocketMode().start()
    yield sockets
    sockets.stop()


@pytest.fixture
def sockets(_socket_server: FakeSocketMode, fake: FakeSlack) -> Iterator[FakeSocketMode]:
    _socket_server.reset()
    fake.sockets = _socket_server
    yield _socket_server
    fake.sockets = None
    _socket_server.reset()


@pytest.fixture
def socket_settings(settings: Settings) -> Settings:
    """The test settings in Socket Mode: an app token, and no signing secret (nothing to sign)."""
    return settings.model_copy(update={"slack_app_token": APP_TOKEN, "slack_signing_secret": None})


def socket_mode_server(settings: Settings, engine: Engine) -> SocketModeServer:
    """The bot in Socket Mode, as `serve` builds it, with /healthz and /metrics on a free port."""
    app = create_app(settings, make_session_factory(engine))
    return SocketModeServer(app, engine, APP_TOKEN, threads=settings.gunicorn_threads, port=0, host="127.0.0.1").start()


@pytest.fixture
def socket_bot(socket_settings: Settings, engine: Engine, sockets: FakeSocketMode) -> Iterator[SocketModeServer]:
    server = socket_mode_server(socket_settings, engine)
    try:
        sockets.wait_connected()
        assert server.wait_connected(timeout=30)
        with home_worker(socket_settings, engine):  # what requests write for the worker goes, as over HTTP
            yield server
    finally:
        server.stop()
        crypto.configure(None)


@pytest.fixture
def slack(socket_bot: SocketModeServer, sockets: FakeSocketMode, fake: FakeSlack) -> SocketSlack:
    """Overrides conftest's `slack`: the same requests, as envelopes."""
    return SocketSlack(sockets, fake)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def health(server: SocketModeServer) -> tuple[int, str]:
    return get(f"http://127.0.0.1:{server.port}/healthz")


# --- what Slack sends, and what the bot acks -------------------------------------------


def test_the_connection_opens_with_the_app_token_and_is_greeted(slack, sockets, fake):
    [link] = sockets.links
    assert link.open and sockets.refused == 0
    # One URL: the client's watchdog, looking at once, must not open a second connection
    # while the first is still opening (SocketModeServer.start).
    assert len(fake.calls_to("apps.connections.open")) == 1
    assert link.received == []  # nothing but acks goes from the bot to Slack, and nothing was sent yet


def test_apps_connections_open_takes_only_an_app_token(sockets, fake):
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(base_url=fake.api_url)
    assert client.apps_connections_open(app_token=APP_TOKEN)["url"].startswith("ws://127.0.0.1:")
    with pytest.raises(SlackApiError, match="not_allowed_token_type"):
        client.apps_connections_open(app_token=BOT_TOKEN)
    with pytest.raises(SlackApiError, match="not_allowed_token_type"):
        WebClient(token=APP_TOKEN, base_url=fake.api_url).auth_test()


def test_envelopes_are_handled_on_as_many_threads_as_a_web_worker_has(socket_settings, engine, sockets):
    server = socket_mode_server(socket_settings.model_copy(update={"gunicorn_threads": 3}), engine)
    try:
        assert server.connection is not None
        assert server.connection.handler.client.message_workers._max_workers == 3  # slack_sdk's default: 10
    finally:
        server.stop()


def test_help_is_acked_with_the_ephemeral_usage_as_its_payload(slack, sockets):
    reply = slack.command("help")
    [envelope] = sockets.envelopes.values()
    assert envelope.type == "slash_commands" and envelope.accepts_response_payload
    assert envelope.ack is not None and envelope.ack.in_time
    assert envelope.ack.payload == reply.json
    assert reply.json["response_type"] == "ephemeral"
    assert "/crm new Acme Ltd" in reply.shown and "/crm find acme" in reply.shown


def test_new_opens_the_modal_and_its_submission_saves_the_customer(slack, sockets, fake, session):
    slack.command("new Acme")
    view = fake.last("views.open")["view"]
    assert view["title"]["text"] == "New customer"
    reply = slack.submit(view, {"Company": "Acme Group", "Grade": "A"})
    assert reply.status == 200 and reply.text == ""  # closes the modal
    [customer] = customers_of(session)
    assert (customer.name, customer.company, customer.grade, customer.owner_id) == ("Acme", "Acme Group", "A", USER)
    submission = list(sockets.envelopes.values())[-1]
    assert (submission.type, submission.accepts_response_payload) == ("interactive", True)
    assert "Acme (#1)" in block_text(fake.last("chat.postMessage")["blocks"])  # the card in the DM


def test_a_refused_submission_is_acked_with_the_errors(slack, fake, session):
    add_customer(session, "Acme")
    slack.command("new")
    reply = slack.submit(fake.last("views.open")["view"], {"Name": " acme "})
    assert reply.json["response_action"] == "errors" and "name" in reply.json["errors"]
    assert len(customers_of(session)) == 1


def test_show_button_answers_with_the_card(slack, sockets, fake, session):
    customer = add_customer(session, "Acme", company="Acme Group")
    reply = slack.action("customer_show", str(customer.id))
    assert reply.text == ""  # a button's ack carries nothing
    envelope = list(sockets.envelopes.values())[-1]
    assert (envelope.type, envelope.accepts_response_payload) == ("interactive", False)
    card = block_text(fake.last("response_url")["blocks"])
    assert "Acme (#1)" in card and "Acme Group" in card


def test_app_home_opened_publishes_the_home(slack, sockets, fake):
    slack.event({"type": "app_home_opened", "user": USER, "channel": "D0000001", "tab": "home"})
    envelope = list(sockets.envelopes.values())[-1]
    assert (envelope.type, envelope.accepts_response_payload) == ("events_api", False)
    published = fake.last("views.publish")
    assert published["user_id"] == USER and published["view"]["type"] == "home"


# --- the connection comes and goes ------------------------------------------------------


@pytest.mark.parametrize("how", ["refresh_requested", "silent drop"])
def test_the_bot_reconnects_and_loses_no_acked_envelope(how, slack, sockets, fake, session, socket_bot):
    slack.command("new Before")
    slack.submit(fake.last("views.open")["view"], {})
    first = sockets.wait_connected()
    opened = len(fake.calls_to("apps.connections.open"))

    with sockets.held():  # the new connection is slow to open: what Slack sends meanwhile waits
        if how == "refresh_requested":
            sockets.disconnect("refresh_requested")
        else:
            sockets.drop()
        with slack.unanswered() as waiting:
            slack.command("help")
            slack.event({"type": "app_home_opened", "user": USER, "channel": "D0000001", "tab": "home"})
        assert all(envelope.attempts == 0 for envelope in waiting)

    second = sockets.wait_connected(after=first.number)
    assert len(fake.calls_to("apps.connections.open")) > opened and sockets.refused == 0
    assert "/crm find acme" in slack.answer(waiting[0]).shown
    slack.answer(waiting[1])
    assert fake.last("views.publish")["view"]["type"] == "home"
    eventually(lambda: not first.open, "the old connection to close")

    slack.command("new After")
    slack.submit(fake.last("views.open")["view"], {})
    assert [c.name for c in customers_of(session)] == ["Before", "After"]
    assert all(e.ack is not None and e.ack.in_time for e in sockets.envelopes.values())
    assert second.open and eventually(lambda: health(socket_bot)[0] == 200, "/healthz to say 200")


def test_an_event_whose_ack_was_lost_is_sent_again_and_acked_on_the_new_connection(slack, sockets, fake):
    home = {"type": "app_home_opened", "user": USER, "channel": "D0000001", "tab": "home"}
    with sockets.held():
        with sockets.acks_lost(), slack.unanswered() as sent:
            slack.event(home)
            [event] = sent
            first = event.link
            eventually(lambda: [m for m in first.received if m.get("envelope_id") == event.id], "the bot's ack")
            sockets.drop()
        assert event.ack is None
    slack.answer(event)
    assert event.attempts == 2 and event.link is not first
    assert (event.message()["retry_attempt"], event.message()["retry_reason"]) == (1, "timeout")
    assert [c.args["view"]["type"] for c in fake.calls_to("views.publish")] == ["home", "home"]


# --- /healthz and /metrics on PORT --------------------------------------------------------


def test_healthz_is_200_while_connected_and_503_with_a_reason_while_not(socket_bot, sockets):
    assert health(socket_bot) == (200, "ok")
    assert get(f"http://127.0.0.1:{socket_bot.port}/slack/events")[0] == 404  # Slack's requests come over the socket
    with sockets.held():
        sockets.drop()
        assert eventually(lambda: health(socket_bot) == (503, "socket mode connection closed"), "/healthz to say 503")
    sockets.wait_connected(after=1)
    assert eventually(lambda: health(socket_bot) == (200, "ok"), "/healthz to say 200 again")


def test_healthz_is_503_when_the_database_does_not_answer(socket_bot, monkeypatch):
    import bot.socketmode

    monkeypatch.setattr(bot.socketmode, "ping", lambda engine: False)
    assert health(socket_bot) == (503, "database unavailable")


def test_metrics_are_prometheus_text_with_the_connection_state(socket_bot, sockets):
    metrics = f"http://127.0.0.1:{socket_bot.port}/metrics"
    status, text = get(metrics)
    assert status == 200
    assert "# TYPE touchbase_socket_mode_connected gauge" in text
    assert "touchbase_socket_mode_connected 1.0" in text
    with sockets.held():
        sockets.drop()
        eventually(lambda: "touchbase_socket_mode_connected 0.0" in get(metrics)[1], "the gauge to say 0")


def test_metrics_count_the_requests_served_over_the_socket(slack, socket_bot):
    url = f"http://127.0.0.1:{socket_bot.port}"
    before, _ = scrape(url)
    slack.command("help")
    after, _ = scrape(url)

    assert grew(before, after, "touchbase_requests_total", kind="command", outcome="ok") == 1
    assert grew(before, after, "touchbase_request_cpu_seconds_total", kind="command") > 0


def test_a_connection_slack_fails_to_open_for_a_while_is_tried_again_at_start_up(socket_settings, engine, sockets,
                                                                                  fake, caplog):  # fmt: skip
    fake.fail("apps.connections.open", error="internal_error")  # passing: not the token's fault
    server = socket_mode_server(socket_settings, engine)
    try:
        assert server.wait_connected(timeout=30)
        assert "socket mode: no connection (Slack answered internal_error); trying again in 1 s" in caplog.text
        assert "/crm find acme" in SocketSlack(sockets, fake).command("help").shown
    finally:
        server.stop()


def test_a_refused_app_token_stops_start_up_with_one_line(socket_settings, engine, sockets, fake):
    fake.fail("apps.connections.open", error="invalid_auth")
    with pytest.raises(SettingsError, match="^setting SLACK_APP_TOKEN was refused by Slack: invalid_auth$"):
        socket_mode_server(socket_settings, engine)
    assert sockets.links == []


# --- the scheduler alongside ------------------------------------------------------------


def notice_status(session: Any) -> str | None:
    session.expire_all()
    status = session.scalar(select(Notification.status))
    session.commit()  # end the read: on SQLite every transaction holds the write lock
    return status


def test_the_scheduler_delivers_while_the_connection_serves(socket_settings, engine, session, sockets, fake):
    get_workspace(session, "T0000001")
    enqueue(session, now=wall(), team_id="T0000001", key="notice", kind="test", channel=USER, text="sent alongside")
    session.commit()
    server = socket_mode_server(socket_settings, engine)
    scheduler = start_scheduler(socket_settings.model_copy(update={"scheduler_enabled": True}))
    try:
        sockets.wait_connected()
        assert "/crm find acme" in SocketSlack(sockets, fake).command("help").shown
        eventually(lambda: fake.calls_to("chat.postMessage"), "the scheduler to deliver")
        assert fake.last("chat.postMessage")["text"] == "sent alongside"
        eventually(lambda: notice_status(session) == "sent", "the row to be marked sent")
    finally:
        scheduler.shutdown(wait=True)
        server.stop()


# --- `python -m bot serve` --------------------------------------------------------------


@contextmanager
def serving(database_url: str, fake: FakeSlack, tmp_path: Path, **more: str) -> Iterator[Serve]:
    """`python -m bot serve` in Socket Mode against the fakes; killed at the end if still running."""
    from tests.test_cli import _free_port

    port = _free_port()
    ours = ("SLACK_", "DATABASE_URL", "TZ_DEFAULT", "SCHEDULER_", "PORT", "WEB_CONCURRENCY", "PROMETHEUS_",
            "TOUCHBASE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env |= {"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": fake.api_url, "PORT": str(port), **more}  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                cwd=NO_DOTENV, start_new_session=True)  # its own group, as a terminal's command has
    try:
        yield Serve(proc, f"http://127.0.0.1:{port}", log)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        with contextlib.suppress(ProcessLookupError):  # and whatever it started, were serve killed first
            os.killpg(proc.pid, signal.SIGKILL)


@dataclass
class Serve:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def get(self, path: str) -> tuple[int, str] | None:
        assert self.proc.poll() is None, self.log.read_text()
        try:
            return get(self.url + path)
        except OSError:
            return None  # not listening yet

    def stop(self, *, ctrl_c: bool = False) -> None:
        """SIGTERM to serve, or Ctrl-C: SIGINT to every process of its group, as a terminal sends it."""
        if ctrl_c:
            os.killpg(self.proc.pid, signal.SIGINT)
        else:
            self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=90) == 0, self.log.read_text()
        assert "Traceback" not in self.log.read_text(), self.log.read_text()

    def children(self, marked: bytes) -> list[int]:
        """The pids of the processes serve started whose command line holds `marked`."""
        return children_of(self.proc.pid, marked)

    def connection_processes(self) -> list[int]:
        """Its Socket Mode connection processes (spawned by multiprocessing)."""
        return self.children(b"spawn_main")


def queue_notice(session: Any, text: str) -> None:
    get_workspace(session, "T0000001")
    enqueue(session, now=wall(), team_id="T0000001", key="notice", kind="test", channel=USER, text=text)
    session.commit()


@pytest.mark.parametrize("processes", [1, 2])
def test_serve_in_socket_mode_answers_healthz_and_stops_cleanly_on_sigterm(processes, database_url, session, sockets,
                                                                           fake, tmp_path):  # fmt: skip
    queue_notice(session, "sent by serve")
    with serving(database_url, fake, tmp_path, WEB_CONCURRENCY=str(processes)) as bot:
        links = sockets.wait_live(processes)
        assert eventually(lambda: bot.get("/healthz") == (200, "ok"), "/healthz to say 200")
        assert len(bot.connection_processes()) == (processes if processes > 1 else 0)
        assert "/crm find acme" in SocketSlack(sockets, fake).command("help").shown
        eventually(lambda: fake.calls_to("chat.postMessage"), "the scheduler in serve to deliver")
        assert fake.last("chat.postMessage")["text"] == "sent by serve"
        bot.stop()
        # (inside: on the way out `serving` kills what is left of serve's process group)
        eventually(lambda: not any(link.open for link in links), "serve to close its connections")
    assert sockets.links == links  # none opened again on the way out
    with pytest.raises(OSError):
        get(f"{bot.url}/healthz")


def test_serve_spreads_the_envelopes_over_a_connection_in_each_process(database_url, session, sockets, fake,
                                                                        tmp_path):  # fmt: skip
    with serving(database_url, fake, tmp_path, WEB_CONCURRENCY="2", SCHEDULER_ENABLED="false") as bot:
        first, second = sockets.wait_live(2)
        assert eventually(lambda: bot.get("/healthz") == (200, "ok"), "/healthz to say 200")
        before, text = scrape(bot.url)
        assert "touchbase_socket_mode_connected 2.0" in text
        slack = SocketSlack(sockets, fake)
        for n in range(4):  # three envelopes a customer: each connection saves two of the four
            slack.command("new")
            assert slack.submit(fake.last("views.open")["view"], {"Name": f"Spread {n}"}).status == 200
            assert f"Spread {n}" in slack.command(f"show Spread {n}").shown
        after, _ = scrape(bot.url)
        bot.stop()

    def acked(link: Any) -> set[str]:
        return {message["envelope_id"] for message in link.received if "envelope_id" in message}

    def saves(link: Any) -> int:
        return sum(sockets.envelopes[envelope_id].type == "interactive" for envelope_id in acked(link))

    assert len(acked(first)) == len(acked(second)) == 6  # each answered half of the twelve
    assert saves(first) == saves(second) == 2
    assert [customer.name for customer in customers_of(session)] == [f"Spread {n}" for n in range(4)]
    # Every process's requests in the one /metrics (a PROMETHEUS_MULTIPROC_DIR of serve's own)
    assert grew(before, after, "touchbase_requests_total", kind="command", outcome="ok") == 8
    assert grew(before, after, "touchbase_requests_total", kind="view", outcome="ok") == 4


def test_a_connection_process_that_dies_is_started_again(database_url, sockets, fake, tmp_path):
    with serving(database_url, fake, tmp_path, WEB_CONCURRENCY="2", SCHEDULER_ENABLED="false") as bot:
        links = sockets.wait_live(2)
        assert eventually(lambda: bot.get("/healthz") == (200, "ok"), "/healthz to say 200")
        victim, survivor = bot.connection_processes()
        os.kill(victim, signal.SIGKILL)
        eventually(lambda: len([link for link in links if link.open]) == 1, "its connection to end")
        # Until the new process has connected, /healthz says one of the two is closed
        assert eventually(lambda: bot.get("/healthz") == (503, "1 of 2 socket mode connections closed"),
                          "/healthz to say 503")  # fmt: skip
        sockets.wait_live(2)
        assert eventually(lambda: bot.get("/healthz") == (200, "ok"), "/healthz to say 200 again")
        assert survivor in bot.connection_processes() and victim not in bot.connection_processes()
        slack = SocketSlack(sockets, fake)
        assert all("/crm find acme" in slack.command("help").shown for _ in range(2))
        bot.stop()
    assert f"(pid {victim}) exited with -9; starting another" in bot.log.read_text()


def test_ctrl_c_stops_every_process_cleanly_and_removes_serves_own_metrics_directory(database_url, sockets, fake,
                                                                                     tmp_path):  # fmt: skip
    temp = tmp_path / "temp"
    temp.mkdir()
    with serving(database_url, fake, tmp_path, WEB_CONCURRENCY="2", TMPDIR=str(temp)) as bot:
        links = sockets.wait_live(2)
        assert eventually(lambda: bot.get("/healthz") == (200, "ok"), "/healthz to say 200")
        [own] = temp.glob("touchbase-metrics-*")
        assert list(own.glob("*.db"))  # the connection processes count there
        processes = bot.connection_processes()
        bot.stop(ctrl_c=True)
        assert not any(running(pid) for pid in processes)
    assert not any(link.open for link in links)
    assert not own.exists()
    assert "KeyboardInterrupt" not in bot.log.read_text()


def test_a_sigterm_to_the_whole_group_during_start_up_stops_serve_cleanly(database_url, sockets, fake, tmp_path):
    with serving(database_url, fake, tmp_path, WEB_CONCURRENCY="2") as bot:
        eventually(lambda: bot.get("/healthz"), "/healthz to answer")  # the connection processes are still starting
        os.killpg(bot.proc.pid, signal.SIGTERM)  # as systemd stops a service
        assert bot.proc.wait(timeout=90) == 0, bot.log.read_text()
    log = bot.log.read_text()
    assert "connection processes, " not in log  # stopped while they started: they never all connected
    assert "exited before connecting" not in log and "Traceback" not in log, log
    assert "starting another" not in log


def test_a_second_ctrl_c_ends_serve_and_what_it_started_at_once(database_url, sockets, fake, tmp_path):
    temp = tmp_path / "temp"
    temp.mkdir()
    with serving(database_url, fake, tmp_path, WEB_CONCURRENCY="2", TMPDIR=str(temp)) as bot:
        sockets.wait_live(2)
        assert eventually(lambda: bot.get("/healthz") == (200, "ok"), "/healthz to say 200")
        pid = bot.proc.pid
        [worker] = eventually(lambda: bot.children(b"bot\0worker"), "the scheduler's worker to start")
        stuck = [bot.connection_processes()[0], worker]
        for child in stuck:  # a graceful stop cannot end these: only a kill does
            os.kill(child, signal.SIGSTOP)
        os.killpg(pid, signal.SIGINT)
        eventually(lambda: "bot.server [-]: stopping" in bot.log.read_text(), "serve to begin stopping")
        os.killpg(pid, signal.SIGINT)
        assert bot.proc.wait(timeout=30) == -signal.SIGINT
        # (inside: on the way out `serving` kills what is left of serve's process group)
        eventually(lambda: not any(running(child) for child in stuck), "what serve started to be killed", timeout=5)
    assert list(temp.iterdir()) == []  # its own metrics directory went with it


def test_what_serve_started_stops_by_itself_when_serve_is_killed_outright(database_url, session, sockets, fake,
                                                                          tmp_path):  # fmt: skip
    queue_notice(session, "sent by serve")
    with serving(database_url, fake, tmp_path, WEB_CONCURRENCY="2") as bot:
        links = sockets.wait_live(2)
        eventually(lambda: fake.calls_to("chat.postMessage"), "the scheduler in serve to deliver")
        started = [*bot.connection_processes(), *bot.children(b"bot\0worker")]
        assert len(started) == 3
        bot.proc.kill()  # SIGKILL: serve cannot stop what it started
        bot.proc.wait()
        eventually(lambda: not any(running(pid) for pid in started), "what serve started to stop")
    assert not any(link.open for link in links)
    log = bot.log.read_text()
    assert log.count("the process that started this one is gone; closing") == 2, log
    assert f"the process that started it (pid {bot.proc.pid}) is gone; stopping" in log, log
    assert "scheduler stopped" in log and "Traceback" not in log, log


def test_a_connection_slack_fails_to_open_for_a_while_is_tried_again(database_url, sockets, fake, tmp_path):
    fake.fail("apps.connections.open", error="internal_error", times=2)  # passing: not the token's fault
    with serving(database_url, fake, tmp_path, WEB_CONCURRENCY="2", SCHEDULER_ENABLED="false") as bot:
        sockets.wait_live(2)
        assert eventually(lambda: bot.get("/healthz") == (200, "ok"), "/healthz to say 200")
        assert "/crm find acme" in SocketSlack(sockets, fake).command("help").shown
        bot.stop()
    log = bot.log.read_text()
    assert log.count("socket mode: no connection (Slack answered internal_error); trying again in") == 2


def test_serve_stops_with_one_line_when_the_app_token_is_refused(database_url, sockets, fake, tmp_path):
    fake.fail("apps.connections.open", error="invalid_auth", times=10)
    with serving(database_url, fake, tmp_path, WEB_CONCURRENCY="2") as bot:
        assert bot.proc.wait(timeout=60) == 2
    log = bot.log.read_text()
    assert "touchbase: setting SLACK_APP_TOKEN was refused by Slack: invalid_auth\n" in log
    assert "Traceback" not in log, log
    assert sockets.links == []


@pytest.mark.parametrize(("value", "line"), [
    ("11", "touchbase: setting WEB_CONCURRENCY is too high for Socket Mode: Slack opens at most 10 connections "
           "for an app"),
    ("0", "touchbase: setting WEB_CONCURRENCY is malformed: Input should be greater than or equal to 1"),
])  # fmt: skip
def test_serve_refuses_a_number_of_connections_slack_does_not_allow(value, line, database_url, sockets, fake,
                                                                     tmp_path):  # fmt: skip
    with serving(database_url, fake, tmp_path, WEB_CONCURRENCY=value) as bot:
        assert bot.proc.wait(timeout=60) == 2
    assert bot.log.read_text().strip().splitlines()[-1] == line
    assert sockets.links == []
