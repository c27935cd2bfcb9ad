"""The one retry policy and the rate limiter: when to try again, and how soon.

The waits Atlassian asks for are sent through ``httpx.MockTransport``; the policy's own
loop and the limiter are checked with scripted calls and a fake clock.
"""

from __future__ import annotations

import email.utils
import io
import random
import re
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import structlog
from structlog.testing import capture_logs

from reconciler.errors import ConflictError, RateLimitedError, RetryAfterTooLongError, ServerError
from reconciler.logs import configure_logging
from reconciler.progress import Progress
from reconciler.scim.client import ScimClient
from reconciler.scim.retry import MAX_RETRY_AFTER, GaveUp, RateLimiter, RetryPolicy, Returned

EMPTY = {"totalResults": 0, "Resources": []}


def answers(*responses: httpx.Response) -> Iterator[httpx.Response]:
    yield from responses


def client_answering(
    first: httpx.Response, sleeps: list[float], requests: list[httpx.Request]
) -> ScimClient:
    """A client whose server answers ``first``, then an empty listing."""
    scripted = answers(first, httpx.Response(200, json=EMPTY))

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return next(scripted)

    return ScimClient(
        "https://scim.example.test/v2",
        token="t0ken",
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(sleep=sleeps.append),
    )


def too_many(**headers: str) -> httpx.Response:
    return httpx.Response(429, headers=headers, json={"detail": "Rate limit exceeded"})


def test_retry_after_above_30_seconds_is_waited_in_full_and_shown() -> None:
    """A 429 with Retry-After 45 waits 45 s (no longer capped at 30), logged with the seconds."""
    sleeps: list[float] = []
    requests: list[httpx.Request] = []
    with (
        capture_logs() as events,
        client_answering(too_many(**{"Retry-After": "45"}), sleeps, requests) as client,
    ):
        assert client.list_all("Users", page_size=100) == []
    assert sleeps == [45.0]
    (wait,) = [e for e in events if e["event"] == "scim.retry_after"]
    assert (wait["log_level"], wait["wait_s"], wait["status"]) == ("warning", 45.0, 429)
    assert "until" in wait


def test_retry_after_above_the_cap_fails_the_request_clearly() -> None:
    """A wait longer than MAX_RETRY_AFTER is not waited: the request fails at once, saying
    how long the server asked for and what the cap is."""
    sleeps: list[float] = []
    requests: list[httpx.Request] = []
    asked = int(MAX_RETRY_AFTER) + 1
    with (
        client_answering(too_many(**{"Retry-After": str(asked)}), sleeps, requests) as client,
        pytest.raises(RetryAfterTooLongError) as caught,
    ):
        client.list_all("Users", page_size=100)
    assert sleeps == []
    assert len(requests) == 1
    message = str(caught.value)
    assert f"wait {asked} s" in message
    assert f"the {MAX_RETRY_AFTER:.0f} s reconciler waits" in message
    assert caught.value.status == 429
    assert not caught.value.retryable


def test_retry_after_at_the_cap_is_still_waited() -> None:
    """Exactly MAX_RETRY_AFTER seconds is within the cap and is waited."""
    sleeps: list[float] = []
    with client_answering(
        too_many(**{"Retry-After": str(int(MAX_RETRY_AFTER))}), sleeps, []
    ) as client:
        client.list_all("Users", page_size=100)
    assert sleeps == [MAX_RETRY_AFTER]


@pytest.mark.parametrize(
    ("reset", "low", "high"),
    [
        pytest.param(lambda now: "20", 20.0, 20.0, id="seconds-from-now"),
        pytest.param(lambda now: str(int(now) + 40), 38.0, 40.0, id="epoch-seconds"),
        pytest.param(
            lambda now: email.utils.formatdate(now + 50, usegmt=True), 48.0, 50.0, id="http-date"
        ),
        pytest.param(
            lambda now: time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(now + 120)),
            58.0,
            120.0,
            id="atlassian-iso-8601",
        ),
    ],
)
def test_x_ratelimit_reset_without_retry_after_sets_the_wait(
    reset: Callable[[float], str], low: float, high: float
) -> None:
    """X-RateLimit-Reset alone sets the wait: seconds, an epoch time, an HTTP date, or ISO 8601
    to the minute as Atlassian documents it."""
    sleeps: list[float] = []
    with client_answering(
        too_many(**{"X-RateLimit-Reset": reset(time.time())}), sleeps, []
    ) as client:
        client.list_all("Users", page_size=100)
    (slept,) = sleeps
    assert low <= slept <= high


def test_a_503_with_retry_after_waits_as_asked() -> None:
    """Retry-After on a 503 (docs/atlassian.md: safe to retry) is honoured as on 429."""
    sleeps: list[float] = []
    busy = httpx.Response(503, headers={"Retry-After": "60"}, json={"detail": "busy"})
    with capture_logs() as events, client_answering(busy, sleeps, []) as client:
        client.list_all("Users", page_size=100)
    assert sleeps == [60.0]
    assert [e["status"] for e in events if e["event"] == "scim.retry_after"] == [503]


def test_a_wait_without_a_server_time_is_backoff_capped_at_max_delay() -> None:
    """Without Retry-After or a reset header, the backoff never waits beyond max_delay."""
    policy = RetryPolicy(attempts=20, base_delay=10.0, max_delay=30.0)
    delays = [policy.delay(ServerError("x", status=503), n) for n in range(1, 20)]
    assert all(d is not None and 0 <= d <= 30.0 for d in delays)


