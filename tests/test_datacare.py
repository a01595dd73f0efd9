"""Admins' data tools end to end: audit trail, export, erase."""

from __future__ import annotations

import csv
import datetime as dt
import glob
import io
import json
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url

from bot.scheduler.rows import enqueue
from bot.scheduler.runner import Scheduler
from bot.storage.db import make_session_factory
from bot.storage.models import AuditEvent, Base, Customer, Notification
from tests.helpers import add_customer, customers_of
from tests import slackclient
from tests.slackclient import TEAM, USER, block_text

ADMIN = "U00000AD"
PHONE = "+86 139 1234 5678"


@pytest.fixture
def admin(fake):
    fake.add_user(ADMIN, is_admin=True)
    return ADMIN


@pytest.mark.parametrize("command", ["audit Acme", "export Acme", "export", "erase Acme"])
def test_members_are_refused_with_the_reason(slack, fake, session, command):
    add_customer(session, "Acme", phone=PHONE)
    assert "Only touchbase admins can do that" in slack.command(command).shown
    assert fake.calls_to("files.completeUploadExternal") == []
    assert customers_of(session)[0].phone == PHONE


def test_audit_shows_changes_newest_first_and_pages(slack, fake, session, admin):
    add_customer(session, "Acme", grade="C")
    for grade in ["B", "A"] * 6:
        slack.command("edit Acme")
        slack.submit(fake.last("views.open")["view"], {"Grade": grade})
    reply = slack.command("audit Acme", user=admin)
    lines = [line for line in reply.shown.splitlines() if "*update* customer" in line or "*create*" in line]
    assert len(lines) == 10
    assert "grade: B → A" in reply.shown.split("*update*")[1]  # the newest first
    slack.click(reply.blocks, "More", user=admin)
    rest = json.dumps(fake.last("response_url")["blocks"])
    assert "*create* customer" in rest


def test_a_new_customer_given_a_merged_ones_id_has_an_audit_trail_of_its_own(slack, fake, session, engine, admin):
    add_customer(session, "Acme Ltd")
    merged = add_customer(session, "Acme Co", phone=PHONE).id  # the newest: the highest id
    slack.command("edit Acme Co")
    slack.submit(fake.last("views.open")["view"], {"Phone": "+86 139 0000 1111"})
    slack.click(slack.command("merge Acme Co Acme Ltd", user=admin).blocks, "Merge", user=admin)
    slack.command("new Beta Trading")  # after the merge, as a request stamps it
    slack.submit(fake.last("views.open")["view"], {})
    session.expire_all()
    [beta] = [c for c in customers_of(session) if c.name == "Beta Trading"]
    if engine.dialect.name == "sqlite":
        assert beta.id == merged  # SQLite gives the next row the highest id there is, plus one

    trail = slack.command("audit Beta Trading", user=admin).shown
    assert "*create* customer" in trail and "merge" not in trail and "139" not in trail
    slack.command("export Beta Trading", user=admin)
    exported = json.loads(fake.uploads[fake.calls_to("upload")[-1].args["file_id"]])
    assert [a["action"] for a in exported["audit"]] == ["create"]


def test_export_uploads_everything_about_the_customer_to_the_admins_dm(slack, fake, session, admin):
    add_customer(session, "Acme", phone=PHONE, email="li@example.com")
    slack.command("touch Acme")
    slack.submit(fake.last("views.open")["view"], {"Summary": "asked for a discount"})
    assert "customer-1.json is in your DM" in slack.command("export Acme", user=admin).shown
    assert fake.last("conversations.open")["users"] == admin
    [upload] = fake.calls_to("upload")
    data = json.loads(fake.uploads[upload.args["file_id"]])
    assert data["customer"]["phone"] == PHONE and data["customer"]["email"] == "li@example.com"
    assert [t["summary"] for t in data["touches"]] == ["asked for a discount"]
    assert {a["action"] for a in data["audit"]} >= {"create"}
    assert data["satisfaction_scores"] == [] and data["revisits_done"] == []
    complete = fake.last("files.completeUploadExternal")
    assert complete["channel_id"] == "D" + admin
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).one().actor_id == admin


