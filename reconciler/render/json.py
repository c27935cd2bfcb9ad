"""The machine views: the plan JSON (which *is* the plan) and the apply report JSON.

Both are contracts for scripts and CI (docs/design.md "Plan JSON, format version 1").
The plan's form is ``Plan.to_dict`` (its ``access`` and ``holders`` included: the
planner's review, covered by the digest) plus one derived key, an addition within
format version 1: a change of a multi-valued attribute (``emails``, ``phoneNumbers``) also
lists its ``items``, what is added, removed and changed item by item. ``items``
follows from ``before`` and ``after``, which the digest covers, so the digest leaves
it out; reading a plan back (``parse_plan_json``) takes it off and refuses a file
whose ``items`` do not follow from its ``before`` and ``after``. ``plan --out`` and
``--format json`` write the same bytes. Both views use two-space indent, UTF-8 kept as
it is and one trailing newline.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.errors import ConfigError
from reconciler.itemdiff import ItemChange, item_changes
from reconciler.plan import AccessChange, Change, MemberChange, Plan
from reconciler.render.jsontext import Written, dumps_indented, string_map, strings, text
from reconciler.report import ApplyReport

ITEMS_KEY = "items"


def render_plan_json(plan: Plan) -> str:
    """The plan JSON, format version 1, byte-identical for equal plans."""
    data = plan.to_dict(access=False)
    data["access"] = Written(lambda level: access_text(plan.access, level))
    for action, written in zip(plan.actions, data["actions"], strict=True):
        for change, entry in zip(action.changes, written["changes"], strict=True):
            items = _items(change)
            if items is not None:
                entry[ITEMS_KEY] = items
    return _dumps(data)


def parse_plan_json(text: str, *, source: str = "plan") -> Plan:
    """Read a plan written by ``render_plan_json`` (or ``Plan.to_json``).

    Refuses, like ``Plan.from_json``, a file that was edited after it was written,
    including its derived ``items``.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return Plan.from_json(text, source=source)  # which says why it is no plan
    written = _take_items(data)
    plan = Plan.from_json(json.dumps(data), source=source)
    for (index, position), items in written.items():
        if items != _items(plan.actions[index].changes[position]):
            key = plan.actions[index].key
            raise ConfigError(
                f"{source}: the items of a change of {key} do not follow from its before "
                "and after; the file was edited or damaged"
            )
    return plan


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


def _items(change: Change | MemberChange) -> list[dict[str, Any]] | None:
    if not isinstance(change, Change):
        return None
    items = item_changes(change.path, change.before, change.after)
    return None if items is None else [_item(item) for item in items]


def _item(item: ItemChange) -> dict[str, Any]:
    """``{"op": "add", "after": {...}}``, ``"remove"`` with ``before``, ``"change"`` with both.

    A change also names the ``fields`` that differ, in reading order.
    """
    out: dict[str, Any] = {"op": item.op}
    if item.before is not None:
        out["before"] = dict(item.before)
    if item.after is not None:
        out["after"] = dict(item.after)
    if item.op == "change":
        out["fields"] = [field.name for field in item.fields]
    return out


def _take_items(data: Any) -> dict[tuple[int, int], Any]:
    """Remove every change's ``items`` from parsed plan JSON; what was there, by position."""
    taken: dict[tuple[int, int], Any] = {}
    actions = data.get("actions") if isinstance(data, dict) else None
    for index, action in enumerate(actions if isinstance(actions, list) else []):
        changes = action.get("changes") if isinstance(action, dict) else None
        for position, change in enumerate(changes if isinstance(changes, list) else []):
            if isinstance(change, dict) and ITEMS_KEY in change:
                taken[index, position] = change.pop(ITEMS_KEY)
    return taken
