"""The machine views: the plan JSON (which *is* the plan) and the apply report JSON.

Both are contracts for scripts and CI (DESIGN.md "Plan JSON"); the plan's form is
owned by ``Plan.to_json`` so that a saved plan and ``--format json`` can never drift
apart, and the report follows the same conventions: two-space indent, UTF-8 kept as
it is, one trailing newline.
"""

from __future__ import annotations

import json

from reconciler.plan import Plan
from reconciler.report import ApplyReport


def render_plan_json(plan: Plan) -> str:
    """The plan JSON, format version 1, byte-identical for equal plans."""
    return plan.to_json()


def render_report_json(report: ApplyReport) -> str:
    """The apply report JSON, format version 1."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
