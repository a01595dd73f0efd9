"""Linked channels and Slack-native moves: `/crm link|unlink|channels`, the messages of linked
channels, "I replied elsewhere" on a response reminder, the complaint emoji, and the
Workflow Builder steps "Log touch", "Log complaint" and "Find customer".

What arrives as an event (a message, a reaction, a workflow step) has no person asking: it
acts for the whole team (`Viewer.whole_team`). A reaction only offers a button; the person
who presses it acts as themselves.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.context import FollowUp, RequestContext
from bot.handlers.answers import Answer, OpenModal, Replace, Reply, StepDone
from bot.handlers.commands import customer_named, usage
from bot.handlers.home import refresh_home
from bot.handlers.registry import CommandInput, Registry
from bot.payloads import (
    ButtonInput,
    ChannelId,
    EventCallback,
    Id,
    Input,
    Name,
    Short,
    Text,
    Ts,
    UserId,
)
from bot.services import channels, complaints
from bot.services.access import Viewer
from bot.services.channels import Posted
from bot.services.complaints import ComplaintCard
from bot.views import ids
from bot.views.channels import (
    channels_answer,
    emoji_offer,
    link_answer,
    replied_text,
    step_outputs_customer,
    unlinked_text,
)
from bot.views.complaints import complaint_message, complaint_modal
from bot.views.kit import notice

CHANNEL = re.compile(r"<#([CG][A-Z0-9]{1,31})(?:\|[^>]*)?>")  # `#channel` as Slack escapes it
MENTION = re.compile(r"<@([UW][A-Z0-9]{1,31})(?:\|[^>]*)?>")


# --- inputs -----------------------------------------------------------------------------------


def parse_link(text: str) -> tuple[str, str, list[str]] | None:
    """`<customer> <#C…|name> [<@U…> …]` → (customer, channel, contacts); None when unreadable.
    The channel is the last channel mention; mentions after it are contacts."""
    found = list(CHANNEL.finditer(text))
    if not found:
        return None
    last = found[-1]
    ref, rest = text[: last.start()].strip(), text[last.end() :]
    contacts = MENTION.findall(rest)
    if not ref or MENTION.sub("", rest).strip():
        return None
    return ref, last.group(1), list(dict.fromkeys(contacts))


class LinkPick(ButtonInput):
    """A candidate of `/crm link` when the name matched several customers."""

    refusal = "error.customer.gone"
    customer_id: Id
    channel: ChannelId
    contacts: list[UserId] = []


class ChannelPost(Input):
    """A `message` event in a channel the bot is in."""

    channel: ChannelId
    ts: Ts
    user: UserId | None = None
    user_team: Short | None = None
    text: Text = ""
    thread_ts: Ts | None = None
    subtype: Short | None = None
    bot_id: Short | None = None
    deleted_ts: Ts | None = None
    logger: UserId | None = None  # the bot user: who logs the touches

    @classmethod
    def values_from(cls, payload: EventCallback) -> dict[str, object]:
        e = payload.event
        return {"channel": e.channel, "ts": e.ts or e.deleted_ts, "user": e.user, "user_team": e.user_team or e.team,
                "text": e.text, "thread_ts": e.thread_ts, "subtype": e.subtype, "bot_id": e.bot_id,
                "deleted_ts": e.deleted_ts, "logger": payload.bot_user}  # fmt: skip

    def posted(self) -> Posted:
        return Posted(channel_id=self.channel, ts=self.ts, user_id=self.user, user_team=self.user_team, text=self.text,
                      thread_ts=self.thread_ts, subtype=self.subtype, bot_id=self.bot_id, deleted_ts=self.deleted_ts,
                      logger_id=self.logger)  # fmt: skip


class Reaction(Input):
    """`reaction_added`: who reacted, with what, on which message."""

    user: UserId
    reaction: Name
    channel: ChannelId
    ts: Ts

    @classmethod
    def values_from(cls, payload: EventCallback) -> dict[str, object]:
        e = payload.event
        item = e.item
        if item is None or item.type != "message":
            raise ValueError("not a message")
        return {"user": e.user, "reaction": e.reaction, "channel": item.channel, "ts": item.ts}


class ReactedMessage(ButtonInput):
    """"Log complaint" offered for a reaction: the message reacted to, as it was then."""

    refusal = "error.unreadable"
    channel: ChannelId
    text: Text = ""
    permalink: Short | None = None


class WaitingButton(ButtonInput):
    refusal = "error.channel_message.gone"
    message_id: Id


class StepInputs(Input):
    """A workflow step's inputs, as Workflow Builder filled them (the step checks each)."""

    refusal = "error.unreadable"
    inputs: dict[str, Any] = {}

    @classmethod
    def values_from(cls, payload: EventCallback) -> dict[str, object]:
        return {"inputs": dict(payload.event.inputs)}


