"""reconciler: make a SCIM 2.0 directory look like the files in a git repository.

The data flow, one direction (docs/design.md "Data flow")::

    files ──load_desired──► DesiredState ─┐
    target ─read_snapshot─► LiveSnapshot ─┼──plan (pure)──► Plan ──render──► text | md | json
    policy ───────────────────────────────┘                  └──Executor──► ApplyReport
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from reconciler.version import __version__

if TYPE_CHECKING:
    from reconciler.desired import DesiredState, GroupSpec, Policy, UserSpec
    from reconciler.errors import ReconcilerError
    from reconciler.executor import Executor, RecordingWriter, ScimWriter
    from reconciler.files import load_desired
    from reconciler.live import LiveGroup, LiveSnapshot, LiveUser
    from reconciler.plan import Action, ActionKind, Plan, Resource
    from reconciler.planner import PlanContext
    from reconciler.report import ApplyReport, Outcome
    from reconciler.scim import ScimClient
    from reconciler.snapshot import read_snapshot

# The public names and the modules they come from, imported on first use: a command
# line that only asks for --version must not pay for httpx and pydantic. The planner's
# ``plan`` function is reconciler.planner.plan: ``reconciler.plan`` is the module of
# the Plan type.
_FROM = {
    "DesiredState": "desired", "GroupSpec": "desired", "Policy": "desired",
    "UserSpec": "desired", "ReconcilerError": "errors", "Executor": "executor",
    "RecordingWriter": "executor", "ScimWriter": "executor", "load_desired": "files",
    "LiveGroup": "live", "LiveSnapshot": "live", "LiveUser": "live", "Action": "plan",
    "ActionKind": "plan", "Plan": "plan", "Resource": "plan", "PlanContext": "planner",
    "ApplyReport": "report", "Outcome": "report", "ScimClient": "scim",
    "read_snapshot": "snapshot",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _FROM.get(name)
    if module is None:
        raise AttributeError(f"module 'reconciler' has no attribute {name!r}")
    return getattr(importlib.import_module(f"reconciler.{module}"), name)


__all__ = [
    "Action",
    "ActionKind",
    "ApplyReport",
    "DesiredState",
    "Executor",
    "GroupSpec",
    "LiveGroup",
    "LiveSnapshot",
    "LiveUser",
    "Outcome",
    "Plan",
    "PlanContext",
    "Policy",
    "ReconcilerError",
    "RecordingWriter",
    "Resource",
    "ScimClient",
    "ScimWriter",
    "UserSpec",
    "__version__",
    "load_desired",
    "read_snapshot",
]
