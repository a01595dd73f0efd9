"""Run every benchmark against a database and write the figures to docs/PERFORMANCE.md:

    .venv/bin/python -m bench.run --database-url postgresql+psycopg://user@127.0.0.1/bench \
        --customers 10000 --out docs/PERFORMANCE.md

Generates the data (or reuses it when the database already holds this scale), starts the
bot and a no-op bolt app under gunicorn on localhost ports with an in-process fake Slack,
runs the registered benchmarks (`bench/benchmarks.py`) and replaces this database's
section of the report. Nothing leaves 127.0.0.1. Every run is bounded by `--requests`.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import time
from contextlib import nullcontext
from pathlib import Path

from bench import benchmarks, delivery, socketmode, workspaces  # noqa: F401 - registers the benchmarks
from bench.generate import (
    add_scale_arguments,
    bench_engine,
    ensure,
    scale_from,
    teams_from,
)
from bench.harness import (
    REGISTRY,
    Context,
    Table,
    database_label,
    render_section,
    running_servers,
    write_report,
)
from bot.storage.db import make_session_factory

log = logging.getLogger("bench")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="any SQLAlchemy URL; its data is replaced")
    add_scale_arguments(parser)
    parser.add_argument("--requests", type=int, default=400,
                        help="measured requests per scenario, concurrency and server (default 400)")  # fmt: skip
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--only", nargs="+", choices=sorted(REGISTRY), help="run only these benchmarks")
    parser.add_argument("--deliveries", type=int, default=10_000, help="digests the delivery benchmark sends (default 10,000)")
    parser.add_argument("--slack-speed", type=float, default=1.0,
                        help="the delivery benchmark's fake Slack runs this many times faster (default 1: real time)")
    parser.add_argument("--workspaces", type=int, default=1_000,
                        help="small workspaces of the many-workspaces benchmark (default 1,000)")
    parser.add_argument("--fresh", action="store_true", help="regenerate the data even when it is there")
    parser.add_argument("--out", type=Path, default=Path("docs/PERFORMANCE.md"))
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> list[Table]:
    args = parse(argv)
    engine = bench_engine(args.database_url)
    scale = scale_from(args)
    started = time.monotonic()
    teams = ensure(engine, teams_from(args), scale, fresh=args.fresh)
    generated = time.monotonic() - started
    chosen = [REGISTRY[name] for name in (args.only or REGISTRY)]
    ctx = Context(engine=engine, sessions=make_session_factory(engine), teams=teams, scale=scale,
                  requests=args.requests, concurrency=tuple(args.concurrency), deliveries=args.deliveries,
                  slack_speed=args.slack_speed, workspaces=args.workspaces)  # fmt: skip
    tables: list[Table] = []
    servers = running_servers(args.database_url) if any(b.needs_servers for b in chosen) else nullcontext()
    with servers as ctx.servers:
        for bench in chosen:
            log.info("running %s", bench.name)
            tables += bench.fn(ctx)
    section = render_section(
        ctx=ctx, database=database_label(engine), command=_command_line(argv), tables=tables,
        extra=[f"- data: generated or reused in {generated:.1f} s; whole run {time.monotonic() - started:.0f} s"],
    )
    write_report(args.out, engine.dialect.name, section)
    engine.dispose()
    log.info("wrote %s", args.out)
    return tables


def _command_line(argv: list[str] | None) -> str:
    """The command as run, with the database URL (it may hold a password) left out."""
    words = list(argv if argv is not None else sys.argv[1:])
    for i, word in enumerate(words):
        if word == "--database-url" and i + 1 < len(words):
            words[i + 1] = "URL"
        elif word.startswith("--database-url="):
            words[i] = "--database-url=URL"
    return "python -m bench.run " + " ".join(shlex.quote(w) for w in words)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    run(argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
