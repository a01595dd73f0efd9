"""`/crm settings`, roles, and the `owner only` visibility through every surface."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.handlers import settings as settings_handlers
from bot.services.workspaces import get_workspace
from bot.storage.db import make_session_factory
from bot.storage.models import AuditEvent, Complaint, Member, Workspace
from tests.helpers import add_customer, customers_of
from tests.slackclient import TEAM, USER

ADMIN, LEAD, MEMBER, OTHER = "U00000AD", "U000LEAD", USER, "U0000002"


@pytest.fixture
def admin(fake):
    fake.add_user(ADMIN, is_admin=True)
    return ADMIN


def open_settings(slack, fake, user=ADMIN):
    slack.command("settings", user=user)
    return fake.last("views.open")["view"]


def test_only_admins_open_settings(slack, fake):
    assert "Only touchbase admins" in slack.command("settings").shown
    assert fake.calls_to("views.open") == []


def test_settings_show_the_current_values(slack, fake, admin):
    view = open_settings(slack, fake)
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    assert labels[:3] == ["Visibility", "Admins", "Leads"]
    assert {"Time zone", "Digest time", "Escalation channel", "Complaints channel", "Revisit interval A (days)"} <= set(labels)
    admins = next(b for b in view["blocks"] if b["block_id"] == "admins")
    assert admins["element"]["initial_users"] == [ADMIN]


def test_saving_settings_grants_roles_and_is_audited(slack, fake, session, admin):
    view = open_settings(slack, fake)
    reply = slack.submit(view, {"Visibility": "owner only: members see their own", "Leads": [LEAD],
                                "Admins": [ADMIN, OTHER], "Time zone": "Asia/Shanghai",
                                "Revisit interval A (days)": "14"}, user=ADMIN)  # fmt: skip
    assert reply.status == 200 and reply.text == ""
    settings = get_workspace(session, TEAM).settings
    assert settings["visibility"] == "owner" and settings["tz"] == "Asia/Shanghai"
    assert settings["revisit_days"] == {"A": 14, "B": 30, "C": 90}
    roles = {m.user_id: m.role for m in session.scalars(select(Member))}
    assert roles[LEAD] == "lead" and roles[OTHER] == "admin" and roles[ADMIN] == "admin"
    granted = session.scalars(select(AuditEvent).where(AuditEvent.action == "role")).all()
    assert {tuple(a.changes["role"]) for a in granted} == {("member", "lead"), ("member", "admin")}
    session.commit()
    # the new interval is what a touch now defaults to
    add_customer(session, "Acme", grade="A")
    with freeze_time("2026-11-25T10:00:00+00:00"):
        slack.command("touch Acme")
    modal = fake.last("views.open")["view"]
    [revisit] = [b for b in modal["blocks"] if b["block_id"] == "next_revisit"]
    assert revisit["element"]["initial_date"] == "2026-12-09"


def test_a_settings_save_keeps_a_change_committed_after_the_request_first_read_the_team(slack, fake, session, admin,
                                                                                       engine, monkeypatch):  # fmt: skip
    """A request reads its team's row first (who acts, the language); on PostgreSQL another
    request may change the settings before this one saves them. The save reads the row again,
    locked: a key committed in between (here one this modal does not show) is kept."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write turn holds the team's row from the request's first read")
    view = open_settings(slack, fake)
    save = settings_handlers.update_settings

    def after_a_change(**kwargs: object) -> None:
        with make_session_factory(engine)() as other:
            workspace = other.get_one(Workspace, TEAM)
            workspace.settings = {**workspace.settings, "added_meanwhile": "kept"}
            other.commit()
        save(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(settings_handlers, "update_settings", after_a_change)
    reply = slack.submit(view, {"Time zone": "Asia/Shanghai"}, user=ADMIN)
    assert reply.status == 200 and reply.text == ""
    session.expire_all()
    settings = get_workspace(session, TEAM).settings
    assert settings["tz"] == "Asia/Shanghai" and settings["added_meanwhile"] == "kept"


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"Time zone": "Mars/Olympus"}, "tz", "Not a time zone name"),
        ({"Revisit interval B (days)": "0"}, "revisit_b", "A whole number of days"),
        ({"Admins": []}, "admins", "Keep at least one admin."),
    ],
)
def test_bad_settings_are_refused_inline(slack, fake, session, admin, values, field, message):
    reply = slack.submit(open_settings(slack, fake), values, user=ADMIN)
    assert message in reply.json["errors"][field]
    assert get_workspace(session, TEAM).settings == {}


