"""Partial applies (``apply --only KEY``): which of a plan's actions an emergency sends.

Terraform's ``-target`` for a directory: an operator asks for a few users or groups,
and only their actions and what those need are sent; the rest waits for a later run,
and the next plan shows it again. What is asked for, by kind of key:

- **A user key** (userName, or externalId under ``key: externalId``): the user's own
  action (create, update, deactivate, ...), and that user's membership changes in the
  groups that exist: each such group action is split, and only the members asked for
  move (a narrowed ``MemberChange``, a subset of the planned one, against the same
  live object and fingerprint). Whatever else the group action does (other members, a
  new name, members that are not users) waits. A membership in a group the plan
  creates, renames by create or deletes goes with that group's action, which is not
  asked for by naming a user: ask for the group too.
- **A group name**: the group's whole action.
- **What they need**: a user added to a group is created (or taken over, ``adopt``)
  first, so a member added by an action that is sent brings that user's create or
  adoption with it, whole.

A key that names no user or group of the files and no object of the plan is a
mistake (a typo in an emergency is worth stopping for), not an empty request. Keys
compare as the planner matches them: userNames and group names in any letter case,
externalIds exactly.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from reconciler.errors import ConfigError
from reconciler.plan import Action, ActionKind, LeftForLater, MemberChange, Plan, Resource

# The user actions a member add of the same user needs to have happened first.
_MAKES_A_USER = frozenset({ActionKind.CREATE, ActionKind.ADOPT})


@dataclass(frozen=True, slots=True)
class Asked:
    """What ``--only`` asked for, as keys folded the way they compare."""

    users: frozenset[str]
    groups: frozenset[str]
    case_sensitive_users: bool  # policy.users.key: externalId

    def user(self, key: str) -> str:
        return key if self.case_sensitive_users else key.lower()

    def names_user(self, key: str) -> bool:
        return self.user(key) in self.users

    def names_group(self, name: str) -> bool:
        return name.lower() in self.groups


@dataclass(frozen=True, slots=True)
class Selection:
    """The actions to send, in plan order, and what waits."""

    actions: tuple[Action, ...]
    left_for_later: tuple[LeftForLater, ...]


def asked_for(
    only: Iterable[str],
    plan: Plan,
    file_users: Collection[str] = (),
    file_groups: Collection[str] = (),
) -> Asked:
    """The users and groups ``only`` names; ``ConfigError`` naming the keys that name
    nothing: no user or group of the files (``file_users``: their keys), and no object
    an action of ``plan`` changes or moves."""
    case_sensitive = plan.user_key == "externalId"

    def fold(key: str) -> str:
        return key if case_sensitive else key.lower()

    users = {fold(key) for key in file_users}
    groups = {name.lower() for name in file_groups}
    for action in plan.actions:
        if action.resource is Resource.USER:
            users.add(fold(action.key))
            continue
        groups.add(action.key.lower())
        change = action.member_change
        if change is not None:
            users.update(fold(key) for key in (*change.add, *change.remove))
    asked = tuple(dict.fromkeys(key.strip() for key in only))
    if "" in asked:
        raise ConfigError("--only needs a user key or a group name, not an empty string")
    unknown = [key for key in asked if fold(key) not in users and key.lower() not in groups]
    if unknown:
        raise ConfigError(
            f"--only {', '.join(unknown)}: no user or group of the files, and nothing the "
            "plan changes, has this key; nothing was sent. Give a user key (the "
            f"{plan.user_key}) or a group's displayName"
        )
    return Asked(
        users=frozenset(fold(key) for key in asked if fold(key) in users),
        groups=frozenset(key.lower() for key in asked if key.lower() in groups),
        case_sensitive_users=case_sensitive,
    )


def select(plan: Plan, asked: Asked) -> Selection:
    """The actions of ``plan`` that ``asked`` sends, and the rest (module docstring)."""
    chosen: dict[int, Action] = {}
    left: dict[int, LeftForLater] = {}
    needed: set[str] = set()  # users added to a group by what is sent, folded
    for index, action in enumerate(plan.actions):
        if action.resource is Resource.USER:
            if asked.names_user(action.key):
                chosen[index] = action
            continue
        if asked.names_group(action.key):
            chosen[index] = action
        elif action.action is ActionKind.UPDATE and _moves_asked(action, asked):
            chosen[index] = _their_memberships(action, asked)
            left[index] = _left(action, split=True)
        else:
            left[index] = _left(action)
            continue
        change = chosen[index].member_change
        needed.update(asked.user(key) for key in (change.add if change else ()))
    for index, action in enumerate(plan.actions):
        if (
            index not in chosen
            and action.resource is Resource.USER
            and action.action in _MAKES_A_USER
            and asked.user(action.key) in needed
        ):
            chosen[index] = action
    for index, action in enumerate(plan.actions):
        if index not in chosen and index not in left:
            left[index] = _left(action)
    return Selection(
        actions=tuple(chosen[i] for i in sorted(chosen)),
        left_for_later=tuple(_without_empty_rests(plan, chosen, left)),
    )


def _moves_asked(action: Action, asked: Asked) -> bool:
    change = action.member_change
    return change is not None and any(
        asked.names_user(key) for key in (*change.add, *change.remove)
    )


def _their_memberships(action: Action, asked: Asked) -> Action:
    """The group action with only the asked users' member changes: the same live object
    (id, fingerprint, version), a subset of the same member change."""
    change = action.member_change
    assert change is not None, "only actions that move an asked user are split"
    narrowed = MemberChange(
        add=tuple(key for key in change.add if asked.names_user(key)),
        remove=tuple(key for key in change.remove if asked.names_user(key)),
    )
    return action.model_copy(update={"changes": (narrowed,)})


def _left(action: Action, *, split: bool = False) -> LeftForLater:
    return LeftForLater(resource=action.resource, action=action.action, key=action.key, split=split)


def _without_empty_rests(
    plan: Plan, chosen: dict[int, Action], left: dict[int, LeftForLater]
) -> Iterable[LeftForLater]:
    """What waits, in plan order; a split action whose every change was sent is no rest."""
    for index in sorted(left):
        entry = left[index]
        if entry.split and chosen[index].changes == plan.actions[index].changes:
            continue
        yield entry
