"""Settings read from the environment or a `.env` file (see CONTRACT.md).

A missing or malformed setting stops start-up with one line naming it: `load_settings`
raises `SettingsError`, and `bot.__main__` prints its message and exits.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str = "sqlite:///touchbase.db"
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    port: int = Field(default=3000, ge=1, le=65535)
    scheduler_enabled: bool = True
    tz_default: str = "UTC"
    encryption_keys: str | None = None
    # How long a claimed notification stays with the worker that claimed it (bot.scheduler).
    scheduler_lease_seconds: int = Field(default=300, ge=2)

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

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def require(self, *names: str) -> None:
        """Stop with a clear line when a setting this command needs is absent."""
        for name in names:
            if not getattr(self, name):
                raise SettingsError(f"setting {name.upper()} is missing; see README, Configuration")


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "?"
        raise SettingsError(f"setting {name} is malformed: {first['msg']}") from None