@pytest.fixture
def owner_mode(session, fake):
    workspace = get_workspace(session, TEAM)
    workspace.settings = {"visibility": "owner"}
    session.add(Member(team_id=TEAM, user_id=LEAD, role="lead"))
    session.commit()
    add_customer(session, "Mine Ltd", actor=MEMBER)
    theirs = add_customer(session, "Theirs Ltd", actor=OTHER)
    return theirs


def test_in_owner_mode_a_member_sees_only_their_own(slack, fake, session, owner_mode):
    theirs = owner_mode
    assert "Mine Ltd" in slack.command("find ltd").shown and "Theirs" not in slack.command("find ltd").shown
    assert "No customer matches" in slack.command("show Theirs Ltd").shown
    assert "No customer matches" in slack.command(f"show #{theirs.number}").shown
    options = slack.suggest("customer_picker", "ltd").json["options"]
    assert [o["text"]["text"] for o in options] == ["Mine Ltd (#1)"]
    # forged buttons say why and show nothing
    for action in ("customer_show", "customer_edit", "touch_log", "revisit_schedule", "complaint_new"):
        slack.action(action, str(theirs.id))
        assert "not one of yours" in fake.last("response_url")["text"], action
    assert fake.calls_to("views.open") == []
    slack.action("touch_history", json.dumps({"customer_id": theirs.id, "offset": 0}))
    assert "not one of yours" in fake.last("response_url")["text"]


@pytest.mark.parametrize("few", [200, 0], ids=["lines read at once", "lines walked by first character"])
def test_in_owner_mode_a_search_by_prefix_shows_only_their_own(slack, session, owner_mode, monkeypatch, few):
    from bot.services import find

    monkeypatch.setattr(find, "_FEW", few)
    for typed in ("t", "th", "theirs", "theirs ltd", "m", "mine"):
        options = [o["text"]["text"] for o in slack.suggest("customer_picker", typed).json["options"]]
        assert "Theirs Ltd (#2)" not in options and ("Mine Ltd (#1)" in options or typed.startswith("th")), typed
    assert "Theirs" not in slack.command("find th").shown


HIDDEN = ("This customer is not one of yours: your team shows members only the customers they own or work a "
          "complaint for.")  # the one refusal of services.access


def test_in_owner_mode_forged_modals_change_nothing(slack, fake, session, owner_mode):
    theirs = owner_mode
    slack.command("edit Mine Ltd")
    view = fake.last("views.open")["view"]
    forged = dict(view, private_metadata=json.dumps({"customer_id": theirs.id}))
    assert slack.submit(forged, {"Name": "Hijacked"}).json["errors"] == {"name": HIDDEN}
    slack.command("touch Mine Ltd")
    touch_view = fake.last("views.open")["view"]
    option = {"text": {"type": "plain_text", "text": "x"}, "value": str(theirs.id)}
    assert "customer" in slack.submit(touch_view, {"Customer": option, "Summary": "sneaky"}).json["errors"]
    assert [c.name for c in customers_of(session)] == ["Mine Ltd", "Theirs Ltd"]


def test_in_owner_mode_leads_see_all_and_complaint_workers_see_theirs(slack, fake, session, owner_mode):
    theirs = owner_mode
    assert slack.command("find ltd", user=LEAD).shown.count("Show") == 2
    session.add(Complaint(team_id=TEAM, number=1, customer_id=theirs.id, title="late", author_id=OTHER,
                          assignee_id=MEMBER, opened_at=dt.datetime.now(dt.UTC)))  # fmt: skip
    session.commit()
    assert "Theirs Ltd" in slack.command("show Theirs Ltd").shown


