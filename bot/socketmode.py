"""Socket Mode: Slack's requests come over a WebSocket the bot opens itself, so a bot without a
public address (a laptop, a box behind NAT) can serve a team.

`serve` with `SLACK_APP_TOKEN` opens one connection per process, `WEB_CONCURRENCY` of them (2
by default; Slack allows an app 10 and spreads the envelopes over those open), so the requests
are answered on as many cores as over HTTP, where gunicorn runs that many workers.

- `Connection`: one connection, opened with the app-level token, closed gracefully.
- `StatusServer`: on `PORT`, `GET /healthz` (200 when the database answers and every
  connection is open, else 503 with the reason) and `GET /metrics` (Prometheus text, with
  `touchbase_socket_mode_connected`, the connections open), so a process manager or an
  orchestrator can tell it is alive.
- `SocketModeServer`: both in this process (`WEB_CONCURRENCY=1`).
- `ConnectionProcesses`: the status server here, and each connection in a process of its own
  (spawned, not forked: no lock held by a thread of this one is copied into it), started again
  if it dies. `bot.server` adds the scheduler and the stop on SIGTERM to either.

The connection is slack_sdk's websocket-client based client, not its built-in one: the
built-in client, when the server closes the TCP connection without a close frame, spins a
whole core reading nothing and reports itself connected for about a minute before it
reconnects, and it reads nothing on the new connection for up to 3 s after a
`refresh_requested` (longer than Slack waits for an ack). websocket-client notices at once.
Both reconnect through `apps.connections.open` with the app-level token.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import wait as ready
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from slack_bolt import App
from slack_bolt.adapter.socket_mode.websocket_client import SocketModeHandler
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot import later, metrics
from bot.clock import elapsed
from bot.config import SettingsError
from bot.storage.db import ping

log = logging.getLogger(__name__)

Counts = Callable[[], tuple[int, int]]  # the connections open, and how many there should be
START_SECONDS = 60.0  # how long the connection processes may take to build the app and connect
# How long a stopping connection process may take: longer than its own close (the listeners
# running, then the work they left for after the answers, up to 30 s, the close handshake, 5 s,
# and bot.later's shutdown, 10 s), so it is killed only when stuck.
STOP_SECONDS = 60.0
RETRY_SECONDS = (1.0, 30.0)  # after a failure that may pass: the first wait, then doubling to this
# apps.connections.open's errors that say the app token itself will not do: trying again would not help.
REFUSALS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
                      "not_allowed_token_type", "missing_scope", "no_permission"})  # fmt: skip


@contextmanager
def ctrl_c_blocked() -> Iterator[None]:
    """Processes started inside begin with Ctrl-C blocked (the signal mask is kept across fork
    and exec): a terminal sends Ctrl-C to its whole process group, and a child still importing
    would print a KeyboardInterrupt traceback. The process that starts them stops them with
    SIGTERM instead. Only this thread blocks it meanwhile: a Ctrl-C for this process is still
    taken by another of its threads, and its handler runs as ever."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class Refused(SettingsError):
    """Slack did not open a connection with the app token; `error` is its reason."""

    def __init__(self, error: str) -> None:
        super().__init__(f"setting SLACK_APP_TOKEN was refused by Slack: {error}")
        self.error = error


class _Connections:
    """`touchbase_socket_mode_connected`, read at the scrape."""

    def __init__(self, counts: Counts) -> None:
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("touchbase_socket_mode_connected",
                                "Socket Mode connections to Slack open now (one per process; WEB_CONCURRENCY of them)",
                                value=self._counts()[0])  # fmt: skip


