"""Slack's Web API over kept-alive connections.

slack_sdk's `WebClient` sends each call through `urllib`, which opens a connection for it (to
slack.com a new TLS session as well) and closes it after the answer. `KeptAliveWebClient`
sends the same request through a pool of connections per process (urllib3's), kept open
between calls: the DM after a touch, an App Home and the sender's digests reuse them, whichever
workspace's token they carry.

The rest stays slack_sdk's: how a request is built, its retry handlers, how an answer is read.
An answer outside 2xx is raised as urllib's `HTTPError` and a failed connection as its
`URLError`, as urllib raises them. A request is sent again here only when its connection could
not be made: once a request may have reached Slack, whether to send it again is the caller's
call (the sender's retries, slack_sdk's retry handlers), as it was over urllib. A client with a
proxy goes through urllib, as before.
"""

from __future__ import annotations

import http.client
import io
import os
import threading
from ssl import SSLContext
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request

import urllib3
from slack_sdk import WebClient

# Threads of one process that call Slack at once: a web worker's 8 request threads and 4
# after-response threads, or the sender's 16 lanes. A connection beyond this many is closed
# after its call instead of kept.
POOL_SIZE = 32

_RETRIES = urllib3.Retry(total=2, connect=2, read=0, status=0, other=0, redirect=False, raise_on_status=False)

_pools: dict[tuple[str, int], urllib3.HTTPConnectionPool] = {}
_pools_lock = threading.Lock()


def _forget_pools() -> None:
    """A forked child must not share its parent's sockets: it opens its own."""
    _pools.clear()


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
                options: dict[str, Any] = {"ssl_context": ssl} if origin.startswith("https:") else {}
                pool = _pools[key] = urllib3.connection_from_url(
                    origin, maxsize=POOL_SIZE, retries=_RETRIES, **options
                )  # fmt: skip
    return pool


class KeptAliveWebClient(WebClient):
    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        scheme, _, rest = url.partition("://")
        if self.proxy is not None or scheme.lower() not in ("http", "https"):
            return super()._perform_urllib_http_request_internal(url, req)
        host, slash, path = rest.partition("/")
        try:
            answer = _pool(f"{scheme}://{host}", self.ssl).urlopen(
                req.get_method(), slash + path, body=req.data, headers=dict(req.header_items()),
                timeout=self.timeout, redirect=False,
            )  # fmt: skip
        except urllib3.exceptions.MaxRetryError as exc:
            raise URLError(exc.reason or exc) from exc
        except urllib3.exceptions.HTTPError as exc:  # reset, timed out, a broken answer
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
