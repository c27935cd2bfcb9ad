"""Safety limits: the brake on plans that would remove too much at once.

A limit is a count or a percentage of the managed live objects (DESIGN.md): in-scope
live users for ``max_deactivations``, in-scope live groups for
``max_group_deletions``, and the memberships of in-scope live groups for
``max_member_removals`` (counted over all groups together).
"""

from __future__ import annotations

import math
from fractions import Fraction

from reconciler.desired import Policy
from reconciler.plan import ActionKind, Blocked, Plan, Resource


def allowed(limit: int | str, managed: int) -> int:
    """The number a limit allows, given how many managed live objects there are."""
    if isinstance(limit, int):
        return limit
    # Exact decimal arithmetic: 18.4% of 375 is 69, not the 68 floats give.
    return math.floor(managed * Fraction(limit.rstrip("%")) / 100)


def planned_counts(plan: Plan) -> dict[str, int]:
    """How much the plan removes, per limit."""
    deactivations = sum(
        1 for a in plan.actions if a.resource is Resource.USER and a.action is ActionKind.DEACTIVATE
    )
    deletions = sum(
        1 for a in plan.actions if a.resource is Resource.GROUP and a.action is ActionKind.DELETE
    )
    removals = 0
    for action in plan.actions:
        change = action.member_change
        if change is not None:
            removals += len(change.remove)
    return {
        "max_deactivations": deactivations,
        "max_group_deletions": deletions,
        "max_member_removals": removals,
    }


def check_limits(plan: Plan, policy: Policy, managed: tuple[int, int, int]) -> tuple[Blocked, ...]:
    """The limits this plan exceeds, in a fixed order; empty when it is within all.

    ``managed`` is (in-scope live users, in-scope live groups, their memberships).
    """
    users, groups, memberships = managed
    bases = {
        "max_deactivations": (policy.limits.max_deactivations, users, "managed users"),
        "max_group_deletions": (policy.limits.max_group_deletions, groups, "managed groups"),
        "max_member_removals": (
            policy.limits.max_member_removals,
            memberships,
            "memberships of managed groups",
        ),
    }
    blocked: list[Blocked] = []
    for name, planned in planned_counts(plan).items():
        limit, base, what = bases[name]
        cap = allowed(limit, base)
        if planned > cap:
            basis = f"{limit} of {base} {what}" if isinstance(limit, str) else f"{limit}"
            if name not in policy.limits.model_fields_set:
                basis += ", the default of policy.limits"
            blocked.append(Blocked(limit=name, allowed=cap, planned=planned, basis=basis))
    return tuple(blocked)
