"""The app factory: builds the bolt `App` and the WSGI application that serves it.

Nothing Slack-shaped happens at import time; `create_app` is called by the server, the
worker and the tests with their own settings, sessions and Web API client.

A request goes: the WSGI guard (`create_wsgi`: size, signature and timestamp, UTF-8, a JSON
object where JSON is due; else 4xx) → bolt's own checks → the workspace's authorization (one
bot token, or in many-workspace mode the workspace's installation, bot.oauth; a workspace
without one is refused and nothing runs) → `read_request` (the payload read into typed
input by bot.payloads, the RequestContext made: one session, one instant) → the listener
(handlers.registry) → the unit of work committed (`_App.dispatch`) → Slack answered → the
work left for later run (bot.later). No request is answered with a 5xx.

Each request gets an id (bot.logs.REQUEST_ID) that its log lines and the work after its
answer carry, one log line when it is answered (kind, workspace, outcome, duration), and is
counted in bot.metrics; `GET /metrics` serves those.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.context import BoltContext
from slack_bolt.request import payload_utils
from slack_bolt.request.internals import build_context
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import metrics, oauth, payloads
from bot.clock import wall
from bot.config import Settings
from bot.context import RequestContext
from bot.handlers.registry import CONTEXT, PAYLOAD, Registry
from bot.i18n import t
from bot.later import AfterResponse
from bot.logs import FIELDS, OUTCOME, REQUEST_ID, new_request_id
from bot.notify import Notifier, Permalinks, SlackDirectory, SlackNotifier, Unreachable
from bot.storage import crypto
from bot.storage.db import CLOCK, begin_reading, end_reading, ping
from bot.views.kit import message_modal

log = logging.getLogger(__name__)
access = logging.getLogger("bot.requests")  # one line per request

ARRIVED = "touchbase.arrived"  # bolt context key: (perf_counter, thread_time) when create_wsgi took the request
MAX_BODY = 1_000_000  # bytes: Slack's largest payloads (a full modal's state) are far smaller


class _App(App):
    """Bolt's global middleware runs before the listener, not around it; the request's unit
    of work is therefore closed here, after the listener has run and before Slack hears back
    (listeners finish first under `process_before_response`). What the listener left for
    later starts then, on `later`'s threads."""

    later: AfterResponse
    registry: Registry
    signing_secret: str | None

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        # Over HTTP, from when create_wsgi took the request: reading it (`guard`) is its work too.
        started, cpu_started = req.context.get(ARRIVED) or (time.perf_counter(), time.thread_time())
        request_id = REQUEST_ID.set(REQUEST_ID.get() or new_request_id())
        response: BoltResponse | None = None
        try:
            response = self._dispatch(req)
            return response
        finally:
            _observe(req, response, time.perf_counter() - started, time.thread_time() - cpu_started)
            REQUEST_ID.reset(request_id)

    def _dispatch(self, req: BoltRequest) -> BoltResponse:
        try:
            response = super().dispatch(req)
        except BaseException:
            if rq := req.context.get(CONTEXT):
                rq.failed = True
            req.context[OUTCOME] = "failed"
            raise
        finally:
            rq = req.context.get(CONTEXT)
            if rq is not None:
                end_reading(rq.state.pop("reading", None))
        if req.context.get(OUTCOME) == "not_installed" and not req.context.response_url:
            # bolt refused it (nothing ran, nothing was written) with a line of plain text,
            # which a modal or a type-ahead cannot show: answer in the surface's own shape.
            return _refusal(_kind(req.body if isinstance(req.body, dict) else {}), t(None, "error.not_installed"))
        if rq is not None:
            try:
                rq.finish()
            except Exception:  # noqa: BLE001 - a failed commit is told, never a 5xx
                log.exception("the request's unit of work could not be saved")
                rq.lost()
                req.context[OUTCOME] = "failed"
                return _apology(req.context.get(PAYLOAD), None)
            if rq.left_for_later:
                self.later.submit(rq, rq.left_for_later)
        return response

    def _init_context(self, req: BoltRequest) -> None:
        # bolt makes a fresh WebClient for each request (its listener's `client`, which
        # authorization gives the workspace's token); this one is counted in bot.metrics.
        super()._init_context(req)
        req.context["client"] = metrics.metered(req.context["client"])


