"""The one retry policy and the request rate limiter.

Whether an error is worth retrying is decided by its class (``retryable`` in
``reconciler.errors``); this module only decides *when*: exponential backoff with
full jitter, or the server's own ``Retry-After`` when it gave one.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from reconciler.errors import ReconcilerError, ScimHTTPError


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed request is tried again."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=lambda: random.Random())  # noqa: S311 - jitter

    def delay(self, error: ReconcilerError, attempt: int) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up."""
        if not error.retryable or attempt >= self.attempts:
            return None
        if isinstance(error, ScimHTTPError) and error.retry_after is not None:
            return min(error.retry_after, self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return self.rng.uniform(0, ceiling)


class RateLimiter:
    """At most ``rate`` requests per second across all threads (a token bucket of one)."""

    def __init__(self, rate: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.clock = clock
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = self.clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)
