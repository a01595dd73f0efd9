"""Which workspaces a sender sends for, when several share them out (SENDER_SHARE).

A workspace falls in one of `SLOTS` slots (its bucket, a hash of its team id, modulo `SLOTS`:
`slot_of`, or `workspace_bucket` in SQL), and a share is the slots of one sender. A claim names
them (bot.scheduler.outbox).

- Fixed shares (`k/n`) deal the slots out in turn: slot s is share s mod n + 1's, so the shares
  are even to within a slot. They change only when every worker is given a new n.
- With `auto` (bot.scheduler.roster) the senders running change while they run, so each slot
  goes to the sender that scores highest for it, a score being a hash of the slot and the
  sender's id (rendezvous hashing). When a sender joins or leaves, only the slots it wins or won
  change sender, about 1/n of the workspaces, where dealing them out again would move most of
  them; a workspace's budget (bot.scheduler.pacing) stays with the sender that was keeping it.
  With 1,024 slots the shares are even to within a few per cent.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from bot.storage.db import bucket_of

SLOTS = 1024


@dataclass(frozen=True)
class Share:
    """Share k of n: the slots whose workspaces one sender sends for."""

    k: int
    n: int
    slots: tuple[int, ...]

    @classmethod
    def fixed(cls, k: int, n: int) -> Share:
        """SENDER_SHARE `k/n`."""
        return cls(k, n, tuple(range(k - 1, SLOTS, n)))

    @classmethod
    def among(cls, me: str, senders: Sequence[str]) -> Share:
        """The share of sender `me` among `senders` (ids, in order: k is its place)."""
        won = tuple(s for s in range(SLOTS) if max(senders, key=functools.partial(_score, s)) == me)
        return cls(senders.index(me) + 1, len(senders), won)

    def has(self, team_id: str) -> bool:
        """Whether this share sends for the workspace."""
        return bucket_of(team_id) % SLOTS in self._slots

    @functools.cached_property
    def _slots(self) -> frozenset[int]:
        return frozenset(self.slots)


EVERYTHING = Share(1, 1, tuple(range(SLOTS)))


def _score(slot: int, sender: str) -> bytes:
    return hashlib.blake2b(f"{slot}/{sender}".encode(), digest_size=8).digest()
