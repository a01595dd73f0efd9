"""Satisfaction check-ins: which customers are due, the 1-5 buttons, alerts to leads, and health."""

from __future__ import annotations

import datetime as dt

from freezegun import freeze_time
from sqlalchemy import select, update

from bot.scheduler.jobs import run_jobs
from bot.services import satisfaction
from bot.services.health import customer_health
from bot.services.satisfaction import checkins_due
from bot.storage.db import make_session_factory
from bot.storage.models import Customer, Member, Notification, SatisfactionScore
from bot.views import ids
from bot.views.reports import checkin_blocks
from tests.helpers import add_customer, as_admin
from tests.slackclient import TEAM, USER, block_text

NOW = dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC)
LEAD, MEMBER = "U00000LD", "U0000002"


def _age(session, customer, days: int) -> None:
    session.execute(update(Customer).where(Customer.id == customer.id).values(created_at=NOW - dt.timedelta(days=days)))
    session.commit()


def test_checkins_are_due_by_grade_interval_since_the_last_score(session):
    a_old = add_customer(session, "A old", grade="A", owner_id=USER)  # 100 days > 91: due
    a_new = add_customer(session, "A new", grade="A", owner_id=USER)  # 50 days: not yet
    c_old = add_customer(session, "C old", grade="C", owner_id=USER)  # 200 days < 365: not yet
    b_none = add_customer(session, "B none", owner_id=USER)  # no grade = B: 190 days > 182, due
    scored = add_customer(session, "A scored", grade="A", owner_id=USER)  # 300 days old, checked in 10 days ago
    for customer, days in [(a_old, 100), (a_new, 50), (c_old, 200), (b_none, 190), (scored, 300)]:
        _age(session, customer, days)
    session.add(SatisfactionScore(team_id=TEAM, customer_id=scored.id, score=4, recorded_by=USER,
                                  recorded_at=NOW - dt.timedelta(days=10)))  # fmt: skip
    session.commit()
    due = checkins_due(session=session, team_id=TEAM, today=NOW.date())
    assert [c.name for c in due] == ["B none", "A old"]  # the longest waiting first


def test_owners_asked_this_week_do_not_crowd_out_the_others(session, engine, monkeypatch):
    """The job reads a limited number of the longest-waiting customers due. USER, asked this
    week already, has the three oldest; MEMBER's one customer comes after them, and is asked."""
    monkeypatch.setattr(satisfaction, "CHECKINS_READ", 2)
    for n, days in enumerate((300, 290, 280)):
        _age(session, add_customer(session, f"Old {n}", grade="A", owner_id=USER), days)
    _age(session, add_customer(session, "Newer", grade="A", owner_id=MEMBER), 100)
    session.add(Notification(team_id=TEAM, key=satisfaction.checkin_key(USER, NOW.date()), kind="checkin", channel=USER,
                             payload={"text": "asked"}, status="sent", due_at=NOW, attempts=1, created_at=NOW))  # fmt: skip
    session.commit()
    written = run_jobs(make_session_factory(engine), now=NOW, directories=lambda _team: None,
                       only=["satisfaction_checkins"])  # fmt: skip
    assert written == {"satisfaction_checkins": 1}
    session.expire_all()
    asked = session.scalars(select(Notification).where(Notification.kind == "checkin", Notification.channel == MEMBER))
    [dm] = asked.all()
    assert dm.key == satisfaction.checkin_key(MEMBER, NOW.date()) and "Newer" in str(dm.payload)


@freeze_time(NOW)
def test_a_low_score_from_the_checkin_dm_is_kept_and_alerts_the_leads(slack, fake, session):
    customer = add_customer(session, "Acme", grade="A", owner_id=USER)
    session.add(Member(team_id=TEAM, user_id=LEAD, role="lead"))
    session.commit()
    dm = checkin_blocks(None, customer)
    assert "satisfaction check-in with *Acme (#1)*" in block_text(dm)
    slack.click(dm, "2")
    assert fake.last("response_url")["text"] == "Satisfaction 2/5 recorded for *Acme (#1)*. Thank you."
    alert = fake.last("chat.postMessage")
    assert alert["channel"] == LEAD and f"<@{USER}> recorded satisfaction 2/5 for *Acme (#1)*" in alert["text"]
    session.expire_all()
    [score] = session.scalars(select(SatisfactionScore)).all()
    assert (score.score, score.recorded_by) == (2, USER)
    # Health: a 2.0 average in the last 90 days costs 20 points.
    health = customer_health(session=session, viewer=as_admin(team=TEAM), customer=customer, now=NOW, today=NOW.date())
    assert (health.score, health.reasons[-1].key) == (80, "health.satisfaction_low")


@freeze_time(NOW)
def test_a_good_score_alerts_nobody_and_a_forged_one_is_refused(slack, fake, session):
    customer = add_customer(session, "Acme", owner_id=USER)
    session.add(Member(team_id=TEAM, user_id=LEAD, role="lead"))
    session.commit()
    slack.click(checkin_blocks(None, customer), "5")
    assert fake.calls_to("chat.postMessage") == []
    slack.action(ids.SATISFACTION_SCORE, '{"customer_id": %d, "score": 9}' % customer.id)
    assert fake.last("response_url")["text"] == "Give a score from 1 to 5."
    slack.action(ids.SATISFACTION_SCORE, '{"customer_id": 999, "score": 3}')
    assert "no longer exists" in fake.last("response_url")["text"]
    session.expire_all()
    assert [s.score for s in session.scalars(select(SatisfactionScore))] == [5]
