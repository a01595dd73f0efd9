"""Customer health: the pure formula, each rule worked out by hand, and the SQL that feeds it."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.services.health import Reason, Signals, at_risk, customer_health, score
from bot.services.workspaces import get_workspace
from bot.storage.models import Complaint, Customer, RevisitDone
from tests.helpers import add_customer, as_admin
from tests.slackclient import TEAM, USER

NOW = dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC)
TODAY = NOW.date()


def days_ago(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.mark.parametrize(
    ("signals", "expected", "reasons"),
    [
        (Signals(interval_days=30, created_at=days_ago(400), last_touch_at=days_ago(10)), 100, ()),
        # 40 × (47 − 30) / 30 = 22.7 → 23
        (Signals(interval_days=30, created_at=days_ago(400), last_touch_at=days_ago(47)), 77,
         (Reason("health.no_touch", {"days": 47, "interval": 30}),)),
        # 40 × 93 / 7 is over the cap of 40
        (Signals(interval_days=7, created_at=days_ago(100)), 60,
         (Reason("health.never_touched", {"days": 100, "interval": 7}),)),
        # 5 + 3 days
        (Signals(interval_days=30, created_at=days_ago(1), next_revisit=TODAY - dt.timedelta(days=3)), 92,
         (Reason("health.revisit_overdue", {"days": 3}),)),
        # 5 + 30 capped at 20
        (Signals(interval_days=30, created_at=days_ago(1), next_revisit=TODAY - dt.timedelta(days=30)), 80,
         (Reason("health.revisit_overdue", {"days": 30}),)),
        (Signals(interval_days=30, created_at=days_ago(1), next_revisit=TODAY), 100, ()),  # due today is not overdue
        # open: 3 × 10 capped at 20; breached: 15
        (Signals(interval_days=30, created_at=days_ago(1), open_complaints=3, breached_complaints=1), 65,
         (Reason("health.open_complaints", {"count": 3}), Reason("health.breached", {"count": 1}))),
        # breached: 3 × 15 capped at 30; open 20
        (Signals(interval_days=30, created_at=days_ago(1), open_complaints=3, breached_complaints=3), 50, None),
        (Signals(interval_days=30, created_at=days_ago(1), satisfaction_recent=2.0, satisfaction_before=4.0), 80,
         (Reason("health.satisfaction_low", {"recent": "2.0"}),)),
        (Signals(interval_days=30, created_at=days_ago(1), satisfaction_recent=3.5, satisfaction_before=4.5), 90,
         (Reason("health.satisfaction_falling", {"before": "4.5", "recent": "3.5"}),)),
        (Signals(interval_days=30, created_at=days_ago(1), satisfaction_recent=4.2, satisfaction_before=4.5), 100, ()),
        # 40 + 20 + 20 + 30 + 20 = 130: never below 0
        (Signals(interval_days=7, created_at=days_ago(99), next_revisit=TODAY - dt.timedelta(days=60),
                 open_complaints=2, breached_complaints=2, satisfaction_recent=1.0), 0, None),
    ],
)  # fmt: skip
def test_score(signals, expected, reasons):
    health = score(signals, now=NOW, today=TODAY)
    assert health.score == expected
    if reasons is not None:
        assert health.reasons == reasons


def _customer(session, number, grade, *, last_touch=None, created=400, next_revisit=None, team=TEAM) -> Customer:
    get_workspace(session, team)
    c = Customer(team_id=team, number=number, name=f"C{number}", name_key=f"c{number}", grade=grade, owner_id="U1",
                 created_at=days_ago(created), last_touch_at=last_touch and days_ago(last_touch),
                 next_revisit=next_revisit)  # fmt: skip
    session.add(c)
    session.flush()
    return c


def test_at_risk_scores_only_customers_with_warning_signs_lowest_first(session):
    c1 = _customer(session, 1, "A", last_touch=10)  # interval 7: 40 × 3 / 7 = 17.1 → 83
    _customer(session, 2, "B", last_touch=10)  # within 30 days: not at risk
    c3 = _customer(session, 3, None, created=40, next_revisit=TODAY - dt.timedelta(days=2))  # 13 + 7 → 80
    c4 = _customer(session, 4, "C", last_touch=1)
    _customer(session, 5, "A", last_touch=100, team="T0000002")  # another workspace
    complaint = {"team_id": TEAM, "customer_id": c4.id, "title": "t", "author_id": "U1"}
    session.add_all([
        Complaint(number=1, state="resolved", opened_at=days_ago(12), resolved_at=days_ago(10), satisfaction=2, **complaint),
        Complaint(number=2, state="closed", opened_at=days_ago(130), resolved_at=days_ago(120), satisfaction=5, **complaint),
        Complaint(number=3, state="open", opened_at=days_ago(3), resolution_due=days_ago(1), **complaint),
    ])  # fmt: skip
    session.commit()
    # c4: satisfaction 2.0 lately (20), one open complaint (10) past its SLA (15): 55
    risky = at_risk(session=session, viewer=as_admin(team=TEAM), now=NOW, today=TODAY)
    assert [(r.customer.id, r.health.score) for r in risky] == [(c4.id, 55), (c3.id, 80), (c1.id, 83)]
    assert customer_health(session=session, viewer=as_admin(team=TEAM), customer=c4, now=NOW, today=TODAY).reasons == (
        Reason("health.open_complaints", {"count": 1}),
        Reason("health.breached", {"count": 1}),
        Reason("health.satisfaction_low", {"recent": "2.0"}),
    )  # fmt: skip
    assert customer_health(session=session, viewer=as_admin(team=TEAM), customer=c1, now=NOW, today=TODAY).score == 83


def test_a_touch_does_the_scheduled_revisit_and_records_its_dates(slack, fake, session):
    with freeze_time("2026-11-25T10:00:00+00:00"):
        add_customer(session, "Acme", grade="B")
        slack.command("revisit Acme 2026-11-27")
        slack.command("touch Acme")
        slack.submit(fake.last("views.open")["view"], {"Summary": "called"})
    with freeze_time("2026-12-28T10:00:00+00:00"):
        slack.command("touch Acme")
        slack.submit(fake.last("views.open")["view"], {"Summary": "called again"})
    session.expire_all()
    rows = session.scalars(select(RevisitDone).order_by(RevisitDone.id)).all()
    # The first touch did the revisit due 11-27 early; the second, three days late, the one
    # the first touch set (11-25 + 30 days for grade B).
    assert [(r.due_on.isoformat(), r.done_on.isoformat(), r.owner_id) for r in rows] == [
        ("2026-11-27", "2026-11-25", USER), ("2026-12-25", "2026-12-28", USER)]  # fmt: skip
    session.delete(rows[1].touch)  # as delete_touch does: the revisit it did goes with it
    session.commit()
    assert [r.due_on.isoformat() for r in session.scalars(select(RevisitDone))] == ["2026-11-27"]


def test_grade_suggestions_follow_the_rules_and_change_nothing(session):
    from bot.services.health import grade_suggestions
    from bot.storage.models import Touch, Workspace

    c1 = _customer(session, 1, "C")  # 6 touches in 90 days: A
    c2 = _customer(session, 2, "A")  # 2 touches (one older than 90 days does not count): B
    c3 = _customer(session, 3, None)  # tagged VIP: A
    c3.tags = "Beijing, VIP"
    c4 = _customer(session, 4, "C")  # nothing: C already, not listed
    c4.tags = "vipx"  # a tag is compared whole
    for customer, days in [(c1, d) for d in range(1, 7)] + [(c2, 5), (c2, 80), (c2, 91)]:
        session.add(Touch(team_id=TEAM, customer_id=customer.id, author_id="U1", kind="call", summary="s",
                          happened_at=days_ago(days)))  # fmt: skip
    session.commit()
    found = grade_suggestions(session=session, viewer=as_admin(team=TEAM), now=NOW)
    assert [(s.customer.number, s.grade, s.suggested, s.touches) for s in found] == [
        (1, "C", "A", 6), (2, "A", "B", 2), (3, None, "A", 0)]  # fmt: skip
    session.get(Workspace, TEAM).settings = {"grade_rules": {"a_touches": 10, "b_touches": 5, "a_tags": []}}
    session.commit()
    found = grade_suggestions(session=session, viewer=as_admin(team=TEAM), now=NOW)
    assert [(s.customer.number, s.suggested) for s in found] == [(1, "B"), (2, "C"), (3, "C")]
    session.expire_all()
    assert session.get(Customer, c1.id).grade == "C"  # suggestions only
