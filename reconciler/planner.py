"""The pure planner: ``plan(desired, live, policy, context) -> Plan``.

No I/O, clock, logging or randomness: the same inputs give a byte-identical JSON
plan. Users are matched by ``policy.users.key`` (userName case-insensitively, or
externalId), groups by displayName case-insensitively. Only attributes the files
mention are compared (field ownership); multi-valued attributes compare as sets.

Objects outside ``scope`` and ``protect``ed objects never appear in an action, and
neither do memberships of such users: what the policy leaves alone is counted in
``Plan.left_alone`` so a reviewer can see why a live object was not touched.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, TypeVar

from reconciler.attributes import create_user_attributes, desired_user_attributes, same_value
from reconciler.desired import DesiredState, Policy, UserSpec
from reconciler.limits import check_limits
from reconciler.live import LiveGroup, LiveSnapshot, LiveUser
from reconciler.plan import (
    Action,
    ActionKind,
    Change,
    LeftAlone,
    MemberChange,
    Plan,
    PlanWarning,
    Resource,
)
from reconciler.scope import left_alone_reason

T = TypeVar("T")

LEFT_ALONE_KEYS = 20  # keys shown per left-alone reason; the count is always complete


@dataclass(frozen=True, slots=True)
class PlanContext:
    """Facts about the target that shape a plan."""

    target: str
    dialect: str  # "atlassian" or "generic"

    @property
    def names_immutable(self) -> bool:
        return self.dialect == "atlassian"


def plan(desired: DesiredState, live: LiveSnapshot, policy: Policy, context: PlanContext) -> Plan:
    """Plan the actions that make ``live`` look like ``desired`` under ``policy``."""
    return _Planner(desired, live, policy, context).run()


class _Planner:
    def __init__(
        self, desired: DesiredState, live: LiveSnapshot, policy: Policy, context: PlanContext
    ) -> None:
        self.desired = desired
        self.live = live
        self.policy = policy
        self.context = context
        self.actions: list[Action] = []
        self.warnings: list[PlanWarning] = []
        self.left_alone: dict[tuple[Resource, str], list[str]] = defaultdict(list)
        self.user_ids: dict[str, str] = {}
        # Folded user key -> display key, for users whose memberships may change.
        self.manageable: dict[str, str] = {}
        self.deactivated: dict[str, LiveUser] = {}
        # Folded keys that match several live objects: never created, changed or removed.
        self.ambiguous_users: set[str] = set()
        self.by_user_name = {u.userName.lower(): u for u in live.users}
        self.ambiguous_groups: set[str] = set()

    # -- keys and ownership ---------------------------------------------------------

    def fold(self, key: str) -> str:
        return key.lower() if self.policy.users.key == "userName" else key

    def live_key(self, user: LiveUser) -> str | None:
        return user.userName if self.policy.users.key == "userName" else user.externalId

    def user_owned(self, user_name: str) -> str | None:
        """Why the policy keeps its hands off a user, or None when it may change it."""
        users = self.policy.users
        return left_alone_reason(user_name, users.scope, users.protect, "users")

    def group_owned(self, name: str) -> str | None:
        groups = self.policy.groups
        return left_alone_reason(name, groups.scope, groups.protect, "groups")

    # -- the run --------------------------------------------------------------------

    def run(self) -> Plan:
        live_users = self.index_live_users()
        self.plan_users(live_users)
        self.plan_groups()
        self.warn_deactivated_members()
        self.warn_inactive_joiners()
        actions = sorted(self.actions, key=lambda a: (a.phase, a.key.lower(), a.key))
        plan_ = Plan(
            target=self.context.target,
            dialect=self.context.dialect,
            user_key=self.policy.users.key,
            actions=tuple(actions),
            warnings=tuple(sorted(self.warnings, key=lambda w: (w.key.lower(), w.key, w.message))),
            left_alone=tuple(
                LeftAlone(
                    resource=resource,
                    reason=reason,
                    count=len(keys),
                    keys=tuple(sorted(keys, key=lambda k: (k.lower(), k))[:LEFT_ALONE_KEYS]),
                )
                for (resource, reason), keys in sorted(self.left_alone.items())
            ),
            user_ids=self.referenced_ids(actions),
        )
        blocked = check_limits(plan_, self.policy, self.in_scope_counts())
        return plan_.model_copy(update={"blocked": blocked}) if blocked else plan_

    def referenced_ids(self, actions: list[Action]) -> dict[str, str]:
        """Live ids of the existing users that member changes name, and only those."""
        named: set[str] = set()
        for action in actions:
            change = action.member_change
            if change is not None:
                named.update(change.add, change.remove)
        return {k: v for k, v in sorted(self.user_ids.items()) if k in named}

    def index_live_users(self) -> dict[str, LiveUser]:
        keyed: list[tuple[str, str, LiveUser]] = []
        for user in self.live.users:
            key = self.live_key(user)
            if key is None:
                # Cannot be matched to any file, so never changed; but shown.
                reason = "has no externalId to match on (policy.users.key: externalId)"
                self.left_alone[(Resource.USER, reason)].append(user.userName)
            else:
                keyed.append((self.fold(key), key, user))
        index, self.ambiguous_users = self.unique(keyed, "users share this key")
        return index

    def unique(self, keyed: list[tuple[str, str, T]], clash: str) -> tuple[dict[str, T], set[str]]:
        """Index objects by folded key; keys several objects share are warned and left out."""
        groups: dict[str, list[str]] = defaultdict(list)
        index: dict[str, T] = {}
        for folded, key, obj in keyed:
            groups[folded].append(key)
            index[folded] = obj
        clashes = {folded for folded, keys in groups.items() if len(keys) > 1}
        for folded in sorted(clashes):
            key = min(groups[folded])
            self.warnings.append(
                PlanWarning(key=key, message=f"several live {clash}; they are left alone")
            )
            del index[folded]
        return index, clashes

    def plan_users(self, live_users: dict[str, LiveUser]) -> None:
        desired_keys: set[str] = set()
        for spec in self.desired.users:
            key = self.desired.user_key(spec)
            folded = self.fold(key)
            desired_keys.add(folded)
            if folded in self.ambiguous_users:
                continue  # warned about in index_live_users; creating would duplicate
            current = live_users.get(folded)
            reason = self.user_owned(spec.userName) or (
                self.user_owned(current.userName) if current else None
            )
            if reason is not None:
                if current is not None:
                    self.left_alone[(Resource.USER, reason)].append(key)
                else:
                    self.warnings.append(
                        PlanWarning(
                            key=key, message=f"listed in the files but {reason}; not created"
                        )
                    )
                continue
            if current is None and (holder := self.holder_of(spec)) is not None:
                # Matching by externalId, the userName is taken by another account:
                # a create would 409 and adopt (merge) that account. Left to a person.
                self.warnings.append(
                    PlanWarning(
                        key=key,
                        message=(
                            f"its userName {spec.userName} belongs to the live account with "
                            f"externalId {holder.externalId}; not created"
                        ),
                    )
                )
                continue
            self.manageable[folded] = key
            if current is None:
                self.actions.append(self.create_user(spec, key))
            else:
                self.user_ids[key] = current.id
                action = self.update_user(spec, key, current)
                if action is not None:
                    self.actions.append(action)
        for folded, user in sorted(live_users.items()):
            if folded in desired_keys:
                continue
            key = self.live_key(user) or user.userName
            reason = self.user_owned(user.userName)
            if reason is None:
                self.manageable[folded] = key
                self.user_ids[key] = user.id
                if self.policy.users.unmanaged == "deactivate":
                    if user.active:
                        self.deactivate(user, key, ())
                    continue
                reason = "not in the files (policy.users.unmanaged: ignore)"
            self.left_alone[(Resource.USER, reason)].append(key)

    def holder_of(self, spec: UserSpec) -> LiveUser | None:
        """With key: externalId, the live user with another externalId holding this userName."""
        if self.policy.users.key != "externalId":
            return None
        holder = self.by_user_name.get(spec.userName.lower())
        if holder is None or holder.externalId is None or holder.externalId == spec.externalId:
            return None
        return holder

    def create_user(self, spec: UserSpec, key: str) -> Action:
        attrs = create_user_attributes(spec)
        changes = tuple(Change(path=p, before=None, after=v) for p, v in sorted(attrs.items()))
        return Action(resource=Resource.USER, action=ActionKind.CREATE, key=key, changes=changes)

    def update_user(self, spec: UserSpec, key: str, current: LiveUser) -> Action | None:
        changes: list[Change] = []
        for path, wanted in sorted(desired_user_attributes(spec).items()):
            have = current.attributes.get(path)
            if not same_value(path, have, wanted):
                changes.append(Change(path=path, before=have, after=wanted))
        for change in changes:
            if change.path in ("userName", "emails"):
                self.warnings.append(PlanWarning(key=key, message=self.identity_warning(change)))
        if spec.active and not current.active:
            changes.append(Change(path="active", before=False, after=True))
            kind = ActionKind.REACTIVATE
        elif not spec.active and current.active:
            self.deactivate(current, key, tuple(changes))
            return None
        elif changes:
            kind = ActionKind.UPDATE
        else:
            return None
        return Action(
            resource=Resource.USER,
            action=kind,
            key=key,
            id=current.id,
            changes=tuple(changes),
            fingerprint=current.fingerprint,
            version=current.version,
        )

    def identity_warning(self, change: Change) -> str:
        what = "userName" if change.path == "userName" else "email"
        where = (
            "Atlassian may unlink the account and drop it from its groups"
            if self.context.dialect == "atlassian"
            else "the identity provider link may break"
        )
        return f"changes the {what} of an existing account: {where}"

    def deactivate(self, user: LiveUser, key: str, changes: tuple[Change, ...]) -> None:
        self.deactivated[user.id] = user
        self.actions.append(
            Action(
                resource=Resource.USER,
                action=ActionKind.DEACTIVATE,
                key=key,
                id=user.id,
                changes=(*changes, Change(path="active", before=True, after=False)),
                fingerprint=user.fingerprint,
                version=user.version,
            )
        )

    # -- groups ---------------------------------------------------------------------

    def plan_groups(self) -> None:
        live_groups = self.index_live_groups()
        wanted_members = self.desired.group_members()
        desired_names: set[str] = set()
        for spec in self.desired.groups:
            folded = spec.displayName.lower()
            desired_names.add(folded)
            if folded in self.ambiguous_groups:
                continue  # warned about in index_live_groups; creating would add another
            current = live_groups.get(folded)
            reason = self.group_owned(spec.displayName)
            if reason is not None:
                if current is not None:
                    self.left_alone[(Resource.GROUP, reason)].append(spec.displayName)
                else:
                    self.warnings.append(
                        PlanWarning(
                            key=spec.displayName,
                            message=f"listed in the files but {reason}; not created",
                        )
                    )
                continue
            members = {self.fold(k) for k in wanted_members[spec.displayName]}
            if current is None:
                self.create_group(spec.displayName, members)
            else:
                self.update_group(spec.displayName, current, members)
        for folded, group in sorted(live_groups.items()):
            if folded in desired_names:
                continue
            reason = self.group_owned(group.displayName)
            if reason is None:
                if self.policy.groups.unmanaged == "delete":
                    self.actions.append(
                        Action(
                            resource=Resource.GROUP,
                            action=ActionKind.DELETE,
                            key=group.displayName,
                            id=group.id,
                            fingerprint=group.fingerprint,
                            version=group.version,
                        )
                    )
                    continue
                reason = "not in the files (policy.groups.unmanaged: ignore)"
            self.left_alone[(Resource.GROUP, reason)].append(group.displayName)

    def index_live_groups(self) -> dict[str, LiveGroup]:
        keyed = [(g.displayName.lower(), g.displayName, g) for g in self.live.groups]
        index, self.ambiguous_groups = self.unique(keyed, "groups share this name")
        return index

    def create_group(self, name: str, members: set[str]) -> None:
        add = self.sorted_keys(m for m in members if m in self.manageable)
        changes: list[Any] = [Change(path="displayName", before=None, after=name)]
        if add:
            changes.append(MemberChange(add=add))
        self.actions.append(
            Action(
                resource=Resource.GROUP,
                action=ActionKind.CREATE,
                key=name,
                changes=tuple(changes),
            )
        )

    def update_group(self, name: str, current: LiveGroup, members: set[str]) -> None:
        changes: list[Any] = []
        if current.displayName != name:
            if self.context.names_immutable:
                self.warnings.append(
                    PlanWarning(
                        key=name,
                        message=(
                            f'the live group is named "{current.displayName}"; this target '
                            "cannot rename groups, so the name is left as it is"
                        ),
                    )
                )
            else:
                changes.append(Change(path="displayName", before=current.displayName, after=name))
        live_members: dict[str, str] = {}  # folded user key -> live id
        for member_id in current.member_ids:
            user = self.live.user_by_id(member_id)
            key = self.live_key(user) if user is not None else None
            if key is not None:
                live_members[self.fold(key)] = member_id
        add = self.sorted_keys(m for m in members - live_members.keys() if m in self.manageable)
        leaving = set()
        if self.policy.groups.members == "authoritative":
            leaving = {m for m in live_members.keys() - members if m in self.manageable}
            for folded in leaving:
                self.user_ids.setdefault(self.manageable[folded], live_members[folded])
        remove = self.sorted_keys(leaving)
        kept = {m for m in live_members.keys() - members if m in self.manageable} - leaving
        if kept:
            # Visible to a reviewer: these members stay only because of the policy.
            reason = "has members the files do not list (policy.groups.members: additive)"
            self.left_alone[(Resource.GROUP, reason)].append(name)
        if add or remove:
            changes.append(MemberChange(add=add, remove=remove))
        if changes:
            self.actions.append(
                Action(
                    resource=Resource.GROUP,
                    action=ActionKind.UPDATE,
                    key=name,
                    id=current.id,
                    changes=tuple(changes),
                    fingerprint=current.fingerprint,
                    version=current.version,
                )
            )

    def sorted_keys(self, folded_keys: Any) -> tuple[str, ...]:
        return tuple(
            sorted((self.manageable[k] for k in folded_keys), key=lambda k: (k.lower(), k))
        )

    # -- review warnings and limits ---------------------------------------------------

    def warn_deactivated_members(self) -> None:
        if not self.deactivated:
            return
        removed: dict[str, set[str]] = defaultdict(set)  # group id -> folded user keys
        for action in self.actions:
            change = action.member_change
            if action.resource is Resource.GROUP and change is not None and action.id:
                removed[action.id].update(self.fold(k) for k in change.remove)
        for user in self.deactivated.values():
            folded = self.fold(self.live_key(user) or user.userName)
            key = self.manageable.get(folded, user.userName)
            kept = sorted(
                (
                    g.displayName
                    for g in self.live.groups
                    if user.id in g.member_ids and folded not in removed[g.id]
                ),
                key=lambda name: (name.lower(), name),
            )
            if kept:
                shown = ", ".join(kept[:5]) + (
                    f" and {len(kept) - 5} more" if len(kept) > 5 else ""
                )
                self.warnings.append(
                    PlanWarning(
                        key=key,
                        message=(
                            f"is deactivated but stays a member of {len(kept)} group(s): {shown}"
                        ),
                    )
                )

    def warn_inactive_joiners(self) -> None:
        """A user kept deactivated (active: false) who is added to a group: likely a slip."""
        inactive = {self.fold(self.desired.user_key(u)) for u in self.desired.users if not u.active}
        joins: dict[str, list[str]] = defaultdict(list)
        for action in self.actions:
            change = action.member_change
            if action.resource is Resource.GROUP and change is not None:
                for key in change.add:
                    if self.fold(key) in inactive:
                        joins[key].append(action.key)
        for key, groups in sorted(joins.items()):
            names = ", ".join(sorted(groups, key=lambda g: (g.lower(), g)))
            self.warnings.append(
                PlanWarning(key=key, message=f"is deactivated (active: false) but joins {names}")
            )

    def in_scope_counts(self) -> tuple[int, int, int]:
        """Managed live users, managed live groups, and those groups' memberships.

        Managed means the plan could change it: in scope, not protected, and
        matchable (it has a key that no other live object shares). Counting
        unmatchable users would let a percentage limit grow past what is managed.
        """
        users = sum(1 for u in self.live.users if self.user_managed(u))
        groups = [
            g
            for g in self.live.groups
            if self.group_owned(g.displayName) is None
            and g.displayName.lower() not in self.ambiguous_groups
        ]
        return users, len(groups), sum(len(g.member_ids) for g in groups)

    def user_managed(self, user: LiveUser) -> bool:
        key = self.live_key(user)
        return (
            key is not None
            and self.fold(key) not in self.ambiguous_users
            and self.user_owned(user.userName) is None
        )
