"""A customer's value end to end: typed in the customer modal, shown on the card in the team's
currency in both languages, set by a team setting, imported from a `value` column, exported."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from bot.__main__ import main
from bot.services.workspaces import get_workspace
from bot.storage.models import AuditEvent
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
