"""The churn report on a small hand-made history; every expected figure is worked out by hand
in the comments below (definitions: services/churn.py and README, "Churn").

Owners A and B. Every event at 10:00 UTC, 2026:

    customer  owner value    history
    C1 Alpha    A  100,000  added 09-10 · lost 11-05 (price)
    C2 Bravo    B   50,000  added 09-12 · lost 11-10 (service)
    C3 Charlie  A   30,000  added 10-03 · lost 10-20 (competitor) · won back 11-15
    C4 Delta    B   20,000  added 11-02 · lost 11-20 (price)
    C5 Echo     A  500,000  added 08-01 as a prospect · lost 11-12 (not needed): a prospect lost
    C6 Foxtrot  A   10,000  added 06-15 · made a prospect again 10-25
    C7 Golf     B     none  added 05-20 · lost 11-03 (price) · won back 11-08 · lost 11-22 (quality)
    C8 Hotel    A   70,000  added 09-01 · at risk 10-10 (by the rules)
    C9 India    A    5,000  added 07-01 as a prospect · made a customer 09-20

November (11-01 .. 11-30), on the books at 11-01 00:00: C1, C2, C7, C8, C9 = 5 (C3 lost then,
C4 not added yet, C5 and C6 prospects). Lost from the books in November, each once with its
last loss: C1 (price, A, 100,000), C2 (service, B, 50,000), C4 (price, B, 20,000), C7 (quality,
B, no value) = 4. Churn rate 4 ÷ 5 = 80.0 %. Value lost 170,000. By reason: price 2 (120,000),
service 1 (50,000), quality 1 (0). By owner: A 1 (100,000), B 3 (70,000). Won back: C3, C7 = 2.
Prospects lost: C5 = 1.

October, on the books at 10-01: C1, C2, C6, C7, C8, C9 = 6; lost: C3 (competitor, 30,000) = 1;
churn rate 1 ÷ 6 = 16.7 %. September: C6, C7 = 2 at the start (C8 was added at 10:00 on the
1st), none lost: 0.0 %. August and July: C6, C7 = 2. June: C7 = 1. May and April: 0 at the
start, so no rate.

The fourth quarter (10-01 .. 12-31): 6 at the start; lost: C3 (its loss of 10-20 stands,
though it was won back), C1, C2, C4, C7 = 5; churn rate 5 ÷ 6 = 83.3 %; value lost 30,000 +
100,000 + 50,000 + 20,000 = 200,000; won back 2; prospects lost 1. The third quarter: 2 at the
start, none lost.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.services import lifecycle
from bot.services.access import Viewer
from bot.services.churn import churn_report
from bot.services.customers import CustomerInput, create_customer
from bot.services.lifecycle import LostInput
from bot.storage.db import make_session_factory, unit_of_work
from bot.storage.models import Customer
from tests.helpers import as_admin
from tests.slackclient import TEAM, USER, block_text
from tests.test_reports_slack import wait_for

A, B = "U000000A", "U000000B"
TODAY = dt.date(2026, 11, 25)


def at(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day, 10, tzinfo=dt.UTC)


@pytest.fixture
def history(engine):
    factory = make_session_factory(engine)
    ids: dict[str, int] = {}

    def add(name: str, owner: str, value: int | None, when: dt.datetime, prospect: bool = False) -> None:
        with unit_of_work(factory, now=when) as session:
            data = CustomerInput(name=name, owner_id=owner, value=value, stage="prospect" if prospect else None)
            ids[name] = create_customer(session=session, viewer=as_admin(owner), data=data, surface="test").id

    def lost(name: str, reason: str, when: dt.datetime) -> None:
        with unit_of_work(factory, now=when) as session:
            lifecycle.mark_lost(session=session, viewer=as_admin(), customer_id=ids[name], data=LostInput(reason=reason),
                                now=when, surface="test")  # fmt: skip

    def won(name: str, when: dt.datetime) -> None:
        with unit_of_work(factory, now=when) as session:
            lifecycle.won_back(session=session, viewer=as_admin(), customer_id=ids[name], now=when, today=when.date(),
                               surface="test")  # fmt: skip

    def by_hand(name: str, wanted: str, when: dt.datetime) -> None:
        with unit_of_work(factory, now=when) as session:
            customer = session.get_one(Customer, ids[name])
            lifecycle.set_by_hand(session=session, viewer=as_admin(), customer=customer, wanted=wanted, now=when,
                                  surface="test")  # fmt: skip

    add("Golf", B, None, at(5, 20))
    add("Foxtrot", A, 10_000, at(6, 15))
    add("India", A, 5_000, at(7, 1), prospect=True)
    add("Echo", A, 500_000, at(8, 1), prospect=True)
    add("Hotel", A, 70_000, at(9, 1))
    add("Alpha", A, 100_000, at(9, 10))
    add("Bravo", B, 50_000, at(9, 12))
    by_hand("India", "customer", at(9, 20))
    add("Charlie", A, 30_000, at(10, 3))
    with unit_of_work(factory, now=at(10, 10)) as session:
        lifecycle.move(session, session.get_one(Customer, ids["Hotel"]), "at_risk", now=at(10, 10), actor_id=None)
    lost("Charlie", "competitor", at(10, 20))
    by_hand("Foxtrot", "prospect", at(10, 25))
    add("Delta", B, 20_000, at(11, 2))
    lost("Golf", "price", at(11, 3))
    lost("Alpha", "price", at(11, 5))
    won("Golf", at(11, 8))
    lost("Bravo", "service", at(11, 10))
    lost("Echo", "not_needed", at(11, 12))
    won("Charlie", at(11, 15))
    lost("Delta", "price", at(11, 20))
    lost("Golf", "quality", at(11, 22))
    return ids


def test_the_month_figures(session, history):
    report = churn_report(session=session, viewer=as_admin(), kind="month", today=TODAY, tz="UTC")
    now = report.current
    assert (now.period.first_day, now.period.last_day) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert (now.customers_at_start, now.lost, now.churn_rate, now.value_lost) == (5, 4, 80.0, 170_000)
    assert (now.won_back, now.prospects_lost) == (2, 1)
    assert now.by_reason == {"price": (2, 120_000), "service": (1, 50_000), "quality": (1, 0)}
    assert now.by_owner == {A: (1, 100_000), B: (3, 70_000)}
    trend = [(f.period.first_day.month, f.customers_at_start, f.lost, f.churn_rate, f.value_lost, f.won_back)
             for f in report.periods]  # fmt: skip
    assert trend == [(4, 0, 0, None, 0, 0), (5, 0, 0, None, 0, 0), (6, 1, 0, 0.0, 0, 0), (7, 2, 0, 0.0, 0, 0),
                     (8, 2, 0, 0.0, 0, 0), (9, 2, 0, 0.0, 0, 0), (10, 6, 1, 16.7, 30_000, 0),
                     (11, 5, 4, 80.0, 170_000, 2)]  # fmt: skip


def test_the_quarter_figures(session, history):
    report = churn_report(session=session, viewer=as_admin(), kind="quarter", today=TODAY, tz="UTC")
    now, before = report.current, report.periods[-2]
    assert (now.customers_at_start, now.lost, now.churn_rate, now.value_lost, now.won_back, now.prospects_lost) == (
        6, 5, 83.3, 200_000, 2, 1)  # fmt: skip
    assert now.by_reason == {"competitor": (1, 30_000), "price": (2, 120_000), "service": (1, 50_000), "quality": (1, 0)}
    assert (before.period.first_day, before.customers_at_start, before.lost) == (dt.date(2026, 7, 1), 2, 0)


def test_a_member_who_sees_only_their_own_gets_their_own(session, history):
    # A owns C1, C3, C5, C6, C8, C9. November: on the books at the start C1, C8, C9 = 3; lost C1
    # (1; 33.3 %, 100,000); won back C3; prospects lost C5.
    member = Viewer(team_id=TEAM, user_id=A, sees_all=False)
    report = churn_report(session=session, viewer=member, kind="month", today=TODAY, tz="UTC")
    now = report.current
    assert (now.customers_at_start, now.lost, now.churn_rate, now.value_lost, now.won_back, now.prospects_lost) == (
        3, 1, 33.3, 100_000, 1, 1)  # fmt: skip
    assert report.own


@freeze_time("2026-11-25T12:00:00+00:00")
def test_report_churn_in_slack_with_its_chart(slack, fake, session, history):
    reply = slack.command("report churn")
    assert "Working on your report" in reply.shown
    [complete] = wait_for(fake, "files.completeUploadExternal")
    message = next(c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == USER)
    text = block_text(message["blocks"])
    assert "*Churn* · 2026-11" in text
    assert ("Customers at the start 5 · *lost* 4 · *churn rate* 80.0% · *value lost* CN¥170,000 · *won back* 2 · "
            "prospects lost 1") in text  # fmt: skip
    assert "*Lost by reason* Price 2 (CN¥120,000), Service 1 (CN¥50,000), Product quality 1 (CN¥0)" in text
    assert f"*Lost by owner* <@{B}> 3 (CN¥70,000), <@{A}> 1 (CN¥100,000)" in text
    assert "*The last 8 months*" in text
    assert "2026-05 · at the start 0 · lost 0 · churn rate – · value lost CN¥0 · won back 0" in text
    assert "2026-10 · at the start 6 · lost 1 · churn rate 16.7% · value lost CN¥30,000 · won back 0" in text
    assert complete.args["channel_id"] == "D" + USER
    [upload] = fake.calls_to("upload")
    assert fake.uploads[upload.args["file_id"]].startswith(b"\x89PNG\r\n\x1a\n")


@freeze_time("2026-11-25T12:00:00+00:00")
def test_report_churn_quarter_csv(slack, fake, session, history):
    slack.command("report churn quarter csv")
    wait_for(fake, "files.completeUploadExternal")
    [upload] = fake.calls_to("upload")
    rows = list(csv.reader(io.StringIO(fake.uploads[upload.args["file_id"]].decode("utf-8-sig"))))
    assert rows[0][0] == "figure" and rows[0][-2:] == ["2026-07-01..2026-09-30", "2026-10-01..2026-12-31"]
    assert len(rows[0]) == 9  # the figure, then 8 quarters
    last = {row[0]: row[-1] for row in rows[1:]}
    assert (last["customers_at_start"], last["lost"], last["churn_rate"], last["value_lost"]) == ("6", "5", "83.3",
                                                                                                  "200000")  # fmt: skip
    assert (last["won_back"], last["prospects_lost"]) == ("2", "1")
    assert (last["lost:reason:price"], last["value_lost:reason:price"]) == ("2", "120000")
    assert (last[f"lost:owner:{B}"], last[f"value_lost:owner:{B}"]) == ("3", "70000")
    assert last["lost:reason:other"] == "0"


@freeze_time("2026-11-25T12:00:00+00:00")
def test_report_churn_in_chinese(slack, fake, session, history):
    fake.add_user(USER, locale="zh-CN", tz="Asia/Shanghai")
    slack.command("报表 流失")
    wait_for(fake, "files.completeUploadExternal")
    text = block_text(next(c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == USER)["blocks"])
    assert "*客户流失* · 2026年11月" in text and "*流失率* 80.0%" in text and "价格 2 (¥120,000)" in text
    assert "*最近 8 个月*" in text


@pytest.mark.parametrize("text", ["churn week", "churn month month", "churn csv csv", "churn <@U0000002>"])
def test_unreadable_churn_arguments_get_the_usage(slack, text):
    assert "/crm report churn [month|quarter] [csv]" in slack.command(f"report {text}").shown


def test_the_hand_made_history_leaves_each_customer_where_the_table_says(session, history):
    stages = dict(session.execute(select(Customer.name, Customer.stage)).all())
    session.commit()
    assert stages == {"Alpha": "lost", "Bravo": "lost", "Charlie": "active", "Delta": "lost", "Echo": "lost",
                      "Foxtrot": "prospect", "Golf": "lost", "Hotel": "at_risk", "India": "new"}  # fmt: skip


def test_the_chinese_churn_chart_finds_every_glyph(session, history):
    import warnings

    from PIL import Image

    from bot.charts import churn_chart

    report = churn_report(session=session, viewer=as_admin(), kind="quarter", today=TODAY, tz="UTC")
    session.commit()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = churn_chart("zh-CN", report)
    assert [str(w.message) for w in caught if "missing from" in str(w.message)] == []
    assert Image.open(io.BytesIO(png)).size == (1100, 450)
