"""`/crm complaints` is ordered and cut to a page by the database: the same complaints in the
same order as sorting every active complaint's clocks in Python (the way it was done before,
kept here as the reference), over a varied history: paused, resumed, reopened twice,
resolved, 24/7 severities, holidays and split shifts, and deadlines a calendar change left
outside working hours.

The history is stored once and read as of many instants, some before its events. One kind of
read could never happen: a complaint's, before the pause that came after its deadline (the
store says "paused late", which only a later instant can know). The database counts such a
complaint overdue from its missed deadline on; the clocks, from any instant. At those instants
the others are compared."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select, text

from bot.services import complaints
from bot.services.access import Viewer
from bot.services.complaints import SEVERITY_RANK, ComplaintCard, ComplaintInput, ResolveInput
from bot.services.sla import ACTIVE, clocks, team_rules
from bot.services.workspaces import get_workspace
from bot.storage.models import Complaint, Customer
from tests.helpers import add_complaint, add_customer, as_admin
from tests.slackclient import TEAM

CST = ZoneInfo("Asia/Shanghai")
SPLIT = {d: ["09:00-12:00", "13:30-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
PEOPLE = ("U0000001", "U0000002", "U0000003")
START = dt.datetime(2026, 9, 24, 8, 0, tzinfo=CST)  # a week before National Day (Oct 1-7; Sat Oct 10 works)


def reference(session, viewer: Viewer, view: str, now: dt.datetime) -> list[ComplaintCard]:
    """The list as the service built it before: every active complaint's clocks, sorted in Python."""
    calendar, policy = team_rules(session, viewer.team_id)
    query = select(Complaint).where(Complaint.team_id == viewer.team_id, Complaint.state.in_(ACTIVE),
                                    viewer.complaints())  # fmt: skip
    if view == "mine":
        query = query.where(Complaint.assignee_id == viewer.user_id)
    rows = list(session.scalars(query.order_by(Complaint.number)))
    customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.team_id == viewer.team_id))}
    cards = [ComplaintCard(c, customers[c.customer_id], clocks(c, now, calendar, policy)) for c in rows]
    if view == "overdue":
        cards = [c for c in cards if c.clocks.overdue]
    cards.sort(key=lambda k: (not k.clocks.overdue, deadline(k), SEVERITY_RANK.get(k.complaint.severity, 9),
                              k.complaint.number))  # fmt: skip
    return cards


def deadline(card: ComplaintCard) -> dt.datetime:
    """Where a complaint sorts among the overdue or among the others: its next running deadline,
    or the resolution's it missed before it was paused, whichever is first (none: last)."""
    c, far = card.complaint, dt.datetime.max.replace(tzinfo=dt.UTC)
    missed = c.resolution_due if paused_late(c) else None
    return min(d for d in (card.clocks.next_deadline, missed, far) if d)


def paused_late(c: Complaint) -> bool:
    return c.paused_at is not None and c.resolution_due is not None and c.resolution_due <= c.paused_at


def _history(session) -> None:
    """About 80 complaints logged over three weeks, each then moved along at random instants."""
    workspace = get_workspace(session, TEAM)
    workspace.settings = {
        "tz": "Asia/Shanghai", "working_hours": SPLIT, "holidays_country": "CN", "visibility": "owner",
        "sla": {"urgent": {"first_response": "1h", "resolution": "8h", "calendar_hours": True},
                "high": {"first_response": "4h", "resolution": "1d"},
                "normal": {"first_response": "8h", "resolution": "3d"},
                "low": {"first_response": "24h", "resolution": "10d", "calendar_hours": True}},
    }  # fmt: skip
    session.commit()
    customers = [add_customer(session, f"Customer {i}", owner_id=PEOPLE[i % 3]).id for i in range(6)]
    rng = random.Random(18)
    admin = as_admin(PEOPLE[0])
    severities = list(SEVERITY_RANK)
    for n in range(80):
        at = START + dt.timedelta(minutes=rng.randrange(0, 21 * 24 * 60))
        data = ComplaintInput(customer=rng.choice(customers), title=f"Complaint {n}", severity=rng.choice(severities),
                              assignee_id=rng.choice(PEOPLE))  # fmt: skip
        made = complaints.create_complaint(session=session, viewer=admin, data=data, permalink=None, surface="test",
                                           now=at)  # fmt: skip
        session.commit()
        for _ in range(rng.randrange(0, 6)):
            at += dt.timedelta(minutes=rng.choice((5, 90, 600, 2000, 6000)))
            complaint = session.get_one(Complaint, made.complaint.id)
            action = rng.choice([a for a, (starts, _) in complaints.TRANSITIONS.items() if complaint.state in starts])
            complaints.change_state(session=session, viewer=admin, complaint_id=complaint.id, action=action,
                                    surface="test", now=at,
                                    resolution=ResolveInput(resolution="done") if action == "resolve" else None)
            session.commit()
    # Deadlines a later change of working hours left outside them (and generated data has such).
    odd = session.scalars(select(Complaint).where(Complaint.paused_at.is_(None), Complaint.state.in_(ACTIVE))
                          .order_by(Complaint.id).limit(6)).all()  # fmt: skip
    for i, complaint in enumerate(odd):
        saturday_night = dt.datetime(2026, 10, 17 + 7 * (i % 2), 3, 0, tzinfo=CST)
        complaint.resolution_due = saturday_night
        if i % 3 == 0:
            complaint.first_response_due = saturday_night - dt.timedelta(hours=1)
    session.commit()


