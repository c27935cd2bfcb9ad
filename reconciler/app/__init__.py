"""The application layer: plan, apply and export as functions, for the CLI and programs.

Each run is the data flow of docs/design.md: resolve the target (one place for its
precedence), check the files against the target's dialect, connect, read, plan, and
apply or show. What a run needs from the outside world comes in a ``Runtime`` (the
environment, the transport to a target, the retry policy, progress bars), so tests
inject faults by passing their own, and the CLI only parses, renders and asks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.app.apply import ApplyHooks, ApplyRequest, run_apply
    from reconciler.app.checking import Validated, run_validate
    from reconciler.app.loading import load_files
    from reconciler.app.runtime import ProgressBar, Runtime
    from reconciler.app.session import (
        Planned,
        Session,
        opened,
        read_live,
        run_export,
        run_plan,
    )

# Imported on first use: each command imports what it needs.
_FROM = {
    "ApplyHooks": "apply", "ApplyRequest": "apply", "run_apply": "apply",
    "load_files": "loading", "Planned": "session", "ProgressBar": "runtime",
    "Runtime": "runtime", "Session": "session", "opened": "session",
    "read_live": "session", "run_export": "session", "run_plan": "session",
    "Validated": "checking", "run_validate": "checking",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _FROM.get(name)
    if module is None:
        raise AttributeError(f"module 'reconciler.app' has no attribute {name!r}")
    return getattr(importlib.import_module(f"reconciler.app.{module}"), name)


__all__ = [
    "ApplyHooks",
    "ApplyRequest",
    "Planned",
    "ProgressBar",
    "Runtime",
    "Session",
    "Validated",
    "load_files",
    "opened",
    "read_live",
    "run_apply",
    "run_export",
    "run_plan",
    "run_validate",
]
