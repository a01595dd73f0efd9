"""`/crm settings`: the team's configuration and who holds which role (admins only)."""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session

from bot.services import audit
from bot.services.errors import FieldErrors, FormModel, UserError
from bot.services.members import ADMIN, LEAD, MEMBER, ensure_members, is_admin, members_with_role, role_of
from bot.services.workspaces import TeamSettings, get_workspace
from bot.storage.models import Member

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class SettingsInput(FormModel):
    visibility: Literal["open", "owner"] = "open"
    admins: list[str] = []
    leads: list[str] = []
    tz: str | None = None
    digest_time: str | None = None
    revisit_a: int = 7
    revisit_b: int = 30
    revisit_c: int = 90
    escalation_channel: str | None = None
    complaints_channel: str | None = None

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError("error.tz.invalid", "error.tz.invalid") from None
        return value

    @field_validator("digest_time")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        if value is not None and not _HHMM.match(value):
            raise PydanticCustomError("error.time.invalid", "error.time.invalid")
        return value

    @field_validator("revisit_a", "revisit_b", "revisit_c", mode="before")
    @classmethod
    def _days(cls, value: object) -> object:
        if value is None or not str(value).strip().isdigit() or not 1 <= int(str(value)) <= 3650:
            raise PydanticCustomError("error.days.invalid", "error.days.invalid")
        return int(str(value))


def current(*, session: Session, team_id: str, member: Member) -> tuple[TeamSettings, list[str], list[str]]:
    """What the settings modal shows: the settings, the admins and the leads."""
    if not is_admin(member):
        raise UserError("error.admin_only")
    admins = [m.user_id for m in members_with_role(session=session, team_id=team_id, role=ADMIN)]
    leads = [m.user_id for m in members_with_role(session=session, team_id=team_id, role=LEAD)]
    return TeamSettings.model_validate(get_workspace(session, team_id).settings), admins, leads


def update_settings(*, session: Session, team_id: str, member: Member, data: SettingsInput, surface: str) -> None:
    if not is_admin(member):
        raise UserError("error.admin_only")
    if not data.admins:
        raise FieldErrors.one("admins", "error.admins.empty")
    workspace = get_workspace(session, team_id)
    before = TeamSettings.model_validate(workspace.settings)
    after = before.model_copy(
        update={
            "visibility": data.visibility,
            "tz": data.tz,
            "digest_time": data.digest_time or before.digest_time,
            "revisit_days": {"A": data.revisit_a, "B": data.revisit_b, "C": data.revisit_c},
            "escalation_channel": data.escalation_channel,
            "complaints_channel": data.complaints_channel,
        }
    )
    # Keep keys this modal does not show, e.g. those a newer version added.
    workspace.settings = {**workspace.settings, **after.model_dump(mode="json")}
    changes = audit.diff(before.model_dump(mode="json"), after.model_dump(mode="json"))
    if changes:
        audit.record(session=session, team_id=team_id, actor_id=member.user_id, action="update",
                     entity="workspace", entity_id=None, surface=surface, changes=changes)  # fmt: skip
    _grant_roles(session, team_id, member.user_id, data, surface)


def _grant_roles(session: Session, team_id: str, actor_id: str, data: SettingsInput, surface: str) -> None:
    wanted = {user: LEAD for user in data.leads} | {user: ADMIN for user in data.admins}  # admin wins
    holders = {m.user_id: m for role in (ADMIN, LEAD) for m in members_with_role(session=session, team_id=team_id, role=role)}
    for member in ensure_members(session=session, team_id=team_id, user_ids=list(wanted)):
        holders[member.user_id] = member
    for user_id, member in holders.items():
        old, new = role_of(member), wanted.get(user_id, MEMBER)
        if old != new or member.role is None:
            member.role = new
        if old != new:
            audit.record(session=session, team_id=team_id, actor_id=actor_id, action="role", entity="member",
                         entity_id=member.id, surface=surface, changes={"role": [old, new], "user": [user_id, user_id]})  # fmt: skip
    session.flush()
