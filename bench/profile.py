"""Where an acknowledgement's time goes: pyinstrument over signed requests dispatched in-process.

    python -m bench.profile --database-url URL "help" "find li" "show #12" --suggest Ap

Run after `bench.run` (or `bench.generate`) filled the database. Each request goes through
the same WSGI app that `python -m bot serve` gives gunicorn (`guard`, the signature check,
bolt's middleware, the listener, the database session) but without HTTP, so the profile shows
touchbase's and bolt's own work.
Prints pyinstrument's call tree (a sampling profiler: its own cost stays out of the
figures, unlike cProfile's per-call hooks); `pip install -e '.[bench]'` installs it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import Engine, event

from bench.harness import (
    BOT_TOKEN,
    SIGNING_SECRET,
    command_payload,
    sign,
    suggestion_payload,
)
from bot.app import create_app, create_wsgi
from bot.config import load_settings
from bot.later import wait_idle
from bot.storage.db import make_engine, make_session_factory
from bot.views import ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--team", default="T0BENCH01")
    parser.add_argument("--user", default=None, help="caller (default: the team's busiest owner)")
    parser.add_argument("--requests", type=int, default=200, help="per command (default 200)")
    parser.add_argument("--suggest", action="append", default=[], help="a type-ahead value to profile")
    parser.add_argument("--interval", type=float, default=0.0002, help="seconds between samples (default 0.0002)")
    parser.add_argument("--settle", action="store_true",
                        help="let each request's after-the-answer work finish, untimed, before the next request")
    parser.add_argument("--statements", action="store_true",
                        help="time each SQL statement of the requests instead of sampling the call tree")
    parser.add_argument("--calls", action="store_true",
                        help="count the Python calls a request makes (cProfile: the same on any machine), and "
                             "list the functions that take the most time of their own")
    parser.add_argument("--timed", action="store_true",
                        help="only time the requests (wall and this thread's CPU), without the profiler's hooks")
    parser.add_argument("--sweep", type=int, default=None, metavar="N",
                        help="profile the revisit job writing N due revisits (as bench.run's sweep) instead")
    parser.add_argument("--touches", action="store_true",
                        help="profile Log touch submissions (the benchmark's: bench.run's writes) after the commands")
    parser.add_argument("--channel-messages", action="store_true",
                        help="profile a customer's messages in their linked channels (bench.run's: `message` events) "
                             "after the commands")
    parser.add_argument("commands", nargs="*", default=["help"], help='`/crm` texts, e.g. "find li"')
    args = parser.parse_args(argv)
    if args.sweep:
        return profile_sweep(args)

    from bench.generate import team_data
    from tests.fakeslack import FakeSlack

    engine = make_engine(args.database_url)
    user = args.user or (team_data(engine, args.team, samples=1).members or ("U0BENCH01",))[0]
    fake = FakeSlack().start()
    settings = load_settings(database_url=args.database_url, slack_bot_token=BOT_TOKEN,
                             slack_signing_secret=SIGNING_SECRET, slack_api_url=fake.api_url,
                             scheduler_enabled=False, _env_file=None)  # fmt: skip
    app = create_wsgi(create_app(settings, make_session_factory(engine)), engine)
    work = [(f"/crm {c}", lambda n, c=c: command_payload(c, team=args.team, user=user, n=n)) for c in args.commands]
    work += [(f"type-ahead {v!r}", lambda _n, v=v: suggestion_payload(ids.CUSTOMER_PICKER, v, team=args.team, user=user))
             for v in args.suggest]  # fmt: skip
    touched = contextlib.ExitStack()
    if args.touches or args.channel_messages:
        from bench.benchmarks import (
            channel_messages,
            channels_linked,
            touch_submission,
            write_targets,
            writes_undone,
        )
        from bench.generate import Scale, team_data
        from bench.harness import Context

        ctx = Context(engine=engine, sessions=make_session_factory(engine), teams=[team_data(engine, args.team, samples=1)],
                      scale=Scale(), requests=0, concurrency=())  # fmt: skip
        targets = write_targets(ctx)
        touched.enter_context(writes_undone(ctx, targets))
        if args.touches:
            work.append(("Log touch view_submission",
                         lambda n: touch_submission(targets[n % len(targets)], team=args.team, n=n)))  # fmt: skip
        if args.channel_messages:
            channels = touched.enter_context(channels_linked(ctx, targets))
            work.append(("a customer's channel message", channel_messages(channels, team=args.team)))
    try:
        with touched:
            for label, payload in work:
                _profile(app, label, payload, args, engine)
    finally:
        wait_idle()
        fake.stop()
        engine.dispose()
    return 0


def _profile(
    app: Any, label: str, payload: Callable[[int], tuple[bytes, str]], args: argparse.Namespace, engine: Engine
) -> None:
    """Dispatch `args.requests` requests under the profiler (after a few to warm up); what the
    requests leave for after the answer (bot.later) runs on its threads, outside the tree."""

    def signed(n: int) -> dict[str, Any]:
        """The WSGI environ of request `n`, as gunicorn hands it over."""
        body, content_type = payload(n)
        timestamp = int(time.time())
        return {"REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "SERVER_PROTOCOL": "HTTP/1.1",
                "QUERY_STRING": "", "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body)),
                "wsgi.input": io.BytesIO(body), "HTTP_X_SLACK_REQUEST_TIMESTAMP": str(timestamp),
                "HTTP_X_SLACK_SIGNATURE": sign(body, timestamp)}  # fmt: skip

    def dispatch(environ: dict[str, Any]) -> None:
        status = []
        answer = b"".join(app(environ, lambda line, _headers, *_: status.append(line)))
        assert status == ["200 OK"], (status, answer, dict(parse_qsl(environ["wsgi.input"].getvalue().decode())))

    for n in range(5):  # warm up: profile fetch, caches
        dispatch(signed(n))
    wait_idle()
    # Built before the clock starts: encoding and signing them is the client's work, not the bot's.
    requests = [signed(5 + n) for n in range(args.requests)]
    signed_at = time.time()
    if args.timed:
        measured: Any = timed()
    elif args.calls:
        measured = counted_calls(args.requests)
    else:
        measured = timed_statements(engine, args.requests) if args.statements else profiled(args.interval)
    with measured as report:
        took = settled = cpu = 0.0
        for environ in requests:
            if time.time() - signed_at > 280:  # guard and bolt refuse a signature 5 minutes old
                raise SystemExit(f"{label}: the requests were signed over 4½ minutes ago; ask for fewer --requests")
            started, cpu_started = time.perf_counter(), time.thread_time()
            dispatch(environ)
            answered = time.perf_counter()
            took += answered - started
            cpu += time.thread_time() - cpu_started
            if args.settle:
                wait_idle()
                settled += time.perf_counter() - answered
        alone = f" (then {settled / args.requests * 1000:.2f} ms until its after-the-answer work ended)" if args.settle else ""
        how = (f"({cpu / args.requests * 1000:.2f} ms of this thread's CPU)" if args.timed
               else "with each statement timed" if args.statements and not args.calls else "under the profiler")  # fmt: skip
        report(f"{label}: {args.requests} requests, {took / args.requests * 1000:.2f} ms each{alone} {how}")
    wait_idle()


def profile_sweep(args: argparse.Namespace) -> int:
    """A profile of one run of the revisit job as bench.run's sweep runs it (digest off, one row per revisit)."""
    from bench.benchmarks import (
        _clear_outbox,
        _day_with_due,
        _job_sweep,
        _sweep_instant,
        one_message_per_revisit,
    )
    from bench.generate import Scale, team_data
    from bench.harness import Context

    engine = make_engine(args.database_url)
    ctx = Context(engine=engine, sessions=make_session_factory(engine), teams=[team_data(engine, args.team, samples=1)],
                  scale=Scale(customers=args.sweep), requests=0, concurrency=())  # fmt: skip
    try:
        with one_message_per_revisit(ctx):
            at = _sweep_instant(_day_with_due(ctx, args.sweep))
            _job_sweep(ctx, at)  # warm up
            _clear_outbox(ctx)
            with profiled(args.interval) as report:
                started = time.perf_counter()
                rows = _job_sweep(ctx, at)
                report(f"revisit job: {rows} rows in {(time.perf_counter() - started) * 1000:.0f} ms under the profiler")
    finally:
        engine.dispose()
    return 0


