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

from collections.abc import Sequence
from typing import Any

from reconciler.itemdiff import items_json
from reconciler.plan import AccessChange, Change, Plan
from reconciler.render.jsontext import Written, dumps_indented, string_map, strings, text
from reconciler.report import ApplyReport

ITEMS_KEY = "items"


def render_plan_json(plan: Plan) -> str:
    """The plan JSON, format version 1, byte-identical for equal plans."""
    data = plan.to_dict(access=False)
    data["access"] = Written(lambda level: access_text(plan.access, level))
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
    """Two-space indent, UTF-8 as it is: ``json.dumps``'s text, written in one pass."""
    return dumps_indented(data) + "\n"


def access_text(changes: Sequence[AccessChange], level: int) -> str:
    """The access review's JSON text at nesting ``level``: ``access_json`` of each person,
    as ``dumps_indented`` writes the list of them, made straight from the objects (a plan
    may name 100,000 people; ``tests/render/test_jsontext.py`` holds the two equal)."""
    if not changes:
        return "[]"
    pad = "\n" + "  " * (level + 1)
    return (
        "["
        + pad
        + ("," + pad).join(_person(c, level + 1) for c in changes)
        + "\n"
        + "  " * level
        + "]"
    )


def _person(change: AccessChange, level: int) -> str:
    inner = level + 1
    pad = ",\n" + "  " * inner
    return (
        "{\n" + "  " * inner + '"key": ' + text(change.key)
        + pad + '"userName": ' + text(change.userName)
        + pad + '"gains": ' + strings(change.gains, inner)
        + pad + '"loses": ' + strings(change.loses, inner)
        + pad + '"via": ' + string_map(change.via, inner)
        + pad + '"status": ' + text(change.status)
        + pad + '"sensitive": ' + strings(change.sensitive, inner)
        + "\n" + "  " * level + "}"
    )  # fmt: skip
