"""Errors a user can fix; each carries a catalog key and its parameters, never English."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator


class UserError(Exception):
    """The request cannot be done as asked; the user is told why (an ephemeral reply)."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class FieldErrors(Exception):
    """Inline modal errors: field name -> (catalog key, params)."""

    def __init__(self, errors: dict[str, tuple[str, dict[str, object]]]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors

    @classmethod
    def one(cls, field: str, key: str, **params: object) -> FieldErrors:
        return cls({field: (key, params)})


def field_errors(errors: list[Any], *, skip: int = 0) -> FieldErrors:
    """Pydantic's validation errors as inline errors: the field is the first part of each
    error's location after `skip` parts, the message key the error's type when it is one of
    ours (`PydanticCustomError(key, key)`), else "error.generic"."""
    found: dict[str, tuple[str, dict[str, object]]] = {}
    for err in errors:
        key = err["type"] if err["type"].startswith("error.") else "error.generic"
        found.setdefault(str(err["loc"][skip]), (key, dict(err.get("ctx") or {})))
    return FieldErrors(found)


class FormModel(BaseModel):
    """A modal's input: blanks read as absent, and validation errors become inline
    `FieldErrors` whose messages are catalog keys (raise `PydanticCustomError(key, key)`)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def parse(cls, data: dict[str, object]) -> Self:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise field_errors(exc.errors()) from None
