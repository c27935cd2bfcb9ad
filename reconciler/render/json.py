"""The machine views: the plan JSON (which *is* the plan) and the apply report JSON.

Both are contracts for scripts and CI (docs/design.md "Plan JSON, format version 1").
The plan's form is ``Plan.to_dict`` (its ``access`` and ``holders`` included: the
planner's review, covered by the digest) plus one derived key, an addition within
format version 1: a change of a multi-valued attribute (``emails``, ``phoneNumbers``) also
lists its ``items``, what is added, removed and changed item by item
(``itemdiff.items_json``). ``items`` follows from ``before`` and ``after``, which the
digest covers, so the digest leaves it out. ``plan --out`` writes these same bytes
(``saved.saved_form``), and reading a saved plan back is ``saved.read_plan``'s, not a
view's. Both views use two-space indent, UTF-8 kept as it is and one trailing newline.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.itemdiff import items_json
from reconciler.plan import Change, Plan
from reconciler.report import ApplyReport

ITEMS_KEY = "items"


def render_plan_json(plan: Plan) -> str:
    """The plan JSON, format version 1, byte-identical for equal plans."""
    data = plan.to_dict()
    for action, written in zip(plan.actions, data["actions"], strict=True):
        for change, entry in zip(action.changes, written["changes"], strict=True):
            if isinstance(change, Change):
                items = items_json(change.path, change.before, change.after)
                if items is not None:
                    entry[ITEMS_KEY] = items
    return _dumps(data)


def render_report_json(report: ApplyReport) -> str:
    """The apply report JSON, format version 1."""
    return _dumps(report.to_dict())


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
