"""Tests for reconciler.render.json: the plan JSON and the apply report JSON."""

from __future__ import annotations

import json

from reconciler.plan import Plan
from reconciler.render import render_plan_json, render_report_json
from reconciler.report import ApplyReport


def test_plan_json_is_the_plan_to_json(plan: Plan) -> None:
    """The JSON view of a plan is exactly ``Plan.to_json``, so saved plans and output agree."""
    assert render_plan_json(plan) == plan.to_json()


def test_plan_json_is_byte_identical_across_renders(plan: Plan) -> None:
    """Rendering the same plan twice, or an equal plan rebuilt from JSON, gives the same bytes."""
    first = render_plan_json(plan).encode()
    assert render_plan_json(plan).encode() == first
    assert render_plan_json(Plan.from_json(first.decode())).encode() == first


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
