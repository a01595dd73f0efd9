"""Many workspaces: touchbase installed through Slack's OAuth v2 flow, each workspace with its
own bot token; and the Web API client for a workspace, in either mode.

With `SLACK_CLIENT_ID` and `SLACK_CLIENT_SECRET` (and no `SLACK_BOT_TOKEN`) bolt runs the flow
(`oauth_flow`): `GET /slack/install` sends the browser to Slack's authorize page with a
one-time `state` (also set as a cookie, so only the browser that started may finish);
`GET /slack/oauth_redirect?code=…&state=…` uses up the state, exchanges the code with
`oauth.v2.access` on `SLACK_API_URL` and stores the installation. A wrong, expired or reused
state stores nothing. bolt's `InstallationStore` and `OAuthStateStore` interfaces are
implemented here on our own tables (`installation`, `oauth_state`, migration 0010); tokens are
encrypted with `ENCRYPTION_KEYS` like personal fields (storage.crypto). With token rotation on,
Slack's refresh token is kept too and the token is renewed before it expires (slack_sdk's
`TokenRotator`), by a request's `authorize` or by `Installed.client_for`.

A request is authorized by bolt (`authorize`): the installation of its workspace, or a clean
refusal when there is none ("not installed"); its listener's client carries that workspace's
token. Work done outside a request (after the answer, the scheduler's sends, the directory
the jobs read, the command line) asks `Clients.client_for(team_id)`: the one bot token's
client in single-workspace mode, the installation's token in many-workspace mode, None when
touchbase is not installed there (then nothing is sent).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable
from typing import Any, Protocol

from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.error import BoltError
from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store import Installation as SlackInstallation
from slack_sdk.oauth.installation_store import InstallationStore as SlackInstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.i18n import t
from bot.logs import OUTCOME
from bot.services import installs
from bot.storage.db import unit_of_work
from bot.storage.models import Installation, OAuthState
from bot.views.install import install_page

log = logging.getLogger(__name__)

# The bot scopes asked for at install: those of manifest.yml (tests/test_manifest.py checks).
# The bot scopes an install asks for: manifest.yml's (tests/test_manifest.py keeps them equal).
BOT_SCOPES = ("commands", "chat:write", "chat:write.public", "im:write", "users:read", "users:read.email", "files:write",
              "channels:read", "groups:read", "channels:join", "channels:history", "groups:history", "reactions:read")
STATE_SECONDS = 600  # how long an install link's state may wait for Slack's redirect
ROTATE_MINUTES = 120  # renew a rotating token this long before it expires (bolt's default)


class UnsupportedInstall(BoltError):
    """An installation touchbase cannot keep: an organisation-wide one (no workspace), or one
    without a bot token."""


def _installation(session: Session, team_id: str | None) -> Installation | None:
    if not team_id:
        return None
    return session.scalar(select(Installation).where(Installation.team_id == team_id))


def _instant(epoch: int | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(epoch, dt.UTC) if epoch is not None else None


def _epoch(instant: dt.datetime | None) -> int | None:
    return int(instant.timestamp()) if instant is not None else None


class InstallationStore(SlackInstallationStore):
    """bolt's installation store on the `installation` table: one bot installation per
    workspace. `install` is the OAuth flow's (a new or renewed installation); `save`, which
    bolt also calls after renewing a rotating token, only updates an installation that still
    exists, so a renewal racing an uninstall cannot bring the deleted token back."""

    def __init__(self, factory: sessionmaker[Session], *, clock: Callable[[], dt.datetime]) -> None:
        self.factory = factory
        self.clock = clock

    @property
    def logger(self) -> logging.Logger:
        return log

    def install(self, installation: SlackInstallation) -> None:
        team_id = installation.team_id
        if not team_id or installation.is_enterprise_install:
            raise UnsupportedInstall("an organisation-wide installation")
        if not installation.bot_token:
            raise UnsupportedInstall("no bot token")
        now = self.clock()
        with unit_of_work(self.factory, now=now) as session:
            installs.installed(session=session, team_id=team_id, name=installation.team_name,
                               installer_id=installation.user_id)  # fmt: skip
            row = _installation(session, team_id) or Installation(team_id=team_id)
            self._fill(row, installation)
            row.installer_id = installation.user_id
            row.installed_at = now
            session.add(row)

    def save(self, installation: SlackInstallation) -> None:
        with unit_of_work(self.factory, now=self.clock()) as session:
            row = _installation(session, installation.team_id)
            if row is None:
                log.info("renewed tokens of %s not kept: it is no longer installed", installation.team_id)
                return
            self._fill(row, installation)

    def save_bot(self, bot: Bot) -> None:
        with unit_of_work(self.factory, now=self.clock()) as session:
            row = _installation(session, bot.team_id)
            if row is not None:
                row.bot_token, row.bot_refresh_token = bot.bot_token, bot.bot_refresh_token
                row.bot_token_expires_at = _instant(bot.bot_token_expires_at)

    @staticmethod
    def _fill(row: Installation, installation: SlackInstallation) -> None:
        row.enterprise_id = installation.enterprise_id
        row.app_id = installation.app_id
        row.bot_id = installation.bot_id
        row.bot_user_id = installation.bot_user_id
        row.bot_token = installation.bot_token  # type: ignore[assignment]
        row.bot_refresh_token = installation.bot_refresh_token
        row.bot_token_expires_at = _instant(installation.bot_token_expires_at)
        row.bot_scopes = ",".join(installation.bot_scopes or [])

    def _row(self, team_id: str | None) -> Installation | None:
        if not team_id:
            return None
        with unit_of_work(self.factory, now=None) as session:
            row = _installation(session, team_id)
            if row is not None:
                session.expunge(row)
            return row

    def find_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> SlackInstallation | None:  # fmt: skip
        row = self._row(team_id)
        # Only the bot's installation is kept: a person's own installation (user tokens) is none.
        if row is None or (user_id is not None and user_id != row.installer_id):
            return None
        return SlackInstallation(
            app_id=row.app_id, enterprise_id=row.enterprise_id, team_id=row.team_id, bot_token=row.bot_token,
            bot_id=row.bot_id, bot_user_id=row.bot_user_id, bot_scopes=row.bot_scopes or "",
            bot_refresh_token=row.bot_refresh_token, bot_token_expires_at=_epoch(row.bot_token_expires_at),
            user_id=row.installer_id or "", installed_at=row.installed_at.timestamp(),
        )  # fmt: skip

    def find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        installation = self.find_installation(enterprise_id=enterprise_id, team_id=team_id)
        return installation.to_bot() if installation is not None else None

    def delete_installation(self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None) -> None:
        if team_id and user_id is None:
            with unit_of_work(self.factory, now=None) as session:
                session.execute(delete(Installation).where(Installation.team_id == team_id))

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.delete_installation(enterprise_id=enterprise_id, team_id=team_id)


def _state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


class StateStore(OAuthStateStore):
    """bolt's OAuth state store on the `oauth_state` table: a state is random, kept as its hash,
    valid for `expiration_seconds` and used at most once (deleting it is what uses it, so two
    redirects racing with one state cannot both succeed)."""

    def __init__(self, factory: sessionmaker[Session], *, clock: Callable[[], dt.datetime],
                 expiration_seconds: int = STATE_SECONDS) -> None:  # fmt: skip
        self.factory = factory
        self.clock = clock
        self.expiration = dt.timedelta(seconds=expiration_seconds)

    @property
    def logger(self) -> logging.Logger:
        return log

    def issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(32)
        now = self.clock()
        with unit_of_work(self.factory, now=now) as session:
            session.execute(delete(OAuthState).where(OAuthState.expires_at <= now))  # the unused ones
            session.add(OAuthState(state_hash=_state_hash(state), expires_at=now + self.expiration))
        return state

    def consume(self, state: str) -> bool:
        if not state or len(state) > 200:
            return False
        now = self.clock()
        with unit_of_work(self.factory, now=now) as session:
            used = session.execute(
                delete(OAuthState).where(OAuthState.state_hash == _state_hash(state), OAuthState.expires_at > now)
            ).rowcount
        return used == 1


# --- the flow and its pages -------------------------------------------------------------------


class _Flow(OAuthFlow):
    """bolt's flow, storing through `InstallationStore.install`; a database that cannot save is
    told on the page like any failure (bolt turns a `BoltError` into its failure page)."""

    def store_installation(self, request: BoltRequest, installation: SlackInstallation) -> None:
        store: InstallationStore = self.settings.installation_store  # type: ignore[assignment]
        try:
            store.install(installation)
        except SQLAlchemyError as exc:
            log.exception("the installation of %s could not be saved", installation.team_id)
            raise BoltError("the database did not save the installation") from exc


def _locale(request: BoltRequest) -> str | None:
    """The browser's first language (`Accept-Language: zh-CN,zh;q=0.9` → zh-CN)."""
    header = (request.headers.get("accept-language") or [""])[0]
    return header.split(",")[0].split(";")[0].strip() or None


