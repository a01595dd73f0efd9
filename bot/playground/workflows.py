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
        value = state and (state.get("selected_user") or state.get("selected_date_time") or state.get("value"))
        if isinstance(value, str | int) and value != "":
            inputs[param.name] = value
    return callback_id, step, channel, inputs


def ended(step: Step, *, outputs: dict[str, Any] | None = None, error: str | None = None) -> str:
    """What Slackbot says when a step ends: its outputs, or why it could not."""
    if error is not None:
        return f":warning: The workflow step *{step.title}* could not finish: {error}"
    shown = [f"{p.title}: {_shown(p, outputs.get(p.name))}" for p in step.outputs if (outputs or {}).get(p.name)]
    return f":white_check_mark: The workflow step *{step.title}* finished. " + (" · ".join(shown) or "No outputs.")


def _shown(param: Param, value: Any) -> str:
    return f"<@{value}>" if param.type == "slack#/types/user_id" else str(value)
