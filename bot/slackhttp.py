"""Slack's Web API over kept-alive connections.

slack_sdk's `WebClient` sends each call through `urllib`, which opens a connection for it (to
slack.com a new TLS session as well) and closes it after the answer. `KeptAliveWebClient`
sends the same request through a pool of connections per process and origin (urllib3's), kept
open between calls: the DM after a touch, an App Home and the sender's messages reuse them,
whichever workspace's token they carry. (A file's upload, a report's chart, still goes through
urllib: slack_sdk sends it to the upload address by another path.)

The rest stays slack_sdk's: how a request is built, its retry handlers, how an answer is read.
What a call raises is what urllib raised: an answer outside 2xx is urllib's `HTTPError`; a
connection that could not be made (refused, timed out, its TLS refused) is its `URLError`; once
the request is sent, a broken connection or an answer that never came raises as http.client
raised it (`RemoteDisconnected`, `IncompleteRead`, `TimeoutError`), so slack_sdk's retry
handlers send a request again exactly when they did over urllib. The pool never sends one
again itself. A client with a proxy goes through urllib, as before.

slack_sdk's client decides whether to build a debug line (a call's whole body, and its answer)
from its logger's own level, `logger.level <= logging.DEBUG`, and that level is 0 ("ask the
parent") unless someone sets it. So every call built a line that logging then dropped: for the
sender's digests, about 0.2 ms of its CPU a post (docs/PERFORMANCE.md, section 87).
`KeptAliveWebClient`'s logger answers `level` with the level it logs at (`Leveled`), so the line
is built only when it is logged. (slack_sdk's "A retry handler found" line, logged at INFO behind
the same test, now shows only at DEBUG, as slack_sdk meant; its "Going to retry" line still shows.)

A kept connection can go stale: the server closes it (urllib3 sees that before reusing it),
or a NAT on the way forgets it without telling either end (a request on it would wait out its
timeout). So a connection idle for longer than `MAX_IDLE` is closed and opened afresh.
"""

from __future__ import annotations

import http.client
import io
import logging
import os
import threading
import time
from ssl import SSLContext
from typing import Any, cast
from urllib.error import HTTPError, URLError
from urllib.request import Request

import urllib3
from slack_sdk import WebClient

# Threads of one process that call Slack at once: a web worker's request threads (GUNICORN_THREADS,
# 4 unless raised) and 4 after-response threads, or the sender's 16 lanes. A connection beyond
# this many is closed after its call instead of kept (urllib3 logs a warning when that happens).
POOL_SIZE = 64
# Seconds a connection may sit idle and still be used: under the idle timeouts of load
# balancers and NATs (60 s and more).
MAX_IDLE = 30.0

# No retries: a connection that cannot be made fails at once, as urllib's did.
_RETRIES = urllib3.Retry(total=0, redirect=False, raise_on_status=False)


class _Idle:
    """A pool's connections, closed before reuse once idle for longer than `MAX_IDLE`."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        idle_since = getattr(conn, "touchbase_idle_since", None)
        if idle_since is not None and time.monotonic() - idle_since > MAX_IDLE:
            conn.close()  # the pool opens it again for the request
        return conn

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:
            conn.touchbase_idle_since = time.monotonic()
        super()._put_conn(conn)  # type: ignore[misc]


class _HTTPPool(_Idle, urllib3.HTTPConnectionPool):
    pass


class _HTTPSPool(_Idle, urllib3.HTTPSConnectionPool):
    pass


_pools: dict[tuple[str, int], urllib3.HTTPConnectionPool] = {}
_pools_lock = threading.Lock()


def _forget_pools() -> None:
    """A process forked after calling Slack must not share its parent's sockets (they would
    read each other's answers): it opens its own."""
    global _pools_lock
    _pools.clear()
    _pools_lock = threading.Lock()  # another thread may have held it at the fork


os.register_at_fork(after_in_child=_forget_pools)


