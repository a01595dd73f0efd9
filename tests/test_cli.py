"""The command line as an operator meets it: clear one-line errors, migrations, a real server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.helpers import NO_DOTENV
from tests.slackclient import SignedSlack


def run_bot(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=NO_DOTENV
    )


@pytest.fixture
def clean_env(tmp_path):
    ours = ("SLACK_", "DATABASE_URL", "TZ_DEFAULT", "PORT", "UNINSTALLED_", "LOG_FORMAT", "PROMETHEUS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    return env


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        ({}, "touchbase: setting SLACK_BOT_TOKEN is missing; see README, Configuration"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN}, "touchbase: setting SLACK_SIGNING_SECRET is missing; see README, Configuration"),
        ({"DATABASE_URL": "not a url"}, "touchbase: setting DATABASE_URL is malformed"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "touchbase: setting SLACK_BOT_TOKEN is malformed"),
        ({"TZ_DEFAULT": "Mars/Olympus"}, "touchbase: setting TZ_DEFAULT is malformed"),
        ({"ENCRYPTION_KEYS": "not-a-key"}, "touchbase: setting ENCRYPTION_KEYS is malformed"),
        ({"SLACK_CLIENT_ID": "111.222"}, "touchbase: setting SLACK_CLIENT_SECRET is missing; see README, Configuration"),
        ({"SLACK_CLIENT_SECRET": "fakesecret000"}, "touchbase: setting SLACK_CLIENT_ID is missing; see README"),
        ({"SLACK_CLIENT_ID": "my-app", "SLACK_CLIENT_SECRET": "fakesecret000"},
         "touchbase: setting SLACK_CLIENT_ID is malformed"),
        ({"SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "fakesecret000"},
         "touchbase: setting SLACK_SIGNING_SECRET is missing; see README, Configuration"),
        ({"UNINSTALLED_RETENTION_DAYS": "a month"}, "touchbase: setting UNINSTALLED_RETENTION_DAYS is malformed"),
        ({"UNINSTALLED_RETENTION_DAYS": "-1"}, "touchbase: setting UNINSTALLED_RETENTION_DAYS is malformed"),
        ({"LOG_FORMAT": "xml"}, "touchbase: setting LOG_FORMAT is malformed"),
    ],
)
def test_a_missing_or_malformed_setting_stops_with_one_line(clean_env, tmp_path, overrides, line):
    result = run_bot("serve", env={**clean_env, **overrides})
    assert result.returncode == 2
    assert result.stderr.startswith(line)
    assert len(result.stderr.strip().splitlines()) == 1


def test_db_upgrade_creates_the_schema(clean_env, tmp_path):
    result = run_bot("db", "upgrade", env=clean_env)
    assert result.returncode == 0, result.stderr
    import sqlite3

    tables = {r[0] for r in sqlite3.connect(tmp_path / "cli.db").execute("select name from sqlite_master")}
    assert {"workspace", "member", "customer", "touch", "complaint", "notification", "audit_event"} <= tables


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_gunicorn_migrates_and_answers_slack(clean_env, fake):
    port = _free_port()
    env = {**clean_env, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "SLACK_API_URL": fake.api_url, "PORT": str(port), "SCHEDULER_ENABLED": "false",
           "WEB_CONCURRENCY": "1"}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "bot"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            cwd=NO_DOTENV)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as resp:
                    assert resp.status == 200
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.1)
        reply = SignedSlack(url, SIGNING_SECRET, fake).command("help")
        assert reply.status == 200 and "/crm find acme" in json.dumps(reply.json)
        bad = SignedSlack(url, "wrong-secret", fake).command("help")
        assert bad.status == 401
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    log = proc.stdout.read().decode()
    assert log.count("ENCRYPTION_KEYS is not set: personal data is stored unencrypted") == 1
