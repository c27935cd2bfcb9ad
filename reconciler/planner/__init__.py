"""The pure planner: ``plan(desired, live, context) -> Plan``.

No I/O, clock, logging or randomness: the same inputs give a byte-identical JSON
plan. The policy comes from one place, ``desired.policy``. The plan is made in
stages, each a function from frozen inputs to a frozen result:

    match  → which live object each file entry is (planner.match)
    users  → user actions (planner.users)
    groups → group actions and memberships (planner.groups)
    review → warnings about combinations of actions (planner.review)
    limits → the safety limits the plan exceeds (reconciler.limits)

Only ``match`` relates file entries to live objects; the identity rules are in
docs/identity.md. Objects the policy leaves alone never appear in an action and are
counted in ``Plan.left_alone``; file entries it leaves alone are also warned about.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

from reconciler.desired import DesiredState
from reconciler.identifiers import fold_identity
from reconciler.limits import LimitBases, check_limits
from reconciler.live import LiveSnapshot
from reconciler.plan import Action, LeftAlone, Plan, Resource
from reconciler.planner.context import PlanContext
from reconciler.planner.groups import GroupPlan, plan_groups
from reconciler.planner.match_groups import match_groups
from reconciler.planner.match_users import match_users
from reconciler.planner.review import deactivated_members, inactive_joiners
from reconciler.planner.users import LeftAloneEntry, UserPlan, plan_users

__all__ = ["LEFT_ALONE_KEYS_KEPT", "PlanContext", "limit_bases", "plan"]

# Keys the plan keeps per left-alone reason (the views show fewer: render.notation);
# the count beside them is always complete.
LEFT_ALONE_KEYS_KEPT = 20


def _stages(
    desired: DesiredState, live: LiveSnapshot, context: PlanContext
) -> tuple[UserPlan, GroupPlan]:
    """match → users → groups."""
    policy = desired.policy
    user_matches = match_users(
        desired.users, live.users, policy.users.key, emails_unique=context.emails_unique
    )
    group_matches = match_groups(
        desired.groups, live.groups, renames_by_create=context.names_immutable
    )
    users = plan_users(user_matches, policy.users, context)
    groups = plan_groups(
        group_matches, desired.group_members(), policy.groups, users, user_matches, context
    )
    return users, groups


def limit_bases(desired: DesiredState, live: LiveSnapshot, context: PlanContext) -> LimitBases:
    """What the percentage limits of ``desired.policy`` are of, in this directory.

    ``apply --plan`` with the files re-checks a saved plan against the limits the
    files set, so a plan edited after review cannot pass them.
    """
    return _bases(*_stages(desired, live, context))


def plan(desired: DesiredState, live: LiveSnapshot, context: PlanContext) -> Plan:
    """Plan the actions that make ``live`` look like ``desired`` under ``desired.policy``."""
    policy = desired.policy
    users, groups = _stages(desired, live, context)
    actions = sorted(
        (*users.actions, *groups.actions), key=lambda a: (a.phase, a.key.lower(), a.key)
    )
    key_attribute = policy.users.key
    warnings = (
        *users.warnings,
        *groups.warnings,
        *deactivated_members(actions, users, live.groups, key_attribute),
        *inactive_joiners(actions, desired.users, key_attribute, groups.moved),
    )
    result = Plan(
        target=context.target,
        dialect=context.dialect.name,
        user_key=key_attribute,
        token_env=context.token_env,
        rate=context.rate,
        actions=tuple(actions),
        warnings=tuple(sorted(set(warnings), key=lambda w: (w.key.lower(), w.key, w.message))),
        left_alone=_left_alone((*users.left_alone, *groups.left_alone)),
        user_ids=_referenced_ids(actions, {**groups.carried_ids, **users.ids}),
        user_names=_user_names(actions, desired, live) if key_attribute == "externalId" else {},
        sensitive_groups=_sensitive(actions, policy.groups.sensitive),
    )
    bases = _bases(users, groups, policy.groups.sensitive)
    blocked = check_limits(result, policy.limits, bases)
    return result.model_copy(update={"blocked": blocked}) if blocked else result


def _left_alone(entries: Iterable[LeftAloneEntry]) -> tuple[LeftAlone, ...]:
    by_reason: dict[tuple[Resource, str], set[str]] = defaultdict(set)
    for resource, reason, key in entries:
        by_reason[(resource, reason)].add(key)
    return tuple(
        LeftAlone(
            resource=resource,
            reason=reason,
            count=len(keys),
            keys=tuple(sorted(keys, key=lambda k: (k.lower(), k))[:LEFT_ALONE_KEYS_KEPT]),
        )
        for (resource, reason), keys in sorted(by_reason.items())
    )


def _referenced_ids(actions: Iterable[Action], ids: Mapping[str, str]) -> dict[str, str]:
    """Live ids of the existing users that member changes name, and only those."""
    named: set[str] = set()
    for action in actions:
        change = action.member_change
        if change is not None:
            named.update(change.add, change.remove)
    return {key: ids[key] for key in sorted(named) if key in ids}


def _bases(users: UserPlan, groups: GroupPlan, sensitive: tuple[str, ...] = ()) -> LimitBases:
    managed_ids = {u.id for u in users.managed}
    powerful = [g for g in groups.managed if is_sensitive(g.displayName, sensitive)]
    return LimitBases(
        active_users=sum(1 for u in users.managed if u.active),
        users=len(users.managed),
        groups=len(groups.managed),
        memberships=sum(len(g.member_ids & managed_ids) for g in groups.managed),
        sensitive_memberships=sum(len(g.member_ids & managed_ids) for g in powerful),
    )


def is_sensitive(name: str, globs: tuple[str, ...]) -> bool:
    """Whether ``policy.groups.sensitive`` marks this group (globs, folded as identities)."""
    folded = fold_identity(name)
    return any(fnmatchcase(folded, fold_identity(glob)) for glob in globs)


def _sensitive(actions: Iterable[Action], globs: tuple[str, ...]) -> tuple[str, ...]:
    """The groups of the actions that grant power, sorted."""
    names: set[str] = set()
    for action in actions:
        if action.resource is Resource.GROUP:
            named = [action.key, *(str(c.before) for c in action.attribute_changes if c.before)]
            names.update(n for n in named if is_sensitive(n, globs))
    return tuple(sorted(names, key=lambda n: (n.lower(), n)))


def _user_names(
    actions: Iterable[Action], desired: DesiredState, live: LiveSnapshot
) -> dict[str, str]:
    """externalId -> userName for the users the actions name (views show both)."""
    named: set[str] = set()
    for action in actions:
        if action.resource is Resource.USER:
            named.add(action.key)
        change = action.member_change
        if change is not None:
            named.update(change.add, change.remove)
    names = {u.externalId: u.userName for u in desired.users if u.externalId}
    for user in live.users:
        if user.externalId:
            names.setdefault(user.externalId, user.userName)
    return {key: names[key] for key in sorted(named) if key in names}
