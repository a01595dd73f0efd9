"""A fake Slack Web API on localhost: records every call and answers in Slack's shapes.

Point the bot's `SLACK_API_URL` at `fake.api_url`. Besides `/api/<method>` it accepts
posts to `response_url`s (`fake.response_url()`) and file uploads (`/upload/<id>`).
Tell it to fail with `fake.fail(method, status=429, retry_after=1)`,
`fake.fail(method, status=500, times=3)` or `fake.fail(method, error="user_not_found")`, or only
for the calls to one channel with `fake.fail(method, error=..., channel="C1")`;
make it slow with `fake.slow(method, seconds)`. With `fake.known_users_only = True`,
`users.info` answers `user_not_found` for a user not added with `fake.add_user`, as Slack does
for an id that is not a person of the workspace.

`apps.connections.open` takes the app-level token (`xapp-…`) and answers with a `ws://` URL of
the fake Socket Mode end attached as `fake.sockets` (tests/fakesocket.py); every other method
takes the bot token (`xoxb-…`). A wrong kind of token is refused, as Slack refuses it.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlparse

if TYPE_CHECKING:
    from tests.fakesocket import FakeSocketMode


@dataclass
class Call:
    method: str  # Web API method, "response_url" or "upload"
    args: dict[str, Any]
    path: str = ""
    at: float = field(default_factory=time.monotonic)
    token: str = ""  # the bearer token it came with (a workflow step's own, `xwfp-…`)


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    times: int = 1
    channel: str | None = None  # only calls whose `channel` is this one


@dataclass
class Channel:
    id: str
    is_private: bool = False
    is_member: bool = False  # the bot is in it
    is_archived: bool = False
    is_ext_shared: bool = False
    joinable: bool = True  # conversations.join succeeds
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # ts -> message


@dataclass
class User:
    id: str
    name: str = "someone"
    tz: str = "UTC"
    locale: str = "en-US"
    is_admin: bool = False
    is_owner: bool = False
    email: str | None = None


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.failures: dict[str, list[Failure]] = {}
        self.uploads: dict[str, bytes] = {}
        self.delays: dict[str, float] = {}
        self.team_id = "T0000001"
        self.sockets: FakeSocketMode | None = None  # answers apps.connections.open when attached
        self.known_users_only = False
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.users.clear()
            self.channels.clear()
            self.failures.clear()
            self.uploads.clear()
            self.delays.clear()
            self.known_users_only = False

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    def response_url(self) -> str:
        return f"{self.base_url}/response/{next(self._ids)}"

    # --- programming it ---------------------------------------------------------------

    def add_user(self, user_id: str, **profile: Any) -> User:
        user = User(id=user_id, **profile)
        self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str, **info: Any) -> Channel:
        """A channel `conversations.info` knows (an unknown one is `channel_not_found`, as a
        private channel the bot is not in is to real Slack)."""
        channel = Channel(id=channel_id, **info)
        self.channels[channel_id] = channel
        return channel

    def add_message(self, channel_id: str, ts: str, text: str, *, thread_ts: str | None = None, user: str = "U0000001") -> None:
        """A message the bot may read back (`conversations.history` / `.replies`)."""
        channel = self.channels.get(channel_id) or self.add_channel(channel_id, is_member=True)
        channel.messages[ts] = {"type": "message", "ts": ts, "text": text, "user": user,
                                **({"thread_ts": thread_ts} if thread_ts else {})}  # fmt: skip

    def fail(self, method: str, *, status: int = 200, error: str | None = None,
             retry_after: int | None = None, times: int = 1, channel: str | None = None) -> None:  # fmt: skip
        with self._lock:
            self.failures.setdefault(method, []).append(Failure(status, error, retry_after, times, channel))

    def slow(self, method: str, seconds: float) -> None:
        """Answer every later call of `method` only after `seconds` (0 to stop)."""
        with self._lock:
            self.delays[method] = seconds

    # --- reading what the bot did -----------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def last(self, method: str) -> dict[str, Any]:
        calls = self.calls_to(method)
        assert calls, f"the bot never called {method}; it called {[c.method for c in self.calls]}"
        return calls[-1].args

    def methods(self) -> list[str]:
        with self._lock:
            return [c.method for c in self.calls]

    # --- answering --------------------------------------------------------------------

    def _take_failure(self, method: str, args: dict[str, Any]) -> Failure | None:
        with self._lock:
            queue = [f for f in self.failures.get(method, []) if f.channel in (None, args.get("channel"))]
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                self.failures[method].remove(failure)
            return failure

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"{time.time():.6f}"
        if method == "apps.connections.open":
            if self.sockets is None:
                return {"ok": False, "error": "not_allowed"}  # Socket Mode is off for this app
            return {"ok": True, "url": self.sockets.open_url()}
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": self.team_id, "user": "touchbase"}
        if method in ("chat.postMessage", "chat.update"):
            channel = args.get("channel")
            return {"ok": True, "channel": channel, "ts": args.get("ts") or ts, "message": {"text": args.get("text")}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method in ("conversations.info", "conversations.join"):
            channel = self.channels.get(str(args.get("channel")))
            if channel is None:
                return {"ok": False, "error": "channel_not_found"}
            if method == "conversations.join":
                if channel.is_private or channel.is_archived or not channel.joinable:
                    return {"ok": False, "error": "method_not_supported_for_channel_type"}
                channel.is_member = True
            return {"ok": True, "channel": {
                "id": channel.id, "is_private": channel.is_private, "is_member": channel.is_member,
                "is_archived": channel.is_archived, "is_ext_shared": channel.is_ext_shared,
            }}  # fmt: skip
        if method in ("conversations.history", "conversations.replies"):
            channel = self.channels.get(str(args.get("channel")))
            if channel is None or not channel.is_member:
                return {"ok": False, "error": "not_in_channel" if channel else "channel_not_found"}
            oldest, latest = str(args.get("oldest") or "0"), str(args.get("latest") or "9999999999")
            found = [m for t, m in sorted(channel.messages.items()) if oldest <= t <= latest]
            if method == "conversations.history":  # the channel itself: no thread replies
                found = [m for m in found if m.get("thread_ts") in (None, m["ts"])]
            else:
                root = str(args.get("ts"))
                found = [m for m in found if root in (m["ts"], m.get("thread_ts"))]
            return {"ok": True, "messages": found[: int(args.get("limit") or 100)]}
        if method in ("views.open", "views.update", "views.push", "views.publish"):
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else dict(view or {})
            view.setdefault("id", f"V{next(self._ids)}")
            return {"ok": True, "view": view}
        if method == "users.info":
            if self.known_users_only and str(args.get("user")) not in self.users:
                return {"ok": False, "error": "user_not_found"}
            user = self.users.get(str(args.get("user"))) or User(id=str(args.get("user")))
            return {"ok": True, "user": {
                "id": user.id, "name": user.name, "real_name": user.name, "tz": user.tz,
                "locale": user.locale, "is_admin": user.is_admin, "is_owner": user.is_owner,
            }}  # fmt: skip
        if method == "users.lookupByEmail":
            found = [u for u in self.users.values() if u.email and u.email.lower() == str(args.get("email")).lower()]
            if not found:
                return {"ok": False, "error": "users_not_found"}
            return {"ok": True, "user": {"id": found[0].id, "name": found[0].name}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "X"))}}
        if method == "chat.getPermalink":
            return {"ok": True, "permalink": f"https://example.slack.com/archives/{args.get('channel')}/p{args.get('message_ts', '').replace('.', '')}"}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ids)}"
            return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = args.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files or []]}
        return {"ok": True}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None) -> None:
                data = (json.dumps(body) if isinstance(body, dict) else body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if isinstance(body, dict) else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                path = urlparse(self.path).path
                if path.startswith("/upload/"):
                    file_id = path.rsplit("/", 1)[-1]
                    with fake._lock:
                        fake.uploads[file_id] = raw
                        fake.calls.append(Call("upload", {"file_id": file_id, "size": len(raw)}, path))
                    return self._send(200, "OK - " + str(len(raw)))
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    args = json.loads(raw or b"{}")
                else:
                    args = dict(parse_qsl(raw.decode()))
                if path.startswith("/response/"):
                    with fake._lock:
                        fake.calls.append(Call("response_url", args, path))
                    return self._send(200, "ok")
                method = path.removeprefix("/api/")
                auth = self.headers.get("Authorization", "")
                # An app-level token opens Socket Mode; other methods take a bot token, or the
                # token Slack gives a workflow step for its own calls.
                kinds = ("xapp-",) if method == "apps.connections.open" else ("xoxb-", "xwfp-")
                if not auth.startswith("Bearer "):
                    return self._send(200, {"ok": False, "error": "not_authed"})
                if not auth.removeprefix("Bearer ").startswith(kinds):
                    return self._send(200, {"ok": False, "error": "not_allowed_token_type"})
                delay = fake.delays.get(method)
                if delay:
                    time.sleep(delay)
                failure = fake._take_failure(method, args)
                with fake._lock:
                    fake.calls.append(Call(method, args, path, token=auth.removeprefix("Bearer ")))
                if failure is not None:
                    if failure.status == 429:
                        return self._send(429, {"ok": False, "error": "ratelimited"},
                                          {"Retry-After": str(failure.retry_after or 1)})  # fmt: skip
                    if failure.status >= 500:
                        return self._send(failure.status, "Internal Server Error")
                    return self._send(200, {"ok": False, "error": failure.error or "fatal_error"})
                self._send(200, fake._answer(method, args))

        return Handler
