"""Encryption at rest: personal fields stored encrypted, still found, and keys rotated."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Text, select, type_coerce

from bot.__main__ import main
from bot.storage import crypto
from bot.storage.models import Customer, SearchLine, Touch
from tests.conftest import BOT_TOKEN, serve_bot
from tests.helpers import add_customer, customers_of
from tests.slackclient import SignedSlack

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