_TEAM = re.compile(r"[TE][A-Z0-9]{1,31}")
# Payload types as counted and logged (bot.metrics.KINDS).
_KIND_OF_TYPE = {"block_actions": "action", "view_submission": "view", "view_closed": "view",
                 "block_suggestion": "options", "message_action": "shortcut", "shortcut": "shortcut",
                 "event_callback": "event"}  # fmt: skip


def _request_kind(body: dict[str, Any]) -> str:
    return "command" if "command" in body else _KIND_OF_TYPE.get(str(body.get("type")), "other")


def _request_team(req: BoltRequest, body: dict[str, Any]) -> str:
    """The workspace a request came from, for the log line (only something shaped as a team id)."""
    rq = req.context.get(CONTEXT)
    team = rq.team_id if rq is not None else body.get("team_id")
    if team is None and isinstance(body.get("team"), dict):
        team = body["team"].get("id")
    return team if isinstance(team, str) and _TEAM.fullmatch(team) else "-"


def _observe(req: BoltRequest, response: BoltResponse | None, seconds: float, cpu_seconds: float) -> None:
    body = req.body if isinstance(req.body, dict) else {}
    outcome = req.context.get(OUTCOME)
    if outcome is None:
        outcome = "ok" if response is not None and response.status < 400 else ("rejected" if response else "failed")
    _record(_request_kind(body), _request_team(req, body), outcome, seconds, cpu_seconds=cpu_seconds)


def _record(kind: str, team: str, outcome: str, seconds: float, *, status: int | None = None,
            cpu_seconds: float | None = None) -> None:  # fmt: skip
    """A request's one log line and its metrics: kind, workspace, outcome (bot.metrics.OUTCOMES),
    HTTP status where it says more, duration (and the answering thread's CPU time, for the
    requests bolt dispatches). Nothing a person typed, and no user id."""
    metrics.observe_request(kind, outcome, seconds, cpu_seconds)
    fields: dict[str, Any] = {"kind": kind, "team": team, "outcome": outcome}
    if status is not None:
        fields["status"] = status
    fields["duration_ms"] = round(seconds * 1000, 1)
    access.info("request " + " ".join(f"{k}={v}" for k, v in fields.items()), extra={FIELDS: fields})


@contextmanager
def _own_request_id() -> Iterator[None]:
    """A fresh request id for the log lines written inside (requests bolt does not dispatch)."""
    token = REQUEST_ID.set(new_request_id())
    try:
        yield
    finally:
        REQUEST_ID.reset(token)


def _apology(payload: Any, rq: RequestContext | None) -> BoltResponse:
    """Something failed that the person cannot fix: say so, in their language if we can."""
    locale = None
    if rq is not None:
        try:
            rq.session.rollback()
            locale = rq.locale
        except Exception:  # noqa: BLE001 - the apology must still go out (the database may be what failed)
            locale = None
    return _refusal(payload, t(locale, "error.generic"))


def _refusal(payload: Any, text: str) -> BoltResponse:
    """A 200 that says `text` where the surface can show it, or nothing where it cannot."""
    headers = {"content-type": ["application/json;charset=utf-8"]}
    if isinstance(payload, payloads.Command) or payload == "command":
        return BoltResponse(status=200, body=json.dumps({"response_type": "ephemeral", "text": text}), headers=headers)
    if isinstance(payload, payloads.ViewSubmission) or payload == "view_submission":
        body = {"response_action": "update", "view": message_modal(None, text)}
        return BoltResponse(status=200, body=json.dumps(body), headers=headers)
    if isinstance(payload, payloads.BlockSuggestion) or payload == "block_suggestion":
        return BoltResponse(status=200, body=json.dumps({"options": []}), headers=headers)
    return BoltResponse(status=200, body="")