def _pool(origin: str, ssl: SSLContext | None) -> urllib3.HTTPConnectionPool:
    """The process's connections to `origin` (scheme, host and port) with this SSL context
    (None: the system's certificates). A pool keeps its context alive, so its id names it
    while the pool is kept."""
    key = (origin, id(ssl))
    pool = _pools.get(key)
    if pool is None:
        with _pools_lock:
            pool = _pools.get(key)
            if pool is None:
                url = urllib3.util.parse_url(origin)
                if url.scheme == "https":
                    pool = _HTTPSPool(url.host, url.port, maxsize=POOL_SIZE, retries=_RETRIES, ssl_context=ssl)
                else:
                    pool = _HTTPPool(url.host, url.port, maxsize=POOL_SIZE, retries=_RETRIES)
                _pools[key] = pool
    return pool


class Leveled:
    """A logger whose `level` is the level it logs at (its own, or its parents' when unset),
    for the libraries that test `logger.level` before they build a debug line; the rest is the
    logger's."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    @property
    def level(self) -> int:
        return self.logger.getEffectiveLevel()

    def __getattr__(self, name: str) -> Any:
        if name == "logger" or name.startswith("__"):  # not set yet (a copy being made), or copy's and pickle's own
            raise AttributeError(name)
        return getattr(self.logger, name)


def leveled(logger: logging.Logger | None) -> logging.Logger:
    """`logger` (slack_sdk's client's when None) as a `Leveled` one (once)."""
    if isinstance(logger, Leveled):
        return cast(logging.Logger, logger)
    return cast(logging.Logger, Leveled(logger or logging.getLogger("slack_sdk.web.base_client")))


class KeptAliveWebClient(WebClient):
    def __init__(self, *args: Any, logger: logging.Logger | None = None, **kwargs: Any) -> None:
        super().__init__(*args, logger=leveled(logger), **kwargs)

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        scheme, _, rest = url.partition("://")
        if self.proxy is not None or scheme.lower() not in ("http", "https"):
            return super()._perform_urllib_http_request_internal(url, req)
        host, slash, path = rest.partition("/")
        try:
            answer = _pool(f"{scheme}://{host}", self.ssl).urlopen(
                req.get_method(), slash + path, body=req.data, timeout=self.timeout, redirect=False,
                headers={name.title(): value for name, value in req.header_items()},
            )  # fmt: skip
        except urllib3.exceptions.MaxRetryError as exc:  # no connection: refused, timed out, TLS refused
            raise URLError(exc.reason or exc) from exc
        except urllib3.exceptions.ReadTimeoutError as exc:  # sent, and no answer in time
            raise TimeoutError(str(exc)) from exc
        except urllib3.exceptions.ProtocolError as exc:  # sent, and the connection broke
            cause = exc.args[1] if len(exc.args) > 1 else None
            if isinstance(cause, (OSError, http.client.HTTPException)):
                raise cause from exc
            raise URLError(exc) from exc
        except urllib3.exceptions.HTTPError as exc:  # anything else the pool may raise
            raise URLError(exc) from exc
        if not 200 <= answer.status < 300:
            headers = http.client.HTTPMessage()
            for name, value in answer.headers.items():
                headers[name] = value
            raise HTTPError(url, answer.status, answer.reason or "", headers, io.BytesIO(answer.data))
        content_type, charset = _content_type(answer.headers.get("Content-Type", ""))
        if content_type == "application/gzip":  # admin.analytics.getFile
            return {"status": answer.status, "headers": answer.headers, "body": answer.data}
        return {"status": answer.status, "headers": answer.headers, "body": answer.data.decode(charset)}


def _content_type(header: str) -> tuple[str, str]:
    """A Content-Type's media type and charset (utf-8 unless it names one)."""
    media, *params = header.split(";")
    charset = "utf-8"
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    return media.strip().lower(), charset
