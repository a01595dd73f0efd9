"""The machinery the benchmarks share: a registry, percentiles, the servers under test,
a load generator that signs requests as Slack does, and the Markdown report.

A benchmark is a function `fn(ctx) -> list[Table]` registered with `@benchmark(name)`.
Features that land later (touches, complaints, sweep, reports) add theirs in
`bench/benchmarks.py` and drop their line from `PENDING`.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import http.client
import itertools
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bench.generate import Scale, TeamData

REPO = str(Path(__file__).resolve().parents[1])
SIGNING_SECRET = "bench-signing-secret-not-real"
BOT_TOKEN = "xoxb-bench-token-not-real"


# --- registry --------------------------------------------------------------------------------


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)


@dataclass
class Context:
    """What a benchmark gets: the database, the generated teams, the servers and the budget."""

    engine: Engine
    sessions: sessionmaker[Session]
    teams: list[TeamData]
    scale: Scale
    requests: int  # measured requests per (scenario, concurrency, server)
    concurrency: tuple[int, ...]
    servers: Servers | None = None
    deliveries: int = 10_000  # digests the delivery benchmark sends (issue 18: 10,000)
    slack_speed: float = 1.0  # how much faster than real Slack its fake answers (bench/slackpace.py)
    workspaces: int = 1_000  # small workspaces the many-workspaces benchmark generates (issue 18: 1,000)

    @property
    def team(self) -> TeamData:
        return self.teams[0]


@dataclass(frozen=True)
class Benchmark:
    name: str
    fn: Callable[[Context], list[Table]]
    needs_servers: bool


REGISTRY: dict[str, Benchmark] = {}

# Figures issue 9 asks for that cannot be measured yet, and why; printed in the report so
# nobody mistakes a missing figure for a met target.
PENDING: dict[str, str] = {}


def benchmark(name: str, *, servers: bool = False) -> Callable[[Callable[[Context], list[Table]]], Callable[[Context], list[Table]]]:
    def register(fn: Callable[[Context], list[Table]]) -> Callable[[Context], list[Table]]:
        REGISTRY[name] = Benchmark(name, fn, servers)
        return fn

    return register


# --- statistics ------------------------------------------------------------------------------


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100): a value that was actually observed."""
    ordered = sorted(samples)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return "–" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


# --- the servers under test ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`python -m bench.serve WHICH` as a child process on a free localhost port."""

    def __init__(self, which: str, env: dict[str, str]) -> None:
        self.which = which
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{which}-", suffix=".log", delete=False)  # noqa: SIM115
        # The bot's workers add up their counts here, so one scrape of /metrics has them all.
        self.metrics_dir = tempfile.mkdtemp(prefix="bench-metrics-") if which == "touchbase" else None
        own = {"PROMETHEUS_MULTIPROC_DIR": self.metrics_dir} if self.metrics_dir else {}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.serve", which],
            # Same working directory as the runner, so a relative SQLite path names the same file.
            env={**env, **own, "PORT": str(self.port),
                 "PYTHONPATH": os.pathsep.join(filter(None, [REPO, env.get("PYTHONPATH")]))},
            stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with its workers, nothing else
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until the server answers its health check."""

        def answers() -> bool:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as resp:
                    return resp.status == 200
            except OSError:
                return False

        self._wait(answers, timeout)

    def wait_logged(self, line: str, timeout: float = 60) -> None:
        """Wait until the server has written `line` to its log (a server with no port)."""
        self._wait(lambda: line in Path(self.log.name).read_text(errors="replace"), timeout)

    def _wait(self, ready: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.which} server did not start; its log:\n{Path(self.log.name).read_text()}")
            time.sleep(0.1)

    def answering_cpu(self) -> tuple[float, float] | None:
        """The CPU seconds the bot's answering threads have spent so far, and the requests they
        answered (bot.metrics: `touchbase_request_cpu_seconds_total`, `touchbase_requests_total`);
        None when the server does not answer (its errors are counted by `load`)."""
        totals = self.totals("touchbase_request_cpu_seconds_total", "touchbase_requests_total")
        return (totals["touchbase_request_cpu_seconds_total"], totals["touchbase_requests_total"]) if totals else None

    def write_turns(self) -> tuple[float, float, float] | None:
        """SQLite's write turns the bot's workers have taken so far, and the seconds they waited
        for them and held them (bot.metrics); None when the server does not answer."""
        totals = self.totals("touchbase_sqlite_write_turns_total", "touchbase_sqlite_write_turn_seconds_total",
                             by_label="phase")  # fmt: skip
        if totals is None:
            return None
        return (totals["touchbase_sqlite_write_turns_total"], totals.get("waiting", 0.0),
                totals.get("holding", 0.0))  # fmt: skip

    def totals(self, *names: str, by_label: str | None = None) -> dict[str, float] | None:
        """These samples of the bot's /metrics, each summed over its labels (a sample with
        `by_label` summed under that label's value instead); None when the server does not answer."""
        try:
            with urllib.request.urlopen(self.url + "/metrics", timeout=10) as resp:
                body = resp.read().decode()
        except OSError:
            return None
        totals = dict.fromkeys(names, 0.0)
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                if sample.name in totals:
                    key = sample.labels.get(by_label, sample.name) if by_label else sample.name
                    totals[key] = totals.get(key, 0.0) + sample.value
        return totals

    def peak_rss_mb(self) -> float | None:
        """Largest peak resident memory (VmHWM) among the gunicorn workers, from /proc."""
        peaks = []
        for pid in _children(self.proc.pid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            if m := re.search(r"^VmHWM:\s+(\d+) kB", status, re.M):
                peaks.append(int(m.group(1)) / 1024)
        return max(peaks) if peaks else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the group we created: master and its workers
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        if self.metrics_dir:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)
        text_ = Path(self.log.name).read_text(errors="replace")
        if "Traceback" in text_ or "CRITICAL" in text_:
            # Failed requests are counted in the report; their tracebacks are kept for reading.
            print(f"bench: the {self.which} server logged errors; its log is kept at {self.log.name}", file=sys.stderr)
        else:
            os.unlink(self.log.name)


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


