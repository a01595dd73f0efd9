"""Pieces several listeners share: the profile card, owner changes, the App Home."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import RequestContext
from bot.clock import local_today
from bot.forms import error_response
from bot.i18n import t
from bot.scheduler import outbox
from bot.services import complaints, customers, health, touches
from bot.services.errors import FieldErrors, UserError
from bot.services.members import is_admin
from bot.storage.models import Customer, utcnow
from bot.views.complaints import customer_complaints
from bot.views.customers import customer_card
from bot.views.home import home_view
from bot.views.kit import customer_title, escape
from bot.views.revisits import DUE_GROUP_MAX, due_blocks

log = logging.getLogger(__name__)


def refuse(tb: RequestContext, ack: Any, err: FieldErrors | UserError, field: str) -> None:
    """Answer a modal submission with inline errors (a UserError shows under `field`);
    nothing of the submission is saved."""
    tb.session.rollback()
    if isinstance(err, FieldErrors):
        return ack(**error_response(tb.locale, err))
    ack(response_action="errors", errors={field: t(tb.locale, err.key, **err.params)})


def customer_page(body: dict[str, Any]) -> tuple[int, int]:
    """(customer id, offset) from a paging button: `{"customer_id", "offset"}` or a bare id.
    Anything else, forged or broken, names no customer (id 0)."""
    value = str(body["actions"][0].get("value") or "")
    if value.isdigit():
        return int(value), 0
    try:
        page = json.loads(value)
        return int(page["customer_id"]), max(0, int(page["offset"]))
    except (ValueError, KeyError, TypeError):
        return 0, 0


def card(tb: RequestContext, customer: Customer) -> list[dict[str, Any]]:
    """The profile card with the last touches and open complaints."""
    recent, more = touches.recent_touches(session=tb.session, team_id=tb.team_id, customer_id=customer.id)
    open_complaints = complaints.open_complaints_of(
        session=tb.session, team_id=tb.team_id, customer_id=customer.id, default_tz=tb.default_tz
    )
    now = utcnow()
    score = health.customer_health(
        session=tb.session, team_id=tb.team_id, customer=customer, now=now, today=local_today(now, tb.member().tz)
    )
    return customer_card(
        tb.locale, customer, touches=recent, more_touches=more, tz=tb.member().tz, health=score,
        complaints=customer_complaints(tb.locale, open_complaints),
    )  # fmt: skip


def assign_owner(tb: RequestContext, customer: Customer, owner_id: str, client: WebClient) -> str:
    """Assign, tell the new owner, and return the confirmation for the caller."""
    name = escape(customer_title(customer))
    previous = customer.owner_id
    notice = t(tb.locale_of(owner_id), "assign.notice", actor=tb.user_id, customer=name)
    result = customers.assign_customer(
        session=tb.session, team_id=tb.team_id, actor_id=tb.user_id or "", customer=customer,
        owner_id=owner_id, surface=tb.surface, notifier=tb.notifier, notice=notice,
    )  # fmt: skip
    if result.changed:
        refresh_home(tb, client, owner_id, previous)
    return t(tb.locale, "assign.done" if result.changed else "assign.same", customer=name, owner=owner_id)


def due_list(tb: RequestContext) -> list[dict[str, Any]]:
    """The caller's `/crm due`: revisits due or overdue, the next week, open complaints."""
    today = local_today(utcnow(), tb.member().tz)
    revisits = touches.due_revisits(session=tb.session, team_id=tb.team_id, owner_id=tb.user_id or "", today=today,
                                    limit=DUE_GROUP_MAX)  # fmt: skip
    complaints_ = touches.open_complaints(session=tb.session, team_id=tb.team_id, assignee_id=tb.user_id or "")
    return due_blocks(tb.locale, revisits=revisits, complaints=complaints_, today=today)


def home_for(tb: RequestContext, user_id: str) -> dict[str, Any]:
    member = tb.member(user_id)
    today = local_today(utcnow(), member.tz)
    revisits = touches.due_revisits(session=tb.session, team_id=tb.team_id, owner_id=user_id, today=today,
                                    limit=DUE_GROUP_MAX)  # fmt: skip
    return home_view(
        tb.locale_of(user_id), revisits=revisits, today=today,
        complaints=touches.open_complaints(session=tb.session, team_id=tb.team_id, assignee_id=user_id),
        by_grade=touches.customers_by_grade(session=tb.session, team_id=tb.team_id, owner_id=user_id),
        failed_sends=outbox.failures(tb.session, team_id=tb.team_id, limit=10) if is_admin(member) else (),
    )  # fmt: skip


def refresh_home(tb: RequestContext, client: WebClient, *user_ids: str | None) -> None:
    """Republish the App Home of the people whose items changed, after Slack has its answer
    (bot.later); a failure there is only logged."""
    users = list(dict.fromkeys(u for u in user_ids if u))

    def publish(later: RequestContext) -> None:
        for user_id in users:
            try:
                client.views_publish(user_id=user_id, view=home_for(later, user_id))
            except (SlackApiError, OSError) as exc:
                log.warning("views.publish for %s failed: %s", user_id, exc)

    if users:
        tb.after(publish)
