"""A fake Slack Socket Mode end on localhost, behaving as Slack's does.

`apps.connections.open` on the fake Web API (called with the app-level `xapp-` token) hands
out a one-time `ws://` URL from `FakeSocketMode.open_url()`. Each connection is greeted with
`hello`; then the fake sends envelopes (`slash_commands`, `interactive`, `events_api`) and
records the acks (`{"envelope_id": …, "payload": …}`), on whichever connection they come.

As Slack does:
- an envelope sent while no connection is open waits for the next one;
- an `events_api` envelope not acked when its connection went away is sent again on the
  next connection (`retry_attempt` counts up, `retry_reason: "timeout"`); a command or an
  interaction is not (Slack shows the person an error instead);
- an ack is in time within 3 s (`ACK_WITHIN`) of the envelope being sent; `wait_ack` fails
  on a later one, which Slack would have given up on;
- a connection told `disconnect` (`refresh_requested`) gets no new envelopes;
- with several connections open (one per process of the bot), the envelopes go to each in
  turn.

`drop()` closes the TCP connection without a word (no close frame), as a broken network does.

`SocketSlack` plays the person over it with `SignedSlack`'s vocabulary (`command`, `click`,
`submit`, `event`…): what is posted over HTTP there becomes an envelope here, and the reply
is what the ack carried.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from tests.fakeslack import FakeSlack
from tests.slackclient import Response, SignedSlack, after_the_answer

ACK_WITHIN = 3.0  # seconds: Slack's limit for acknowledging an envelope
APP_ID = "A0000001"


@dataclass
class Ack:
    payload: dict[str, Any] | None
    after: float  # seconds from the envelope's (last) sending to its ack

    @property
    def in_time(self) -> bool:
        return self.after <= ACK_WITHIN  # later, Slack has given up on it already


@dataclass
class Envelope:
    id: str
    type: str  # slash_commands, interactive, events_api
    payload: dict[str, Any]
    accepts_response_payload: bool
    attempts: int = 0  # times sent on a connection
    sent_at: float | None = None
    link: Link | None = None  # the connection it was last sent on
    ack: Ack | None = None

    def message(self) -> dict[str, Any]:
        message = {"envelope_id": self.id, "payload": self.payload, "type": self.type,
                   "accepts_response_payload": self.accepts_response_payload}  # fmt: skip
        if self.type == "events_api":
            message["retry_attempt"] = self.attempts - 1
            message["retry_reason"] = "timeout" if self.attempts > 1 else ""
        return message


@dataclass
class Link:
    """One WebSocket connection from the bot."""

    number: int
    ws: ServerConnection
    open: bool = True
    refreshing: bool = False  # told `disconnect`: nothing new is sent on it
    received: list[dict[str, Any]] = field(default_factory=list)


class FakeSocketMode:
    def __init__(self) -> None:
        self._state = threading.Condition()
        self._tickets = itertools.count(1)
        self.issued: set[str] = set()  # tickets handed out and not yet used
        self.links: list[Link] = []
        self.envelopes: dict[str, Envelope] = {}
        self.refused = 0  # connection attempts with an unknown or used ticket
        self._turns = itertools.count()  # whose turn among the open connections
        self._held = False
        self._deaf = False  # acks are lost on the way (`acks_lost`)
        self._server: Server = serve(
            self._serve, "127.0.0.1", 0, process_request=self._check_ticket, compression=None,
            ping_interval=None,  # no pings of its own: a test's drop must be the only way the link ends
            open_timeout=60,  # a handshake may be held (`held`)
        )  # fmt: skip
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def reset(self) -> None:
        """Forget the past; close what is still open (a test's bot must be gone by now)."""
        for link in self.open_links():
            link.ws.close()
        with self._state:
            self._held = self._deaf = False
            self._state.notify_all()
            self.issued.clear()
            self.links.clear()
            self._turns = itertools.count()
            self.envelopes.clear()
            self.refused = 0

    # --- Slack's side of apps.connections.open ----------------------------------------

    def open_url(self) -> str:
        ticket = f"ticket-{next(self._tickets)}"
        with self._state:
            self.issued.add(ticket)
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket={ticket}&app_id={APP_ID}"

    def _check_ticket(self, ws: ServerConnection, request: Any) -> Any:
        ticket = urllib.parse.parse_qs(urllib.parse.urlparse(request.path).query).get("ticket", [""])[0]
        with self._state:
            self._state.wait_for(lambda: not self._held, 60)
            if ticket in self.issued:
                self.issued.discard(ticket)
                return None
            self.refused += 1
        return ws.respond(401, "unknown or used ticket\n")

    # --- the connection ---------------------------------------------------------------

    def _serve(self, ws: ServerConnection) -> None:
        with self._state:
            link = Link(number=len(self.links) + 1, ws=ws)
            hello = {"type": "hello", "num_connections": len(self.open_links()) + 1,
                     "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 3600},
                     "connection_info": {"app_id": APP_ID}}  # fmt: skip
            ws.send(json.dumps(hello))
            self.links.append(link)
            self._send_waiting(link)
            self._state.notify_all()
        try:
            for raw in ws:
                message = json.loads(raw)
                with self._state:
                    link.received.append(message)
                    if not self._deaf:
                        self._take_ack(message)
                    self._state.notify_all()
        except (ConnectionClosed, OSError, ValueError):
            pass
        finally:
            with self._state:
                link.open = False
                self._state.notify_all()

    def _take_ack(self, message: dict[str, Any]) -> None:
        envelope = self.envelopes.get(str(message.get("envelope_id")))
        if envelope is None or envelope.ack is not None or envelope.sent_at is None:
            return
        payload = message.get("payload")
        envelope.ack = Ack(payload if isinstance(payload, dict) else None, time.monotonic() - envelope.sent_at)

    def _send_on(self, link: Link, envelope: Envelope) -> None:
        envelope.attempts += 1
        envelope.sent_at = time.monotonic()
        envelope.link = link
        try:
            link.ws.send(json.dumps(envelope.message()))
        except (ConnectionClosed, OSError):
            pass  # gone meanwhile: it waits, or is retried, like any other

    def _send_waiting(self, link: Link) -> None:
        """On a new connection: what waited for one, and the events whose ack never came."""
        for envelope in self.envelopes.values():
            never_sent = envelope.attempts == 0
            lost_event = (
                envelope.type == "events_api" and envelope.ack is None
                and envelope.link is not None and not envelope.link.open
            )  # fmt: skip
            if never_sent or lost_event:
                self._send_on(link, envelope)

    def open_links(self) -> list[Link]:
        return [link for link in self.links if link.open]

    def _taking(self) -> list[Link]:
        """The connections that take envelopes: open, and not told to move."""
        return [link for link in self.links if link.open and not link.refreshing]

    def _live(self) -> Link | None:
        """The newest connection that takes envelopes."""
        live = self._taking()
        return live[-1] if live else None

    def _next(self) -> Link | None:
        """The connection the next envelope goes to: each that takes envelopes in turn."""
        live = self._taking()
        return live[next(self._turns) % len(live)] if live else None

    def live_links(self) -> list[Link]:
        with self._state:
            return self._taking()

    # --- what a test does -------------------------------------------------------------

    def send(self, type_: str, payload: dict[str, Any], *, accepts_response_payload: bool) -> Envelope:
        envelope = Envelope(str(uuid.uuid4()), type_, payload, accepts_response_payload)
        with self._state:
            self.envelopes[envelope.id] = envelope
            if (link := self._next()) is not None:
                self._send_on(link, envelope)
        return envelope

    def disconnect(self, reason: str = "refresh_requested") -> Link:
        """Ask the bot to move to a new connection, as Slack does every few hours."""
        with self._state:
            link = self._live()
            assert link is not None, "no connection to disconnect"
            link.refreshing = True
            link.ws.send(json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}))
        return link

    def drop(self, link: Link | None = None) -> Link:
        """Close the TCP connection (the newest, unless `link`) without a close frame."""
        with self._state:
            link = link or self._live()
            assert link is not None, "no connection to drop"
        link.ws.socket.shutdown(socket.SHUT_RDWR)
        self.wait_for(lambda: not link.open, "the dropped connection to end")
        return link

    @contextmanager
    def held(self) -> Iterator[None]:
        """New connections wait, their handshake unanswered, until the block ends: envelopes
        sent meanwhile wait for the connection, as when Slack is slow to take it."""
        with self._state:
            self._held = True
        try:
            yield
        finally:
            with self._state:
                self._held = False
                self._state.notify_all()

    @contextmanager
    def acks_lost(self) -> Iterator[None]:
        """Acks sent inside never reach Slack (they are in `link.received` all the same)."""
        self._deaf = True
        try:
            yield
        finally:
            self._deaf = False

    def wait_for(self, condition: Any, what: str, timeout: float = 60.0) -> None:
        with self._state:
            assert self._state.wait_for(condition, timeout), f"waited {timeout:.0f} s for {what}"

    def wait_connected(self, *, after: int = 0, timeout: float = 60.0) -> Link:
        """The open connection (greeted, not being refreshed) numbered above `after`."""
        self.wait_for(lambda: (link := self._live()) is not None and link.number > after,
                      f"a connection after #{after}", timeout)  # fmt: skip
        link = self._live()
        assert link is not None
        return link

    def wait_live(self, count: int, timeout: float = 60.0) -> list[Link]:
        """Wait for `count` connections that take envelopes, and return them."""
        self.wait_for(lambda: len(self._taking()) >= count, f"{count} open connections", timeout)
        return self.live_links()

    def wait_ack(self, envelope: Envelope, timeout: float = 30.0) -> Ack:
        """The envelope's ack; fails unless it came within 3 s of sending, as Slack requires."""
        self.wait_for(lambda: envelope.ack is not None, f"the ack of {envelope.type} {envelope.id}", timeout)
        ack = envelope.ack
        assert ack is not None and ack.in_time, f"{envelope.type} acked after {ack.after:.1f} s: Slack had given up"
        return ack


