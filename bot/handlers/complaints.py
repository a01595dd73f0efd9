"""Complaints in Slack: `/crm complaint|complaints|resolve`, the "Log as complaint" shortcut,
the two modals, and the buttons on a complaint's DM, channel message and card."""

from __future__ import annotations

from typing import Any

from bot.context import FollowUp, RequestContext
from bot.handlers.answers import Answer, OpenModal, Replace, Reply
from bot.handlers.commands import customer_named, usage
from bot.handlers.inputs import ComplaintButton, CustomerButton, ShortcutMessage
from bot.handlers.registry import CommandInput, Registry
from bot.payloads import FormInput, Id, Input, Short
from bot.services import complaints, customers, surveys
from bot.services.complaints import Announced, ComplaintCard, ComplaintInput, Render, ResolveInput
from bot.views import ids
from bot.views.complaints import (
    complaint_answer,
    complaint_list_answer,
    complaint_message,
    complaint_modal,
    resolve_modal,
)
from bot.views.surveys import survey_message

LIST_VIEW_WORDS = {"未结": "open", "未解决": "open", "超时": "overdue", "逾期": "overdue", "我的": "mine"}


class StateButton(ComplaintButton):
    action_id: Short


class ComplaintMeta(Input):
    permalink: Short | None = None


class ComplaintForm(FormInput):
    form: ComplaintInput
    meta: ComplaintMeta = ComplaintMeta()


class ResolveMeta(Input):
    complaint_id: Id


class ResolveForm(FormInput):
    form: ResolveInput
    meta: ResolveMeta


def render(later: FollowUp) -> Render:
    """Messages about a complaint, each in its recipient's language."""

    def message(card: ComplaintCard, kind: str, user_id: str | None) -> dict[str, Any]:
        return complaint_message(later.locale_of(user_id) if user_id else later.locale, card, kind)

    return message


# --- sub-commands -------------------------------------------------------------------------------


def complaint(rq: RequestContext, cmd: CommandInput) -> Answer:
    customer = customer_named(rq, cmd.args, action_id=ids.COMPLAINT_NEW, to_record=True) if cmd.args else None
    return OpenModal(complaint_modal(rq.locale, customer=customer))


def complaint_list(rq: RequestContext, cmd: CommandInput) -> Answer:
    view = (cmd.args or "open").lower()
    view = LIST_VIEW_WORDS.get(view, view)
    if view not in complaints.LIST_VIEWS:
        return usage(rq, "complaint.list.usage")
    cards = complaints.list_complaints(session=rq.session, viewer=rq.viewer, view=view, now=rq.now,
                                       default_tz=rq.default_tz)  # fmt: skip
    return Reply(*complaint_list_answer(rq.locale, view, cards, limit=complaints.LIST_LIMIT))


def resolve(rq: RequestContext, cmd: CommandInput) -> Answer:
    if not cmd.args:
        return usage(rq, "complaint.resolve.usage")
    found = complaints.find_complaint(session=rq.session, viewer=rq.viewer, ref=cmd.args)
    complaints.check_can(found, "resolve")
    return OpenModal(resolve_modal(rq.locale, found))


# --- shortcut and buttons ------------------------------------------------------------------------


def log_as_complaint(rq: RequestContext, inp: ShortcutMessage) -> Answer:
    """"Log as complaint" on a message: its text becomes the description, its link is kept."""
    permalink = inp.link(rq.directory)
    return OpenModal(complaint_modal(rq.locale, description=inp.text or None, permalink=permalink))


def new_button(rq: RequestContext, inp: CustomerButton) -> Answer:
    customer = customers.get_customer(session=rq.session, viewer=rq.viewer, customer_id=inp.customer_id, to_record=True)
    return OpenModal(complaint_modal(rq.locale, customer=customer))


def state_button(rq: RequestContext, inp: StateButton) -> Answer:
    """Acknowledge, Waiting on customer, In progress, Close, Reopen: the message shows the result."""
    action = ids.COMPLAINT_STATE_BUTTONS[inp.action_id]
    card = complaints.change_state(session=rq.session, viewer=rq.viewer, complaint_id=inp.complaint_id, action=action,
                                   surface=rq.surface, now=rq.now, default_tz=rq.default_tz)  # fmt: skip
    _announce_change(rq, card)
    return Replace(*complaint_answer(rq.locale, card))


