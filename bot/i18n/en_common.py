"""English: Words every part of touchbase uses: help, buttons, modals, validation errors."""

EN: dict[str, str] = {
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
        "`/crm due` my revisits and follow-ups due and my open complaints, e.g. `/crm due`\n"
        "`/crm lost <customer>` mark a customer as lost, with the reason; `/crm won <customer>` brings it back\n"
        "`/crm audit <customer>` · `/crm export [<customer>]` · `/crm erase <customer>` · "
        "`/crm merge <customer> <customer>` admins' data tools, "
        "e.g. `/crm export Acme Ltd`\n"
        "`/crm report [week|month|quarter] [@user] [csv]` KPIs with a chart, in your DM, e.g. `/crm report month`; "
        "`/crm report risk` the customers most at risk and the value at risk, `/crm report grades` grade "
        "suggestions, `/crm report churn [month|quarter] [csv]` customers lost and won back, churn rate, value lost\n"
        "`/crm settings` visibility, roles, time zone, revisit intervals, channels (admins)\n"
        "`/crm complaint <customer>` log a complaint, e.g. `/crm complaint Acme Ltd`\n"
        "`/crm complaints [open|overdue|mine]` the complaints with their next deadline, e.g. `/crm complaints overdue`\n"
        "`/crm resolve #N` resolve a complaint, e.g. `/crm resolve #7`\n"
        "`/crm help` this list\n"
        "Or use *Log as touch* or *Log as complaint* in any message's ⋮ menu."
    ),
    "help.unknown": "I don't know `{word}`. Here is what I can do:",
    "error.name.empty": "Enter the customer's name.",
    "error.name.taken": "A customer named “{name}” already exists (#{number}).",
    "error.email.invalid": "This is not an email address, e.g. li.wei@example.com",
    "error.phone.invalid": "This is not a phone number, e.g. +86 138 0013 8000",
    "error.too_long": "Keep this under {limit} characters.",
    "error.customer.gone": "This customer no longer exists.",
    "error.customer.erased": "This customer's data was erased: nothing more is recorded about them.",
    "error.customer.hidden": "This customer is not one of yours: your team shows members only the customers they own or work a complaint for.",
    "error.courtesy": "Saved. A message that goes with it could not be sent ({error}); nothing was lost.",
    "error.unreadable": "I could not read that request. If it came from an old message, try the command again.",
    "error.modal.stale": "This form is out of date. Close it and open it again.",
    "error.other_workspace": "This form belongs to another workspace.",
    "error.owner.unknown": "Slack does not know that person in this workspace. Mention a member, e.g. `@li`.",
    "error.complaint.hidden": "This complaint is not one of yours: your team shows members only the complaints they work or whose customer they own.",
    "error.generic": "Something went wrong on our side; nothing was saved. Please try again.",
}
