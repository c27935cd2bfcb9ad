"""The review stage: warnings about combinations of actions that a person should see.

Reads the actions the users and groups stages planned; adds no actions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from itertools import filterfalse
from operator import attrgetter

from reconciler.desired import UserSpec, fold_user_key
from reconciler.live import LiveGroup
from reconciler.plan import Action, ActionKind, PlanWarning, Resource
from reconciler.planner.users import UserPlan
from reconciler.wording import plural

GROUPS_NAMED = 5  # groups named in one warning; the count is always complete


def _sorted_names(names: Sequence[str]) -> list[str]:
    return sorted(names, key=lambda name: (name.lower(), name))


def deactivated_members(
    actions: Sequence[Action], users: UserPlan, live_groups: Sequence[LiveGroup], key_attribute: str
) -> tuple[PlanWarning, ...]:
    """A user the plan deactivates who stays a member of groups: access may linger."""
    if not users.deactivated:
        return ()
    removed: dict[str, set[str]] = defaultdict(set)  # group id -> folded user keys
    for action in actions:
        change = action.member_change
        if action.resource is Resource.GROUP and change is not None and action.id:
            removed[action.id].update(fold_user_key(k, key_attribute) for k in change.remove)
    deactivated = {user.id for user, _ in users.deactivated}
    groups_of: dict[str, list[LiveGroup]] = defaultdict(list)  # one pass over the groups,
    for group in live_groups:  # not one per deactivated user: both can be thousands
        if deactivated.isdisjoint(group.member_ids):  # nearly every group: no set made
            continue
        for member in group.member_ids & deactivated:
            groups_of[member].append(group)
    warnings = []
    for user, key in users.deactivated:
        folded = fold_user_key(key, key_attribute)
        kept = _sorted_names(
            [g.displayName for g in groups_of[user.id] if folded not in removed[g.id]]
        )
        if kept:
            shown = ", ".join(kept[:GROUPS_NAMED])
            if len(kept) > GROUPS_NAMED:
                shown += f" and {len(kept) - GROUPS_NAMED} more"
            message = f"is deactivated but stays a member of {plural(len(kept), 'group')}: {shown}"
            warnings.append(PlanWarning(key=key, message=message))
    return tuple(warnings)


def inactive_joiners(
    actions: Sequence[Action],
    specs: Sequence[UserSpec],
    key_attribute: str,
    moved: Mapping[str, frozenset[str]],
) -> tuple[PlanWarning, ...]:
    """A user the files keep deactivated (active: false) who joins a group: likely a slip.

    Members a rename moves from the old group to the new one do not join anything.
    """
    inactive = {
        fold_user_key(
            u.userName if key_attribute == "userName" else u.externalId or "", key_attribute
        )
        for u in filterfalse(attrgetter("active"), specs)  # found in C: specs are millions
    }
    joins: dict[str, list[str]] = defaultdict(list)
    for action in actions:
        change = action.member_change
        if action.resource is Resource.GROUP and change is not None:
            already = (
                moved.get(action.key, frozenset()) if action.action is ActionKind.RENAME else ()
            )
            for key in change.add:
                if fold_user_key(key, key_attribute) in inactive and key not in already:
                    joins[key].append(action.key)
    return tuple(
        PlanWarning(
            key=key,
            message=f"is deactivated (active: false) but joins {', '.join(_sorted_names(groups))}",
        )
        for key, groups in sorted(joins.items())
    )
