"""What a request tells someone by DM about what it saved: the author's "touch saved", an
assignee's "follow-up given to you", a new owner's notice, a new complaint's DMs, the leads' alert
of a low score (RequestContext.tell and the services that write them).

Each message is a row of the outbox (kind `said`) written in the request's own transaction: a
request keeps the DMs and App Homes it asks for (RequestContext.say, `home.asked_homes`) and
writes them with one statement as it commits (`ask`); a service writes its own at once (`say`).
The worker's sender posts it within a second or two, ahead of any backlog of digests
(scheduler.outbox), and the process that answers Slack does no more than write it. So a DM is sent only if what it tells of was saved, is tried again
when Slack fails, and is not lost with a process that stops. Once Slack has it, its row is
deleted: one per touch would otherwise be kept for good, with the customer's name.

A message's text is its row's (written in the request's language), or built when it is sent
(`payload["render"]`, scheduler.said) for a person other than the one acting, whose language the
request does not know without asking Slack."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.notify import Profiles
from bot.services.members import get_member, language_of
from bot.services.workspaces import settings_of, workspace_and_member
from bot.storage.models import CANCELLED, PENDING, Customer, Notification

SAID_KIND = "said"  # a DM a request wrote into the outbox
HOME_KIND = "home"  # an App Home's row in the outbox (services.home.asked_homes)
GIVEN = "given"  # the renderer of a follow-up given to someone by another (scheduler.said)
ASSIGNED = "assigned"  # the renderer of a customer given to someone by another (scheduler.said)
COMPLAINT = "complaint"  # the renderer of a DM about a complaint (services.complaints, scheduler.said)
CARD = "card"  # the renderer of a saved customer's card for its author (handlers.customers, scheduler.said)
LOW_SCORE = "low_score"  # the renderer of a lead's alert of a low score (services.satisfaction, scheduler.said)
# In a row's payload, the customers its message names (by id), written with every message that
# names one, so that `forget` finds it when one is erased before it goes.
NAMES = "customers"
# Rows their job writes again when missing, from the data as it is then: a person's digest of the
# day (while their reminder window is open), an owner's check-in of the week.
_WRITTEN_AGAIN = ("digest", "checkin")
# Rows that hold ids only and are rendered when sent (scheduler's renderers): never a customer's text.
_IDS_ONLY = ("home", "report", "response", "revisit", "follow_up")
ERASED = "customer erased"  # why a row was cancelled


@dataclass(frozen=True)
class Said:
    user_id: str  # told by DM
    key: str  # what it is about, unique in the workspace: a request writes it once
    payload: dict[str, Any]  # {"text": …}, or {"render": …, its arguments}


def say(*, session: Session, now: dt.datetime, team_id: str, said: list[Said]) -> None:
    """These DMs are posted once this transaction commits (none if it does not)."""
    ask(session=session, rows=said_rows(team_id=team_id, now=now, said=said))


def said_rows(*, team_id: str, now: dt.datetime, said: Iterable[Said]) -> list[dict[str, Any]]:
    """The outbox rows of these DMs, for `ask`."""
    return [{"team_id": team_id, "key": f"{SAID_KIND}:{s.key}"[:300], "kind": SAID_KIND, "channel": s.user_id,
             "payload": s.payload, "now": now} for s in said]  # fmt: skip


def ask(*, session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Write the outbox rows a request asks for (`said_rows`, `home.asked_homes`), pending and
    due at their `now`, with one statement: a DM once (its key is its own), an App Home made
    pending and due again unless it is so by then already (the publish to come shows this change
    too). The App Homes first, in the order of their keys, so that two requests asking for the
    same people never deadlock; then the DMs in the order they were asked for, which the sender
    keeps (a request writes its own as it commits, RequestContext.finish: after those a service
    wrote at once with `say`)."""
    if rows:
        homes = sorted((row for row in rows if row["kind"] == HOME_KIND), key=itemgetter("key"))
        rest = [row for row in rows if row["kind"] != HOME_KIND]
        session.execute(_asking(session.get_bind().dialect.name), [*homes, *rest])


