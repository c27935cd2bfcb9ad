"""The groups stage: from the identity of every group to group actions.

Members are named by user key. Only users the users stage made manageable gain or
lose memberships; other live members are never touched (and, when a rename on a
target with immutable names moves a group, they move with it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.desired import GroupSpec, GroupsPolicy
from reconciler.identifiers import fold_identity, same_text
from reconciler.live import LiveGroup, LiveSnapshot
from reconciler.plan import (
    Action,
    ActionKind,
    Change,
    MemberChange,
    OtherMember,
    PlanWarning,
    Resource,
)
from reconciler.planner.context import PlanContext
from reconciler.planner.group_members import MemberDiff, member_diff, shown
from reconciler.planner.identity import (
    FileGroupMatch,
    GroupMatches,
    Identity,
    LiveGroupMatch,
    UserMatches,
)
from reconciler.planner.users import LeftAloneEntry, UserPlan
from reconciler.scope import left_alone_reason
from reconciler.wording import plural

PREVIOUS_NAME_HELD = "has a previous name of a group in the files (see warnings)"
ADDITIVE_KEPT = "has members the files do not list (policy.groups.members: additive)"
OTHERS_KEPT = (
    "has members that are not users: nested groups or unknown ids (policy.groups.members: additive)"
)
OTHERS_SHOWN = 5  # non-user members named in one warning; the count is always complete


@dataclass(frozen=True, slots=True)
class GroupPlan:
    """What the groups stage decided."""

    actions: tuple[Action, ...] = ()
    warnings: tuple[PlanWarning, ...] = ()
    left_alone: tuple[LeftAloneEntry, ...] = ()
    # Live ids of users a rename carries over without managing them, by key.
    carried_ids: Mapping[str, str] = field(default_factory=dict)
    # For each rename, the keys of the members the old group already had: they move
    # with the group rather than join it.
    moved: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Live groups the plan could change (in scope, unprotected, unambiguous).
    managed: tuple[LiveGroup, ...] = ()
    # For the managed groups whose members the stage compared (not those it deletes
    # unread): how many of their members are accounts in ``UserPlan.key_of_id``, by id.
    accounts: Mapping[str, int] = field(default_factory=dict)
    # Live groups known to nest no group: every member is such an account, and no
    # account's id is a group's. Others may (planner.access looks).
    flat: frozenset[str] = frozenset()


@dataclass
class _Outcome:
    actions: list[Action] = field(default_factory=list)
    warnings: list[PlanWarning] = field(default_factory=list)
    left_alone: list[LeftAloneEntry] = field(default_factory=list)
    carried_ids: dict[str, str] = field(default_factory=dict)
    moved: dict[str, frozenset[str]] = field(default_factory=dict)
    managed: dict[str, LiveGroup] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(PlanWarning(key=key, message=message))


@dataclass(frozen=True, slots=True)
class _Inputs:
    policy: GroupsPolicy
    context: PlanContext
    users: UserPlan
    user_matches: UserMatches
    wanted: Mapping[str, frozenset[str]]  # displayName -> folded member keys
    live: LiveSnapshot
    group_names: Mapping[str, str]  # live group id -> displayName


def plan_groups(
    matches: GroupMatches,
    wanted: Mapping[str, frozenset[str]],
    policy: GroupsPolicy,
    users: UserPlan,
    user_matches: UserMatches,
    context: PlanContext,
    live: LiveSnapshot,
) -> GroupPlan:
    """Group actions for every file group and every live group, as the policy says."""
    group_names = {group.id: group.displayName for group in live.groups}
    inputs = _Inputs(policy, context, users, user_matches, wanted, live, group_names)
    out = _Outcome()
    for match in matches.files:
        _file_group(match, inputs, out)
    shared: dict[str, list[str]] = {}
    for live_match in matches.live:
        _live_group(live_match, policy, out, shared)
    for names in shared.values():
        if len(names) > 1:
            out.warn(min(names), "several live groups share this name; they are left alone")
    return GroupPlan(
        actions=tuple(out.actions),
        warnings=tuple(out.warnings),
        left_alone=tuple(out.left_alone),
        carried_ids=dict(out.carried_ids),
        moved=dict(out.moved),
        managed=tuple(out.managed.values()),
        accounts=out.accounts,
        flat=_flat(out, users, group_names),
    )


def _flat(out: _Outcome, users: UserPlan, group_names: Mapping[str, str]) -> frozenset[str]:
    """``GroupPlan.flat``: what the member comparisons showed, without another look."""
    if not users.key_of_id.keys().isdisjoint(group_names):  # an id names a user and a group
        return frozenset()
    managed = out.managed
    return frozenset(i for i, n in out.accounts.items() if n == len(managed[i].member_ids))


def _owned(policy: GroupsPolicy, name: str) -> str | None:
    return left_alone_reason(name, policy.scope, policy.protect, "groups")


def _file_group(match: FileGroupMatch, inputs: _Inputs, out: _Outcome) -> None:
    spec, group = match.spec, match.group
    name = spec.displayName
    if match.identity is Identity.AMBIGUOUS:
        if spec.previousNames:
            out.warn(name, "cannot be matched: several live groups fit its names; left alone")
        return
    reason = _owned(inputs.policy, name)
    if reason is None and group is not None and group.displayName != name:
        reason = _owned(inputs.policy, group.displayName)
    if reason is not None:
        if group is not None:
            out.left_alone.append((Resource.GROUP, reason, name))
        tail = "left as it is" if group is not None else "not created"
        out.warn(name, f"listed in the files but {reason}; {tail}")
        return
    if group is None or (match.identity is Identity.RENAMED and inputs.context.names_immutable):
        _warn_reserved(name, inputs, out)
    if group is None:
        out.actions.append(_create(spec, inputs))
        return
    out.managed[group.id] = group
    if match.identity is Identity.RENAMED and inputs.context.names_immutable:
        _rename_by_create(spec, group, inputs, out)
    else:
        _update(spec, group, match.identity, inputs, out)
    for leftover in match.leftovers:
        _finish_rename(spec, leftover, inputs, out)


def _warn_reserved(name: str, inputs: _Inputs, out: _Outcome) -> None:
    dialect = inputs.context.dialect
    if dialect.reserved_group(name):
        out.warn(name, dialect.reserved_group_risk)


def _create(spec: GroupSpec, inputs: _Inputs) -> Action:
    members = inputs.users.members
    add = shown(members[k] for k in inputs.wanted[spec.displayName] if k in members)
    changes: list[Change | MemberChange] = [
        Change(path="displayName", before=None, after=spec.displayName)
    ]
    if add:
        changes.append(MemberChange(add=add))
    return Action(
        resource=Resource.GROUP,
        action=ActionKind.CREATE,
        key=spec.displayName,
        changes=tuple(changes),
    )


def _member_diff(spec: GroupSpec, group: LiveGroup, inputs: _Inputs, out: _Outcome) -> MemberDiff:
    diff = member_diff(
        inputs.wanted[spec.displayName],
        group,
        inputs.users,
        authoritative=inputs.policy.members == "authoritative",
        live=inputs.live,
        group_names=inputs.group_names,
    )
    out.accounts[group.id] = diff.accounts
    return diff


def _warn_others(name: str, others: tuple[OtherMember, ...], out: _Outcome) -> None:
    """Under additive, members that are not users stay: say so, for they hold access."""
    named = [f"group {o.group}" if o.group is not None else f"id {o.id}" for o in others]
    listed = ", ".join(named[:OTHERS_SHOWN])
    if len(named) > OTHERS_SHOWN:
        listed += f" and {len(named) - OTHERS_SHOWN} more"
    out.warn(
        name,
        f"has {plural(len(others), 'member that is not a user', 'members that are not users')} "
        f"of the directory ({listed}); "
        "policy.groups.members: additive leaves them, and whoever they hold keeps the "
        "group's access",
    )
    out.left_alone.append((Resource.GROUP, OTHERS_KEPT, name))


def _update(
    spec: GroupSpec, group: LiveGroup, identity: Identity, inputs: _Inputs, out: _Outcome
) -> None:
    name = spec.displayName
    changes: list[Change | MemberChange] = []
    if not same_text(group.displayName, name):  # not "josé" -> "josé": composed alike
        if inputs.context.names_immutable:
            out.warn(
                name,
                f'the live group is named "{group.displayName}"; this target cannot rename '
                "groups, so the name is left as it is",
            )
        else:
            changes.append(Change(path="displayName", before=group.displayName, after=name))
            if identity is Identity.RENAMED:
                out.warn(name, f'renamed: found by its previous name "{group.displayName}"')
    diff = _member_diff(spec, group, inputs, out)
    if diff.kept:
        out.left_alone.append((Resource.GROUP, ADDITIVE_KEPT, name))
    others: tuple[OtherMember, ...] = ()
    if diff.others and inputs.policy.members == "authoritative":
        others = diff.others
    elif diff.others:
        _warn_others(name, diff.others, out)
    if diff.add or diff.remove or others:
        changes.append(MemberChange(add=diff.add, remove=diff.remove, remove_other=others))
    if changes:
        out.actions.append(_on_group(ActionKind.UPDATE, name, group, changes))


def _on_group(
    kind: ActionKind, key: str, group: LiveGroup, changes: list[Change | MemberChange]
) -> Action:
    return Action(
        resource=Resource.GROUP,
        action=kind,
        key=key,
        id=group.id,
        changes=tuple(changes),
        fingerprint=group.fingerprint,
        version=group.version,
    )


def _rename_by_create(spec: GroupSpec, old: LiveGroup, inputs: _Inputs, out: _Outcome) -> None:
    """A rename on a target with immutable names: the new group gets every member that stays."""
    name = spec.displayName
    users = inputs.users
    diff = _member_diff(spec, old, inputs, out)
    carried: dict[str, str] = {}
    authoritative = inputs.policy.members == "authoritative"
    # Under authoritative, members that are not users stay behind with the old group.
    others = {o.id for o in diff.others} if authoritative else set()
    for member_id in sorted(old.member_ids - users.key_of_id.keys() - others):
        key = inputs.user_matches.carry_key(member_id)
        if key is None or key in users.ids or key in carried:
            out.warn(
                name,
                f'not renamed from "{old.displayName}": a member cannot be named uniquely to '
                "carry it over; rename the group by hand",
            )
            return
        carried[key] = member_id
    wanted = {k for k in inputs.wanted[name] if k in users.members}
    add = shown([users.members[k] for k in wanted] + list(diff.kept) + list(carried))
    out.carried_ids.update(carried)
    had = {users.members[users.key_of_id[i]] for i in old.member_ids if i in users.key_of_id}
    out.moved[name] = frozenset(had | carried.keys())
    out.warn(
        name,
        f'renamed from "{old.displayName}": this target cannot rename groups, so a group '
        f"named {name} is created with {plural(len(add), 'member')} and the old group is deleted; "
        "access granted to the old group does not carry over",
    )
    changes: list[Change | MemberChange] = [
        Change(path="displayName", before=old.displayName, after=name),
        MemberChange(add=add, remove=diff.remove, remove_other=diff.others if others else ()),
    ]
    out.actions.append(_on_group(ActionKind.RENAME, name, old, changes))


def _finish_rename(spec: GroupSpec, leftover: LiveGroup, inputs: _Inputs, out: _Outcome) -> None:
    """The old group of a rename that stopped after the new group was created."""
    reason = _owned(inputs.policy, leftover.displayName)
    if reason is not None:
        out.left_alone.append((Resource.GROUP, reason, leftover.displayName))
        return
    out.managed[leftover.id] = leftover
    out.warn(
        leftover.displayName,
        f"is a previous name of {spec.displayName}, which exists: deleting it finishes "
        "an earlier rename",
    )
    out.actions.append(_on_group(ActionKind.DELETE, leftover.displayName, leftover, []))


def _live_group(
    match: LiveGroupMatch, policy: GroupsPolicy, out: _Outcome, shared: dict[str, list[str]]
) -> None:
    group = match.group
    name = group.displayName
    if match.identity is Identity.AMBIGUOUS:
        shared.setdefault(fold_identity(name), []).append(name)
        return
    if match.identity is Identity.COLLIDES:
        assert match.by is not None, "a colliding live group is wanted by a file group"
        out.left_alone.append((Resource.GROUP, PREVIOUS_NAME_HELD, name))
        out.warn(
            match.by,
            f'a live group is still named "{name}", one of its previous names; that group '
            "is left alone",
        )
        return
    if match.identity is not Identity.UNMATCHED:
        return
    reason = _owned(policy, name)
    if reason is None:
        out.managed[group.id] = group
        if policy.unmanaged == "delete":
            out.actions.append(_on_group(ActionKind.DELETE, name, group, []))
            return
        reason = "not in the files (policy.groups.unmanaged: ignore)"
    out.left_alone.append((Resource.GROUP, reason, name))
