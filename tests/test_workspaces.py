"""Many workspaces (OAuth v2): two workspaces installed through Slack's flow against the fake,
each one's Web API calls carrying its own token (answers, modals, DMs and uploads after the
answer, a sweep's DMs and profile reads); a forged or replayed state stores nothing; a
workspace that never installed is refused; after an uninstall nothing is sent there, its
pending notifications are cancelled and its data is purged once the retention period is over,
unless it is installed again. Token rotation renews tokens before they expire.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.oauth import StateStore
from bot.scheduler.rows import enqueue
from bot.scheduler.runner import Scheduler
from bot.storage.db import make_session_factory
from bot.storage.models import (
    AuditEvent,
    Base,
    Customer,
    Installation,
    Member,
    Notification,
    OAuthState,
    Workspace,
    WorkspacePurge,
)
from tests.conftest import SIGNING_SECRET, serve_bot
from tests.helpers import add_customer
from tests.slackclient import Browser, SignedSlack
from tests.test_manifest import MANIFEST

ACME, BETA, GAMMA = "T0000A001", "T0000B002", "T0000C003"
ANN, BO, CY = "U00000A01", "U00000B01", "U00000C01"  # an admin of each
OTHER = "U00000A02"
TUESDAY_9 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def browser(multi_bot, fake) -> Browser:
    return Browser(multi_bot.url, fake)


@pytest.fixture
def signed(multi_bot, fake) -> SignedSlack:
    return SignedSlack(multi_bot.url, SIGNING_SECRET, fake)


@pytest.fixture
def scheduler(multi_settings, engine) -> Scheduler:
    return Scheduler(multi_settings, make_session_factory(engine))


def install_both(browser: Browser) -> None:
    assert "installed in Acme Inc" in browser.install(ACME, name="Acme Inc", installer=ANN).text
    assert "installed in Beta Ltd" in browser.install(BETA, name="Beta Ltd", installer=BO).text


def rows(session: Session, model: type, *where: object) -> list:
    session.expire_all()
    found = list(session.scalars(select(model).where(*where)))
    session.commit()  # end the read: on SQLite every transaction holds the write lock
    return found


def installation(session: Session, team: str) -> Installation | None:
    found = rows(session, Installation, Installation.team_id == team)
    return found[0] if found else None


def team_rows(session: Session, team: str) -> dict[str, int]:
    """How many rows each workspace-scoped table holds for `team` (purge records aside)."""
    counts = {}
    for table in Base.metadata.sorted_tables:
        if "team_id" in table.columns and table.name != "workspace_purge":
            counts[table.name] = session.scalar(select(func.count()).select_from(table).where(table.c.team_id == team))
    session.commit()
    return {name: n for name, n in counts.items() if n}


def tokens_carried(fake, team: str) -> set[str]:
    return {c.token for c in fake.calls_of(team) if c.token}


def refused_calls(fake) -> list:
    """Calls the fake refused: a token it never handed out, or a revoked one."""
    return [c for c in fake.calls if c.token and c.team is None]


# --- installing -------------------------------------------------------------------------------


def test_the_install_link_starts_slacks_flow_with_a_one_time_state(browser, fake, session):
    page, state = browser.start()
    location = urlparse(page.headers["location"][0])
    assert (location.netloc, location.path) == ("slack.com", "/oauth/v2/authorize")
    query = parse_qs(location.query)
    assert query["client_id"] == [fake.client_id] and query["state"] == [state]
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == set(query["scope"][0].split(","))
    assert browser.cookies["slack-app-oauth-state"] == state  # only this browser may finish
    assert len(rows(session, OAuthState)) == 1
    assert rows(session, OAuthState)[0].state_hash != state  # kept as a hash


def test_two_workspaces_installed_through_the_flow_each_get_their_own_token(browser, fake, session):
    install_both(browser)

    acme, beta = installation(session, ACME), installation(session, BETA)
    assert acme.bot_token == fake.token_of(ACME) and beta.bot_token == fake.token_of(BETA)
    assert acme.bot_token != beta.bot_token
    assert (acme.installer_id, acme.bot_user_id, beta.installer_id) == (ANN, f"UB{ACME}", BO)
    assert "commands" in acme.bot_scopes.split(",")
    assert [w.name for w in rows(session, Workspace, Workspace.team_id.in_([ACME, BETA]))] == ["Acme Inc", "Beta Ltd"]
    installs = rows(session, AuditEvent, AuditEvent.action == "install")
    assert sorted((a.team_id, a.actor_id) for a in installs) == [(ACME, ANN), (BETA, BO)]
    assert rows(session, OAuthState) == []  # each state used up
    assert "slack-app-oauth-state" not in browser.cookies
    # The code was exchanged with the app's own credentials, on SLACK_API_URL.
    assert len(fake.calls_to("oauth.v2.access")) == 2


def test_each_workspace_is_answered_and_followed_up_with_its_own_token(browser, signed, fake, session):
    install_both(browser)
    for team, admin in ((ACME, ANN), (BETA, BO)):
        fake.forget_calls()
        signed.command("new Northwind", team=team, user=admin)  # a modal: views.open
        signed.submit(fake.last("views.open")["view"], {"Name": "Northwind"}, team=team, user=admin)
        signed.command(f"assign Northwind <@{OTHER}>", team=team, user=admin)  # a DM after the answer
        signed.command("report", team=team, user=admin)  # a DM and an upload after the answer
        methods = {c.method for c in fake.calls_of(team)}
        assert {"views.open", "chat.postMessage", "users.info", "files.getUploadURLExternal", "upload",
                "files.completeUploadExternal", "conversations.open"} <= methods, methods  # fmt: skip
        assert tokens_carried(fake, team) == {fake.token_of(team)}
        other = BETA if team == ACME else ACME
        assert fake.calls_of(other) == [], f"a call for {team} carried {other}'s token"
        assert refused_calls(fake) == []
    # Each workspace's data is its own.
    assert [(c.team_id, c.number) for c in rows(session, Customer)] == [(ACME, 1), (BETA, 1)]


def test_slack_is_asked_who_a_token_is_once_not_on_every_request(browser, signed, fake, session):
    install_both(browser)
    fake.forget_calls()
    answers = []
    for _ in range(3):
        answers += [signed.command("due", team=ACME, user=ANN), signed.command("due", team=BETA, user=BO)]
    assert len(fake.calls_of(ACME, "auth.test")) == 1 and len(fake.calls_of(BETA, "auth.test")) == 1
    assert all(a.status == 200 and "not installed" not in a.text for a in answers)


def test_a_sweeps_dms_and_profile_reads_go_with_each_workspaces_token(browser, scheduler, fake, session):
    install_both(browser)
    for team, owner in ((ACME, ANN), (BETA, BO), (GAMMA, CY)):  # GAMMA never installed (imported data)
        add_customer(session, f"Due in {team}", team=team, actor=owner, owner_id=owner).next_revisit = TUESDAY_9.date()
        session.commit()
    fake.forget_calls()

    report = scheduler.sweep(TUESDAY_9)

    assert (report.delivery.sent, report.delivery.cancelled) == (2, 1), report.line()
    for team, owner in ((ACME, ANN), (BETA, BO)):
        [dm] = fake.calls_of(team, "chat.postMessage")
        assert dm.args["channel"] == owner
        assert [c.args["user"] for c in fake.calls_of(team, "users.info")] == [owner]
        assert tokens_carried(fake, team) == {fake.token_of(team)}
    assert refused_calls(fake) == []
    [gamma] = rows(session, Notification, Notification.team_id == GAMMA)
    assert (gamma.status, gamma.last_error) == ("cancelled", "not installed")  # nothing sent there, never retried


# --- states that do not fit -------------------------------------------------------------------


def test_a_forged_state_stores_nothing(browser, fake, session):
    browser.cookies["slack-app-oauth-state"] = "forged-state"
    page = browser.back(fake.grant(ACME), "forged-state")
    assert page.status == 401 and "expired or was already used" in page.text
    assert rows(session, Installation) == [] and rows(session, Workspace) == []
    assert fake.calls_to("oauth.v2.access") == []  # the code was never exchanged


def test_a_state_from_another_browser_stores_nothing(browser, multi_bot, fake, session):
    _, state = browser.start()
    stranger = Browser(multi_bot.url, fake)  # has the link, not the cookie
    page = stranger.back(fake.grant(ACME), state)
    assert page.status == 400
    assert rows(session, Installation) == [] and fake.calls_to("oauth.v2.access") == []


def test_a_replayed_state_stores_nothing(browser, fake, session):
    _, state = browser.start()
    cookie = browser.cookies["slack-app-oauth-state"]
    assert browser.back(fake.grant(ACME, installer=ANN), state).status == 200
    token = installation(session, ACME).bot_token

    browser.cookies["slack-app-oauth-state"] = cookie
    page = browser.back(fake.grant(ACME, installer=OTHER), state)  # the same state again, a fresh code

    assert page.status == 401 and "expired or was already used" in page.text
    acme = installation(session, ACME)
    assert (acme.installer_id, acme.bot_token) == (ANN, token)
    assert len(fake.calls_to("oauth.v2.access")) == 1
    assert len(rows(session, AuditEvent, AuditEvent.action.in_(["install", "reinstall"]))) == 1


def test_an_expired_state_is_refused(engine):
    now = [dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)]
    states = StateStore(make_session_factory(engine), clock=lambda: now[0])
    late, on_time = states.issue(), states.issue()
    assert states.consume(on_time) is True
    assert states.consume(on_time) is False  # once
    now[0] += dt.timedelta(minutes=11)
    assert states.consume(late) is False
    assert states.consume("") is False and states.consume("x" * 500) is False


def test_cancelling_on_slacks_page_installs_nothing(browser, fake, session):
    _, state = browser.start()
    page = browser.get(f"/slack/oauth_redirect?error=access_denied&state={state}", language="zh-CN")
    assert page.status == 200 and "安装已取消" in page.text  # in the installer's language
    assert rows(session, Installation) == []


def test_an_error_slack_did_not_send_is_not_repeated_on_the_page(browser, session):
    _, state = browser.start()
    page = browser.get("/slack/oauth_redirect?" + urlencode({"error": "<script>alert(1)</script>\nforged line",
                                                             "state": state}))  # fmt: skip
    assert "did not complete the installation (error)" in page.text
    assert "<script>" not in page.text and "forged" not in page.text
    assert rows(session, Installation) == []


def test_an_organisation_wide_install_is_refused_in_one_page(browser, fake, session, monkeypatch):
    _, state = browser.start()
    code = fake.grant(ACME)
    original = fake._oauth_access
    monkeypatch.setattr(fake, "_oauth_access", lambda args, auth: {**original(args, auth), "team": None,
                                                                  "is_enterprise_install": True,
                                                                  "enterprise": {"id": "E0000001"}})  # fmt: skip
    page = browser.back(code, state)
    assert page.status == 400 and "organisation-wide" in page.text
    assert rows(session, Installation) == []


# --- a workspace touchbase is not installed in -------------------------------------------------


def test_a_workspace_that_never_installed_is_refused_and_nothing_is_written(browser, signed, fake, session):
    assert browser.install(ACME, installer=ANN).status == 200
    fake.forget_calls()

    reply = signed.command("new Northwind", team=BETA, user=BO)
    assert reply.status == 200
    assert "not installed in this workspace" in fake.last("response_url")["text"]
    view = {"type": "modal", "callback_id": "customer_new", "blocks": [], "private_metadata": ""}
    submitted = signed.submit(view, {}, team=BETA, user=BO)
    assert submitted.status == 200 and submitted.json["response_action"] == "update"
    assert "not installed" in json.dumps(submitted.json["view"])
    opened = signed.event({"type": "app_home_opened", "user": BO, "tab": "home"}, team=BETA)
    assert opened.status == 200

    assert rows(session, Workspace, Workspace.team_id == BETA) == []
    assert rows(session, Member, Member.team_id == BETA) == []
    assert {c.method for c in fake.calls if c.method != "response_url"} == set()  # not even auth.test: no token


# --- uninstalling -----------------------------------------------------------------------------


def _pending(session: Session, team: str, key: str, **values: object) -> None:
    enqueue(session, now=TUESDAY_9, team_id=team, key=key, kind="test", channel=ANN if team == ACME else BO,
            text=f"{key} for {team}", **values)  # fmt: skip
    session.commit()


@pytest.mark.parametrize("event", [{"type": "app_uninstalled"},
                                   {"type": "tokens_revoked", "tokens": {"oauth": [ANN], "bot": [f"UB{ACME}"]}}])
def test_after_an_uninstall_nothing_is_sent_there_and_its_pending_notifications_are_cancelled(
    event, browser, signed, scheduler, fake, session
):
    install_both(browser)
    add_customer(session, "Northwind", team=ACME, actor=ANN)
    for team in (ACME, BETA):
        _pending(session, team, "now")
        _pending(session, team, "later", due_at=TUESDAY_9 + dt.timedelta(days=1))
    _pending(session, ACME, "in flight")
    session.execute(Notification.__table__.update().where(Notification.key == "in flight").values(status="sending"))
    session.commit()
    acme_token = fake.token_of(ACME)
    fake.revoke(ACME)  # Slack revokes the tokens, then tells us

    assert signed.event(event, team=ACME).status == 200

    assert installation(session, ACME) is None and installation(session, BETA) is not None
    acme = {n.key: (n.status, n.last_error, n.payload) for n in rows(session, Notification, Notification.team_id == ACME)}
    assert acme == {k: ("cancelled", event["type"], {}) for k in ("now", "later", "in flight")}  # not kept unsent
    beta = rows(session, Notification, Notification.team_id == BETA)
    assert {(n.status, n.payload["text"]) for n in beta} == {("pending", f"{key} for {BETA}") for key in ("now", "later")}
    [uninstalled_at] = [w.uninstalled_at for w in rows(session, Workspace, Workspace.team_id == ACME)]
    assert uninstalled_at is not None
    [audit] = rows(session, AuditEvent, AuditEvent.action == "uninstall")
    assert (audit.team_id, audit.changes["cancelled"]) == (ACME, 3)

    fake.forget_calls()
    report = scheduler.sweep(TUESDAY_9 + dt.timedelta(days=2))
    assert report.delivery.sent == 2  # Beta's
    assert fake.calls_of(ACME) == [] and refused_calls(fake) == []
    assert all(c.token != acme_token for c in fake.calls)
    signed.command("due", team=ACME, user=ANN)
    assert "not installed" in fake.last("response_url")["text"]
    assert fake.calls_of(ACME) == []

    signed.event(event, team=ACME)  # told twice: the retention period still starts at the first
    assert [w.uninstalled_at for w in rows(session, Workspace, Workspace.team_id == ACME)] == [uninstalled_at]
    assert len(rows(session, AuditEvent, AuditEvent.action == "uninstall")) == 1


def test_revoking_only_peoples_tokens_keeps_the_installation(browser, signed, session):
    install_both(browser)
    signed.event({"type": "tokens_revoked", "tokens": {"oauth": [ANN], "bot": []}}, team=ACME)
    assert installation(session, ACME) is not None
    assert [w.uninstalled_at for w in rows(session, Workspace, Workspace.team_id == ACME)] == [None]


def _uninstall(signed, fake, team: str) -> dt.datetime:
    fake.revoke(team)
    assert signed.event({"type": "app_uninstalled"}, team=team).status == 200


def _uninstalled_at(session: Session, team: str) -> dt.datetime:
    [at] = [w.uninstalled_at for w in rows(session, Workspace, Workspace.team_id == team)]
    return at


def test_the_purge_deletes_the_data_after_the_retention_period_and_not_before(
    browser, signed, scheduler, fake, session, caplog
):
    install_both(browser)
    for team, admin in ((ACME, ANN), (BETA, BO)):
        signed.command("new Northwind", team=team, user=admin)
        signed.submit(fake.last("views.open")["view"], {"Name": "Northwind"}, team=team, user=admin)
        _pending(session, team, "a notice")
    _uninstall(signed, fake, ACME)
    gone_at = _uninstalled_at(session, ACME)
    before = team_rows(session, ACME)
    assert {"workspace", "member", "customer", "audit_event", "notification"} <= set(before)

    scheduler.sweep(gone_at + dt.timedelta(days=29, hours=23))
    assert team_rows(session, ACME) == before
    assert rows(session, WorkspacePurge) == []

    caplog.set_level("INFO", logger="bot.services.installs")
    scheduler.sweep(gone_at + dt.timedelta(days=30))
    assert team_rows(session, ACME) == {}
    [purge] = rows(session, WorkspacePurge)
    assert (purge.team_id, purge.uninstalled_at, purge.purged_at) == (ACME, gone_at, gone_at + dt.timedelta(days=30))
    assert purge.rows == before  # what was deleted, counted; nothing of it kept
    assert any(f"workspace {ACME} purged" in r.getMessage() for r in caplog.records)
    beta = team_rows(session, BETA)
    assert beta["customer"] == 1 and beta["installation"] == 1  # the other workspace untouched
    if session.get_bind().dialect.name == "sqlite":  # the full-text index forgets the purged names too
        found = session.scalar(text("SELECT count(*) FROM customer_fts WHERE customer_fts MATCH 'Northwind'"))
        session.commit()
        assert found == 1  # Beta's

    scheduler.sweep(gone_at + dt.timedelta(days=31))  # again: nothing more to do
    assert len(rows(session, WorkspacePurge)) == 1


def test_installing_again_cancels_the_pending_purge(browser, signed, scheduler, fake, session):
    install_both(browser)
    add_customer(session, "Northwind", team=ACME, actor=ANN)
    _uninstall(signed, fake, ACME)
    gone_at = _uninstalled_at(session, ACME)

    assert "installed in Acme Inc" in browser.install(ACME, name="Acme Inc", installer=ANN).text

    assert _uninstalled_at(session, ACME) is None
    assert installation(session, ACME).bot_token == fake.token_of(ACME)  # the new token
    assert [a.action for a in rows(session, AuditEvent, AuditEvent.team_id == ACME, AuditEvent.entity == "workspace")
            ] == ["install", "uninstall", "reinstall"]  # fmt: skip
    scheduler.sweep(gone_at + dt.timedelta(days=40))
    assert team_rows(session, ACME)["customer"] == 1 and rows(session, WorkspacePurge) == []
    fake.forget_calls()
    signed.command("show Northwind", team=ACME, user=ANN)
    assert tokens_carried(fake, ACME) == {fake.token_of(ACME)} and refused_calls(fake) == []


# --- rotating tokens and encryption -----------------------------------------------------------


def test_rotating_tokens_are_renewed_before_they_expire_and_calls_carry_the_newest(
    browser, signed, scheduler, fake, session
):
    fake.rotation = 3600  # an hour: within the two hours before expiry in which touchbase renews
    assert browser.install(ACME, installer=ANN).status == 200
    first = installation(session, ACME)
    token, refresh = first.bot_token, first.bot_refresh_token
    assert token.startswith("xoxe.xoxb-") and refresh.startswith("xoxe-1-")
    assert first.bot_token_expires_at is not None

    fake.forget_calls()
    signed.command("new Northwind", team=ACME, user=ANN)
    renewed = installation(session, ACME)
    assert renewed.bot_token != token and renewed.bot_refresh_token != refresh
    assert [c.args.get("grant_type") for c in fake.calls_to("oauth.v2.access")] == ["refresh_token"]
    assert fake.last("views.open") and tokens_carried(fake, ACME) == {renewed.bot_token}
    assert refused_calls(fake) == []  # the old token, which the fake revoked on renewal, was not used again

    _pending(session, ACME, "a notice")
    fake.forget_calls()
    assert scheduler.sweep(TUESDAY_9).delivery.sent == 1
    assert tokens_carried(fake, ACME) == {installation(session, ACME).bot_token} and refused_calls(fake) == []


def test_tokens_are_stored_encrypted_with_encryption_keys(multi_settings, engine, fake, session):
    from cryptography.fernet import Fernet

    fake.rotation = 43200
    keyed = multi_settings.model_copy(update={"encryption_keys": Fernet.generate_key().decode()})
    with serve_bot(keyed, engine) as server:
        assert Browser(server.url, fake).install(ACME).status == 200
        raw = session.execute(text("SELECT bot_token, bot_refresh_token FROM installation")).one()
        session.commit()
        assert raw[0].startswith("gAAAAA") and raw[1].startswith("gAAAAA")
        assert fake.token_of(ACME) not in raw[0]
        assert installation(session, ACME).bot_token == fake.token_of(ACME)  # read back with the key
    from bot.storage import crypto

    crypto.configure(None)
