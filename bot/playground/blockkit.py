"""Block Kit's documented structure and limits, checked as Slack checks them.

Slack refuses a message or view that breaks them (`invalid_blocks`, `invalid_arguments`, with
`[ERROR] … [json-pointer:/blocks/0/text/text]` lines); so does the playground, so that what
works here works in Slack. Types Slack documents but this module does not know are let
through (the page shows them as a placeholder naming the type): the check must never refuse
what Slack would take.

Limits: https://docs.slack.dev/reference/block-kit/blocks and …/block-elements.
"""

from __future__ import annotations

from typing import Any

SURFACE_BLOCKS = {"message": 50, "modal": 100, "home": 100}

# Elements each place takes (None: any interactive element).
_ACCESSORY = {"button", "checkboxes", "datepicker", "image", "multi_static_select", "multi_external_select",
              "multi_users_select", "multi_conversations_select", "multi_channels_select", "overflow",
              "radio_buttons", "static_select", "external_select", "users_select", "conversations_select",
              "channels_select", "timepicker", "workflow_button"}  # fmt: skip
_SELECTS = {"static_select", "external_select", "users_select", "conversations_select", "channels_select"}
_MULTI = {"multi_" + s for s in _SELECTS}
_ACTIONS = (_ACCESSORY - {"image"}) | {"datetimepicker", "plain_text_input", "rich_text_input"}
_INPUTS = _SELECTS | _MULTI | {"plain_text_input", "checkboxes", "radio_buttons", "datepicker", "timepicker",
                               "datetimepicker", "email_text_input", "url_text_input", "number_input",
                               "file_input", "rich_text_input"}  # fmt: skip


class _Check:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, what: str) -> None:
        self.problems.append(f"{what} [json-pointer:{path}]")

    def text(self, obj: Any, path: str, limit: int, *, plain: bool = False, required: bool = True) -> None:
        if obj is None:
            if required:
                self.fail(path, "missing required field")
            return
        if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
            self.fail(path, "must be a text object (plain_text or mrkdwn)")
            return
        if plain and obj["type"] != "plain_text":
            self.fail(path + "/type", "must be plain_text")
        text = obj.get("text")
        if not isinstance(text, str) or not text:
            self.fail(path + "/text", "must be more than 0 characters")
        elif len(text) > limit:
            self.fail(path + "/text", f"must be less than {limit + 1} characters")

    def string(self, value: Any, path: str, limit: int) -> None:
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            self.fail(path, f"must be a string of less than {limit + 1} characters")

    def count(self, items: Any, path: str, limit: int, *, least: int = 0) -> list[Any]:
        if items is None:
            items = []
        if not isinstance(items, list):
            self.fail(path, "must be an array")
            return []
        if len(items) > limit:
            self.fail(path, f"must have no more than {limit} items")
        if len(items) < least:
            self.fail(path, f"must have at least {least} items")
        return items

    def option(self, option: Any, path: str) -> None:
        if not isinstance(option, dict):
            self.fail(path, "must be an option object")
            return
        self.text(option.get("text"), path + "/text", 75)
        self.string(option.get("value"), path + "/value", 150)
        if option.get("description") is not None:
            self.text(option.get("description"), path + "/description", 75)
        self.string(option.get("url"), path + "/url", 3000)

    def options(self, element: dict[str, Any], path: str, limit: int, *, least: int = 0) -> None:
        if "option_groups" in element:
            for i, group in enumerate(self.count(element["option_groups"], path + "/option_groups", 100)):
                here = f"{path}/option_groups/{i}"
                self.text((group or {}).get("label"), here + "/label", 75, plain=True)
                for j, option in enumerate(self.count((group or {}).get("options"), here + "/options", 100)):
                    self.option(option, f"{here}/options/{j}")
            return
        for i, option in enumerate(self.count(element.get("options"), path + "/options", limit, least=least)):
            self.option(option, f"{path}/options/{i}")

    def confirm(self, confirm: Any, path: str) -> None:
        if confirm is None:
            return
        if not isinstance(confirm, dict):
            self.fail(path, "must be a confirmation dialog object")
            return
        self.text(confirm.get("title"), path + "/title", 100, plain=True)
        self.text(confirm.get("text"), path + "/text", 300)
        self.text(confirm.get("confirm"), path + "/confirm", 30, plain=True)
        self.text(confirm.get("deny"), path + "/deny", 30, plain=True)

    def element(self, element: Any, path: str, allowed: set[str] | None) -> None:
        if not isinstance(element, dict) or not isinstance(element.get("type"), str):
            self.fail(path, "must be an element object with a type")
            return
        kind = element["type"]
        if allowed is not None and kind not in allowed and kind in _KNOWN_ELEMENTS:
            self.fail(path + "/type", f"{kind} is not allowed here")
            return
        self.string(element.get("action_id"), path + "/action_id", 255)
        self.confirm(element.get("confirm"), path + "/confirm")
        if element.get("placeholder") is not None:
            self.text(element["placeholder"], path + "/placeholder", 150, plain=True)
        if kind == "button":
            self.text(element.get("text"), path + "/text", 75, plain=True)
            self.string(element.get("value"), path + "/value", 2000)
            self.string(element.get("url"), path + "/url", 3000)
            if element.get("style") not in (None, "primary", "danger"):
                self.fail(path + "/style", "must be primary or danger")
        elif kind == "overflow":
            self.options(element, path, 5, least=1)
        elif kind in ("static_select", "multi_static_select"):
            self.options(element, path, 100)
        elif kind in ("checkboxes", "radio_buttons"):
            self.options(element, path, 10, least=1)
        elif kind == "image":
            self.string(element.get("image_url"), path + "/image_url", 3000)
            self.string(element.get("alt_text"), path + "/alt_text", 2000)
        elif kind == "plain_text_input":
            for key in ("min_length", "max_length"):
                value = element.get(key)
                if value is not None and (not isinstance(value, int) or not 0 <= value <= 3000):
                    self.fail(f"{path}/{key}", "must be a number from 0 to 3000")

    def block(self, block: Any, path: str) -> None:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            self.fail(path, "must be a block object with a type")
            return
        kind = block["type"]
        self.string(block.get("block_id"), path + "/block_id", 255)
        if kind == "section":
            if block.get("text") is None and block.get("fields") is None:
                self.fail(path, "must provide either text or fields")
            if block.get("text") is not None:
                self.text(block["text"], path + "/text", 3000)
            for i, item in enumerate(self.count(block.get("fields"), path + "/fields", 10)):
                self.text(item, f"{path}/fields/{i}", 2000)
            if block.get("accessory") is not None:
                self.element(block["accessory"], path + "/accessory", _ACCESSORY)
        elif kind == "actions":
            for i, element in enumerate(self.count(block.get("elements"), path + "/elements", 25, least=1)):
                self.element(element, f"{path}/elements/{i}", _ACTIONS)
        elif kind == "context":
            for i, element in enumerate(self.count(block.get("elements"), path + "/elements", 10, least=1)):
                if isinstance(element, dict) and element.get("type") in ("plain_text", "mrkdwn"):
                    self.text(element, f"{path}/elements/{i}", 3000)
                else:
                    self.element(element, f"{path}/elements/{i}", {"image"})
        elif kind == "header":
            self.text(block.get("text"), path + "/text", 150, plain=True)
        elif kind == "image":
            if block.get("image_url") is None and block.get("slack_file") is None:
                self.fail(path, "must provide image_url or slack_file")
            self.string(block.get("image_url"), path + "/image_url", 3000)
            self.string(block.get("alt_text"), path + "/alt_text", 2000)
            if block.get("title") is not None:
                self.text(block["title"], path + "/title", 2000, plain=True)
        elif kind == "input":
            self.text(block.get("label"), path + "/label", 2000, plain=True)
            if block.get("hint") is not None:
                self.text(block["hint"], path + "/hint", 2000, plain=True)
            if block.get("element") is None:
                self.fail(path + "/element", "missing required field")
            else:
                self.element(block["element"], path + "/element", _INPUTS)
        elif kind == "markdown":
            self.string(block.get("text"), path + "/text", 12000)


