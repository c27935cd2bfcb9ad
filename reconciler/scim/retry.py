"""The one retry policy and the request rate limiter.

Whether an error is worth retrying is decided by its class (``retryable`` in
``reconciler.errors``); this module only decides *when*: exponential backoff with
full jitter, or the server's own wait (``Retry-After``, or a rate-limit reset
header) when it gave one. A server's wait is honoured up to ``MAX_RETRY_AFTER``
and logged as ``scim.retry_after`` with its seconds; a longer one fails the request
(``RetryAfterTooLongError``) rather than leave a run silent for as long as asked. A
wait that would end past the run's budget (``scim.budget``) is not waited: the request
fails then, with ``DeadlineExceededError``.
"""

from __future__ import annotations

import datetime
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import structlog

from reconciler.errors import (
    DeadlineExceededError,
    ReconcilerError,
    RetryAfterTooLongError,
    ScimHTTPError,
)
from reconciler.scim.budget import Budget

T = TypeVar("T")

# The longest server-asked wait that is honoured: 5 minutes. Atlassian's rate limits
# reset within a minute or so; a longer wait is better spent by a person deciding to
# run again later than by a run that looks stuck.
MAX_RETRY_AFTER = 300.0

# How far behind its schedule the rate limiter lets a read fall and still catch up: a
# tenth of a second of slots (10 at 100/s), given at once to the threads that come late.
CATCH_UP = 0.1

log = structlog.get_logger("reconciler.scim")


@dataclass(frozen=True, slots=True)
class Returned(Generic[T]):
    """A call under the policy that returned ``value`` (or that ``before_retry`` ended)."""

    value: T
    attempts: int  # times the call was made, retries included


@dataclass(frozen=True, slots=True)
class GaveUp:
    """A call under the policy that failed for good, with the error it ended on."""

    error: ReconcilerError
    attempts: int  # times the call was made, retries included


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed request is tried again."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0  # the backoff's cap, when the server names no wait
    max_retry_after: float = MAX_RETRY_AFTER  # the cap on a wait the server names
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=lambda: random.Random())  # noqa: S311 - jitter

    def delay(self, error: ReconcilerError, attempt: int) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up.

        Raises ``RetryAfterTooLongError`` when the server asks for a wait above
        ``max_retry_after``.
        """
        if not error.retryable or attempt >= self.attempts:
            return None
        if isinstance(error, ScimHTTPError) and error.retry_after is not None:
            if error.retry_after > self.max_retry_after:
                raise RetryAfterTooLongError(
                    f"{error}; the server asks to wait {error.retry_after:.0f} s before trying "
                    f"again, longer than the {self.max_retry_after:.0f} s reconciler waits, so "
                    "the request was not sent again: run again later",
                    status=error.status,
                    scim_type=error.scim_type,
                    detail=error.detail,
                    trace_id=error.trace_id,
                    retry_after=error.retry_after,
                ) from error
            return error.retry_after
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return self.rng.uniform(0, ceiling)

    def run(
        self,
        call: Callable[[], T],
        *,
        before_retry: Callable[[ReconcilerError], T | None] | None = None,
        budget: Budget | None = None,
        host: str = "",
    ) -> T:
        """Run ``call`` under this policy: its value, or the error it gave up on, raised.

        ``before_retry`` runs before each new attempt and may end the loop with a
        result (a create whose first attempt did land is found, not made twice). No
        wait goes past the run's ``budget`` (to ``host``, for the message).
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except ReconcilerError as error:
                delay = self.delay(error, attempt)
                if delay is None:
                    raise
                if budget is not None and not budget.allows_wait(delay):
                    raise DeadlineExceededError(
                        f"{error}; not tried again: a wait of {delay:.1f} s would pass "
                        f"{budget.run_limit}",
                        host=host,
                        limit=budget.run_limit,
                    ) from error
                _log_wait(error, attempt, delay)
                self.sleep(delay)
                if before_retry is not None:
                    found = before_retry(error)
                    if found is not None:
                        return found

    def tried(
        self,
        call: Callable[[], T],
        *,
        before_retry: Callable[[ReconcilerError], T | None] | None = None,
        budget: Budget | None = None,
        host: str = "",
    ) -> Returned[T] | GaveUp:
        """``run``, with how it ended and after how many attempts, rather than raised."""
        made = 0

        def counted() -> T:
            nonlocal made
            made += 1
            return call()

        try:
            value = self.run(counted, before_retry=before_retry, budget=budget, host=host)
        except ReconcilerError as error:
            return GaveUp(error, made)
        return Returned(value, made)


def _log_wait(error: ReconcilerError, attempt: int, delay: float) -> None:
    """One warning per wait; a wait the server asked for says how long and until when."""
    if isinstance(error, ScimHTTPError) and error.retry_after is not None:
        until = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=delay)
        log.warning(
            "scim.retry_after",
            attempt=attempt,
            wait_s=round(delay, 1),
            until=until.isoformat(timespec="seconds"),
            status=error.status,
            error=str(error),
        )
    else:
        log.warning("scim.retry", attempt=attempt, delay_s=round(delay, 2), error=str(error))


class RateLimiter:
    """At most ``rate`` requests per second across all threads, a late thread's slot kept.

    Requests are scheduled ``1/rate`` apart. A thread that comes for its slot late (its
    worker was busy, or waited for the GIL while files load beside the read) does not
    lose it: up to ``catch_up`` seconds of missed slots are still given, at once, so a
    read keeps its rate through short stalls instead of falling behind for good. Never
    more than ``per_window`` requests start in any ``window`` seconds (``rate`` of them in
    any one second; one in every ``1/rate`` seconds below one a second), as a strict
    server (Atlassian, the sandbox's ``--rate-limit``) counts them. The limit is on the
    start times ``wait`` hands out; no start is before its call.
    """

    def __init__(
        self,
        rate: float | None,
        clock: Callable[[], float] = time.monotonic,
        *,
        catch_up: float = CATCH_UP,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.rate = rate
        self.interval = 1.0 / rate if rate else 0.0
        self.per_window = max(1, math.floor(rate)) if rate else 0
        self.window = max(1.0, self.per_window / rate) if rate else 0.0
        self.credit = max(0, math.floor(catch_up * rate + 1e-9)) * self.interval if rate else 0.0
        self.clock = clock
        self._sleep = sleep
        self._next: float | None = None  # the next slot on the schedule
        self._started: deque[float] = deque(maxlen=self.per_window or 1)
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Sleep until this request may start; the start it was given (0 without a rate)."""
        if not self.interval:
            return 0.0
        with self._lock:
            now = self.clock()
            slot = now if self._next is None else max(self._next, now - self.credit)
            start = max(now, slot)
            if len(self._started) == self.per_window:
                start = max(start, self._started[0] + self.window)
            self._next = slot + self.interval
            self._started.append(start)
        if start > now:
            (self._sleep or time.sleep)(start - now)
        return start
