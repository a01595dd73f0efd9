"""Workflow Builder in the playground: the app's custom steps (manifest.yml `functions`), run
one at a time by hand.

In Slack, a workflow someone built runs one of the app's steps: Slack sends the app the
`function_executed` event with the step's inputs and a token for that run, and the app ends the
step with `functions.completeSuccess` (its outputs) or `functions.completeError` (why not).
Here a person picks a step from the ⚡ menu of a conversation's composer and fills in its inputs
in a form, a modal of the playground's own that the bot never sees (`FORM`); the relay sends the
event, and Slackbot tells the person, in that conversation, how the step ended, as a
workflow's next step would show its outputs.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.playground.manifest import STEPS, Param, Step

FORM = "playground_workflow_step"  # the form's callback_id: its submission stays in the playground
_LONG = {"summary", "description"}  # inputs given room for a few lines


def form(callback_id: str, channel: str, person: str) -> dict[str, Any]:
    """The modal in which `person` fills in a step's inputs before it runs in `channel`."""
    step = STEPS[callback_id]
    blocks: list[dict[str, Any]] = [{"type": "context", "elements": [
        {"type": "mrkdwn", "text": f":zap: Workflow step of touchbase: {step.description}."}]}]  # fmt: skip
    blocks += [_input(param, person) for param in step.inputs]
    return {
        "type": "modal", "callback_id": FORM, "title": {"type": "plain_text", "text": step.title[:24]},
        "submit": {"type": "plain_text", "text": "Run"}, "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps({"step": callback_id, "channel": channel}), "blocks": blocks,
    }  # fmt: skip


def _input(param: Param, person: str) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": param.name}
    if param.type == "slack#/types/user_id":
        element = {"type": "users_select", "action_id": param.name, "initial_user": person}
    elif param.type == "slack#/types/timestamp":
        element = {"type": "datetimepicker", "action_id": param.name}
    elif param.name in _LONG:
        element["multiline"] = True
    block = {"type": "input", "block_id": param.name, "label": {"type": "plain_text", "text": param.title},
             "element": element, "optional": not param.required}  # fmt: skip
    if param.description:
        block["hint"] = {"type": "plain_text", "text": param.description}
    return block


def submitted(body: dict[str, Any], values: dict[str, Any]) -> tuple[str, Step, str, dict[str, Any]] | None:
    """The form's step, where it runs and its inputs, as Workflow Builder would pass them (a
    timestamp in seconds); None if the form is not one of a step."""
    try:
        meta = json.loads(body.get("private_metadata") or "{}")
        callback_id, channel = str(meta["step"]), str(meta["channel"])
        step = STEPS[callback_id]
    except (ValueError, KeyError, TypeError):
        return None
    inputs: dict[str, Any] = {}
    for param in step.inputs:
        block = values.get(param.name) if isinstance(values, dict) else None
        state = block.get(param.name) if isinstance(block, dict) else None
        if not isinstance(state, dict):
            continue
        value = state.get("selected_user") or state.get("selected_date_time") or state.get("value")
        if isinstance(value, str | int) and value != "":
            inputs[param.name] = value
    return callback_id, step, channel, inputs


def valid_outputs(step: Step, outputs: Any) -> bool:
    """Whether `functions.completeSuccess`'s outputs fit the step's: each required one given, each
    given of its type (else Slack answers `parameter_validation_failed`)."""
    if not isinstance(outputs, dict):
        return False
    for param in step.outputs:
        value = outputs.get(param.name)
        if value is None:
            if param.required:
                return False
        elif not isinstance(value, _TYPES.get(param.type, str)) or isinstance(value, bool):
            return False
    return True


_TYPES: dict[str, type | tuple[type, ...]] = {"integer": int, "string": str, "slack#/types/user_id": str}


def ended(step: Step, *, outputs: dict[str, Any] | None = None, error: str | None = None) -> str:
    """What Slackbot says when a step ends: its outputs, or why it could not (as plain text: what
    the app sent is not read as markup)."""
    if error is not None:
        return f":warning: The workflow step *{step.title}* could not finish: {_plain(error)}"
    shown = [f"{p.title}: {_shown(p, outputs.get(p.name))}" for p in step.outputs if (outputs or {}).get(p.name)]
    return f":white_check_mark: The workflow step *{step.title}* finished. " + (" · ".join(shown) or "No outputs.")


def _shown(param: Param, value: Any) -> str:
    if param.type == "slack#/types/user_id" and re.fullmatch(r"[UW][A-Z0-9]{2,20}", str(value)):
        return f"<@{value}>"
    return _plain(str(value))


def _plain(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
