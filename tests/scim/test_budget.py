"""How long and how much the directory is listened to (reconciler.scim.budget)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.errors import (
    ConfigError,
    DeadlineExceededError,
    ResponseTooLargeError,
    ServerError,
    TransportError,
)
from reconciler.scim.budget import (
    MAX_RESPONSE_BYTES,
    REQUEST_SECONDS,
    Budget,
    format_duration,
    max_response_bytes,
)
from reconciler.scim.client import ScimClient
from reconciler.scim.retry import RetryPolicy
from reconciler.scim.writes import WriteRequest


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_by_default_a_stalled_request_ends_within_90_seconds() -> None:
    """The default request deadline is at most 90 s, and missing it is not retried, so a
    trickling server ends a run within that bound (issue 17 item 4)."""
    clock = Clock()
    deadline = Budget(clock=clock).deadline()
    assert deadline.at - clock.now == REQUEST_SECONDS <= 90
    late = DeadlineExceededError("late", host="h", limit=deadline.limit)
    assert RetryPolicy().delay(late, 1) is None
    client = ScimClient("https://scim.example.test/v2")
    assert client.budget.request_seconds <= 90
    assert client.timeout <= 90  # no single socket wait outlasts it either
    client.close()


def test_the_run_budget_cuts_the_request_deadline_short() -> None:
    """A request sent near the end of the run's budget must end with it, and says so."""
    clock = Clock()
    budget = Budget(run_seconds=100, started=clock.now, clock=clock)
    assert budget.deadline().at == clock.now + REQUEST_SECONDS
    clock.now += 70
    deadline = budget.deadline()
    assert deadline.at == clock.now + 30
    assert deadline.limit == "the run's budget of 1m40s (--timeout)"


def test_a_retry_whose_wait_would_pass_the_budget_is_not_made() -> None:
    """A 503 asking for 30 s with 10 s of budget left fails now, naming the budget; the
    wait is not slept."""
    clock = Clock()
    budget = Budget(run_seconds=10, started=clock.now, clock=clock)
    sleeps: list[float] = []
    busy = ServerError("GET Users: 503", status=503, retry_after=30)

    def call() -> None:
        raise busy

    with pytest.raises(DeadlineExceededError, match="run's budget of 10s") as caught:
        RetryPolicy(sleep=sleeps.append).run(call, budget=budget, host="scim.example.test")
    assert sleeps == []
    assert caught.value.__cause__ is busy
    assert caught.value.host == "scim.example.test"


def test_retries_inside_the_budget_go_on() -> None:
    """A wait that ends inside the budget is waited as before."""
    clock = Clock()
    budget = Budget(run_seconds=600, started=clock.now, clock=clock)
    sleeps: list[float] = []
    calls = iter([TransportError("reset"), None])

    def call() -> str:
        error = next(calls)
        if error is not None:
            raise error
        return "ok"

    assert RetryPolicy(sleep=sleeps.append).run(call, budget=budget) == "ok"
    assert len(sleeps) == 1


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(90, "1m30s"), (3, "3s"), (2.5, "2.5s"), (600, "10m"), (5400, "1h30m"), (3600, "1h")],
)
def test_durations_read_as_written(seconds: float, text: str) -> None:
    """Durations in messages take the form --timeout takes."""
    assert format_duration(seconds) == text


def test_the_response_cap_is_64_mib_unless_the_process_says_otherwise() -> None:
    """RECONCILER_MAX_RESPONSE_BYTES replaces the cap; a bad value is a config error."""
    assert max_response_bytes({}) == MAX_RESPONSE_BYTES == 64 * 1024 * 1024
    assert max_response_bytes({"RECONCILER_MAX_RESPONSE_BYTES": "1024"}) == 1024
    with pytest.raises(ConfigError, match="RECONCILER_MAX_RESPONSE_BYTES"):
        max_response_bytes({"RECONCILER_MAX_RESPONSE_BYTES": "0"})


class Trickle(httpx.SyncByteStream):
    """A body that never ends: one byte a chunk, each two seconds later on ``clock``."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.chunks = 0

    def __iter__(self) -> Iterator[bytes]:
        while self.chunks < 10_000:  # a bound for a broken client, far past any deadline
            self.chunks += 1
            self.clock.now += 2
            yield b" "


def trickling_client(clock: Clock, body: Trickle, **kwargs: Any) -> ScimClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/scim+json"}, stream=body)

    return ScimClient(
        "https://scim.example.test/v2",
        transport=httpx.MockTransport(answer),
        budget=Budget(clock=clock),
        retry=RetryPolicy(sleep=lambda seconds: None),
        **kwargs,
    )


def test_a_trickled_answer_ends_at_the_request_deadline() -> None:
    """An answer that keeps coming a byte at a time is given up at the deadline, which the
    error names with the host; it is not asked for again."""
    clock = Clock()
    start = clock.now
    body = Trickle(clock)
    with trickling_client(clock, body) as client, pytest.raises(DeadlineExceededError) as caught:
        client.service_provider_config()
    assert REQUEST_SECONDS <= clock.now - start <= REQUEST_SECONDS + 2
    assert body.chunks == REQUEST_SECONDS / 2  # once: not retried
    assert "GET ServiceProviderConfig: no whole answer from scim.example.test" in str(caught.value)
    assert "the request deadline of 1m" in str(caught.value)


def test_a_late_write_may_have_been_done_and_is_not_sent_again() -> None:
    """A write whose answer misses the deadline is a failed action that says it may have
    happened, after one attempt."""
    clock = Clock()
    with trickling_client(clock, Trickle(clock)) as client:
        result = client.write(WriteRequest.patch("Users", "u1", {"Operations": []}))
    assert isinstance(result.error, DeadlineExceededError)
    assert "may or may not have been done" in str(result.error)
    assert result.attempts == 1


def test_an_answer_past_the_size_cap_is_not_read_further() -> None:
    """The body is read no further than the cap, and the request is not retried."""
    clock = Clock()
    body = Trickle(clock)
    client = trickling_client(clock, body, max_response_bytes=10)
    with client, pytest.raises(ResponseTooLargeError, match="larger than the 10 bytes"):
        client.service_provider_config()
    assert body.chunks == 11


def test_an_answer_announced_past_the_size_cap_is_refused_unread() -> None:
    """A Content-Length above the cap fails before a byte of the body is read."""
    read: list[bytes] = []

    class Watched(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            read.append(b"{}")
            yield b"{}"

    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"content-length": str(65 * 1024 * 1024)}
        return httpx.Response(200, headers=headers, stream=Watched())

    client = ScimClient("https://scim.example.test/v2", transport=httpx.MockTransport(answer))
    with client, pytest.raises(ResponseTooLargeError, match=r"64 MiB .*announces 68,157,440"):
        client.service_provider_config()
    assert read == []
