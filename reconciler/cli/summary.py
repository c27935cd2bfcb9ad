"""The ``summary`` event a scheduled job is judged by: the last line of a run's logs.

A command records what it did (``summary_event``); ``global_options`` emits the event
when the run ends (``emit_summary``), after everything else the run said, with the
exit code the process exits with. So a step after the command's own end that fails
(the ``--metrics-file`` write) is in the summary's ``exit_code``, and no summary ever
says 0 or 2 of a run that exits 1. A command that could not finish (bad files, no
answer) still gets one, with ``counts`` ``{"problems": N}`` for bad files, else ``{}``.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any

from reconciler.errors import DesiredStateError

# The commands whose JSON logs end with a ``summary`` event, also when they fail.
SUMMARIZED = frozenset({"validate", "plan", "apply", "export", "links"})
_recorded: ContextVar[dict[str, Any] | None] = ContextVar("summary", default=None)


def summary_event(command: str, counts: dict[str, int], **fields: str) -> None:
    """Record this run's summary: what it did (``counts``), to what (``fields``:
    ``target``, ``digest``, an approval). Emitted by ``emit_summary`` at the run's end."""
    _recorded.set({"command": command, "counts": counts, **fields})


def start_summary() -> None:
    """Forget any summary recorded by an earlier run in this process (tests run many)."""
    _recorded.set(None)


def emit_summary(
    command: str, started: float, code: int, error: BaseException | None = None
) -> None:
    """The summary event of a run of ``command`` that ends with exit ``code``."""
    if command not in SUMMARIZED:
        return
    recorded = _recorded.get()
    if recorded is None:  # the command could not finish
        problems = len(error.problems) if isinstance(error, DesiredStateError) else None
        recorded = {
            "command": command,
            "counts": {} if problems is None else {"problems": problems},
        }
    _recorded.set(None)
    import structlog

    structlog.get_logger("reconciler.cli").info(
        "summary",
        **recorded,
        duration_ms=round((time.monotonic() - started) * 1000, 1),
        exit_code=code,
    )
