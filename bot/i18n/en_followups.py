"""English: Follow-ups: a touch's next step with a due day, in due lists and digests."""

EN: dict[str, str] = {
    "field.next_step_due": "Next step due",
    "field.next_step_due.hint": "With a date, the next step becomes a follow-up: in the assignee's due list and "
    "digest until marked done.",
    "error.next_step_due.no_step": "Write the next step to give it a due date.",
    "error.next_step_due.past": "{date} is in the past. Give a date from today on.",
    "follow_up.header": "My follow-ups",
    "follow_up.item": "*{customer}*: {step}\nDue {due}",
    "follow_up.item.overdue.one": "*{customer}*: {step}\nDue {due}, 1 day overdue",
    "follow_up.item.overdue": "*{customer}*: {step}\nDue {due}, {days} days overdue",
    "follow_up.reminder": "A follow-up is due: *{customer}*: {step} ({due})",
    "follow_up.digest.one": "1 follow-up is due or overdue:",
    "follow_up.digest": "{count} follow-ups are due or overdue:",
    "follow_up.promised": "Follow-up “{step}” due {due} for <@{assignee}>.",
    "follow_up.given": "<@{author}> gave you a follow-up with *{customer}*: {step}, due {due}. It is in `/crm due`.",
    "follow_up.done": "Done: *{customer}*: {step}",
    "follow_up.snoozed": "Snoozed: *{customer}*: {step}, now due {due}.",
    "follow_up.gone": "This follow-up no longer exists.",
    "follow_up.already_done": "This follow-up was already done on {date}.",
    "button.done": "Done",
    "health.follow_ups_overdue": "{count} follow-up(s) overdue",
}
