"""The sender's pace (bot.scheduler.pacing): how long each message waits so that a workspace
keeps within Slack's budgets, on a clock the test moves."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from bot.clock import wall
from bot.scheduler.outbox import Sender
from bot.scheduler.pacing import SLOWEST, GroupCommit, Lanes, Pacer
from tests.helpers import until


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_workspace_posts_its_burst_at_once_then_at_its_budget(clock):
    pacer = Pacer(per_minute=60, burst=3, clock=clock)  # one a second, three at once
    waits = [pacer.reserve("T1", f"C{n}") for n in range(5)]
    assert waits == [0, 0, 0, 1, 2]
    assert pacer.reserve("T2", "C0") == 0  # another workspace has its own budget


def test_a_channel_gets_about_one_message_a_second_with_short_bursts(clock):
    pacer = Pacer(per_minute=6000, clock=clock)  # the workspace's budget is not what binds here
    assert [pacer.reserve("T1", "C1") for _ in range(5)] == [0, 0, 0, 1, 2]
    clock.now += 10  # a quiet channel has its burst back
    assert [pacer.reserve("T1", "C1") for _ in range(3)] == [0, 0, 0]


def test_a_429_pauses_the_workspace_for_its_retry_after_and_slows_it_until_messages_go_through(clock):
    pacer = Pacer(per_minute=60, burst=1, clock=clock)
    assert pacer.reserve("T1", "C0") == 0
    pacer.refused("T1", "C0", 5)
    assert pacer.paused_until("T1") == clock.now + 5
    assert pacer.reserve("T1", "C1") == 5  # nothing before Retry-After
    clock.now += 5
    assert pacer.reserve("T1", "C2") == pytest.approx(1.25)  # spaced a quarter wider
    for _ in range(40):
        pacer.accepted("T1")
    assert pacer.workspaces["T1"].interval == pytest.approx(1.0)  # back to the budget, never faster
    for _ in range(100):
        pacer.refused("T1", "C0", 0)
    assert pacer.workspaces["T1"].interval == pytest.approx(1 / SLOWEST)  # however many 429s, not below this


def test_lanes_keep_a_channels_messages_in_order_and_run_every_task():
    done: list[tuple[str, int]] = []
    lanes = Lanes(4)
    for n in range(50):
        lanes.submit(f"C{n % 3}", lambda n=n: done.append((f"C{n % 3}", n)))
    lanes.close()
    assert sorted(done) == sorted((f"C{n % 3}", n) for n in range(50))
    for channel in ("C0", "C1", "C2"):
        assert [n for c, n in done if c == channel] == sorted(n for c, n in done if c == channel)


def test_items_given_while_a_write_runs_are_written_next_in_one_call_each_getting_its_own_result():
    first_in, release, calls = threading.Event(), threading.Event(), []

    def write(items: list[int]) -> list[int]:
        calls.append(list(items))
        if items == [0]:
            first_in.set()
            release.wait(5)
        if 13 in items:
            raise ValueError("the database said no")
        return [n * 10 for n in items]

    group = GroupCommit(write)
    results: dict[int, object] = {}

    def give(n: int) -> None:
        try:
            results[n] = group(n)
        except ValueError as exc:
            results[n] = exc

    threads = [threading.Thread(target=give, args=(0,))]
    threads[0].start()
    assert first_in.wait(5)
    threads += [threading.Thread(target=give, args=(n,)) for n in (1, 2, 3)]
    for thread in threads[1:]:
        thread.start()
    until(lambda: len(group._waiting) == 3)  # noqa: SLF001 - all three wait behind the first write
    release.set()
    for thread in threads:
        thread.join(5)
    assert [sorted(call) for call in calls] == [[0], [1, 2, 3]] and results == {0: 0, 1: 10, 2: 20, 3: 30}

    failing = threading.Thread(target=give, args=(13,))
    failing.start()
    failing.join(5)
    assert isinstance(results[13], ValueError) and group(4) == 40  # a failed write does not stop the next


def test_an_idle_lane_takes_any_channel_not_already_being_sent_to():
    """A channel's slow message holds up that channel only: the other lane sends every other
    channel's meanwhile, and the slow channel's next message still waits its turn."""
    release, done = threading.Event(), []
    lanes = Lanes(2, room=20)
    lanes.submit("C0", lambda: (release.wait(5), done.append("C0 first")))
    lanes.submit("C0", lambda: done.append("C0 second"))
    others = [threading.Event() for _ in range(8)]
    for n, sent in enumerate(others):
        lanes.submit(f"C{n + 1}", sent.set)
    assert all(sent.wait(2) for sent in others) and done == []  # while C0's first is still out
    release.set()
    lanes.close()
    assert done == ["C0 first", "C0 second"]


def test_a_lane_that_wakes_long_after_its_turn_takes_a_new_one_instead_of_going_with_the_others(clock):
    pacer = Pacer(per_minute=60, burst=1, clock=clock)  # one a second, none at once
    stalls = [5.0]

    def sleep(seconds: float) -> None:  # the first sleep overruns: the process stalled 5 s
        clock.now += seconds + (stalls.pop() if stalls else 0.0)

    sender = Sender(None, lambda team_id: None, wall=wall, sleep=sleep, clock=clock, pacer=pacer)  # type: ignore[arg-type]
    assert pacer.reserve("T1", "C0") == 0  # the workspace's turn now is taken: the next is in 1 s
    departures = []
    for channel in ("C1", "C2"):
        sender._pace(SimpleNamespace(team_id="T1", channel=channel, kind="digest"), started=clock.now, budget=60)  # type: ignore[arg-type]
        departures.append(clock.now)
    # C1's turn was 101; it woke at 106 and took a new turn (106), so C2 waits for 107 rather
    # than going at 106 with it, on the stale turn 102.
    assert departures == [106.0, 107.0]
    # A sleep that overruns by less than an interval is not a stall, even without a burst.
    assert not pacer.late(clock.now - 0.5) and pacer.late(clock.now - 1.5)


def test_a_turn_beyond_what_the_sender_will_wait_is_not_taken(clock):
    """A message whose turn is further off than the sender's budget goes back to the outbox; its
    turn stays free, so the messages after it are not pushed back by one that never went."""
    pacer = Pacer(per_minute=60, burst=1, clock=clock)
    assert [pacer.reserve("T1", f"C{n}") for n in range(3)] == [0, 1, 2]
    assert pacer.reserve("T1", "C3", within=1.0) == 3  # too far: not taken
    assert pacer.reserve("T1", "C4", within=5.0) == 3  # so the next message has that turn
    sender = Sender(None, lambda team_id: None, wall=wall, clock=clock, pacer=pacer)  # type: ignore[arg-type]
    with pytest.raises(Exception, match="ratelimited"):
        sender._pace(SimpleNamespace(team_id="T1", channel="C5", kind="digest"), started=clock.now, budget=2)  # type: ignore[arg-type]
    assert pacer.reserve("T1", "C6") == 4


def test_lanes_say_what_each_channel_holds_and_a_wait_for_room_ends_when_a_task_is_done():
    release = threading.Event()
    lanes = Lanes(2, room=4)
    lanes.submit("T:C0", release.wait)
    lanes.submit("T:C0", lambda: None)
    lanes.submit("T:C1", release.wait)
    assert lanes.backlog() == {"T:C0": 2, "T:C1": 1}  # waiting or running
    assert lanes.wait_for_room(2, timeout=0.05) == 1  # none done: the room as it is when the wait ends
    threading.Thread(target=lambda: (time.sleep(0.1), release.set())).start()  # (no timed wait: faketime)
    assert lanes.wait_for_room(2, timeout=10) >= 2  # the first ones done (how soon is not asserted)
    lanes.close()
    assert lanes.backlog() == {} and lanes.room_left() == 4
