"""The plan as data: its JSON form, its digest, and reading a saved plan back."""

from __future__ import annotations

import json

import pytest

from reconciler.errors import ConfigError
from reconciler.plan import Action, ActionKind, Blocked, Change, MemberChange, Plan, Resource


def sample_plan(**overrides: object) -> Plan:
    fields: dict[str, object] = {
        "target": "https://api.atlassian.com/scim/directory/abc",
        "dialect": "atlassian",
        "actions": (
            Action(
                resource=Resource.USER,
                action=ActionKind.UPDATE,
                key="a@example.com",
                id="u1",
                changes=(Change(path="title", before="A", after="B"),),
                fingerprint="sha256:aaa",
            ),
            Action(
                resource=Resource.GROUP,
                action=ActionKind.UPDATE,
                key="eng",
                id="g1",
                changes=(MemberChange(add=("a@example.com",)),),
                fingerprint="sha256:bbb",
            ),
        ),
        "user_ids": {"a@example.com": "u1"},
    }
    fields.update(overrides)
    return Plan(**fields)  # type: ignore[arg-type]


def test_json_round_trip_keeps_the_plan_and_its_digest() -> None:
    """A plan written as JSON reads back equal, with the same digest."""
    plan = sample_plan()
    again = Plan.from_json(plan.to_json())
    assert again == plan
    assert again.digest == plan.digest


def test_json_keys_follow_the_contract() -> None:
    """The plan JSON has the keys of docs/design.md, with summary counts by action."""
    data = json.loads(sample_plan().to_json())
    assert list(data)[:6] == [
        "format_version",
        "target",
        "dialect",
        "user_key",
        "digest",
        "summary",
    ]
    assert data["summary"] == {
        "create": 0,
        "update": 2,
        "deactivate": 0,
        "reactivate": 0,
        "delete": 0,
    }
    assert data["actions"][1]["changes"] == [
        {"path": "members", "add": ["a@example.com"], "remove": []}
    ]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"target": "https://other.example/scim"}, id="target"),
        pytest.param({"user_ids": {"a@example.com": "u2"}}, id="member-ids"),
        pytest.param(
            {"blocked": (Blocked(limit="max_deactivations", allowed=0, planned=1),)}, id="blocked"
        ),
    ],
)
def test_digest_covers_what_the_plan_would_do(change: dict[str, object]) -> None:
    """Another target, other member ids or other blocked limits give another digest."""
    assert sample_plan(**change).digest != sample_plan().digest


def test_digest_covers_the_live_state_planned_against() -> None:
    """The same action against an object in another state has another digest."""
    plan = sample_plan()
    moved = plan.actions[0].model_copy(update={"fingerprint": "sha256:changed"})
    assert sample_plan(actions=(moved, plan.actions[1])).digest != plan.digest


def test_digest_ignores_warnings_and_is_stable() -> None:
    """Warnings are for reviewers; they do not change what is approved."""
    assert sample_plan(warnings=()).digest == sample_plan().digest
    assert sample_plan().digest == sample_plan().digest
    assert sample_plan().digest.startswith("sha256:")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{not json", "not a JSON plan", id="not-json"),
        pytest.param("[]", "not a JSON plan object", id="not-object"),
        pytest.param('{"format_version": 2}', "format_version must be 1", id="version"),
        pytest.param('{"format_version": 1, "target": 3}', "not a valid plan", id="invalid"),
    ],
)
def test_unreadable_saved_plans_are_config_errors(text: str, message: str) -> None:
    """A file that is not a version-1 plan is refused with a message, not a traceback."""
    with pytest.raises(ConfigError, match=message):
        Plan.from_json(text, source="plan.json")


def test_edited_saved_plan_is_refused() -> None:
    """Changing an action in a saved plan breaks its digest."""
    data = json.loads(sample_plan().to_json())
    data["actions"][0]["changes"][0]["after"] = "Boss"
    with pytest.raises(ConfigError, match="digest does not match"):
        Plan.from_json(json.dumps(data))