def resolve_button(rq: RequestContext, inp: ComplaintButton) -> Answer:
    found = complaints.get_complaint(session=rq.session, viewer=rq.viewer, complaint_id=inp.complaint_id)
    complaints.check_can(found, "resolve")
    return OpenModal(resolve_modal(rq.locale, found))


def show(rq: RequestContext, inp: ComplaintButton) -> Answer:
    found = complaints.get_complaint(session=rq.session, viewer=rq.viewer, complaint_id=inp.complaint_id)
    card = complaints.card(session=rq.session, complaint=found, now=rq.now, default_tz=rq.default_tz)
    return Reply(*complaint_answer(rq.locale, card))


# --- modals ----------------------------------------------------------------------------------


def save(rq: RequestContext, inp: ComplaintForm) -> Answer:
    card = complaints.create_complaint(session=rq.session, viewer=rq.viewer, data=inp.form,
                                       permalink=inp.meta.permalink, surface=rq.surface, now=rq.now,
                                       default_tz=rq.default_tz)  # fmt: skip
    complaints.tell_of_new(session=rq.session, complaint=card.complaint, now=rq.now, default_tz=rq.default_tz,
                           told_by=told_by(rq))  # fmt: skip
    complaint_id = card.complaint.id

    def announce(later: FollowUp) -> None:
        told = complaints.announce_new(session=later.session, complaint_id=complaint_id, notifier=later.notifier,
                                       render=render(later), now=later.now, default_tz=later.default_tz)  # fmt: skip
        later.session.commit()  # the channel thread is kept even if the post failed
        told.check()

    rq.after(announce)
    return None


def told_by(rq: RequestContext) -> dict[str, Any] | None:
    """Who is told if Slack refuses a DM to someone else about what they did (none: a workflow)."""
    return rq.if_refused if rq.user_id else None


def save_resolution(rq: RequestContext, inp: ResolveForm) -> Answer:
    card = complaints.change_state(session=rq.session, viewer=rq.viewer, complaint_id=inp.meta.complaint_id,
                                   action="resolve", surface=rq.surface, now=rq.now, resolution=inp.form,
                                   default_tz=rq.default_tz)  # fmt: skip
    _announce_change(rq, card)
    return Reply(*complaint_answer(rq.locale, card), about=(card.customer.id,))


def _announce_change(rq: RequestContext, card: ComplaintCard) -> None:
    """A low score to the leads through the outbox; after the answer, the change in the complaints
    channel's thread, and once resolved, the customer's survey in its linked channel (services.surveys)."""
    assert card.event is not None
    complaints.tell_of_change(session=rq.session, complaint=card.complaint, event=card.event, now=rq.now,
                              default_tz=rq.default_tz, told_by=told_by(rq))  # fmt: skip
    complaint_id, event_id, resolved = card.complaint.id, card.event.id, card.event.to_state == "resolved"

    def announce(later: FollowUp) -> None:
        told = complaints.announce_change(session=later.session, complaint_id=complaint_id, event_id=event_id,
                                          notifier=later.notifier, render=render(later), now=later.now,
                                          default_tz=later.default_tz)  # fmt: skip
        if resolved:
            asked = surveys.ask(session=later.session, complaint_id=complaint_id, notifier=later.notifier,
                                render=survey_message, now=later.now)  # fmt: skip
            later.session.commit()  # the survey is kept even if someone could not be told
            told = Announced({**told.failed, **asked.failed})
        told.check()

    rq.after(announce)


def register(on: Registry) -> None:
    on.command("complaint", complaint, reads_only=True)
    on.command("complaints", complaint_list, reads_only=True)
    on.command("resolve", resolve, reads_only=True)
    on.shortcut(ids.COMPLAINT_SHORTCUT, log_as_complaint)
    on.action(ids.COMPLAINT_NEW, new_button, reads_only=True)
    on.action(ids.COMPLAINT_SHOW, show, reads_only=True)
    on.action(ids.COMPLAINT_RESOLVE, resolve_button, reads_only=True)
    for action_id in ids.COMPLAINT_STATE_BUTTONS:
        on.action(action_id, state_button)
    on.view(ids.COMPLAINT_MODAL, save, field=ids.FIELD_CUSTOMER)
    on.view(ids.COMPLAINT_RESOLVE_MODAL, save_resolution, field="resolution")
