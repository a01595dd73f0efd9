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
        "`/crm touch <customer>` log a call, email, meeting, visit or chat, e.g. `/crm touch Acme Ltd`\n"
        "`/crm revisit <customer> <when>` set the next revisit, e.g. `/crm revisit Acme Ltd in 2 weeks` "
        "(`2026-12-01`, `tomorrow`, `in 3 days`, `next monday`; `off` for no revisits)\n"
        "`/crm due` my revisits due and my open complaints, e.g. `/crm due`\n"
        "`/crm audit <customer>` · `/crm export [<customer>]` · `/crm erase <customer>` admins' data tools, "
        "e.g. `/crm export Acme Ltd`\n"
        "`/crm report [week|month|quarter] [@user] [csv]` KPIs with a chart, in your DM, e.g. `/crm report month`; "
        "`/crm report risk` the customers most at risk, `/crm report grades` grade suggestions\n"
        "`/crm help` this list\n"
        "Or use *Log as touch* in any message's ⋮ menu."
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
    # --- touches and revisits ---
    "touch.modal.new": "Log touch",
    "touch.modal.edit": "Edit touch",
    "field.kind": "Kind",
    "field.summary": "Summary",
    "field.when": "When",
    "field.outcome": "Outcome",
    "field.next_step": "Next step",
    "field.next_revisit.hint": "Leave empty for the touch date plus the customer's grade interval.",
    "kind.call": "Call",
    "kind.email": "Email",
    "kind.meeting": "Meeting",
    "kind.visit": "Visit",
    "kind.chat": "Chat",
    "kind.note": "Note",
    "error.customer.required": "Pick a customer.",
    "error.kind.required": "Pick the kind of touch.",
    "error.summary.empty": "Write what was said or done.",
    "error.when.future": "A touch cannot be in the future.",
    "error.touch.gone": "This touch no longer exists.",
    "error.touch.not_yours": "Only the touch's author or an admin can change it.",
    "error.revisit.past": "{date} is in the past. Give a date from today on, e.g. `tomorrow`, `in 2 weeks` or `2026-12-01`.",
    "error.shortcut.no_text": "That message has no text to log. Use `/crm touch <customer>` and describe it.",
    "touch.saved": "Touch with *{customer}* logged. Next revisit: {revisit}.",
    "touch.updated": "Touch with *{customer}* updated.",
    "touch.deleted": "Touch with *{customer}* deleted.",
    "touch.delete.confirm": "Delete this touch? This cannot be undone.",
    "touch.delete.title": "Delete touch",
    "touch.none": "_No touches yet._",
    "touch.recent": "Touches",
    "touch.source": "source message",
    "touch.history": "Touches with *{customer}*",
    "button.log_touch": "Log touch",
    "button.schedule_revisit": "Schedule revisit",
    "button.delete": "Delete",
    "button.new_customer": "New customer",
    "revisit.usage": "Name the customer and the date, e.g. `/crm revisit Acme Ltd in 2 weeks`, `tomorrow`, `next monday` or `2026-12-01`; `off` for no revisits.",
    "revisit.unreadable": "I can't read a date at the end of “{text}”. Try e.g. `/crm revisit Acme Ltd in 2 weeks` or `/crm revisit Acme Ltd 2026-12-01`.",
    "revisit.set": "Next revisit of *{customer}*: {date}.",
    "revisit.cleared": "No more revisits for *{customer}*.",
    "revisit.modal": "Schedule revisit",
    "revisit.off": "No revisits for this customer",
    "revisit.off.label": "Revisits",
    "revisit.none": "none",
    "due.now": "Due today or overdue",
    "due.upcoming": "Next 7 days",
    "due.complaints": "My open complaints",
    "due.overdue": "{days} days overdue",
    "due.today": "due today",
    "due.nothing": "Nothing due. Enjoy the quiet.",
    "home.title": "touchbase",
    "home.customers": "*My customers* by grade: {counts}",
    "card.open_complaints": "Open complaints",
    "severity.low": "low",
    "severity.normal": "normal",
    "severity.high": "high",
    "severity.urgent": "urgent",
    # --- data care ---
    "error.admin_only": "Only touchbase admins can do that. Workspace admins and owners are admins; ask one.",
    "audit.title": "Audit trail of {customer}",
    "audit.none": "_Nothing recorded._",
    "export.sent": "{name} is in your DM with me.",
    "erase.ask": "Erase *{customer}*? Its personal data is removed everywhere; counts stay for reports.",
    "erase.confirm.title": "Erase personal data",
    "erase.confirm": "Erase all personal data of *{customer}*? This cannot be undone.",
    "erase.done": "Customer #{number} erased. Its touches and complaints remain, without personal data.",
    "button.erase": "Erase",
    # --- reports ---
    "report.usage": "Ask for `week`, `month` or `quarter`, optionally a person and `csv`, "
    "e.g. `/crm report month @li csv`; or `/crm report risk` for the customers most at risk, "
    "`/crm report grades` for grade suggestions.",
    "report.working": "Working on your report… it will be in your DM with me in a moment.",
    "report.failed": "Sorry, your report could not be built. Please try again.",
    "report.title.team": "*Team report* · {period}",
    "report.title.user": "*Report for <@{user}>* · {period}",
    "report.period.week": "week of {start}",
    "report.period.month": "month of {start}",
    "report.period.quarter": "quarter from {start}",
    "report.compared": "Compared with {start} – {end}: ▲ higher, ▼ lower than then. Times in hours.",
    "report.touches": "*Touches* {touches} · *customers touched* {customers}",
    "report.revisits": "*Revisits* on time {on_time} · late {late} · still overdue {overdue} · on time {pct}",
    "report.complaints": "*Complaints* opened {opened} · resolved {resolved} · open {open}",
    "report.response": "*First response* median {median} · p90 {p90} · SLA met {sla}",
    "report.resolution": "*Resolution* median {median} · p90 {p90} · SLA met {sla}",
    "report.satisfaction": "*Satisfaction* at resolution {avg} · answered {answered} · at check-ins {checkin_avg} · "
    "check-ins {checkins}",
    "report.customers": "*Customers* {customers} · new {new} · by grade {grades} · by segment {segments}",
    "report.managers": "*Per account manager*",
    "report.manager": "{user}: touches {touches} · customers {customers} · revisits on time {revisits} · "
    "complaints opened {opened}, resolved {resolved}, open {open} · first response SLA {sla} · satisfaction {avg}",
    "report.nobody": "no owner",
    "report.none": "–",
    "report.chart.title": "Report chart {start}",
    "report.chart.touches": "Touches",
    "report.chart.sla": "First response SLA met %",
    "report.chart.per_manager": "This period, per account manager",
    "report.chart.trend": "Last 8 periods",
    "report.csv.title": "Report {start} as CSV",
    "risk.title": "*Customers most at risk* (health 0–100, lowest first)",
    "risk.none": "No customer is at risk right now.",
    "risk.line": "*{score}* · {customer} · {owner} · {reasons}",
    "health.line": "*Health* {score}/100 · {reasons}",
    "health.fine": "all well",
    "health.no_touch": "no touch for {days} days, interval {interval}",
    "health.never_touched": "never touched in {days} days, interval {interval}",
    "health.revisit_overdue": "revisit overdue by {days} days",
    "health.open_complaints": "{count} open complaint(s)",
    "health.breached": "{count} complaint(s) past their SLA",
    "health.satisfaction_low": "satisfaction {recent} in the last 90 days",
    "health.satisfaction_falling": "satisfaction falling from {before} to {recent}",
    "grades.title": "*Grade suggestions*: A with {a} or more touches in {days} days or a tag of {tags}; "
    "B with {b} or more; C otherwise. Nothing changes until someone edits the customer.",
    "grades.line": "{customer} · {owner} · {grade} → *{suggested}* ({touches} touches in {days} days)",
    "grades.none": "Every customer's grade matches the rules.",
    "grades.text": "Grade suggestions",
    "checkin.ask": "Time for a satisfaction check-in with *{customer}*. After talking to them: how satisfied "
    "are they, from 1 (not at all) to 5 (very)?",
    "checkin.recorded": "Satisfaction {score}/5 recorded for *{customer}*. Thank you.",
    "checkin.alert": "<@{actor}> recorded satisfaction {score}/5 for *{customer}*. It may need your attention.",
    "satisfaction.invalid": "Give a score from 1 to 5.",
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