# --- where the machine's CPU goes -------------------------------------------------------------

CPU_PARTS = ("server", "sender", "generator", "rest")


@dataclass(frozen=True)
class CpuReading:
    """The machine's busy CPU seconds so far (every core, from /proc/stat) and the part of it
    each group of processes spent: the server under load (gunicorn's master and workers), the
    other server (idle meanwhile), the bot's worker's sender, and this process (the load
    generator and the fake Slack). The rest is the database server, the kernel's own work and
    anything else running."""

    machine: float
    parts: dict[str, float]

    def since(self, before: CpuReading, *, not_its: tuple[str, ...] = ("other",)) -> dict[str, float]:
        """The CPU seconds spent between `before` and this reading by each of CPU_PARTS, and in
        all (`machine`), leaving out the parts `not_its` (work that is not the measured
        server's: the idle server's, or the bot's sender's while the no-op is measured, which
        may still be publishing what the bot's last round asked for)."""
        spent = {name: max(0.0, self.parts[name] - before.parts[name]) for name in self.parts}
        machine = max(0.0, self.machine - before.machine - sum(spent[name] for name in not_its))
        own = {name: spent[name] for name in CPU_PARTS[:-1] if name not in not_its}
        # Per process and per core the kernel counts apart: they can disagree by a few per
        # cent, and the rest is then shown as none rather than less than none.
        return {**own, "rest": max(0.0, machine - sum(own.values())), "machine": machine}


def cpu_ms(spent: dict[str, float], part: str, requests: int) -> str:
    """A part's ms of CPU per request, or – when nothing was measured."""
    return f"{1000 * spent[part] / requests:.1f}" if part in spent and requests else "–"


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_cpu(pid: int | str) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # gone, or no /proc
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def _tree_cpu(pid: int) -> float:
    return _process_cpu(pid) + sum(_tree_cpu(child) for child in _children(pid))


def cpu_reading(servers: Servers, server: Server | None = None) -> CpuReading | None:
    """A reading of where the machine's CPU went so far, `server` (default: the bot's) being
    the server under load; None without Linux's /proc."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal: busy is all but idle, iowait and steal
    # (the time the hypervisor gave to someone else).
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in first[1:8])
    server = server or servers.touchbase
    other = servers.noop if server is servers.touchbase else servers.touchbase
    parts = {
        "server": _tree_cpu(server.proc.pid),
        "other": _tree_cpu(other.proc.pid),
        "sender": _tree_cpu(servers.sender.proc.pid) if servers.sender else 0.0,
        "generator": _process_cpu("self"),
    }
    return CpuReading((user + nice + system + irq + softirq) / _TICK, parts)


@dataclass
class Servers:
    touchbase: Server
    noop: Server
    fake: Any  # tests.fakeslack.FakeSlack
    workers: int
    threads: int
    sender: Server | None = None  # the worker's sender beside touchbase (no port)


def server_env(database_url: str, api_url: str, **settings: str) -> dict[str, str]:
    """A server's environment: this process's, without its Slack, database, port and metrics
    settings, with the benchmark's database, bot token and fake Web API, no scheduler, and
    `settings`."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "PORT", "PROMETHEUS_"))}
    return {**kept, "DATABASE_URL": database_url, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": api_url,
            "SCHEDULER_ENABLED": "false", **settings}  # fmt: skip


