"""Which workspaces a sender sends for, when several share them out (SENDER_SHARE).

A workspace falls in one of `SLOTS` slots (its bucket, a hash of its team id, modulo `SLOTS`:
`workspace_bucket` in SQL), and a share is the slots of one sender. Its claims ask for the rows
of its workspaces by a map of the slots, a byte each (bot.scheduler.outbox: `Share.of`): one
value bound, whatever the share, and a byte read a row.

- Fixed shares (`k/n`) cut the slots into n runs, even to within a slot. They change only when
  every worker is given a new n.
- With `auto` (bot.scheduler.roster) the senders running change while they run, so each slot
  goes to the sender that scores highest for it, a score being a hash of the slot and the
  sender's id (rendezvous hashing). When a sender joins or leaves, only the slots it wins or won
  change sender, about 1/n of the workspaces, where dealing them out again would move most of
  them; a workspace's budget (bot.scheduler.pacing) stays with the sender that was keeping it.
  With 1,024 slots the largest share is typically 3–7 % over an even one for two to four
  senders, and 13 % for eight (docs/PERFORMANCE.md, section 78).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Boolean, ColumnElement, LargeBinary, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from bot.storage.db import bucket_of, workspace_bucket

SLOTS = 1024


@dataclass(frozen=True)
class Share:
    """Share k of n: the slots whose workspaces one sender sends for."""

    k: int
    n: int
    slots: frozenset[int] = field(repr=False)

    @classmethod
    def fixed(cls, k: int, n: int) -> Share:
        """SENDER_SHARE `k/n`."""
        return cls(k, n, frozenset(s for s in range(SLOTS) if s * n // SLOTS == k - 1))

    @classmethod
    def among(cls, me: str, senders: Sequence[str]) -> Share:
        """The share of sender `me` among `senders` (ids, in order: k is its place)."""
        won = frozenset(s for s in range(SLOTS) if max(senders, key=functools.partial(_score, s)) == me)
        return cls(senders.index(me) + 1, len(senders), won)

    def of(self, team_id: ColumnElement[str]) -> ColumnElement[bool]:
        """In SQL, whether this share sends for the workspace `team_id`: its slot's byte in the
        share's map. (A list of the slots, bound or written in, costs PostgreSQL 0.3–2 ms more a
        statement; a character of a text, a walk along the text to it in each row.)"""
        return _flagged(bindparam(None, self._map, type_=LargeBinary()), workspace_bucket(team_id) % SLOTS)

    def has(self, team_id: str) -> bool:
        """Whether this share sends for the workspace."""
        return bucket_of(team_id) % SLOTS in self.slots

    @functools.cached_property
    def _map(self) -> bytes:
        """A byte for each slot, in slot order: 1 for the share's, 0 for the others."""
        return bytes(s in self.slots for s in range(SLOTS))


EVERYTHING = Share(1, 1, frozenset(range(SLOTS)))


class _flagged(FunctionElement[bool]):  # a SQL expression, built as a function's
    """Whether byte `index` (from 0) of `flags` is set (not 0). Asked as "not 0" rather than
    "= 1": PostgreSQL guesses `=` true for 0.5 % of rows for an expression it has no statistics
    for, and then read and sorted every row due rather than read the claim's index until its
    batch was found (docs/PERFORMANCE.md, section 79)."""

    type = Boolean()
    name = "touchbase_flagged"
    inherit_cache = True


@compiles(_flagged)
def _flagged_sqlite(element: _flagged, compiler: SQLCompiler, **kw: Any) -> str:
    flags, index = (compiler.process(c, **kw) for c in element.clauses)
    return f"(substr({flags}, {index} + 1, 1) <> x'00')"


@compiles(_flagged, "postgresql")
def _flagged_postgresql(element: _flagged, compiler: SQLCompiler, **kw: Any) -> str:
    flags, index = (compiler.process(c, **kw) for c in element.clauses)
    return f"(get_byte({flags}, {index}) <> 0)"


def _score(slot: int, sender: str) -> bytes:
    return hashlib.blake2b(f"{slot}/{sender}".encode(), digest_size=8).digest()
