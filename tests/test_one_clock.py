"""One clock: nothing below the entry points reads the wall clock (issue 13, point 1).

"Now" is an input: a request reads its instant once (bot/app.py), a sweep runs as of the
instant it is given (bot/scheduler/runner.py), a command of the command line reads it once
(bot/__main__.py, bot/datatools.py); everything below takes `now` (or `today`) as an argument.
This test reads every module of bot/ with `ast` and fails on any call of, or reference to,
`datetime.now`, `datetime.utcnow`, `datetime.today`, `date.today`, `time.time`, `time.time_ns`
or `bot.clock.wall` elsewhere, however they were imported (`import datetime as dt`,
`from datetime import datetime`, `from bot.clock import wall`, a relative import, …).
`time.monotonic` and `time.perf_counter` are fine: they measure durations, not dates.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
WALL_CLOCK = {
    "datetime.datetime.now", "datetime.datetime.utcnow", "datetime.datetime.today", "datetime.date.today",
    "time.time", "time.time_ns", "bot.clock.wall",
}  # fmt: skip
# Where the wall clock may be read: its definition, and the entry points that hand it down.
ENTRY_POINTS = {"bot/clock.py", "bot/app.py", "bot/scheduler/runner.py", "bot/__main__.py", "bot/datatools.py",
                "bot/metrics.py"}  # a scrape of /metrics is a request of its own: the oldest pending row's age
ENTRY_PACKAGES = ("bot/playground/",)  # the local playground (python -m bot play), where it exists


def _module_name(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def wall_clock_reads(source: str, path: str) -> list[str]:
    """`line: name` of every call of, or reference to, a wall clock in the module's source."""
    tree = ast.parse(source)
    package = _module_name(path) if path.endswith("__init__.py") else _module_name(path).rpartition(".")[0]
    names: dict[str, str] = {}  # a name bound by an import -> what it is, fully qualified
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                names[alias.asname or alias.name] = f"{base}.{alias.name}"

    def qualified(node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return names.get(node.id)
        if isinstance(node, ast.Attribute):
            owner = qualified(node.value)
            return f"{owner}.{node.attr}" if owner else None
        return None

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load):
            name = qualified(node)
            if name in WALL_CLOCK:
                found.append(f"{node.lineno}: {name}")
    return sorted(set(found), key=lambda line: int(line.split(":")[0]))


def _allowed(path: str) -> bool:
    return path in ENTRY_POINTS or path.startswith(ENTRY_PACKAGES)


MODULES = sorted(str(p.relative_to(ROOT)) for p in BOT.rglob("*.py"))


@pytest.mark.parametrize("path", [m for m in MODULES if not _allowed(m)])
def test_nothing_below_the_entry_points_reads_the_wall_clock(path: str) -> None:
    reads = wall_clock_reads((ROOT / path).read_text(encoding="utf-8"), path)
    assert not reads, f"{path} reads the wall clock; take `now` as an argument instead:\n" + "\n".join(reads)


def test_the_entry_points_exist_and_the_clock_is_read_there() -> None:
    """The allowed list names real modules, and reading the clock there is seen (the checker
    is not blind)."""
    for path in ENTRY_POINTS:
        assert (ROOT / path).exists(), path
    assert wall_clock_reads((BOT / "clock.py").read_text(encoding="utf-8"), "bot/clock.py")
    assert wall_clock_reads((BOT / "app.py").read_text(encoding="utf-8"), "bot/app.py")


@pytest.mark.parametrize(
    ("source", "path"),
    [
        ("import datetime as dt\nx = dt.datetime.now(dt.UTC)", "bot/services/x.py"),
        ("import datetime\nx = datetime.datetime.utcnow()", "bot/services/x.py"),
        ("from datetime import datetime\nx = datetime.now()", "bot/services/x.py"),
        ("from datetime import date\nx = date.today()", "bot/views/x.py"),
        ("import datetime as dt\nx = dt.date.today()", "bot/views/x.py"),
        ("import datetime as dt\nx = dt.datetime.today()", "bot/views/x.py"),
        ("import time\nx = time.time()", "bot/storage/x.py"),
        ("from time import time as now\nx = now()", "bot/storage/x.py"),
        ("from bot.clock import wall\nx = wall()", "bot/services/x.py"),
        ("from bot import clock\nx = clock.wall()", "bot/services/x.py"),
        ("import bot.clock\nx = bot.clock.wall()", "bot/services/x.py"),
        ("from ..clock import wall\nx = wall()", "bot/services/x.py"),
        ("from . import clock\nx = clock.wall()", "bot/x.py"),
        ("import datetime as dt\ndef f(now=dt.datetime.now):\n    return now()", "bot/services/x.py"),
    ],
)
def test_the_checker_sees_every_way_of_reading_the_clock(source: str, path: str) -> None:
    assert wall_clock_reads(source, path), source


@pytest.mark.parametrize(
    "source",
    [
        "import time\nx = time.monotonic()",
        "import time\nx = time.perf_counter()",
        "import datetime as dt\ndef f(now: dt.datetime):\n    return now.date()",
        "import datetime as dt\nx = dt.datetime.fromtimestamp(0, dt.UTC)",
        "def f(wall):\n    return wall()",  # a clock handed in (the outbox's leases)
        "from bot.clock import local_today\nx = local_today",
    ],
)
def test_the_checker_leaves_what_is_not_the_wall_clock(source: str) -> None:
    assert wall_clock_reads(source, "bot/services/x.py") == []