def server_setting(name: str) -> int:
    """A setting of the servers under test: the environment's, else the bot's default."""
    from bot.config import Settings

    return int(os.environ.get(name, Settings.model_fields[name.lower()].default))


@contextmanager
def running_servers(database_url: str) -> Iterator[Servers]:
    """The bot and the no-op app side by side, both talking to an in-process fake Slack."""
    from bench.serve import SENDER_READY
    from tests.fakeslack import FakeSlack

    fake = FakeSlack().start()
    workers, threads = server_setting("WEB_CONCURRENCY"), server_setting("GUNICORN_THREADS")
    env = server_env(database_url, fake.api_url, SLACK_SIGNING_SECRET=SIGNING_SECRET, WEB_CONCURRENCY=str(workers),
                     GUNICORN_THREADS=str(threads))  # fmt: skip
    started: list[Server] = []
    sender: Server | None = None
    try:
        for which in ("touchbase", "noop"):
            started.append(Server(which, env))
        for server in started:
            server.wait_ready()
        # The worker beside the bot, as `python -m bot serve` runs one: it publishes the App
        # Homes the requests ask for (services.home.asked_homes). Its jobs stay off.
        sender = Server("sender", env)
        sender.wait_logged(SENDER_READY)  # its start-up, on the same cores, is not what a request costs
        yield Servers(started[0], started[1], fake, workers, threads, sender)
    finally:
        for server in [*started, *([sender] if sender else [])]:
            server.stop()
        fake.stop()


# --- load -------------------------------------------------------------------------------------

Payload = tuple[bytes, str]  # body, content type


def sign(body: bytes, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def command_payload(text_: str, *, team: str, user: str, n: int) -> Payload:
    fields = {
        "command": "/crm", "text": text_, "team_id": team, "team_domain": "bench", "user_id": user,
        "user_name": user.lower(), "channel_id": "C0BENCH01", "channel_name": "general",
        "trigger_id": f"bench.{n}", "response_url": "http://127.0.0.1:9/unused", "api_app_id": "A0BENCH01",
    }  # fmt: skip
    return urlencode(fields).encode(), "application/x-www-form-urlencoded"


def suggestion_payload(action_id: str, value: str, *, team: str, user: str) -> Payload:
    payload = {
        "type": "block_suggestion", "team": {"id": team, "domain": "bench"}, "user": {"id": user, "team_id": team},
        "api_app_id": "A0BENCH01", "action_id": action_id, "block_id": "customer", "value": value,
        "view": {"id": "V0BENCH01", "type": "modal"},
    }  # fmt: skip
    return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None


class _Client:
    """One keep-alive connection, as Slack's delivery keeps one; reconnects when gunicorn
    closes an idle one (keep-alive timeout), without counting the reconnect as latency."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.conn: http.client.HTTPConnection | None = None

    def post(self, body: bytes, content_type: str) -> tuple[float, int, bytes]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                self.conn.connect()
            timestamp = int(time.time())
            headers = {
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": str(timestamp),
                "X-Slack-Signature": sign(body, timestamp),
            }
            try:
                started = time.perf_counter()
                self.conn.request("POST", "/slack/events", body, headers)
                resp = self.conn.getresponse()
                data = resp.read()
                elapsed = time.perf_counter() - started
            except (http.client.RemoteDisconnected, ConnectionError, http.client.BadStatusLine):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            if resp.will_close:
                self.conn.close()
                self.conn = None
            return elapsed, resp.status, data
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def prepared(payloads: Callable[[int], Payload], requests: int) -> Callable[[int], Payload]:
    """The bodies of a load, built before it is timed, as Slack builds them on its own machines:
    the clients then only sign and send them. (A Log touch's submission, a modal's state in a
    7 KB form, took the generator 0.2 ms to build, on the cores the bot is measured on.)"""
    bodies = [payloads(n) for n in range(requests)]
    return bodies.__getitem__


@contextmanager
def generator_collector_held() -> Iterator[None]:
    """No garbage collection in the load generator's process while a load is timed. It holds
    the fakes of Slack and the acks read so far; a full collection of that heap took it
    90–460 ms (`gc.callbacks`), and an ack arriving meanwhile was timed as late as the pause.
    What exists before the load is collected and frozen, so what is collected after it is only
    what the load made. What is frozen stays so for the process's life, as a worker's start-up
    heap does (bot.heap): a benchmark's process is short-lived."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load(url: str, payloads: Callable[[int], Payload], *, requests: int, concurrency: int,
         check: Callable[[bytes], bool] = lambda _b: True) -> Sample:  # fmt: skip
    """Send `requests` signed requests from `concurrency` clients; the latency of each is the
    time from sending it to having read the whole answer (the ack Slack waits for)."""
    sample = Sample()
    lock = threading.Lock()
    counter = itertools.count()

    def client_loop() -> None:
        client = _Client(url)
        try:
            while (n := next(counter)) < requests:
                body, content_type = payloads(n)
                try:
                    elapsed, status, data = client.post(body, content_type)
                    ok = status == 200 and check(data)
                    error = None if ok else f"HTTP {status}: {data[:200]!r}"
                except OSError as exc:  # timeouts, refused connections: counted, and a new connection next
                    elapsed, error = math.nan, repr(exc)
                    client.close()
                with lock:
                    if error is None:
                        sample.seconds.append(elapsed)
                    else:
                        sample.errors += 1
                        sample.first_error = sample.first_error or error
        finally:
            client.close()

    with generator_collector_held(), ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(client_loop) for _ in range(concurrency)]:
            future.result()
    return sample


