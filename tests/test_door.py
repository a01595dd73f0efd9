"""The door (`access.customer`) remembers whom it let through within a unit of work, so a card
that asks five times reads the customer once; these check it never answers from memory what
it would now refuse."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from bot.services import access
from bot.services.access import Viewer
from bot.services.errors import UserError
from bot.storage.models import Customer
from tests.helpers import add_customer
from tests.slackclient import TEAM, USER

OTHER = "U0OTHER01"


def owner_view(user: str) -> Viewer:
    """A member of a closed workspace: sees the customers they own."""
    return Viewer(team_id=TEAM, user_id=user, sees_all=False)


def refused(session, viewer: Viewer, customer_id: int) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(UserError) as caught:
        access.customer(session, viewer, customer_id)
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


def test_a_deleted_customer_is_gone_at_once(session):
    acme = add_customer(session, "Acme", owner_id=USER)
    assert access.customer(session, owner_view(USER), acme.id).id == acme.id
    session.delete(acme)
    assert refused(session, owner_view(USER), acme.id) == "error.customer.gone"
    session.rollback()


def test_a_customer_given_away_by_an_update_statement_is_refused_at_once(session):
    acme = add_customer(session, "Acme", owner_id=USER)
    assert access.customer(session, owner_view(USER), acme.id).id == acme.id
    session.execute(update(Customer).where(Customer.id == acme.id).values(owner_id=OTHER))
    session.expire_all()
    assert refused(session, owner_view(USER), acme.id) == "error.customer.hidden"
    session.rollback()
