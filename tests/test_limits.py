"""Safety limits: counts and percentages of the managed live objects.

As docs/design.md "Safety model" and docs/identity.md "Limits and their bases" state them.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.desired import (
    DesiredState,
    GroupSpec,
    GroupsPolicy,
    LimitsPolicy,
    Policy,
    UsersPolicy,
)
from reconciler.limits import LimitBases, allowed, check_limits, planned_counts
from reconciler.live import LiveSnapshot, LiveUser
from reconciler.plan import Action, ActionKind, Blocked, MemberChange, Plan, Resource
from reconciler.planner import PlanContext, plan
from tests.directory_model import DirectoryModel

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def live_user(uid: str, user_name: str, **attrs: Any) -> LiveUser:
    return LiveUser.from_scim(
        {"schemas": [USER_SCHEMA], "id": uid, "userName": user_name, "active": True, **attrs}
    )


def action(resource: Resource, kind: ActionKind, key: str, *changes: MemberChange) -> Action:
    return Action(resource=resource, action=kind, key=key, id=f"id-{key}", changes=changes)


def deactivate(key: str) -> Action:
    return action(Resource.USER, ActionKind.DEACTIVATE, key)


def delete(key: str) -> Action:
    return action(Resource.GROUP, ActionKind.DELETE, key)


def members(key: str, *, add: int = 0, remove: int = 0) -> Action:
    change = MemberChange(
        add=tuple(f"new-{n}" for n in range(add)), remove=tuple(f"old-{n}" for n in range(remove))
    )
    return action(Resource.GROUP, ActionKind.UPDATE, key, change)


def a_plan(*actions: Action) -> Plan:
    return Plan(target="model:", dialect="generic", actions=actions)


def limits(deactivations: int | str, deletions: int | str, removals: int | str) -> Policy:
    return Policy(
        limits=LimitsPolicy(
            max_deactivations=deactivations,
            max_group_deletions=deletions,
            max_member_removals=removals,
        )
    )


@pytest.mark.parametrize(
    ("limit", "managed", "expected"),
    [
        pytest.param(5, 1000, 5, id="int-is-absolute"),
        pytest.param(0, 1000, 0, id="zero"),
        pytest.param("10%", 57, 5, id="percent-floors"),
        pytest.param("10%", 9, 0, id="percent-below-one-is-zero"),
        pytest.param("10%", 0, 0, id="percent-of-nothing"),
        pytest.param("100%", 7, 7, id="everything"),
        pytest.param("150%", 10, 15, id="over-one-hundred"),
        pytest.param("2.5%", 200, 5, id="fraction"),
        pytest.param("33.3%", 10, 3, id="fraction-floors"),
    ],
)
def test_allowed(limit: int | str, managed: int, expected: int) -> None:
    """An int is a count; "N%" is N percent of the managed objects, rounded down."""
    assert allowed(limit, managed) == expected


@pytest.mark.parametrize(
    ("limit", "managed", "expected"),
    [
        pytest.param("18.4%", 375, 69, id="18.4%-of-375"),
        pytest.param("32.8%", 375, 123, id="32.8%-of-375"),
    ],
)
def test_allowed_is_exact_for_decimal_percentages(limit: str, managed: int, expected: int) -> None:
    """A decimal percentage that yields a whole number allows exactly that number."""
    assert allowed(limit, managed) == expected


def test_planned_counts_sum_member_removals_over_all_groups() -> None:
    """Deactivations, group deletions and member removals (of every group) are counted."""
    plan_ = a_plan(
        members("eng", add=5, remove=2),
        members("ops", remove=3),
        deactivate("bob@example.com"),
        deactivate("carol@example.com"),
        delete("old"),
    )
    assert planned_counts(plan_) == {
        "max_deactivations": 2,
        "max_group_deletions": 1,
        "max_member_removals": 5,
        "max_adoptions": 0,
        "max_sensitive_changes": 0,
    }


def test_member_additions_and_reactivations_count_towards_no_limit() -> None:
    """Only what removes access counts."""
    plan_ = a_plan(
        members("eng", add=50),
        action(Resource.USER, ActionKind.REACTIVATE, "bob@example.com"),
        action(Resource.USER, ActionKind.CREATE, "new@example.com"),
    )
    assert set(planned_counts(plan_).values()) == {0}


@pytest.mark.parametrize(
    ("policy", "managed", "expected"),
    [
        pytest.param(limits(2, 1, 5), (100, 10, 100), (), id="at-the-limit-passes"),
        pytest.param(
            limits(1, 0, 4),
            (100, 10, 100),
            (
                Blocked(limit="max_deactivations", allowed=1, planned=2),
                Blocked(limit="max_group_deletions", allowed=0, planned=1),
                Blocked(limit="max_member_removals", allowed=4, planned=5),
            ),
            id="over-every-limit-in-fixed-order",
        ),
        pytest.param(
            limits("10%", "10%", "10%"),
            (20, 10, 50),
            (),
            id="percent-of-managed-passes",
        ),
        pytest.param(
            limits("10%", "10%", "10%"),
            (19, 9, 49),
            (
                Blocked(limit="max_deactivations", allowed=1, planned=2),
                Blocked(limit="max_group_deletions", allowed=0, planned=1),
                Blocked(limit="max_member_removals", allowed=4, planned=5),
            ),
            id="percent-of-managed-floors",
        ),
    ],
)
def test_check_limits(
    policy: Policy, managed: tuple[int, int, int], expected: tuple[Blocked, ...]
) -> None:
    active_users, groups, memberships = managed
    """A plan is blocked by each limit its planned count exceeds, and only then."""
    plan_ = a_plan(
        members("eng", remove=2),
        members("ops", remove=3),
        deactivate("bob@example.com"),
        deactivate("carol@example.com"),
        delete("old"),
    )
    bases = LimitBases(active_users=active_users, groups=groups, memberships=memberships)
    assert without_basis(check_limits(plan_, policy.limits, bases)) == expected


# --- through the planner: what "managed" means ---------------------------------------


def test_percent_limits_count_only_in_scope_unprotected_live_users() -> None:
    """``max_deactivations`` is a percentage of the live users the policy manages."""
    model = DirectoryModel()
    for number in range(10):
        model.add_user(f"u{number}@example.com")
    for number in range(30):
        model.add_user(f"p{number}@partner.example")
    model.add_user("boss@example.com")
    policy = Policy(
        users=UsersPolicy(
            unmanaged="deactivate", scope=("*@example.com",), protect=("boss@example.com",)
        ),
        limits=LimitsPolicy(max_deactivations="20%"),
    )
    plan_ = plan(DesiredState(policy=policy), model.snapshot(), PlanContext("m", "generic"))
    assert without_basis(plan_.blocked) == (
        Blocked(limit="max_deactivations", allowed=2, planned=10),
    )


def test_member_removal_percentages_are_of_the_memberships_of_managed_groups() -> None:
    """``max_member_removals`` is a percentage of all memberships of the in-scope groups."""
    model = DirectoryModel()
    ids = [model.add_user(f"u{number}@example.com") for number in range(10)]
    model.add_group("eng", ids[:4])
    model.add_group("ops", ids[:6])
    model.add_group("vendors", ids)  # out of scope: its 10 memberships are not managed
    policy = Policy(
        groups=GroupsPolicy(scope=("eng", "ops")),
        limits=LimitsPolicy(max_member_removals="20%"),
    )
    state = DesiredState(
        policy=policy,
        groups=(
            GroupSpec(displayName="eng", members=("u0@example.com",)),
            GroupSpec(displayName="ops", members=("u0@example.com",)),
        ),
    )
    plan_ = plan(state, model.snapshot(), PlanContext("m", "generic"))
    assert without_basis(plan_.blocked) == (
        Blocked(limit="max_member_removals", allowed=2, planned=8),
    )


def test_a_blocked_plan_keeps_all_its_actions() -> None:
    """Blocking is reported next to the actions; the plan still shows everything it would do."""
    model = DirectoryModel()
    model.add_group("old")
    policy = Policy(groups=GroupsPolicy(unmanaged="delete"))  # max_group_deletions: 0
    plan_ = plan(DesiredState(policy=policy), model.snapshot(), PlanContext("m", "generic"))
    assert [a.key for a in plan_.actions] == ["old"]
    assert without_basis(plan_.blocked) == (
        Blocked(limit="max_group_deletions", allowed=0, planned=1),
    )


def without_basis(blocked: tuple[Blocked, ...]) -> tuple[Blocked, ...]:
    """The limit figures alone; the basis wording is tested on its own."""
    return tuple(b.model_copy(update={"basis": ""}) for b in blocked)


def test_blocked_limits_say_where_the_allowance_comes_from() -> None:
    """A reviewer sees the percentage, what it is of, and whether it is the default."""
    plan_ = Plan(
        target="t",
        dialect="generic",
        actions=tuple(
            Action(resource=Resource.USER, action=ActionKind.DEACTIVATE, key=f"u{i}", id=f"u{i}")
            for i in range(3)
        ),
    )
    (default,) = check_limits(plan_, LimitsPolicy(), LimitBases(active_users=5))
    assert default.basis == "10% of 5 active managed users, the default of policy.limits"
    (fixed,) = check_limits(plan_, LimitsPolicy(max_deactivations=1), LimitBases(active_users=5))
    assert fixed.basis == "1"


def test_percent_limit_base_excludes_users_that_cannot_be_matched() -> None:
    """With ``key: externalId``, live users without an externalId are not managed objects.

    Expected (docs/design.md "Safety model", limits: percentages are of the *managed*
    live objects): 10 users with externalIds, 90 without, files list none of them,
    ``unmanaged: deactivate``: 10 deactivations against a base of 10 managed users is
    over "10%" and blocked.
    Actual: the base is all 100 in-scope users, 10% of 100 = 10, so deactivating
    every managed user passes the brake.
    """
    users = [live_user(f"k{i}", f"keyed{i}@example.com", externalId=f"e{i}") for i in range(10)]
    users += [live_user(f"n{i}", f"legacy{i}@example.com") for i in range(90)]
    policy = Policy(users=UsersPolicy(key="externalId", unmanaged="deactivate"))
    state = DesiredState(policy=policy)
    result = plan(state, LiveSnapshot(users=tuple(users)), PlanContext("t", "generic"))
    assert sum(a.action is ActionKind.DEACTIVATE for a in result.actions) == 10
    assert [b.limit for b in result.blocked] == ["max_deactivations"]


def test_a_basis_of_one_reads_in_the_singular() -> None:
    """``10% of 1 active managed user``, not ``users``: the basis is read by people."""
    plan_ = Plan(
        target="t",
        dialect="generic",
        actions=(Action(resource=Resource.USER, action=ActionKind.DEACTIVATE, key="u", id="u"),),
    )
    (blocked,) = check_limits(plan_, LimitsPolicy(), LimitBases(active_users=1))
    assert blocked.basis == "10% of 1 active managed user, the default of policy.limits"
    removals = LimitsPolicy(max_deactivations=5, max_member_removals="50%")
    group = action(Resource.GROUP, ActionKind.UPDATE, "eng", MemberChange(remove=("u",)))
    (blocked,) = check_limits(
        plan_.model_copy(update={"actions": (group,)}), removals, LimitBases(memberships=1)
    )
    assert blocked.basis == "50% of 1 membership of managed users in managed groups"
