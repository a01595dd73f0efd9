"""Modal state, read in one place: `view.state.values` flattened to {block_id: value}."""

from __future__ import annotations

import json
from typing import Any

from bot.i18n import t
from bot.services.errors import FieldErrors


def _element_value(element: dict[str, Any]) -> Any:
    kind = element.get("type")
    if kind in ("static_select", "external_select", "radio_buttons"):
        return (element.get("selected_option") or {}).get("value")
    if kind == "users_select":
        return element.get("selected_user")
    if kind == "conversations_select":
        return element.get("selected_conversation")
    if kind == "channels_select":
        return element.get("selected_channel")
    if kind == "datepicker":
        return element.get("selected_date")
    if kind == "timepicker":
        return element.get("selected_time")
    if kind == "datetimepicker":
        return element.get("selected_date_time")
    if kind == "checkboxes":
        return [o["value"] for o in element.get("selected_options") or []]
    if kind == "multi_users_select":
        return element.get("selected_users") or []
    return element.get("value")


def form_data(view: dict[str, Any]) -> dict[str, Any]:
    """Each input block's value under its block id (every input's action id is `value`)."""
    values = (view.get("state") or {}).get("values") or {}
    return {block_id: _element_value(next(iter(elements.values()))) for block_id, elements in values.items()}


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def error_response(locale: str | None, errors: FieldErrors) -> dict[str, Any]:
    """The `response_action: errors` body that shows each message under its field."""
    return {
        "response_action": "errors",
        "errors": {field: t(locale, key, **params) for field, (key, params) in errors.errors.items()},
    }
