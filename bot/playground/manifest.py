"""What manifest.yml tells Slack about the app that a Slack client shows: the slash command,
the message shortcuts and the custom steps Workflow Builder offers (tests/test_playground.py
keeps these equal to manifest.yml, which is not part of the installed package)."""

from __future__ import annotations

from typing import NamedTuple

COMMAND = "/crm"
COMMAND_DESCRIPTION = "Customers, touches, revisits and complaints"
USAGE_HINT = "help | new | find | show | edit | assign | touch | revisit | due | complaint | link | channels"
SHORTCUTS: dict[str, dict[str, str]] = {
    "log_touch": {"name": "Log as touch", "description": "Log this message as a touch with a customer"},
    "log_complaint": {"name": "Log as complaint", "description": "Log this message as a customer's complaint"},
}


class Param(NamedTuple):
    name: str
    type: str  # "string", "integer", "slack#/types/user_id", "slack#/types/timestamp"
    title: str
    description: str | None = None
    required: bool = False


class Step(NamedTuple):
    """A custom step Workflow Builder offers (manifest.yml `functions`)."""

    title: str
    description: str
    inputs: tuple[Param, ...]
    outputs: tuple[Param, ...]


_CUSTOMER = Param("customer", "string", "Customer",
                  "The customer's name (or a beginning only it has), or its number as #N", True)  # fmt: skip
STEPS: dict[str, Step] = {
    "log_touch_step": Step("Log touch", "Log a touch with a customer in touchbase", (
        _CUSTOMER,
        Param("kind", "string", "Kind", "call, email, meeting, visit, chat or note", True),
        Param("summary", "string", "Summary", "What was said or done", True),
        Param("when", "slack#/types/timestamp", "When", "When it happened (default now)", False),
        Param("author", "slack#/types/user_id", "Logged by",
              "Who the touch is logged by, e.g. the person who used this workflow", True),
    ), (Param("touch_id", "integer", "Touch id", "The touch logged", True),)),
    "log_complaint_step": Step("Log complaint", "Log a customer's complaint in touchbase (it starts its SLA clocks)", (
        _CUSTOMER,
        Param("title", "string", "Title", "The complaint in a few words (at most 300 characters)", True),
        Param("description", "string", "Description", None, False),
        Param("severity", "string", "Severity", "low, normal (the default), high or urgent", False),
        Param("author", "slack#/types/user_id", "Logged by",
              "Who the complaint is logged by, e.g. the person who used this workflow", True),
    ), (Param("complaint_number", "integer", "Complaint number", "The complaint's #N", True),)),
    "find_customer_step": Step("Find customer", "Find a customer in touchbase by name or number", (
        Param("text", "string", "Name or number", "A name (or a beginning only one customer has), or #N", True),
    ), (
        Param("customer_id", "string", "Customer",
              "The customer's number as #N (what the other steps' Customer accepts)", True),
        Param("name", "string", "Name", None, True),
        Param("owner", "slack#/types/user_id", "Owner", None, False),
    )),
}  # fmt: skip
