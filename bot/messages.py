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
        "`/crm complaint <customer>` log a complaint, e.g. `/crm complaint Acme Ltd`\n"
        "`/crm complaints [open|overdue|mine]` the complaints with their next deadline, e.g. `/crm complaints overdue`\n"
        "`/crm resolve #N` resolve a complaint, e.g. `/crm resolve #7`\n"
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
    # --- complaints ---
    "complaint.modal.new": "Log complaint",
    "complaint.modal.resolve": "Resolve #{number}",
    "complaint.usage": "Name the customer, e.g. `/crm complaint Acme Ltd` or `/crm complaint #12`",
    "complaint.resolve.usage": "Name the complaint by its number, e.g. `/crm resolve #7`",
    "complaint.list.usage": "Say which complaints: `/crm complaints open`, `/crm complaints overdue` or `/crm complaints mine`",
    "field.severity": "Severity",
    "field.category": "Category",
    "field.description": "Description",
    "field.assignee": "Assignee",
    "field.resolution": "Resolution",
    "field.satisfaction": "Satisfaction",
    "field.satisfaction.hint": "How happy the customer is, from 1 (not at all) to 5 (very)",
    "severity.low": "Low",
    "severity.normal": "Normal",
    "severity.high": "High",
    "severity.urgent": "Urgent",
    "category.product": "Product",
    "category.service": "Service",
    "category.delivery": "Delivery",
    "category.billing": "Billing",
    "category.other": "Other",
    "complaint.state.open": "Open",
    "complaint.state.acknowledged": "Acknowledged",
    "complaint.state.waiting": "Waiting on customer",
    "complaint.state.in_progress": "In progress",
    "complaint.state.resolved": "Resolved",
    "complaint.state.closed": "Closed",
    "button.log_complaint": "Log complaint",
    "button.acknowledge": "Acknowledge",
    "button.wait": "Waiting on customer",
    "button.progress": "In progress",
    "button.resolve": "Resolve",
    "button.reopen": "Reopen",
    "button.close": "Close",
    "complaint.card.customer": "Customer",
    "complaint.card.severity": "Severity",
    "complaint.card.state": "State",
    "complaint.card.assignee": "Assignee",
    "complaint.card.category": "Category",
    "complaint.card.opened": "Opened",
    "complaint.card.first_response": "First response",
    "complaint.card.resolution_due": "Resolution",
    "complaint.card.due": "due {when}",
    "complaint.card.overdue": "overdue since {when}",
    "complaint.card.made": "made {when}",
    "complaint.card.paused": "paused while waiting on the customer (was due {when})",
    "complaint.card.resolved": "resolved {when}",
    "complaint.card.stopped": "stopped",
    "complaint.card.cycle": "Reopened {times}×",
    "complaint.card.permalink": "<{url}|Original message>",
    "complaint.card.resolution": "Resolution",
    "complaint.card.satisfaction": "Satisfaction: {score}/5",
    "complaint.created.assignee": "<@{author}> logged complaint *#{number}* for *{customer}* and assigned it to you.",
    "complaint.created.author": "Complaint *#{number}* logged for *{customer}*; <@{assignee}> is on it.",
    "complaint.created.author_self": "Complaint *#{number}* logged for *{customer}* and assigned to you.",
    "complaint.created.channel": "New complaint *#{number}* for *{customer}* ({severity}), assigned to <@{assignee}>.",
    "complaint.changed": "<@{actor}> moved complaint *#{number}* from {from_state} to *{to_state}*.",
    "complaint.list.open": "Open complaints:",
    "complaint.list.overdue": "Overdue complaints:",
    "complaint.list.mine": "Your open complaints:",
    "complaint.list.none.open": "No open complaints.",
    "complaint.list.none.overdue": "No overdue complaints.",
    "complaint.list.none.mine": "You have no open complaints.",
    "complaint.list.line": "*#{number}* {title} · {customer}\n{severity} · open {age} · {assignee} · next deadline: {deadline}",
    "complaint.list.no_deadline": "none running",
    "complaint.list.more": "Showing the first {shown}.",
    "error.complaint.customer": "Pick the customer this complaint is about.",
    "error.complaint.title": "Give the complaint a short title.",
    "error.complaint.severity": "Pick a severity: low, normal, high or urgent.",
    "error.complaint.category": "Pick a category from the list.",
    "error.complaint.resolution": "Say how the complaint was resolved.",
    "error.complaint.satisfaction": "Enter a whole number from 1 to 5, or leave it empty.",
    "error.complaint.none": "There is no complaint #{number} in this workspace.",
    "error.complaint.gone": "This complaint no longer exists.",
    "error.complaint.is.open": "Complaint #{number} is still open; nothing changed.",
    "error.complaint.is.acknowledged": "Complaint #{number} is already acknowledged; nothing changed.",
    "error.complaint.is.waiting": "Complaint #{number} is already waiting on the customer; nothing changed.",
    "error.complaint.is.in_progress": "Complaint #{number} is already in progress; nothing changed.",
    "error.complaint.is.resolved": "Complaint #{number} is already resolved; nothing changed.",
    "error.complaint.is.closed": "Complaint #{number} is closed; reopen it first. Nothing changed.",
    "error.complaint.is.gone": "This complaint no longer exists.",
    "complaint.customer.header": "Open complaints",
    "complaint.customer.line": "{mark}#{number} {title} · {severity} · next deadline: {deadline}",
    "complaint.escalation.warning.first_response": "Complaint *#{number}* ({customer}) is close to its first-response deadline.",
    "complaint.escalation.warning.resolution": "Complaint *#{number}* ({customer}) is close to its resolution deadline.",
    "complaint.escalation.level1": "Escalation level 1: complaint *#{number}* ({customer}) missed its deadline. Assignee: <@{assignee}>.",
    "complaint.escalation.level2": "Escalation level 2: complaint *#{number}* ({customer}) is far past its deadline or was reopened twice. Assignee: <@{assignee}>.",
    "complaint.escalation.level3": "Escalation level 3: complaint *#{number}* ({customer}) is at twice its resolution time. Assignee: <@{assignee}>.",
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
