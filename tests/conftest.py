"""Fixtures: the real database (SQLite, or PostgreSQL with TEST_DATABASE_URL), the fake
Slack Web API, and the bot itself serving HTTP on a free port.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.app import create_app, create_wsgi
from bot.clock import wall
from bot.config import Settings, load_settings
from bot.scheduler.runner import Scheduler
from bot.storage import crypto
from bot.storage.db import CLOCK, make_engine, make_session_factory, upgrade
from bot.storage.models import Base
from tests.fakeslack import FakeSlack
from tests.slackclient import InProcessSlack, SignedSlack, homes_sent_by

SIGNING_SECRET = "test-signing-secret-not-real"
BOT_TOKEN = "xoxb-test-token-not-real"


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return _worker_database(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'touchbase.db'}"  # a file per worker already


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker resets and truncates its database freely: on PostgreSQL
    it gets one of its own beside TEST_DATABASE_URL's (`<name>_gw0`, created when missing)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    given = make_url(url)
    name = f"{given.database}_{worker}"
    admin = create_engine(given, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}) is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return given.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _database_url(tmp_path_factory)


def reset_database(engine: Engine) -> None:
    """An empty database, so every run starts from the migrations."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    reset_database(engine)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    # Any test that reaches the database, also through a process it starts (`serve`): the
    # engine (which sets the database up) before the test, the rows it left after it.
    if "database_url" not in request.fixturenames:
        yield
        return
    engine: Engine = request.getfixturevalue("engine")
    yield
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session for the test's own reads and set-up writes."""
    factory = make_session_factory(engine)
    # The test acts as of the wall clock, as the bot it talks to does.
    with factory(info={CLOCK: wall()}) as session:
        yield session


@pytest.fixture(scope="session")
def _fake_server() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(_fake_server: FakeSlack) -> Iterator[FakeSlack]:
    _fake_server.reset()
    yield _fake_server
    refused = list(_fake_server.refused)
    _fake_server.reset()
    # What real Slack would have refused (`invalid_blocks`) fails the test that sent it.
    assert not refused, f"Slack would refuse: {refused[:3]}"


@pytest.fixture
def settings(database_url: str, fake: FakeSlack) -> Settings:
    return load_settings(
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.api_url,
        scheduler_enabled=False,
        _env_file=None,
    )


@pytest.fixture
def multi_settings(database_url: str, fake: FakeSlack) -> Settings:
    """Many-workspace mode: the OAuth client, no bot token (bot.oauth)."""
    return load_settings(
        database_url=database_url,
        slack_bot_token=None,
        slack_client_id=fake.client_id,
        slack_client_secret=fake.client_secret,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.api_url,
        scheduler_enabled=False,
        _env_file=None,
    )


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class BotServer:
    def __init__(self, wsgi: Any) -> None:
        self.httpd = make_server("127.0.0.1", 0, wsgi, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> BotServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve_bot(settings: Settings, engine: Engine) -> BotServer:
    """The bot's WSGI app serving real HTTP on a free port (use as a context manager)."""
    app = create_app(settings, make_session_factory(engine))
    return BotServer(create_wsgi(app, engine))


@contextmanager
def home_worker(settings: Settings, engine: Engine) -> Iterator[None]:
    """The worker's sender publishing the App Homes requests ask for, after each request
    (tests.slackclient.after_the_answer); one lane and no pacing, so the order is the asking's."""
    sender = Scheduler(settings, make_session_factory(engine), pacer=None, home_pacer=None, lanes=1).sender
    with homes_sent_by(lambda: sender.deliver(now=wall(), asked_only=True)):
        yield


@pytest.fixture
def bot(settings: Settings, engine: Engine) -> Iterator[BotServer]:
    """The bot, talking to the fake Slack."""
    with serve_bot(settings, engine) as server, home_worker(settings, engine):
        yield server
    crypto.configure(None)  # a test may have turned encryption on


@pytest.fixture
def slack(bot: BotServer, fake: FakeSlack) -> SignedSlack:
    return SignedSlack(bot.url, SIGNING_SECRET, fake)


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Iterator[Any]:
    """The bolt app itself (its `registry` lists every listener), as `serve_bot` builds it."""
    yield create_app(settings, make_session_factory(engine))
    crypto.configure(None)


@pytest.fixture
def local_slack(app: Any, settings: Settings, engine: Engine, fake: FakeSlack) -> Iterator[InProcessSlack]:
    """Requests signed as Slack signs them, handed to the app's WSGI callable without HTTP."""
    with home_worker(settings, engine):
        yield InProcessSlack(create_wsgi(app, engine), SIGNING_SECRET, fake)


@pytest.fixture
def multi_bot(multi_settings: Settings, engine: Engine) -> Iterator[BotServer]:
    """The bot in many-workspace mode: nothing installed until a test installs it."""
    with serve_bot(multi_settings, engine) as server, home_worker(multi_settings, engine):
        yield server
    crypto.configure(None)
