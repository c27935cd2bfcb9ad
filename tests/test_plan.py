"""The plan as data: its JSON form, its digest, and what it would send."""

from __future__ import annotations

import json

import pytest

from reconciler.plan import Action, ActionKind, Blocked, Change, MemberChange, Plan, Resource
from reconciler.redaction import REDACTED, remember
from reconciler.saved import read_plan, saved_form

# Served back by a hostile server inside its data; remembered as a client remembers it.
ECHOED = "plan-test-echoed-token-71c4"


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


def echoed_in(**change: object) -> Plan:
    """The sample plan with the remembered token in one field of its first action."""
    remember(ECHOED)
    plan = sample_plan()
    first = plan.actions[0]
    title = Change(path="title", before=change.pop("before", "A"), after=change.pop("after", "B"))
    return sample_plan(
        actions=(first.model_copy(update={"changes": (title,), **change}), plan.actions[1])
    )


def test_a_plan_leaves_without_the_token_and_with_its_digest() -> None:
    """A token served back in a before value is in the plan as read, and cut out of its
    output form, whose digest is the plan's: the digest covers the plan as it leaves."""
    plan = echoed_in(before=f"Bearer {ECHOED}")
    shown = plan.for_output()
    assert plan.actions[0].changes[0] == Change(path="title", before=f"Bearer {ECHOED}", after="B")
    assert shown.actions[0].changes[0] == Change(
        path="title", before=f"Bearer {REDACTED}", after="B"
    )
    assert shown.digest == plan.digest
    assert sample_plan().for_output() == sample_plan()


def test_a_saved_plan_written_without_the_token_reads_back_with_its_digest() -> None:
    """The plan file, the token cut out of a before value, verifies on read: same digest,
    same requests (nothing sent comes from a before)."""
    plan = echoed_in(before=ECHOED)
    written = saved_form(plan)
    assert ECHOED not in written
    again = read_plan(written)
    assert again.digest == plan.digest
    assert again.actions[0].changes[0].after == "B"
    assert again.secrets_sent() == plan.secrets_sent() == ()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"after": f"x{ECHOED}"}, id="a-new-value"),
        pytest.param({"id": ECHOED}, id="the-id"),
        pytest.param({"version": f'W/"{ECHOED}"'}, id="the-etag"),
        pytest.param({"key": ECHOED}, id="the-key"),
    ],
)
def test_a_plan_that_would_send_the_token_names_the_action(change: dict[str, object]) -> None:
    """The token in anything a request carries makes the action one that sends it."""
    plan = echoed_in(**change)
    assert plan.secrets_sent() == (plan.actions[0].key,)


def test_a_member_id_holding_the_token_is_sent() -> None:
    """A user id a member change sends, served back holding the token, is one too."""
    remember(ECHOED)
    assert sample_plan(user_ids={"a@example.com": ECHOED}).secrets_sent() == ("a@example.com",)


def test_a_copy_of_a_plan_has_its_own_digest_once_the_original_computed_one() -> None:
    """The digest is computed once per plan; a copy with changes (the planner adds its
    blocked limits that way) never inherits the original's."""
    plan = Plan(target="https://scim.example.com/v2", dialect="generic")
    before = plan.digest
    copy = plan.model_copy(
        update={"blocked": (Blocked(limit="max_adoptions", allowed=0, planned=1),)}
    )
    assert copy.digest != before
    assert copy.digest == Plan(target=plan.target, dialect="generic", blocked=copy.blocked).digest