_KNOWN_ELEMENTS = _ACCESSORY | _ACTIONS | _INPUTS


def check_blocks(blocks: Any, *, surface: str) -> list[str]:
    """What Slack would refuse in these blocks on `surface` (message, modal, home)."""
    check = _Check()
    for i, block in enumerate(check.count(blocks, "/blocks", SURFACE_BLOCKS[surface])):
        check.block(block, f"/blocks/{i}")
    return check.problems


def check_view(view: Any, *, surface: str) -> list[str]:
    """What Slack would refuse in a modal (views.open/push/update) or an App Home (views.publish)."""
    check = _Check()
    if not isinstance(view, dict):
        return ["must be a view object [json-pointer:/view]"]
    expected = "home" if surface == "home" else "modal"
    if view.get("type") != expected:
        check.fail("/view/type", f"must be {expected}")
    if expected == "modal":
        check.text(view.get("title"), "/view/title", 24, plain=True)
        check.text(view.get("submit"), "/view/submit", 24, plain=True, required=False)
        check.text(view.get("close"), "/view/close", 24, plain=True, required=False)
        if view.get("submit") is None and any(isinstance(b, dict) and b.get("type") == "input"
                                              for b in view.get("blocks") or []):  # fmt: skip
            check.fail("/view/submit", "must provide submit when the view has input blocks")
    check.string(view.get("private_metadata"), "/view/private_metadata", 3000)
    check.string(view.get("callback_id"), "/view/callback_id", 255)
    check.string(view.get("external_id"), "/view/external_id", 255)
    blocks = view.get("blocks")
    if blocks is None:
        check.fail("/view/blocks", "missing required field")
    for i, block in enumerate(check.count(blocks, "/view/blocks", SURFACE_BLOCKS[expected])):
        check.block(block, f"/view/blocks/{i}")
    return check.problems
