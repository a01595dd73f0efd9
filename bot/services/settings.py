"""`/crm settings`: the team's configuration and who holds which role (admins only)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from babel.numbers import is_currency
from pydantic import field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session

from bot.services import audit
from bot.services.access import Viewer, require_admin
from bot.services.calendar import WEEKDAYS, parse_hours
from bot.services.customers import read_value
from bot.services.errors import FieldErrors, FormModel
from bot.services.health import GradeRules, grade_rules
from bot.services.members import (
    ADMIN,
    LEAD,
    MEMBER,
    USER_ID,
    ensure_members,
    members_with_role,
    role_of,
)
from bot.services.sla import parse_target
from bot.services.workspaces import SlaTarget, TeamSettings, get_workspace, locked_workspace

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


_DAY_RANGE = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)(?:-(mon|tue|wed|thu|fri|sat|sun))?$")
_SLA_LINE = re.compile(r"^(urgent|high|normal|low)\s+(\S+)\s+(\S+)(\s+24/7)?$")


def _invalid(key: str) -> PydanticCustomError:
    return PydanticCustomError(key, key)


# Working hours and SLA lines may be written in Chinese: `周一-周五 09:00-18:00`,
# `紧急 1小时 8小时 24/7`. They are read by turning the Chinese words into the codes.
_ZH_DAYS = {"mon": "周一", "tue": "周二", "wed": "周三", "thu": "周四", "fri": "周五", "sat": "周六", "sun": "周日"}
_ZH_SEVERITY = {"urgent": "紧急", "high": "高", "normal": "一般", "low": "低"}
_ZH_UNITS = {"m": "分钟", "h": "小时", "d": "天"}
_FROM_ZH: tuple[tuple[str, str], ...] = (
    ("星期", "周"), ("礼拜", "周"), ("周天", "sun"),
    *((zh, code) for code, zh in _ZH_DAYS.items()),
    ("至", "-"), ("到", "-"), ("～", "-"), ("~", "-"), ("，", " "), ("：", ":"),
    *((zh, code) for code, zh in _ZH_SEVERITY.items()),
    ("个工作日", "d"), ("工作日", "d"), ("个小时", "h"),
    *((zh, code) for code, zh in _ZH_UNITS.items()),
)  # fmt: skip


def _from_chinese(text: str) -> str:
    for zh, code in _FROM_ZH:
        text = text.replace(zh, code)
    return text


def _to_chinese(text: str, words: dict[str, str]) -> str:
    return re.sub(r"[a-z]+", lambda m: words.get(m.group(0), m.group(0)), text)


def hours_text(hours: dict[str, list[str]], chinese: bool = False) -> str:
    """{"mon": [...], ...} as lines a person edits: `mon-fri 09:00-12:00 13:30-18:00`
    (`周一-周五 09:00-12:00 13:30-18:00` for a Chinese reader)."""
    lines: list[str] = []
    run: list[str] = []
    for day in [*WEEKDAYS, None]:
        if run and (day is None or hours.get(day) != hours.get(run[0]) or not hours.get(day)):
            if hours.get(run[0]):
                name = run[0] if len(run) == 1 else f"{run[0]}-{run[-1]}"
                lines.append(f"{name} {' '.join(hours[run[0]])}")
            run = []
        if day is not None and hours.get(day):
            run.append(day)
    text = "\n".join(lines)
    return _to_chinese(text, _ZH_DAYS) if chinese else text


def parse_hours_text(text: str) -> dict[str, list[str]]:
    hours: dict[str, list[str]] = {}
    for line in _from_chinese(text.lower()).splitlines():
        words = line.replace(",", " ").split()
        if not words:
            continue
        m = _DAY_RANGE.match(words[0])
        if not m or len(words) < 2:
            raise ValueError(line)
        first = WEEKDAYS.index(m.group(1))
        last = WEEKDAYS.index(m.group(2) or m.group(1))
        for day in WEEKDAYS[first : last + 1]:
            hours[day] = words[1:]
    parse_hours(hours)  # raises ValueError on a malformed or overlapping span
    return hours


def sla_text(sla: dict[str, SlaTarget], chinese: bool = False) -> str:
    text = "\n".join(
        f"{sev} {t.first_response} {t.resolution}" + (" 24/7" if t.calendar_hours else "")
        for sev, t in sla.items()
    )
    return _to_chinese(text, {**_ZH_SEVERITY, **_ZH_UNITS}) if chinese else text


def parse_sla_text(text: str) -> dict[str, SlaTarget]:
    sla: dict[str, SlaTarget] = {}
    for line in _from_chinese(text.lower()).splitlines():
        if not line.strip():
            continue
        m = _SLA_LINE.match(" ".join(line.split()))
        if not m:
            raise ValueError(line)
        for target in (m.group(2), m.group(3)):
            parse_target(target, dt.timedelta(hours=8))
        sla[m.group(1)] = SlaTarget(first_response=m.group(2), resolution=m.group(3), calendar_hours=bool(m.group(4)))
    return sla


_RESPONSE_ITEM = re.compile(r"^([abc])\s*[:=]?\s*(\d+(?:\.\d+)?[mhd])$")


def response_text(targets: dict[str, str], chinese: bool = False) -> str:
    """The response targets per grade as a person edits them: `A 1h, B 4h, C 8h`."""
    text = ", ".join(f"{grade} {targets[grade]}" for grade in ("A", "B", "C") if grade in targets)
    return _to_chinese(text, _ZH_UNITS) if chinese else text


def parse_response_text(text: str) -> dict[str, str]:
    """`A 1h, B 4h, C 8h` (commas or lines; `A 1小时` too) -> {"A": "1h", …}; a grade left out
    keeps its default."""
    targets: dict[str, str] = {}
    for item in re.split(r"[,;，；\n]+", text.lower()):
        if not item.strip():
            continue
        m = _RESPONSE_ITEM.match(" ".join(_from_chinese(item).split()))
        if not m:
            raise ValueError(item)
        parse_target(m.group(2), dt.timedelta(hours=8))
        targets[m.group(1).upper()] = m.group(2)
    return targets


_EMOJI = re.compile(r"^[a-z0-9_+'\-]{1,100}$")


class SettingsInput(FormModel):
    visibility: Literal["open", "owner"] = "open"
    language: Literal["auto", "en", "zh"] = "auto"  # auto: each user's Slack locale
    admins: list[str] = []
    leads: list[str] = []
    tz: str | None = None
    digest_time: str | None = None
    revisit_a: int = 7
    revisit_b: int = 30
    revisit_c: int = 90
    escalation_channel: str | None = None
    complaints_channel: str | None = None
    report_channel: str | None = None
    working_hours: dict[str, list[str]] | None = None
    holidays_country: str | None = None
    days_off: list[dt.date] = []
    sla: dict[str, SlaTarget] | None = None
    warning_percent: int = 80
    level2_share: float = 1.5
    level3_share: float = 2.0
    response_targets: dict[str, str] | None = None
    complaint_emoji: str | None = None
    customer_survey: Literal["on", "off"] | None = None  # None: keep the team's

    @field_validator("response_targets", mode="before")
    @classmethod
    def _response(cls, value: object) -> object:
        if value is None or isinstance(value, dict):
            return value
        try:
            return parse_response_text(str(value))
        except ValueError:
            raise _invalid("error.response_targets.invalid") from None

    @field_validator("complaint_emoji", mode="before")
    @classmethod
    def _emoji(cls, value: object) -> object:
        if value is None:
            return None
        name = str(value).strip().strip(":").lower()  # `:rotating_light:` as Slack writes it
        if not _EMOJI.match(name):
            raise _invalid("error.emoji.invalid")
        return name

    @field_validator("admins", "leads")
    @classmethod
    def _people(cls, value: list[str]) -> list[str]:
        if any(not USER_ID.match(user) for user in value):
            raise _invalid("error.owner.unknown")
        return value

    currency: str | None = None  # None: keep the team's
    grade_a_value: int | None = None  # grade suggestions by value (None: not by value)
    grade_b_value: int | None = None

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: object) -> object:
        if value is None:
            return None
        code = str(value).strip().upper()
        if not is_currency(code):
            raise _invalid("error.currency.invalid")
        return code

    @field_validator("grade_a_value", "grade_b_value", mode="before")
    @classmethod
    def _value(cls, value: object) -> object:
        return None if value is None or isinstance(value, int) else read_value(str(value))

    @field_validator("working_hours", mode="before")
    @classmethod
    def _hours(cls, value: object) -> object:
        if value is None or isinstance(value, dict):
            return value
        try:
            return parse_hours_text(str(value))
        except ValueError:
            raise _invalid("error.hours.invalid") from None

    @field_validator("holidays_country", mode="before")
    @classmethod
    def _country(cls, value: object) -> object:
        if value is None:
            return None
        code = str(value).strip().upper()
        if code not in holidays.list_supported_countries():
            raise _invalid("error.country.invalid")
        return code

    @field_validator("days_off", mode="before")
    @classmethod
    def _days_off(cls, value: object) -> object:
        if value is None or isinstance(value, list):
            return value or []
        try:
            return sorted({dt.date.fromisoformat(d) for d in re.split(r"[\s,，]+", str(value)) if d})
        except ValueError:
            raise _invalid("error.days_off.invalid") from None

    @field_validator("sla", mode="before")
    @classmethod
    def _sla(cls, value: object) -> object:
        if value is None or isinstance(value, dict):
            return value
        try:
            return parse_sla_text(str(value))
        except ValueError:
            raise _invalid("error.sla.invalid") from None

    @field_validator("warning_percent", mode="before")
    @classmethod
    def _percent(cls, value: object) -> object:
        if value is None or not str(value).strip().isdigit() or not 1 <= int(str(value)) <= 99:
            raise _invalid("error.percent.invalid")
        return int(str(value))

    @field_validator("level2_share", "level3_share", mode="before")
    @classmethod
    def _share(cls, value: object) -> object:
        try:
            share = float(str(value))
        except ValueError:
            raise _invalid("error.share.invalid") from None
        if not 1 <= share <= 10:
            raise _invalid("error.share.invalid")
        return share

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


def current(*, session: Session, viewer: Viewer) -> tuple[TeamSettings, list[str], list[str], GradeRules]:
    """What the settings modal shows (admins only): the settings, the admins, the leads and
    the rules of grade suggestions."""
    require_admin(viewer)
    team_id = viewer.team_id
    admins = [m.user_id for m in members_with_role(session=session, team_id=team_id, role=ADMIN)]
    leads = [m.user_id for m in members_with_role(session=session, team_id=team_id, role=LEAD)]
    team = TeamSettings.model_validate(get_workspace(session, team_id).settings)
    return team, admins, leads, grade_rules(session, team_id)


def update_settings(*, session: Session, viewer: Viewer, data: SettingsInput, surface: str) -> None:
    """Save the settings modal (admins only); every change, roles included, is audited."""
    require_admin(viewer)
    team_id, actor_id = viewer.team_id, viewer.user_id
    if not data.admins:
        raise FieldErrors.one("admins", "error.admins.empty")
    workspace = locked_workspace(session, team_id)
    before = TeamSettings.model_validate(workspace.settings)
    after = before.model_copy(
        update={
            "visibility": data.visibility,
            "language": None if data.language == "auto" else data.language,
            "tz": data.tz,
            "digest_time": data.digest_time or before.digest_time,
            "revisit_days": {"A": data.revisit_a, "B": data.revisit_b, "C": data.revisit_c},
            "escalation_channel": data.escalation_channel,
            "complaints_channel": data.complaints_channel,
            "report_channel": data.report_channel,
            "working_hours": data.working_hours or before.working_hours,
            "holidays_country": data.holidays_country,
            "days_off": data.days_off,
            "sla": {**before.sla, **(data.sla or {})},
            "sla_warning_share": data.warning_percent / 100,
            "escalation_level2_share": data.level2_share,
            "escalation_level3_share": max(data.level3_share, data.level2_share),
            "response_targets": {**before.response_targets, **(data.response_targets or {})},
            "complaint_emoji": data.complaint_emoji or before.complaint_emoji,
            "currency": data.currency or before.currency,
            "customer_survey": before.customer_survey if data.customer_survey is None else data.customer_survey == "on",
        }
    )
    rules_before = grade_rules(session, team_id)
    rules = rules_before.model_copy(update={"a_value": data.grade_a_value, "b_value": data.grade_b_value})
    # Keep keys this modal does not show, e.g. those a newer version added.
    workspace.settings = {**workspace.settings, **after.model_dump(mode="json"), "grade_rules": rules.model_dump()}
    changes = audit.diff({**before.model_dump(mode="json"), "grade_rules": rules_before.model_dump()},
                         {**after.model_dump(mode="json"), "grade_rules": rules.model_dump()})  # fmt: skip
    if changes:
        audit.record(session=session, team_id=team_id, actor_id=actor_id, action="update",
                     entity="workspace", entity_id=None, surface=surface, changes=changes)  # fmt: skip
    _grant_roles(session, team_id, actor_id, data, surface)


def _grant_roles(session: Session, team_id: str, actor_id: str | None, data: SettingsInput, surface: str) -> None:
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
