"""Tests for reconciler.render.json: the plan JSON and the apply report JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reconciler.plan import Action, ActionKind, Change, Plan, Resource
from reconciler.render import render_plan_json, render_report_json
from reconciler.report import ApplyReport
from reconciler.saved import read_plan


def without_items(data: Any) -> Any:
    """Parsed plan JSON less what the view derives: the ``items`` of changes."""
    for action in data["actions"]:
        for change in action["changes"]:
            change.pop("items", None)
    return data


def test_plan_json_is_the_plan_to_json_plus_items(plan: Plan, identity: Plan) -> None:
    """The JSON view is ``Plan.to_json`` with only the derived ``items`` added."""
    for each in (plan, identity):
        assert without_items(json.loads(render_plan_json(each))) == json.loads(each.to_json())


def test_plan_json_without_multi_valued_changes_is_exactly_to_json() -> None:
    """A plan with no emails or phone number changes is exactly ``to_json``."""
    plan = Plan(
        target="https://scim.example.com/v2",
        dialect="generic",
        actions=(
            Action(
                resource=Resource.USER,
                action=ActionKind.UPDATE,
                key="a@example.com",
                changes=(Change(path="title", before="A", after="B"),),
            ),
        ),
    )
    assert render_plan_json(plan) == plan.to_json()


def test_plan_json_is_byte_identical_across_renders(plan: Plan, identity: Plan) -> None:
    """Rendering the same plan twice, or an equal plan read back as saved, gives the
    same bytes."""
    for each in (plan, identity):
        first = render_plan_json(each).encode()
        assert render_plan_json(each).encode() == first
        again = read_plan(first.decode())
        assert again == each
        assert render_plan_json(again).encode() == first


def test_identity_plan_json_matches_golden(
    identity: Plan, golden: Callable[[str, str], None]
) -> None:
    """Adoptions, a rename and item-level changes are written as recorded."""
    golden("identity_plan.json", render_plan_json(identity))


def test_multi_valued_changes_list_their_items(identity: Plan) -> None:
    """An emails or phoneNumbers change lists each item added, removed or changed."""
    data = json.loads(render_plan_json(identity))
    erin = next(a for a in data["actions"] if a["key"] == "erin@example.com")
    phones = erin["changes"][1]
    assert phones["path"] == "phoneNumbers"
    assert phones["items"] == [
        {
            "op": "change",
            "before": {"value": "+1 555 0100", "type": "work", "primary": True},
            "after": {"value": "+1 555 0100", "type": "mobile", "primary": True},
            "fields": ["type"],
        },
        {"op": "add", "after": {"value": "+1 555 0199", "type": "work", "primary": False}},
    ]
    bob = next(a for a in data["actions"] if a["key"] == "bob@example.com")
    assert [c.get("items") is not None for c in bob["changes"]] == [False, False, True, False]


def test_items_are_not_in_the_digest(identity: Plan) -> None:
    """The written digest is the plan's own: ``items`` is derived from what the digest covers."""
    assert json.loads(render_plan_json(identity))["digest"] == identity.digest


def test_plan_json_carries_summary_and_digest(plan: Plan) -> None:
    """The plan JSON has the contract's summary counts and the digest of the plan."""
    data = json.loads(render_plan_json(plan))
    assert data["summary"] == {
        "create": 2,
        "update": 2,
        "deactivate": 1,
        "reactivate": 1,
        "delete": 1,
    }
    assert data["digest"] == plan.digest


def test_report_json_is_the_report_dict_indented(report: ApplyReport) -> None:
    """The report JSON parses back to ``report.to_dict()``, indented by two, one final newline."""
    text = render_report_json(report)
    assert json.loads(text) == report.to_dict()
    assert text.endswith("}\n")
    assert text.startswith('{\n  "format_version": 1,\n')


def test_report_json_counts_outcomes(report: ApplyReport) -> None:
    """The report JSON summary counts every outcome and each result names its action."""
    data = json.loads(render_report_json(report))
    assert data["summary"] == {"applied": 5, "failed": 1, "skipped": 1}
    failed = [r for r in data["results"] if r["outcome"] == "failed"]
    assert failed == [
        {
            "resource": "group",
            "action": "update",
            "key": "platform",
            "id": "g-7",
            "outcome": "failed",
            "reason": "HTTP 500 from PATCH /Groups/g-7: internal error",
            "attempts": 3,
            "duration_ms": 37.0,
        }
    ]


def test_report_json_keeps_non_ascii_text(report: ApplyReport) -> None:
    """Non-ASCII reasons stay readable UTF-8 rather than \\u escapes."""
    result = report.results[4].model_copy(update={"reason": "Größe überschritten"})
    changed = report.model_copy(
        update={"results": (*report.results[:4], result, *report.results[5:])}
    )
    assert "Größe überschritten" in render_report_json(changed)
