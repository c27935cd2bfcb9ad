"""The pure planner: ``plan(desired, live, context) -> Plan``.

No I/O, clock, logging or randomness: the same inputs give a byte-identical JSON
plan. The policy comes from one place, ``desired.policy``. The plan is made in
stages, each a function from frozen inputs to a frozen result:

    match  → which live object each file entry is (planner.match_users,
             planner.match_groups; their result types in planner.identity)
    users  → user actions (planner.users; a rename's email: planner.follow)
    groups → group actions and memberships (planner.groups)
    review → warnings about combinations of actions (planner.review), and about the
             directory's size caps (planner.caps)
    access → who gains and loses which group, however the plan does it (planner.access)
    limits → the safety limits the plan exceeds (reconciler.limits)

``apply --only`` narrows a finished plan (planner.partial). A stage imports only the
stages before it: an import-linter contract in pyproject.toml holds the order.
Only ``match`` relates file entries to live objects; the identity rules are in
docs/identity.md. Objects the policy leaves alone never appear in an action and are
counted in ``Plan.left_alone``; file entries it leaves alone are also warned about.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass

from reconciler.desired import DesiredState
from reconciler.limits import LimitBases, check_limits
from reconciler.live import LiveSnapshot
from reconciler.plan import Action, Blocked, LeftAlone, Plan, Resource
from reconciler.planner.access import AccessReview, review_access
from reconciler.planner.bases import count_bases, is_sensitive
from reconciler.planner.caps import cap_warnings
from reconciler.planner.context import PlanContext
from reconciler.planner.groups import GroupPlan, plan_groups
from reconciler.planner.identity import UserMatches
from reconciler.planner.match_groups import match_groups
from reconciler.planner.partial import Selection, asked_for, select
from reconciler.planner.review import deactivated_members, inactive_joiners
from reconciler.planner.users import LeftAloneEntry, UserPlan
from reconciler.planner.users_first import UsersStaged, stage_users

__all__ = [
    "LEFT_ALONE_KEYS_KEPT",
    "PlanContext",
    "limit_bases",
    "narrow_plan",
    "plan",
    "saved_plan_blocked",
    "stage_users",
]

# Keys the plan keeps per left-alone reason (the views show fewer: render.notation);
# the count beside them is always complete.
LEFT_ALONE_KEYS_KEPT = 20


_First = UsersStaged | None


@dataclass(frozen=True, slots=True)
class _Staged:
    user_matches: UserMatches
    users: UserPlan
    groups: GroupPlan


def _stages(
    desired: DesiredState,
    live: LiveSnapshot,
    context: PlanContext,
    users_first: UsersStaged | None = None,
) -> _Staged:
    """match → users → groups; the users half as ``users_first`` made it, when it was
    made from these inputs (``planner.users_first``)."""
    policy = desired.policy
    if users_first is None or not users_first.made_from(desired, live.users, context):
        users_first = stage_users(desired, live.users, context)
    user_matches, users = users_first.matches, users_first.plan
    group_matches = match_groups(
        desired.groups, live.groups, renames_by_create=context.names_immutable
    )
    groups = plan_groups(
        group_matches,
        users_first.group_members,
        policy.groups,
        users,
        user_matches,
        context,
        live,
    )
    return _Staged(user_matches, users, groups)


def limit_bases(desired: DesiredState, live: LiveSnapshot, context: PlanContext) -> LimitBases:
    """What the percentage limits of ``desired.policy`` are of, in this directory."""
    staged = _stages(desired, live, context)
    return count_bases(staged.users, staged.groups, desired.policy.groups.sensitive)


def saved_plan_blocked(
    saved: Plan, desired: DesiredState, live: LiveSnapshot, context: PlanContext
) -> tuple[Blocked, ...]:
    """The limits of ``desired.policy`` that a saved plan's actions exceed, in this directory.

    ``apply --plan`` with the files holds a saved plan to the limits the files set.
    Nothing is taken from the plan but its actions: its ``access`` (and so its
    sensitive changes), ``blocked`` and ``sensitive_groups`` are worked out again from
    the files and the live read, so a plan edited after review (its digest recomputed,
    as anyone can) cannot pass a limit by leaving a change out of them.
    """
    staged = _stages(desired, live, context)
    globs = desired.policy.groups.sensitive
    review = review_access(
        saved.actions,
        live,
        staged.users,
        staged.user_matches,
        lambda name: is_sensitive(name, globs),
        {},
        staged.groups.flat,
    )
    recounted = saved.model_copy(update={"access": review.access})
    bases = count_bases(staged.users, staged.groups, globs)
    return check_limits(recounted, desired.policy.limits, bases)


def narrow_plan(
    planned: Plan,
    only: Collection[str],
    desired: DesiredState,
    live: LiveSnapshot,
    context: PlanContext,
) -> Plan:
    """``planned`` (made by ``plan`` from these inputs) narrowed to what ``apply --only``
    sends: the objects asked for and what they need (``planner.partial``).

    Everything a reviewer reads of it is of what is sent: the access review, the
    sensitive groups, the limits (over the same bases as the whole plan's) and so the
    digest, which ``--approve`` names. The rest is listed in ``left_for_later``.
    ``ConfigError`` when a key names nothing.
    """
    policy = desired.policy
    chosen = _chosen(planned, only, desired)
    staged = _stages(desired, live, context)
    globs = policy.groups.sensitive
    names = _UserNames(desired, live) if policy.users.key == "externalId" else None
    review = review_access(
        chosen.actions,
        live,
        staged.users,
        staged.user_matches,
        lambda name: is_sensitive(name, globs),
        names or {},
        staged.groups.flat,
    )
    narrowed = planned.model_copy(
        update={
            "actions": chosen.actions,
            "user_ids": _referenced_ids(chosen.actions, planned.user_ids),
            "sensitive_groups": _sensitive(chosen.actions, review, globs),
            "access": review.access,
            "holders": review.holders,
            "blocked": (),
            "left_for_later": chosen.left_for_later,
            "existing_accounts": _accounts_of(planned, chosen.actions),
        }
    )
    bases = count_bases(staged.users, staged.groups, globs)
    blocked = check_limits(narrowed, policy.limits, bases)
    return narrowed.model_copy(update={"blocked": blocked}) if blocked else narrowed


def _chosen(planned: Plan, only: Collection[str], desired: DesiredState) -> Selection:
    """The objects ``--only`` names, by the keys the files give them, and what they need."""
    key_attribute = desired.policy.users.key
    keys = (u.userName if key_attribute == "userName" else u.externalId for u in desired.users)
    asked = asked_for(
        only, planned, [k for k in keys if k], [g.displayName for g in desired.groups]
    )
    return select(planned, asked)


def _accounts_of(planned: Plan, actions: Iterable[Action]) -> dict[str, str]:
    """The plan's ``existing_accounts`` (by key) that the chosen actions are about."""
    keys = {a.key for a in actions}
    return {key: account for key, account in planned.existing_accounts.items() if key in keys}


def plan(
    desired: DesiredState, live: LiveSnapshot, context: PlanContext, *, users_first: _First = None
) -> Plan:
    """Plan the actions that make ``live`` look like ``desired`` under ``desired.policy``
    (``users_first``: ``planner.users_first``; the plan is the same without it)."""
    policy = desired.policy
    staged = _stages(desired, live, context, users_first)
    users, groups = staged.users, staged.groups
    actions = sorted(
        (*users.actions, *groups.actions), key=lambda a: (a.phase, a.key.lower(), a.key)
    )
    key_attribute = policy.users.key
    warnings = (
        *users.warnings,
        *groups.warnings,
        *deactivated_members(actions, users, live.groups, key_attribute),
        *inactive_joiners(actions, desired.users, key_attribute, groups.moved),
        *cap_warnings(actions, live, context.caps),
    )
    left_alone = _left_alone((*users.left_alone, *groups.left_alone))
    names = _UserNames(desired, live) if key_attribute == "externalId" else None
    globs = policy.groups.sensitive
    review = review_access(
        actions,
        live,
        users,
        staged.user_matches,
        lambda name: is_sensitive(name, globs),
        names or {},
        staged.groups.flat,
    )
    result = Plan(
        target=context.target,
        dialect=context.dialect.name,
        user_key=key_attribute,
        token_env=context.token_env,
        rate=context.rate,
        actions=tuple(actions),
        warnings=tuple(sorted(set(warnings), key=lambda w: (w.key.lower(), w.key, w.message))),
        left_alone=left_alone,
        user_ids=_referenced_ids(actions, {**groups.carried_ids, **users.ids}),
        user_names=names.of(_named_users(actions, left_alone, review)) if names else {},
        sensitive_groups=_sensitive(actions, review, globs),
        access=review.access,
        holders=review.holders,
    )
    bases = count_bases(users, groups, globs)
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


def _sensitive(
    actions: Iterable[Action], review: AccessReview, globs: tuple[str, ...]
) -> tuple[str, ...]:
    """The groups of the actions, and those whose access they change, that grant power."""
    names: set[str] = set()
    for action in actions:
        if action.resource is Resource.GROUP:
            named = [action.key, *(str(c.before) for c in action.attribute_changes if c.before)]
            names.update(n for n in named if is_sensitive(n, globs))
    for change in review.access:
        names.update(change.sensitive)
    return tuple(sorted(names, key=lambda n: (n.lower(), n)))


class _UserNames(Mapping[str, str]):
    """externalId -> userName, from the files first, then the directory; built on first use."""

    def __init__(self, desired: DesiredState, live: LiveSnapshot) -> None:
        self._desired, self._live = desired, live
        self._names: dict[str, str] | None = None

    def _table(self) -> dict[str, str]:
        if self._names is None:
            names = {u.externalId: u.userName for u in self._desired.users if u.externalId}
            for user in self._live.users:
                if user.externalId:
                    names.setdefault(user.externalId, user.userName)
            self._names = names
        return self._names

    def __getitem__(self, key: str) -> str:
        return self._table()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())

    def of(self, keys: Iterable[str]) -> dict[str, str]:
        """The userNames of these keys (views show both), sorted by key."""
        table = self._table()
        return {key: table[key] for key in sorted(set(keys)) if key in table}


def _named_users(
    actions: Iterable[Action], left_alone: Iterable[LeftAlone], review: AccessReview
) -> Iterator[str]:
    """Every user key a view names: the actions', their members', left alone, access."""
    for action in actions:
        if action.resource is Resource.USER:
            yield action.key
        change = action.member_change
        if change is not None:
            yield from change.add
            yield from change.remove
    for entry in left_alone:
        if entry.resource is Resource.USER:
            yield from entry.keys
    for person in review.access:
        yield person.key