def test_export_without_a_customer_uploads_the_customers_csv(slack, fake, session, admin):
    add_customer(session, "张伟贸易", phone=PHONE)
    slack.command("export", user=admin)
    [upload] = fake.calls_to("upload")
    content = fake.uploads[upload.args["file_id"]].decode("utf-8-sig")
    assert content.splitlines()[0].startswith("number,name,company")
    assert "张伟贸易" in content and PHONE in content


# What a person may type that a spreadsheet would run as a formula.
EVIL = {"company": '=HYPERLINK("http://evil.example","x")', "contact_name": "+SUM(1,2)", "tags": "@cmd",
        "title": "-2+3"}  # fmt: skip
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def test_the_customers_csv_is_safe_to_open_in_a_spreadsheet(slack, fake, session, admin):
    add_customer(session, "Acme", phone=PHONE, **EVIL)
    slack.command("export", user=admin)
    [upload] = fake.calls_to("upload")
    rows = list(csv.reader(io.StringIO(fake.uploads[upload.args["file_id"]].decode("utf-8-sig"))))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["number"] == "1" and row["name"] == "Acme"
    # A leading ' makes the spreadsheet read the cell as text, whatever follows.
    assert row["company"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert (row["contact_name"], row["tags"], row["title"]) == ("'+SUM(1,2)", "'@cmd", "'-2+3")
    assert row["phone"] == "'" + PHONE
    assert not [cell for line in rows for cell in line if cell.startswith(FORMULA_START)]
    # The data itself is kept as typed: only the file is neutralised.
    assert customers_of(session)[0].company == EVIL["company"]


def _database_bytes(engine) -> bytes:
    if engine.dialect.name == "sqlite":
        # Read the files in another process: closing a file descriptor of an open SQLite
        # database in this process would drop SQLite's POSIX locks on it (SQLite's own docs).
        path = Path(make_url(str(engine.url)).database)
        files = [str(p) for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
        return subprocess.run(["cat", *files], capture_output=True, check=True).stdout
    pg_dump = shutil.which("pg_dump") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))), None)
    if pg_dump:  # what a backup of the database would hold
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return subprocess.run([pg_dump, "--data-only", url], capture_output=True, check=True).stdout
    with engine.connect() as conn:
        return "".join(
            str(row) for table in Base.metadata.sorted_tables for row in conn.execute(text(f"SELECT * FROM {table.name}"))
        ).encode()


@freeze_time("2026-11-25T10:00:00+00:00")
def test_erase_asks_first_then_removes_personal_data_everywhere(slack, fake, session, engine, admin):
    add_customer(session, "Zhou Logistics", phone=PHONE, email="zhou@example.com", address="9 Huaihai Rd")
    slack.command("edit Zhou Logistics")
    slack.submit(fake.last("views.open")["view"], {"Phone": "+86 139 0000 1111"})  # the audit saw both numbers
    slack.command("touch Zhou Logistics")
    slack.submit(fake.last("views.open")["view"], {"Summary": f"call back on {PHONE}"})
    assert PHONE.encode() in _database_bytes(engine)

    ask = slack.command("erase Zhou Logistics", user=admin)
    button = ask.blocks[-1]["elements"][0]
    assert "Zhou Logistics (#1)" in button["confirm"]["text"]["text"]
    assert customers_of(session)[0].phone == "+86 139 0000 1111"  # nothing happens before the confirmation
    slack.click(ask.blocks, "Erase", user=admin)
    assert "Customer #1 erased" in fake.last("response_url")["text"]

    [customer] = customers_of(session)
    assert customer.name == "Erased customer #1" and customer.phone is None and customer.email is None
    stored = _database_bytes(engine)
    for secret in (PHONE, "+86 139 0000 1111", "zhou@example.com", "Huaihai", "Zhou Logistics"):
        assert secret.encode() not in stored, secret
    erase = session.scalars(select(AuditEvent).where(AuditEvent.action == "erase")).one()
    assert erase.actor_id == admin and erase.changes["touches"] == [None, 1]
    session.commit()
    assert "Erased customer #1" in slack.command("show #1").shown  # the counts stay


