"""The playground on one local port: the page, the fake Slack, and the real bot.

    /                    the page (static/), plain HTML, CSS and JavaScript
    /play/…              what the page asks: what changed, and what the person did
    /api/<method>        the fake Web API (the bot's SLACK_API_URL)
    /response/<token>    response URLs;  /upload/<id>  upload URLs;  /files/<id>/<name>  files
    /slack/events        the bot itself (create_app + create_wsgi), reached only through the relay
    /healthz             the bot's health check

Bound to 127.0.0.1 only. The page's requests must name this host, so that no web page can
drive the playground by pointing its own name at this address.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import mimetypes
import secrets
import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qsl, quote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import select

from bot.app import create_app, create_wsgi
from bot.clock import wall
from bot.config import Settings, SettingsError
from bot.i18n import language, t
from bot.playground import demo, manifest
from bot.playground.fakeapi import FakeSlack
from bot.playground.relay import Relay
from bot.playground.signer import Signer
from bot.playground.slackdata import APP_ID, BOT_NAME, BOT_USER
from bot.scheduler.hours import WorkingHours
from bot.services.workspaces import TeamSettings
from bot.storage.db import (
    make_engine,
    make_session_factory,
    reading,
    unit_of_work,
    upgrade,
)
from bot.storage.models import Workspace

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
TOKEN = "xoxb-playground-not-a-real-token"
WAIT_SECONDS = 25  # a page's request for changes waits this long for one


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


# --- the scheduler's clock ----------------------------------------------------------------


class Clock:
    """The instant the scheduler last ran as of. It starts at the wall clock's now and moves
    only when the person runs the scheduler; the bot answers requests as of the real time."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at
        self.running = threading.Lock()
        self.last: str | None = None

    def presets(self, tz: str, hours: WorkingHours) -> list[dict[str, str]]:
        zone = ZoneInfo(tz)
        local = self.at.astimezone(zone)
        morning = next(
            dt.datetime.combine(day, hours.start_on(day), zone)
            for day in (local.date() + dt.timedelta(days=n) for n in range(1, 30))
            if hours.is_working_day(day)
        )
        monday = local.date() + dt.timedelta(days=(7 - local.weekday()) or 7)
        return [
            {"id": "hour", "label": "+1 hour", "at": (self.at + dt.timedelta(hours=1)).isoformat()},
            {"id": "day", "label": "+1 day", "at": (self.at + dt.timedelta(days=1)).isoformat()},
            {"id": "morning", "label": "Next working morning", "at": morning.isoformat()},
            {"id": "monday", "label": "Next Monday 09:00",
             "at": dt.datetime.combine(monday, dt.time(9, 0), zone).isoformat()},
        ]  # fmt: skip


# --- the worker's part: App Homes ------------------------------------------------------------


class HomeCourier:
    """What the worker does for App Homes, here: the Homes a request asked for
    (services.home.asked_homes) are published once it is answered. The playground runs no worker
    (its scheduler runs only when the person asks), so it sends these itself, on one thread."""

    def __init__(self, send: Callable[[], object]) -> None:
        self.send = send
        self.asked = threading.Event()
        self.stopped = False
        self.thread = threading.Thread(target=self._run, name="playground-homes", daemon=True)
        self.thread.start()

    def ask(self) -> None:
        self.asked.set()

    def stop(self) -> None:
        self.stopped = True
        self.asked.set()

    def _run(self) -> None:
        while True:
            self.asked.wait()
            self.asked.clear()
            if self.stopped:
                return
            try:
                self.send()
            except Exception:  # noqa: BLE001 - a Home not published now is published at the next ask
                log.exception("the playground could not publish App Homes")


# --- the playground ------------------------------------------------------------------------


