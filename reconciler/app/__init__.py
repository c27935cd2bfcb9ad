"""The application layer: plan, apply and export as functions, for the CLI and programs.

Each run is the data flow of docs/design.md: resolve the target (one place for its
precedence), check the files against the target's dialect, connect, read, plan, and
apply or show. What a run needs from the outside world comes in a ``Runtime`` (the
environment, the transport to a target, the retry policy, progress bars), so tests
inject faults by passing their own, and the CLI only parses, renders and asks.
"""

from reconciler.app.apply import ApplyHooks, ApplyRequest, run_apply
from reconciler.app.session import (
    Planned,
    ProgressBar,
    Runtime,
    Session,
    load_files,
    opened,
    plan_in,
    read_live,
    run_export,
    run_plan,
)

__all__ = [
    "ApplyHooks",
    "ApplyRequest",
    "Planned",
    "ProgressBar",
    "Runtime",
    "Session",
    "load_files",
    "opened",
    "plan_in",
    "read_live",
    "run_apply",
    "run_export",
    "run_plan",
]
