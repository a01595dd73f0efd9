"""The message catalog: every word a user reads comes from here.

`t(locale, key, **params)` picks the user's language (English now; Simplified Chinese is
added as another table) and falls back to English for a missing key.
"""

from __future__ import annotations

EN: dict[str, str] = {
    # usage
    "help.title": "*touchbase* keeps your customers, touches, revisits and complaints in Slack.",
    "help.body": (
        "`/crm new [name]` add a customer, e.g. `/crm new Acme Ltd`\n"
        "`/crm find <text>` search by name, company, contact, email, phone or tag, e.g. `/crm find acme`\n"
        "`/crm show <customer>` the profile card, e.g. `/crm show Acme Ltd` or `/crm show #12`\n"
        "`/crm edit <customer>` edit the profile, e.g. `/crm edit Acme Ltd`\n"
        "`/crm assign <customer> @user` hand a customer to a new owner, e.g. `/crm assign Acme Ltd @li`\n"
        "`/crm help` this list"
    ),
    "help.unknown": "I don't know `{word}`. Here is what I can do:",
    # customer modal
    "customer.modal.new": "New customer",
    "customer.modal.edit": "Edit customer",
    "modal.save": "Save",
    "modal.cancel": "Cancel",
    "field.name": "Name",
    "field.company": "Company",
    "field.contact_name": "Contact person",
    "field.title": "Title",
    "field.email": "Email",
    "field.phone": "Phone",
    "field.address": "Address",
    "field.owner": "Owner",
    "field.grade": "Grade",
    "field.segment": "Segment",
    "field.needs": "Needs",
    "field.preferences": "Preferences",
    "field.tags": "Tags",
    "field.tags.hint": "Separate tags with commas, e.g. vip, beijing",
    "field.next_revisit": "Next revisit",
    "field.customer": "Customer",
    "segment.potential": "Potential",
    "segment.new": "New",
    "segment.regular": "Regular",
    "segment.key": "Key",
    "grade.A": "A",
    "grade.B": "B",
    "grade.C": "C",
    # validation
    "error.name.empty": "Enter the customer's name.",
    "error.name.taken": "A customer named “{name}” already exists (#{number}).",
    "error.email.invalid": "This is not an email address, e.g. li.wei@example.com",
    "error.phone.invalid": "This is not a phone number, e.g. +86 138 0013 8000",
    "error.too_long": "Keep this under {limit} characters.",
    "error.customer.gone": "This customer no longer exists.",
    "error.generic": "Something went wrong on our side; nothing was saved. Please try again.",
    # card
    "card.none": "—",
    "card.owner": "Owner",
    "card.number": "#{number}",
    "card.next_revisit": "Next revisit",
    "card.no_revisits": "no revisits",
    "card.contact": "Contact",
    "button.show": "Show",
    "button.edit": "Edit",
    "button.new": "New",
    "button.more": "More",
    # find / resolve
    "find.usage": "Tell me what to look for, e.g. `/crm find acme`",
    "find.none": "No customer matches “{text}”.",
    "find.header": "Customers matching “{text}”:",
    "find.more_left": "Showing {shown}; there are more.",
    "customer.usage": "Name the customer, e.g. `/crm {command} Acme Ltd` or `/crm {command} #12`",
    "customer.none": "No customer matches “{text}”.",
    "customer.none.new": "Add “{text}” as a new customer?",
    "customer.ambiguous": "Several customers match “{text}”; pick one:",
    # assign
    "assign.usage": "Name the customer and the new owner, e.g. `/crm assign Acme Ltd @li`",
    "assign.done": "{customer} is now owned by <@{owner}>.",
    "assign.same": "<@{owner}> already owns {customer}.",
    "assign.notice": "<@{actor}> made you the owner of *{customer}*.",
    # saved
    "customer.created": "Customer *{name}* (#{number}) saved.",
    "customer.updated": "Customer *{name}* (#{number}) updated.",
    "error.slack": "Slack refused that request ({error}); please try again.",
    # --- scheduler ---
    "digest.header": "{count} revisits are due or overdue:",
    "digest.header.one": "1 revisit is due or overdue:",
    "digest.item": "*{customer}*{company}\nDue {due}",
    "digest.item.overdue": "*{customer}*{company}\nDue {due}, {days} days overdue",
    "digest.item.overdue.one": "*{customer}*{company}\nDue {due}, 1 day overdue",
    "digest.more": "…and {count} more. Type `/crm due` for the full list.",
    "digest.footer": "You get this at {time} on working days.",
    "revisit.reminder": "Revisit *{customer}*{company} (due {due}).",
    "button.log_touch": "Log touch",
    "button.digest_settings": "Digest off / move",
    "snooze.placeholder": "Snooze",
    "snooze.pick_date": "Pick a date",
    "snooze.1": "1 day",
    "snooze.3": "3 days",
    "snooze.7": "1 week",
    "reassign.placeholder": "Reassign",
    "snooze.done": "~{customer}~ snoozed to {date}.",
    "snooze.past": "Pick a date after today, e.g. {example}.",
    "digest.modal.title": "Your digest",
    "digest.modal.enabled": "Daily digest",
    "digest.modal.on": "On: one message a day listing everything due",
    "digest.modal.off": "Off: one message per due revisit instead",
    "digest.modal.time": "Digest time",
    "digest.saved.on": "Your daily digest now comes at {time} on working days.",
    "digest.saved.off": "Your daily digest is off; each due revisit comes as its own message at {time}.",
    "error.time.invalid": "Pick a time, e.g. 09:00",
}

CATALOGS: dict[str, dict[str, str]] = {"en": EN}


def language(locale: str | None) -> str:
    """The catalog for a Slack locale such as `en-US` or `zh-CN`."""
    if locale:
        lang = locale.split("-")[0].lower()
        if lang in CATALOGS:
            return lang
    return "en"


def t(locale: str | None, key: str, **params: object) -> str:
    lang = language(locale)
    template = CATALOGS[lang].get(key) or EN[key]
    return template.format(**params) if params else template
