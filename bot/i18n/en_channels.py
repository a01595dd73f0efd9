"""English: Linked channels (`/crm link|unlink|channels`, the response clock), the complaint
emoji, and the Workflow Builder steps' errors."""

EN: dict[str, str] = {
    "help.channels": (
        "`/crm link <customer> #channel [@contact …]` make a channel (a Slack Connect one too) the customer's: "
        "its messages from people outside your team become touches, e.g. `/crm link Acme Ltd #acme-support`\n"
        "`/crm unlink #channel` · `/crm channels` the linked channels and their oldest unanswered message"
    ),
    "link.usage": (
        "Name the customer and the channel, e.g. `/crm link Acme Ltd #acme-support`; add `@person …` for people "
        "of your workspace who speak for the customer there."
    ),
    "unlink.usage": "Name the channel, e.g. `/crm unlink #acme-support`.",
    "channel.linked": "<#{channel}> is now the channel of {customer}.",
    "channel.linked.again": "<#{channel}> is already the channel of {customer}.",
    "channel.presence.joined": (
        "I joined it: messages there from people outside your team are logged as touches, and one nobody "
        "answers in time reminds the owner."
    ),
    "channel.presence.member": (
        "I'm in it: messages there from people outside your team are logged as touches, and one nobody "
        "answers in time reminds the owner."
    ),
    "channel.presence.invite": (
        "I can't read it yet (it is private, or I can't see it): type `/invite @touchbase` in <#{channel}>."
    ),
    "channel.contacts": "Messages there from {contacts} count as the customer's too.",
    "channel.unlinked": (
        "<#{channel}> is no longer the channel of {customer}. Its messages are not logged any more; the touches stay."
    ),
    "error.link.not_allowed": "Only the customer's owner, a lead or an admin can link or unlink its channels.",
    "error.link.taken": "<#{channel}> is already the channel of {customer}: `/crm unlink` it first.",
    "error.link.taken_hidden": "<#{channel}> is already another customer's channel.",
    "error.link.none": "<#{channel}> is not linked to a customer.",
    "error.channel_message.gone": "That message is no longer waiting for a reply.",
    "button.link": "Link",
    "button.replied_elsewhere": "I replied elsewhere",
    "channels.none": "No linked channels yet. Link one with `/crm link Acme Ltd #acme-support`.",
    "channels.title": "*Linked channels* ({count})",
    "channels.more": "The first {shown} of {total}, by customer.",
    "channels.column.channel": "Channel",
    "channels.column.customer": "Customer",
    "channels.column.owner": "Owner",
    "channels.column.since": "Waiting since",
    "channels.column.from": "From",
    "channels.answered": "nothing waiting",
    "channels.waiting": "waiting since {since} from <@{speaker}>",
    "channels.line": "<#{channel}> · {customer} · {owner} · {waiting}",
    "channels.of_customer": "Channels: {channels}",
    "channels.home.title": "Waiting for a reply",
    "channels.home.line": "<#{channel}> · {customer} · <@{speaker}> wrote {since}",
    "channel.reminder": "No reply yet to {customer} in <#{channel}>: <@{speaker}> wrote {when}. <{link}|Open the message>",
    "channel.reminder.no_link": "No reply yet to {customer} in <#{channel}>: <@{speaker}> wrote {when}.",
    "channel.replied": "Thanks: the message of {customer} counts as answered.",
    "emoji.offer": "Log this as a complaint?",
    "settings.response_targets": "Response targets (linked channels)",
    "settings.response_targets.hint": (
        "How soon a customer's message in a linked channel should be answered, per grade, in business hours, "
        "e.g. A 1h, B 4h, C 8h"
    ),
    "settings.complaint_emoji": "Complaint emoji",
    "settings.complaint_emoji.hint": "Reacting to a message with it offers “Log complaint”, e.g. rotating_light",
    "error.response_targets.invalid": "Write a target per grade, e.g. A 1h, B 4h, C 8h (m, h, or d for business days).",
    "error.emoji.invalid": "An emoji's name as Slack writes it, e.g. rotating_light.",
    "step.error.customer": "Give the customer: its name, or its number as #N.",
    "step.error.no_customer": "No customer matches “{text}”.",
    "step.error.ambiguous": "Several customers match “{text}”: {names}. Give the whole name or #N.",
    "step.error.author": "Give who logs it: a person of your workspace.",
    "step.error.kind": "The kind must be one of: {choices}.",
    "step.error.severity": "The severity must be one of: {choices}.",
    "step.error.when": "“When” must be a date and time.",
}
