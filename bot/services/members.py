"""Members: a Slack user's time zone, locale and role, read from Slack once a day."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import TYPE_CHECKING

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from bot.notify import Profiles, Unreachable
from bot.storage.models import Member

if TYPE_CHECKING:
    from bot.services.workspaces import TeamSettings

log = logging.getLogger(__name__)
PROFILE_MAX_AGE = dt.timedelta(days=1)
# A Slack user id: what an owner, an assignee, an admin or a lead is (never `<!channel>`, a name, …).
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")


class _Unread:
    """`get_member(found=…)` not given: the row is read there."""


_UNREAD = _Unread()


def get_member(
    *, session: Session, team_id: str, user_id: str, directory: Profiles | None, now: dt.datetime,
    found: Member | None | _Unread = _UNREAD,
) -> Member:  # fmt: skip
    """The member row, refreshed from Slack when missing or older than a day at `now`.
    `found`: the row (or None: there is none) when the caller has read it already.

    A failed `users.info` keeps what we knew (or nothing): a profile is a nicety, never a
    reason to fail the user's request.
    """
    def query() -> Select[tuple[Member]]:  # built only when read (most callers give the row)
        return select(Member).where(Member.team_id == team_id, Member.user_id == user_id)

    member = session.scalar(query()) if isinstance(found, _Unread) else found
    profile = None
    if directory is not None and not (member is not None and is_fresh(member, now)):
        try:
            profile = directory.profile(user_id)
        except Unreachable as exc:
            log.warning("users.info for %s failed: %s", user_id, exc)
    if member is not None and profile is None:
        return member
    known = member or Member(team_id=team_id, user_id=user_id)
    if profile is not None:
        known.name, known.tz, known.locale = profile.name, profile.tz, profile.locale
        known.is_slack_admin, known.profile_fetched_at = profile.is_admin, now
    try:
        with session.begin_nested():  # two first requests of one user may race here
            session.add(known)
    except IntegrityError:
        return session.scalars(query()).one()
    except OperationalError as exc:
        # A request that only reads met a writer (SQLite): the profile is kept next time.
        log.info("member %s not saved this time: %s", user_id, exc.orig)
        return _detached(known)
    return known


def zone_of(member: Member, settings: TeamSettings, default_tz: str) -> str:
    """A person's time zone: theirs, else the team's, else TZ_DEFAULT."""
    return member.tz or settings.tz or default_tz


def language_of(member: Member, settings: TeamSettings) -> str | None:
    """The team's language if set, else the person's Slack locale."""
    return settings.language or member.locale


def is_fresh(member: Member, now: dt.datetime) -> bool:
    """Whether the member's Slack profile was read within `PROFILE_MAX_AGE` before `now`."""
    return bool(member.profile_fetched_at and now - member.profile_fetched_at < PROFILE_MAX_AGE)


def _detached(member: Member) -> Member:
    """A copy to read from after its row could not be saved."""
    return Member(**{c.key: getattr(member, c.key, None) for c in Member.__table__.columns if c.key != "id"})


ADMIN, LEAD, MEMBER = "admin", "lead", "member"


def role_of(member: Member) -> str:
    """The member's touchbase role; Slack admins and owners are admins until told otherwise."""
    if member.role:
        return member.role
    return ADMIN if member.is_slack_admin else MEMBER


def is_admin(member: Member) -> bool:
    return role_of(member) == ADMIN


SEES_EVERYTHING = (ADMIN, LEAD)  # the roles that see every customer, whatever the visibility


def sees_everything(member: Member) -> bool:
    return role_of(member) in SEES_EVERYTHING


def members_with_role(*, session: Session, team_id: str, role: str) -> list[Member]:
    rows = session.scalars(select(Member).where(Member.team_id == team_id).order_by(Member.user_id))
    return [m for m in rows if role_of(m) == role]


def ensure_members(*, session: Session, team_id: str, user_ids: list[str]) -> list[Member]:
    """Member rows for these users, creating the missing ones (their profile comes later)."""
    known = {
        m.user_id: m
        for m in session.scalars(select(Member).where(Member.team_id == team_id, Member.user_id.in_(user_ids)))
    }
    for user_id in user_ids:
        if user_id not in known:
            known[user_id] = Member(team_id=team_id, user_id=user_id)
            session.add(known[user_id])
    session.flush()
    return [known[u] for u in user_ids]