@freeze_time("2026-11-25T10:00:00+00:00")
def test_an_erase_finds_nothing_of_the_customer_in_the_messages_sent_or_refused(slack, fake, session, engine,
                                                                                 settings, admin):  # fmt: skip
    """A digest names the customers due. Once Slack has it (or has refused it for good), the
    outbox keeps whom it was for and what became of it, not what it said: the erase has no
    other way to find the customer's name there (the payload is one encrypted document)."""
    other = "U0000002"
    fake.add_user(other)
    for name, owner in (("Zhou Logistics", USER), ("Zhou Freight", other)):
        add_customer(session, name, owner_id=owner).next_revisit = dt.date(2026, 11, 25)
    session.commit()
    fake.fail("chat.postMessage", error="account_inactive", channel=other)  # refused for good

    Scheduler(settings, make_session_factory(engine)).sweep(dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC))

    [digest] = [c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == USER]
    assert "Zhou Logistics" in block_text(digest["blocks"])
    session.expire_all()
    ended = {n.channel: (n.status, n.payload) for n in session.scalars(select(Notification).where(Notification.kind == "digest"))}
    session.commit()
    assert ended == {USER: ("sent", {}), other: ("failed", {})}
    for number in (1, 2):
        slack.click(slack.command(f"erase #{number}", user=admin).blocks, "Erase", user=admin)
    stored = _database_bytes(engine)
    assert b"Zhou" not in stored


@freeze_time("2026-11-25T10:00:00+00:00")
def test_an_erase_leaves_nothing_of_the_customer_in_the_messages_still_to_send(slack, fake, session, engine, settings,
                                                                               admin, monkeypatch):  # fmt: skip
    """What waits to be sent about a customer erased meanwhile goes without it: its owner's
    digest is written again, a touch's DM is dropped, a row written before rows named their
    customers is cancelled; what names others only still goes. One written after the erase from
    what was read before it (or back from a failed try) is dropped when the sender claims it."""
    for name, due in (("Zhou Logistics", True), ("Acme Ltd", True), ("Bell Corp", False)):
        add_customer(session, name, owner_id=USER, company="Asia" if name.startswith("Zhou") else None
                     ).next_revisit = dt.date(2026, 11, 25 if due else 28)  # fmt: skip
    session.commit()
    zhou = customers_of(session)[0].id
    scheduler = Scheduler(settings, make_session_factory(engine))
    at = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
    scheduler.run_jobs(at)  # the digest of both customers due waits for the sender
    monkeypatch.setattr(slackclient, "after_the_answer", lambda: None)  # and so do the touches' DMs
    for name in ("Zhou Logistics", "Bell Corp"):
        slack.command(f"touch {name}")
        slack.submit(fake.last("views.open")["view"], {"Summary": "Walked the plant"})
    enqueue(session, now=at, team_id=TEAM, key="legacy", kind="escalation", channel=USER,
            text="Complaint #1 about *Zhou Logistics* is overdue")  # fmt: skip
    enqueue(session, now=at, team_id=TEAM, key="built-when-sent", kind="escalation", channel=USER, text="",
            meta={"render": "escalation", "complaint_id": 99, "default_tz": "Asia/Shanghai"})  # ids: not its
    session.commit()
    session.expire_all()
    waiting = sorted((n.kind, json.dumps(n.payload)) for n in session.scalars(select(Notification)) if n.kind != "home")
    session.commit()
    assert [(kind, [name for name in ("Zhou", "Acme", "Bell") if name in text]) for kind, text in waiting] == [
        ("digest", ["Zhou", "Acme"]), ("escalation", []), ("escalation", ["Zhou"]), ("said", ["Bell"]),
        ("said", ["Zhou"])]  # fmt: skip

    slack.click(slack.command("erase Zhou Logistics", user=admin).blocks, "Erase", user=admin)
    monkeypatch.undo()
    slackclient.after_the_answer()  # the erase's work, then the DMs the requests asked for
    session.expire_all()
    kept = {n.key: (n.kind, n.status, n.payload) for n in session.scalars(select(Notification))}
    session.commit()
    assert kept["legacy"] == ("escalation", "cancelled", {})
    assert kept["built-when-sent"][1] == "pending"  # "Asia", its company, is no word of it
    assert [kind for kind, *_ in kept.values()].count("digest") == 0  # its job writes it again
    [bell] = [c.args["text"] for c in fake.calls_to("chat.postMessage")]
    assert "Bell Corp" in bell

    assert b"Zhou" not in _database_bytes(engine)
    enqueue(session, now=at, team_id=TEAM, key=f"digest:{USER}:2026-11-25", kind="digest", channel=USER,
            text="Revisit *Zhou Logistics* today", customers=[zhou])  # a job's, from before the erase
    session.commit()
    scheduler.sweep(at + dt.timedelta(minutes=1))  # dropped unsent: its key is free again
    scheduler.sweep(at + dt.timedelta(minutes=2))
    [digest] = [c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == USER and c.args.get("blocks")
                and "Acme Ltd" in block_text(c.args["blocks"])]  # fmt: skip
    assert "Zhou" not in json.dumps([c.args for c in fake.calls_to("chat.postMessage")])
    session.expire_all()
    assert not [n.key for n in session.scalars(select(Notification)) if "Zhou" in json.dumps(n.payload)]


