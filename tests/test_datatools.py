"""`python -m bot import / export / backup`, run through the real command-line entry point."""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import sys
import tracemalloc

import pytest
from sqlalchemy.engine import make_url

from bot.__main__ import main
from tests.conftest import BOT_TOKEN
from tests.helpers import NO_DOTENV, add_complaint, add_customer, customers_of
from tests.slackclient import TEAM

HEADER = "name,company,contact,email,phone,owner,grade,segment,tags,next_revisit\n"


@pytest.fixture
def cli(monkeypatch, database_url, fake, engine, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake.api_url)

    def run(*args: str) -> tuple[int, str]:
        code = main(list(args))
        return code, capsys.readouterr().out

    return run


def write(tmp_path, text: str, encoding: str = "utf-8-sig"):
    path = tmp_path / "customers.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_import_creates_then_updates_without_duplicates(cli, fake, session, tmp_path):
    fake.add_user("U0000LI", email="li@example.com")
    path = write(tmp_path, HEADER
                 + "张伟贸易,张伟集团,张伟,zw@example.cn,+86 138 0013 8000,li@example.com,a,Key,\"vip, 北京\",2026-12-01\n"
                 + "Acme Ltd,Acme,Bob,bob@acme.example,,U0000BOB,B,new,,\n")  # fmt: skip
    code, out = cli("import", str(path), "--team", TEAM)
    assert code == 0 and "2 created, 0 updated" in out
    first = customers_of(session)
    assert [(c.name, c.owner_id, c.grade, c.segment, c.tags) for c in first] == [
        ("张伟贸易", "U0000LI", "A", "key", "vip, 北京"), ("Acme Ltd", "U0000BOB", "B", "new", None)]
    assert str(first[0].next_revisit) == "2026-12-01"
    # again, with a renamed customer (matched by email) and a changed company (matched by name)
    path = write(tmp_path, HEADER + "张伟贸易有限公司,张伟集团,张伟,zw@example.cn,,,,,,\nacme ltd,Acme Group,,,,,,,,\n")
    code, out = cli("import", str(path), "--team", TEAM)
    assert code == 0 and "0 created, 2 updated" in out
    again = customers_of(session)
    assert [(c.number, c.name, c.company) for c in again] == [(1, "张伟贸易有限公司", "张伟集团"), (2, "acme ltd", "Acme Group")]
    assert again[0].owner_id == "U0000LI"  # an empty owner keeps the owner


def test_a_gb18030_file_imports_with_the_right_characters(cli, session, tmp_path):
    path = write(tmp_path, "name,company,tags\n李娜茶叶,杭州西湖龙井茶业有限公司,绿茶\n", encoding="gb18030")
    assert cli("import", str(path), "--team", TEAM)[0] == 0
    [customer] = customers_of(session)
    assert (customer.name, customer.company, customer.tags) == ("李娜茶叶", "杭州西湖龙井茶业有限公司", "绿茶")


BAD = (HEADER + "Good One,,,good@example.com,,,,,,\n"
       + "Bad Email,,,not-an-email,,,,,,\n"
       + "Bad Owner,,,,,nobody@example.com,,,,\n"
       + ",,,,,,,,,\n"
       + "Bad Date,,,,,,,,,31/12/2026\n"
       + "good one,,,,,,,,,\n"
       + "Bad Grade,,,,,,Z,,,\n")  # fmt: skip


def test_bad_rows_are_listed_and_nothing_is_written(cli, session, tmp_path):
    code, out = cli("import", str(write(tmp_path, BAD)), "--team", TEAM)
    assert code == 1
    lines = out.splitlines()
    assert "line 3: email: This is not an email address, e.g. li.wei@example.com" in lines
    assert "line 4: owner: no Slack user with the email or id nobody@example.com" in lines
    assert "line 5: name: Enter the customer's name." in lines
    assert "line 6: next_revisit: not a date like 2026-12-01" in lines
    assert "line 7: name: the same name as line 2" in lines
    assert any(line.startswith("line 8: grade:") for line in lines)
    assert customers_of(session) == []


def test_dry_run_writes_nothing_and_says_whether_the_file_is_good(cli, session, tmp_path):
    assert cli("import", str(write(tmp_path, BAD)), "--team", TEAM, "--dry-run")[0] == 1
    code, out = cli("import", str(write(tmp_path, HEADER + "Fine Co,,,,,,,,,\n")), "--team", TEAM, "--dry-run")
    assert code == 0 and "nothing written (dry run)" in out
    assert customers_of(session) == []


def test_skip_bad_rows_writes_the_good_ones(cli, session, tmp_path):
    code, out = cli("import", str(write(tmp_path, BAD)), "--team", TEAM, "--skip-bad-rows")
    assert code == 0 and "1 created" in out
    assert [c.name for c in customers_of(session)] == ["Good One"]


