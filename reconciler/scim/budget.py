"""How long and how much the directory is listened to: a request's deadline, a run's
budget, and the size an answer may have.

httpx's timeouts bound each socket operation (connecting, one read), not a request: a
server that answers 200 and then sends a byte every two seconds kept ``plan`` on its
first request for as long as it liked. So every request has a wall-clock deadline,
checked between the chunks of its answer (``ScimClient``), and no socket wait is
allowed to outlast it:

- **each request**, whole, at most ``REQUEST_SECONDS`` (60 s); a request that misses
  it is not tried again, so such a server ends a run within that bound;
- **a run's requests together** at most ``--timeout`` (``target.timeout``), counted
  from the run's start, when one is given: the request deadline is cut to what is left
  of it, and a retry whose wait would pass it is not made;
- **an answer** at most ``MAX_RESPONSE_BYTES`` (64 MiB; ``RECONCILER_MAX_RESPONSE_BYTES``
  for the process), read no further beyond it: a page of a thousand users is a few
  MiB, and an answer that does not end must not take the runner's memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from reconciler.errors import ConfigError

REQUEST_SECONDS = 60.0
MIB = 1024 * 1024
MAX_RESPONSE_BYTES = 64 * MIB
RESPONSE_BYTES_VARIABLE = "RECONCILER_MAX_RESPONSE_BYTES"


def format_duration(seconds: float) -> str:
    """``90s``, ``10m``, ``1h30m``, ``2.5s``: as ``--timeout`` takes it."""
    if seconds < 60 or seconds != int(seconds):
        return f"{seconds:g}s"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, "h"), (minutes, "m"), (secs, "s")]
    return "".join(f"{n}{unit}" for n, unit in parts if n)


@dataclass(frozen=True, slots=True)
class Deadline:
    """When one request must have its whole answer (monotonic time), and which limit set it."""

    at: float
    limit: str  # for messages: "the request deadline of 60s"
    clock: Callable[[], float] = time.monotonic

    def left(self) -> float:
        return self.at - self.clock()

    @property
    def passed(self) -> bool:
        return self.left() <= 0


@dataclass(frozen=True, slots=True)
class Budget:
    """How long a run waits for the directory (module docstring)."""

    request_seconds: float = REQUEST_SECONDS
    run_seconds: float | None = None  # None: a run may take as long as it needs
    started: float = field(default_factory=time.monotonic)  # when the run began
    clock: Callable[[], float] = time.monotonic

    @property
    def run_limit(self) -> str:
        assert self.run_seconds is not None, "only a run with a budget names it"
        return f"the run's budget of {format_duration(self.run_seconds)} (--timeout)"

    def deadline(self) -> Deadline:
        """The deadline of a request sent now: its own, or the run's end if sooner."""
        now = self.clock()
        at, limit = (
            now + self.request_seconds,
            (f"the request deadline of {format_duration(self.request_seconds)}"),
        )
        if self.run_seconds is not None and self.started + self.run_seconds < at:
            at, limit = self.started + self.run_seconds, self.run_limit
        return Deadline(at, limit, self.clock)

    def allows_wait(self, seconds: float) -> bool:
        """Whether a wait of ``seconds`` (before a retry) ends inside the run's budget."""
        if self.run_seconds is None:
            return True
        return self.clock() + seconds < self.started + self.run_seconds


def max_response_bytes(env: Mapping[str, str]) -> int:
    """``MAX_RESPONSE_BYTES``, or ``RECONCILER_MAX_RESPONSE_BYTES`` when set."""
    text = env.get(RESPONSE_BYTES_VARIABLE, "").strip()
    if not text:
        return MAX_RESPONSE_BYTES
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"{RESPONSE_BYTES_VARIABLE} must be a whole number above 0")
    return int(text)


def describe_bytes(size: int) -> str:
    """``64 MiB``, or bytes when not whole MiB."""
    return f"{size // MIB} MiB" if size % MIB == 0 else f"{size:,} bytes"
