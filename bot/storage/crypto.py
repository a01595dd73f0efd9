"""Encryption at rest of personal fields, and keyed hashes for looking them up.

With `ENCRYPTION_KEYS` set (Fernet keys, newest first), `EncryptedText` and `EncryptedJSON`
columns are written encrypted with the newest key and read with any of them (`MultiFernet`).
`EncryptedJSON` encrypts a whole JSON document (an audit record's values, an outbox message)
as one token. Values written before encryption was turned on, and JSON that SQL writes
itself (the outbox's `INSERT … SELECT`, ids and dates only), are read as they are;
`python -m bot rotate-keys` encrypts them and re-encrypts everything with the newest key.

Encrypted values cannot be searched, so emails and phones also get a keyed hash
(`lookup_hashes`): an HMAC of the normalised value under a key derived from each Fernet key,
so a lookup still works between adding a key and rotating to it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text, TypeDecorator

_PUBLIC_LOOKUP_KEY = b"touchbase-lookup"  # used only when nothing is encrypted anyway
_TOKEN_PREFIX = "gAAAAA"  # every Fernet token starts with its version byte 0x80


class KeyError_(ValueError):
    """ENCRYPTION_KEYS holds something that is not a Fernet key."""


class WrongKeysError(Exception):
    """None of the keys opens a value stored encrypted (names the column and the row)."""

    def __init__(self, column: str, row_id: int) -> None:
        super().__init__(f"{column} of row {row_id}")
        self.column, self.row_id = column, row_id


class Keyring:
    def __init__(self, keys: list[str]) -> None:
        try:
            self.fernets = [Fernet(k.strip().encode()) for k in keys]
        except (ValueError, TypeError) as exc:
            raise KeyError_("each key must be a Fernet key (Fernet.generate_key())") from exc
        self.multi = MultiFernet(self.fernets)
        self.lookup_keys = [
            hashlib.sha256(b"touchbase-lookup:" + base64.urlsafe_b64decode(k.strip())).digest() for k in keys
        ]

    def encrypt(self, value: str) -> str:
        return self.multi.encrypt(value.encode()).decode()

    def decrypt(self, value: str) -> str:
        return self.multi.decrypt(value.encode()).decode()

    def rotate(self, value: str) -> str:
        """The value encrypted with the newest key, whether it was plain or encrypted before."""
        if is_token(value):
            return self.multi.rotate(value.encode()).decode()
        return self.encrypt(value)


_keyring: Keyring | None = None


def configure(keys: str | None) -> Keyring | None:
    """Set the process's keys from the ENCRYPTION_KEYS setting (None: store plain)."""
    global _keyring
    _keyring = Keyring([k for k in keys.split(",") if k.strip()]) if keys and keys.strip() else None
    return _keyring


def keyring() -> Keyring | None:
    return _keyring


def is_token(value: str) -> bool:
    return value.startswith(_TOKEN_PREFIX)


def normalise(kind: str, value: str) -> str:
    if kind == "phone":
        return "".join(ch for ch in value if ch.isdigit())
    return value.strip().casefold()


def lookup_hashes(kind: str, value: str) -> list[str]:
    """The keyed hashes `value` may be stored under, newest key first."""
    keys = _keyring.lookup_keys if _keyring else [_PUBLIC_LOOKUP_KEY]
    message = f"{kind}:{normalise(kind, value)}".encode()
    return [hmac.new(key, message, hashlib.sha256).hexdigest() for key in keys]


def lookup_hash(kind: str, value: str | None) -> str | None:
    """The hash to store for a value (None for no value)."""
    if not value or not normalise(kind, value):
        return None
    return lookup_hashes(kind, value)[0]


class EncryptedText(TypeDecorator[str]):
    """Text stored encrypted when keys are configured; plain values still read as they are."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None or _keyring is None:
            return value
        return _keyring.encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None or not is_token(value):
            return value
        if _keyring is None:
            raise InvalidToken("this value is encrypted; set ENCRYPTION_KEYS to read it")
        return _keyring.decrypt(value)


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON document stored as text, encrypted as one token when keys are configured;
    plain JSON (written before encryption, or by SQL itself) still reads as it is."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        document = json.dumps(value)
        return _keyring.encrypt(document) if _keyring is not None else document

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        if value is None:
            return None
        if is_token(value):
            if _keyring is None:
                raise InvalidToken("this value is encrypted; set ENCRYPTION_KEYS to read it")
            value = _keyring.decrypt(value)
        return json.loads(value)


ENCRYPTED_TYPES = (EncryptedText, EncryptedJSON)