@freeze_time("2026-11-25T10:00:00+00:00")
def test_an_erased_customer_leaves_the_digest_the_due_list_the_checkins_and_the_grade_and_risk_lists(
    slack, fake, session, engine, settings, admin
):
    today = dt.date(2026, 11, 25)
    for name in ("Zhou Logistics", "Acme Ltd"):
        customer = add_customer(session, name, owner_id=USER, grade="C")  # 3 touches suggest B: a regrade
        customer.next_revisit, customer.created_at = today, dt.datetime(2025, 6, 2, tzinfo=dt.UTC)  # a check-in due
        session.commit()
        for step in ("call back", "send the brochure", f"send {name} the quote"):
            slack.command(f"touch {name}")
            slack.submit(fake.last("views.open")["view"], {"Summary": "called", "Next step": step,
                                                           "Next step due": today.isoformat()})  # fmt: skip
    session.execute(text("UPDATE customer SET next_revisit = '2026-11-24'"))  # overdue: a sign for the risk list
    # And one the erase leaves: no touch for a year and a half, as if the touches were old.
    session.execute(update(Customer).where(Customer.name == "Zhou Logistics")
                    .values(last_touch_at=dt.datetime(2025, 6, 2, tzinfo=dt.UTC)))  # fmt: skip
    session.commit()

    def reported(kind: str) -> str:
        slack.command(f"report {kind}", user=admin)  # it comes by DM
        return block_text(fake.calls_to("chat.postMessage")[-1].args["blocks"])

    assert "Zhou Logistics" in slack.command("due").shown
    assert "Zhou Logistics" in reported("grades") and "Zhou Logistics" in reported("risk")

    slack.click(slack.command("erase Zhou Logistics", user=admin).blocks, "Erase", user=admin)
    Scheduler(settings, make_session_factory(engine)).sweep(dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC))

    told = json.dumps([c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == USER])
    kinds = {n.kind for n in session.scalars(select(Notification).where(Notification.channel == USER))}
    session.commit()
    assert {"digest", "checkin"} <= kinds and "Acme Ltd" in told  # the digest and the check-in went, for Acme
    assert "Erased customer" not in told
    due = slack.command("due").shown
    assert "send Acme Ltd the quote" in due and "Erased customer" not in due
    for kind in ("grades", "risk"):
        listed = reported(kind)
        assert "Acme Ltd" in listed and "Erased customer" not in listed, kind
    [zhou] = [c for c in customers_of(session) if c.erased_at is not None]
    assert (zhou.name, zhou.next_revisit, zhou.revisits_enabled) == ("Erased customer #1", None, False)