def _page(args: SuccessArgs | FailureArgs, status: int, text: str, *, again: bool = False) -> BoltResponse:
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Set-Cookie": [args.settings.state_utils.build_set_cookie_for_deletion()],
    }
    body = install_page(_locale(args.request), text, again=args.settings.install_path if again else None)
    return BoltResponse(status=status, body=body, headers=headers)


def _installed(args: SuccessArgs) -> BoltResponse:
    team = args.installation.team_name or args.installation.team_id or ""
    return _page(args, 200, t(_locale(args.request), "install.done", team=team))


def _not_installed(args: FailureArgs) -> BoltResponse:
    locale = _locale(args.request)
    # `reason` may come from the redirect's query string: only a plain word is repeated.
    reason = args.reason if args.reason.replace("_", "").isalnum() else "error"
    log.info("installation not completed: %s", reason[:40])
    if args.reason in ("invalid_state", "invalid_browser"):
        return _page(args, args.suggested_status_code, t(locale, "install.failed.state"), again=True)
    if args.reason == "access_denied":  # the person cancelled on Slack's page
        return _page(args, 200, t(locale, "install.failed.denied"), again=True)
    if isinstance(args.error, UnsupportedInstall):
        return _page(args, 400, t(locale, "install.failed.org"))
    if args.reason == "storage_error":  # the database did not answer: worth another try
        return _page(args, 503, t(locale, "install.failed.busy"), again=True)
    return _page(args, args.suggested_status_code, t(locale, "install.failed.other", reason=reason[:40]), again=True)


