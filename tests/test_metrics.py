"""A run's metrics in the Prometheus text format (issue 19 item 3), read back by the
Prometheus project's own text-format parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from reconciler.metrics import RunRecord, exposition
from reconciler.plan import Action, ActionKind, LeftForLater, Plan, Resource
from reconciler.report import ActionResult, ApplyReport, Outcome


def parsed(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Family name -> {sorted labels: value}; every family must be a gauge."""
    families = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge", family.name
        families[family.name] = {
            tuple(sorted(sample.labels.items())): sample.value for sample in family.samples
        }
    return families


def _action(resource: Resource, kind: ActionKind, key: str) -> Action:
    return Action(resource=resource, action=kind, key=key)


def test_a_failed_run_before_any_plan_says_how_it_ended_and_when() -> None:
    """Exit code, duration and end time are always written; nothing the run never knew."""
    record = RunRecord(command="plan", exit_code=1, duration_seconds=0.25, finished_at=1.7e9)
    assert parsed(exposition(record)) == {
        "reconciler_exit_code": {(): 1.0},
        "reconciler_duration_seconds": {(): 0.25},
        "reconciler_last_run_timestamp_seconds": {(): 1.7e9},
    }


def test_a_plan_run_counts_every_kind_of_action_and_what_it_read() -> None:
    """Every kind of action has a series, 0 included, so an alert sees 0 rather than nothing."""
    record = RunRecord(command="plan", exit_code=2)
    record.plan(
        Plan(
            target="t",
            dialect="generic",
            actions=(
                _action(Resource.USER, ActionKind.CREATE, "a"),
                _action(Resource.USER, ActionKind.CREATE, "b"),
                _action(Resource.GROUP, ActionKind.DELETE, "g"),
            ),
        )
    )
    record.read_counts(120, 7)
    families = parsed(exposition(record))
    assert families["reconciler_planned_actions"] == {
        (("action", "create"),): 2.0,
        (("action", "update"),): 0.0,
        (("action", "deactivate"),): 0.0,
        (("action", "reactivate"),): 0.0,
        (("action", "delete"),): 1.0,
        (("action", "adopt"),): 0.0,
        (("action", "rename"),): 0.0,
    }
    assert families["reconciler_read_objects"] == {
        (("resource", "user"),): 120.0,
        (("resource", "group"),): 7.0,
    }
    assert families["reconciler_sensitive_changes"] == {(): 0.0}
    assert "reconciler_applied_actions" not in families  # a plan applies nothing


def test_an_apply_counts_outcomes_and_the_whole_plan_after_only() -> None:
    """After --only, the planned actions are the whole plan's (a split action once), the
    outcomes are what was sent, and what waits is counted."""
    sent = (
        _action(Resource.USER, ActionKind.CREATE, "a"),
        _action(Resource.GROUP, ActionKind.UPDATE, "eng"),
    )
    narrowed = Plan(
        target="t",
        dialect="generic",
        actions=sent,
        left_for_later=(
            LeftForLater(resource=Resource.GROUP, action=ActionKind.UPDATE, key="eng", split=True),
            LeftForLater(resource=Resource.USER, action=ActionKind.DEACTIVATE, key="d"),
        ),
    )
    record = RunRecord(command="apply", exit_code=4)
    record.plan(narrowed)
    refused = parsed(exposition(record))
    assert refused["reconciler_applied_actions"] == {
        (("outcome", "applied"),): 0.0,
        (("outcome", "failed"),): 0.0,
        (("outcome", "skipped"),): 0.0,
    }
    record.report(
        ApplyReport(
            target="t",
            digest=narrowed.digest,
            dry_run=False,
            results=(
                ActionResult(action=sent[0], outcome=Outcome.APPLIED),
                ActionResult(action=sent[1], outcome=Outcome.FAILED, reason="409"),
            ),
            left_for_later=narrowed.left_for_later,
        )
    )
    families = parsed(exposition(record))
    planned = {
        labels[0][1]: value for labels, value in families["reconciler_planned_actions"].items()
    }
    assert (planned["create"], planned["update"], planned["deactivate"]) == (1.0, 1.0, 1.0)
    assert families["reconciler_applied_actions"] == {
        (("outcome", "applied"),): 1.0,
        (("outcome", "failed"),): 1.0,
        (("outcome", "skipped"),): 0.0,
    }
    assert families["reconciler_left_for_later_actions"] == {(): 2.0}
    assert families["reconciler_exit_code"] == {(): 4.0}
