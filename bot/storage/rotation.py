"""`python -m bot rotate-keys`: every encrypted value re-encrypted with the newest key.

A batch job over the tables (here, not in crypto, which the models use: keeping it apart keeps
storage free of import cycles). It runs in the caller's transaction, so a key that does not
open the data leaves nothing half-rotated.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import InvalidToken
from sqlalchemy import Text, select, type_coerce, update

from bot.storage.crypto import (
    ENCRYPTED_TYPES,
    KeyError_,
    WrongKeysError,
    keyring,
    lookup_hash,
)
from bot.storage.models import write_search_rows
from bot.storage.search import search_doc


def rotate_all(connection: Any, tables: list[Any], batch: int = 500) -> int:
    """Re-encrypt every encrypted column's value with the newest key (plain ones get
    encrypted) and recompute the lookup hashes and the search text (which then leaves out
    the e-mail and phone); returns how many rows were rewritten. Raises `WrongKeysError`
    on the first value none of the keys opens (the caller's transaction then undoes all)."""
    keys = keyring()
    if keys is None:
        raise KeyError_("set ENCRYPTION_KEYS first")
    rewritten = 0
    for table in tables:
        columns = [c for c in table.columns if isinstance(c.type, ENCRYPTED_TYPES)]
        if not columns:
            continue
        raw = [type_coerce(c, Text).label(c.name) for c in columns]
        if table.name == "customer":
            raw += [table.c.name, table.c.company, table.c.contact_name, table.c.tags, table.c.team_id,
                    table.c.name_key, table.c.search_key]
        last_id = 0
        while True:
            rows = connection.execute(
                select(table.c.id, *raw).where(table.c.id > last_id).order_by(table.c.id).limit(batch)
            ).all()
            if not rows:
                break
            for row in rows:
                values = {c.name: _rotate(f"{table.name}.{c.name}", row.id, getattr(row, c.name))
                          for c in columns if getattr(row, c.name)}  # fmt: skip
                if table.name == "customer":
                    plain = {c.name: keys.decrypt(v) for c in columns if (v := values.get(c.name))}
                    values["email_hash"] = lookup_hash("email", plain.get("email"))
                    values["phone_hash"] = lookup_hash("phone", plain.get("phone"))
                    values["search_doc"] = search_doc(name=row.name, company=row.company,
                                                      contact_name=row.contact_name, email=None, phone=None,
                                                      tags=row.tags)  # fmt: skip
                if values:
                    connection.execute(
                        update(table).where(table.c.id == row.id).values(
                            {k: type_coerce(v, Text) if k in {c.name for c in columns} else v for k, v in values.items()}
                        )
                    )
                    if table.name == "customer":  # the e-mail and phone leave the search text and its lines
                        write_search_rows(connection, customer_id=row.id, team_id=row.team_id, name_key=row.name_key,
                                          search_doc=values["search_doc"], search_key=row.search_key)  # fmt: skip
                    rewritten += 1
            last_id = rows[-1].id
    return rewritten


def _rotate(column: str, row_id: int, value: str) -> str:
    keys = keyring()
    assert keys is not None
    try:
        return keys.rotate(value)
    except InvalidToken:
        raise WrongKeysError(column, row_id) from None