@dataclass
class Playground:
    url: str
    fake: FakeSlack
    relay: Relay
    settings: Settings
    clock: Clock
    server: _Server
    factory: Any = None  # the bot's sessions, for reading the team calendar
    scheduler: Any = None
    homes: HomeCourier | None = None
    stop_keeping: Callable[[], None] = lambda: None
    instance: str = field(default_factory=lambda: secrets.token_hex(6))  # this run: a page of an older one reloads

    def close(self) -> None:
        """Stop serving; the conversations are saved for the next run."""
        self.server.shutdown()
        self.server.server_close()
        if self.homes is not None:
            self.homes.stop()
        self.stop_keeping()

    # what the page asks

    def boot(self) -> dict[str, Any]:
        """What the page needs once: the workspace, its people and channels, the app."""
        hints = {lang: _hints(t(locale, "help.body")) for lang, locale in (("en", "en-US"), ("zh", "zh-CN"))}
        return {
            "team": {"id": self.fake.team_id, "name": self.fake.team_name, "domain": self.fake.domain},
            "people": [
                {"id": p.id, "name": p.name, "real_name": p.real_name, "tz": p.tz, "locale": p.locale,
                 "language": language(p.locale), "title": p.title, "color": p.color, "role": p.role}
                for p in self.fake.people.values()
            ],  # fmt: skip
            "channels": [{"id": c.id, "name": c.name, "purpose": c.purpose} for c in self.fake.channels.values()],
            "bot": {"id": BOT_USER, "name": BOT_NAME, "app_id": APP_ID},
            "command": {"name": manifest.COMMAND, "description": manifest.COMMAND_DESCRIPTION,
                        "usage_hint": manifest.USAGE_HINT, "hints": hints},  # fmt: skip
            "shortcuts": [{"callback_id": k, **v} for k, v in manifest.SHORTCUTS.items()],
            "steps": [{"callback_id": k, "title": s.title, "description": s.description} for k, s in manifest.STEPS.items()],
            "first": demo.ADMIN,
            "instance": self.instance,
        }

    def changes(self, person: str, since: int, wait: bool, instance: str | None = None) -> dict[str, Any]:
        if person not in self.fake.people:
            raise KeyError(person)
        if instance and instance != self.instance:
            return {"instance": self.instance}  # the page knows an earlier run: it starts over
        if wait:
            self.fake.wait(since, WAIT_SECONDS)
        changes = self.fake.changes(person, since)
        changes["instance"] = self.instance
        changes["clock"] = {
            "at": self.clock.at.isoformat(), "running": self.clock.running.locked(), "last": self.clock.last,
            "presets": self.clock.presets(self.fake.people[person].tz, self._hours()),
        }  # fmt: skip
        return changes

    def _hours(self) -> WorkingHours:
        with reading(), unit_of_work(self.factory, now=None) as session:
            stored = session.scalar(select(Workspace.settings).where(Workspace.team_id == self.fake.team_id))
        return WorkingHours.of(TeamSettings.model_validate(stored or {}))

    def run_scheduler(self, person: str, *, preset: str | None = None, local: str | None = None) -> str:
        """Run every scheduled job as of the chosen instant; reminders, digests and escalations
        then arrive in the DMs as they would."""
        if preset:
            found = [p for p in self.clock.presets(self.fake.people[person].tz, self._hours()) if p["id"] == preset]
            if not found:
                raise ValueError(f"no preset {preset}")
            at = dt.datetime.fromisoformat(found[0]["at"])
        elif local:
            at = dt.datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(self.fake.people[person].tz))
        else:
            raise ValueError("say when")
        if not self.clock.running.acquire(blocking=False):
            return "The scheduler is already running."
        try:
            self.fake.notify("Running the scheduler…", user=person)
            report = self.scheduler.sweep(at.astimezone(dt.UTC))
            self.clock.at = at.astimezone(dt.UTC)
            self.clock.last = report.line()
        except Exception as exc:  # noqa: BLE001 - the page says so; the playground goes on
            log.exception("the scheduler failed as of %s", at.isoformat())
            self.fake.notify(f"The scheduler failed: {exc}", level="error", user=person)
            return f"failed: {exc}"
        finally:
            self.clock.running.release()
        self.fake.notify(self.clock.last, user=person)
        return self.clock.last


