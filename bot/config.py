"""Settings read from the environment or a `.env` file (see CONTRACT.md).

A missing or malformed setting stops start-up with one line naming it: `load_settings`
raises `SettingsError`, and `bot.__main__` prints its message and exits.
"""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

AUTO_SHARE = "auto"  # SENDER_SHARE: a share among the senders running (bot.scheduler.roster)


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str = "sqlite:///touchbase.db"
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    # Both set (and no bot token): many workspaces, each installed through OAuth (bot.oauth).
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    port: int = Field(default=3000, ge=1, le=65535)
    scheduler_enabled: bool = True
    tz_default: str = "UTC"
    encryption_keys: str | None = None
    # How long a claimed notification stays with the worker that claimed it (bot.scheduler).
    scheduler_lease_seconds: int = Field(default=300, ge=2)
    # `k/n`: this process's sender sends for the k-th of n shares of the workspaces alone (a
    # worker per share, each workspace's budget kept by one of them); `auto`: for its share among
    # the senders running with `auto` (bot.scheduler.roster); none: for every workspace.
    sender_share: str | None = None
    # How long an uninstalled workspace's data is kept before the purge job deletes it.
    uninstalled_retention_days: int = Field(default=30, ge=0, le=3650)
    log_format: Literal["text", "json"] = "text"
    # Processes serving Slack: gunicorn's workers over HTTP, connections in Socket Mode.
    web_concurrency: int = Field(default=2, ge=1)
    # Threads of each process serving Slack (a gunicorn worker; a Socket Mode connection's). They
    # share its interpreter lock: beyond a few, more answer no more requests a second but stretch
    # the slowest answers (docs/PERFORMANCE.md, section 58). A thread also waits out each call to
    # Slack its request makes (a modal opened).
    gunicorn_threads: int = Field(default=4, ge=1)

    @field_validator("database_url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        try:
            make_url(value)
        except ArgumentError as exc:
            raise ValueError("not a database URL, e.g. sqlite:///touchbase.db") from exc
        return value

    @field_validator("tz_default")
    @classmethod
    def _valid_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("not a time zone name, e.g. Asia/Shanghai") from exc
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _valid_bot_token(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xoxb-"):
            raise ValueError("must start with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _valid_app_token(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xapp-"):
            raise ValueError("must start with xapp-")
        return value

    @field_validator("slack_client_id")
    @classmethod
    def _valid_client_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d+\.\d+", value.strip()):
            raise ValueError("not a Slack client id, e.g. 1234567890.1234567890")
        return value.strip() if value is not None else None

    @field_validator("slack_client_secret")
    @classmethod
    def _valid_client_secret(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[0-9A-Za-z]{8,128}", value.strip()):
            raise ValueError("not a Slack client secret (letters and digits, from Basic Information)")
        return value.strip() if value is not None else None

    @field_validator("encryption_keys")
    @classmethod
    def _valid_keys(cls, value: str | None) -> str | None:
        from bot.storage.crypto import KeyError_, Keyring

        if value is not None and value.strip():
            try:
                Keyring([k for k in value.split(",") if k.strip()])
            except KeyError_ as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("sender_share")
    @classmethod
    def _valid_share(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if value.strip().lower() == AUTO_SHARE:
            return AUTO_SHARE
        found = re.fullmatch(r"\s*([0-9]{1,4})\s*/\s*([0-9]{1,4})\s*", value)
        # n is at most the slots the workspaces are dealt out in (bot.scheduler.shares.SLOTS).
        if not found or not 1 <= int(found[1]) <= int(found[2]) <= 1024:
            raise ValueError("expected k/n, a share k of n shares with 1 ≤ k ≤ n ≤ 1024, e.g. 1/2, or auto")
        return f"{int(found[1])}/{int(found[2])}"

    @property
    def share(self) -> tuple[int, int] | None:
        """SENDER_SHARE as (k, n); None: every workspace (as is 1/1, the sender's rule), or `auto`
        (the share is then found as the sender runs)."""
        if self.sender_share is None or self.sender_share == AUTO_SHARE:
            return None
        k, n = self.sender_share.split("/")
        return int(k), int(n)

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def multi_workspace(self) -> bool:
        """Installed through OAuth in any number of workspaces, each with its own token.
        A bot token, when set, wins: one workspace, as before."""
        return self.slack_bot_token is None and bool(self.slack_client_id and self.slack_client_secret)

    def require(self, *names: str) -> None:
        """Stop with a clear line when a setting this command needs is absent."""
        for name in names:
            if not getattr(self, name):
                raise SettingsError(f"setting {name.upper()} is missing; see README, Configuration")

    def require_slack(self) -> None:
        """A way to reach Slack: the bot token of one workspace, or the OAuth client of many."""
        if not self.multi_workspace:
            self.require("slack_bot_token")


def load_settings(**overrides: object) -> Settings:
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "?"
        raise SettingsError(f"setting {name} is malformed: {first['msg']}") from None
    # The OAuth client is a pair: one without the other is a mistake, not single-workspace mode.
    if bool(settings.slack_client_id) != bool(settings.slack_client_secret):
        settings.require("slack_client_id", "slack_client_secret")
    return settings
