"""The message catalog: every word a user reads comes from here.

English is the source: the `EN` table below, key → text. Simplified Chinese lives in the
gettext catalog `bot/locales/zh_CN/LC_MESSAGES/messages.po` (msgid = the key, msgstr = the
Chinese text, the English as a translator comment), read once at import with Babel.
`t(locale, key, **params)` picks the language (`language`) and falls back to English for a
missing key; tests/test_i18n.py fails when a key lacks a translation or its placeholders differ.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).parent / "locales"

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
        "`/crm audit <customer>` · `/crm export [<customer>]` · `/crm erase <customer>` · "
        "`/crm merge <customer> <customer>` admins' data tools, "
        "e.g. `/crm export Acme Ltd`\n"
        "`/crm report [week|month|quarter] [@user] [csv]` KPIs with a chart, in your DM, e.g. `/crm report month`; "
        "`/crm report risk` the customers most at risk, `/crm report grades` grade suggestions\n"
        "`/crm settings` visibility, roles, time zone, revisit intervals, channels (admins)\n"
        "`/crm complaint <customer>` log a complaint, e.g. `/crm complaint Acme Ltd`\n"
        "`/crm complaints [open|overdue|mine]` the complaints with their next deadline, e.g. `/crm complaints overdue`\n"
        "`/crm resolve #N` resolve a complaint, e.g. `/crm resolve #7`\n"
        "`/crm help` this list\n"
        "Or use *Log as touch* or *Log as complaint* in any message's ⋮ menu."
    ),
    "help.unknown": "I don't know `{word}`. Here is what I can do:",
    # customer modal
    "customer.modal.new": "New customer",
    "customer.modal.edit": "Edit customer",
    "modal.save": "Save",
    "modal.cancel": "Cancel",
    "modal.close": "Close",
    "duplicate.title": "Possible duplicate",
    "duplicate.intro": "These customers have the same email or phone:",
    "duplicate.outro": "Open one with *Show*, go *Back* to change the form, or *Save anyway*.",
    "duplicate.save": "Save anyway",
    "duplicate.back": "Back",
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
    "error.customer.hidden": "This customer is not one of yours: your team shows members only the customers they own or work a complaint for.",
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
    "home.failed.title": "Messages Slack refused (admins)",
    "home.failed.line": "{when} · to {to} · {kind} · {error}",
    "home.customers": "*My customers* by grade: {counts}",
    # --- data care ---
    "error.admin_only": "Only touchbase admins can do that. Workspace admins and owners are admins; ask one.",
    "audit.title": "Audit trail of {customer}",
    "audit.none": "_Nothing recorded._",
    "audit.action.create": "created",
    "audit.action.update": "updated",
    "audit.action.delete": "deleted",
    "audit.action.assign": "assigned",
    "audit.action.erase": "erased",
    "audit.action.export": "exported",
    "audit.action.merge": "merged",
    "audit.action.role": "role changed",
    "audit.entity.customer": "customer",
    "audit.entity.touch": "touch",
    "audit.entity.complaint": "complaint",
    "audit.entity.member": "member",
    "audit.entity.workspace": "settings",
    "audit.surface.command": "slash command",
    "audit.surface.modal": "form",
    "audit.surface.button": "button",
    "audit.surface.shortcut": "message shortcut",
    "audit.surface.event": "event",
    "audit.surface.cli": "command line",
    "audit.surface.import": "import",
    "export.sent": "{name} is in your DM with me.",
    "erase.ask": "Erase *{customer}*? Its personal data is removed everywhere; counts stay for reports.",
    "erase.confirm.title": "Erase personal data",
    "erase.confirm": "Erase all personal data of *{customer}*? This cannot be undone.",
    "erase.done": "Customer #{number} erased. Its touches and complaints remain, without personal data.",
    "erase.label": "Erased customer #{number}",  # the erased customer's name from then on
    "erase.marker": "[erased]",  # what erased touch summaries and complaint titles read
    "button.erase": "Erase",
    "button.merge": "Merge",
    "merge.usage": "Name two customers, the one to merge and the one to keep, e.g. `/crm merge #12 #7` or `/crm merge Acme Co Acme Ltd`.",
    "merge.same": "That is the same customer twice.",
    "merge.ask": "Merge *{source}* into *{target}*? Its touches and complaints move to {target}, its details fill {target}'s empty fields, and {source} is deleted.",
    "merge.confirm.title": "Merge customers",
    "merge.done": "Merged into {target}.",
    # --- settings ---
    "settings.title": "touchbase settings",
    "settings.visibility": "Visibility",
    "visibility.open": "open: everyone sees every customer",
    "visibility.owner": "owner only: members see their own",
    "settings.admins": "Admins",
    "settings.leads": "Leads",
    "settings.tz": "Time zone",
    "settings.digest_time": "Digest time",
    "settings.revisit_a": "Revisit interval A (days)",
    "settings.revisit_b": "Revisit interval B (days)",
    "settings.revisit_c": "Revisit interval C (days)",
    "settings.escalation_channel": "Escalation channel",
    "settings.complaints_channel": "Complaints channel",
    "settings.report_channel": "Weekly report channel",
    "settings.saved": "Settings saved.",
    "settings.language": "Language",
    "language.auto": "Each user's Slack language",
    "language.en": "English",
    "language.zh": "中文 (Simplified Chinese)",
    "error.tz.invalid": "Not a time zone name, e.g. Asia/Shanghai or Europe/Berlin.",
    "error.time.invalid": "Give a time as HH:MM, e.g. 09:00.",
    "error.days.invalid": "A whole number of days from 1 to 3650.",
    "error.admins.empty": "Keep at least one admin.",
    "settings.working_hours": "Working hours",
    "settings.working_hours.hint": "One line per day or days, e.g. mon-fri 09:00-12:00 13:30-18:00",
    "settings.holidays_country": "Holidays country",
    "settings.holidays_country.hint": "A country code for public holidays, e.g. CN (with make-up working days), US, DE",
    "settings.days_off": "Team days off",
    "settings.days_off.hint": "Dates, e.g. 2026-12-24, 2026-12-31",
    "settings.sla": "SLA targets",
    "settings.sla.hint": "severity, first response, resolution (m, h, d = business days), 24/7 for calendar hours; e.g. urgent 1h 8h 24/7",
    "settings.warning_percent": "Warn at (% of a target)",
    "settings.level2_share": "Level 2 at (× resolution target)",
    "settings.level3_share": "Level 3 at (× resolution target)",
    "error.hours.invalid": "Write one line per day or days, e.g. mon-fri 09:00-12:00 13:30-18:00",
    "error.country.invalid": "Not a country the holidays calendar knows; use a code like CN, US or DE.",
    "error.days_off.invalid": "Write dates like 2026-12-24, separated by commas.",
    "error.sla.invalid": "Write lines like: normal 8h 3d (first response, resolution; m, h or d).",
    "error.percent.invalid": "A whole number from 1 to 99.",
    "error.share.invalid": "A number from 1 to 10, e.g. 1.5.",
    # --- complaints ---
    "complaint.modal.new": "Log complaint",
    "complaint.modal.resolve": "Resolve #{number}",
    "complaint.usage": "Name the customer, e.g. `/crm complaint Acme Ltd` or `/crm complaint #12`",
    "complaint.resolve.usage": "Name the complaint by its number, e.g. `/crm resolve #7`",
    "complaint.list.usage": "Say which complaints: `/crm complaints open`, `/crm complaints overdue` or `/crm complaints mine`",
    "field.complaint_title": "Title",
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
    "age.days": "{days}d {hours}h",
    "age.hours": "{hours}h {minutes}m",
    "age.minutes": "{minutes}m",
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
    "complaint.low_satisfaction": "<@{actor}> resolved complaint *#{number}* ({customer}); the customer's satisfaction was {score}/5. It may need your attention.",
    "complaint.customer.line": "{mark}#{number} {title} · {severity} · next deadline: {deadline}",
    "complaint.escalation.warning.first_response": "Complaint *#{number}* ({customer}) is close to its first-response deadline.",
    "complaint.escalation.warning.resolution": "Complaint *#{number}* ({customer}) is close to its resolution deadline.",
    "complaint.escalation.level1": "Escalation level 1: complaint *#{number}* ({customer}) missed its deadline. Assignee: <@{assignee}>.",
    "complaint.escalation.level2": "Escalation level 2: complaint *#{number}* ({customer}) is far past its deadline or was reopened twice. Assignee: <@{assignee}>.",
    "complaint.escalation.level3": "Escalation level 3: complaint *#{number}* ({customer}) is at twice its resolution time. Assignee: <@{assignee}>.",
    # --- scheduler ---
    "digest.header": "{count} revisits are due or overdue:",
    "digest.header.one": "1 revisit is due or overdue:",
    "digest.item": "*{customer}*{company}\nDue {due}",
    "digest.item.overdue": "*{customer}*{company}\nDue {due}, {days} days overdue",
    "digest.item.overdue.one": "*{customer}*{company}\nDue {due}, 1 day overdue",
    "digest.more": "…and {count} more. Type `/crm due` for the full list.",
    "due.more": "…and {count} more after these: log or snooze these to see them.",
    "digest.footer": "You get this at {time} on working days.",
    "revisit.reminder": "Revisit *{customer}*{company} (due {due}).",
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
    # --- reports ---
    "report.usage": "Ask for `week`, `month` or `quarter`, optionally a person and `csv`, "
    "e.g. `/crm report month @li csv`; or `/crm report risk` for the customers most at risk, "
    "`/crm report grades` for grade suggestions.",
    "report.own_only": "Your team shows members only their own figures: `/crm report` gives yours.",
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


def load_po(path: Path) -> dict[str, str]:
    """key → translation from a gettext catalog; empty or fuzzy entries count as missing."""
    with path.open("rb") as f:
        catalog = read_po(f)
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


ZH: dict[str, str] = load_po(LOCALES_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po")
CATALOGS: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}
# What TeamSettings.language may hold (None: each user's Slack locale).
LANGUAGES: tuple[str, ...] = ("en", "zh")


def language(locale: str | None) -> str:
    """The catalog for a Slack locale such as `en-US` or `zh-CN`, or a team language `zh`."""
    if locale:
        lang = locale.replace("_", "-").split("-")[0].lower()
        if lang in CATALOGS:
            return lang
    return "en"


def _is_date(value: object) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def t(locale: str | None, key: str, **params: object) -> str:
    """The text of `key` in the language of `locale`; a date among `params` is written the way
    that language writes dates (services pass dates, not their text)."""
    lang = language(locale)
    template = CATALOGS[lang].get(key) or EN[key]
    if not params:
        return template
    from bot.services.dates import format_date  # dates also reads the catalog's language()

    params = {k: format_date(locale, v) if _is_date(v) else v for k, v in params.items()}
    return template.format(**params)