class SocketSlack(SignedSlack):
    """`SignedSlack`'s requests, sent as Socket Mode envelopes; the reply is the ack's payload."""

    def __init__(self, sockets: FakeSocketMode, fake: FakeSlack) -> None:
        super().__init__("http://unused", "unused", fake)
        self.sockets = sockets
        self._unanswered: list[Envelope] | None = None

    def post(self, body: bytes, content_type: str, **_: Any) -> Response:
        envelope = self.envelope(body, content_type)
        if self._unanswered is not None:
            self._unanswered.append(envelope)
            return Response(0, "")
        return self.answer(envelope)

    @contextmanager
    def unanswered(self) -> Iterator[list[Envelope]]:
        """Requests made inside are sent without waiting for their acks; `answer` reads them."""
        sent: list[Envelope] = []
        self._unanswered = sent
        try:
            yield sent
        finally:
            self._unanswered = None

    def answer(self, envelope: Envelope) -> Response:
        """The reply a person sees: the ack's payload, where the envelope allows one."""
        try:
            ack = self.sockets.wait_ack(envelope)
        finally:
            after_the_answer()  # what the bot does after answering (a DM, the App Home) is done too
        payload = ack.payload if envelope.accepts_response_payload else None  # Slack ignores it otherwise
        return Response(200, json.dumps(payload) if payload else "")

    def envelope(self, body: bytes, content_type: str) -> Envelope:
        """Send what SignedSlack would post, as Slack puts it in an envelope."""
        if content_type == "application/json":
            return self.sockets.send("events_api", json.loads(body), accepts_response_payload=False)
        fields = dict(urllib.parse.parse_qsl(body.decode()))
        if "payload" not in fields:
            return self.sockets.send("slash_commands", fields, accepts_response_payload=True)
        payload = json.loads(fields["payload"])
        accepts = payload.get("type") in ("view_submission", "block_suggestion")
        return self.sockets.send("interactive", payload, accepts_response_payload=accepts)
