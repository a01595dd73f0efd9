"""Encryption at rest: personal fields stored encrypted, still found, and keys rotated."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from freezegun import freeze_time
from sqlalchemy import Text, make_url, select, text, type_coerce

from bot.__main__ import main
from bot.scheduler import jobs
from bot.scheduler.base import CANDIDATES
from bot.scheduler.runner import Scheduler
from bot.storage import crypto
from bot.storage.db import make_session_factory
from bot.storage.models import (
    AuditEvent,
    Base,
    Complaint,
    ComplaintEvent,
    Customer,
    Member,
    Notification,
    SearchLine,
    Touch,
)
from tests.conftest import BOT_TOKEN, serve_bot
from tests.helpers import add_complaint, add_customer, customers_of
from tests.slackclient import TEAM, USER, SignedSlack
from tests.test_cli import run_bot

KEY1, KEY2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
PHONE, EMAIL = "+86 138 0013 8000", "li.wei@example.com"


@pytest.fixture
def encrypted(settings, engine, fake):
    with serve_bot(settings.model_copy(update={"encryption_keys": KEY1}), engine) as server:
        yield SignedSlack(server.url, settings.slack_signing_secret, fake)
    crypto.configure(None)


def raw(session, column):
    session.expire_all()
    values = session.scalars(select(type_coerce(column, Text))).all()
    session.commit()
    return values


def test_personal_fields_are_stored_encrypted_and_read_plain(encrypted, fake, session):
    encrypted.command("new")
    encrypted.submit(fake.last("views.open")["view"], {"Name": "Li Wei Trading", "Email": EMAIL, "Phone": PHONE,
                                                       "Address": "1 Nanjing Rd", "Needs": "cheaper shipping"})  # fmt: skip
    encrypted.command("touch Li Wei Trading")
    encrypted.submit(fake.last("views.open")["view"], {"Summary": "asked about discounts"})
    for column in (Customer.email, Customer.phone, Customer.address, Customer.needs, Touch.summary):
        [stored] = raw(session, column)
        assert stored.startswith("gAAAAA"), column
    card = encrypted.command("show Li Wei Trading").shown
    assert EMAIL in card and PHONE in card and "asked about discounts" in card


def test_encrypted_email_and_phone_are_still_found_exactly(encrypted, session):
    add_customer(session, "Li Wei Trading", email=EMAIL, phone=PHONE)
    assert "Li Wei Trading (#1)" in encrypted.command("find LI.WEI@example.com").shown
    assert "Li Wei Trading (#1)" in encrypted.command("find +8613800138000").shown
    assert "No customer matches" in encrypted.command("find 13800").shown  # no partial match on ciphertext


def test_the_search_text_holds_no_personal_data_when_encrypted(encrypted, session):
    add_customer(session, "Li Wei Trading", company="Li Wei Group", email=EMAIL, phone=PHONE)
    [doc] = raw(session, Customer.search_doc)
    assert "li wei group" in doc and "example.com" not in doc and "0013" not in doc
    assert sorted(raw(session, SearchLine.line)) == ["li wei group", "li wei trading"]


def test_rotate_keys_reencrypts_with_the_newest_key(session, engine, database_url, monkeypatch, capsys):
    add_customer(session, "Written Plain", email=EMAIL, phone=PHONE)  # before encryption was turned on
    assert EMAIL in raw(session, Customer.search_doc)[0]  # plain data is searched in plain
    assert EMAIL in raw(session, SearchLine.line)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("ENCRYPTION_KEYS", KEY1)
    assert main(["rotate-keys"]) == 0
    assert raw(session, Customer.email)[0].startswith("gAAAAA")
    [doc] = raw(session, Customer.search_doc)
    assert "written plain" in doc and EMAIL not in doc and "0013" not in doc
    assert raw(session, SearchLine.line) == ["written plain"]  # the e-mail and phone left the lines too
    monkeypatch.setenv("ENCRYPTION_KEYS", f"{KEY2},{KEY1}")
    assert main(["rotate-keys"]) == 0
    assert "rows re-encrypted" in capsys.readouterr().out
    crypto.configure(KEY2)  # the old key is gone: everything must read with the new one alone
    try:
        [customer] = customers_of(session)
        assert (customer.email, customer.phone) == (EMAIL, PHONE)
        assert customer.email_hash == crypto.lookup_hash("email", EMAIL)
    finally:
        crypto.configure(None)


def test_rotate_keys_without_keys_says_what_is_missing(database_url, monkeypatch, capsys, engine):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("ENCRYPTION_KEYS", raising=False)
    assert main(["rotate-keys"]) == 2
    assert "ENCRYPTION_KEYS is missing" in capsys.readouterr().err


# --- a realistic session leaves no personal value readable in the database -----------------------

# Values typed in during the session: none of them may be stored readable. Name, company,
# contact person and tags stay plain (search needs them); the name proves the reads see the data.
NAME, COMPANY, CONTACT, TAGS = "Quillfeather Mills", "Quillfeather Group", "Odalys Brennagh", "seaweed-vip"
MEMBER_NAME = "Perpetua Vandersloot"
PROFILE = {"Title": "Head of Kelp Procurement", "Email": "odalys.first@quill.example", "Phone": "+44 20 7946 0321",
           "Address": "14 Wharfside Lane, Dunmore", "Needs": "seasonal kelp supply",
           "Preferences": "calls after lunch only"}  # fmt: skip
EDITED = {"Email": "odalys.second@quill.example", "Phone": "+44 20 7946 0999", "Address": "88 Ropewalk Street, Dunmore",
          "Needs": "weekly kelp deliveries with a cold chain"}  # fmt: skip
TOUCH = {"Summary": "discussed the harbour expansion plan", "Outcome": "agreed to a trial shipment",
         "Next step": "send the trial invoice"}  # fmt: skip
COMPLAINT = {"Title": "Trial shipment arrived soggy", "Description": "three pallets were waterlogged on arrival"}
RESOLUTION = "replaced the pallets free of charge"
PERSONAL = [MEMBER_NAME, *PROFILE.values(), *EDITED.values(), *TOUCH.values(), *COMPLAINT.values(), RESOLUTION]


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def _stored_bytes(engine) -> dict[str, bytes]:
    """What the database holds, as raw bytes: SQLite's file and its write-ahead log, each read
    as it is (no checkpoint first); on PostgreSQL the text of every row of every table."""
    if engine.dialect.name == "sqlite":
        path = Path(make_url(str(engine.url)).database)
        # Read in another process: closing a descriptor of an open SQLite database in this
        # process would drop SQLite's POSIX locks on it (SQLite's own docs).
        return {p.name: subprocess.run(["cat", str(p)], capture_output=True, check=True).stdout
                for p in (path, path.with_name(path.name + "-wal"))}  # fmt: skip
    with engine.connect() as conn:
        return {table.name: "\n".join(conn.execute(text(f'SELECT t::text FROM "{table.name}" t')).scalars()).encode()
                for table in Base.metadata.sorted_tables}  # fmt: skip


def test_a_realistic_session_stores_no_personal_value_readable(encrypted, fake, session, engine, settings):
    fake.add_user(USER, name=MEMBER_NAME)
    with freeze_time("2026-12-01T09:00:00Z"):  # a Tuesday
        encrypted.command("new")
        encrypted.submit(fake.last("views.open")["view"], {"Name": NAME, "Company": COMPANY, "Contact person": CONTACT,
                                                           "Tags": TAGS, **PROFILE})  # fmt: skip
        encrypted.command(f"edit {NAME}")
        encrypted.submit(fake.last("views.open")["view"], EDITED)  # the audit trail records old -> new
        encrypted.command(f"touch {NAME}")
        encrypted.submit(fake.last("views.open")["view"], {**TOUCH, "Next revisit": "2026-12-02",
                                                           "Next step due": "2026-12-02"})  # fmt: skip
        encrypted.command(f"complaint {NAME}")
        encrypted.submit(fake.last("views.open")["view"], {**COMPLAINT, "Severity": "High"})
    scheduler = Scheduler(settings, make_session_factory(engine))
    for instant in ("2026-12-01T12:12:00", "2026-12-01T13:00:00", "2026-12-02T09:00:00"):
        scheduler.run_jobs(_utc(instant))  # complaint warning and escalation, then the revisit digest
        session.expire_all()
        waiting = session.scalars(select(Notification).where(Notification.status == "pending")).all()
        session.commit()
        if instant.endswith("13:00:00"):  # the escalation waits with ids alone: its card is built when sent
            assert {n.kind for n in waiting} == {"escalation"}
            assert not any(COMPLAINT["Title"] in json.dumps(n.payload) for n in waiting)
        if instant.endswith("09:00:00"):  # the digest, waiting to be sent, holds the follow-up's words encrypted
            assert any(TOUCH["Next step"] in json.dumps(n.payload) for n in waiting if n.kind == "digest")
            assert not any(TOUCH["Next step"].encode() in data for data in _stored_bytes(engine).values())
        scheduler.deliver(_utc(instant))
    with freeze_time("2026-12-02T10:00:00Z"):
        encrypted.command("resolve #1")
        encrypted.submit(fake.last("views.open")["view"], {"Resolution": RESOLUTION, "Satisfaction": "4"})

    # Everything typed was kept, and read back in plain by the product.
    card = encrypted.command(f"show {NAME}").shown
    assert EDITED["Email"] in card and EDITED["Address"] in card and TOUCH["Summary"] in card
    session.expire_all()
    updates = [a.changes for a in session.scalars(select(AuditEvent).where(AuditEvent.action == "update"))]
    assert {"email": [PROFILE["Email"], EDITED["Email"]]}.items() <= next(c for c in updates if "email" in c).items()
    sent = session.scalars(select(Notification).where(Notification.status == "sent")).all()
    assert {n.kind for n in sent} >= {"escalation", "digest"}
    assert all(n.payload == {} for n in sent)  # once Slack has them, what they said is not kept
    assert any(COMPLAINT["Title"] in json.dumps(c.args) for c in fake.calls_to("chat.postMessage"))
    assert RESOLUTION in session.scalars(select(ComplaintEvent.note)).all()
    assert session.scalars(select(Member.name)).all() == [MEMBER_NAME]
    session.commit()

    stored = _stored_bytes(engine)
    assert NAME.encode() in b"".join(stored.values())  # plain by design: the reads do see the data
    for where, data in stored.items():
        leaks = [value for value in PERSONAL if value.encode() in data]
        assert not leaks, f"{where} holds {leaks}"



def test_a_complaint_title_keeps_its_300_character_limit_though_its_token_is_longer(encrypted, fake, session):
    add_customer(session, "Li Wei Trading")
    encrypted.command("complaint Li Wei Trading")
    view = fake.last("views.open")["view"]
    assert encrypted.submit(view, {"Title": "x" * 301}).json["errors"] == {"title": "Keep this under 300 characters."}
    encrypted.submit(view, {"Title": "长" * 300})
    [stored] = raw(session, Complaint.title)
    assert stored.startswith("gAAAAA") and len(stored) > 300
    assert "长" * 300 in encrypted.command("complaints").shown


def _rotate_keys(database_url: str, keys: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "ENCRYPTION_KEYS"))}
    return run_bot("rotate-keys", env={**env, "DATABASE_URL": database_url, "ENCRYPTION_KEYS": keys})


def test_rotate_keys_with_a_key_that_does_not_open_the_data_says_so_and_changes_nothing(session, engine, database_url):
    crypto.configure(KEY1)
    try:
        customer = add_customer(session, "Li Wei Trading", email=EMAIL, title="Buyer")
        complaint = Complaint(team_id=TEAM, number=1, customer_id=customer.id, title="Damaged goods", author_id=USER)
        session.add(complaint)
        session.commit()
        complaint_id = complaint.id
    finally:
        crypto.configure(None)
    before = raw(session, Customer.email) + raw(session, Complaint.title) + raw(session, AuditEvent.changes)

    result = _rotate_keys(database_url, KEY2)  # KEY1, which wrote the data, is not in the list
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("touchbase:")]
    assert line.startswith("touchbase: ENCRYPTION_KEYS cannot decrypt the stored data (")
    assert " of row " in line and line.endswith("put the key it was written with after the new one, "
                                               "then run rotate-keys again")  # fmt: skip
    assert raw(session, Customer.email) + raw(session, Complaint.title) + raw(session, AuditEvent.changes) == before

    result = _rotate_keys(database_url, f"{KEY2},{KEY1}")  # as the message says
    assert result.returncode == 0, result.stderr
    crypto.configure(KEY2)  # the old key is gone: everything must read with the new one alone
    try:
        session.expire_all()
        assert session.get(Complaint, complaint_id).title == "Damaged goods"
        assert session.scalars(select(AuditEvent.changes)).first()
        session.commit()
    finally:
        crypto.configure(None)


def test_reminders_the_outbox_writes_in_sql_are_plain_ids_sent_with_keys_set_and_rotated(
    session, engine, settings, fake, database_url, monkeypatch
):
    crypto.configure(KEY1)
    try:
        customer = add_customer(session, "Li Wei Trading", owner_id=USER, email=EMAIL)
        session.add(Member(team_id=TEAM, user_id=USER, tz="UTC", locale="en-US", digest_enabled=False,
                           profile_fetched_at=_utc("2026-12-01T08:00:00")))  # fmt: skip
        customer.next_revisit = dt.date(2026, 12, 1)
        session.commit()
        customer_id = customer.id
        other = add_customer(session, "Zhou Freight", owner_id=USER)
        other.next_revisit = dt.date(2026, 12, 2)
        session.commit()
        other_id = other.id
        scheduler = Scheduler(settings, make_session_factory(engine))
        scheduler.run_jobs(_utc("2026-12-01T09:00:00"))
        [stored] = raw(session, Notification.payload)
        assert json.loads(stored)["customer_id"] == customer_id  # ids and dates, written in SQL, in plain
        assert scheduler.deliver(_utc("2026-12-01T09:00:00")).sent == 1  # read plain with keys set
        assert "Li Wei Trading" in fake.last("chat.postMessage")["text"]
        scheduler.run_jobs(_utc("2026-12-02T09:00:00"))  # the other one's, left waiting
    finally:
        crypto.configure(None)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ENCRYPTION_KEYS", KEY1)
    assert main(["rotate-keys"]) == 0  # what waits to be sent is rotated as any other value
    assert all(stored.startswith("gAAAAA") for stored in raw(session, Notification.payload))
    crypto.configure(KEY1)
    try:
        session.expire_all()
        payloads = list(session.scalars(select(Notification.payload)))
        assert {} in payloads  # what was sent is not kept
        assert other_id in {p["customer_id"] for p in payloads if p}
        session.commit()
        assert scheduler.deliver(_utc("2026-12-02T09:00:00")).sent >= 1
        assert any("Zhou Freight" in c.args["text"] for c in fake.calls_to("chat.postMessage"))
    finally:
        crypto.configure(None)


def test_the_escalations_narrowing_reads_the_steps_sent_as_the_job_does_with_keys_set(session, engine):
    """A step's record (`cycle:step`) is stored encrypted; the narrowing, reading many
    workspaces' records past the ORM, finds it sent all the same, and leaves the workspace out."""
    logged, now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC), dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
    crypto.configure(KEY1)
    try:
        customer = add_customer(session, "Acme Ltd", owner_id=USER)
        add_complaint(session, customer.id, "Late delivery", now=logged)
        assert CANDIDATES["complaint_escalations"](session, [TEAM], now, "UTC") == [TEAM]
        session.rollback()
        factory = make_session_factory(engine)
        assert jobs.run_jobs(factory, now=now, directories=lambda _team: None, only=["complaint_escalations"])[
            "complaint_escalations"] >= 1  # fmt: skip
        recorded = session.scalars(select(type_coerce(ComplaintEvent.note, Text))
                                   .where(ComplaintEvent.kind == "escalated")).all()  # fmt: skip
        assert recorded and all(note.startswith("gAAAAA") for note in recorded), recorded
        assert CANDIDATES["complaint_escalations"](session, [TEAM], now, "UTC") == []
        session.rollback()
    finally:
        crypto.configure(None)
