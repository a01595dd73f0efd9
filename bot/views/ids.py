"""Every `callback_id`, `action_id` and `block_id` the bot uses, in one place, so listeners
and views cannot drift apart. Ids that Slack also knows from manifest.yml (the shortcuts)
must keep their values.
"""

from __future__ import annotations

# An input element's action id is always VALUE; its block id names the field, which is the
# field's name in the service's input model (customers.CustomerInput, touches.TouchInput, …).
VALUE = "value"

# --- customers ------------------------------------------------------------------------------
CUSTOMER_MODAL = "customer_modal"  # callback: "New customer" / edit
CUSTOMER_DUPLICATE = "customer_duplicate"  # callback: "possible duplicate" view pushed over the customer modal
CUSTOMER_SHOW = "customer_show"  # value: customer id
CUSTOMER_EDIT = "customer_edit"  # value: customer id
CUSTOMER_NEW = "customer_new"  # value: a name to start with, or ""
CUSTOMER_PICKER = "customer_picker"  # external_select in modals; options come from block_suggestion
CUSTOMER_REASSIGN = "customer_reassign"  # users_select on a revisit item
FIND_MORE = "find_more"  # value: {"q", "offset"}
ASSIGN_PICK = "assign_pick"  # a candidate button of `/crm assign`; value: {"customer_id", "owner_id"}
MESSAGE_MODAL = "message_modal"  # callback: a modal that only says something

# --- touches and revisits -------------------------------------------------------------------
TOUCH_MODAL = "touch_modal"  # callback: "Log touch" / edit a touch
LOG_TOUCH_SHORTCUT = "log_touch"  # message shortcut "Log as touch" (manifest.yml)
TOUCH_LOG = "touch_log"  # value: customer id, or "" to pick one in the modal
TOUCH_HISTORY = "touch_history"  # value: {"customer_id", "offset"}
TOUCH_MENU = "touch_menu"  # overflow on a touch: "edit:<id>" / "delete:<id>"
TOUCH_DELETE = "touch_delete"  # value: touch id; carries a confirm dialog
REVISIT_MODAL = "revisit_modal"  # callback: "Schedule revisit"
REVISIT_SCHEDULE = "revisit_schedule"  # value: customer id; opens the revisit modal
REVISIT_SNOOZE = "revisit_snooze"  # static_select: 1 day / 3 days / 1 week
REVISIT_SNOOZE_DATE = "revisit_snooze_date"  # datepicker: pick a date
DIGEST_SETTINGS = "digest_settings"  # button at the end of a digest: opens DIGEST_MODAL
DIGEST_MODAL = "digest_modal"  # callback: digest on/off and its time
# A revisit item's text and actions blocks carry the customer id after these prefixes.
REVISIT_TEXT_BLOCK = "revisit_text:"
REVISIT_ACTIONS_BLOCK = "revisit:"

# --- complaints -----------------------------------------------------------------------------
COMPLAINT_MODAL = "complaint_modal"  # callback: "Log complaint"
COMPLAINT_RESOLVE_MODAL = "complaint_resolve_modal"  # callback: "Resolve"
COMPLAINT_SHORTCUT = "log_complaint"  # message shortcut "Log as complaint" (manifest.yml)
COMPLAINT_NEW = "complaint_new"  # "Log complaint" for a customer; value: customer id
COMPLAINT_SHOW = "complaint_show"  # value: complaint id
COMPLAINT_ACKNOWLEDGE = "complaint_acknowledge"  # value: complaint id (so are the next five)
COMPLAINT_WAIT = "complaint_wait"
COMPLAINT_PROGRESS = "complaint_progress"
COMPLAINT_RESOLVE = "complaint_resolve"  # opens the "Resolve" modal
COMPLAINT_REOPEN = "complaint_reopen"
COMPLAINT_CLOSE = "complaint_close"
# state-changing buttons -> the service's action names
COMPLAINT_STATE_BUTTONS: dict[str, str] = {
    COMPLAINT_ACKNOWLEDGE: "acknowledge",
    COMPLAINT_WAIT: "wait",
    COMPLAINT_PROGRESS: "progress",
    COMPLAINT_REOPEN: "reopen",
    COMPLAINT_CLOSE: "close",
}

# --- lifecycle and follow-ups ----------------------------------------------------------------
LOST_MODAL = "lost_modal"  # callback: "Mark as lost"; metadata {"customer_id"}
LOST_PICK = "lost_pick"  # a candidate button of `/crm lost`; value: customer id
WON_PICK = "won_pick"  # a candidate button of `/crm won`; value: customer id
FOLLOW_UP_DONE = "follow_up_done"  # value: follow-up id
FOLLOW_UP_SNOOZE = "follow_up_snooze"  # static_select: 1 day / 3 days / 1 week
# A follow-up item's text and actions blocks carry the follow-up id after these prefixes.
FOLLOW_UP_TEXT_BLOCK = "follow_up_text:"
FOLLOW_UP_ACTIONS_BLOCK = "follow_up:"

# --- reports and satisfaction ---------------------------------------------------------------
SATISFACTION_SCORE = "satisfaction_score"  # a check-in DM's 1-5 buttons; value: {"customer_id", "score"}
CHECKIN_BLOCK = "checkin:"  # + customer id: the actions block of one check-in question
# A customer survey's 1-5 buttons in a linked channel (services.surveys); value: {"token", "score"}
SURVEY_SCORE = "survey_score"
SURVEY_BLOCK = "survey"  # the actions block of a survey

# --- settings and data care -----------------------------------------------------------------
SETTINGS_MODAL = "settings_modal"  # callback: `/crm settings`
CUSTOMER_ERASE = "customer_erase"  # value: customer id; carries a confirm dialog naming the customer
CUSTOMER_MERGE = "customer_merge"  # value: {"source", "target"}; carries a confirm dialog
AUDIT_MORE = "audit_more"  # value: {"customer_id", "offset"}

# --- linked channels, the complaint emoji, workflow steps ------------------------------------
CHANNEL_LINK_PICK = "channel_link_pick"  # a candidate of `/crm link`; value: {"customer_id", "channel", "contacts"}
CHANNEL_REPLIED = "channel_replied"  # "I replied elsewhere" on a response reminder; value: the message's id
EMOJI_COMPLAINT = "emoji_complaint"  # "Log complaint" offered for a reaction; value: {"channel", "ts"}
# Workflow Builder custom steps: their callback ids are the keys of `functions:` in manifest.yml.
STEP_LOG_TOUCH = "log_touch_step"
STEP_LOG_COMPLAINT = "log_complaint_step"
STEP_FIND_CUSTOMER = "find_customer_step"

# --- input fields that are not plain text inputs (block ids) --------------------------------
FIELD_CUSTOMER = "customer"  # the customer picker of Log touch / Log complaint
FIELD_OWNER = "owner_id"
FIELD_ASSIGNEE = "assignee_id"
FIELD_KIND = "kind"
FIELD_HAPPENED_AT = "happened_at"
FIELD_NEXT_REVISIT = "next_revisit"
FIELD_REVISITS_OFF = "off"
FIELD_DIGEST_ENABLED = "digest_enabled"
FIELD_DIGEST_TIME = "digest_time"
FIELD_NEXT_STEP_DUE = "next_step_due"
