"""The outside world of a run, as data: what the CLI passes, and what tests replace.

Light on purpose (no HTTP library imported here): every command builds one, and
``validate`` must start fast.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import httpx

    from reconciler.scim.budget import Budget
    from reconciler.scim.retry import RetryPolicy
    from reconciler.target import Target


class ProgressBar(Protocol):
    """What a run reports its progress to (reconciler.progress.Progress, or nothing)."""

    def update(self, what: str, done: int, total: int) -> None: ...

    def advance(self) -> None: ...


class _Silent:
    def update(self, what: str, done: int, total: int) -> None:
        pass

    def advance(self) -> None:
        pass


def _no_progress(description: str, total: int | None = None) -> AbstractContextManager[ProgressBar]:
    return nullcontext(_Silent())


@dataclass(frozen=True)
class Runtime:
    """The outside world of a run. The CLI passes the real one; tests pass their own."""

    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    # Wraps the transport to a target (fault injection); None: the real transport.
    transport: Callable[[httpx.BaseTransport], httpx.BaseTransport] | None = None
    retry: RetryPolicy | None = None
    progress: Callable[[str, int | None], AbstractContextManager[ProgressBar]] = _no_progress
    note: Callable[[str], None] = lambda text: None  # something a person should know
    timeout: float | None = None  # --timeout, in seconds: overrides target.timeout
    started: float = field(default_factory=time.monotonic)  # when the run began (monotonic)

    def budget(self, target: Target) -> Budget:
        """How long this run waits for ``target``: each request's deadline, and the run's
        budget (``--timeout``, else ``target.timeout``) from when it began."""
        from reconciler.scim.budget import Budget

        seconds = self.timeout if self.timeout is not None else target.timeout
        return Budget(run_seconds=seconds, started=self.started)

    # The directory was read whole: how many users and groups (for --metrics-file).
    read_counts: Callable[[int, int], None] = lambda users, groups: None
    # Keeps what a run built (its files, snapshot) until the process ends: a process
    # that ends without freeing them (the command line: ``cli.entry``) is spared seconds
    # of freeing a million users' objects one by one. None: freed as usual.
    hold: Callable[[object], None] | None = None