def oauth_flow(
    settings: Settings, factory: sessionmaker[Session], client: WebClient, *, clock: Callable[[], dt.datetime]
) -> OAuthFlow:
    """bolt's OAuth flow for many-workspace mode, on our stores; `client` (SLACK_API_URL, no
    token) makes the `oauth.v2.access` and `auth.test` calls."""
    store = InstallationStore(factory, clock=clock)
    oauth = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        # Straight to Slack's authorize page: no page of bolt's own, in English only, in between.
        install_page_rendering_enabled=False,
        installation_store=store,
        state_store=StateStore(factory, clock=clock),
        state_expiration_seconds=STATE_SECONDS,
        token_rotation_expiration_minutes=ROTATE_MINUTES,
        callback_options=CallbackOptions(success=_installed, failure=_not_installed),
        logger=log,
    )
    return _Flow(client=client, logger=log, settings=oauth)


class Authorize(InstallationStoreAuthorize):
    """bolt's authorization from the installation store, which also notes a request from a
    workspace touchbase is not installed in (bolt then refuses it, and nothing runs).

    What `auth.test` says of a token (the bot's user and id) is kept per token: asking Slack on
    every request cost each answer a round trip. The installation is still read every time, so
    an uninstalled workspace (its tokens deleted) is refused at once, and a renewed token is a
    new key. The cache is emptied when it holds `CACHED_TOKENS` (tokens renewed every 12 hours
    would otherwise pile up)."""

    CACHED_TOKENS = 10_000

    def __call__(self, *, context: Any, **kwargs: Any) -> Any:
        if len(self.authorize_result_cache) >= self.CACHED_TOKENS:
            self.authorize_result_cache.clear()
        result = super().__call__(context=context, **kwargs)
        if result is None:
            context[OUTCOME] = "not_installed"
        return result


def authorize(flow: OAuthFlow, client: WebClient) -> Authorize:
    """Each request's workspace installation, its token renewed when it is about to expire
    (`client`: SLACK_API_URL, for `auth.test` and `oauth.v2.access`)."""
    settings = flow.settings
    return Authorize(
        logger=log, installation_store=settings.installation_store, client_id=settings.client_id,
        client_secret=settings.client_secret, client=client,
        token_rotation_expiration_minutes=settings.token_rotation_expiration_minutes, cache_enabled=True,
    )  # fmt: skip


# --- a workspace's client outside a request -----------------------------------------------------


class TokenUnavailable(Exception):
    """The workspace is installed but its token could not be renewed now (try again later)."""


class Clients(Protocol):
    def client_for(self, team_id: str) -> WebClient | None:
        """The Web API client carrying `team_id`'s token; None when touchbase is not installed there."""
        ...


class OneWorkspace:
    """Single-workspace mode: the bot token's client, whatever the workspace."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def client_for(self, team_id: str) -> WebClient | None:
        return self.client


class Installed:
    """Many-workspace mode: a client with the workspace's own token, renewed first when Slack
    rotates tokens and this one is about to expire."""

    def __init__(self, store: InstallationStore, *, make: Callable[[str | None], WebClient],
                 rotator: TokenRotator) -> None:  # fmt: skip
        self.store = store
        self.make = make
        self.rotator = rotator

    def client_for(self, team_id: str) -> WebClient | None:
        installation = self.store.find_installation(enterprise_id=None, team_id=team_id)
        if installation is None or not installation.bot_token:
            return None
        if installation.bot_refresh_token:
            try:
                renewed = self.rotator.perform_token_rotation(installation=installation,
                                                              minutes_before_expiration=ROTATE_MINUTES)  # fmt: skip
            except SlackTokenRotationError as exc:
                raise TokenUnavailable(f"the token of {team_id} could not be renewed: {exc}") from exc
            if renewed is not None:
                self.store.save(renewed)
                installation = renewed
        return self.make(installation.bot_token)


def clients(settings: Settings, factory: sessionmaker[Session], *, make: Callable[[str | None], WebClient],
            clock: Callable[[], dt.datetime]) -> Clients:  # fmt: skip
    """The clients for work outside a request. `make(token)` builds one (SLACK_API_URL, the
    retries its user wants)."""
    if not settings.multi_workspace:
        return OneWorkspace(make(settings.slack_bot_token))
    rotator = TokenRotator(client_id=settings.slack_client_id or "", client_secret=settings.slack_client_secret or "",
                           client=make(None))  # fmt: skip
    return Installed(InstallationStore(factory, clock=clock), make=make, rotator=rotator)
