"""The benchmarks still run: generator, servers, load and report at a tiny scale.

No timings are asserted (speed is measured by `python -m bench.run`, never in tests); only
that every benchmark produced its table and that the bot answered every request properly.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import aliased

from bench import profile, socketmode
from bench.generate import Scale, generate_team
from bench.harness import REGISTRY
from bench.run import run
from bot.scheduler.base import JOBS
from bot.services.find import name_key
from bot.storage.models import (
    ChannelLink,
    ChannelMessage,
    Customer,
    FollowUp,
    SearchLine,
    StageChange,
    Touch,
    Workspace,
)
from bot.storage.search import search_lines
from tests.helpers import needs_timed_waits

PROC = Path("/proc/stat").exists()  # where bench.run can tell where the machine's CPU went


def latest_moves(conn, team_id: str) -> list[tuple[str, str]]:
    """Each customer's stage, and where its last recorded move took it."""
    later = aliased(StageChange)
    last = select(func.max(later.id)).where(later.customer_id == Customer.id).correlate(Customer).scalar_subquery()
    return [tuple(row) for row in conn.execute(
        select(Customer.stage, StageChange.to_stage).join(StageChange, StageChange.customer_id == Customer.id)
        .where(Customer.team_id == team_id, StageChange.id == last))]  # fmt: skip


def test_generator_is_deterministic_and_valid(engine):
    scale = Scale(customers=300, touches=900, complaints=20, members=6, seed=7)
    generate_team(engine, "T0SMOKE01", scale)
    with engine.connect() as conn:
        first = conn.execute(select(Customer.name, Customer.owner_id).order_by(Customer.number)).all()
        keys = conn.execute(select(Customer.name, Customer.name_key)).all()
        touches = conn.scalar(select(func.count()).select_from(Touch))
    generate_team(engine, "T0SMOKE01", scale)  # replaces the team's rows with the same ones
    with engine.connect() as conn:
        again = conn.execute(select(Customer.name, Customer.owner_id).order_by(Customer.number)).all()
    assert first == again and len(first) == 300 and touches == 900
    assert all(key == name_key(name) for name, key in keys)
    assert any(not name.isascii() for name, _ in first) and any(name.isascii() for name, _ in first)
    with engine.connect() as conn:  # the search lines the models' listener would have written
        lines = set(conn.execute(select(SearchLine.customer_id, SearchLine.line, SearchLine.name_key)).all())
        texts = conn.execute(select(Customer.id, Customer.search_doc, Customer.search_key, Customer.name_key)).all()
    assert lines == {(cid, line, key) for cid, doc, pinyin, key in texts for line in search_lines(doc, pinyin)}
    with engine.connect() as conn:  # values, stages and their history, follow-ups
        stages = dict(conn.execute(select(Customer.stage, func.count()).group_by(Customer.stage)).all())
        lost = conn.execute(select(Customer.revisits_enabled, Customer.next_revisit).where(Customer.stage == "lost")).all()
        reasons = set(conn.scalars(select(StageChange.reason).where(StageChange.to_stage == "lost")))
        last = latest_moves(conn, "T0SMOKE01")
        promises = conn.scalar(select(func.count()).select_from(FollowUp))
        valued = conn.scalar(select(func.count()).select_from(Customer).where(Customer.value.is_not(None)))
    assert {"prospect", "new", "active", "at_risk", "lost"} <= set(stages) and sum(stages.values()) == 300
    assert lost and all(enabled is False and revisit is None for enabled, revisit in lost)
    assert len(reasons) > 2 and None not in reasons
    assert len(last) == 300 and all(stage == latest for stage, latest in last)  # each stage is its history's last move
    assert promises > 0 and 0 < valued < 300


