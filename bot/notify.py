"""How services reach people and learn about them, without touching the Slack SDK.

`Notifier` posts messages, publishes App Homes and uploads files; `Directory` reads a user's
profile. `SlackNotifier` and `SlackDirectory` implement them over a `slack_sdk.WebClient`.
Services reach people only through these; listeners use them only after the answer
(bot.later), the scheduler through the outbox.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.clock import elapsed


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

    def ephemeral(self, channel: str, user_id: str, *, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """A message in `channel` only `user_id` sees (raises when Slack cannot show one there)."""


class Unreachable(Exception):
    """Slack could not be asked, or said no (a user it does not know, a network error)."""


@dataclass(frozen=True)
class Profile:
    name: str | None
    tz: str | None
    locale: str | None
    is_admin: bool


@dataclass(frozen=True)
class ChannelInfo:
    """What a request needs to know about a channel (`conversations.info`)."""

    is_private: bool
    is_member: bool  # the bot is in it
    is_archived: bool = False
    is_ext_shared: bool = False  # a Slack Connect channel


class Profiles(Protocol):
    """What a person's profile is read from: a `Directory`, or answers Slack gave before."""

    def profile(self, user_id: str) -> Profile: ...


class Directory(Protocol):
    """What requests read from Slack (profiles, links, channels, a message's text), and the one
    thing they do there themselves: join a public channel that is being linked."""

    def profile(self, user_id: str) -> Profile: ...

    def permalink(self, channel: str, ts: str) -> str | None: ...

    def message_link(self, channel: str, ts: str, thread_ts: str | None) -> str | None:
        """A message's link when its thread is known (`thread_ts`, None at the top level): as
        `permalink`, but built without asking Slack once Slack has shown how (`Permalinks`)."""

    def channel(self, channel: str) -> ChannelInfo | None:
        """The channel as the bot sees it; None when it cannot (private and not a member, gone)."""

    def join(self, channel: str) -> bool:
        """Join a public channel; False when Slack says no."""

    def message_text(self, channel: str, ts: str) -> str | None:
        """A message's text (top-level or in a thread), or None when it cannot be read."""


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

    def ephemeral(self, channel, user_id, *, text, blocks=None):  # type: ignore[no-untyped-def]
        self.client.chat_postEphemeral(channel=channel, user=user_id, text=text, blocks=blocks)


class Permalinks:
    """How Slack builds the links of a channel's messages, learned from its own answers.

    Slack's link to a message is `<workspace URL>/archives/<channel>/p<ts without its dot>`, with
    `?thread_ts=<thread>&cid=<channel>` for a reply (chat.getPermalink's documentation). Once its
    answer for a message of a channel is exactly that, later links in that channel are built the
    same way instead of asked for: a Slack round trip less in the acknowledgement of each
    customer's message. A reply's link is built only once a reply's answer has shown its shape;
    an answer of another shape teaches nothing. Learned per workspace and channel (a Slack Connect
    or an organisation's shared channel may be linked on another workspace's URL), and asked
    again after `AGAIN_AFTER`, so that a renamed workspace's links follow. What is past that is
    forgotten as more is learned, so what a process keeps grows with the channels heard from in an
    hour, not with every channel it ever heard from."""

    AGAIN_AFTER = 3600.0  # seconds

    def __init__(self, clock: Callable[[], float] = elapsed) -> None:
        self.clock = clock
        # (team, channel) → (the URL its links begin with, whether a reply's shape was seen, when),
        # in the order learned: the oldest first.
        self._known: OrderedDict[tuple[str, str], tuple[str, bool, float]] = OrderedDict()
        self._learning = threading.Lock()

    def channels(self) -> int:
        """How many channels' links it knows how to build (or knew, within the last hour)."""
        return len(self._known)

    def built(self, team_id: str, channel: str, ts: str, thread_ts: str | None) -> str | None:
        known = self._known.get((team_id, channel))
        if known is None or self.clock() - known[2] > self.AGAIN_AFTER:
            return None
        base, replies, _ = known
        if _is_reply(ts, thread_ts) and not replies:
            return None
        return _link(base, channel, ts, thread_ts)

    def learn(self, team_id: str, channel: str, ts: str, thread_ts: str | None, permalink: str) -> None:
        base = permalink.removesuffix(_link("", channel, ts, thread_ts))
        if base == permalink or not base.startswith("https://") or any(c in base[8:] for c in "/?#"):
            return
        now = self.clock()
        with self._learning:
            before = self._known.pop((team_id, channel), None)
            replies = _is_reply(ts, thread_ts) or (before is not None and before[0] == base and before[1])
            self._known[(team_id, channel)] = (base, replies, now)
            while now - next(iter(self._known.values()))[2] > self.AGAIN_AFTER:  # this one's is now
                self._known.popitem(last=False)


def _is_reply(ts: str, thread_ts: str | None) -> bool:
    return bool(thread_ts) and thread_ts != ts


def _link(base: str, channel: str, ts: str, thread_ts: str | None) -> str:
    path = f"{base}/archives/{channel}/p{ts.replace('.', '')}"
    return f"{path}?thread_ts={thread_ts}&cid={channel}" if _is_reply(ts, thread_ts) else path


class SlackDirectory:
    def __init__(self, client: WebClient, *, team_id: str | None = None, links: Permalinks | None = None) -> None:
        self.client = client
        self.team_id = team_id
        self.links = links

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

    def message_link(self, channel: str, ts: str, thread_ts: str | None) -> str | None:
        if self.links is None or self.team_id is None:
            return self.permalink(channel, ts)
        if (built := self.links.built(self.team_id, channel, ts, thread_ts)) is not None:
            return built
        if (asked := self.permalink(channel, ts)) is not None:
            self.links.learn(self.team_id, channel, ts, thread_ts, asked)
        return asked

    def channel(self, channel: str) -> ChannelInfo | None:
        try:
            found = self.client.conversations_info(channel=channel)["channel"]
        except (SlackApiError, OSError):
            return None
        return ChannelInfo(
            is_private=bool(found.get("is_private")), is_member=bool(found.get("is_member")),
            is_archived=bool(found.get("is_archived")), is_ext_shared=bool(found.get("is_ext_shared")),
        )  # fmt: skip

    def join(self, channel: str) -> bool:
        try:
            self.client.conversations_join(channel=channel)
        except (SlackApiError, OSError):
            return False
        return True

    def message_text(self, channel: str, ts: str) -> str | None:
        # A top-level message is in the history; a reply only in its thread.
        for read, thread in ((self.client.conversations_history, {}), (self.client.conversations_replies, {"ts": ts})):
            try:
                found = read(channel=channel, oldest=ts, latest=ts, inclusive=True, limit=1, **thread)
            except (SlackApiError, OSError):
                continue
            for message in found.get("messages") or []:
                if message.get("ts") == ts:
                    return str(message.get("text") or "")
        return None