def test_an_unknown_column_is_refused(cli, tmp_path):
    code, _ = cli("import", str(write(tmp_path, "name,shoe size\nA,42\n")), "--team", TEAM)
    assert code == 1


def test_a_row_that_would_give_a_customer_anothers_name_is_a_bad_row(cli, session, tmp_path):
    add_customer(session, "Acme", email="li@example.com")
    add_customer(session, "Beta")
    # Line 3 matches Acme by its email and would rename it to Beta: seen only while writing.
    path = write(tmp_path, "name,email\nGamma,gamma@example.com\nBeta,li@example.com\n")
    code, out = cli("import", str(path), "--team", TEAM)
    assert code == 1
    assert out.splitlines() == ["line 3: name: A customer named “Beta” already exists (#2).", "nothing written"]
    assert [c.name for c in customers_of(session)] == ["Acme", "Beta"]
    code, out = cli("import", str(path), "--team", TEAM, "--skip-bad-rows")
    assert code == 0 and out.splitlines()[-1] == "1 created, 0 updated, 1 bad rows skipped"
    assert [c.name for c in customers_of(session)] == ["Acme", "Beta", "Gamma"]


def run_bot(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line in its own process, as an operator runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "ENCRYPTION_KEYS"))}
    return subprocess.run([sys.executable, "-m", "bot", *args], env={**env, "DATABASE_URL": database_url},
                          capture_output=True, text=True, timeout=60, cwd=NO_DOTENV)  # fmt: skip


def test_a_column_named_twice_in_the_header_is_refused(database_url, session, tmp_path):
    path = write(tmp_path, "name,email,Email \nAcme,li@example.com,wang@example.com\n")
    result = run_bot(database_url, "import", str(path), "--team", TEAM)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if "touchbase" in line] == [
        "touchbase: line 1: header: the column email appears more than once; keep one"]
    assert result.stdout == "" and customers_of(session) == []


def test_a_nul_byte_in_a_cell_is_a_bad_row(database_url, session, tmp_path):
    path = write(tmp_path, "name,company\nAcme\x00 Ltd,Acme\nBeta Ltd,Be\x00ta\nFine Ltd,Fine\n")
    result = run_bot(database_url, "import", str(path), "--team", TEAM)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stdout.splitlines() == [
        "line 2: name: a NUL character (byte 0) is not allowed",
        "line 3: company: a NUL character (byte 0) is not allowed",
        "1 good rows, 2 bad; nothing written",
    ]
    assert customers_of(session) == []
    result = run_bot(database_url, "import", str(path), "--team", TEAM, "--skip-bad-rows")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert result.stdout.splitlines()[-1] == "1 created, 0 updated, 2 bad rows skipped"
    assert [c.name for c in customers_of(session)] == ["Fine Ltd"]


def _peak_memory(cli, *args: str) -> int:
    """The most memory (Python's allocations) the command held at once."""
    tracemalloc.start()
    try:
        assert cli(*args)[0] == 0
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _customers_file(path, rows: int, *, first: int = 0, needs: int = 0):
    with path.open("w", encoding="utf-8") as fh:
        fh.write("name,company,contact,email,phone,grade,segment,tags,needs\n")
        for i in range(first, first + rows):
            fh.write(f"Customer {i},Company {i},Contact {i},c{i}@example.com,+86 138 0013 {i % 10000:04d},B,new,"
                     f"vip,{i} {'word ' * needs}\n")  # fmt: skip
    return path


MiB = 1 << 20


def test_import_memory_stays_flat_as_the_file_grows(cli, session, tmp_path):
    # Large rows, so the larger file is 3 MB more: the import reads, checks and writes one row
    # at a time and holds none of it (holding the file and its rows took 3 MB -> 20 MB here).
    cli("import", str(_customers_file(tmp_path / "warm.csv", 2, first=1000)), "--team", TEAM)  # imports, caches
    small = _peak_memory(cli, "import", str(_customers_file(tmp_path / "small.csv", 4, needs=20_000)), "--team", TEAM)
    large = _peak_memory(cli, "import", str(_customers_file(tmp_path / "large.csv", 32, first=100, needs=20_000)),
                         "--team", TEAM)  # fmt: skip
    assert len(customers_of(session)) == 2 + 4 + 32
    assert large < small + MiB, (small, large)


def test_checking_many_rows_takes_no_more_memory_than_a_few(cli, tmp_path):
    # Nothing is kept per row (the names seen so far are on disk). The allowance is pydantic's
    # own bounded cache of recent strings (about 1 MB at most); holding the rows took 1 MB -> 8 MB here.
    cli("import", str(_customers_file(tmp_path / "warm.csv", 2, first=10_000)), "--team", TEAM, "--dry-run")
    small = _peak_memory(cli, "import", str(_customers_file(tmp_path / "small.csv", 400)), "--team", TEAM, "--dry-run")
    large = _peak_memory(cli, "import", str(_customers_file(tmp_path / "large.csv", 3200, first=1000)), "--team", TEAM,
                         "--dry-run")  # fmt: skip
    assert large < small + 2 * MiB, (small, large)