@freeze_time("2026-11-25T10:00:00+00:00")
def test_nothing_more_is_recorded_about_an_erased_customer_and_its_card_still_shows(slack, fake, session, admin):
    zhou = add_customer(session, "Zhou Logistics", owner_id=USER)
    add_customer(session, "Acme Ltd", owner_id=USER)
    slack.command("touch #1")
    slack.submit(fake.last("views.open")["view"], {"Summary": "Met Mr Zhou at the depot"})
    slack.command("touch #1")  # forms opened before the erase, sent after it
    touch_form = fake.last("views.open")["view"]
    slack.command("complaint #1")
    complaint_form = fake.last("views.open")["view"]
    card = slack.command("show #1").blocks  # and a card sent before the erase, its buttons and menus in it
    [menu] = [b["accessory"] for b in card if b.get("accessory", {}).get("type") == "overflow"]  # its touch's
    slack.click(slack.command("erase Zhou Logistics", user=admin).blocks, "Erase", user=admin)
    refused = "This customer's data was erased: nothing more is recorded about them."

    reply = slack.submit(touch_form, {"Summary": "Called Mr Zhou on his mobile"})
    assert reply.json == {"response_action": "errors", "errors": {"customer": refused}}
    reply = slack.submit(complaint_form, {"Title": "Mr Zhou says the invoice is wrong"})
    assert reply.json["errors"] == {"customer": refused}
    opened = len(fake.calls_to("views.open"))
    for command in ("touch #1", "complaint #1", "edit #1", "lost #1", "won #1", "revisit #1 tomorrow",
                    "link #1 <#C0ZHOU01|zhou>"):  # fmt: skip
        assert refused in slack.command(command).shown, command

    def answered(press: Any) -> str:
        """What pressing a button or menu answered, in place of the message."""
        before = len(fake.calls_to("response_url"))
        press()
        return " ".join(c.args.get("text", "") for c in fake.calls_to("response_url")[before:])

    for label in ("Log touch", "Log complaint", "Schedule revisit", "Edit"):
        assert refused in answered(lambda label=label: slack.click(card, label)), label
    assert refused in answered(lambda: slack.action("lost_pick", str(zhou.id)))  # `/crm lost`'s candidate button
    for choice in menu["options"]:  # its touch's Edit and Delete: it stays as the erase left it
        assert refused in answered(lambda choice=choice: slack.action(
            "touch_menu", type="overflow", selected_option={"value": choice["value"]})), choice
    assert len(fake.calls_to("views.open")) == opened  # no form opens for it
    slack.click(slack.command("merge #1 #2", user=admin).blocks, "Merge", user=admin)
    assert refused in fake.last("response_url")["text"]
    slack.click(slack.command("merge #2 #1", user=admin).blocks, "Merge", user=admin)
    assert refused in fake.last("response_url")["text"]

    shown = slack.command("show #1")  # read as before (the counts stay), with no button to record
    assert "Erased customer #1" in shown.shown and "[erased]" in shown.shown
    assert '"button"' not in json.dumps(shown.blocks) and '"overflow"' not in json.dumps(shown.blocks)
    assert "Health" not in shown.shown  # it is scored no more, as in the risk list
    session.expire_all()
    assert [c.name for c in customers_of(session)] == ["Erased customer #1", "Acme Ltd"]
    assert b"Zhou" not in _database_bytes(session.get_bind())


