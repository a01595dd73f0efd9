"""The app factory: builds the bolt `App` and the WSGI application that serves it.

Nothing Slack-shaped happens at import time; `create_app` is called by the server, the
worker and the tests with their own settings, sessions and Web API client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.i18n import t
from bot.later import AfterResponse, Work
from bot.notify import Directory, Notifier, SlackDirectory, SlackNotifier
from bot.services.customers import Viewer
from bot.services.errors import UserError
from bot.services.members import get_member, sees_everything
from bot.services.workspaces import get_workspace, team_settings
from bot.storage import crypto
from bot.storage.db import ping, reading
from bot.storage.models import Member

log = logging.getLogger(__name__)


@dataclass
class RequestContext:
    """What a listener needs besides the payload: one DB session and ways to reach Slack."""

    session: Session
    team_id: str
    user_id: str | None
    notifier: Notifier
    directory: Directory
    surface: str
    default_tz: str = "UTC"  # TZ_DEFAULT: the team's time zone until it sets its own
    failed: bool = False
    _members: dict[str, Member] = field(default_factory=dict)
    _after: list[Work] = field(default_factory=list)

    def after(self, work: Work) -> None:
        """Run `work` once Slack has its answer, with a fresh context (bot.later)."""
        self._after.append(work)

    def fresh(self, session: Session) -> RequestContext:
        """The same request's who and where, with another session and nothing cached."""
        return replace(self, session=session, failed=False, _members={}, _after=[])

    def finish(self) -> None:
        """End the request's unit of work: commit unless a listener failed; always close."""
        try:
            if self.failed:
                self.session.rollback()
            else:
                self.session.commit()
        finally:
            self.session.close()

    def member(self, user_id: str | None = None) -> Member:
        user_id = user_id or self.user_id
        assert user_id, "no user in this request"
        if user_id not in self._members:
            get_workspace(self.session, self.team_id)  # a member row needs its workspace row
            self._members[user_id] = get_member(
                session=self.session, team_id=self.team_id, user_id=user_id, directory=self.directory
            )
        return self._members[user_id]

    def locale_of(self, user_id: str | None = None) -> str | None:
        """The team's language if set, else the user's Slack locale."""
        return self._team_language or self.member(user_id).locale

    @cached_property
    def _team_language(self) -> str | None:
        return team_settings(self.session, self.team_id).language

    @property
    def locale(self) -> str | None:
        return self.locale_of()

    @cached_property
    def viewer(self) -> Viewer:
        """What this user may see under the team's visibility setting."""
        if team_settings(self.session, self.team_id).visibility == "open":
            return Viewer(user_id=self.user_id or "", sees_all=True)
        return Viewer(user_id=self.user_id or "", sees_all=sees_everything(self.member()))


def _surface(body: dict[str, Any]) -> str:
    kind = body.get("type")
    if "command" in body:
        return "command"
    return {"view_submission": "modal", "block_actions": "button", "message_action": "shortcut"}.get(
        str(kind), str(kind or "event")
    )


def _user_id(body: dict[str, Any]) -> str | None:
    if "user_id" in body:
        return body["user_id"]
    user = body.get("user")
    if isinstance(user, dict):
        return user.get("id")
    event = body.get("event") or {}
    return event.get("user") if isinstance(event.get("user"), str) else None


def _safe_locale(tb: RequestContext | None) -> str | None:
    """The user's language for an apology, unless finding it out fails too (the database may
    be what failed): then English."""
    if tb is None:
        return None
    try:
        tb.session.rollback()
        return tb.locale
    except Exception:  # noqa: BLE001 - the apology must still go out
        return None


class _App(App):
    """Bolt's global middleware runs before the listener, not around it; the request's unit
    of work is therefore closed here, after the listener has run and before Slack hears back
    (listeners finish first under `process_before_response`). What the listener left for
    later starts then, on `later`'s threads."""

    later: AfterResponse

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        try:
            if _reads_only(req.body):
                with reading():
                    return super().dispatch(req)
            return super().dispatch(req)
        except BaseException:
            if tb := req.context.get("tb"):
                tb.failed = True
            raise
        finally:
            if tb := req.context.get("tb"):
                tb.finish()
                if tb._after and not tb.failed:
                    self.later.submit(tb, tb._after)


def _reads_only(body: dict[str, Any]) -> bool:
    """Requests that only look: type-ahead, the App Home, and sub-commands that answer or
    open a modal without saving (their writes, if any, come with the modal's submission)."""
    if body.get("type") == "block_suggestion":
        return True
    if body.get("type") == "event_callback":
        return (body.get("event") or {}).get("type") == "app_home_opened"
    if "command" in body:
        from bot.handlers.commands import reads_only

        return reads_only(str(body.get("text") or ""))
    return False


def create_app(settings: Settings, session_factory: sessionmaker[Session], client: WebClient | None = None) -> App:
    crypto.configure(settings.encryption_keys)
    client = client or WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    app = _App(
        client=client,
        signing_secret=settings.slack_signing_secret,
        # Listeners finish before the HTTP response: no 10 ms ack polling, and a request's
        # work is done when Slack hears back. Follow-ups (DMs, App Home) run after it
        # (RequestContext.after); scheduled messages go through the outbox.
        process_before_response=True,
        token_verification_enabled=False,
        # Socket Mode has no signatures to check; HTTP always does.
        request_verification_enabled=not settings.socket_mode,
    )
    app.later = AfterResponse(session_factory)
    notifier = SlackNotifier(client)
    directory = SlackDirectory(client)

    @app.middleware
    def unit_of_work(context: Any, body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:
        team_id = context.team_id or (body.get("team") or {}).get("id")
        if not team_id:
            return next()
        context["tb"] = RequestContext(
            session=session_factory(),
            team_id=team_id,
            user_id=context.user_id or _user_id(body),
            notifier=notifier,
            directory=directory,
            surface=_surface(body),
            default_tz=settings.tz_default,
        )
        return next()

    @app.error
    def on_error(error: Exception, context: Any, body: dict[str, Any], respond: Any, response: BoltResponse) -> None:
        tb: RequestContext | None = context.get("tb")
        if tb is not None:
            tb.failed = True  # nothing half-saved: the unit of work rolls back
        if isinstance(error, UserError):
            # A refusal the user can understand, raised from a button: tell them why.
            response.status, response.body = 200, ""
            text = t(tb.locale if tb else None, error.key, **error.params)
        else:
            log.exception("listener failed", exc_info=error)
            text = t(_safe_locale(tb), "error.generic")
        if body.get("response_url") or body.get("response_urls"):
            try:
                respond(text=text, response_type="ephemeral", replace_original=False)
            except Exception:  # noqa: BLE001 - telling the user is best effort
                log.warning("could not tell the user about the failure")

    from bot import handlers

    handlers.register(app)
    return app


def create_wsgi(app: App, engine: Engine) -> Callable[..., Iterable[bytes]]:
    """Slack's requests go to bolt; `GET /healthz` answers 200 when the database answers."""
    slack = SlackRequestHandler(app, path="/slack/events")

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            ok = ping(engine)
            start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"ok" if ok else b"database unavailable"]
        return slack(environ, start_response)

    return wsgi