# --- sub-commands -----------------------------------------------------------------------------


def link(rq: RequestContext, cmd: CommandInput) -> Answer:
    """`link <customer> #channel [@contact …]`."""
    parsed = parse_link(cmd.args)
    if parsed is None:
        return usage(rq, "link.usage")
    ref, channel_id, contacts = parsed
    value = '{"customer_id": {id}, "channel": "%s", "contacts": %s}' % (channel_id, json.dumps(contacts))
    customer = customer_named(rq, ref, action_id=ids.CHANNEL_LINK_PICK, value=value)
    return Reply(*_link(rq, customer.id, channel_id, contacts))


def link_pick(rq: RequestContext, inp: LinkPick) -> Answer:
    return Replace(*_link(rq, inp.customer_id, inp.channel, inp.contacts))


def _link(rq: RequestContext, customer_id: int, channel_id: str, contacts: list[str]) -> tuple[str, list[Any]]:
    linked = channels.link(session=rq.session, viewer=rq.viewer, customer_id=customer_id, channel_id=channel_id,
                           contacts=contacts, directory=rq.directory, surface=rq.surface)  # fmt: skip
    return link_answer(rq.locale, linked, contacts)


def unlink(rq: RequestContext, cmd: CommandInput) -> Answer:
    found = CHANNEL.fullmatch(cmd.args.strip())
    if not found:
        return usage(rq, "unlink.usage")
    customer = channels.unlink(session=rq.session, viewer=rq.viewer, channel_id=found.group(1), surface=rq.surface)
    return Reply(unlinked_text(rq.locale, customer, found.group(1)))


def channel_list(rq: RequestContext, cmd: CommandInput) -> Answer:
    rows, total = channels.linked_channels(session=rq.session, viewer=rq.viewer)
    return Reply(*channels_answer(rq.locale, rows, total, tz=rq.tz))


# --- events -----------------------------------------------------------------------------------


def message(rq: RequestContext, inp: ChannelPost) -> Answer:
    """A message in a channel the bot is in: a touch and a clock, an answer, or nothing."""
    try:
        noticed = channels.posted(session=rq.session, viewer=Viewer.whole_team(rq.team_id), message=inp.posted(),
                                  directory=rq.directory, now=rq.now, default_tz=rq.default_tz)  # fmt: skip
    except channels.StoredAlready:  # Slack's second delivery of a message: nothing of it is kept
        rq.rollback()
        return None
    if noticed.outcome != "ignored":
        refresh_home(rq, noticed.owner)
    return None


def reaction(rq: RequestContext, inp: Reaction) -> Answer:
    """The complaint emoji on a message: offer the reactor "Log complaint" (only they see it;
    where Slack cannot show them a message there, in a DM)."""
    if inp.reaction.split("::")[0] != rq.settings.complaint_emoji:
        return None
    user, channel_id, ts = inp.user, inp.channel, inp.ts

    def offer(later: FollowUp) -> None:
        message, permalink = later.directory.message_text(channel_id, ts), later.directory.permalink(channel_id, ts)
        text, blocks = emoji_offer(later.locale_of(user), channel_id, message=message, permalink=permalink)
        try:
            later.notifier.ephemeral(channel_id, user, text=text, blocks=blocks)
        except Exception:  # noqa: BLE001 - e.g. a DM between two people, where the bot is not
            later.notifier.dm(user, text=text, blocks=blocks)

    rq.after(offer)
    return None


