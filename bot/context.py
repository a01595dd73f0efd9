"""What a listener knows besides its input: who acts, for which workspace, as of when.

A `RequestContext` is made for each request from its typed payload (bot.payloads): one
database session (the request's unit of work), the workspace (`team_id`: the workspace of the
person acting, see `payloads._check_team`), the person, the request's one instant `now`, and
the surface it came from. A DM about what the request saved is written into the outbox with
it (`tell`), for the worker's sender to post once it commits. Other work that should not hold
up Slack's answer (a DM about a refusal or a read, an App Home just opened, a report) is left
with `after(work)`; it runs once the unit of work has committed, with a `FollowUp` context of
its own: a fresh session, the same who/where/now, and the notifier, the one way to reach
people. Nothing is sent to anyone while a request is being answered, so a failed courtesy can
never undo the record it is about.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from bot.clock import local_today
from bot.notify import Directory, Notifier
from bot.services import notices
from bot.services.access import Viewer
from bot.services.members import get_member, language_of, zone_of
from bot.services.workspaces import TeamSettings, team_settings, workspace_and_member
from bot.storage.models import Member

log = logging.getLogger(__name__)
Work = Callable[["FollowUp"], None]


@dataclass
class _Context:
    session: Session
    team_id: str
    user_id: str | None
    now: dt.datetime
    surface: str
    directory: Directory
    default_tz: str = "UTC"  # TZ_DEFAULT: the team's time zone until it sets its own
    _members: dict[str, Member] = field(default_factory=dict, repr=False)
    # Read once per request, on first use. Not functools.cached_property: before Python 3.12 it
    # holds one lock per property, shared by every instance, while it computes, so each
    # request's first read (the workspace and who acts) waited on every other thread's.
    _settings: TeamSettings | None = field(default=None, init=False, repr=False)
    _viewer: Viewer | None = field(default=None, init=False, repr=False)

    @property
    def actor(self) -> str:
        """The person acting (every request but a workspace-level event has one)."""
        assert self.user_id, "this request has no person acting"
        return self.user_id

    def member(self, user_id: str | None = None) -> Member:
        user_id = user_id or self.actor
        if user_id not in self._members:
            # A member row needs its workspace row; the request's first read reads both.
            _workspace, found = workspace_and_member(session=self.session, team_id=self.team_id, user_id=user_id)
            self._members[user_id] = get_member(session=self.session, team_id=self.team_id, user_id=user_id,
                                                directory=self.directory, now=self.now, found=found)  # fmt: skip
        return self._members[user_id]

    @property
    def settings(self) -> TeamSettings:
        if self._settings is None:
            if self.user_id:
                self.member()  # the request's first read: the workspace with who acts, one statement
            self._settings = team_settings(self.session, self.team_id)
        return self._settings

    def locale_of(self, user_id: str | None = None) -> str | None:
        """The team's language if set, else the user's Slack locale (a request with no person
        acting, e.g. a malformed event: the team's language or the default)."""
        user_id = user_id or self.user_id
        return language_of(self.member(user_id), self.settings) if user_id else self.settings.language

    @property
    def locale(self) -> str | None:
        return self.locale_of()

    @property
    def tz(self) -> str:
        """The actor's time zone, else the team's, else TZ_DEFAULT."""
        return zone_of(self.member(), self.settings, self.default_tz)

    @property
    def today(self) -> dt.date:
        """The actor's date at this request's instant."""
        return local_today(self.now, self.tz)

    def today_of(self, user_id: str) -> dt.date:
        """Someone's date at this request's instant, in their time zone (else the team's)."""
        return local_today(self.now, zone_of(self.member(user_id), self.settings, self.default_tz))

    @property
    def viewer(self) -> Viewer:
        """What the actor may see and do (bot.services.access)."""
        if self._viewer is None:
            self._viewer = Viewer.of(self.member(), self.settings)
        return self._viewer


@dataclass
class FollowUp(_Context):
    """Work after the answer: its own session, and the notifier to reach people."""

    notifier: Notifier = field(default=None, repr=False)  # type: ignore[assignment]


@dataclass
class RequestContext(_Context):
    """One request: its unit of work, and what it leaves for after the answer."""

    failed: bool = False
    _after: list[Work] = field(default_factory=list, repr=False)
    _if_lost: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _asked: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)  # outbox rows by key (`ask`)
    state: dict[str, Any] = field(default_factory=dict, repr=False)  # for the app's own bookkeeping

    def after(self, work: Work) -> None:
        """Run `work` once Slack has its answer and this unit of work has committed."""
        self._after.append(work)

    def tell(self, user_id: str, text: str, *, blocks: list[dict[str, Any]] | None = None,
             about: Sequence[int] | None) -> None:  # fmt: skip
        """DM `user_id` what this request saved, once its unit of work commits (nothing if it
        does not): an outbox row written in the unit of work, which the worker's sender posts
        within a second or two, ahead of any backlog, and tries again when Slack fails
        (services.notices). `about`: the customers it names (none: `()`), so that erasing one
        deletes it before it goes; None when they are not known, and an erasure then looks for
        their names in its text. (A DM about nothing saved, a refusal or a read, goes with `after`.)"""
        payload: dict[str, Any] = {"text": text}
        if blocks:
            payload["blocks"] = blocks
        if about is not None:
            payload[notices.NAMES] = list(about)
        payload["if_refused"] = self.if_refused
        # Keyed by a random id: each request's DM is its own (a key only guards rows a job writes).
        self.say(notices.Said(user_id, f"told:{uuid.uuid4().hex}", payload))

    def say(self, *said: notices.Said) -> None:
        """These DMs are posted once this unit of work commits: outbox rows (`ask`)."""
        self.ask(notices.said_rows(team_id=self.team_id, now=self.now, said=said))

    def ask(self, rows: Iterable[dict[str, Any]]) -> None:
        """Outbox rows this request asks for (its DMs, App Homes), written together just before
        it commits (`finish`: one statement for all of them); a row with the key of one asked
        for already is the same."""
        for row in rows:
            self._asked.setdefault(row["key"], row)

    @property
    def if_refused(self) -> dict[str, Any]:
        """Whom an outbox row this request writes names to be told (a DM of its own) if Slack
        refuses it for good: the person acting, in their language, as after the answer."""
        return {"user_id": self.actor, "locale": self.locale}

    def if_lost(self, tell: Callable[[], None]) -> None:
        """Run `tell` if this unit of work cannot be saved after all (the commit fails): what
        waits on the request (a workflow step) must hear of it, not hang."""
        self._if_lost.append(tell)

    def lost(self) -> None:
        for tell in self._if_lost:
            try:
                tell()
            except Exception:  # noqa: BLE001 - the request has failed already; this is a courtesy
                log.warning("could not tell that a request was lost", exc_info=True)

    @property
    def left_for_later(self) -> list[Work]:
        return list(self._after) if not self.failed else []

    def follow_up(self, session: Session, notifier: Notifier) -> FollowUp:
        """The same request's who, where and when, with another session and the notifier."""
        return FollowUp(session=session, team_id=self.team_id, user_id=self.user_id, now=self.now,
                        surface=self.surface, directory=self.directory, default_tz=self.default_tz,
                        notifier=notifier)  # fmt: skip

    def rollback(self) -> None:
        """Drop what this request wrote so far (a refusal): nothing half-saved."""
        self.session.rollback()
        self._asked.clear()
        self._members.clear()
        self._settings = self._viewer = None

    def finish(self) -> None:
        """End the unit of work: commit unless the listener failed; always close."""
        try:
            if self.failed:
                self.session.rollback()
            else:
                notices.ask(session=self.session, rows=list(self._asked.values()))
                self.session.commit()
        finally:
            self.session.close()
