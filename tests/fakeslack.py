"""A fake Slack Web API on localhost: records every call and answers in Slack's shapes.

Point the bot's `SLACK_API_URL` at `fake.api_url`. Besides `/api/<method>` it accepts
posts to `response_url`s (`fake.response_url()`) and file uploads (`/upload/<id>`).
Tell it to fail with `fake.fail(method, status=429, retry_after=1)`,
`fake.fail(method, status=500, times=3)` or `fake.fail(method, error="user_not_found")`, or only
for the calls to one channel with `fake.fail(method, error=..., channel="C1")`;
make it slow with `fake.slow(method, seconds)`. `fake.fail(method, hang_up=True)` reads the call
and closes its connection without an answer (the request may have reached Slack, the answer is
lost); `cut=True` sends part of the answer, then closes it. It keeps connections alive, as Slack
does: `fake.connections` counts those it accepted, and `fake.drop_connections()` closes the open
ones (Slack closing idle connections). With `fake.known_users_only = True`, `users.info` answers
`user_not_found` for a user not added with `fake.add_user`, as Slack does for an id that is not a
person of the workspace.

`apps.connections.open` takes the app-level token (`xapp-…`) and answers with a `ws://` URL of
the fake Socket Mode end attached as `fake.sockets` (tests/fakesocket.py); every other method
takes the bot token (`xoxb-…`). A wrong kind of token is refused, as Slack refuses it.

Workspaces and tokens, as Slack's OAuth v2 hands them out: `fake.grant(team)` is an admin
pressing *Allow* on Slack's authorize page (a one-time code for the bot's redirect URL);
`oauth.v2.access` (with the app's `client_id` and `client_secret`) exchanges it for that
workspace's own bot token, with a refresh token when `fake.rotation` is set (seconds the
token lives); `fake.revoke(team)` is the app being uninstalled there. Every call is recorded
with the token it carried and the workspace that token belongs to (`Call.token`,
`Call.team`). Once the fake has handed out a token, a call with a token it did not hand out,
or one revoked, gets `invalid_auth`; before that, any `xoxb-` token passes as the one
workspace's (single-workspace mode, `fake.team_id`).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlparse

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

if TYPE_CHECKING:
    from tests.fakesocket import FakeSocketMode


@dataclass
class Call:
    method: str  # Web API method, "response_url" or "upload"
    args: dict[str, Any]
    path: str = ""
    at: float = field(default_factory=time.monotonic)
    token: str | None = None  # the bearer token the call carried (a workflow step's own, `xwfp-…`)
    team: str | None = None  # the workspace of that token (None: refused)


@dataclass
class Grant:
    """A code Slack's authorize page gives the browser for the bot's redirect URL."""

    team_id: str
    team_name: str
    installer: str
    used: bool = False


CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "fakeclientsecret0000notreal"


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    times: int = 1
    channel: str | None = None  # only calls whose `channel` is this one
    hang_up: bool = False  # close the connection instead of answering
    cut: bool = False  # send the answer's headers and part of its body, then close


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


_SHOWN = ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "views.update", "views.push",
          "views.publish", "response_url")  # fmt: skip


def block_kit_problem(args: dict[str, Any]) -> str | None:
    """Why Slack would refuse these blocks or this view (`invalid_blocks`), as far as
    slack_sdk's models know Block Kit; None when it would not. A `table` block is left to
    the tests of its own limits (slack_sdk has no model of it)."""
    try:
        view = args.get("view")
        if view:
            view = json.loads(view) if isinstance(view, str) else view
            View(**{k: v for k, v in view.items() if k != "id"}).validate_json()
        blocks = args.get("blocks")
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
        for block in blocks or []:
            if block.get("type") == "table":
                continue
            parsed = Block.parse(dict(block))
            if parsed is None:
                return f"unknown block: {block}"
            parsed.validate_json()
    except (SlackObjectFormationError, KeyError, TypeError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


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
        self.client_id, self.client_secret = CLIENT_ID, CLIENT_SECRET
        self.grants: dict[str, Grant] = {}
        self.tokens: dict[str, str] = {}  # bot token handed out -> its workspace
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> its workspace
        self.revoked: set[str] = set()
        self.file_teams: dict[str, str] = {}  # upload id -> the workspace that asked for it
        self.rotation: int | None = None  # token rotation: seconds a bot token lives
        self.refused: list[tuple[str, str]] = []  # (method, why): blocks or views Slack would refuse
        self.connections = 0  # connections accepted since the last reset
        self._open: set[socket.socket] = set()
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
            self.grants.clear()
            self.tokens.clear()
            self.refresh_tokens.clear()
            self.revoked.clear()
            self.file_teams.clear()
            self.rotation = None
            self.refused.clear()
            self.connections = 0

    def refuses(self, surface: str, args: dict[str, Any]) -> bool:
        """Whether Slack would refuse these blocks or this view (`block_kit_problem`); a
        refusal is kept in `refused`, which fails the test (conftest's `fake`)."""
        problem = block_kit_problem(args)
        if problem is not None:
            with self._lock:
                self.refused.append((surface, problem))
        return problem is not None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    def response_url(self) -> str:
        return f"{self.base_url}/response/{next(self._ids)}"

    def forget_calls(self) -> None:
        """Start recording afresh, keeping the workspaces and their tokens."""
        with self._lock:
            self.calls.clear()

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

    def fail(self, method: str, *, status: int = 200, error: str | None = None, retry_after: int | None = None,
             times: int = 1, channel: str | None = None, hang_up: bool = False, cut: bool = False) -> None:  # fmt: skip
        with self._lock:
            self.failures.setdefault(method, []).append(
                Failure(status, error, retry_after, times, channel, hang_up, cut))

    def drop_connections(self) -> None:
        """Close every open connection, as Slack closes idle ones; back once all are closed."""
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):  # closed by the client meanwhile
                    sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 5
        while self._open:
            assert time.monotonic() < deadline, f"{len(self._open)} connections still open"
            time.sleep(0.01)

    def slow(self, method: str, seconds: float) -> None:
        """Answer every later call of `method` only after `seconds` (0 to stop)."""
        with self._lock:
            self.delays[method] = seconds

    # --- workspaces and their tokens ---------------------------------------------------

    def grant(self, team_id: str, *, name: str | None = None, installer: str = "U0000001") -> str:
        """An admin of `team_id` allows the install: the one-time code Slack redirects with."""
        code = f"code-{secrets.token_hex(8)}"
        with self._lock:
            self.grants[code] = Grant(team_id, name or f"Workspace {team_id}", installer)
        return code

    def token_of(self, team_id: str) -> str:
        """The newest bot token handed to `team_id`."""
        with self._lock:
            mine = [token for token, team in self.tokens.items() if team == team_id]
        assert mine, f"no token was handed to {team_id}"
        return mine[-1]

    def revoke(self, team_id: str) -> None:
        """The app is uninstalled from `team_id`: its tokens stop working."""
        with self._lock:
            self.revoked |= {t for t, team in self.tokens.items() if team == team_id}
            self.revoked |= {t for t, team in self.refresh_tokens.items() if team == team_id}

    def calls_of(self, team_id: str, method: str | None = None) -> list[Call]:
        """The calls made with `team_id`'s tokens (and uploads of its files)."""
        with self._lock:
            return [c for c in self.calls if c.team == team_id and (method is None or c.method == method)]

    def _new_token(self, team_id: str) -> dict[str, Any]:
        token = f"xoxb-{team_id}-{secrets.token_hex(6)}"
        answer: dict[str, Any] = {"access_token": token, "token_type": "bot"}
        with self._lock:
            self.tokens[token] = team_id
            if self.rotation is not None:
                # A rotating token looks like Slack's: `xoxe.xoxb-…`, with a refresh token.
                del self.tokens[token]
                token = answer["access_token"] = "xoxe." + token
                self.tokens[token] = team_id
                refresh = f"xoxe-1-{team_id}-{secrets.token_hex(6)}"
                self.refresh_tokens[refresh] = team_id
                answer.update(refresh_token=refresh, expires_in=self.rotation)
        return answer

    def _oauth_access(self, args: dict[str, Any], auth: str) -> dict[str, Any]:
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        else:
            client_id, secret = args.get("client_id", ""), args.get("client_secret", "")
        if (client_id, secret) != (self.client_id, self.client_secret):
            return {"ok": False, "error": "invalid_client_id" if client_id != self.client_id else "bad_client_secret"}
        if args.get("grant_type") == "refresh_token":
            refresh = str(args.get("refresh_token"))
            with self._lock:
                team_id = self.refresh_tokens.pop(refresh, None) if refresh not in self.revoked else None
                # The token it renews stops working: a call still made with it shows up as invalid_auth.
                self.revoked |= {t for t, team in self.tokens.items() if team == team_id}
            if team_id is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            return {"ok": True, **self._new_token(team_id), "team": {"id": team_id}, "bot_user_id": f"UB{team_id}"}
        with self._lock:
            grant = self.grants.get(str(args.get("code")))
            if grant is None or grant.used:
                return {"ok": False, "error": "invalid_code"}
            grant.used = True
        return {
            "ok": True, **self._new_token(grant.team_id), "scope": "commands,chat:write,im:write,users:read,files:write",
            "bot_user_id": f"UB{grant.team_id}", "app_id": "A0000001",
            "team": {"id": grant.team_id, "name": grant.team_name}, "enterprise": None,
            "authed_user": {"id": grant.installer}, "is_enterprise_install": False,
        }  # fmt: skip

    def _team_of(self, token: str) -> str | None:
        """The workspace a bearer token belongs to, None if it is not one the fake accepts."""
        with self._lock:
            if not self.tokens:  # single-workspace mode: the one bot token, whatever it is
                return self.team_id if token.startswith("xoxb-") else None
            if token in self.revoked:
                return None
            return self.tokens.get(token)

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

    def _answer(self, method: str, args: dict[str, Any], team: str) -> dict[str, Any]:
        ts = f"{time.time():.6f}"
        if method == "apps.connections.open":
            if self.sockets is None:
                return {"ok": False, "error": "not_allowed"}  # Socket Mode is off for this app
            return {"ok": True, "url": self.sockets.open_url()}
        if method == "auth.test":
            if not self.tokens:
                return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": self.team_id, "user": "touchbase"}
            return {"ok": True, "user_id": f"UB{team}", "bot_id": f"BB{team}", "team_id": team, "user": "touchbase"}
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
        if method == "chat.getPermalink":  # a reply's link names its thread (a message added with its thread)
            channel, ts = str(args.get("channel")), str(args.get("message_ts", ""))
            known = self.channels[channel].messages.get(ts, {}) if channel in self.channels else {}
            thread = f"?thread_ts={known['thread_ts']}&cid={channel}" if known.get("thread_ts", ts) != ts else ""
            return {"ok": True, "permalink": f"https://example.slack.com/archives/{channel}/p{ts.replace('.', '')}{thread}"}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ids)}"
            with self._lock:
                self.file_teams[file_id] = team
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
            disable_nagle_algorithm = True  # as a web server does: an answer's headers and body are two writes

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def setup(self) -> None:
                super().setup()
                with fake._lock:
                    fake.connections += 1
                    fake._open.add(self.connection)

            def finish(self) -> None:
                with fake._lock:
                    fake._open.discard(self.connection)
                super().finish()

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
                        fake.calls.append(Call("upload", {"file_id": file_id, "size": len(raw)}, path,
                                               team=fake.file_teams.get(file_id)))  # fmt: skip
                    return self._send(200, "OK - " + str(len(raw)))
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    args = json.loads(raw or b"{}")
                else:
                    args = dict(parse_qsl(raw.decode()))
                if path.startswith("/response/"):
                    with fake._lock:
                        fake.calls.append(Call("response_url", args, path))
                    if fake.refuses("response_url", args):
                        return self._send(400, "invalid_blocks")
                    return self._send(200, "ok")
                method = path.removeprefix("/api/")
                auth = self.headers.get("Authorization", "")
                if method == "oauth.v2.access":
                    with fake._lock:
                        fake.calls.append(Call(method, {k: v for k, v in args.items() if "secret" not in k}, path))
                    return self._send(200, fake._oauth_access(args, auth))
                if not auth.startswith("Bearer "):
                    return self._send(200, {"ok": False, "error": "not_authed"})
                token = auth.removeprefix("Bearer ")
                # An app-level token opens Socket Mode; other methods take a bot token, or the
                # token Slack gives a workflow step for its own calls.
                # (A rotating bot token is `xoxe.xoxb-…`.)
                kinds = ("xapp-",) if method == "apps.connections.open" else ("xoxb-", "xoxe.xoxb-", "xwfp-")
                if not token.startswith(kinds):
                    return self._send(200, {"ok": False, "error": "not_allowed_token_type"})
                team = fake._team_of(token) if not token.startswith(("xapp-", "xwfp-")) else fake.team_id
                if team is None:
                    with fake._lock:
                        fake.calls.append(Call(method, args, path, token=token))
                    return self._send(200, {"ok": False, "error": "invalid_auth"})
                delay = fake.delays.get(method)
                if delay:
                    time.sleep(delay)
                failure = fake._take_failure(method, args)
                with fake._lock:
                    fake.calls.append(Call(method, args, path, token=token, team=team))
                if failure is not None:
                    if failure.hang_up or failure.cut:
                        self.close_connection = True
                        if failure.cut:
                            self.send_response(200)
                            self.send_header("Content-Type", "application/json")
                            self.send_header("Content-Length", "50")
                            self.end_headers()
                            self.wfile.write(b'{"ok": true,')
                        return self.connection.shutdown(socket.SHUT_RDWR)
                    if failure.status == 429:
                        return self._send(429, {"ok": False, "error": "ratelimited"},
                                          {"Retry-After": str(failure.retry_after or 1)})  # fmt: skip
                    if failure.status >= 500:
                        return self._send(failure.status, "Internal Server Error")
                    return self._send(200, {"ok": False, "error": failure.error or "fatal_error"})
                if method in _SHOWN and fake.refuses(method, args):
                    return self._send(200, {"ok": False, "error": "invalid_blocks"})
                self._send(200, fake._answer(method, args, team))

        return Handler
