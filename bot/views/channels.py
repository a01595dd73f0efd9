"""Linked channels' views: `/crm link|unlink|channels`, the channels on a profile card and the
App Home, the response reminder, and the complaint emoji's offer.

`/crm channels` is a message: a `table` block when it fits Slack's limits (views.kit.table),
else one line per channel. The App Home cannot hold a table: it keeps the lines.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.i18n import format_datetime, t
from bot.services.channels import ChannelRow, Linked
from bot.storage.models import ChannelMessage, Customer
from bot.views.ids import CHANNEL_REPLIED, EMOJI_COMPLAINT, TOUCH_LOG
from bot.views.kit import (
    Block,
    actions,
    button,
    channel_element,
    customer_title,
    date_element,
    escape,
    mrkdwn,
    raw_cell,
    rich_cell,
    section,
    table,
    text_element,
    user_element,
    when,
)


def _customer(customer: Customer) -> str:
    return f"*{escape(customer_title(customer))}*"


def link_answer(locale: str | None, linked: Linked, contacts: Sequence[str]) -> tuple[str, list[Block]]:
    """What `/crm link` says: linked (or already), how the bot is in the channel, the contacts."""
    params = {"channel": linked.channel_id, "customer": _customer(linked.customer)}
    lines = [t(locale, "channel.linked.again" if linked.again else "channel.linked", **params)]
    lines.append(t(locale, f"channel.presence.{linked.presence}", channel=linked.channel_id))
    if contacts:
        lines.append(t(locale, "channel.contacts", contacts=", ".join(f"<@{c}>" for c in contacts)))
    text = "\n".join(lines)
    return lines[0], [section(text)]


def unlinked_text(locale: str | None, customer: Customer, channel_id: str) -> str:
    return t(locale, "channel.unlinked", channel=channel_id, customer=_customer(customer))


def _since(locale: str | None, message: ChannelMessage) -> str:
    """When the oldest unanswered message was written (each reader's time), linking to it."""
    stamp = when(message.sent_at, locale)
    return f"<{message.permalink}|{stamp}>" if message.permalink else stamp


def channels_answer(locale: str | None, rows: Sequence[ChannelRow], total: int, *, tz: str | None,
                    as_table: bool = True) -> tuple[str, list[Block]]:  # fmt: skip
    """`/crm channels`: each linked channel, its customer and owner, and its oldest message
    still waiting for a reply. A table where one fits, else a line each."""
    if not rows:
        text = t(locale, "channels.none")
        return text, [section(text)]
    title = t(locale, "channels.title", count=total)
    blocks: list[Block] = [section(title)]
    if total > len(rows):
        blocks.append({"type": "context", "elements": [mrkdwn(t(locale, "channels.more", shown=len(rows), total=total))]})
    grid = _channels_table(locale, rows, tz) if as_table else None
    if grid is not None:
        return title, [*blocks, grid]  # a table is shown at the message's end: it comes last
    lines = []
    for row in rows:
        waiting = (t(locale, "channels.waiting", since=_since(locale, row.oldest), speaker=row.oldest.speaker_id)
                   if row.oldest else t(locale, "channels.answered"))  # fmt: skip
        owner = f"<@{row.customer.owner_id}>" if row.customer.owner_id else t(locale, "card.none")
        lines.append(t(locale, "channels.line", channel=row.channel_id, customer=_customer(row.customer), owner=owner,
                       waiting=waiting))  # fmt: skip
    chunk: list[str] = []
    for line in lines:  # a section holds 3,000 characters
        if chunk and sum(len(x) + 1 for x in chunk) + len(line) > 3000:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    blocks.append(section("\n".join(chunk)))
    return title, blocks


def _channels_table(locale: str | None, rows: Sequence[ChannelRow], tz: str | None) -> Block | None:
    header = [t(locale, f"channels.column.{c}") for c in ("channel", "customer", "owner", "since", "from")]
    body = []
    for row in rows:
        owner = rich_cell(user_element(row.customer.owner_id)) if row.customer.owner_id else raw_cell("")
        if row.oldest is not None:
            fallback = format_datetime(locale, row.oldest.sent_at, tz)
            since = rich_cell(date_element(row.oldest.sent_at, fallback, row.oldest.permalink))
            speaker = rich_cell(user_element(row.oldest.speaker_id))
        else:
            since, speaker = raw_cell(t(locale, "channels.answered")), raw_cell("")
        body.append([rich_cell(channel_element(row.channel_id)), rich_cell(text_element(customer_title(row.customer))),
                     owner, since, speaker])  # fmt: skip
    return table(header, body)


def channels_line(locale: str | None, channel_ids: Sequence[str]) -> list[Block]:
    """The profile card's line of the customer's channels (none: no line)."""
    if not channel_ids:
        return []
    listed = ", ".join(f"<#{c}>" for c in channel_ids)
    return [{"type": "context", "elements": [mrkdwn(t(locale, "channels.of_customer", channels=listed))]}]


def waiting_blocks(locale: str | None, rows: Sequence[ChannelRow]) -> list[Block]:
    """The App Home's "waiting for a reply": my customers' channels, oldest message first."""
    if not rows:
        return []
    lines = [
        t(locale, "channels.home.line", channel=row.channel_id, customer=_customer(row.customer),
          speaker=row.oldest.speaker_id, since=_since(locale, row.oldest))
        for row in rows if row.oldest is not None
    ]  # fmt: skip
    return [section(f"*{t(locale, 'channels.home.title')}*\n" + "\n".join(lines))]


def response_reminder(locale: str | None, message: ChannelMessage, customer: Customer) -> tuple[str, list[Block]]:
    """The owner's reminder of a customer's message nobody of the team answered in time."""
    params = {"customer": _customer(customer), "channel": message.channel_id, "speaker": message.speaker_id,
              "when": when(message.sent_at, locale)}  # fmt: skip
    if message.permalink:
        text = t(locale, "channel.reminder", link=message.permalink, **params)
    else:
        text = t(locale, "channel.reminder.no_link", **params)
    buttons = actions(
        button(t(locale, "button.log_touch"), TOUCH_LOG, str(customer.id), style="primary"),
        button(t(locale, "button.replied_elsewhere"), CHANNEL_REPLIED, str(message.id)),
    )
    return text, [section(text), buttons]


def replied_text(locale: str | None, customer: Customer) -> str:
    return t(locale, "channel.replied", customer=_customer(customer))


BUTTON_VALUE = 2000  # Slack's limit for a button's value


def emoji_offer(
    locale: str | None, channel_id: str, *, message: str | None, permalink: str | None
) -> tuple[str, list[Block]]:
    """What someone who reacted with the complaint emoji is offered (only they see it): the
    button carries what "Log complaint" is prefilled with, the message's text (as much as a
    button holds) and link, read when the reaction came."""
    text = t(locale, "emoji.offer")
    fields: dict[str, Any] = {"channel": channel_id, "permalink": permalink, "text": message or ""}
    value = json.dumps(fields, ensure_ascii=False)
    while len(value) > BUTTON_VALUE:  # a long message: keep its beginning
        fields["text"] = fields["text"][: len(fields["text"]) - (len(value) - BUTTON_VALUE) - 1]
        value = json.dumps(fields, ensure_ascii=False)
    return text, [section(text, button(t(locale, "button.log_complaint"), EMOJI_COMPLAINT, value, style="danger"))]


def step_outputs_customer(customer: Customer) -> dict[str, Any]:
    """"Find customer"'s outputs: the `#N` the other steps' Customer accepts, its name, its owner."""
    outputs: dict[str, Any] = {"customer_id": f"#{customer.number}", "name": customer.name}
    if customer.owner_id:
        outputs["owner"] = customer.owner_id
    return outputs
