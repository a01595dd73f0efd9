"""Socket Mode: Slack's requests come over a WebSocket the bot opens itself, so a bot without a
public address (a laptop, a box behind NAT) can serve a team.

`SocketModeServer` is what `serve` runs with `SLACK_APP_TOKEN`: the connection, and on `PORT`
a small HTTP server for `GET /healthz` (200 when the database answers and the connection is
open, else 503 with the reason) and `GET /metrics` (Prometheus text), so a process manager or
an orchestrator can tell it is alive. `bot.server.serve_socket_mode` adds the scheduler and
the stop on SIGTERM.

The connection is slack_sdk's websocket-client based client, not its built-in one: the
built-in client, when the server closes the TCP connection without a close frame, spins a
whole core reading nothing and reports itself connected for about a minute before it
reconnects, and it reads nothing on the new connection for up to 3 s after a
`refresh_requested` (longer than Slack waits for an ack). websocket-client notices at once.
Both reconnect through `apps.connections.open` with the app-level token.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import Gauge
from slack_bolt import App
from slack_bolt.adapter.socket_mode.websocket_client import SocketModeHandler
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot import later, metrics
from bot.config import SettingsError
from bot.storage.db import ping

log = logging.getLogger(__name__)

CONNECTED = Gauge("touchbase_socket_mode_connected", "1 while the Socket Mode connection to Slack is open",
                  registry=metrics.REGISTRY)  # fmt: skip


def status_wsgi(engine: Engine, connected: Callable[[], bool]) -> Callable[..., Iterable[bytes]]:
    """`GET /healthz` and `GET /metrics`; nothing else is served in Socket Mode."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == "/healthz":
            checks = ((ping(engine), "database unavailable"), (connected(), "socket mode connection closed"))
            problems = [reason for ok, reason in checks if not ok]
            start_response("503 Service Unavailable" if problems else "200 OK", [("Content-Type", "text/plain")])
            return ["; ".join(problems).encode() if problems else b"ok"]
        if path == "/metrics":  # the same as over HTTP (bot.metrics), with the connection's state
            body, content_type = metrics.exposition(engine)
            start_response("200 OK", [("Content-Type", content_type)])
            return [body]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return wsgi


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass  # a probe every few seconds is not news


class SocketModeServer:
    """The Socket Mode connection for `app`, and /healthz and /metrics on `port`."""

    def __init__(self, app: App, engine: Engine, app_token: str, *, port: int, host: str = "0.0.0.0") -> None:
        self.handler = SocketModeHandler(app, app_token)
        client = self.handler.client
        # Open means the handshake is done and the connection not closed since: the client's
        # own is_connected() is already true while a handshake is still under way.
        self._open: set[Any] = set()
        self._change = threading.Condition()
        client.on_open_listeners.append(lambda ws: self._note(self._open.add, ws))
        client.on_close_listeners.append(lambda ws: self._note(self._open.discard, ws))
        self.http = make_server(host, port, status_wsgi(engine, self.connected),
                                server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)  # fmt: skip
        self._http = threading.Thread(target=self.http.serve_forever, name="status-http", daemon=True)

    def _note(self, change: Callable[[Any], None], ws: Any) -> None:
        with self._change:
            change(ws)
            self._change.notify_all()

    @property
    def port(self) -> int:
        return int(self.http.server_address[1])

    def connected(self) -> bool:
        session = self.handler.client.current_session
        return session is not None and session in self._open and session.sock is not None

    def wait_connected(self, timeout: float) -> bool:
        with self._change:
            return self._change.wait_for(self.connected, timeout)

    def start(self) -> SocketModeServer:
        """Serve /healthz (503 until connected), then connect; a refused app token stops here."""
        self._http.start()
        CONNECTED.set_function(lambda: 1.0 if self.connected() else 0.0)
        client = self.handler.client
        try:
            # The client's watchdog, started by its first connect(), looks at once and, finding
            # the first connection not open yet, would open a second while the first opens
            # unwatched. Holding the client's own connect lock until the first is open (or
            # for less than the 5 s the watchdog waits for it) makes the watchdog find it.
            with client.connect_operation_lock:
                self.handler.connect()
                self.wait_connected(timeout=4)
        except SlackApiError as err:
            self.stop()
            error = err.response.get("error") if err.response is not None else err
            raise SettingsError(f"setting SLACK_APP_TOKEN was refused by Slack: {error}") from None
        log.info("socket mode: %s; /healthz and /metrics on port %s",
                 "connected" if self.connected() else "connecting", self.port)  # fmt: skip
        return self

    def stop(self) -> None:
        """Take no new envelope, let those begun finish and be acked, then close the connection
        and the HTTP server. Envelopes not begun stay unacked: Slack sends events again."""
        client = self.handler.client
        client.auto_reconnect_enabled = False
        client.closed = True  # the client's message loop ends after the message in hand…
        client.message_processor.shutdown()
        client.message_workers.shutdown(wait=True)  # …and the listeners running finish
        later.wait_idle()
        session = client.current_session
        if session is not None and (ws := session.sock) is not None and session in self._open:
            # The close handshake, finished by the connection's own reading thread: closing
            # from this thread (handler.close) leaves that one waiting up to 10 s on a closed
            # socket. send_close() marks the connection closed, so that thread's teardown
            # skips closing the socket itself: this one does, once the handshake is done.
            session.keep_running = False
            ws.send_close()
            with self._change:
                self._change.wait_for(lambda: session not in self._open, timeout=5)
            ws.shutdown()
        self.handler.close()
        self.http.shutdown()
        self.http.server_close()
        log.info("socket mode: closed")
