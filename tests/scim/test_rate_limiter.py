"""The request rate limiter: never above its rate in any window, and a late thread's slot kept.

The schedule is checked on the start times ``wait`` hands out, with a fake clock that a
sleep moves on (deterministic), and with real threads (what the start times must hold
whatever the threads' timing; nothing here asserts how long anything took).
"""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.scim.retry import RateLimiter


class FakeTime:
    """A clock that only a caller's delay or the limiter's sleep moves on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limiter(rate: float, catch_up: float, time: FakeTime) -> RateLimiter:
    return RateLimiter(rate, time.clock, catch_up=catch_up, sleep=time.sleep)


def assert_never_above_the_rate(starts: list[float], limit: RateLimiter) -> None:
    """No ``per_window + 1`` starts within ``window`` seconds (at 100/s: 101 in a second)."""
    ordered = sorted(starts)
    for first, last in zip(ordered, ordered[limit.per_window :], strict=False):
        assert last >= first + limit.window, (first, last)


def test_a_late_caller_keeps_the_slots_it_missed() -> None:
    """Slots missed by coming late are given at once, then the schedule goes on as before."""
    time = FakeTime()
    limit = limiter(10.0, 0.3, time)
    assert limit.wait() == 1000.0
    time.now += 0.35  # the slots at +0.1, +0.2 and +0.3 had no one waiting
    starts = [limit.wait() for _ in range(5)]
    assert starts == pytest.approx([1000.35, 1000.35, 1000.35, 1000.4, 1000.5])


def test_catching_up_is_bounded() -> None:
    """After a long pause, only ``catch_up`` seconds of slots are given at once."""
    time = FakeTime()
    limit = limiter(10.0, 0.3, time)
    limit.wait()
    time.now += 60.0
    starts = [limit.wait() for _ in range(6)]
    assert starts[:4] == [1060.0] * 4
    assert starts[4:] == pytest.approx([1060.1, 1060.2])


def test_no_catch_up_spaces_every_request() -> None:
    """With ``catch_up=0`` a late caller's slot is lost: one request every 1/rate."""
    time = FakeTime()
    limit = limiter(4.0, 0.0, time)
    limit.wait()
    time.now += 1.0
    assert [limit.wait() for _ in range(3)] == pytest.approx([1001.0, 1001.25, 1001.5])


@given(
    rate=st.floats(0.1, 500.0),
    catch_up=st.floats(0.0, 3.0),
    delays=st.lists(st.floats(0.0, 0.5) | st.just(0.0), min_size=1, max_size=300),
)
def test_never_above_the_rate_whatever_the_callers_timing(
    rate: float, catch_up: float, delays: list[float]
) -> None:
    """However late or bunched the callers, no window holds more than the rate allows."""
    time = FakeTime()
    limit = limiter(rate, catch_up, time)
    starts = []
    for delay in delays:
        time.now += delay
        called = time.now
        start = limit.wait()
        assert start >= called
        assert time.now == pytest.approx(start)  # slept until its start, not longer
        starts.append(start)
    # The window is a second or more, and holds no more than the rate allows in it.
    assert limit.window >= 1.0
    assert limit.per_window <= rate * limit.window + 1e-9
    assert_never_above_the_rate(starts, limit)


def test_never_above_the_rate_under_threads() -> None:
    """Eight threads asking at once get a schedule that never exceeds the rate (800
    requests: the windows checked hold 500 each, so many are full)."""
    limit = RateLimiter(500.0)
    starts: list[float] = []
    lock = threading.Lock()

    def ask() -> None:
        for _ in range(100):
            start = limit.wait()
            with lock:
                starts.append(start)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(starts) == 800
    assert len(starts) > limit.per_window  # else there is no full window to check
    assert_never_above_the_rate(starts, limit)
