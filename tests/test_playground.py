"""The playground without a browser: the fake Web API keeps and serves what the bot posted,
requests are signed as Slack signs them, what a person does reaches the bot and its answers
come back as Slack would show them, and `python -m bot play` serves the page on 127.0.0.1.
(tests/test_playground_browser.py uses the page itself.)"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from bot.config import load_settings
from bot.playground import demo, manifest
from bot.playground.server import TOKEN, Playground, build
from bot.playground.signer import Signer, signature

MARIA, JAKE, LI, PRIYA = demo.ADMIN, demo.JAKE, demo.LI, demo.PRIYA
GENERAL = demo.GENERAL


def _start(tmp: Path, **options: Any) -> Playground:
    path = tmp / "playground.db"
    playground = build(load_settings(_env_file=None), port=0, path=path, say=lambda _line: None, **options)
    threading.Thread(target=playground.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return playground


@pytest.fixture(scope="module")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Playground]:
    """The demo workspace with the real bot behind it."""
    playground = _start(tmp_path_factory.mktemp("playground"))
    yield playground
    playground.close()


@pytest.fixture
def api(playground: Playground) -> WebClient:
    """The bot's own kind of client, pointed at the fake Web API."""
    return WebClient(token=TOKEN, base_url=playground.url + "/api/")


def seen(playground: Playground, person: str, channel: str | None = None) -> list[dict[str, Any]]:
    """What the page shows `person` (in `channel`), asked over HTTP as the page asks."""
    with urllib.request.urlopen(f"{playground.url}/play/changes?as={person}&since=0", timeout=10) as response:
        changes = json.loads(response.read())
    return [m for m in changes["messages"] if channel is None or m["channel"] == channel]


def texts(messages: list[dict[str, Any]]) -> str:
    return json.dumps([[m["text"], m["blocks"]] for m in messages], ensure_ascii=False)


def dm_text(playground: Playground, person: str) -> str:
    """What `person` reads in their DM with the app."""
    return texts(seen(playground, person, playground.fake.dm_of(person)))


def wait_for(condition: Any, what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"never saw {what}")


# --- the fake Web API -------------------------------------------------------------------------


def test_messages_the_bot_posts_are_kept_and_shown_to_whom_they_are_for(playground, api):
    posted = api.chat_postMessage(channel=GENERAL, text="hello *team*", blocks=[
        {"type": "section", "text": {"type": "mrkdwn", "text": "hello *team*"}}])  # fmt: skip
    assert posted["channel"] == GENERAL and posted["message"]["bot_id"]
    api.chat_postEphemeral(channel=GENERAL, user=MARIA, text="just for Maria")
    dm = api.chat_postMessage(channel=JAKE, text="a DM for Jake")  # a user id means the app's DM with them
    assert dm["channel"] == api.conversations_open(users=JAKE)["channel"]["id"]
    api.chat_postMessage(channel=GENERAL, thread_ts=posted["ts"], text="in the thread")

    maria, jake = texts(seen(playground, MARIA)), texts(seen(playground, JAKE))
    assert "hello *team*" in maria and "hello *team*" in jake
    assert "just for Maria" in maria and "just for Maria" not in jake
    assert "a DM for Jake" in jake and "a DM for Jake" not in maria
    [parent] = [m for m in seen(playground, MARIA, GENERAL) if m["ts"] == posted["ts"]]
    assert parent["reply_count"] == 1

    api.chat_update(channel=GENERAL, ts=posted["ts"], text="hello again", blocks=[])
    assert "hello again" in texts(seen(playground, JAKE, GENERAL))
    history = api.conversations_history(channel=GENERAL)["messages"]
    assert history[0]["text"] == "hello again"


