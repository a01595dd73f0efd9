"""What manifest.yml tells Slack about the app that a Slack client shows: the slash command
and the message shortcuts (tests/test_playground.py keeps these equal to manifest.yml, which
is not part of the installed package)."""

from __future__ import annotations

COMMAND = "/crm"
COMMAND_DESCRIPTION = "Customers, touches, revisits and complaints"
USAGE_HINT = "help | new | find | show | edit | assign | touch | revisit | due | complaint | link | channels"
SHORTCUTS: dict[str, dict[str, str]] = {
    "log_touch": {"name": "Log as touch", "description": "Log this message as a touch with a customer"},
    "log_complaint": {"name": "Log as complaint", "description": "Log this message as a customer's complaint"},
}