def status_wsgi(engine: Engine, counts: Counts) -> Callable[..., Iterable[bytes]]:
    """`GET /healthz` and `GET /metrics`; nothing else is served in Socket Mode."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == "/healthz":
            problems = [] if ping(engine) else ["database unavailable"]
            open_, wanted = counts()
            if open_ < wanted:
                closed = wanted - open_
                problems.append("socket mode connection closed" if wanted == 1 else
                                f"{closed} of {wanted} socket mode connections closed")  # fmt: skip
            start_response("503 Service Unavailable" if problems else "200 OK", [("Content-Type", "text/plain")])
            return ["; ".join(problems).encode() if problems else b"ok"]
        if path == "/metrics":  # the same as over HTTP (bot.metrics), with the connections' state
            body, content_type = metrics.exposition(engine, more=[_Connections(counts)])
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


class StatusServer:
    """/healthz and /metrics on `port`, in a thread of this process."""

    def __init__(self, engine: Engine, counts: Counts, *, port: int, host: str) -> None:
        self.http = make_server(host, port, status_wsgi(engine, counts),
                                server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)  # fmt: skip
        self._thread = threading.Thread(target=self.http.serve_forever, name="status-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self.http.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()


class Connection:
    """One Socket Mode connection for `app`, whose envelopes are handled on `threads` threads."""

    def __init__(self, app: App, app_token: str, *, threads: int) -> None:
        self.handler = SocketModeHandler(app, app_token, concurrency=threads)
        client = self.handler.client
        # Open means the handshake is done and the connection not closed since: the client's
        # own is_connected() is already true while a handshake is still under way.
        self._open: set[Any] = set()
        self._change = threading.Condition()
        client.on_open_listeners.append(lambda ws: self._note(self._open.add, ws))
        client.on_close_listeners.append(lambda ws: self._note(self._open.discard, ws))

    def _note(self, change: Callable[[Any], None], ws: Any) -> None:
        with self._change:
            change(ws)
            self._change.notify_all()

    def connected(self) -> bool:
        session = self.handler.client.current_session
        return session is not None and session in self._open and session.sock is not None

    def wait_connected(self, timeout: float) -> bool:
        with self._change:
            return self._change.wait_for(self.connected, timeout)

    def open(self) -> None:
        """Connect; raises Refused when Slack does not (its `error` says whether for good)."""
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
            self.handler.close()
            raise Refused(str(err.response.get("error") if err.response is not None else err)) from None

    def close(self) -> None:
        """Take no new envelope, let those begun finish and be acked, then close. Envelopes not
        begun stay unacked: Slack sends events again."""
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


def connect(app: App, app_token: str, pause: Callable[[float], bool], *, threads: int) -> Connection | None:
    """A connection for `app`, once Slack opens one. A refused token raises Refused; a failure
    that may pass (an error on Slack's side, the network) is tried again after `pause(seconds)`,
    the wait doubling each time; None when `pause` says to stop instead."""
    wait = RETRY_SECONDS[0]
    while True:
        connection = Connection(app, app_token, threads=threads)
        try:
            connection.open()
            return connection
        except Refused as err:
            if err.error in REFUSALS:
                raise
            problem = f"Slack answered {err.error}"
        except Exception as err:  # noqa: BLE001 - the network, or Slack, not answering: tried again
            problem = f"{type(err).__name__}: {err}"
            connection.handler.close()
        log.warning("socket mode: no connection (%s); trying again in %.0f s", problem, wait)
        if pause(wait):
            return None
        wait = min(wait * 2, RETRY_SECONDS[1])


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return False


class SocketModeServer:
    """One connection for `app`, and /healthz and /metrics on `port`, in this process."""

    def __init__(self, app: App, engine: Engine, app_token: str, *, threads: int, port: int,
                 host: str = "0.0.0.0") -> None:  # fmt: skip
        self.app, self.app_token, self.threads = app, app_token, threads
        self.connection: Connection | None = None  # once `start` has one
        self.status = StatusServer(engine, lambda: (int(self.connected()), 1), port=port, host=host)

    @property
    def port(self) -> int:
        return self.status.port

    def connected(self) -> bool:
        return self.connection is not None and self.connection.connected()

    def wait_connected(self, timeout: float) -> bool:
        return self.connection is not None and self.connection.wait_connected(timeout)

    def start(self) -> SocketModeServer:
        """Serve /healthz (503 until connected), then connect (trying again while Slack fails to
        for a reason that may pass); a refused app token stops here."""
        self.status.start()
        try:
            connection = connect(self.app, self.app_token, _sleep, threads=self.threads)
        except BaseException:
            self.status.stop()
            raise
        assert connection is not None  # _sleep never says to stop: a signal raises instead
        self.connection = connection
        log.info("socket mode: %s; /healthz and /metrics on port %s",
                 "connected" if self.connected() else "connecting", self.port)  # fmt: skip
        return self

    def stop(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self.status.stop()
        log.info("socket mode: closed")


def serve_connection(app: App, app_token: str, slot: int, opened: Any, reports: Any,
                     stopping: Callable[[], bool], *, threads: int) -> None:  # fmt: skip
    """In a connection process: open the connection, say so (or that the token is refused) on
    `reports`, keep `opened[slot]` true while it is open, and close it gracefully once
    `stopping()`, or when the process that started this one is gone. A failure that may pass (a
    rate limit, Slack or the network down) is tried again, waiting longer each time."""
    parent = multiprocessing.parent_process()

    def should_stop() -> bool:
        if stopping():
            return True
        if parent is not None and not parent.is_alive():
            log.warning("socket mode: the process that started this one is gone; closing")
            return True
        return False

    def pause(seconds: float) -> bool:
        """Sleep for `seconds` unless told to stop (True) meanwhile. Short sleeps, not a wait on
        an Event: setting one from a signal handler can deadlock with the wait it interrupts."""
        end = elapsed() + seconds
        while elapsed() < end:
            if should_stop():
                return True
            time.sleep(0.2)
        return should_stop()

    if should_stop():  # told during start-up: no connection to open, only to close again
        return
    try:
        connection = connect(app, app_token, pause, threads=threads)
    except Refused as err:
        reports.put((slot, str(err)))
        return
    if connection is None:
        return
    opened[slot] = connection.connected()
    reports.put((slot, None))
    try:
        while not pause(0.2):
            opened[slot] = connection.connected()
    finally:
        opened[slot] = False
        connection.close()


class ConnectionProcesses:
    """`count` processes running `target(*args, slot, opened, reports)` (which ends in
    `serve_connection`), and /healthz and /metrics on `port` in this one. A process that dies
    is started again by `watch()`; `stop()` sends each SIGTERM and waits for it."""

    def __init__(self, target: Callable[..., None], args: tuple[Any, ...], count: int, engine: Engine, *,
                 port: int, host: str = "0.0.0.0") -> None:  # fmt: skip
        self._context = multiprocessing.get_context("spawn")
        self._target, self._args, self.count = target, args, count
        self.opened = self._context.RawArray("b", count)  # each process writes its own slot only
        self._reports = self._context.Queue()
        self._processes: list[Any] = [None] * count
        self._next_start = [0.0] * count  # when a gone process's slot may be started again (`watch`)
        self._started = [0.0] * count
        self._backoff = [0.0] * count
        self._stopped = False
        self.status = StatusServer(engine, self.counts, port=port, host=host)

    @property
    def port(self) -> int:
        return self.status.port

    def counts(self) -> tuple[int, int]:
        """The connections open (of a process still alive: one killed cannot clear its slot).
        Read in the HTTP server's threads: whether a process ended is read from its sentinel,
        which does not reap it (only the main thread does, in `watch` and `stop`)."""
        flagged = [process for slot, process in enumerate(self._processes) if process is not None and self.opened[slot]]
        gone = ready([process.sentinel for process in flagged], 0) if flagged else []
        return len(flagged) - len(gone), self.count

    def _spawn(self, slot: int) -> None:
        """Start slot's process, with Ctrl-C blocked (`ctrl_c_blocked`). Daemonic: should this process end without `stop()`, multiprocessing's exit sends each
        SIGTERM (a graceful stop) rather than waiting for it."""
        self.opened[slot] = False
        process = self._context.Process(target=self._target, args=(*self._args, slot, self.opened, self._reports),
                                        name=f"socket-mode-{slot + 1}", daemon=True)  # fmt: skip
        try:
            with ctrl_c_blocked():
                process.start()
        finally:
            self._processes[slot] = process if process.pid is not None else None
            self._started[slot] = elapsed()

    def start(self, until: Callable[[], bool] = lambda: False) -> bool:
        """Serve /healthz, start the processes and wait until each has connected or is
        connecting (False if `until()` came true first); a refused app token stops them all
        and raises SettingsError."""
        self.status.start()
        for slot in range(self.count):
            self._spawn(slot)
        waiting, deadline = set(range(self.count)), elapsed() + START_SECONDS
        try:
            while waiting and elapsed() < deadline:
                if until():
                    return False
                try:
                    slot, error = self._reports.get(timeout=0.1)
                except queue.Empty:
                    if until():  # a stop (SIGTERM to the whole group) may have ended some already
                        return False
                    ended = [slot for slot in waiting if self._processes[slot].exitcode is not None]
                    # One that had connected (its flag is set before its report, which a kill can
                    # beat) died after its start: `watch` starts another.
                    waiting.difference_update(slot for slot in ended if self.opened[slot])
                    if gone := [slot for slot in ended if not self.opened[slot]]:
                        if until():  # ended by the same stop, noted meanwhile
                            return False
                        raise SettingsError(f"socket mode: connection process {gone[0] + 1} exited "
                                            "before connecting (its log says why)") from None  # fmt: skip
                    continue
                if error is not None:
                    raise SettingsError(error)
                waiting.discard(slot)
        except BaseException:
            self.stop()
            raise
        log.info("socket mode: %d connection processes, %d connected; /healthz and /metrics on port %s",
                 self.count, self.counts()[0], self.port)  # fmt: skip
        return True

    def watch(self) -> None:
        """Start again a process that died; raise SettingsError if one was refused its token."""
        while True:
            try:
                slot, error = self._reports.get_nowait()
            except queue.Empty:
                break
            if error is not None:
                raise SettingsError(error)
        for slot, process in enumerate(self._processes):
            if process is None or process.exitcode is None or self._stopped:
                continue
            if self._next_start[slot] == 0.0:  # just found gone: when to start another (`_restart_at`)
                log.warning("socket mode: connection process %d (pid %s) exited with %s; starting another",
                            slot + 1, process.pid, process.exitcode)  # fmt: skip
                metrics.process_gone(process.pid)
                self._next_start[slot] = self._restart_at(slot)
            if elapsed() >= self._next_start[slot]:
                self._spawn(slot)
                self._next_start[slot] = 0.0

    def _restart_at(self, slot: int) -> float:
        """When to start slot's process again: at once if it had run a while, else after a wait
        that doubles with each quick failure (up to RETRY_SECONDS[1]): no crash loop on two cores."""
        lived = elapsed() - self._started[slot]
        quick = max(RETRY_SECONDS[0], min(2 * self._backoff[slot], RETRY_SECONDS[1]))
        self._backoff[slot] = 0.0 if lived > 60 else quick
        return elapsed() + self._backoff[slot]

    def kill(self) -> None:
        """End every process at once (a second Ctrl-C)."""
        for process in self._processes:
            if process is not None and process.exitcode is None:
                process.kill()

    def stop(self) -> None:
        """SIGTERM to each process (it closes its connection once its envelopes are acked),
        then wait for them, killing one that takes longer than STOP_SECONDS."""
        if self._stopped:
            return
        self._stopped = True
        running = [process for process in self._processes if process is not None]
        for process in running:
            if process.exitcode is None:
                process.terminate()
        deadline = elapsed() + STOP_SECONDS
        for process in running:
            process.join(max(0.0, deadline - elapsed()))
            if process.exitcode is None:
                log.warning("socket mode: connection process %s did not stop in %ss; killed", process.pid, STOP_SECONDS)
                process.kill()
                process.join()
            metrics.process_gone(process.pid)
        self.status.stop()
        log.info("socket mode: closed")