def test_views_stack_and_the_app_home_is_per_person(playground, api):
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "First"},
             "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "one"}}]}  # fmt: skip
    opened = api.views_open(trigger_id=playground.fake.new_trigger(MARIA), view=modal)["view"]
    pushed = api.views_push(trigger_id=playground.fake.new_trigger(MARIA), view={**modal, "title": {"type": "plain_text", "text": "Second"}})
    assert pushed["view"]["previous_view_id"] == opened["id"] and pushed["view"]["root_view_id"] == opened["id"]
    api.views_update(view_id=opened["id"], view={**modal, "title": {"type": "plain_text", "text": "First, updated"}})
    assert [v.body["title"]["text"] for v in playground.fake.stack(MARIA)] == ["First, updated", "Second"]
    assert playground.fake.stack(JAKE) == []
    with pytest.raises(SlackApiError) as refused:
        api.views_update(view_id=opened["id"], hash="stale", view=modal)
    assert refused.value.response["error"] == "hash_conflict"
    playground.fake.clear_views(MARIA)

    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Jake's home"}}]}
    api.views_publish(user_id=JAKE, view=home)
    with urllib.request.urlopen(f"{playground.url}/play/changes?as={JAKE}&since=0", timeout=10) as response:
        assert "Jake's home" in json.dumps(json.loads(response.read())["home"])


def test_a_trigger_opens_one_view_for_the_person_who_acted(playground, api):
    trigger = playground.fake.new_trigger(JAKE)
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Once"}, "blocks": []}
    api.views_open(trigger_id=trigger, view=modal)
    assert [v.user for v in playground.fake.stack(JAKE)] == [JAKE]
    for used in (trigger, "not-a-trigger"):
        with pytest.raises(SlackApiError) as refused:
            api.views_open(trigger_id=used, view=modal)
        assert refused.value.response["error"] in ("trigger_exchanged", "invalid_trigger_id")
    playground.fake.clear_views(JAKE)


def test_an_upload_is_kept_shared_and_served(playground, api):
    channel = api.conversations_open(users=MARIA)["channel"]["id"]
    api.files_upload_v2(channel=channel, content=b"\x89PNG not really", filename="chart.png", title="The chart")
    [shared] = [m for m in seen(playground, MARIA, channel) if m["files"]]
    file = shared["files"][0]
    assert (file["title"], file["mimetype"]) == ("The chart", "image/png")
    with urllib.request.urlopen(file["url_private"], timeout=10) as response:
        assert response.read() == b"\x89PNG not really" and response.headers["Content-Type"] == "image/png"


def test_people_are_answered_with_their_profiles(playground, api):
    li = api.users_info(user=LI, include_locale=True)["user"]
    assert (li["locale"], li["tz"]) == ("zh-CN", "Asia/Shanghai")
    assert api.users_info(user=MARIA)["user"]["is_admin"] is True
    assert api.users_lookupByEmail(email="jake@northwind.example")["user"]["id"] == JAKE
    assert api.auth_test()["team_id"] == demo.TEAM_ID
    posted = api.chat_postMessage(channel=GENERAL, text="link me")
    link = api.chat_getPermalink(channel=GENERAL, message_ts=posted["ts"])["permalink"]
    assert link.startswith(playground.url + "/archives/" + GENERAL + "/p")
    with pytest.raises(SlackApiError) as refused:
        api.users_info(user="U0NOBODY")
    assert refused.value.response["error"] == "user_not_found"


def test_what_slack_refuses_is_refused_with_slacks_errors(playground, api):
    with pytest.raises(SlackApiError) as long_text:
        api.chat_postMessage(channel=GENERAL, text="x", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}])
    assert long_text.value.response["error"] == "invalid_blocks"
    assert "[json-pointer:/blocks/0/text/text]" in " ".join(long_text.value.response["response_metadata"]["messages"])
    with pytest.raises(SlackApiError) as long_title:
        api.views_open(trigger_id=playground.fake.new_trigger(MARIA),
                       view={"type": "modal", "title": {"type": "plain_text", "text": "t" * 25}, "blocks": []})
    assert long_title.value.response["error"] == "invalid_arguments"
    with pytest.raises(SlackApiError) as nowhere:
        api.chat_postMessage(channel="C0NOWHERE", text="hello")
    assert nowhere.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as bad_token:
        WebClient(token="xoxb-some-other-token", base_url=playground.url + "/api/").auth_test()
    assert bad_token.value.response["error"] == "invalid_auth"


