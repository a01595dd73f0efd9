"""How services reach people and learn about them, without touching the Slack SDK.

`Notifier` posts messages; `Directory` reads a user's profile. `SlackNotifier` and
`SlackDirectory` implement them over a `slack_sdk.WebClient`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk import WebClient


class Notifier(Protocol):
    def dm(self, user_id: str, *, text: str, blocks: list[dict[str, Any]] | None = None) -> str | None: ...

    def post(
        self,
        channel: str,
        *,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> str | None: ...


@dataclass(frozen=True)
class Profile:
    name: str | None
    tz: str | None
    locale: str | None
    is_admin: bool


class Directory(Protocol):
    def profile(self, user_id: str) -> Profile: ...


class SlackNotifier:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post(self, channel, *, text, blocks=None, thread_ts=None):  # type: ignore[no-untyped-def]
        response = self.client.chat_postMessage(channel=channel, text=text, blocks=blocks, thread_ts=thread_ts)
        return response.get("ts")

    def dm(self, user_id, *, text, blocks=None):  # type: ignore[no-untyped-def]
        # Posting to a user id writes in the app's DM with them.
        return self.post(user_id, text=text, blocks=blocks)


class SlackDirectory:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def profile(self, user_id: str) -> Profile:
        user = self.client.users_info(user=user_id, include_locale=True)["user"]
        return Profile(
            name=user.get("real_name") or user.get("name"),
            tz=user.get("tz"),
            locale=user.get("locale"),
            is_admin=bool(user.get("is_admin") or user.get("is_owner")),
        )
