"""How services reach people and learn about them, without touching the Slack SDK.

`Notifier` posts messages, publishes App Homes and uploads files; `Directory` reads a user's
profile. `SlackNotifier` and `SlackDirectory` implement them over a `slack_sdk.WebClient`.
Services reach people only through these; listeners use them only after the answer
(bot.later), the scheduler through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


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

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None: ...

    def upload_to_dm(self, user_id: str, *, filename: str, content: bytes, title: str) -> None: ...


class Unreachable(Exception):
    """Slack could not be asked, or said no (a user it does not know, a network error)."""


@dataclass(frozen=True)
class Profile:
    name: str | None
    tz: str | None
    locale: str | None
    is_admin: bool


class Directory(Protocol):
    def profile(self, user_id: str) -> Profile: ...

    def permalink(self, channel: str, ts: str) -> str | None: ...


class SlackNotifier:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post(self, channel, *, text, blocks=None, thread_ts=None):  # type: ignore[no-untyped-def]
        response = self.client.chat_postMessage(channel=channel, text=text, blocks=blocks, thread_ts=thread_ts)
        return response.get("ts")

    def dm(self, user_id, *, text, blocks=None):  # type: ignore[no-untyped-def]
        # Posting to a user id writes in the app's DM with them.
        return self.post(user_id, text=text, blocks=blocks)

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        self.client.views_publish(user_id=user_id, view=view)

    def upload_to_dm(self, user_id: str, *, filename: str, content: bytes, title: str) -> None:
        """Slack's current upload flow (getUploadURLExternal, then completeUploadExternal) into the DM."""
        channel = self.client.conversations_open(users=user_id)["channel"]["id"]
        self.client.files_upload_v2(channel=channel, content=content, filename=filename, title=title)


class SlackDirectory:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def profile(self, user_id: str) -> Profile:
        try:
            user = self.client.users_info(user=user_id, include_locale=True)["user"]
        except (SlackApiError, OSError) as exc:
            raise Unreachable(str(exc)) from exc
        return Profile(
            name=user.get("real_name") or user.get("name"),
            tz=user.get("tz"),
            locale=user.get("locale"),
            is_admin=bool(user.get("is_admin") or user.get("is_owner")),
        )

    def permalink(self, channel: str, ts: str) -> str | None:
        """A message's link, or None when Slack will not say (the record is worth keeping without it)."""
        try:
            return self.client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
        except (SlackApiError, OSError):
            return None
