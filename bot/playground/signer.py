"""Requests signed exactly as Slack signs them, posted to the bot's request URL.

Slack signs `v0:{timestamp}:{body}` with HMAC-SHA256 under the app's signing secret and
sends the hex digest as `X-Slack-Signature: v0=…` with `X-Slack-Request-Timestamp`; the bot
(bolt's SignatureVerifier) refuses anything else, or anything older than five minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bot.clock import wall


def signature(secret: str, timestamp: int, body: bytes) -> str:
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Answer:
    """The bot's HTTP answer: what Slack reads the acknowledgement from."""

    status: int
    body: str
    error: str | None = None  # the bot could not be reached at all

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200

    def json(self) -> dict[str, Any]:
        """The acknowledgement's JSON; an empty or non-JSON body is no instruction."""
        try:
            data = json.loads(self.body) if self.body.strip() else {}
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}


class Signer:
    """Posts to `url` as Slack does: form posts (slash commands, `payload=` interactions)
    and JSON (Events API), signed with `secret`."""

    def __init__(self, url: str, secret: str, *, timeout: float = 30.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout

    def headers(self, body: bytes, content_type: str, timestamp: int | None = None) -> dict[str, str]:
        timestamp = int(wall().timestamp()) if timestamp is None else timestamp
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature(self.secret, timestamp, body),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }

    def post(self, body: bytes, content_type: str) -> Answer:
        request = urllib.request.Request(self.url, data=body, headers=self.headers(body, content_type), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Answer(response.status, response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as err:
            return Answer(err.code, err.read().decode("utf-8", "replace"))
        except OSError as err:
            return Answer(0, "", error=str(err))

    def form(self, fields: dict[str, str]) -> Answer:
        return self.post(urlencode(fields).encode(), "application/x-www-form-urlencoded")

    def payload(self, payload: dict[str, Any]) -> Answer:
        """An interaction: Slack form-posts its JSON as the single field `payload`."""
        return self.form({"payload": json.dumps(payload, ensure_ascii=False)})

    def event(self, envelope: dict[str, Any]) -> Answer:
        return self.post(json.dumps(envelope, ensure_ascii=False).encode(), "application/json")