def test_the_generated_data_is_settled_as_autovacuum_keeps_it(engine):
    """On PostgreSQL the benchmarks measure a vacuumed database: the generator rewrites every
    customer (its last touch), and unvacuumed no page is all-visible, so each index-only scan
    would read the table as well (docs/PERFORMANCE.md, section 46)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("VACUUM: PostgreSQL's")
    vacuumed = text("SELECT last_vacuum FROM pg_stat_user_tables WHERE relid = 'customer'::regclass")
    with engine.connect() as conn:
        before = conn.scalar(vacuumed)
    generate_team(engine, "T0SMOKE02", Scale(customers=300, touches=900, complaints=20, members=6, seed=7))
    with engine.connect() as conn:
        after = conn.scalar(vacuumed)
    assert after is not None and (before is None or after > before)


def test_the_benchmarks_run_end_to_end(engine, database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "1")  # lighter servers; the figures are not the point here
    monkeypatch.setenv("GUNICORN_THREADS", "2")
    out = tmp_path / "PERFORMANCE.md"
    tables = run([
        "--database-url", database_url, "--customers", "200", "--touches", "1000", "--team", "T0SMOKE02",
        "--requests", "8", "--concurrency", "1", "2", "--out", str(out),
        "--deliveries", "30", "--slack-speed", "20", "--workspaces", "3",
        "--only", *(name for name in REGISTRY if name != "socket"),  # Socket Mode's: the test below
    ])  # fmt: skip
    titles = [t.title for t in tables]
    assert any("Acknowledge" in title for title in titles) and any("Search" in title for title in titles)
    searched = next(t for t in tables if t.title == "Search (service calls)")
    slowest = searched.columns.index("slowest input: again, ms")
    assert all(re.fullmatch(r"`.+` \(.+\): \d+\.\d", row[slowest]) for row in searched.rows), searched.rows
    ack = next(t for t in tables if "Acknowledge" in t.title)
    assert len(ack.rows) == 8 * 2  # eight requests at two concurrencies
    errors = ack.columns.index("errors tb/no-op")
    assert all(row[errors] == "0/0" for row in ack.rows), ack.notes
    cpu = ack.columns.index("touchbase CPU ms/request")  # the answering threads' CPU, from the bot's /metrics
    assert all(float(row[cpu]) > 0 for row in ack.rows), ack.rows
    # Where the machine's CPU went (Linux's /proc; "–" elsewhere): each part's ms per request,
    # the bot's server busy in all.
    split = next(t for t in tables if t.title == "Where the machine's CPU went (ms per request)")
    assert [row[:2] for row in split.rows] == [row[:2] for row in ack.rows]
    parts = [split.columns.index(f"touchbase {part}") for part in ("server", "sender", "generator", "rest")]
    machine = split.columns.index("touchbase machine")
    if PROC:
        assert all(float(row[machine]) >= 0 and all(float(row[i]) >= 0 for i in parts) for row in split.rows)
        assert sum(float(row[parts[0]]) for row in split.rows) > 0, split.rows
    else:
        assert all(row[machine] == "–" for row in split.rows), split.rows
    # A customer's channel message: its ack is empty, so each one the bot acknowledged must be stored.
    stored = [note for note in ack.notes if note.startswith("a customer's channel message")]
    assert len(stored) == 2 and all(re.fullmatch(r".* c=\d+: (\d+) acknowledged, \1 stored", n) for n in stored), stored
    assert all(int(re.search(r"(\d+) acknowledged", n)[1]) >= 8 for n in stored), stored
    report = out.read_text()
    assert "| `/crm find` | 1 |" in report and "| `/crm due` | 2 |" in report
    assert all(any(word in title for title in titles) for word in ("Writes", "Sweep", "Reports", "Escalation", "Churn"))
    churn = next(t for t in tables if "Churn" in t.title)
    assert [row[0] for row in churn.rows] == ["month, team", "month, busiest owner, owner only", "quarter, team",
                                              "quarter, busiest owner, owner only"]  # fmt: skip
    writes = next(t for t in tables if "Writes" in t.title)
    assert writes.rows[0][3] == "8" and writes.rows[0][7] == "0", writes.notes  # every submission stored a touch
    assert writes.rows[0][8].startswith("8: half by ") and int(writes.rows[0][9].split()[0]) >= 1, writes.rows  # its DM, the owners' Homes
    turn = [note for note in writes.notes if note.startswith("SQLite's write turn")]
    if engine.dialect.name == "sqlite":  # each of the 8 touches took the turn, and held it a while
        assert len(turn) == 1 and re.search(r"(\d+) turns, held (\d+\.\d+) ms", turn[0]), writes.notes
        turns, held = re.search(r"(\d+) turns, held (\d+\.\d+) ms", turn[0]).groups()  # type: ignore[union-attr]
        assert int(turns) >= 8 and float(held) > 0, turn
    else:
        assert not turn, writes.notes
    spent = next(t for t in tables if t.title.startswith("Where the machine's CPU went during the writes"))
    assert [row[0] for row in spent.rows] == ["until the last answer", "after it, until the last App Home and DM"]
    during = spent.rows[0][spent.columns.index("machine")]
    assert float(during) > 0 if PROC else during == "–", spent.rows
    sweep = next(t for t in tables if "Sweep" in t.title)
    assert all(row[1] == row[4] == row[0] for row in sweep.rows), sweep.rows  # job and raw: one row per due revisit
    listed = next(t for t in tables if "Complaint list" in t.title)
    assert [row[0] for row in listed.rows][:2] == ["`open`", "`overdue`"], listed.rows
    delivered = next(t for t in tables if "Delivery" in t.title)
    columns = delivered.columns
    assert [row[0] for row in delivered.rows] == ["one workspace", "many workspaces of 10",
                                                  "many workspaces of 10, 2 senders",
                                                  "many workspaces of 10, real pace"]  # fmt: skip
    assert delivered.rows[2][columns.index("lanes")] == "2 × 8", delivered.rows
    for row in delivered.rows:  # every digest arrived once (how fast is not the point here)
        assert (row[columns.index("digests")], row[columns.index("lost")], row[columns.index("doubled")]) == (
            "30", "0", "0"), delivered.rows
    sweep_many = next(t for t in tables if "Many workspaces: the sweep" in t.title)
    assert sweep_many.rows[0][0] == "3" and sweep_many.rows[0][1] == sweep_many.rows[0][3] != "0", sweep_many.rows
    report_many = next(t for t in tables if "month report" in t.title)
    assert len(report_many.rows) >= 1, report_many.rows  # among the others (and alone, where a database can be made)
    # the quiet minute, in a database of its own: left out where PostgreSQL does not let one be made
    quiet = next((t for t in tables if "quiet minute" in t.title), None)
    if quiet is not None or engine.dialect.name == "sqlite":
        assert quiet is not None
        assert [row[0] for row in quiet.rows] == [f"`{name}`" for name in JOBS] + ["**the minute**"], quiet.rows
        assert int(quiet.rows[-1][1].replace(",", "")) > 0, quiet.rows  # the first two minutes wrote what was due
    with engine.connect() as conn:  # what the benchmarks wrote is gone again
        # the quiet minute's stage checks (and all it wrote) were in a copy of their own
        assert conn.scalars(select(Workspace.stages_checked_at).where(Workspace.team_id.like("T0MANY%"))).all() == [
            None] * 3  # fmt: skip
        assert conn.scalar(select(func.count()).select_from(Touch).where(Touch.summary.like("bench write %"))) == 0
        for table in (ChannelLink, ChannelMessage):  # the channels linked for it, and what was posted there
            assert conn.scalar(select(func.count()).select_from(table).where(table.team_id == "T0SMOKE02")) == 0
        # and the stage moves those touches caused: every customer's stage is its history's last move
        moved = latest_moves(conn, "T0SMOKE02")
    assert moved and all(stage == latest for stage, latest in moved)


@needs_timed_waits
def test_the_socket_mode_benchmark_runs(engine, database_url, tmp_path):
    tables = run(["--database-url", database_url, "--customers", "200", "--touches", "1000", "--team", "T0SMOKE04",
                  "--requests", "8", "--concurrency", "1", "2", "--only", "socket", "--out", str(tmp_path / "P.md")])  # fmt: skip
    [acks] = tables
    assert [row[:2] for row in acks.rows] == [[name, c] for name in socketmode.MEASURED for c in ("1", "2")]
    late, wrong = acks.columns.index("late tb/no-op"), acks.columns.index("wrong")
    assert all(row[late] == "0/0" and row[wrong] == "0" for row in acks.rows), acks.rows
    assert all("stored" not in row[-1] for row in acks.rows), acks.rows  # every channel message acknowledged was stored
    with engine.connect() as conn:  # what it wrote is gone again
        assert conn.scalar(select(func.count()).select_from(Touch).where(Touch.summary.like("bench write %"))) == 0
        for table in (ChannelLink, ChannelMessage):
            assert conn.scalar(select(func.count()).select_from(table).where(table.team_id == "T0SMOKE04")) == 0


def test_the_profile_times_each_statement(engine, database_url, capsys):
    generate_team(engine, "T0SMOKE03", Scale(customers=60, touches=120, complaints=6, members=3, seed=3))
    assert profile.main(["--database-url", database_url, "--team", "T0SMOKE03", "--requests", "4", "--statements",
                         "--settle", "due"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert re.search(r"== /crm due: 4 requests, \d+\.\d\d ms each \(then \d+\.\d\d ms until its after-the-answer", out)
    lines = out.splitlines()
    statements = [line for line in lines if re.match(r"\s+\d+\.\d\d\s+\d+\.\d{3}\s+\d+\.\d{3}\s+SELECT ", line)]
    assert any("FROM workspace" in line or "workspace.team_id" in line for line in statements), out
    assert re.search(r"\d+\.\d\d\s+\d+\.\d{3}\s+all statements", lines[-1]), out
