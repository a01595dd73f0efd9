"""The bot's calls to Slack's Web API go over kept-alive connections (bot.slackhttp), and Slack's
answers (errors, rate limits, lost answers) reach the bot as they did over slack_sdk's urllib."""

from __future__ import annotations

import copy
import http.client
import logging
import os
import signal
import time

import pytest
from freezegun import freeze_time
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import slackhttp
from bot.scheduler.outbox import sender_client
from bot.slackhttp import KeptAliveWebClient
from tests import slackclient
from tests.helpers import add_customer

NOW = "2026-11-25T10:00:00+00:00"


def log_touches(slack, fake, names: list[str]) -> None:
    for name in names:
        slack.command(f"touch {name}")
        slack.submit(fake.last("views.open")["view"], {"Summary": f"Called {name}"})
        slackclient.after_the_answer()  # the DM and the App Home


@freeze_time(NOW)
def test_the_bots_calls_to_slack_share_connections(slack, fake, session):
    names = [f"Acme {i}" for i in range(5)]
    for name in names:
        add_customer(session, name)
    log_touches(slack, fake, names)
    dms = [c.args["text"] for c in fake.calls_to("chat.postMessage")]
    assert [name for name in names if any(f"*{name} (#" in text for text in dms)] == names
    calls = len(fake.calls)
    assert calls >= 15  # per touch: the modal opened, the DM, the author's App Home
    assert fake.connections <= 3  # as many as calls were under way at once


class Counted(str):
    """A text that counts how often its repr is asked for (what a log line is built from)."""

    reprs = 0

    def __repr__(self) -> str:
        type(self).reprs += 1
        return super().__repr__()


def test_a_calls_debug_line_is_built_only_when_it_is_logged(fake, caplog, monkeypatch):
    """slack_sdk builds a line holding a call's whole body when its logger's own level is unset
    (`logger.level <= DEBUG`): about 0.2 ms a post of a digest, for a line never logged. It is built, and
    logged, when debugging is on, for its logger or for every one."""
    monkeypatch.setattr(Counted, "reprs", 0)
    client = sender_client("xoxb-fake-not-real", fake.api_url)
    text = Counted("hello")
    with caplog.at_level(logging.INFO):
        client.chat_postMessage(channel="U0000001", text=text)
    assert Counted.reprs == 0 and "Sending a request" not in caplog.text
    with caplog.at_level(logging.DEBUG, logger="slack_sdk.web.base_client"):
        client.chat_postMessage(channel="U0000001", text=text)
    assert Counted.reprs == 1 and caplog.text.count("Sending a request") == 1
    with caplog.at_level(logging.DEBUG):  # the root logger's level (logs.configure sets it)
        client.chat_postMessage(channel="U0000001", text=text)
    assert Counted.reprs == 2 and caplog.text.count("Sending a request") == 2
    assert [c.args["text"] for c in fake.calls] == ["hello"] * 3


def test_a_client_can_be_copied_as_bolt_copies_a_lazy_listeners_request(fake):
    copied = copy.deepcopy(sender_client("xoxb-fake-not-real", fake.api_url))
    assert copied.logger.level == logging.getLogger("slack_sdk.web.base_client").getEffectiveLevel()
    copied.chat_postMessage(channel="U0000001", text="copied")
    assert [c.args["text"] for c in fake.calls] == ["copied"]


def test_a_connection_slack_closed_meanwhile_is_replaced(fake):
    """A client without retry handlers (the sender's): the call after Slack closed the idle
    connection goes out on a new one, not on the closed one."""
    client = sender_client("xoxb-fake-not-real", fake.api_url)
    client.chat_postMessage(channel="U0000001", text="before")
    fake.drop_connections()
    opened = fake.connections
    client.chat_postMessage(channel="U0000001", text="after")
    assert [c.args["text"] for c in fake.calls] == ["before", "after"]
    assert fake.connections == opened + 1


def test_a_connection_idle_too_long_is_not_reused(fake, monkeypatch):
    """A NAT may forget an idle connection without telling either end: past `MAX_IDLE` a
    connection is opened afresh."""
    client = sender_client("xoxb-fake-not-real", fake.api_url)
    client.chat_postMessage(channel="U0000001", text="first")
    opened = fake.connections
    client.chat_postMessage(channel="U0000001", text="soon after")
    assert fake.connections == opened
    monkeypatch.setattr(slackhttp, "MAX_IDLE", 0.0)
    client.chat_postMessage(channel="U0000001", text="after a long while")
    assert fake.connections == opened + 1
    assert len(fake.calls) == 3


