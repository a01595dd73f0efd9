"""The audit trail: who did what to which record, when, from which surface."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from bot.storage.db import now_of
from bot.storage.models import AuditEvent


def record(
    *,
    session: Session,
    team_id: str,
    actor_id: str | None,
    action: str,
    entity: str,
    entity_id: int | None,
    surface: str | None,
    changes: dict[str, Any] | None = None,
) -> None:
    """One row of the trail, at the session's instant. Written at once with a plain insert: nothing
    reads the row back, and an ORM object would go through the unit of work (its flush, the read
    of its new id, an identity-map entry). The insert does not flush the session's pending
    changes first: the row needs none of them (its workspace's row is written as the workspace's
    first request reads it), and a change recorded before the caller changes the same row again
    (a customer's edit, then its stage) stays one update."""
    with session.no_autoflush:
        session.execute(AuditEvent.__table__.insert(), {
            "team_id": team_id, "actor_id": actor_id, "action": action, "entity": entity, "entity_id": entity_id,
            "surface": surface, "changes": changes or {}, "at": now_of(session),
        })  # fmt: skip


def _plain(value: Any) -> Any:
    """A value the JSON column can hold: dates and times as ISO strings."""
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose values differ."""
    return {k: [_plain(before.get(k)), _plain(v)] for k, v in after.items() if before.get(k) != v}


def record_update(
    *, session: Session, team_id: str, actor_id: str | None, entity: str, entity_id: int | None,
    surface: str | None, before: dict[str, Any], after: dict[str, Any],
) -> dict[str, list[Any]]:  # fmt: skip
    """Record an update if anything changed; returns the changes."""
    changes = diff(before, after)
    if changes:
        record(session=session, team_id=team_id, actor_id=actor_id, action="update", entity=entity,
               entity_id=entity_id, surface=surface, changes=changes)  # fmt: skip
    return changes