def _kind(body: dict[str, Any]) -> str:
    return "command" if "command" in body else str(body.get("type") or "")


def create_app(
    settings: Settings,
    session_factory: sessionmaker[Session],
    client: WebClient | None = None,
    *,
    clock: Callable[[], dt.datetime] = wall,
) -> App:
    """The bolt app. `clock` is where each request reads its one instant (tests may fix it).

    With one bot token (`SLACK_BOT_TOKEN`) every request is for that workspace; in
    many-workspace mode (bot.oauth) bolt serves the install pages and authorizes each request
    with its workspace's installation, and work after the answer asks for that workspace's
    client."""
    crypto.configure(settings.encryption_keys)
    client = metrics.metered(client or WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url))
    flow = oauth.oauth_flow(settings, session_factory, client, clock=clock) if settings.multi_workspace else None
    app = _App(
        client=client,
        signing_secret=settings.slack_signing_secret,
        # Listeners finish before the HTTP response: no 10 ms ack polling, and a request's
        # work is done when Slack hears back. Follow-ups (DMs, an App Home opened) run after
        # it (RequestContext.after); scheduled messages and App Home refreshes go through the outbox.
        process_before_response=True,
        token_verification_enabled=False,
        # Socket Mode has no signatures to check; HTTP always does.
        request_verification_enabled=not settings.socket_mode,
        oauth_flow=flow,
        authorize=oauth.authorize(flow, client) if flow is not None else None,
        user_facing_authorize_error_message=t(None, "error.not_installed"),
    )
    if flow is None:
        clients: oauth.Clients = oauth.OneWorkspace(client)
    else:
        clients = oauth.clients(settings, session_factory, clock=clock,
                                make=lambda token: metrics.MeteredWebClient(token=token, base_url=settings.slack_api_url))  # fmt: skip

    def notifier_for(team_id: str) -> Notifier:
        """Work after the answer reaches people with its own workspace's token."""
        workspace_client = clients.client_for(team_id)
        if workspace_client is None:
            raise Unreachable(f"touchbase is not installed in {team_id}")
        return SlackNotifier(workspace_client)

    permalinks = Permalinks()  # how each channel's message links are built, once Slack has shown it
    app.later = AfterResponse(session_factory, notifier_for)
    app.signing_secret = None if settings.socket_mode else settings.slack_signing_secret
    app.registry = Registry(app)

    @app.middleware
    def read_request(context: Any, body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:
        try:
            payload = context.get(PAYLOAD) or payloads.parse(body)  # read already by `guard` over HTTP
        except payloads.Unreadable as refusal:
            log.info("refused an unreadable %s payload", _kind(body) or "unknown")
            context[OUTCOME] = "refused"
            return _refusal(_kind(body), t(None, refusal.key))
        now = clock()
        rq = RequestContext(
            session=session_factory(info={CLOCK: now}),
            team_id=payload.team_id,
            user_id=payload.user_id,
            now=now,
            surface=payload.surface,
            # The listener's own client: it carries this workspace's token.
            directory=SlackDirectory(context.client, team_id=payload.team_id, links=permalinks),
            default_tz=settings.tz_default,
        )
        if app.registry.reads_only(payload):
            rq.state["reading"] = begin_reading()
        context[PAYLOAD], context[CONTEXT] = payload, rq
        return next()

    @app.error
    def on_error(error: Exception, context: Any, body: dict[str, Any], response: BoltResponse | None) -> BoltResponse:
        rq: RequestContext | None = context.get(CONTEXT)
        if rq is not None:
            rq.failed = True  # nothing half-saved: the unit of work rolls back
        context[OUTCOME] = "failed"
        log.error("listener failed", exc_info=error)
        apology = _apology(context.get(PAYLOAD) or _kind(body), rq)
        if response is not None:
            response.status, response.body, response.headers = apology.status, apology.body, apology.headers
        return apology

    from bot import handlers

    handlers.register(app.registry, many_workspaces=flow is not None)
    return app


def create_wsgi(app: App, engine: Engine) -> Callable[..., Iterable[bytes]]:
    """Slack's requests go to bolt, after `guard`; `GET /healthz` answers 200 when the database
    answers; `GET /metrics` serves bot.metrics; in many-workspace mode bolt also serves the
    OAuth flow's `GET /slack/install` and `GET /slack/oauth_redirect` (bot.oauth)."""
    slack = SlackRequestHandler(app, path="/slack/events")
    secret = getattr(app, "signing_secret", None)
    verifier = SignatureVerifier(secret) if secret else None
    flow = app.oauth_flow
    oauth_paths = {flow.install_path: "install", flow.redirect_uri_path: "oauth_redirect"} if flow else {}

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == "/healthz":
            ok = ping(engine)
            start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"ok" if ok else b"database unavailable"]
        if path == "/metrics" and environ.get("REQUEST_METHOD") == "GET":
            body, content_type = metrics.exposition(engine)
            start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
            return [body]
        if path in oauth_paths and environ.get("REQUEST_METHOD") == "GET":
            return _oauth_page(slack, oauth_paths[path], environ, start_response)
        if path != "/slack/events" or environ.get("REQUEST_METHOD") != "POST":
            return slack(environ, start_response)  # bolt's 404
        started, cpu_started = time.perf_counter(), time.thread_time()
        read = guard(environ, verifier)
        if not isinstance(read, Read):
            status, body, content_type = read
            with _own_request_id():  # turned away before bolt: unsigned, stale, too large, not JSON
                _record("other", "-", "rejected", time.perf_counter() - started, status=int(status[:3]))
            start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
            return [body]
        try:
            answer = app.dispatch(_bolt_request(read, environ, arrived=(started, cpu_started)))
        except Exception:  # noqa: BLE001 - bolt could not read what `guard` let through: a defect, never a 5xx
            log.error("bolt could not read a request", exc_info=True)
            start_response("400 Bad Request", [("Content-Type", "text/plain"), ("Content-Length", "11")])
            return [b"bad request"]
        response = WsgiHttpResponse(status=answer.status, headers=answer.headers, body=answer.body)
        start_response(response.status, response.get_headers())
        return response.get_body()

    return wsgi


