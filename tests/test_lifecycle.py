"""Stages end to end: every move by rule (second touch, health under 40 at a sweep, recovery at
a touch or a sweep) and by hand (prospect, customer, lost with each reason, won back), as the
card, the due list, the digest and the audit trail show them, in English and Chinese."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from freezegun import freeze_time
from sqlalchemy import event, select, update

from bot.scheduler.runner import Scheduler
from bot.services import lifecycle
from bot.services.customers import CustomerInput, create_customer
from bot.services.datacare import erase_customer
from bot.services.lifecycle import REASONS
from bot.storage.db import make_session_factory, unit_of_work
from bot.storage.models import AuditEvent, Complaint, Customer, Member, SatisfactionScore, StageChange
from tests.helpers import as_admin, customers_of, errors_logged, lock_waits, until
from tests.slackclient import TEAM, USER, block_text

UTC = dt.UTC
T0 = dt.datetime(2026, 10, 1, 10, 0, tzinfo=UTC)  # a Thursday
SWEEP = dt.datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday, 60 days later
ADMIN = "U00000AD"


@pytest.fixture
def scheduler(settings, engine):
    return Scheduler(settings, make_session_factory(engine))


def added(engine, name: str, at: dt.datetime, **fields: object) -> int:
    """A customer added as of `at` (through the service, as the modal adds it)."""
    with unit_of_work(make_session_factory(engine), now=at) as session:
        customer = create_customer(session=session, viewer=as_admin(), data=CustomerInput(name=name, **fields),
                                   surface="test")  # fmt: skip
        return customer.id


def touch(slack, fake, name: str, at: dt.datetime, **values: object) -> None:
    with freeze_time(at):
        slack.command(f"touch {name}")
        slack.submit(fake.last("views.open")["view"], {"Summary": "called", **values})


def stage_of(session, name: str) -> tuple[str, dt.datetime]:
    session.expire_all()
    customer = session.scalars(select(Customer).where(Customer.name == name)).one()
    session.commit()
    return customer.stage, customer.stage_since


def history(session, name: str) -> list[tuple[str | None, str, str | None]]:
    session.expire_all()
    rows = session.execute(
        select(StageChange.from_stage, StageChange.to_stage, StageChange.actor_id)
        .join(Customer, Customer.id == StageChange.customer_id).where(Customer.name == name).order_by(StageChange.id)
    ).all()  # fmt: skip
    session.commit()
    return [tuple(r) for r in rows]


def card(slack, name: str, **kw: object) -> str:
    return slack.command(f"show {name}", **kw).shown


# --- by rule -------------------------------------------------------------------------------------


def test_a_new_customer_becomes_active_at_its_second_touch(slack, fake, session, engine):
    added(engine, "Acme", T0, grade="B")
    assert stage_of(session, "Acme") == ("new", T0)
    touch(slack, fake, "Acme", T0 + dt.timedelta(days=1))
    assert stage_of(session, "Acme")[0] == "new"
    touch(slack, fake, "Acme", T0 + dt.timedelta(days=2))
    assert stage_of(session, "Acme") == ("active", T0 + dt.timedelta(days=2))
    assert history(session, "Acme") == [(None, "new", USER), ("new", "active", None)]  # None: by the rules
    with freeze_time(T0 + dt.timedelta(days=2)):
        assert "*Stage* Active since 2026-10-03" in card(slack, "Acme")


def test_touches_while_a_prospect_do_not_count_toward_active(slack, fake, session, engine):
    with freeze_time(T0):
        slack.command("new Beta")
        slack.submit(fake.last("views.open")["view"], {"Stage": "Prospect"})
    assert stage_of(session, "Beta") == ("prospect", T0)
    touch(slack, fake, "Beta", T0 + dt.timedelta(days=1))
    touch(slack, fake, "Beta", T0 + dt.timedelta(days=2))
    assert stage_of(session, "Beta")[0] == "prospect"  # prospects move by hand only
    with freeze_time(T0 + dt.timedelta(days=3)):
        slack.command("edit Beta")
        view = fake.last("views.open")["view"]
        [stage] = [b for b in view["blocks"] if b["block_id"] == "stage"]
        assert stage["element"]["initial_option"]["text"]["text"] == "Prospect"
        slack.submit(view, {"Stage": "Customer"})
    assert stage_of(session, "Beta") == ("new", T0 + dt.timedelta(days=3))
    touch(slack, fake, "Beta", T0 + dt.timedelta(days=4))
    assert stage_of(session, "Beta")[0] == "new"  # its first touch as a customer
    touch(slack, fake, "Beta", T0 + dt.timedelta(days=5))
    assert stage_of(session, "Beta")[0] == "active"
    changes = session.scalars(select(AuditEvent).where(AuditEvent.action == "stage")).all()
    assert [c.changes["stage"] for c in changes] == [["prospect", "new"]]


def test_a_customer_on_the_books_can_be_made_a_prospect_again(slack, fake, session, engine):
    added(engine, "Gamma", T0)
    with freeze_time(T0 + dt.timedelta(days=1)):
        slack.command("edit Gamma")
        slack.submit(fake.last("views.open")["view"], {"Stage": "Prospect"})
    assert stage_of(session, "Gamma")[0] == "prospect"
    assert history(session, "Gamma")[-1] == ("new", "prospect", USER)


def test_an_edit_that_also_makes_a_prospect_is_one_update_and_two_audit_rows(slack, fake, session, engine):
    added(engine, "Gamma", T0)
    updates: list[str] = []
    counted = lambda _c, _cur, statement, *_: updates.append(statement) if statement.startswith("UPDATE customer") else None  # noqa: E731
    event.listen(engine, "before_cursor_execute", counted)
    try:
        with freeze_time(T0 + dt.timedelta(days=1)):
            slack.command("edit Gamma")
            slack.submit(fake.last("views.open")["view"], {"Stage": "Prospect", "Name": "Gamma Two"})
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    assert stage_of(session, "Gamma Two")[0] == "prospect"
    assert len(updates) == 1, updates  # the audit's rows do not flush the edit before the stage is set
    trail = session.scalars(select(AuditEvent).where(AuditEvent.entity == "customer", AuditEvent.action != "create")
                            .order_by(AuditEvent.id)).all()  # fmt: skip
    assert [(a.action, sorted(a.changes)) for a in trail] == [("update", ["name"]), ("stage", ["stage"])]


def _neglected_active(slack, fake, session, engine) -> None:
    """Acme: active since T0 (two touches), grade B (30 days), and an open complaint."""
    added(engine, "Acme", T0 - dt.timedelta(days=1), grade="B")
    touch(slack, fake, "Acme", T0)
    touch(slack, fake, "Acme", T0)
    customer = customers_of(session)[0]
    session.add(Complaint(team_id=TEAM, number=1, customer_id=customer.id, title="late", author_id=USER,
                          assignee_id=USER, opened_at=T0))  # fmt: skip
    session.commit()


def test_the_sweep_moves_a_customer_whose_health_fell_under_40_to_at_risk_and_a_touch_brings_it_back(
    slack, fake, session, engine, scheduler
):
    _neglected_active(slack, fake, session, engine)
    # 60 days after its last touch: no touch for 60 days with a 30-day interval (−40), its
    # revisit of 2026-10-31 overdue by 30 days (−20), one open complaint (−10): health 30.
    scheduler.sweep(SWEEP)
    assert stage_of(session, "Acme") == ("at_risk", SWEEP)
    with freeze_time(SWEEP):
        assert "*Stage* At risk since 2026-11-30" in card(slack, "Acme")
    # A touch: no recency or overdue loss any more (−10 for the complaint): health 90.
    touch(slack, fake, "Acme", SWEEP + dt.timedelta(hours=1))
    assert stage_of(session, "Acme") == ("active", SWEEP + dt.timedelta(hours=1))
    assert history(session, "Acme")[-2:] == [("active", "at_risk", None), ("at_risk", "active", None)]


def test_the_sweep_leaves_a_customer_erased_while_at_risk_at_risk(slack, fake, session, engine, scheduler):
    """Its health (50 once erased: its revisits are off) would move it back to active, were it
    judged: an erased customer is not, it has no health to be judged by any more."""
    _neglected_active(slack, fake, session, engine)
    session.execute(update(Customer).values(stage="at_risk", stage_since=T0))
    session.commit()
    with unit_of_work(make_session_factory(engine), now=T0) as work:
        erase_customer(session=work, viewer=as_admin(), customer_id=customers_of(session)[0].id, surface="command")
    scheduler.sweep(SWEEP)
    assert stage_of(session, "Erased customer #1")[0] == "at_risk"


def test_a_touch_never_makes_a_customer_at_risk_the_sweep_does(slack, fake, session, engine, scheduler):
    """Two complaints past their SLA (−20 open, −30 breached) and a score of 1 this week (−20):
    health 30 however recent the last touch. A touch leaves the customer active (and writes
    no stage), the scheduler's next check moves it, and a touch then does not bring it back."""
    added(engine, "Acme", T0 - dt.timedelta(days=1), grade="B")
    touch(slack, fake, "Acme", T0)
    touch(slack, fake, "Acme", T0)
    assert stage_of(session, "Acme")[0] == "active"
    customer = customers_of(session)[0]
    session.add_all([Complaint(team_id=TEAM, number=n, customer_id=customer.id, title="late", author_id=USER,
                               assignee_id=USER, opened_at=T0, resolution_due=T0 + dt.timedelta(days=1))
                     for n in (1, 2)])  # fmt: skip
    session.add(SatisfactionScore(team_id=TEAM, customer_id=customer.id, score=1, recorded_by=USER,
                                  recorded_at=T0 + dt.timedelta(days=3)))  # fmt: skip
    session.commit()
    with freeze_time(T0 + dt.timedelta(days=4)):
        assert "*Health* 30" in card(slack, "Acme")
    touch(slack, fake, "Acme", T0 + dt.timedelta(days=4))
    assert stage_of(session, "Acme")[0] == "active"
    assert history(session, "Acme") == [(None, "new", USER), ("new", "active", None)]
    scheduler.sweep(T0 + dt.timedelta(days=4, hours=1))
    assert stage_of(session, "Acme") == ("at_risk", T0 + dt.timedelta(days=4, hours=1))
    touch(slack, fake, "Acme", T0 + dt.timedelta(days=4, hours=2))
    assert stage_of(session, "Acme")[0] == "at_risk"  # still 30: not healed