def instants(deadlines: set[dt.datetime]) -> list[dt.datetime]:
    """Every 11 h 17 min over four weeks (working hours, nights, the holiday week, weekends),
    and just before, at and just after some of the stored deadlines."""
    second = dt.timedelta(seconds=1)
    some = random.Random(9).sample(sorted(deadlines), min(30, len(deadlines)))
    return [START + dt.timedelta(minutes=677 * i) for i in range(4 * 7 * 24 * 60 // 677)] + [
        d + delta for d in sorted(some) for delta in (-second, dt.timedelta(0), second)
    ]


@pytest.fixture
def history(session):
    _history(session)
    session.expire_all()
    deadlines = {d for c in session.scalars(select(Complaint)) for d in (c.first_response_due, c.resolution_due) if d}
    session.commit()
    return deadlines


def test_the_page_is_the_one_sorting_every_active_complaint_gave(session, history, monkeypatch):
    states = {c.state for c in session.scalars(select(Complaint))}
    cycles = {c.cycle for c in session.scalars(select(Complaint))}
    paused = session.scalars(select(Complaint).where(Complaint.paused_at.is_not(None))).all()
    session.commit()
    assert {"open", "acknowledged", "waiting", "in_progress", "resolved", "closed"} <= states and max(cycles) >= 3
    assert paused, "the history holds paused complaints"
    late_pauses = [c.paused_at for c in paused if paused_late(c)]
    assert late_pauses, "the history holds complaints paused after their deadline"
    viewers = [Viewer.whole_team(TEAM), Viewer(team_id=TEAM, user_id=PEOPLE[1], sees_all=False)]
    compared = overdue_seen = late_seen = 0
    for limit in (complaints.LIST_LIMIT, 1000):  # the page, and the whole order
        monkeypatch.setattr(complaints, "LIST_LIMIT", limit)
        for i, now in enumerate(instants(history)):
            for viewer in viewers[i % 2 :: 2]:
                for view in complaints.LIST_VIEWS:
                    if view == "mine" and viewer.user_id is None:
                        continue
                    got = complaints.list_complaints(session=session, viewer=viewer, view=view, now=now)
                    want = reference(session, viewer, view, now)
                    session.rollback()
                    # A read no instant can make (see above): compare the others' order.
                    unknowable = {c.complaint.number for c in want if paused_late(c.complaint)
                                  and c.complaint.paused_at > now}  # fmt: skip
                    got = [c for c in got if c.complaint.number not in unknowable]
                    want = [c for c in want if c.complaint.number not in unknowable]
                    assert len(got) >= min(len(want), limit - len(unknowable))
                    want = want[: len(got)]
                    assert [c.complaint.number for c in got] == [c.complaint.number for c in want], (now, viewer, view)
                    assert [c.clocks for c in got] == [c.clocks for c in want]
                    compared += 1
                    late_seen += sum(paused_late(c.complaint) and c.clocks.overdue for c in got)
                    overdue_seen += sum(c.clocks.overdue for c in got)
    assert compared > 300 and overdue_seen > 0 and late_seen > 0


def test_a_complaint_erased_while_the_list_is_read_is_left_out(session, engine):
    """The page's ids are read, then its rows: a complaint erased in between (with its customer,
    by an admin's erase) is left out of the page rather than failing it. PostgreSQL reads each
    statement as of its own start. (SQLite cannot: a transaction keeps one snapshot, and a
    writer waits for the one writer.)"""
    if engine.dialect.name != "postgresql":
        pytest.skip("a row erased between two reads of one transaction: PostgreSQL's read committed")
    kept, erased = (add_customer(session, name) for name in ("Kept Ltd", "Erased Ltd"))
    for customer in (kept, erased):
        add_complaint(session, customer.id, "Late", now=START)
    erased_meanwhile: list[int] = []

    def erase_between(_conn, _cursor, statement, *_args):
        if not erased_meanwhile and "WHERE complaint.id IN" in " ".join(statement.split()):
            with engine.begin() as other:
                other.execute(text("DELETE FROM customer WHERE id = :id"), {"id": erased.id})
            erased_meanwhile.append(erased.id)

    event.listen(engine, "before_cursor_execute", erase_between)
    try:
        cards = complaints.list_complaints(session=session, viewer=Viewer.whole_team(TEAM), now=START)
    finally:
        event.remove(engine, "before_cursor_execute", erase_between)
    assert erased_meanwhile, "the rows' read was not seen"
    assert [k.customer.name for k in cards] == ["Kept Ltd"]
