"""A customer's value end to end: typed in the customer modal, shown on the card in the team's
currency in both languages, set by a team setting, imported from a `value` column, exported."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time

import pytest
from sqlalchemy import select, update

from bot.__main__ import main
from bot.services.workspaces import get_workspace
from bot.storage.models import AuditEvent, Customer
from tests.conftest import BOT_TOKEN
from tests.helpers import add_customer, customers_of
from tests.slackclient import TEAM, USER, block_text

ADMIN = "U00000AD"


def inputs(view) -> dict[str, dict]:
    return {b["label"]["text"]: b for b in view["blocks"] if b["type"] == "input"}


def card_dm(fake) -> str:
    return block_text(fake.last("chat.postMessage")["blocks"])


def test_a_value_typed_in_the_new_customer_modal_is_saved_and_shown_in_the_currency(slack, fake, session):
    slack.command("new Acme Ltd")
    view = fake.last("views.open")["view"]
    assert inputs(view)["Value"]["hint"]["text"] == "Yearly value in CNY, e.g. 120000, 120,000 or 12万"
    assert slack.submit(view, {"Value": "1,200,000"}).text == ""
    [customer] = customers_of(session)
    assert customer.value == 1_200_000
    assert "*Value* CN¥1,200,000" in card_dm(fake)
    # The edit modal shows it as typed back, and a change is audited.
    slack.command("edit Acme Ltd")
    view = fake.last("views.open")["view"]
    assert inputs(view)["Value"]["element"]["initial_value"] == "1,200,000"
    slack.submit(view, {"Value": "¥1.5亿"})
    assert customers_of(session)[0].value == 150_000_000
    change = session.scalars(select(AuditEvent).where(AuditEvent.action == "update")).one()
    assert change.changes["value"] == [1_200_000, 150_000_000]


@pytest.mark.parametrize(("typed", "stored"), [("120000", 120_000), ("12万", 120_000), ("250k", 250_000),
                                               ("USD 5,000.50", 5_001), ("", None)])  # fmt: skip
def test_values_are_read_as_people_type_them(slack, fake, session, typed, stored):
    slack.command("new Acme")
    slack.submit(fake.last("views.open")["view"], {"Value": typed})
    assert customers_of(session)[0].value == stored


@pytest.mark.parametrize("typed", ["lots", "-5", "1e9", "10000000000000000"])
def test_a_value_that_is_not_one_is_refused_under_the_field(slack, fake, session, typed):
    slack.command("new Acme")
    reply = slack.submit(fake.last("views.open")["view"], {"Value": typed})
    assert reply.json == {"response_action": "errors",
                          "errors": {"value": "Give the yearly value as a number, e.g. 120000, 120,000 or 12万."}}
    assert customers_of(session) == []


def test_chinese_readers_see_the_value_with_the_yuan_sign(slack, fake, session):
    fake.add_user(USER, locale="zh-CN", tz="Asia/Shanghai")
    add_customer(session, "张伟", value=120_000)
    shown = slack.command("查看 张伟").shown
    assert "*价值* ¥120,000" in shown
    assert "*阶段* 新客户" in shown


def test_the_team_currency_is_a_setting_and_a_bad_code_is_refused(slack, fake, session):
    fake.add_user(ADMIN, is_admin=True)
    add_customer(session, "Acme", value=5000)
    slack.command("settings", user=ADMIN)
    view = fake.last("views.open")["view"]
    assert inputs(view)["Currency"]["element"]["initial_value"] == "CNY"
    refused = slack.submit(view, {"Currency": "XYZ"}, user=ADMIN)
    assert refused.json["errors"] == {"currency": "Give a currency's ISO code, e.g. CNY, USD or EUR."}
    assert slack.submit(view, {"Currency": "usd", "Suggest grade A from a value of": "1,000,000"}, user=ADMIN).text == ""
    session.expire_all()
    settings = get_workspace(session, TEAM).settings
    assert settings["currency"] == "USD" and settings["grade_rules"]["a_value"] == 1_000_000
    session.commit()
    assert "*Value* $5,000" in slack.command("show Acme").shown
    slack.command("new Beta")
    assert "Yearly value in USD" in inputs(fake.last("views.open")["view"])["Value"]["hint"]["text"]


# --- import and export -------------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch, database_url, fake, engine, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake.api_url)

    def run(*args: str) -> tuple[int, str]:
        code = main(list(args))
        return code, capsys.readouterr().out

    return run


def test_import_reads_a_value_column_and_says_which_value_is_bad(cli, session, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("name,value\n张伟贸易,12万\nAcme Ltd,\"¥3,500\"\nNobody Co,\n", encoding="utf-8-sig")
    code, out = cli("import", str(path), "--team", TEAM)
    assert code == 0, out
    assert [(c.name, c.value) for c in customers_of(session)] == [("张伟贸易", 120_000), ("Acme Ltd", 3500),
                                                                  ("Nobody Co", None)]  # fmt: skip
    path.write_text("name,value\nBeta,lots\n", encoding="utf-8")
    code, out = cli("import", str(path), "--team", TEAM)
    assert code == 1
    assert "line 2: value: Give the yearly value as a number, e.g. 120000, 120,000 or 12万." in out.splitlines()


def test_the_customers_export_has_the_value_as_a_number(slack, fake, session):
    fake.add_user(ADMIN, is_admin=True)
    add_customer(session, "Acme", value=1_200_000)
    slack.command("export", user=ADMIN)
    [upload] = fake.calls_to("upload")
    rows = list(csv.DictReader(io.StringIO(fake.uploads[upload.args["file_id"]].decode("utf-8-sig"))))
    assert rows[0]["value"] == "1200000"


# --- value in reports ---------------------------------------------------------------------------


def _wait_dm(fake, contains: str) -> str:
    from tests.test_reports_slack import wait_for

    for _ in range(100):
        for call in wait_for(fake, "chat.postMessage"):
            text = block_text(call.args.get("blocks") or [])
            if contains in text:
                return text
        time.sleep(0.05)
    raise AssertionError(f"no DM with {contains!r}")


def test_reports_sum_the_value_of_customers_on_the_books_by_owner_and_grade(slack, fake, session):
    add_customer(session, "A1", owner_id=USER, grade="A", value=1_000_000)
    add_customer(session, "A2", owner_id="U0000002", grade="A", value=250_000)
    add_customer(session, "B1", owner_id=USER, grade="B", value=40_000)
    add_customer(session, "B2", owner_id=USER, grade="B")  # no value: counts as none
    add_customer(session, "Maybe", owner_id=USER, grade="A", value=900_000, stage="prospect")  # not on the books
    gone = add_customer(session, "Gone", owner_id=USER, grade="A", value=700_000)
    slack.command("lost Gone")
    slack.submit(fake.last("views.open")["view"], {"Reason": "Price"})
    assert gone.id
    fake.reset()
    slack.command("report month")
    text = _wait_dm(fake, "Team report")
    # On the books: A1 1,000,000 + A2 250,000 + B1 40,000 = 1,290,000; grade A 1,250,000, B 40,000.
    assert "*Value* of the customers on the books CN¥1,290,000 · by grade A CN¥1,250,000, B CN¥40,000" in text
    assert "CN¥1,040,000" in text and "CN¥250,000" in text  # each owner's value, in the per-owner table
    fake.reset()
    slack.command("report month csv")
    from tests.test_reports_slack import wait_for

    wait_for(fake, "files.completeUploadExternal")
    [upload] = fake.calls_to("upload")
    rows = list(csv.reader(io.StringIO(fake.uploads[upload.args["file_id"]].decode("utf-8-sig"))))
    assert ["team", "value", "1290000", "0"] in rows
    assert ["team", "value:grade:A", "1250000", "0"] in rows and [USER, "value", "1040000", "0"] in rows


def test_value_at_risk_sums_customers_under_50_and_names_the_five_largest(slack, fake, session):
    now = dt.datetime.now(dt.UTC)
    # Never touched for 200 days (−40) with a revisit 30 days overdue (−20): health 40.
    values = {"V1": 500, "V2": 9_000, "V3": 70_000, "V4": 1_200, "V5": 3_000_000, "V6": 80_000, "V7": None}
    for name, value in values.items():
        add_customer(session, name, value=value)
    add_customer(session, "Fine", value=10**9)  # never touched for 200 days, no revisit: health 60
    add_customer(session, "Gone", value=10**9)
    session.execute(update(Customer).values(created_at=now - dt.timedelta(days=200)))
    session.execute(update(Customer).where(Customer.name != "Fine")
                    .values(next_revisit=now.date() - dt.timedelta(days=30)))  # fmt: skip
    session.execute(update(Customer).where(Customer.name == "Gone").values(stage="lost"))
    session.commit()
    slack.command("report risk")
    text = _wait_dm(fake, "Customers most at risk")
    # Under 50: V1..V7 (40 each); not Fine (60), not Gone (lost). 500 + 9,000 + 70,000 + 1,200 +
    # 3,000,000 + 80,000 = 3,160,700; the five largest: V5, V6, V3, V2, V4.
    assert ("*Value at risk* CN¥3,160,700: 7 customer(s) with health under 50. The largest: V5 (#5) CN¥3,000,000, "
            "V6 (#6) CN¥80,000, V3 (#3) CN¥70,000, V2 (#2) CN¥9,000, V4 (#4) CN¥1,200") in text  # fmt: skip
    assert "*40* · V5 (#5) · <@U0000001> · CN¥3,000,000 · never touched in 200 days" in text
    assert "*60* · Fine (#8) · <@U0000001> · CN¥1,000,000,000" in text
    assert "Gone" not in text


def test_grade_suggestions_can_go_by_value(slack, fake, session):
    get_workspace(session, TEAM).settings = {"grade_rules": {"a_value": 1_000_000, "b_value": 100_000}}
    session.commit()
    add_customer(session, "Big", grade="C", value=1_200_000)
    add_customer(session, "Mid", grade="C", value=150_000)
    add_customer(session, "Small", grade="C", value=99_999)
    slack.command("report grades")
    text = _wait_dm(fake, "Grade suggestions")
    assert "By value: A from CN¥1,000,000, B from CN¥100,000 a year." in text
    assert "Big (#1) · <@U0000001> · C → *A*" in text and "Mid (#2) · <@U0000001> · C → *B*" in text
    assert "Small" not in text