def _hints(body: str) -> list[dict[str, str]]:
    """The sub-commands from the help text: one hint per line that begins with the command."""
    hints = []
    for line in body.splitlines():
        if line.startswith("`" + manifest.COMMAND):
            usage = line[1:].split("`", 1)[0]
            hints.append({"usage": usage, "line": line})
    return hints


# --- building it --------------------------------------------------------------------------


def database(path: Path, *, fresh: bool) -> str:
    if fresh:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def slack_file(path: Path) -> Path:
    """Where the Slack side (messages, App Homes, files) is kept: next to the database."""
    return path.with_name(path.stem + ".slack.json")


def build(base: Settings, *, port: int, empty: bool = False, reset: bool = False,
          path: Path = Path("playground.db"), say: Callable[[str], None] = print) -> Playground:  # fmt: skip
    """Bind the port, prepare the database (the demo on a fresh one), start the bot."""
    dispatch = _Dispatch()
    try:
        server = make_server("127.0.0.1", port, dispatch, server_class=_Server, handler_class=_Quiet)
    except OSError as err:
        raise SettingsError(f"cannot listen on 127.0.0.1:{port} ({err.strerror}); choose another with --port") from None
    url = f"http://127.0.0.1:{server.server_address[1]}"
    secret = secrets.token_hex(16)
    updates = {
        "database_url": database(path, fresh=reset or empty), "slack_bot_token": TOKEN,
        "slack_signing_secret": secret, "slack_app_token": None, "slack_api_url": url + "/api/",
        "scheduler_enabled": False, "port": server.server_address[1],
        "slack_client_id": None, "slack_client_secret": None,  # one workspace, one token
    }  # fmt: skip
    settings = base.model_copy(update={k: v for k, v in updates.items() if k in type(base).model_fields})
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory, now=None) as session:
        fresh = session.get(Workspace, demo.TEAM_ID) is None
    if fresh and not empty:
        say(f"touchbase playground: creating the demo workspace in {path}")
        demo.seed(factory, wall())
    fake = FakeSlack(team_id=demo.TEAM_ID, team_name=demo.TEAM_NAME, domain=demo.DOMAIN, people=demo.PEOPLE,
                     channels=demo.CHANNELS, token=TOKEN, base_url=url)  # fmt: skip
    kept = slack_file(path)
    if not fresh and kept.exists():
        fake.load(kept)  # the conversations of the last run, with the database they go with
    elif not empty:
        for channel, person, text in demo.CHATTER:
            fake.post_as(person, channel, text)
    stop_keeping = fake.keep(kept)
    app = create_app(settings, factory, WebClient(token=TOKEN, base_url=settings.slack_api_url))
    relay = Relay(fake, Signer(url + "/slack/events", secret), command=manifest.COMMAND,
                  shortcuts={k: v["name"] for k, v in manifest.SHORTCUTS.items()})  # fmt: skip
    from bot.scheduler.runner import Scheduler

    playground = Playground(url, fake, relay, settings, Clock(wall()), server)
    playground.scheduler = Scheduler(settings, factory)
    sender = playground.scheduler.sender
    playground.homes = HomeCourier(lambda: sender.deliver(now=wall(), asked_only=True))
    playground.factory = factory
    playground.stop_keeping = stop_keeping
    dispatch.playground, dispatch.bot = playground, create_wsgi(app, engine)
    return playground