def test_business_calendar_and_sla_settings_round_trip(slack, fake, session, admin):
    view = open_settings(slack, fake)
    values = {"Working hours": "mon-fri 09:00-12:00 13:30-18:00\nsat 10:00-14:00", "Holidays country": "cn",
              "Team days off": "2026-12-24, 2026-12-31", "SLA targets": "urgent 30m 4h 24/7\nlow 2d 15d",
              "Warn at (% of a target)": "70", "Level 2 at (× resolution target)": "1.25"}  # fmt: skip
    assert slack.submit(view, values, user=ADMIN).text == ""
    settings = get_workspace(session, TEAM).settings
    session.commit()
    assert settings["working_hours"]["wed"] == ["09:00-12:00", "13:30-18:00"] and settings["working_hours"]["sat"] == ["10:00-14:00"]
    assert "sun" not in settings["working_hours"]
    assert settings["holidays_country"] == "CN" and settings["days_off"] == ["2026-12-24", "2026-12-31"]
    assert settings["sla"]["urgent"] == {"first_response": "30m", "resolution": "4h", "calendar_hours": True}
    assert settings["sla"]["normal"]["resolution"] == "3d"  # untouched severities keep their targets
    assert (settings["sla_warning_share"], settings["escalation_level2_share"]) == (0.7, 1.25)
    shown = {b["block_id"]: b["element"] for b in open_settings(slack, fake)["blocks"]}
    assert shown["working_hours"]["initial_value"] == "mon-fri 09:00-12:00 13:30-18:00\nsat 10:00-14:00"
    assert "urgent 30m 4h 24/7" in shown["sla"]["initial_value"]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"Working hours": "weekdays 9 to 5"}, "working_hours"),
        ({"Working hours": "mon 09:00-13:00 12:00-18:00"}, "working_hours"),
        ({"Holidays country": "Atlantis"}, "holidays_country"),
        ({"Team days off": "Christmas"}, "days_off"),
        ({"SLA targets": "normal fast slow"}, "sla"),
        ({"Level 3 at (× resolution target)": "0.5"}, "level3_share"),
    ],
)
def test_bad_calendar_settings_are_refused_inline(slack, fake, session, admin, values, field):
    reply = slack.submit(open_settings(slack, fake), values, user=ADMIN)
    assert field in reply.json["errors"]
    assert get_workspace(session, TEAM).settings == {}


def test_team_language_chinese_speaks_chinese_to_everyone(slack, fake, session, admin):
    view = open_settings(slack, fake)
    language = next(b for b in view["blocks"] if b["block_id"] == "language")
    assert language["element"]["initial_option"]["value"] == "auto"
    reply = slack.submit(view, {"Language": "中文 (Simplified Chinese)"}, user=ADMIN)
    assert reply.status == 200 and reply.text == ""
    assert get_workspace(session, TEAM).settings["language"] == "zh"
    session.commit()  # SQLite: no read transaction left open while the bot writes
    # an en-US member now reads Chinese, and the modal offers the way back
    assert "我能做这些" in slack.command("nonsense", user=MEMBER).shown
    view = open_settings(slack, fake)
    assert view["title"]["text"] == "touchbase 设置"
    reply = slack.submit(view, {"语言": "按每个人的 Slack 语言"}, user=ADMIN)
    assert get_workspace(session, TEAM).settings["language"] is None
    session.commit()
    assert "Here is what I can do" in slack.command("nonsense", user=MEMBER).shown


def test_in_owner_mode_reports_hold_only_the_members_own(slack, fake, session, owner_mode):
    import time

    theirs = owner_mode
    theirs.next_revisit = dt.date(2020, 1, 1)  # long overdue: at risk
    session.merge(theirs)
    session.commit()
    assert "only their own figures" in slack.command("report week <@U0000002|other>").shown

    def risk_list(user: str) -> str:
        before = len(fake.calls_to("chat.postMessage"))
        slack.command("report risk", user=user)
        for _ in range(200):
            if len(fake.calls_to("chat.postMessage")) > before:
                return str(fake.calls_to("chat.postMessage")[-1].args)
            time.sleep(0.05)
        raise AssertionError("no risk list arrived")

    assert "Theirs Ltd" in risk_list(LEAD)
    assert "Theirs Ltd" not in risk_list(MEMBER)


def test_the_team_row_is_read_once_per_transaction_and_afresh_in_the_next(engine, session):
    """A request asks for the team's settings several times (language, member, visibility):
    one SELECT per transaction; a change committed elsewhere is seen in the next one."""
    from sqlalchemy import event, update

    from bot.services.workspaces import team_settings
    from bot.storage.db import make_session_factory
    from bot.storage.models import Workspace

    get_workspace(session, TEAM)
    session.commit()
    reads: list[str] = []

    def count(_conn, _cursor, statement, *_args):  # noqa: ANN001 - an event listener's signature
        if statement.lstrip().upper().startswith("SELECT") and "FROM workspace" in statement:
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert team_settings(session, TEAM).language is None and team_settings(session, TEAM).language is None
        assert len(reads) == 1
        session.commit()
        with make_session_factory(engine)() as other:
            other.execute(update(Workspace).where(Workspace.team_id == TEAM).values(settings={"language": "zh"}))
            other.commit()
        assert team_settings(session, TEAM).language == "zh" and len(reads) == 2
    finally:
        event.remove(engine, "before_cursor_execute", count)