# The same calls through slack_sdk's own client (urllib, a connection each) and through the bot's:
# Slack's answers come back alike.
CLIENTS = [pytest.param(WebClient, id="slack_sdk"), pytest.param(KeptAliveWebClient, id="kept-alive")]


def direct(client_class: type[WebClient], fake, **options) -> WebClient:
    """A client of this class calling the fake straight (no bot in between)."""
    return client_class(token="xoxb-fake-not-real", base_url=fake.api_url, **options)


@pytest.mark.parametrize("client_class", CLIENTS)
def test_a_rate_limit_comes_back_with_its_retry_after(fake, client_class):
    fake.fail("chat.postMessage", status=429, retry_after=7)
    client = direct(client_class, fake, retry_handlers=[])
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="U0000001", text="hello")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"
    assert client.chat_postMessage(channel="U0000001", text="again")["ok"] is True


@pytest.mark.parametrize("client_class", CLIENTS)
def test_a_server_error_comes_back_as_its_status(fake, client_class):
    fake.fail("views.publish", status=500)
    client = direct(client_class, fake, retry_handlers=[])
    with pytest.raises(SlackApiError) as raised:
        client.views_publish(user_id="U0000001", view={"type": "home", "blocks": []})
    assert raised.value.response.status_code == 500
    assert [c.method for c in fake.calls] == ["views.publish"]


@pytest.mark.parametrize("client_class", CLIENTS)
@pytest.mark.parametrize("failure", [{"hang_up": True}, {"cut": True}], ids=["no answer", "half an answer"])
def test_a_call_whose_answer_is_lost_is_not_sent_again_by_the_connection(fake, client_class, failure):
    """The call may have reached Slack: sending it again is its caller's choice (the sender's
    retries; slack_sdk's retry handlers, here none), not the connection's."""
    fake.fail("chat.postMessage", **failure)
    client = direct(client_class, fake, retry_handlers=[])
    with pytest.raises((OSError, http.client.HTTPException)):  # for the sender, tried again later
        client.chat_postMessage(channel="U0000001", text="hello")
    assert [c.args["text"] for c in fake.calls] == ["hello"]
    assert client.chat_postMessage(channel="U0000001", text="next")["ok"] is True


@pytest.mark.parametrize("client_class", CLIENTS)
def test_slack_sdks_retry_handler_sends_again_a_call_that_got_no_answer(fake, client_class):
    fake.fail("chat.postMessage", hang_up=True)
    client = direct(client_class, fake)  # slack_sdk's default handlers
    assert client.chat_postMessage(channel="U0000001", text="hello")["ok"] is True
    assert [c.args["text"] for c in fake.calls] == ["hello", "hello"]


@pytest.mark.parametrize("client_class", CLIENTS)
def test_slack_sdks_retry_handler_leaves_a_call_that_got_half_an_answer(fake, client_class):
    fake.fail("chat.postMessage", cut=True)
    client = direct(client_class, fake)
    with pytest.raises(http.client.IncompleteRead):
        client.chat_postMessage(channel="U0000001", text="hello")
    assert [c.args["text"] for c in fake.calls] == ["hello"]


@pytest.mark.parametrize("client_class", CLIENTS)
def test_an_answer_that_does_not_come_in_time_is_a_timeout_and_not_sent_again(fake, client_class):
    fake.slow("chat.postMessage", 1.0)
    client = direct(client_class, fake, timeout=0.5)
    with pytest.raises(TimeoutError):
        client.chat_postMessage(channel="U0000001", text="hello")
    time.sleep(1.8)  # long enough for a second call, had there been one, to reach the fake
    assert [c.args["text"] for c in fake.calls] == ["hello"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Python 3.12 warns of a fork beside threads
def test_a_forked_process_opens_connections_of_its_own(fake):
    """A process forked after calling Slack (gunicorn's `--preload`, multiprocessing) sharing
    its parent's socket would read the parent's answers."""
    client = sender_client("xoxb-fake-not-real", fake.api_url)
    client.chat_postMessage(channel="U0000001", text="parent")  # a connection now in the pool
    opened = fake.connections
    pid = os.fork()
    if pid == 0:  # the child: one call, then out, whatever happens
        code = 1
        try:
            code = 0 if client.chat_postMessage(channel="U0000001", text="child")["ok"] else 1
        finally:
            os._exit(code)
    deadline = time.monotonic() + 10
    while not (ended := os.waitpid(pid, os.WNOHANG))[0]:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the child's call did not end")
        time.sleep(0.01)
    status = ended[1]
    assert os.waitstatus_to_exitcode(status) == 0
    client.chat_postMessage(channel="U0000001", text="parent again")
    assert [c.args["text"] for c in fake.calls] == ["parent", "child", "parent again"]
    assert fake.connections == opened + 1  # the child's own; the parent's was kept