def play(base: Settings, *, port: int | None = None, empty: bool = False, reset: bool = False) -> None:
    """`python -m bot play`: build the playground and serve it until Ctrl-C."""
    playground = build(base, port=base.port if port is None else port, empty=empty, reset=reset)
    what = "an empty workspace" if empty else "the demo workspace"
    print(f"touchbase playground: {playground.url}/ ({what} in playground.db; Ctrl-C to stop)", flush=True)
    serving = threading.Thread(target=playground.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    serving.start()

    def stop(*_: Any) -> None:
        raise KeyboardInterrupt  # SIGTERM ends the playground as Ctrl-C does: messages saved

    signal.signal(signal.SIGTERM, stop)
    try:
        while serving.is_alive():
            serving.join(timeout=1)
    except KeyboardInterrupt:
        print("touchbase playground: stopped", flush=True)
    finally:
        playground.close()


# --- HTTP ------------------------------------------------------------------------------------

Respond = Callable[..., Any]


def _json(start: Respond, body: Any, status: str = "200 OK") -> list[bytes]:
    data = json.dumps(body, ensure_ascii=False).encode()
    start(status, [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(data))),
                   ("Cache-Control", "no-store")])  # fmt: skip
    return [data]


def _plain(start: Respond, status: str, text: str) -> list[bytes]:
    data = text.encode()
    start(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))])
    return [data]


def _body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _args(environ: dict[str, Any]) -> dict[str, Any]:
    """A Web API call's arguments: the query string, and a form or JSON body."""
    args: dict[str, Any] = dict(parse_qsl(environ.get("QUERY_STRING") or "", keep_blank_values=True))
    raw = _body(environ)
    if environ.get("CONTENT_TYPE", "").startswith("application/json"):
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            data = {}
        if isinstance(data, dict):
            args.update(data)
    elif raw:
        args.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return args


