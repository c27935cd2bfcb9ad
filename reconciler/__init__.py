"""reconciler: make a SCIM 2.0 directory look like the files in a git repository.

The data flow, one direction (docs/design.md "Data flow")::

    files ──load_desired──► DesiredState ─┐
    target ─read_snapshot─► LiveSnapshot ─┼──plan (pure)──► Plan ──render──► text | md | json
    policy ───────────────────────────────┘                  └──Executor──► ApplyReport
"""

from __future__ import annotations

from reconciler.desired import DesiredState, GroupSpec, Policy, UserSpec
from reconciler.errors import ReconcilerError
from reconciler.executor import Executor, RecordingWriter, ScimWriter
from reconciler.files import load_desired
from reconciler.live import LiveGroup, LiveSnapshot, LiveUser
from reconciler.plan import Action, ActionKind, Plan, Resource
from reconciler.planner import PlanContext, plan
from reconciler.report import ApplyReport, Outcome
from reconciler.scim import ScimClient
from reconciler.snapshot import read_snapshot
from reconciler.version import __version__

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
    "plan",
    "read_snapshot",
]
