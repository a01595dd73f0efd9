"""The inputs several listeners share: a button naming a customer, a complaint or a touch, a
page of a customer's list, a message a shortcut was used on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.payloads import ButtonInput, Id, Input, MessageShortcut, Offset, Text, Ts

if TYPE_CHECKING:
    from bot.notify import Directory


class CustomerButton(ButtonInput):
    refusal = "error.customer.gone"
    customer_id: Id


class ComplaintButton(ButtonInput):
    refusal = "error.complaint.gone"
    complaint_id: Id


class TouchButton(ButtonInput):
    refusal = "error.touch.gone"
    touch_id: Id


class CustomerPage(ButtonInput):
    """More of a customer's list (touches, audit trail): a bare id is the first page."""

    refusal = "error.customer.gone"
    customer_id: Id
    offset: Offset = 0


class ShortcutMessage(Input):
    """The message a message shortcut was used on."""

    text: Text
    channel: str
    ts: Ts
    thread_ts: Ts | None = None
    reply: bool = False
    speaker: str | None = None

    @classmethod
    def values_from(cls, payload: MessageShortcut) -> dict[str, object]:
        message = payload.message
        return {"text": message.text.strip(), "channel": payload.channel.id, "ts": message.ts,
                "thread_ts": message.thread_ts, "reply": message.parent_user_id is not None,
                "speaker": message.user}  # fmt: skip

    def link(self, directory: Directory) -> str | None:
        """The message's link: built as Slack builds the channel's once it has shown how, else asked
        (always for a reply whose thread Slack did not name: its link names the thread)."""
        if self.reply and self.thread_ts is None:
            return directory.permalink(self.channel, self.ts)
        return directory.message_link(self.channel, self.ts, self.thread_ts)