@cache
def _asking(dialect: str) -> Any:
    """`ask`'s upsert, built once per dialect (every touch writes one, and building it anew cost
    more than running it); its values bound per row (`team_id`, `key`, `kind`, `channel`,
    `payload`, `now`)."""
    table = Notification.__table__
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = bindparam("now", type_=table.c.due_at.type)
    stmt = insert(table).values(
        team_id=bindparam("team_id", type_=table.c.team_id.type), key=bindparam("key", type_=table.c.key.type),
        kind=bindparam("kind", type_=table.c.kind.type), channel=bindparam("channel", type_=table.c.channel.type),
        payload=bindparam("payload", type_=table.c.payload.type), status=PENDING, due_at=now, attempts=0,
        created_at=now,
    )  # fmt: skip
    again = {"status": PENDING, "due_at": stmt.excluded.due_at, "attempts": 0, "last_error": None,
             "payload": stmt.excluded.payload}  # fmt: skip
    # Only an App Home is asked for again. A pending one due later (a retry after an error, its
    # turn in Slack's budget) is due now.
    again_when = and_(stmt.excluded.kind == HOME_KIND,
                      or_(table.c.status != PENDING, table.c.due_at > stmt.excluded.due_at))  # fmt: skip
    return stmt.on_conflict_do_update(index_elements=["team_id", "key"], set_=again, where=again_when)


def language(*, session: Session, team_id: str, user_id: str, now: dt.datetime,
             directory: Profiles | None) -> str | None:  # fmt: skip
    """The language someone is told things in: the team's if set, else their Slack locale, their
    profile read again when missing or a day old at `now`."""
    workspace, found = workspace_and_member(session=session, team_id=team_id, user_id=user_id)
    member = get_member(session=session, team_id=team_id, user_id=user_id, directory=directory, now=now, found=found)
    return language_of(member, settings_of(workspace))


def forget(*, session: Session, team_id: str, customer_id: int, people: Iterable[str],
           names: Iterable[str | None]) -> None:  # fmt: skip
    """Before a customer is erased, the messages still waiting to be sent that name it: a
    request's DM is deleted (a courtesy about a record that is no more), anything else cancelled,
    keeping nothing of what it said; a digest or check-in of `people` (its owner, the assignees
    of its open follow-ups) is deleted for its job to write again, unread (a morning's digests
    are many, and large). A row is found by the customers it names (`NAMES`); one written before
    rows named them, by one of `names` (its name, company, contact) in its text.

    What this does not find (a row the sender holds, which may come back pending after a failed
    try; a digest or check-in of someone else; one written from what a job read before the erase
    committed) the sender drops when it claims it (`naming_erased`)."""
    pending = (Notification.team_id == team_id, Notification.status == PENDING)
    session.execute(delete(Notification).where(*pending, Notification.kind.in_(_WRITTEN_AGAIN),
                                               Notification.channel.in_(sorted(set(people)))))  # fmt: skip
    needles = {json.dumps(form, ensure_ascii=False)[1:-1]  # as the text stands in the row's JSON
               for name in names if name
               for form in (name, name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))}  # fmt: skip

    def names_it(payload: dict[str, Any]) -> bool:
        if NAMES in payload:
            return customer_id in payload[NAMES]
        # Written before rows named their customers: its text, or what a renderer gets of it.
        said = [payload.get(field) for field in ("text", "blocks", "customer", "step")]
        return bool(needles) and any(n in json.dumps(said, ensure_ascii=False) for n in needles)

    # Read unlocked, then only those that name it locked and read again: one the sender claimed
    # meanwhile is no longer pending (it drops it itself).
    searched = select(Notification.id, Notification.payload).where(*pending, Notification.kind.not_in(_IDS_ONLY))
    found = [row.id for row in session.execute(searched) if names_it(row.payload or {})]
    for start in range(0, len(found), 500):
        for row in session.scalars(select(Notification).where(Notification.id.in_(found[start : start + 500]), *pending)
                                   .order_by(Notification.id).with_for_update()
                                   .execution_options(populate_existing=True)):  # fmt: skip
            drop(session, row)
    session.flush()


def drop(session: Session, row: Notification) -> None:
    """A row that names an erased customer: deleted when a request wrote it or its job writes it
    again, else cancelled with nothing of what it said."""
    if row.kind == SAID_KIND or row.kind in _WRITTEN_AGAIN:
        session.delete(row)
    else:
        row.status, row.payload, row.last_error = CANCELLED, {}, ERASED


def naming_erased(session: Session, rows: Sequence[Notification]) -> list[Notification]:
    """Of these rows, those naming a customer erased since they were written
    (`Customer.erased_at`): one query for them all."""
    named = {(row.team_id, c) for row in rows for c in (row.payload or {}).get(NAMES, ())}
    if not named:
        return []
    teams, ids = sorted({t for t, _ in named}), sorted({c for _, c in named})
    erased = {(team_id, customer_id) for team_id, customer_id in session.execute(
        select(Customer.team_id, Customer.id).where(Customer.team_id.in_(teams), Customer.id.in_(ids),
                                                    Customer.erased_at.is_not(None)))}  # fmt: skip
    return [row for row in rows if any((row.team_id, c) in erased for c in (row.payload or {}).get(NAMES, ()))]
