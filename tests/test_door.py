"""The door (`access.customer`) remembers whom it let through within a unit of work, so a card
that asks five times reads the customer once; these check it never answers from memory what
it would now refuse."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, update

from bot.services import access
from bot.services.access import Viewer
from bot.services.errors import UserError
from bot.storage.models import Complaint, Customer, FollowUp, Touch
from tests.helpers import add_customer
from tests.slackclient import TEAM, USER

OTHER = "U0OTHER01"
NOW = dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC)


def owner_view(user: str) -> Viewer:
    """A member of a closed workspace: sees the customers they own."""
    return Viewer(team_id=TEAM, user_id=user, sees_all=False)


def refused(session, viewer: Viewer, customer_id: int, **how: bool) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(UserError) as caught:
        access.customer(session, viewer, customer_id, **how)
    return caught.value.key


def test_another_viewer_is_refused_after_the_owner_was_let_through(session):
    acme = add_customer(session, "Acme", owner_id=USER)
    assert access.customer(session, owner_view(USER), acme.id).id == acme.id
    assert refused(session, owner_view(OTHER), acme.id) == "error.customer.hidden"


@pytest.mark.parametrize("flushed", [False, True])
def test_a_customer_given_to_someone_else_is_refused_to_its_old_owner_at_once(session, flushed):
    acme = add_customer(session, "Acme", owner_id=USER)
    assert access.customer(session, owner_view(USER), acme.id).id == acme.id
    acme.owner_id = OTHER
    if flushed:
        session.flush()
    assert refused(session, owner_view(USER), acme.id) == "error.customer.hidden"
    assert access.customer(session, owner_view(OTHER), acme.id).id == acme.id
    session.rollback()


@pytest.mark.parametrize("flushed", [False, True])
def test_a_deleted_customer_is_gone_at_once(session, flushed):
    acme = add_customer(session, "Acme", owner_id=USER)
    assert access.customer(session, owner_view(USER), acme.id).id == acme.id
    session.delete(acme)
    if flushed:
        session.flush()
    assert refused(session, owner_view(USER), acme.id) == "error.customer.gone"
    session.rollback()


def test_a_touch_deleted_takes_the_follow_up_that_let_them_see_its_customer(session):
    """The database deletes a touch's follow-ups with it, out of the session's sight: a
    delete forgets every answer."""
    acme = add_customer(session, "Acme", owner_id=OTHER)
    touch = Touch(team_id=TEAM, customer=acme, author_id=USER, kind="call", summary="Hi", happened_at=NOW)
    session.add(touch)
    session.flush()
    session.add(FollowUp(team_id=TEAM, customer=acme, touch=touch, assignee_id=USER, due_on=NOW.date()))
    session.commit()
    session.expire_all()
    assert access.customer(session, owner_view(USER), acme.id).id == acme.id  # through the follow-up
    session.delete(session.get(Touch, touch.id))
    session.flush()
    assert refused(session, owner_view(USER), acme.id) == "error.customer.hidden"
    session.rollback()


def test_a_customer_given_away_by_an_update_statement_is_refused_at_once(session):
    acme = add_customer(session, "Acme", owner_id=USER)
    assert access.customer(session, owner_view(USER), acme.id).id == acme.id
    session.execute(update(Customer).where(Customer.id == acme.id).values(owner_id=OTHER))
    session.expire_all()
    assert refused(session, owner_view(USER), acme.id) == "error.customer.hidden"
    session.rollback()


def test_a_complaint_no_longer_theirs_is_refused_at_once_after_a_flush(session):
    """Seen through a complaint assigned to them: once it goes to someone else, refused."""
    acme = add_customer(session, "Acme", owner_id=OTHER)
    complaint = Complaint(team_id=TEAM, customer_id=acme.id, number=1, title="Late", state="open", author_id=OTHER,
                          assignee_id=USER, opened_at=NOW)  # fmt: skip
    session.add(complaint)
    session.flush()
    assert access.customer(session, owner_view(USER), acme.id).id == acme.id
    complaint.assignee_id = OTHER
    session.flush()
    assert refused(session, owner_view(USER), acme.id) == "error.customer.hidden"
    session.rollback()


def test_a_savepoint_rolled_back_takes_back_what_the_door_let_through_inside_it(session):
    acme = add_customer(session, "Acme", owner_id=USER)
    savepoint = session.begin_nested()
    acme.owner_id = OTHER
    session.flush()
    assert access.customer(session, owner_view(OTHER), acme.id).id == acme.id
    savepoint.rollback()
    assert acme.owner_id == USER
    assert refused(session, owner_view(OTHER), acme.id) == "error.customer.hidden"
    session.rollback()


def test_a_write_that_changes_no_ones_view_keeps_the_answer(session):
    """A touch logged (its rows flushed) does not make its customer another person's: the
    health read after it does not ask the door's question again (one read a touch less)."""
    acme = add_customer(session, "Acme", owner_id=USER)
    session.commit()
    viewer = owner_view(USER)
    assert access.customer(session, viewer, acme.id, for_update=True).id == acme.id
    session.add(Touch(team_id=TEAM, customer=acme, author_id=USER, kind="call", summary="Hi", happened_at=NOW))
    acme.last_touch_at = NOW
    session.flush()
    asked: list[str] = []

    def ask(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        asked.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", ask)
    try:
        assert access.customer(session, viewer, acme.id).id == acme.id
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", ask)
    assert asked == []
    session.rollback()


def test_a_customer_locked_is_not_read_again_to_be_locked_until_the_transaction_ends(session):
    """A customer's channel message reads its customer for update, then logs a touch, which
    asks for the customer for update again: the row is locked already, so that is no read.
    A customer only seen (not locked) is read again to be locked, and a new transaction locks
    anew."""
    acme = add_customer(session, "Acme", owner_id=USER)
    session.commit()
    viewer = owner_view(USER)
    asked: list[str] = []

    def ask(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        asked.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", ask)
    try:
        access.customer(session, viewer, acme.id)
        seen = len(asked)
        access.customer(session, viewer, acme.id, for_update=True)
        assert len(asked) > seen  # seen, not locked: read again, for update
        locked = len(asked)
        assert access.customer(session, viewer, acme.id, for_update=True).id == acme.id
        assert access.customer(session, viewer, acme.id).id == acme.id
        assert len(asked) == locked
        session.rollback()
        access.customer(session, viewer, acme.id, for_update=True)
        assert len(asked) > locked
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", ask)
    session.rollback()


def test_a_customer_read_for_update_is_one_read_on_sqlite_and_asked_after_its_lock_on_postgresql(session):
    """PostgreSQL reads a locking statement's subqueries as of before it waited, so whether the
    viewer sees the customer is asked once the lock is held, unless the locked row shows them
    its owner. SQLite has no row locks: a writer holds the whole database from its BEGIN
    IMMEDIATE, and a transaction's reads see one snapshot, so the door's question goes in the
    same read."""
    acme_id = add_customer(session, "Acme", owner_id=USER).id
    session.commit()
    asked: list[str] = []

    def ask(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            asked.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", ask)
    try:
        assert access.customer(session, owner_view(USER), acme_id, for_update=True).id == acme_id
        owner_reads = len(asked)
        session.rollback()
        assert refused(session, owner_view(OTHER), acme_id, for_update=True) == "error.customer.hidden"
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", ask)
    assert owner_reads == 1
    assert len(asked) - owner_reads == (1 if session.get_bind().dialect.name == "sqlite" else 2)
    session.rollback()


def test_a_customer_locked_is_read_from_its_row_not_from_an_earlier_read(session, engine):
    """Read, then changed by another transaction (a new owner), then locked: the door gives the
    row as it is once locked, not as the session first saw it (the importer reads a customer
    before it updates it, and the update locks it through the door)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite: a writer holds the whole database, nothing is written in between")

    acme = add_customer(session, "Acme", owner_id=USER)
    session.commit()
    assert access.customer(session, Viewer.whole_team(TEAM), acme.id).owner_id == USER
    with engine.begin() as other:
        other.execute(update(Customer).where(Customer.id == acme.id).values(owner_id=OTHER))
    assert access.customer(session, Viewer.whole_team(TEAM), acme.id, for_update=True).owner_id == OTHER
    session.rollback()
