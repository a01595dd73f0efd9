"""A fake Slack Web API at Slack's pace, for the delivery benchmark (bench/delivery.py):

    python -m bench.slackpace [--speed 1]        # prints `ready http://127.0.0.1:PORT/api/`

Every call is answered after a latency drawn uniformly from 50 to 200 ms, as real Slack
answers from far away, and is held to Slack's published limits, each a token bucket per
workspace (https://docs.slack.dev/apis/web-api/rate-limits):

- `chat.postMessage`: about one message per second per channel, with short bursts; and a
  workspace-wide budget ("several hundred messages per minute": `POST_PER_MINUTE`).
- every other method: its tier's budget per minute per workspace (Tier 2: 20, Tier 3: 50,
  Tier 4: 100), with a burst of a tenth of it.

Beyond a limit the answer is HTTP 429 with `Retry-After` (whole seconds, as Slack sends it),
and nothing is posted. A call's workspace is its token's (`xoxb-<TEAM>-…`, one token per
workspace) or, with one token for all, the workspace its channel was registered under
(`POST /_bench/channels` with `{"channel": "team", …}`). `GET /_bench/stats` tells what was
posted where and when, and how many calls were refused; `POST /_bench/reset` forgets it.

`--speed N` runs N times faster: latencies and limits alike (Retry-After becomes a fraction),
so a shorter run keeps the ratios; a sender's own work does not shrink with it.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

LATENCY = (0.050, 0.200)  # seconds, uniform
POST_PER_CHANNEL = (1.0, 3)  # per second, burst
POST_PER_MINUTE = 600  # chat.postMessage, per workspace
TIERS = {2: 20, 3: 50, 4: 100}  # calls per minute per workspace
METHOD_TIER = {
    "views.publish": 4, "views.open": 4, "views.update": 4, "views.push": 4, "users.info": 4,
    "chat.update": 3, "chat.postEphemeral": 4, "conversations.open": 3, "conversations.info": 3,
    "chat.getPermalink": 4, "files.getUploadURLExternal": 4, "files.completeUploadExternal": 4,
}  # fmt: skip


@dataclass(frozen=True)
class Limits:
    """The limits a fake holds calls to, in calls per second (already scaled by the speed)."""

    post_per_channel: float
    post_channel_burst: int
    post_per_workspace: float
    post_workspace_burst: int
    latency: tuple[float, float]

    @classmethod
    def slack(cls, speed: float = 1.0, *, post_per_minute: float = POST_PER_MINUTE) -> Limits:
        per_second = post_per_minute / 60
        return cls(POST_PER_CHANNEL[0] * speed, POST_PER_CHANNEL[1], per_second * speed, max(1, round(per_second * 2)),
                   (LATENCY[0] / speed, LATENCY[1] / speed))  # fmt: skip

    def floor(self, per_workspace: dict[str, int], per_channel: dict[tuple[str, str], int]) -> float:
        """The least time in which these messages can all be posted within the limits: each
        bucket's burst at once, the rest at its rate, and the last answer's least latency."""
        spans = [max(0, n - self.post_workspace_burst) / self.post_per_workspace for n in per_workspace.values()]
        spans += [max(0, n - self.post_channel_burst) / self.post_per_channel for n in per_channel.values()]
        return max(spans, default=0.0) + self.latency[0]


class Bucket:
    """GCRA (a token bucket without a timer): a call conforms when it arrives no earlier than
    `burst` intervals before the theoretical arrival time."""

    def __init__(self, rate: float, burst: int) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (burst - 1) * self.interval
        self.tat = 0.0

    def wait(self, now: float) -> float:
        """0 when a call at `now` conforms, else how long until one would."""
        return max(0.0, self.tat - self.tolerance - now)

    def take(self, now: float) -> None:
        self.tat = max(self.tat, now) + self.interval


class PacedSlack:
    def __init__(self, limits: Limits, *, seed: int = 18, port: int = 0) -> None:
        self.limits = limits
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.channels: dict[str, str] = {}  # channel -> workspace
        self.reset()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.server.request_queue_size = 1024

    def reset(self) -> None:
        with self.lock:
            self.buckets: dict[tuple[str, ...], Bucket] = {}
            self.posts: dict[str, list[float]] = defaultdict(list)  # channel -> times posted (since start)
            self.refused: dict[str, int] = defaultdict(int)  # method -> 429s
            self.calls: dict[str, int] = defaultdict(int)
            self.in_flight = self.most_in_flight = 0
            self.started = time.monotonic()

    @property
    def api_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/api/"

    def serve(self) -> None:
        self.server.serve_forever(poll_interval=0.05)

    # --- the limits -------------------------------------------------------------------

    def _bucket(self, key: tuple[str, ...], rate: float, burst: int) -> Bucket:
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket(rate, burst)
        return bucket

    def admit(self, method: str, workspace: str, channel: str | None, now: float) -> float:
        """0 and the call counted against its buckets, or the seconds to wait (a 429)."""
        lim = self.limits
        if method == "chat.postMessage":
            buckets = [self._bucket(("post", workspace), lim.post_per_workspace, lim.post_workspace_burst)]
            if channel:
                buckets.append(self._bucket(("post", workspace, channel), lim.post_per_channel, lim.post_channel_burst))
        else:
            per_minute = TIERS[METHOD_TIER.get(method, 3)]
            speed = lim.post_per_channel / POST_PER_CHANNEL[0]
            buckets = [self._bucket((method, workspace), per_minute / 60 * speed, max(1, per_minute // 10))]
        wait = max(b.wait(now) for b in buckets)
        if wait > 0:
            return wait
        for b in buckets:
            b.take(now)
        return 0.0

    # --- HTTP -------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # as a web server does: an answer's headers and body are two writes

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if urlparse(self.path).path == "/_bench/stats":
                    return self._send(200, fake.stats())
                self._send(404, {"ok": False})

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = urlparse(self.path).path
                if path == "/_bench/channels":
                    with fake.lock:
                        fake.channels.update(json.loads(raw))
                    return self._send(200, {"ok": True})
                if path == "/_bench/reset":
                    fake.reset()
                    return self._send(200, {"ok": True})
                args = (json.loads(raw or b"{}") if self.headers.get("Content-Type", "").startswith("application/json")
                        else dict(parse_qsl(raw.decode())))  # fmt: skip
                self._send(*fake.answer(path.removeprefix("/api/"), args, self.headers.get("Authorization", "")))

        return Handler

    def answer(self, method: str, args: dict[str, Any], auth: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        token = auth.removeprefix("Bearer ")
        if not token.startswith("xoxb-"):
            return 200, {"ok": False, "error": "not_authed"}, {}
        channel = args.get("channel") or args.get("user_id") or args.get("user")
        channel = str(channel) if channel else None
        parts = token.split("-")
        arrived = time.monotonic()
        with self.lock:
            workspace = (parts[1] if len(parts) > 2 and parts[1].startswith(("T", "E")) else
                         self.channels.get(channel or "", "T?"))  # fmt: skip
            wait = self.admit(method, workspace, channel, arrived)
            self.calls[method] += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            latency = self.rng.uniform(*self.limits.latency)
        time.sleep(latency)
        with self.lock:
            self.in_flight -= 1
            if wait > 0:
                self.refused[method] += 1
            elif method == "chat.postMessage" and channel:
                self.posts[channel].append(time.monotonic() - self.started)
        if wait > 0:
            # Slack sends whole seconds; a sped-up fake sends the fraction (the sender reads a float).
            speed = self.limits.post_per_channel / POST_PER_CHANNEL[0]
            retry = str(math.ceil(wait)) if speed == 1 else f"{wait:.3f}"
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": retry}
        ts = f"{time.time():.6f}"
        if method == "chat.postMessage":
            return 200, {"ok": True, "channel": channel, "ts": ts}, {}
        if method == "conversations.open":
            return 200, {"ok": True, "channel": {"id": "D" + str(args.get("users", "X"))}}, {}
        return 200, {"ok": True}, {}

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "posts": {c: list(ts) for c, ts in self.posts.items()},
                "refused": dict(self.refused),
                "calls": dict(self.calls),
                "most_in_flight": self.most_in_flight,
            }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slackpace", description=__doc__.split("\n")[0])
    parser.add_argument("--speed", type=float, default=1.0, help="run this many times faster (default 1)")
    parser.add_argument("--post-per-minute", type=float, default=POST_PER_MINUTE,
                        help=f"chat.postMessage per workspace and minute (default {POST_PER_MINUTE})")  # fmt: skip
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    fake = PacedSlack(Limits.slack(args.speed, post_per_minute=args.post_per_minute), port=args.port)
    print(f"ready {fake.api_url}", flush=True)
    try:
        fake.serve()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
