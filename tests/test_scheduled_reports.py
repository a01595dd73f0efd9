"""The scheduler's reports jobs: the weekly report in its channel and satisfaction check-ins."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from freezegun import freeze_time
from PIL import Image
from sqlalchemy import select

from bot.scheduler.jobs import run_jobs
from bot.scheduler.runner import Scheduler
from bot.services.workspaces import get_workspace
from bot.storage import db
from bot.storage.db import make_session_factory
from bot.storage.models import Customer, Notification, SatisfactionScore
from tests.helpers import add_customer
from tests.slackclient import TEAM, USER, block_text

REPORTS = "C0REPORTS"


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.fixture
def scheduler(settings, engine):
    return Scheduler(settings, make_session_factory(engine))


def posts_to(fake, channel: str) -> list[dict]:
    return [c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == channel]


def test_the_weekly_report_goes_to_its_channel_on_monday_at_nine_once(slack, fake, session, scheduler):
    get_workspace(session, TEAM).settings = {"report_channel": REPORTS}
    session.commit()
    add_customer(session, "Acme")
    with freeze_time("2026-11-25T10:00:00Z"):  # a Wednesday
        slack.command("touch Acme")
        slack.submit(fake.last("views.open")["view"], {"Summary": "call"})
    scheduler.sweep(at("2026-11-29T23:00:00"))  # Sunday
    scheduler.sweep(at("2026-11-30T08:59:00"))  # Monday, before nine
    assert posts_to(fake, REPORTS) == []
    scheduler.sweep(at("2026-11-30T09:00:00"))
    scheduler.sweep(at("2026-11-30T15:00:00"))
    [post] = posts_to(fake, REPORTS)
    text = block_text(post["blocks"])
    assert "week of 2026-11-23" in text and "*Touches* 1" in text
    # its chart, in the report's thread
    [complete] = fake.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == REPORTS and complete.args["thread_ts"]
    [upload] = fake.calls_to("upload")
    image = Image.open(io.BytesIO(fake.uploads[upload.args["file_id"]]))
    image.load()  # a PNG that decodes
    assert image.format == "PNG"


def test_a_weekly_report_written_already_takes_no_write_turn_the_next_minutes(session, engine):
    """The job runs every minute and writes once a week: once this Monday's report is written,
    it only reads (on SQLite touches go on being written meanwhile)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("write turns are SQLite's")
    get_workspace(session, TEAM).settings = {"report_channel": REPORTS}
    session.commit()
    factory, turns = make_session_factory(engine), []

    def run(when: str) -> int:
        return run_jobs(factory, now=at(when), directories=lambda _team: None, only=["weekly_report"])["weekly_report"]

    db.turn_observers.append(lambda _waited, held: turns.append(held))
    try:
        assert run("2026-11-30T08:59:00") == 0 and turns == []  # before nine: nothing written, no turn
        assert run("2026-11-30T09:00:00") == 1
        assert len(turns) == 1
        assert run("2026-11-30T09:01:00") == 0 and run("2026-11-30T15:00:00") == 0
        assert len(turns) == 1
    finally:
        db.turn_observers.pop()


def test_a_failed_chart_upload_keeps_the_report_sent_once_and_says_why(slack, fake, session, scheduler):
    get_workspace(session, TEAM).settings = {"report_channel": REPORTS}
    session.commit()
    fake.fail("files.getUploadURLExternal", error="not_allowed_token_type")
    scheduler.sweep(at("2026-11-30T09:00:00"))
    scheduler.sweep(at("2026-11-30T10:00:00"))
    assert len(posts_to(fake, REPORTS)) == 1
    session.expire_all()
    [row] = session.scalars(select(Notification).where(Notification.kind == "report")).all()
    session.commit()
    assert row.status == "sent" and "not_allowed_token_type" in (row.last_error or "")


def test_no_report_channel_no_weekly_report(fake, session, scheduler):
    get_workspace(session, TEAM)
    session.commit()
    scheduler.sweep(at("2026-11-30T09:00:00"))
    assert fake.calls_to("chat.postMessage") == []


def test_check_ins_ask_each_owner_a_few_at_a_time_once_a_week(slack, fake, session, scheduler):
    for i in range(7):
        add_customer(session, f"Client {i}", grade="A")
    for customer in session.scalars(select(Customer)):
        customer.created_at = at("2026-01-01T00:00:00")  # long before their first check-in is due
    session.commit()
    scheduler.sweep(at("2026-11-30T10:00:00"))
    scheduler.sweep(at("2026-12-02T10:00:00"))  # the same week: no second DM
    [dm] = posts_to(fake, USER)
    assert block_text(dm["blocks"]).count("satisfaction check-in") == 5
    slack.click(dm["blocks"], "4")
    session.expire_all()
    [score] = session.scalars(select(SatisfactionScore)).all()
    assert score.score == 4
    session.commit()
    scheduler.sweep(at("2026-12-07T10:00:00"))  # next week: the six not yet answered, five of them
    second = posts_to(fake, USER)[-1]
    assert "Client 0" not in block_text(second["blocks"]) and block_text(second["blocks"]).count("check-in") == 5
