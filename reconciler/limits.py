"""Safety limits: the brake on plans that would remove or take over too much at once.

A limit is a count, or a percentage of what the plan could still change (its
*basis*, shown in ``Blocked.basis``; docs/design.md lists them):

- ``max_deactivations``: managed live users who are active (deactivated accounts
  cannot lose access again);
- ``max_group_deletions``: managed live groups (a rename on a target with immutable
  names deletes the old group, so it counts here too);
- ``max_member_removals``: memberships of managed users in managed groups, counted
  over all groups together;
- ``max_adoptions``: managed live users, active or not;
- ``max_sensitive_changes``: memberships of managed users in managed groups that
  ``policy.groups.sensitive`` marks; what it counts is every gain and loss of such a
  group by a person (``Plan.sensitive_changes``): adds, removes, deleted groups,
  renames and nested groups alike.

*Managed* means the policy lets the plan change it: in scope, not protected, and
matchable (not one of several live objects that share a key).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from reconciler.desired import LimitsPolicy
from reconciler.plan import ActionKind, Blocked, Plan, Resource
from reconciler.wording import plural


@dataclass(frozen=True, slots=True)
class LimitBases:
    """What each percentage limit is a percentage of."""

    active_users: int = 0
    users: int = 0
    groups: int = 0
    memberships: int = 0
    sensitive_memberships: int = 0


def allowed(limit: int | str, managed: int) -> int:
    """The number a limit allows, given how many managed live objects there are."""
    if isinstance(limit, int):
        return limit
    # Exact decimal arithmetic: 18.4% of 375 is 69, not the 68 floats give.
    return math.floor(managed * Fraction(limit.rstrip("%")) / 100)


def _deactivates(action_kind: ActionKind, active_after: object) -> bool:
    return action_kind is ActionKind.DEACTIVATE or (
        action_kind is ActionKind.ADOPT and active_after is False
    )


def planned_counts(plan: Plan) -> dict[str, int]:
    """How much the plan removes or takes over, per limit."""
    counts = dict.fromkeys(
        (
            "max_deactivations",
            "max_group_deletions",
            "max_member_removals",
            "max_adoptions",
            "max_sensitive_changes",
        ),
        0,
    )
    for action in plan.actions:
        if action.resource is Resource.USER:
            after = {c.path: c.after for c in action.attribute_changes}.get("active")
            counts["max_deactivations"] += _deactivates(action.action, after)
            counts["max_adoptions"] += action.action is ActionKind.ADOPT
        elif action.action in (ActionKind.DELETE, ActionKind.RENAME):
            counts["max_group_deletions"] += 1
        change = action.member_change
        if change is not None:
            counts["max_member_removals"] += change.removes
    counts["max_sensitive_changes"] = plan.sensitive_changes
    return counts


def check_limits(plan: Plan, limits: LimitsPolicy, bases: LimitBases) -> tuple[Blocked, ...]:
    """The limits this plan exceeds, in a fixed order; empty when it is within all."""
    # What each limit is a percentage of, counted: (limit, count, singular, plural).
    rules = {
        "max_deactivations": (
            limits.max_deactivations,
            bases.active_users,
            "active managed user",
            "active managed users",
        ),
        "max_group_deletions": (
            limits.max_group_deletions,
            bases.groups,
            "managed group",
            "managed groups",
        ),
        "max_member_removals": (
            limits.max_member_removals,
            bases.memberships,
            "membership of managed users in managed groups",
            "memberships of managed users in managed groups",
        ),
        "max_adoptions": (limits.max_adoptions, bases.users, "managed user", "managed users"),
        "max_sensitive_changes": (
            limits.max_sensitive_changes,
            bases.sensitive_memberships,
            "membership of managed sensitive groups",
            "memberships of managed sensitive groups",
        ),
    }
    blocked: list[Blocked] = []
    for name, planned in planned_counts(plan).items():
        limit, base, one, many = rules[name]
        cap = allowed(limit, base)
        if planned > cap:
            basis = str(limit)
            if isinstance(limit, str):  # a percentage: of what
                basis += f" of {plural(base, one, many)}"
            if name not in limits.model_fields_set:
                basis += ", the default of policy.limits"
            blocked.append(Blocked(limit=name, allowed=cap, planned=planned, basis=basis))
    return tuple(blocked)