@contextmanager
def timed_statements(engine: Engine, requests: int) -> Iterator[Callable[[str], None]]:
    """Time each SQL statement the block's thread sends (the after-the-answer threads' are left
    out); the function it yields prints them per request under a title, slowest in all first. The time is
    the driver's execute call: the round trip and the database's work, not reading the rows."""
    thread = threading.get_ident()
    took: dict[str, list[float]] = {}

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info["touchbase.bench.started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if threading.get_ident() == thread:
            text = " ".join(statement.split())
            took.setdefault(text, []).append(time.perf_counter() - conn.info.pop("touchbase.bench.started"))

    titles: list[str] = []
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield titles.append
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    for title in titles:
        print(f"== {title}")
    print(f"{'per request':>11} {'mean ms':>8} {'ms/request':>10}  statement")
    for text, seconds in sorted(took.items(), key=lambda kv: -sum(kv[1])):
        print(f"{len(seconds) / requests:11.2f} {1000 * sum(seconds) / len(seconds):8.3f} "
              f"{1000 * sum(seconds) / requests:10.3f}  {text[:160]}")  # fmt: skip
    total = sum(sum(seconds) for seconds in took.values())
    count = sum(len(seconds) for seconds in took.values())
    print(f"{count / requests:11.2f} {'':8} {1000 * total / requests:10.3f}  all statements")


@contextmanager
def counted_calls(requests: int) -> Iterator[Callable[[str], None]]:
    """cProfile over the block (this thread only): the calls per request, a count that does not
    vary with the machine's speed or load, and the 25 functions with the most time of their own."""
    import cProfile
    import io
    import pstats

    profiler, titles = cProfile.Profile(), []
    profiler.enable()
    try:
        yield titles.append
    finally:
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    for title in titles:
        print(f"== {title}: {stats.total_calls / requests:,.0f} Python calls a request")  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(25)
    print(out.getvalue())


@contextmanager
def timed() -> Iterator[Callable[[str], None]]:
    """Nothing but the titles: the requests' times without a profiler's hooks."""
    yield lambda title: print(f"== {title}")


@contextmanager
def profiled(interval: float) -> Iterator[Callable[[str], None]]:
    """Profile the block; the function it yields prints the call tree under a title."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("bench.profile needs pyinstrument: pip install -e '.[bench]'") from None
    profiler = Profiler(interval=interval, async_mode="disabled")
    trees: list[str] = []
    profiler.start()
    try:
        yield trees.append
    finally:
        profiler.stop()
    for title in trees:
        print(f"== {title}")
        print(profiler.output_text(unicode=True, show_all=False, time="percent_of_total"))


if __name__ == "__main__":
    raise SystemExit(main())