def test_a_policy_cap_can_be_chosen() -> None:
    """max_retry_after is the policy's: a lower cap refuses what the default would wait."""
    policy = RetryPolicy(max_retry_after=10.0)
    assert policy.delay(RateLimitedError("x", status=429, retry_after=10.0), 1) == 10.0
    with pytest.raises(RetryAfterTooLongError, match="longer than the 10 s"):
        policy.delay(RateLimitedError("x", status=429, retry_after=11.0), 1)


@pytest.fixture
def console_logs() -> Iterator[None]:
    """structlog configured as the CLI does for a terminal, and put back afterwards."""
    saved = structlog.get_config()
    configure_logging("console", 0, color=False)
    yield
    structlog.configure(**saved)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.usefixtures("console_logs")
def test_the_wait_is_shown_above_a_progress_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    """During a read with a progress bar, the wait's log line prints on its own line above it."""
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    sleeps: list[float] = []
    with (
        Progress("Reading the directory") as bar,
        client_answering(too_many(**{"Retry-After": "45"}), sleeps, []) as client,
    ):
        client.list_all("Users", page_size=100, progress=bar.update)
    ansi = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
    screen = [ansi.sub("", line).rsplit("\r", 1)[-1] for line in terminal.getvalue().split("\n")]
    (line,) = [line for line in screen if "scim.retry_after" in line]
    assert "wait_s=45" in line
    assert "Reading the directory" not in line


class Calls:
    """A call that fails with the given errors in turn, then returns ``"done"``."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def quick(attempts: int = 5) -> tuple[RetryPolicy, list[float]]:
    sleeps: list[float] = []
    return RetryPolicy(attempts=attempts, sleep=sleeps.append, rng=random.Random(7)), sleeps


def test_a_retryable_error_is_tried_again_until_the_call_succeeds() -> None:
    """A 5xx is retried with a backoff wait before each new attempt."""
    policy, sleeps = quick()
    call = Calls(ServerError("x", status=503), ServerError("x", status=500))
    assert policy.run(call) == "done"
    assert call.count == 3
    assert len(sleeps) == 2


def test_a_terminal_error_is_raised_at_once() -> None:
    """A 409 is decided by its class as terminal: one attempt, no wait."""
    policy, sleeps = quick()
    call = Calls(ConflictError("taken", status=409))
    with pytest.raises(ConflictError):
        policy.run(call)
    assert (call.count, sleeps) == (1, [])


def test_the_last_error_is_raised_after_the_last_attempt() -> None:
    """``attempts`` caps the tries; the error of the last one is what the caller sees."""
    policy, sleeps = quick(attempts=3)
    call = Calls(*(ServerError(f"try {n}", status=503) for n in range(1, 5)))
    with pytest.raises(ServerError, match="try 3"):
        policy.run(call)
    assert (call.count, len(sleeps)) == (3, 2)


def test_before_retry_can_end_the_loop_with_what_it_found() -> None:
    """A lookup before the next attempt that finds the result ends the retries with it."""
    policy, _ = quick()
    call = Calls(ServerError("x", status=503))
    assert policy.run(call, before_retry=lambda error: "found") == "found"
    assert call.count == 1


def test_tried_returns_the_value_with_the_attempts_it_took() -> None:
    """``tried`` hands back what ``run`` returns and how many times the call was made."""
    policy, _ = quick()
    call = Calls(ServerError("x", status=503), ServerError("x", status=500))
    assert policy.tried(call) == Returned("done", 3)


def test_tried_returns_the_error_it_gave_up_on_with_the_attempts() -> None:
    """A failure comes back, not raised: the last attempt's error and the attempts made."""
    policy, _ = quick(attempts=2)
    tried = policy.tried(Calls(*(ServerError(f"try {n}", status=503) for n in (1, 2, 3))))
    assert isinstance(tried, GaveUp)
    assert (str(tried.error), tried.attempts) == ("try 2", 2)
    terminal = policy.tried(Calls(ConflictError("taken", status=409)))
    assert isinstance(terminal, GaveUp)
    assert (type(terminal.error), terminal.attempts) == (ConflictError, 1)


def test_each_backoff_wait_is_logged_with_its_attempt() -> None:
    """A wait the server did not name is a ``scim.retry`` warning: attempt, delay, error."""
    policy, sleeps = quick()
    with capture_logs() as events:
        policy.run(Calls(ServerError("busy", status=503)))
    (event,) = [e for e in events if e["event"] == "scim.retry"]
    assert (event["log_level"], event["attempt"]) == ("warning", 1)
    assert event["delay_s"] == round(sleeps[0], 2)
    assert "busy" in event["error"]


def test_the_rate_limiter_spaces_requests_evenly() -> None:
    """At ``rate`` requests per second, each request starts 1/rate after the one before."""
    now = [100.0]
    limiter = RateLimiter(4.0, clock=lambda: now[0])
    slept: list[float] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "sleep", slept.append)
        for _ in range(3):
            limiter.wait()
    assert slept == [0.25, 0.5]


def test_no_rate_means_no_waiting() -> None:
    """Without a rate the limiter never sleeps."""
    limiter = RateLimiter(None, clock=lambda: 0.0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "sleep", lambda s: pytest.fail("slept"))
        limiter.wait()