def test_export_writes_every_table_of_the_team(cli, session, tmp_path):
    import datetime as dt

    ours = add_customer(session, "Ours", phone="+1 555 0100")
    add_customer(session, "Not ours", team="T0000002")
    add_complaint(session, ours.id, "Late", now=dt.datetime(2026, 12, 2, tzinfo=dt.UTC))
    code, out = cli("export", "--team", TEAM, "--out", str(tmp_path / "out"))
    assert code == 0
    files = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"customer.csv", "touch.csv", "complaint.csv", "audit_event.csv", "member.csv"} <= files
    assert "installation.csv" not in files and "oauth_state.csv" not in files  # tokens are no export
    with open(tmp_path / "out" / "customer.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["name"] for r in rows] == ["Ours"] and rows[0]["phone"] == "'+1 555 0100"  # text, not a sum
    [complaint] = _rows(tmp_path / "out" / "complaint.csv")
    assert complaint["title"] == "Late" and complaint["state"] == "open"
    assert not {"list_due", "list_rank"} & set(complaint), "the list's order the database computes is no data"


def _rows(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cells(path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_every_exported_file_is_safe_to_open_in_a_spreadsheet(cli, session, tmp_path):
    add_customer(session, "-1+2", company='=HYPERLINK("http://evil.example","x")', contact_name="+SUM(1,2)", tags="@cmd")
    code, _ = cli("export", "--team", TEAM, "--out", str(tmp_path / "out"))
    assert code == 0
    [customer] = [dict(zip(rows[0], row, strict=True)) for rows in [_cells(tmp_path / "out" / "customer.csv")]
                  for row in rows[1:]]  # fmt: skip
    assert customer["name"] == "'-1+2"
    assert customer["company"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert (customer["contact_name"], customer["tags"]) == ("'+SUM(1,2)", "'@cmd")
    assert customer["number"] == "1"  # numbers stay numbers
    for path in (tmp_path / "out").iterdir():  # the search text and the audit trail hold the same values
        assert not [cell for row in _cells(path) for cell in row if cell.startswith(FORMULA_START)], path.name


def test_import_keeps_formula_looking_text_as_typed(cli, session, tmp_path):
    path = write(tmp_path, 'name,company,contact,tags\n=SUM(1),"+SUM(1,2)",-3,@cmd\n')
    code, out = cli("import", str(path), "--team", TEAM)
    assert code == 0 and "1 created" in out
    [customer] = customers_of(session)
    assert (customer.name, customer.company, customer.contact_name, customer.tags) == ("=SUM(1)", "+SUM(1,2)", "-3", "@cmd")
    cli("export", "--team", TEAM, "--out", str(tmp_path / "out"))
    rows = _cells(tmp_path / "out" / "customer.csv")
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["name"], row["company"], row["contact_name"], row["tags"]) == ("'=SUM(1)", "'+SUM(1,2)", "'-3", "'@cmd")


def test_backup_copies_a_database_that_restores(cli, session, engine, database_url, tmp_path):
    add_customer(session, "Kept Ltd", phone="+1 555 0199")
    out = tmp_path / "backup.db"
    code, _ = cli("backup", "--out", str(out))
    if engine.dialect.name != "sqlite":
        assert code == 2 and not out.exists()  # README: use pg_dump
        return
    assert code == 0
    copy = sqlite3.connect(out)
    assert copy.execute("select name, phone from customer").fetchall() == [("Kept Ltd", "+1 555 0199")]
    assert copy.execute("pragma integrity_check").fetchone() == ("ok",)
    copy.close()
    original = sqlite3.connect(make_url(database_url).database)
    tables = [r[0] for r in original.execute("select name from sqlite_master where type='table' order by name")]
    restored = sqlite3.connect(out)
    for table in tables:
        assert original.execute(f"select * from {table}").fetchall() == restored.execute(f"select * from {table}").fetchall()


def test_importing_a_known_phone_warns_of_a_possible_duplicate(cli, session, tmp_path):
    add_customer(session, "Acme Ltd", phone="+86 138 0013 8000")
    code, out = cli("import", str(write(tmp_path, "name,phone\nACME Trading,+8613800138000\n")), "--team", TEAM)
    assert code == 0
    assert "line 2: phone: the same phone as #1 Acme Ltd (possible duplicate; imported, see /crm merge)" in out
    assert [c.name for c in customers_of(session)] == ["Acme Ltd", "ACME Trading"]