# --- signed as Slack signs ----------------------------------------------------------------------


def test_the_signature_is_slacks():
    body, timestamp = b"command=%2Fcrm&text=help", int(time.time())
    verifier = SignatureVerifier("a-secret-for-tests")
    assert verifier.is_valid(body, timestamp, signature("a-secret-for-tests", timestamp, body))
    assert not verifier.is_valid(body, timestamp, signature("another-secret", timestamp, body))


def test_the_bot_accepts_the_relays_signature_and_refuses_another(playground):
    secret = playground.settings.slack_signing_secret
    fields = {"command": "/crm", "text": "help", "team_id": demo.TEAM_ID, "user_id": MARIA, "channel_id": GENERAL,
              "trigger_id": playground.fake.new_trigger(MARIA)}  # fmt: skip
    good = Signer(playground.url + "/slack/events", secret).form(fields)
    assert good.status == 200 and "/crm find" in good.body
    assert Signer(playground.url + "/slack/events", "not-the-secret").form(fields).status == 401


# --- a person's actions, through the bot ---------------------------------------------------------------


def test_a_slash_command_is_answered_to_the_person_only(playground):
    playground.relay.send(JAKE, GENERAL, "/crm find Granite")
    answer = [m for m in seen(playground, JAKE, GENERAL) if m["ephemeral"] and "Granite" in texts([m])]
    assert answer and "Granite &amp; Co" in texts(answer)  # mrkdwn: the bot escapes the name's "&"
    assert not [m for m in seen(playground, MARIA, GENERAL) if "Granite" in texts([m])]


def test_typed_mentions_and_channels_arrive_as_slack_writes_them(playground):
    relay = playground.relay
    assert relay.typed("ask @jake in #sales & <now>", names=True) == \
        f"ask <@{JAKE}|jake> in <#{demo.SALES}|sales> &amp; &lt;now&gt;"
    assert relay.typed("ping @jake about #12", names=False) == f"ping <@{JAKE}> about #12"


def test_a_person_writes_only_where_they_are(playground):
    playground.relay.send(MARIA, playground.fake.dm_of(JAKE), "psst, it's Maria")
    assert "psst" not in dm_text(playground, JAKE)


def test_an_unknown_slash_command_is_answered_by_slack_itself(playground):
    playground.relay.send(MARIA, GENERAL, "/giphy cats")
    assert "is not a valid command" in texts(seen(playground, MARIA, GENERAL))


def _modal(playground: Playground, person: str, title: str) -> Any:
    return wait_for(lambda: next((v for v in playground.fake.stack(person) if v.body["title"]["text"] == title), None),
                    f"the modal {title}")  # fmt: skip