def test_a_touch_saved_while_the_sweep_scores_the_team_is_written_at_once_and_not_undone(
    slack, fake, session, engine, scheduler
):
    """The hourly check scores the team in a transaction that only reads, so a touch saved
    meanwhile is written at once, on SQLite too (it waited for the whole check before: seconds at
    100,000 customers). The check then locks the customer and scores it again: healthy after the
    touch, it stays active and no move is written."""
    _neglected_active(slack, fake, session, engine)
    customer_id = customers_of(session)[0].id
    session.commit()
    sweeping, saved = threading.current_thread(), []

    def save_touch() -> None:  # the touch as it would be committed: recent, its revisit ahead
        with unit_of_work(make_session_factory(engine), now=SWEEP) as other:
            other.execute(update(Customer).where(Customer.id == customer_id)
                          .values(last_touch_at=SWEEP, next_revisit=dt.date(2026, 12, 30)))  # fmt: skip

    with ThreadPoolExecutor(1) as pool:

        def touch_lands(conn, cursor, statement, parameters, context, executemany):
            if saved or threading.current_thread() is not sweeping or "satisfaction_score" not in statement:
                return
            saving = pool.submit(save_touch)
            try:
                saving.result(timeout=5)
                saved.append("while the check read")
            except TimeoutError:
                saved.append("not while the check read")

        event.listen(engine, "after_cursor_execute", touch_lands)
        try:
            scheduler.sweep(SWEEP)
        finally:
            event.remove(engine, "after_cursor_execute", touch_lands)
    assert saved == ["while the check read"]
    assert stage_of(session, "Acme")[0] == "active"
    assert history(session, "Acme") == [(None, "new", USER), ("new", "active", None)]
    with freeze_time(SWEEP):
        assert "*Health* 90" in card(slack, "Acme")


