"""Errors a user can fix; each carries a catalog key and its parameters, never English."""

from __future__ import annotations


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
