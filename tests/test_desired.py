"""The desired-state file models: strict, frozen, and the helpers the planner reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from reconciler.desired import (
    DesiredFile,
    DesiredState,
    GroupSpec,
    LimitsPolicy,
    Policy,
    TargetSpec,
    UserSpec,
    UsersPolicy,
    json_schema,
    parse_duration,
    render_schema,
)
from reconciler.files.yamlsafe import parse_yaml

DESIGN = Path(__file__).parents[1] / "docs" / "design.md"


def design_sample() -> str:
    """The sample of docs/design.md, "Desired-state file, format version 1", verbatim."""
    section = DESIGN.read_text(encoding="utf-8").split("## Desired-state file", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def error_types(data: Any) -> list[tuple[tuple[int | str, ...], str]]:
    with pytest.raises(ValidationError) as info:
        DesiredFile.model_validate(data)
    return [(error["loc"], error["type"]) for error in info.value.errors()]


def test_the_design_sample_is_a_valid_file() -> None:
    """The sample in docs/design.md validates, with every value as written."""
    doc = parse_yaml(design_sample(), "docs/design.md")
    assert doc.problems == []
    model = DesiredFile.model_validate(doc.data)
    assert model.policy == Policy()
    assert model.users[0].externalId == "emp-1001"
    assert [p.value for p in model.users[0].phoneNumbers or ()] == ["+1 555 0100"]
    assert model.groups == (GroupSpec(displayName="engineering", members=("alice@example.com",)),)


@pytest.mark.parametrize(
    "version",
    [
        pytest.param(True, id="true"),
        pytest.param(1.0, id="float"),
        pytest.param("1", id="string"),
        pytest.param(2, id="two"),
    ],
)
def test_version_must_be_the_integer_one(version: object) -> None:
    """Only the integer 1 is a version; true and 1.0 equal 1 in Python but are refused."""
    assert [loc for loc, _ in error_types({"version": version})] == [("version",)]


@pytest.mark.parametrize(
    ("user", "loc", "kind"),
    [
        pytest.param(
            {"userName": "a", "active": "yes"}, ("active",), "bool_type", id="yes-for-bool"
        ),
        pytest.param({"userName": "a", "active": 1}, ("active",), "bool_type", id="one-for-bool"),
        pytest.param(
            {"userName": "a", "enterprise": {"employeeNumber": 7}},
            ("enterprise", "employeeNumber"),
            "string_type",
            id="number-for-string",
        ),
        pytest.param(
            {"userName": "a", "nickname": "x"}, ("nickname",), "extra_forbidden", id="typo"
        ),
        pytest.param({"userName": ""}, ("userName",), "string_too_short", id="empty-userName"),
        pytest.param({"displayName": "x"}, ("userName",), "missing", id="no-userName"),
        pytest.param(
            {"userName": "a", "emails": ({"value": "a@x", "primary": False},)},
            ("emails",),
            "value_error",
            id="no-primary-email",
        ),
        pytest.param(
            {"userName": "a", "emails": ({"value": "not-an-email", "primary": True},)},
            ("emails", 0, "value"),
            "value_error",
            id="not-an-email",
        ),
    ],
)
def test_users_are_strict(user: dict[str, Any], loc: tuple[int | str, ...], kind: str) -> None:
    """No coercion, no unknown keys, required userName, exactly one primary email."""
    assert error_types({"version": 1, "users": (user,)}) == [(("users", 0, *loc), kind)]


@pytest.mark.parametrize("limit", [0, 7, "0%", "10%", "12.5%"])
def test_limits_accept_counts_and_percentages(limit: int | str) -> None:
    """A limit is a non-negative whole number or a percentage string."""
    assert LimitsPolicy(max_deactivations=limit).max_deactivations == limit


@pytest.mark.parametrize("limit", [-1, "10", "10 %", "%", "ten%", 1.5, True])
def test_limits_refuse_anything_else(limit: object) -> None:
    """Negative counts, bare strings, spaced or non-numeric percentages, floats, booleans fail."""
    with pytest.raises(ValidationError):
        LimitsPolicy.model_validate({"max_deactivations": limit})


@pytest.mark.parametrize(
    ("timeout", "seconds"),
    [(90, 90), ("90", 90), ("90s", 90), ("10m", 600), ("1h30m", 5400), ("2.5s", 2.5),
     ("500ms", 0.5)],
)  # fmt: skip
def test_target_timeout_takes_seconds_or_a_duration(timeout: int | str, seconds: float) -> None:
    """``target.timeout`` is a whole number of seconds or a duration such as "10m"."""
    assert parse_duration(TargetSpec(timeout=timeout).timeout or 0) == seconds


@pytest.mark.parametrize("timeout", [0, -5, "0s", "soon", "10 m", "1m30", "", 1.5, True])
def test_target_timeout_refuses_anything_else(timeout: object) -> None:
    """Zero, negative, unitless fractions, spaced or unknown units, floats, booleans fail."""
    with pytest.raises(ValidationError):
        TargetSpec.model_validate({"timeout": timeout})


def test_models_are_frozen() -> None:
    """A validated file cannot be changed afterwards."""
    user = UserSpec(userName="a")
    with pytest.raises(ValidationError):
        user.userName = "b"  # type: ignore[misc]


def test_mentioned_fields_are_recorded_for_field_ownership() -> None:
    """Only the attributes a file mentions are in model_fields_set, null ones included."""
    user = UserSpec.model_validate({"userName": "a", "title": None})
    assert user.model_fields_set == {"userName", "title"}


def test_group_members_unite_members_and_users_naming_the_group() -> None:
    """A group's members are its members plus the users whose groups name it, case-folded."""
    state = DesiredState(
        users=(UserSpec(userName="Alice@X.com", groups=("ENG",)), UserSpec(userName="bob@x.com")),
        groups=(GroupSpec(displayName="eng", members=("BOB@x.com",)), GroupSpec(displayName="ops")),
    )
    assert state.group_members() == {
        "eng": frozenset({"alice@x.com", "bob@x.com"}),
        "ops": frozenset(),
    }


def test_user_key_follows_the_policy() -> None:
    """The user key is the userName or, with key externalId, the externalId; both fold alike."""
    user = UserSpec(userName="Alice@X.com", externalId="E-1")
    by_name = DesiredState()
    by_id = DesiredState(policy=Policy(users=UsersPolicy(key="externalId")))
    assert (by_name.user_key(user), by_name.fold_user_key("Alice@X.com")) == (
        "Alice@X.com",
        "alice@x.com",
    )
    assert (by_id.user_key(user), by_id.fold_user_key("E-1")) == ("E-1", "e-1")


def test_render_schema_is_sorted_indented_json_of_json_schema() -> None:
    """The schema file is json_schema() as sorted JSON, indented by 2, ending in a newline."""
    text = render_schema()
    assert text == json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
    schema = json.loads(text)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["version"]
    assert schema["additionalProperties"] is False