def test_a_merge_that_arrives_while_the_sweep_locks_customers_waits_for_it_without_a_deadlock(
    slack, fake, session, engine, scheduler, caplog, monkeypatch
):
    """The hourly check locks every customer whose stage it may move, and a merge its two, each
    in id order (PostgreSQL; SQLite's writers take turns). Acme (falling, the lower id) and Beta
    (at risk) are merged just after the check's first lock: the merge waits, then merges. Had the
    check locked those at risk first, it would have held Beta and waited for Acme while the merge
    held Acme and waited for Beta, and PostgreSQL would have ended one of them after a second."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite: one writer at a time")
    monkeypatch.setattr(lifecycle, "BATCH", 1)  # a lock a statement: the merge comes between the two
    caplog.set_level(logging.INFO)
    fake.add_user(ADMIN, is_admin=True)
    _neglected_active(slack, fake, session, engine)
    beta = added(engine, "Beta", T0, grade="B")
    session.execute(update(Customer).where(Customer.id == beta).values(stage="at_risk", stage_since=T0))
    session.commit()
    ask = slack.command("merge Acme Beta", user=ADMIN)
    sweeping, merging, waited = threading.current_thread(), [], []

    with lock_waits(engine) as waiting, ThreadPoolExecutor(1) as pool:

        def merge_arrives(conn, cursor, statement, parameters, context, executemany):
            if merging or threading.current_thread() is not sweeping:
                return
            if "FROM customer " in statement and "FOR UPDATE" in statement:
                merging.append(pool.submit(slack.click, ask.blocks, "Merge", user=ADMIN))
                until(lambda: waiting() == 1 or merging[0].done())
                waited.append(waiting() == 1)

        event.listen(engine, "after_cursor_execute", merge_arrives)
        try:
            scheduler.sweep(SWEEP)
        finally:
            event.remove(engine, "after_cursor_execute", merge_arrives)
        assert waited == [True], "the merge did not wait for the check"
        assert merging[0].result().status == 200
    assert not errors_logged(caplog), caplog.records
    assert [c.name for c in customers_of(session)] == ["Beta"]
    assert stage_of(session, "Beta") == ("active", SWEEP)  # healthy: brought back by the check, then merged into


def test_the_sweep_brings_a_recovered_customer_back_once_an_hour_at_most(slack, fake, session, engine, scheduler):
    _neglected_active(slack, fake, session, engine)
    scheduler.sweep(SWEEP)
    assert stage_of(session, "Acme")[0] == "at_risk"
    # Someone else's fix, not a touch: the complaint resolved and the revisit moved ahead; the
    # last touch is still 60 days old (−40): health 60.
    session.execute(update(Complaint).values(state="resolved", resolved_at=SWEEP))
    session.execute(update(Customer).values(next_revisit=dt.date(2026, 12, 30)))
    session.commit()
    scheduler.sweep(SWEEP + dt.timedelta(minutes=30))  # within the hour: not checked again
    assert stage_of(session, "Acme")[0] == "at_risk"
    scheduler.sweep(SWEEP + dt.timedelta(hours=1))
    assert stage_of(session, "Acme") == ("active", SWEEP + dt.timedelta(hours=1))


def test_new_customers_and_prospects_are_never_at_risk_by_rule(slack, fake, session, engine, scheduler):
    added(engine, "Newbie", T0 - dt.timedelta(days=200))
    added(engine, "Maybe", T0 - dt.timedelta(days=200), stage="prospect")
    scheduler.sweep(SWEEP)
    assert stage_of(session, "Newbie")[0] == "new" and stage_of(session, "Maybe")[0] == "prospect"


# --- lost and won back ---------------------------------------------------------------------------


@pytest.mark.parametrize(("label", "reason"), list(zip(
    ["Price", "Service", "Product quality", "Competitor", "No longer needed", "Moved or closed", "Other"],
    REASONS, strict=True)))  # fmt: skip
def test_lost_with_each_reason(slack, fake, session, engine, label, reason):
    added(engine, "Acme", T0, grade="A")
    session.execute(update(Customer).values(next_revisit=dt.date(2026, 10, 5), owner_id=USER))
    session.commit()
    with freeze_time(T0 + dt.timedelta(days=7)):
        slack.command("lost Acme")
        view = fake.last("views.open")["view"]
        assert view["title"]["text"] == "Mark as lost"
        fields = {b["label"]["text"]: b for b in view["blocks"] if b["type"] == "input"}
        assert list(fields) == ["Reason", "Note"] and fields["Reason"]["optional"] is False
        assert [o["text"]["text"] for o in fields["Reason"]["element"]["options"]] == [
            "Price", "Service", "Product quality", "Competitor", "No longer needed", "Moved or closed", "Other"]
        assert "*Acme (#1)* leaves the revisit cadence" in block_text(view["blocks"])
        assert "Acme (#1)" in slack.command("due").shown  # overdue before
        assert slack.submit(view, {"Reason": label, "Note": "went with the cheaper offer"}).text == ""
        assert "*Acme (#1)* is marked as lost" in fake.last("chat.postMessage")["text"]
        assert "Acme" not in slack.command("due").shown
        assert f"*Stage* Lost since 2026-10-08 · {label}" in card(slack, "Acme")
    [customer] = customers_of(session)
    assert (customer.stage, customer.revisits_enabled, customer.next_revisit) == ("lost", False, None)
    [loss] = session.scalars(select(StageChange).where(StageChange.to_stage == "lost")).all()
    assert (loss.reason, loss.note, loss.actor_id, loss.from_stage) == (reason, "went with the cheaper offer", USER, "new")
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "lost")).one()
    assert audit.changes["reason"] == [None, reason] and audit.changes["stage"] == ["new", "lost"]


def test_lost_needs_a_reason_and_happens_once(slack, fake, session, engine):
    added(engine, "Acme", T0)
    slack.command("lost Acme")
    view = fake.last("views.open")["view"]
    assert slack.submit(view, {"Note": "no idea"}).json == {
        "response_action": "errors", "errors": {"reason": "Pick why the customer was lost."}}
    assert customers_of(session)[0].stage == "new"
    slack.submit(view, {"Reason": "Price"})
    assert slack.command("lost Acme").shown == "Customer #1 is already lost; `/crm won #1` brings it back."
    assert slack.submit(view, {"Reason": "Service"}).json["response_action"] == "errors"  # a stale modal
    assert len(session.scalars(select(StageChange).where(StageChange.to_stage == "lost")).all()) == 1


def test_a_lost_customer_leaves_the_digest(slack, fake, session, engine, scheduler):
    added(engine, "Acme", T0)
    added(engine, "Beta", T0)
    session.execute(update(Customer).values(next_revisit=dt.date(2026, 11, 30), owner_id=USER))
    session.add(Member(team_id=TEAM, user_id=USER, tz="UTC", profile_fetched_at=SWEEP))
    session.commit()
    slack.command("lost Acme")
    slack.submit(fake.last("views.open")["view"], {"Reason": "Competitor"})
    fake.reset()
    scheduler.sweep(SWEEP)
    [digest] = [c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == USER]
    assert "Beta" in block_text(digest["blocks"]) and "Acme" not in block_text(digest["blocks"])


def test_won_back_makes_it_active_and_restarts_its_cadence(slack, fake, session, engine):
    added(engine, "Acme", T0, grade="A")
    slack.command("lost Acme")
    slack.submit(fake.last("views.open")["view"], {"Reason": "Price"})
    with freeze_time(SWEEP):
        shown = slack.command("won Acme").shown
        assert shown == "Welcome back: *Acme (#1)* is active again. Next revisit: 2026-12-07."  # A: 7 days
        assert "Acme (#1)" in slack.command("due").shown  # due in the next 7 days
    [customer] = customers_of(session)
    assert (customer.stage, customer.stage_since, customer.revisits_enabled) == ("active", SWEEP, True)
    assert history(session, "Acme")[-2:] == [("new", "lost", USER), ("lost", "active", USER)]
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "won")).one()
    session.commit()  # end the read: on SQLite every transaction holds the write lock
    assert audit.changes["stage"] == ["lost", "active"]
    assert slack.command("won Acme").shown == "Customer #1 is not lost: `/crm won` brings back customers marked as lost."


def test_lost_and_won_candidates_are_buttons(slack, fake, session, engine):
    added(engine, "Acme One", T0)
    added(engine, "Acme Two", T0)
    reply = slack.command("lost Acme")
    assert "Several customers match" in reply.shown
    slack.click(reply.blocks, "Mark as lost", nth=1)
    assert fake.last("views.open")["view"]["title"]["text"] == "Mark as lost"
    slack.submit(fake.last("views.open")["view"], {"Reason": "Other"})
    reply = slack.command("won Acme")
    slack.click(reply.blocks, "Won back", nth=1)
    assert "Welcome back: *Acme Two (#2)*" in fake.last("response_url")["text"]


def test_lost_and_won_in_chinese(slack, fake, session, engine):
    fake.add_user(USER, locale="zh-CN", tz="Asia/Shanghai")
    added(engine, "张伟", T0)
    slack.command("流失 张伟")
    view = fake.last("views.open")["view"]
    assert view["title"]["text"] == "标记为流失"
    slack.submit(view, {"原因": "竞争对手", "备注": "选了别家"})
    assert "已标记为流失（竞争对手）" in fake.last("chat.postMessage")["text"]
    assert "*阶段* 已流失" in slack.command("查看 张伟").shown
    assert slack.command("挽回 张伟").shown.startswith("欢迎回来：*张伟 (#1)* 重新成为活跃客户。")


def test_lost_without_a_customer_says_how(slack):
    assert slack.command("lost").shown == "Name the customer, e.g. `/crm lost Acme Ltd` or `/crm lost #12`"


def test_erase_drops_a_loss_note_and_keeps_its_reason(slack, fake, session, engine):
    fake.add_user("U00000AD", is_admin=True)
    added(engine, "Acme", T0)
    slack.command("lost Acme")
    slack.submit(fake.last("views.open")["view"], {"Reason": "Competitor", "Note": "Li Wei moved to Beta Corp"})
    slack.click(slack.command("erase Acme", user="U00000AD").blocks, "Erase", user="U00000AD")
    session.expire_all()
    loss = session.scalars(select(StageChange).where(StageChange.to_stage == "lost")).one()
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "lost")).one()
    session.commit()
    assert (loss.reason, loss.note) == ("competitor", None)
    assert audit.changes["note"] == [None, None]
