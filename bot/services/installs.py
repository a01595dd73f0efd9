"""Installed, uninstalled, purged: a workspace's life in many-workspace mode.

- `installed`: the OAuth flow stored the workspace's token (bot.oauth); an install after an
  uninstall clears the pending purge.
- `uninstalled`: Slack said `app_uninstalled`, or `tokens_revoked` for the bot. The tokens are
  deleted at once, the outbox's notifications still to go there are cancelled (never retried,
  never sent), and the retention period starts.
- `purge`: once `UNINSTALLED_RETENTION_DAYS` have passed (as of the sweep's instant, so
  `sweep --at` moves it) every row of the workspace is deleted, table by table. What was
  deleted is kept in `workspace_purge` (counts, no data) and logged: the audit trail itself
  belongs to the workspace and goes with it.

Each is idempotent: an uninstall told twice, or a purge run by two workers, does it once.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from bot.services import audit
from bot.services.workspaces import get_workspace
from bot.storage.models import CANCELLED, PENDING, SENDING, Base, Installation, Notification, Workspace, WorkspacePurge

log = logging.getLogger(__name__)


def installed(*, session: Session, team_id: str, name: str | None, installer_id: str | None) -> bool:
    """The workspace's installation was stored; True when it had been uninstalled (its pending
    purge is now cancelled)."""
    workspace = get_workspace(session, team_id)
    if name:
        workspace.name = name[:200]
    again = workspace.uninstalled_at is not None
    workspace.uninstalled_at = None
    audit.record(session=session, team_id=team_id, actor_id=installer_id, action="reinstall" if again else "install",
                 entity="workspace", entity_id=None, surface="oauth")  # fmt: skip
    if again:
        log.info("workspace %s installed again: its data is kept", team_id)
    return again


def uninstalled(*, session: Session, team_id: str, now: dt.datetime, why: str) -> int:
    """Forget the workspace's tokens and cancel what was still to be sent there; the retention
    period starts at `now` (the first time Slack tells). Returns the notifications cancelled."""
    session.execute(delete(Installation).where(Installation.team_id == team_id))
    workspace = session.get(Workspace, team_id)
    if workspace is None:  # never used: nothing is kept, nothing to purge
        return 0
    first = workspace.uninstalled_at is None
    if first:
        workspace.uninstalled_at = now
    cancelled = session.execute(
        update(Notification)
        .where(Notification.team_id == team_id, Notification.status.in_((PENDING, SENDING)))
        .values(status=CANCELLED, last_error=why, payload={})  # never sent: what it said is not kept
    ).rowcount
    if first:
        audit.record(session=session, team_id=team_id, actor_id=None, action="uninstall", entity="workspace",
                     entity_id=None, surface="event", changes={"why": why, "cancelled": cancelled})  # fmt: skip
        log.info("workspace %s: %s; %d notifications cancelled", team_id, why, cancelled)
    return int(cancelled or 0)


def purge(*, session: Session, team_id: str, now: dt.datetime, retention: dt.timedelta) -> dict[str, int] | None:
    """Delete every row of a workspace uninstalled at least `retention` before `now`; returns
    the rows deleted per table, or None when it is not (or no longer) due."""
    workspace = session.get(Workspace, team_id, with_for_update=True)
    if workspace is None or workspace.uninstalled_at is None or workspace.uninstalled_at > now - retention:
        return None
    uninstalled_at = workspace.uninstalled_at
    session.expunge(workspace)
    deleted: dict[str, int] = {}
    # Children first, the workspace row last; every table with a team_id, so a table added
    # later is purged too. The purge records are what stays.
    for table in reversed(Base.metadata.sorted_tables):
        if "team_id" not in table.columns or table.name == WorkspacePurge.__tablename__:
            continue
        count = session.execute(table.delete().where(table.c.team_id == team_id)).rowcount
        if count:
            deleted[table.name] = int(count)
    session.add(WorkspacePurge(team_id=team_id, uninstalled_at=uninstalled_at, purged_at=now, rows=deleted))
    log.info("workspace %s purged (uninstalled %s): %s", team_id, uninstalled_at.isoformat(),
             ", ".join(f"{n} {t}" for t, n in deleted.items()) or "no rows")  # fmt: skip
    return deleted
