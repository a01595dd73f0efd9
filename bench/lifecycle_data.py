"""Benchmark data for value and lifecycle: each customer's yearly value, its stage and the
history that led there (some lost with a reason and their value, some won back, a few
prospects and customers at risk), and follow-ups on touches that have a next step.

It draws from a random stream of its own, so the customers, touches and complaints that
`bench.generate` makes stay exactly what they were without it. Every history row lies before
the anchor day's noon, so what the benchmarks write afterwards is told apart by its id.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from bot.services.lifecycle import REASONS

PROSPECT, LOST, WON_BACK, AT_RISK, NEW = 0.04, 0.06, 0.01, 0.05, 0.10  # shares of customers; the rest active
REASON_WEIGHTS = (30, 20, 15, 20, 8, 4, 3)  # in the order of REASONS
FOLLOW_UP_SHARE = 0.35  # of the touches with a next step
VALUED_SHARE = 0.7  # customers with a value


class Lifecycle:
    """Fills the lifecycle columns of customer rows as they are generated and keeps the
    stage history and follow-up rows to write after them."""

    def __init__(self, seed: int, team_id: str, anchor: dt.date) -> None:
        self.rng = random.Random(f"{seed}:{team_id}:lifecycle")
        self.team_id = team_id
        self.noon = dt.datetime.combine(anchor, dt.time(12), tzinfo=dt.UTC)
        self.changes: list[tuple[int, str | None, str, dt.datetime, str | None, int | None, str | None]] = []
        self.promises: list[tuple[int, int, str, dt.date, dt.date | None, dt.datetime]] = []
        self.lost: set[int] = set()

    def _between(self, start: dt.datetime, end: dt.datetime) -> dt.datetime:
        span = max((end - start).total_seconds(), 60.0)
        return start + dt.timedelta(seconds=self.rng.uniform(0, span))

    def customer(self, row: dict[str, Any]) -> dict[str, Any]:
        """Give a generated customer row its value and stage, and keep its history."""
        r, cid, owner, created = self.rng, row["id"], row["owner_id"], row["created_at"]
        value = int(round(r.lognormvariate(11.5, 1.3), -2)) if r.random() < VALUED_SHARE else None
        last = self.noon - dt.timedelta(hours=1)

        def move(before: str | None, after: str, at: dt.datetime, reason: str | None = None) -> dt.datetime:
            self.changes.append((cid, before, after, at, owner, value if after == "lost" else None, reason))
            return at

        u = r.random()
        if u < PROSPECT:
            stage, since = "prospect", move(None, "prospect", created)
        else:
            move(None, "new", created)
            if u < PROSPECT + NEW:
                stage, since = "new", created
            else:
                active = move("new", "active", self._between(created, min(last, created + dt.timedelta(days=60))))
                stage, since = "active", active
                if u < PROSPECT + NEW + LOST + WON_BACK:
                    reason = r.choices(REASONS, weights=REASON_WEIGHTS)[0]
                    since = move("active", "lost", self._between(active, last), reason)
                    stage = "lost"
                    if u >= PROSPECT + NEW + LOST:
                        stage, since = "active", move("lost", "active", self._between(since, last))
                elif u < PROSPECT + NEW + LOST + WON_BACK + AT_RISK:
                    stage, since = "at_risk", move("active", "at_risk", self._between(active, last))
        row.update(value=value, stage=stage, stage_since=since)
        if stage == "lost":
            row.update(next_revisit=None, revisits_enabled=False)
            self.lost.add(cid)
        return row

    def touch(self, row: dict[str, Any]) -> dict[str, Any]:
        """A generated touch row; one with a next step may have become a follow-up."""
        if row["next_step"] and self.rng.random() < FOLLOW_UP_SHARE:
            r, at = self.rng, row["happened_at"]
            due = at.date() + dt.timedelta(days=r.randint(1, 14))
            done = None
            if r.random() < (0.85 if due < self.noon.date() - dt.timedelta(days=2) else 0.3):
                done = due + dt.timedelta(days=r.randint(-3, 4))  # mostly on time, some late
                done = min(max(done, at.date()), self.noon.date())
            self.promises.append((row["customer_id"], row["id"], row["author_id"], due, done, at))
        return row

    def change_rows(self, first_id: int) -> Iterator[dict[str, Any]]:
        for n, (cid, before, after, at, owner, value, reason) in enumerate(self.changes):
            yield {"id": first_id + n, "team_id": self.team_id, "customer_id": cid, "from_stage": before,
                   "to_stage": after, "at": at, "actor_id": None if after in ("active", "at_risk") else owner,
                   "owner_id": owner, "value": value, "reason": reason, "note": None}  # fmt: skip

    def follow_up_rows(self, first_id: int) -> Iterator[dict[str, Any]]:
        for n, (cid, touch_id, assignee, due, done, at) in enumerate(self.promises):
            done_at = dt.datetime.combine(done, dt.time(15), tzinfo=dt.UTC) if done else None
            yield {"id": first_id + n, "team_id": self.team_id, "customer_id": cid, "touch_id": touch_id,
                   "assignee_id": assignee, "due_on": due, "done_at": done_at, "done_on": done,
                   "done_by": assignee if done else None, "created_at": at, "customer_lost": cid in self.lost}  # fmt: skip