class _Dispatch:
    """The WSGI application: routes each path to the page, the fake Slack or the bot."""

    playground: Playground
    bot: Callable[..., Iterable[bytes]]

    def __call__(self, environ: dict[str, Any], start: Respond) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if path.startswith("/slack/") or path == "/healthz":
                answer = list(self.bot(environ, start))  # answered: the Homes it asked for follow
                if self.playground.homes is not None:
                    self.playground.homes.ask()
                return answer
            if path.startswith("/api/"):
                return self._api(environ, start, path.removeprefix("/api/"))
            if path.startswith("/response/") and method == "POST":
                return self._response(environ, start, path.removeprefix("/response/"))
            if path.startswith("/upload/") and method == "POST":
                status, text = self.playground.fake.upload(path.removeprefix("/upload/"), _body(environ))
                return _plain(start, f"{status} {'OK' if status == 200 else 'Not Found'}", text)
            if path.startswith("/files/"):
                return self._file(start, path.removeprefix("/files/"))
            if path.startswith("/play/"):
                if not self._own_host(environ):
                    return _plain(start, "403 Forbidden", "not this host")
                return self._play(environ, start, path.removeprefix("/play/"), method)
            if path.startswith("/archives/"):
                start("302 Found", [("Location", "/#" + path.lstrip("/")), ("Content-Length", "0")])
                return [b""]
            return self._static(start, "index.html" if path == "/" else path.removeprefix("/static/"))
        except Exception:  # noqa: BLE001 - one bad request must not stop the playground
            log.exception("playground request %s %s failed", method, path)
            return _json(start, {"ok": False, "error": "playground_error"}, "500 Internal Server Error")

    def _own_host(self, environ: dict[str, Any]) -> bool:
        port = self.playground.server.server_address[1]
        return environ.get("HTTP_HOST") in (f"127.0.0.1:{port}", f"localhost:{port}")

    def _api(self, environ: dict[str, Any], start: Respond, method: str) -> list[bytes]:
        args = _args(environ)
        auth = environ.get("HTTP_AUTHORIZATION", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else args.pop("token", None)
        return _json(start, self.playground.fake.call(method, args, token))

    def _response(self, environ: dict[str, Any], start: Respond, token: str) -> list[bytes]:
        args = _args(environ)
        if isinstance(args.get("payload"), str):  # a form post carries the message as `payload`
            try:
                args = json.loads(args["payload"])
            except ValueError:
                args = {}
        result = self.playground.fake.respond(token, args)
        if result.get("ok"):
            return _plain(start, "200 OK", "ok")
        return _json(start, result, "404 Not Found" if result.get("error") == "expired_url" else "200 OK")

    def _file(self, start: Respond, rest: str) -> list[bytes]:
        found = self.playground.fake.file_bytes(rest.split("/", 1)[0])
        if found is None:
            return _plain(start, "404 Not Found", "no such file")
        file, data = found
        start("200 OK", [("Content-Type", file.mimetype), ("Content-Length", str(len(data))),
                         ("Content-Disposition", f"inline; filename*=UTF-8''{quote(file.name)}")])  # fmt: skip
        return [data]

    def _static(self, start: Respond, name: str) -> list[bytes]:
        target = (STATIC / name).resolve()
        if STATIC not in target.parents or not target.is_file():
            return _plain(start, "404 Not Found", "not found")
        data = target.read_bytes()
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind == "application/javascript":
            kind += "; charset=utf-8"
        start("200 OK", [("Content-Type", kind), ("Content-Length", str(len(data))), ("Cache-Control", "no-cache")])
        return [data]

    def _play(self, environ: dict[str, Any], start: Respond, verb: str, method: str) -> list[bytes]:
        pg = self.playground
        if method == "GET":
            query = dict(parse_qsl(environ.get("QUERY_STRING") or ""))
            if verb == "boot":
                return _json(start, pg.boot())
            if verb == "changes":
                try:
                    changes = pg.changes(query.get("as", ""), int(query.get("since") or 0), query.get("wait") == "1",
                                         query.get("instance"))  # fmt: skip
                except (KeyError, ValueError):
                    return _json(start, {"ok": False, "error": "no such person"}, "400 Bad Request")
                return _json(start, changes)
            return _plain(start, "404 Not Found", "not found")
        try:
            body = json.loads(_body(environ) or b"{}")
        except ValueError:
            return _json(start, {"ok": False, "error": "not JSON"}, "400 Bad Request")
        if not isinstance(body, dict) or str(body.get("as") or "") not in pg.fake.people:
            return _json(start, {"ok": False, "error": "no such person"}, "400 Bad Request")
        person, relay, where = str(body["as"]), pg.relay, body.get("where") or {}
        for key, kind in (("where", dict), ("action", dict), ("preset", str), ("local", str)):
            if not isinstance(body.get(key) or kind(), kind):
                return _json(start, {"ok": False, "error": f"{key}: not {kind.__name__}"}, "400 Bad Request")
        result: dict[str, Any] = {"ok": True}
        if verb == "send":
            relay.send(person, str(body.get("channel")), str(body.get("text") or ""), thread_ts=body.get("thread_ts"))
        elif verb == "action":
            relay.action(person, where, body.get("action") or {}, body.get("values"))
        elif verb == "suggest":
            result.update(relay.suggest(person, where, str(body.get("block_id") or ""),
                                        str(body.get("action_id") or ""), str(body.get("value") or ""),
                                        body.get("values")))  # fmt: skip
        elif verb == "submit":
            relay.submit(person, str(body.get("view_id")), body.get("values") or {})
        elif verb == "close":
            relay.close(person, str(body.get("view_id")), body.get("values"))
        elif verb == "shortcut":
            relay.shortcut(person, str(body.get("callback_id")), str(where.get("channel")), str(where.get("ts")))
        elif verb == "home":
            relay.home_opened(person, "messages" if body.get("tab") == "messages" else "home")
        elif verb == "workflow":
            relay.workflow(person, str(body.get("callback_id")), str(where.get("channel")))
        elif verb == "react":
            relay.react(person, str(where.get("channel")), str(where.get("ts")), str(body.get("name") or ""))
        elif verb == "dismiss":
            pg.fake.dismiss(person, str(where.get("channel")), str(where.get("ts")))
        elif verb == "clock":
            try:
                result["line"] = pg.run_scheduler(person, preset=body.get("preset"), local=body.get("local"))
            except ValueError as err:
                return _json(start, {"ok": False, "error": str(err)}, "400 Bad Request")
        else:
            return _plain(start, "404 Not Found", "not found")
        return _json(start, result)

