"""What the percentage limits are of (``LimitBases``): the plan's managed users, groups
and memberships (reconciler.limits), and which groups ``policy.groups.sensitive`` marks.

Counting every membership again after the groups are planned is a pass over millions
of them at a million users; ``count_bases`` takes the counts the groups stage made
while comparing members, and ``plain_bases`` counts them afresh (the reference:
tests/planner/test_stage_counts.py holds the two equal).
"""

from __future__ import annotations

from operator import attrgetter

from reconciler.limits import LimitBases
from reconciler.live import LiveGroup
from reconciler.planner.groups import GroupPlan
from reconciler.planner.users import UserPlan
from reconciler.scope import in_scope


def is_sensitive(name: str, globs: tuple[str, ...]) -> bool:
    """Whether ``policy.groups.sensitive`` marks this group: its globs match names as a
    scope's do (``scope.in_scope``: folded as identities)."""
    return in_scope(name, globs)


def count_bases(users: UserPlan, groups: GroupPlan, sensitive: tuple[str, ...] = ()) -> LimitBases:
    """``plain_bases``, from what the stages counted: the managed users are the accounts
    of ``users.key_of_id`` (``user_decisions.fold`` makes both), and the groups stage
    counted those in each group it compared (``GroupPlan.accounts``)."""
    accounts = users.key_of_id.keys()
    counted = groups.accounts

    def held(group: LiveGroup) -> int:
        found = counted.get(group.id)
        return len(group.member_ids & accounts) if found is None else found

    marked = [g for g in groups.managed if sensitive and is_sensitive(g.displayName, sensitive)]
    return LimitBases(
        active_users=sum(map(attrgetter("active"), users.managed)),
        users=len(users.managed),
        groups=len(groups.managed),
        memberships=sum(map(held, groups.managed)),
        sensitive_memberships=sum(map(held, marked)),
    )


def plain_bases(users: UserPlan, groups: GroupPlan, sensitive: tuple[str, ...] = ()) -> LimitBases:
    """What the percentage limits are of, counted from the managed objects alone."""
    managed_ids = {u.id for u in users.managed}
    powerful = [g for g in groups.managed if is_sensitive(g.displayName, sensitive)]
    return LimitBases(
        active_users=sum(1 for u in users.managed if u.active),
        users=len(users.managed),
        groups=len(groups.managed),
        memberships=sum(len(g.member_ids & managed_ids) for g in groups.managed),
        sensitive_memberships=sum(len(g.member_ids & managed_ids) for g in powerful),
    )