def _values(view: Any, **typed: str) -> dict[str, Any]:
    """The modal's state as the page sends it: its initial values, and `typed` by block id."""
    values: dict[str, Any] = {}
    for block in view.body["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        kind, action_id = element["type"], element["action_id"]
        if kind in ("plain_text_input", "email_text_input"):
            state = {"type": kind, "value": typed.get(block["block_id"], element.get("initial_value"))}
        elif kind in ("static_select", "external_select"):
            state = {"type": kind, "selected_option": element.get("initial_option")}
        elif kind == "users_select":
            state = {"type": kind, "selected_user": element.get("initial_user")}
        else:
            continue
        values[block["block_id"]] = {action_id: state}
    return values


def test_a_modal_is_refused_under_its_field_then_saved_and_closed(playground):
    playground.relay.send(PRIYA, GENERAL, "/crm new Relay Test Ltd")
    view = _modal(playground, PRIYA, "New customer")
    playground.relay.submit(PRIYA, view.id, _values(view, email="not an email"))
    assert "email" in playground.fake.view(view.id).errors
    playground.relay.submit(PRIYA, view.id, _values(view, email="relay@example.com"))
    assert playground.fake.stack(PRIYA) == []
    wait_for(lambda: "Relay Test Ltd" in dm_text(playground, PRIYA), "the confirmation in the DM")


def test_a_type_ahead_asks_the_bot(playground):
    playground.relay.send(MARIA, GENERAL, "/crm touch")
    view = _modal(playground, MARIA, "Log touch")
    options = playground.relay.suggest(MARIA, {"view_id": view.id}, "customer", "customer_picker", "上海")
    assert [o["text"]["text"] for o in options["options"]] == ["上海宏达贸易 (#20)"]
    playground.relay.close(MARIA, view.id)
    assert playground.fake.stack(MARIA) == []


def test_a_button_answers_through_its_response_url(playground):
    playground.relay.send(MARIA, GENERAL, "/crm find Northwind")
    found = wait_for(lambda: [m for m in seen(playground, MARIA, GENERAL) if "Northwind Traders" in texts([m])],
                     "the list")[-1]  # fmt: skip
    show = next(e for b in found["blocks"] if b["type"] == "actions" for e in b["elements"] if e["text"]["text"] == "Show")
    playground.relay.action(MARIA, {"channel": GENERAL, "ts": found["ts"]},
                            {"type": "button", "action_id": show["action_id"], "block_id": "x", "value": show["value"],
                             "text": show["text"]}, None)  # fmt: skip
    card = wait_for(lambda: [m for m in seen(playground, MARIA, GENERAL) if "Northwind Holdings" in texts([m])], "the card")
    assert card[-1]["ephemeral"]


def test_the_app_home_is_published_when_opened(playground):
    playground.relay.home_opened(LI, "home")
    home = wait_for(lambda: playground.fake.views.get(playground.fake.homes.get(LI, "")), "Li's home")
    assert "新建客户" in json.dumps(home.body, ensure_ascii=False)


def test_a_change_republishes_the_app_home_without_a_worker(playground):
    """The playground runs no worker: the Home a request asks for is published after its answer.
    A touch logged on an overdue customer takes it off the person's Home."""
    playground.relay.home_opened(JAKE, "home")
    home = wait_for(lambda: playground.fake.views.get(playground.fake.homes.get(JAKE, "")), "Jake's home")
    overdue = wait_for(lambda: re.findall(r"\*([^*]+) \(#(\d+)\)\*[^*]*overdue", json.dumps(home.body, ensure_ascii=False)),
                       "an overdue revisit on Jake's home")[0]  # fmt: skip
    playground.relay.send(JAKE, GENERAL, f"/crm touch #{overdue[1]}")
    view = _modal(playground, JAKE, "Log touch")
    playground.relay.submit(JAKE, view.id, _values(view, summary="Called about the overdue visit"))
    wait_for(lambda: f"{overdue[0]} (#{overdue[1]})" not in json.dumps(home.body, ensure_ascii=False),
             "the customer off Jake's home")


def test_a_message_shortcut_opens_the_modal_with_the_message(playground):
    said = playground.fake.post_as(JAKE, demo.SALES, "They want a visit on Friday")
    playground.relay.shortcut(JAKE, "log_touch", demo.SALES, said.ts)
    view = _modal(playground, JAKE, "Log touch")
    summary = next(b for b in view.body["blocks"] if b["block_id"] == "summary")
    assert summary["element"]["initial_value"] == "They want a visit on Friday"
    assert playground.fake.permalink(demo.SALES, said.ts) in view.body["private_metadata"]
    playground.fake.clear_views(JAKE)


def test_a_message_in_a_linked_channel_reaches_the_bot_and_becomes_the_customers_touch(playground):
    relay = playground.relay

    def answer(command: str, what: str) -> str:
        """What `/crm <command>` shows Jake in #sales: its newest answer, once it is there."""
        before = len(seen(playground, JAKE, demo.SALES))
        relay.send(JAKE, demo.SALES, f"/crm {command}")
        found = wait_for(lambda: [m for m in seen(playground, JAKE, demo.SALES)[before:] if m["ephemeral"]], what)
        return texts(found[-1:])

    assert "is now the channel of" in answer("link Granite #sales @priya", "the link")  # Priya speaks for Granite
    try:
        relay.send(PRIYA, demo.SALES, "Can the delivery move to Monday?")
        assert PRIYA in answer("channels", "the channels")  # her message waits for a reply
        [said] = [m for m in seen(playground, JAKE, demo.SALES) if m["text"] == "Can the delivery move to Monday?"]
        relay.send(JAKE, demo.SALES, "Monday works", thread_ts=said["ts"])
        assert PRIYA not in answer("channels", "the channels")  # answered in its thread
        card = answer("show Granite", "the card")
        assert "Can the delivery move to Monday?" in card and "Monday works" not in card  # hers a touch, his not
    finally:
        relay.send(JAKE, demo.SALES, "/crm unlink #sales")


def test_a_reaction_shows_under_the_message_and_the_complaint_emoji_offers_log_complaint(playground, api):
    relay = playground.relay
    said = playground.fake.post_as(PRIYA, demo.SALES, "The last delivery arrived broken")
    relay.react(JAKE, demo.SALES, said.ts, "eyes")
    relay.react(LI, demo.SALES, said.ts, "eyes")
    relay.react(JAKE, demo.SALES, said.ts, "no spaces allowed")  # not an emoji's name: nothing happens

    def reactions() -> list[dict[str, Any]]:
        return next(m for m in seen(playground, PRIYA, demo.SALES) if m["ts"] == said.ts)["reactions"]

    assert reactions() == [{"name": "eyes", "users": [JAKE, LI], "count": 2}]
    history = api.conversations_history(channel=demo.SALES)["messages"]
    assert next(m for m in history if m["ts"] == said.ts)["reactions"] == reactions()  # as the bot reads them
    relay.react(LI, demo.SALES, said.ts, "eyes")  # a second click takes hers away
    assert reactions() == [{"name": "eyes", "users": [JAKE], "count": 1}]

    relay.react(JAKE, demo.SALES, said.ts, "rotating_light")  # the team's complaint emoji
    offer = wait_for(lambda: [m for m in seen(playground, JAKE, demo.SALES) if m["ephemeral"] and float(m["ts"]) > float(said.ts)
                              and m["text"] == "Log this as a complaint?"], "Log complaint offered to Jake")[-1]  # fmt: skip
    assert not [m for m in seen(playground, PRIYA, demo.SALES) if m["ts"] == offer["ts"]]  # only Jake sees it
    button = next(b["accessory"] for b in offer["blocks"] if "accessory" in b)
    relay.action(JAKE, {"channel": demo.SALES, "ts": offer["ts"]},
                 {"type": "button", "action_id": button["action_id"], "block_id": "x", "value": button["value"],
                  "text": button["text"]}, None)  # fmt: skip
    view = _modal(playground, JAKE, "Log complaint")
    assert "The last delivery arrived broken" in json.dumps(view.body, ensure_ascii=False)
    playground.fake.clear_views(JAKE)


@pytest.mark.parametrize("verb", ["send", "action", "suggest", "submit", "close", "shortcut", "home", "react",
                                  "dismiss", "clock", "workflow"])
def test_what_the_page_posts_is_refused_plainly_when_malformed(playground, verb):
    """Each field of each of the page's requests, of a wrong type: an answer, never a 500."""
    fields = ["where", "action", "values", "channel", "text", "thread_ts", "view_id", "block_id", "action_id",
              "value", "callback_id", "tab", "name", "preset", "local"]
    odd: list[Any] = [[1], {"a": 1}, {"channel": [1], "ts": {"x": 1}}, 5, 1.5, True, None, "", "\x00"]
    answers = []
    for value in odd:
        for body in [{field: value} for field in fields] + [dict.fromkeys(fields, value)]:
            request = urllib.request.Request(f"{playground.url}/play/{verb}", method="POST",
                                             data=json.dumps({"as": MARIA, **body}).encode())  # fmt: skip
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    answers.append((response.status, body))
            except urllib.error.HTTPError as refused:
                answers.append((refused.code, body))
    assert [(status, body) for status, body in answers if status >= 500] == []
    assert {status for status, _body in answers} <= {200, 400}
    playground.fake.clear_views(MARIA)


def test_the_scheduler_runs_as_of_the_chosen_instant(playground):
    line = playground.run_scheduler(PRIYA, preset="morning")
    assert line.startswith("sweep at ")
    assert playground.clock.at.astimezone(ZoneInfo("Asia/Kolkata")).hour == 9  # Priya's working morning
    assert "revisits are due or overdue" in dm_text(playground, PRIYA)


# --- the demo, the manifest -----------------------------------------------------------------------


def test_the_demo_workspace_has_work_waiting(playground):
    playground.relay.send(demo.LEAD, GENERAL, "/crm complaints open")
    shown = texts([m for m in seen(playground, demo.LEAD, GENERAL) if m["ephemeral"]])
    assert "Two deliveries arrived damaged" in shown and "发票金额多收一万二" in shown


def test_the_shortcuts_and_command_are_the_manifests():
    app = yaml.safe_load((Path(__file__).parents[1] / "manifest.yml").read_text())
    [command] = app["features"]["slash_commands"]
    assert (manifest.COMMAND, manifest.COMMAND_DESCRIPTION, manifest.USAGE_HINT) == \
        (command["command"], command["description"], command["usage_hint"])
    assert manifest.SHORTCUTS == {s["callback_id"]: {"name": s["name"], "description": s["description"]}
                                  for s in app["features"]["shortcuts"]}  # fmt: skip

    def params(given: dict[str, Any]) -> tuple[manifest.Param, ...]:
        return tuple(manifest.Param(name, p["type"], p["title"], p.get("description"), p.get("is_required", False))
                     for name, p in given.items())  # fmt: skip

    assert manifest.STEPS == {callback_id: manifest.Step(f["title"], f["description"], params(f["input_parameters"]),
                                                         params(f["output_parameters"]))
                              for callback_id, f in app["functions"].items()}  # fmt: skip


def test_a_page_of_an_earlier_run_is_told_to_start_over(playground):
    url = f"{playground.url}/play/changes?as={MARIA}&since=999999&wait=1&instance=an-earlier-run"
    with urllib.request.urlopen(url, timeout=5) as response:  # at once, not after the long poll's wait
        assert json.loads(response.read()) == {"instance": playground.instance}


def test_the_page_is_served_and_only_to_its_own_host(playground):
    with urllib.request.urlopen(playground.url + "/", timeout=10) as response:
        assert "touchbase playground" in response.read().decode()
    for name in ("app.js", "blockkit.js", "mrkdwn.js", "app.css"):
        with urllib.request.urlopen(f"{playground.url}/static/{name}", timeout=10) as response:
            assert response.status == 200
    port = playground.url.rsplit(":", 1)[1]
    forged = urllib.request.Request(playground.url + "/play/boot", headers={"Host": f"evil.example:{port}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged, timeout=10)
    assert refused.value.code == 403


# --- the command line -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args: list[str], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "PORT"))}
    proc = subprocess.Popen([sys.executable, "-m", "bot", *args], env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line:
            break
        lines.append(line)
        if "touchbase playground: http://" in line:
            return proc, "".join(lines)
    proc.kill()
    raise AssertionError("the playground did not start:\n" + "".join(lines))


def test_python_m_bot_play_serves_the_page_on_127_0_0_1(tmp_path):
    port = _free_port()
    (tmp_path / "touchbase.db").write_bytes(b"a real database, never touched")
    proc, out = _run(["play", "--port", str(port)], tmp_path)
    try:
        assert f"touchbase playground: http://127.0.0.1:{port}/" in out
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert "touchbase playground" in response.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/play/boot", timeout=10) as response:
            assert json.loads(response.read())["team"]["name"] == demo.TEAM_NAME
        outside = socket.gethostbyname(socket.gethostname())
        if not outside.startswith("127."):
            with pytest.raises(OSError):
                socket.create_connection((outside, port), timeout=2).close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert (tmp_path / "playground.db").exists()
    assert (tmp_path / "touchbase.db").read_bytes() == b"a real database, never touched"


def test_python_m_bot_without_slack_credentials_says_so_and_plays(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "PORT"))}
    env["PORT"] = str(port)
    proc = subprocess.Popen([sys.executable, "-m", "bot"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        first = proc.stdout.readline() if proc.stdout else ""
        assert first.startswith("touchbase: no Slack credentials") and "playground" in first
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}/"), "the page")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_the_conversations_are_kept_across_restarts(tmp_path):
    first = _start(tmp_path)
    try:
        first.fake.post_as(JAKE, GENERAL, "see you tomorrow")
    finally:
        first.close()
    again = _start(tmp_path)
    try:
        shown = texts(seen(again, MARIA, GENERAL))
        assert "see you tomorrow" in shown and "Welcome to the touchbase playground" in shown
        assert shown.count("Welcome to the touchbase playground") == 1
    finally:
        again.close()


def test_empty_and_reset_start_afresh(tmp_path):
    empty = _start(tmp_path, empty=True)
    try:
        empty.relay.send(MARIA, GENERAL, "/crm find acme")
        answer = [m for m in seen(empty, MARIA, GENERAL) if m["ephemeral"]]
        assert answer and "Acme Ltd" not in texts(answer)
    finally:
        empty.close()
    again = _start(tmp_path, reset=True)
    try:
        assert "No customer matches" not in texts(seen(again, MARIA, GENERAL))  # the empty run's answers are gone
        again.relay.send(MARIA, GENERAL, "/crm find acme")
        assert "Acme Ltd" in texts(seen(again, MARIA, GENERAL))
    finally:
        again.close()



# --- workflow steps ---------------------------------------------------------------------------------


def _step_form(playground: Playground, person: str, callback_id: str, channel: str) -> Any:
    playground.relay.workflow(person, callback_id, channel)
    return wait_for(lambda: next((v for v in playground.fake.stack(person) if v.body["callback_id"] == "playground_workflow_step"),
                                 None), "the step's form")  # fmt: skip


def _step_values(view: Any, **typed: str) -> dict[str, Any]:
    """The form's state as the page sends it: `typed` by input, the users_select as it opened."""
    values: dict[str, Any] = {}
    for block in view.body["blocks"]:
        if block["type"] != "input":
            continue
        element, name = block["element"], block["block_id"]
        if element["type"] == "users_select":
            values[name] = {name: {"type": "users_select", "selected_user": typed.get(name, element["initial_user"])}}
        elif name in typed:
            values[name] = {name: {"type": element["type"], "value": typed[name]}}
    return values


def _slackbot_says(playground: Playground, person: str, channel: str, what: str) -> str:
    return wait_for(lambda: next((m["text"] for m in reversed(seen(playground, person, channel))
                                  if m["user"] == "USLACKBOT" and what in m["text"]), None), what)  # fmt: skip


def test_a_workflow_step_runs_from_its_form_and_slackbot_tells_how_it_ended(playground):
    """The ⚡ menu's step: its form (the manifest's inputs), Workflow Builder's `function_executed`
    with a token of its own, the bot's `functions.completeSuccess`, and its outputs shown."""
    relay, fake = playground.relay, playground.fake
    view = _step_form(playground, JAKE, "log_touch_step", demo.SALES)
    labels = [b["label"]["text"] for b in view.body["blocks"] if b["type"] == "input"]
    assert labels == ["Customer", "Kind", "Summary", "When", "Logged by"]
    relay.submit(JAKE, view.id, _step_values(view, customer="Northwind"))  # a required input left empty
    assert set(fake.view(view.id).errors) == {"kind", "summary"}
    relay.submit(JAKE, view.id, _step_values(view, customer="Northwind Traders", kind="visit",
                                             summary="Visited the warehouse from a workflow"))  # fmt: skip
    assert fake.stack(JAKE) == []
    done = _slackbot_says(playground, JAKE, demo.SALES, "finished")
    assert done.startswith(":white_check_mark: The workflow step *Log touch* finished. Touch id: ")
    [run] = fake.executions.values()
    assert (run.user, run.step, run.done) == (JAKE, "log_touch_step", True)
    relay.send(JAKE, demo.SALES, "/crm show Northwind Traders")
    wait_for(lambda: "Visited the warehouse from a workflow" in texts(seen(playground, JAKE, demo.SALES)),
             "the touch on the card")  # fmt: skip


def test_a_workflow_step_the_bot_refuses_ends_with_its_reason(playground):
    view = _step_form(playground, PRIYA, "find_customer_step", GENERAL)
    for odd in ([1], {"text": [1]}, {"text": {"text": "abc"}}, {"text": {"text": 5}},
                {"text": {"text": {"value": ["x"]}}}):  # what no page sends: a required field's error
        playground.relay.submit(PRIYA, view.id, odd)  # type: ignore[arg-type]
        assert set(playground.fake.view(view.id).errors) == {"text"}
    playground.relay.submit(PRIYA, view.id, _step_values(view, text="No Such Customer Anywhere"))
    refused = _slackbot_says(playground, PRIYA, GENERAL, "could not finish")
    assert refused.startswith(":warning: The workflow step *Find customer* could not finish: ")
    found = _step_form(playground, PRIYA, "find_customer_step", GENERAL)
    playground.relay.submit(PRIYA, found.id, _step_values(found, text="Northwind Traders"))
    assert "Name: Northwind Traders" in _slackbot_says(playground, PRIYA, GENERAL, "*Find customer* finished")


def refused(call: Any) -> str:
    with pytest.raises(SlackApiError) as error:
        call()
    return str(error.value.response["error"])


def test_a_step_token_is_good_for_its_run_only_and_until_it_ends(playground, api):
    fake = playground.fake
    execution, other = (fake.run_step(MARIA, GENERAL, "find_customer_step") for _ in range(2))
    run = WebClient(token=fake.executions[execution].token, base_url=playground.url + "/api/")
    assert run.auth_test()["ok"]
    assert refused(lambda: run.functions_completeError(function_execution_id=other, error="not mine")) == "access_denied"
    # Outputs that do not fit the step's (a required one missing, one of the wrong type) leave it running.
    for outputs in ({"name": "A"}, {"customer_id": 1, "name": "A"}, "not an object"):
        assert refused(lambda o=outputs: run.functions_completeSuccess(function_execution_id=execution,
                                                                        outputs=o)) == "parameter_validation_failed"  # fmt: skip
    run.functions_completeSuccess(function_execution_id=execution, outputs={"customer_id": "#1", "name": "<b>A</b>"})
    assert "Name: &lt;b&gt;A&lt;/b&gt;" in _slackbot_says(playground, MARIA, GENERAL, "Customer: #1")  # plain text
    assert refused(run.auth_test) == "invalid_auth"
    assert refused(lambda: api.functions_completeError(function_execution_id=execution,
                                                       error="again")) == "execution_not_in_running_state"  # fmt: skip
    assert refused(lambda: api.functions_completeError(function_execution_id="Fx404", error="x")) == \
        "function_execution_not_found"
