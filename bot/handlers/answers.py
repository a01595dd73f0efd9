"""What a listener answers, whatever the surface: the registry (handlers.registry) turns each
into the right Slack call for the kind of request (an ack body, a `response_url` post,
`views.open`, a modal's `response_action`, type-ahead options, a workflow step's outputs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Block = dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """Something for the person acting only: the command's answer, an ephemeral message under
    the button, or (from a modal or the App Home, which have nowhere to answer) a DM."""

    text: str
    blocks: list[Block] | None = None
    about: tuple[int, ...] | None = None  # the customers it names, if known (a DM: RequestContext.tell)


@dataclass(frozen=True)
class Replace:
    """The message the button was in, replaced by this (the digest item done, the next page)."""

    text: str
    blocks: list[Block] | None = None


@dataclass(frozen=True)
class UpdateMessage:
    """Another message of the bot's, changed in place (`chat.update`)."""

    channel: str
    ts: str
    text: str
    blocks: list[Block]


@dataclass(frozen=True)
class OpenModal:
    """A modal (`views.open`, or `views.push` over a modal the button is in)."""

    view: dict[str, Any]


@dataclass(frozen=True)
class ModalAction:
    """A modal submission's `response_action`: "update", "push", "clear" or "errors"."""

    action: str
    view: dict[str, Any] | None = None
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Options:
    """Type-ahead options."""

    options: list[dict[str, Any]]


@dataclass(frozen=True)
class StepDone:
    """A workflow step's outputs (`functions.completeSuccess`, once the unit of work is saved)."""

    outputs: dict[str, Any]


Answer = Reply | Replace | UpdateMessage | OpenModal | ModalAction | Options | StepDone | None