# --- buttons ----------------------------------------------------------------------------------


def complaint_from_reaction(rq: RequestContext, inp: ReactedMessage) -> Answer:
    """"Log complaint", prefilled with the message's text, its link and (a linked channel's) customer."""
    customer = channels.channel_customer(session=rq.session, viewer=rq.viewer, channel_id=inp.channel)
    return OpenModal(complaint_modal(rq.locale, customer=customer, description=inp.text.strip() or None,
                                     permalink=inp.permalink))  # fmt: skip


def replied_elsewhere(rq: RequestContext, inp: WaitingButton) -> Answer:
    customer = channels.replied_elsewhere(session=rq.session, viewer=rq.viewer, message_id=inp.message_id, now=rq.now)
    refresh_home(rq, customer.owner_id)
    text = replied_text(rq.locale, customer)
    return Replace(text, notice(text))


# --- Workflow Builder steps -------------------------------------------------------------------


def step_log_touch(rq: RequestContext, inp: StepInputs) -> Answer:
    touch = channels.step_touch(session=rq.session, viewer=Viewer.whole_team(rq.team_id), inputs=inp.inputs,
                                now=rq.now, tz=rq.settings.tz or rq.default_tz)  # fmt: skip
    refresh_home(rq, touch.customer.owner_id)  # its revisit moved, as after the modal's
    return StepDone({"touch_id": touch.id})


def step_log_complaint(rq: RequestContext, inp: StepInputs) -> Answer:
    card = channels.step_complaint(session=rq.session, viewer=Viewer.whole_team(rq.team_id), inputs=inp.inputs,
                                   now=rq.now, default_tz=rq.default_tz)  # fmt: skip
    _announce(rq, card)
    return StepDone({"complaint_number": card.complaint.number})


def step_find_customer(rq: RequestContext, inp: StepInputs) -> Answer:
    customer = channels.find_one(session=rq.session, viewer=Viewer.whole_team(rq.team_id),
                                 text=str(inp.inputs.get("text") or ""))  # fmt: skip
    return StepDone(step_outputs_customer(customer))


def _announce(rq: RequestContext, card: ComplaintCard) -> None:
    """A complaint from a workflow is told as one from the modal (assignee, author, channel)."""
    complaints.tell_of_new(session=rq.session, complaint=card.complaint, now=rq.now, default_tz=rq.default_tz,
                           told_by=None)  # fmt: skip
    complaint_id = card.complaint.id

    def announce(later: FollowUp) -> None:
        def render(view: ComplaintCard, kind: str, user_id: str | None) -> dict[str, Any]:
            return complaint_message(later.locale_of(user_id) if user_id else later.settings.language, view, kind)

        told = complaints.announce_new(session=later.session, complaint_id=complaint_id, notifier=later.notifier,
                                       render=render, now=later.now, default_tz=later.default_tz)  # fmt: skip
        later.session.commit()
        told.check()

    rq.after(announce)


def register(on: Registry) -> None:
    on.command("link", link)
    on.command("unlink", unlink)
    on.command("channels", channel_list, reads_only=True)
    on.action(ids.CHANNEL_LINK_PICK, link_pick)
    on.action(ids.CHANNEL_REPLIED, replied_elsewhere)
    on.action(ids.EMOJI_COMPLAINT, complaint_from_reaction, reads_only=True)
    on.event("message", message)
    on.event("reaction_added", reaction, reads_only=True)
    on.function(ids.STEP_LOG_TOUCH, step_log_touch)
    on.function(ids.STEP_LOG_COMPLAINT, step_log_complaint)
    on.function(ids.STEP_FIND_CUSTOMER, step_find_customer)