def _oauth_page(slack: SlackRequestHandler, kind: str, environ: dict[str, Any],
                start_response: Callable[..., Any]) -> Iterable[bytes]:  # fmt: skip
    """The install link or Slack's redirect back (bolt's flow), counted and logged; a database
    that does not answer gets a 503 page rather than a traceback."""
    started = time.perf_counter()
    status_line = ["500"]

    def respond(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
        status_line[0] = status
        return start_response(status, headers, *args)

    with _own_request_id():
        try:
            body = slack(environ, respond)
        except Exception:  # noqa: BLE001 - e.g. the state could not be stored
            log.exception("the OAuth %s page failed", kind)
            status_line[0] = "503 Service Unavailable"
            text = t(None, "install.failed.busy").encode()
            start_response(status_line[0], [("Content-Type", "text/plain; charset=utf-8"),
                                            ("Content-Length", str(len(text)))])  # fmt: skip
            body = [text]
        status = int(status_line[0][:3])
        outcome = "ok" if status < 400 else ("failed" if status >= 500 else "refused")
        _record(kind, "-", outcome, time.perf_counter() - started, status=status)
    return body


@dataclass(frozen=True)
class Read:
    """A request `guard` let through: its text, its body as bolt reads it, and its typed payload
    (None for what bolt answers itself: Slack's URL verification and SSL check)."""

    text: str
    body: dict[str, Any]
    payload: payloads.Payload | None


def _bolt_request(read: Read, environ: dict[str, Any], *, arrived: tuple[float, float] | None = None) -> BoltRequest:
    """The request as bolt's WSGI adapter would make it, from the body `guard` read already:
    bolt would read it again (for a modal's submission, its form and JSON, about a third of
    the request's Python calls before this). Its signature is checked by bolt too, on `raw_body`.
    `arrived`: when create_wsgi took it, so that its time and CPU count from there."""
    context: dict[str, Any] = {PAYLOAD: read.payload} if read.payload is not None else {}
    if arrived is not None:
        context[ARRIVED] = arrived
    request = BoltRequest(body=read.body, query=environ.get("QUERY_STRING", ""),
                          headers=WsgiHttpRequest(environ).get_headers(), context=context,
                          mode="socket_mode")  # the one way in for a body read already; then made HTTP's  # fmt: skip
    request.raw_body, request.mode = read.text, "http"
    return request


def guard(environ: dict[str, Any], verifier: SignatureVerifier | None) -> tuple[str, bytes, str] | Read:
    """Refuse a request bolt would choke on, before it does: too large (413), unsigned, badly
    signed, stale or not UTF-8 (401: Slack signs UTF-8 text), not the JSON object it claims
    (400); and a payload that does not fit any kind we handle (bot.payloads) gets the same 200
    refusal `read_request` gives, as bolt's own reading of it (its context, its listener
    matching) would fail on a missing `actions` or a `team` that is not an object. Returns
    (status, body, content type), or what it read, for bolt."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return "400 Bad Request", b"bad content length", "text/plain"
    if length < 0 or length > MAX_BODY:
        return "413 Payload Too Large", b"too large", "text/plain"
    body = environ["wsgi.input"].read(length)
    try:
        text: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if verifier is not None:
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or ""
        signature = environ.get("HTTP_X_SLACK_SIGNATURE") or ""
        readable = text is not None and timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12
        if not readable or not verifier.is_valid(text, timestamp, signature):  # type: ignore[arg-type]
            return "401 Unauthorized", b"invalid request", "text/plain"
    if text is None:
        return "400 Bad Request", b"not UTF-8", "text/plain"
    try:
        parsed = payloads.read_body(text, environ.get("CONTENT_TYPE"))  # exactly as bolt would read it
    except (ValueError, RecursionError):
        return "400 Bad Request", b"not JSON", "text/plain"
    if not isinstance(parsed, dict):
        return "400 Bad Request", b"not a JSON object", "text/plain"
    if parsed.get("type") in ("url_verification", "ssl_check") or "ssl_check" in parsed:
        return Read(text, parsed, None)  # bolt answers these itself
    try:
        payload = payloads.parse(parsed, text=text)
        _bolt_reads(parsed)
    except (payloads.Unreadable, AttributeError, TypeError, KeyError, IndexError, ValueError) as error:
        refusal = error if isinstance(error, payloads.Unreadable) else payloads.Unreadable()
        log.info("refused an unreadable %s payload", _kind(parsed) or "unknown")
        answer = _refusal(_kind(parsed), t(None, refusal.key))
        return "200 OK", answer.body.encode(), answer.headers.get("content-type", ["text/plain"])[0]
    return Read(text, parsed, payload)


def _bolt_reads(body: dict[str, Any]) -> None:
    """What bolt reads from a body before any listener runs (its context, its listeners'
    arguments: `authorizations`, `enterprise`, `view.type`, …): raises where bolt would."""
    build_context(BoltContext(), body)
    for read in (payload_utils.to_options, payload_utils.to_shortcut, payload_utils.to_action, payload_utils.to_view,
                 payload_utils.to_command, payload_utils.to_event, payload_utils.to_message, payload_utils.to_step):
        read(body)