# --- the report ------------------------------------------------------------------------------


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}, Python {platform.python_version()}"


def database_label(engine: Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            version = conn.execute(text("SHOW server_version")).scalar()
            return f"PostgreSQL {version}"
        version = conn.execute(text("SELECT sqlite_version()")).scalar()
        return f"SQLite {version} (WAL)"


def render_table(table: Table) -> str:
    lines = [f"#### {table.title}", "", "| " + " | ".join(table.columns) + " |",
             "|" + "|".join(" --- " for _ in table.columns) + "|"]  # fmt: skip
    lines += ["| " + " | ".join(row) + " |" for row in table.rows]
    if table.notes:
        lines.append("")
        lines += [f"- {note}" for note in table.notes]
    return "\n".join(lines)


def render_section(*, ctx: Context, database: str, command: str, tables: list[Table], extra: list[str]) -> str:
    s = ctx.scale
    teams = len(ctx.teams)
    head = [
        f"### {database}",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- machine: {machine()}",
        f"- database: {database}",
        f"- scale: {s.customers:,} customers, {s.touches:,} touches, {s.complaints:,} complaints, "
        f"{s.members} members per team; {teams} team{'s' if teams > 1 else ''}; seed {s.seed}",
        *(["- **below issue 9's scale** (100,000 customers, 1,000,000 touches): these figures are not evidence "
            "for its targets"] if s.customers < 100_000 or s.touches < 1_000_000 else []),
        f"- budget: {ctx.requests} measured requests per scenario, concurrency and server",
        # The cores may be shared (CI, other work): the load average says how quiet they were.
        f"- load average at the end (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        *extra,
        f"- command: `{command}`",
        "",
        "",
    ]
    pending = ["#### Not yet measured", "", *(f"- {name}: {why}" for name, why in PENDING.items())] if PENDING else []
    body = "\n".join(head) + "\n\n".join(render_table(t) for t in tables) + "\n"
    return body + ("\n" + "\n".join(pending) + "\n" if pending else "")


def write_report(path: Path, key: str, section: str) -> None:
    """Replace this database's section of the report, keeping everything else (the analysis
    written by hand and the other database's figures) as it is."""
    begin, end = f"<!-- bench:{key}:begin -->", f"<!-- bench:{key}:end -->"
    block = f"{begin}\n{section}{end}"
    old = path.read_text() if path.exists() else "# Performance\n\n"
    if begin in old and end in old:
        new = old[: old.index(begin)] + block + old[old.index(end) + len(end) :]
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new)