@freeze_time("2026-11-25T10:00:00+00:00")
def test_an_erase_empties_the_wal_even_when_its_first_checkpoint_finds_another_running(slack, fake, session, engine,
                                                                                        admin, monkeypatch):  # fmt: skip
    """SQLite answers a checkpoint busy, having done nothing, while another runs (this
    process's after a commit, or another process's): the erase's is asked again, and what was
    erased leaves the WAL too."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the WAL is SQLite's")
    add_customer(session, "Zhou Logistics", phone=PHONE)
    slack.command("touch Zhou Logistics")
    slack.submit(fake.last("views.open")["view"], {"Summary": f"call back on {PHONE}"})
    assert PHONE.encode() in _database_bytes(engine)
    ask = slack.command("erase Zhou Logistics", user=admin)
    real, answered = engine.raw_connection, []

    class FirstCheckpointBusy:  # the erase's connection, as SQLite answers while another checkpoint runs
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        def cursor(self) -> FirstCheckpointBusy:
            return FirstCheckpointBusy(self.inner.cursor())

        def execute(self, sql: str, *args: object) -> object:
            if "wal_checkpoint" in sql and not answered:
                answered.append(sql)
                return SimpleNamespace(fetchone=lambda: (1, -1, -1))  # busy, nothing done
            return self.inner.execute(sql, *args)

    monkeypatch.setattr(engine, "raw_connection", lambda: FirstCheckpointBusy(real()))
    slack.click(ask.blocks, "Erase", user=admin)
    monkeypatch.undo()
    assert answered  # the erase met a busy checkpoint
    assert PHONE.encode() not in _database_bytes(engine)


def test_an_erased_customer_is_marked_in_the_admins_language(slack, fake, session):
    fake.add_user(ADMIN, is_admin=True, locale="zh-CN")
    add_customer(session, "周氏物流", phone=PHONE)
    slack.command("touch 周氏物流")
    slack.submit(fake.last("views.open")["view"], {"Summary": "电话回访"})

    slack.click(slack.command("删除数据 周氏物流", user=ADMIN).blocks, "删除数据", user=ADMIN)

    [customer] = customers_of(session)
    assert customer.name == "已删除数据的客户 #1"
    summaries = session.scalars(text("SELECT summary FROM touch")).all()
    session.commit()
    assert summaries == ["[已删除]"]


def test_erase_of_another_workspaces_customer_finds_nothing(slack, fake, session, admin):
    theirs = add_customer(session, "Theirs", team="T0000002", phone=PHONE)
    slack.action("customer_erase", str(theirs.id), user=admin)
    assert "no longer exists" in fake.last("response_url")["text"]
    assert customers_of(session, team="T0000002")[0].phone == PHONE


def test_a_plain_member_pressing_a_forged_erase_button_is_refused(slack, fake, session):
    customer = add_customer(session, "Acme", phone=PHONE)
    slack.action("customer_erase", str(customer.id), user=USER)
    assert "Only touchbase admins" in fake.last("response_url")["text"]
    assert customers_of(session)[0].phone == PHONE


def test_merge_moves_touches_and_complaints_and_keeps_an_audit_record(slack, fake, session, admin):
    add_customer(session, "Acme Co", phone=PHONE)
    add_customer(session, "Acme Limited", company="Acme Group")
    slack.command("touch Acme Co")
    slack.submit(fake.last("views.open")["view"], {"Summary": "first contact"})
    assert "Only touchbase admins" in slack.command("merge Acme Co Acme Limited").shown
    ask = slack.command("merge Acme Co Acme Limited", user=admin)
    assert "Merge *Acme Co (#1)* into *Acme Limited (#2)*" in ask.shown
    slack.click(ask.blocks, "Merge", user=admin)
    assert "Merged into Acme Limited (#2)" in fake.last("response_url")["text"]
    [kept] = customers_of(session)
    assert (kept.name, kept.phone, kept.company) == ("Acme Limited", PHONE, "Acme Group")
    assert "first contact" in slack.command("show Acme Limited").shown
    merges = session.scalars(select(AuditEvent).where(AuditEvent.action == "merge")).all()
    assert [m.entity_id for m in merges] == [kept.id] and merges[0].changes["touches"] == [0, 1]
    trail = slack.command("audit Acme Limited", user=admin).shown  # the one merged away's history joined it
    assert "name: None → Acme Co" in trail and "name: None → Acme Limited" in trail
    session.commit()


def test_merge_needs_two_distinct_customers(slack, session, admin):
    add_customer(session, "Acme")
    assert "Name two customers" in slack.command("merge Acme Nobody", user=admin).shown
    assert "Name two customers" in slack.command("merge Acme", user=admin).shown


def test_an_erase_reads_the_customer_afresh_when_it_locks_it(session, engine):
    """A value written since the session last read the customer (a merge filling its empty
    fields, between two attempts of the erase or before its first) is erased too: the erase
    reads what is there once it holds the row, not what the session kept. Had it kept the
    session's `None`, setting the field to `None` would have changed nothing, and the e-mail
    would have stayed."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite: a writer holds the whole database, nothing is written in between")
    from sqlalchemy import update

    from bot.services import datacare
    from bot.services.access import Viewer
    from bot.storage.models import Customer

    acme = add_customer(session, "Acme Ltd", owner_id=USER)
    session.commit()
    assert session.get(Customer, acme.id).email is None  # read in this transaction
    with engine.begin() as other:
        other.execute(update(Customer).where(Customer.id == acme.id).values(email="li@acme.example"))
    datacare.erase_customer(session=session, viewer=Viewer.whole_team(acme.team_id), customer_id=acme.id,
                            surface="test")  # fmt: skip
    session.commit()
    with engine.connect() as reading:
        assert reading.scalar(select(Customer.email).where(Customer.id == acme.id)) is None
