"""Warnings for a plan that takes the directory, or a group, over its size caps.

A directory holds at most so many users, groups and memberships, and a group so many
members (``DirectoryCaps``: Atlassian's published maxima, or the files'
``target.caps``; docs/atlassian.md "Size caps"). The writes past a cap fail, so the plan says so
before anything is sent. The counts are what the directory will hold after the plan:
the live users and groups, plus the creates, less the group deletions; a group's
members as the plan leaves them, and all groups' memberships together.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from reconciler.dialect import DirectoryCaps
from reconciler.live import LiveGroup, LiveSnapshot
from reconciler.plan import Action, ActionKind, PlanWarning, Resource

# The key of a warning about the directory as a whole, not one of its objects.
DIRECTORY_KEY = "(directory)"


def cap_warnings(
    actions: Sequence[Action], live: LiveSnapshot, caps: DirectoryCaps | None
) -> tuple[PlanWarning, ...]:
    """One warning per cap the directory or a group will exceed after ``actions``."""
    if caps is None:
        return ()
    return tuple(_warnings(actions, live, caps))


def _warnings(
    actions: Sequence[Action], live: LiveSnapshot, caps: DirectoryCaps
) -> Iterator[PlanWarning]:
    creates = _count(actions, Resource.USER, ActionKind.CREATE)
    if caps.users is not None and creates and len(live.users) + creates > caps.users:
        yield _over("users", len(live.users) + creates, caps.users, "target.caps.users")
    new_groups = _count(actions, Resource.GROUP, ActionKind.CREATE)
    groups = len(live.groups) + new_groups - _count(actions, Resource.GROUP, ActionKind.DELETE)
    if caps.groups is not None and new_groups and groups > caps.groups:
        yield _over("groups", groups, caps.groups, "target.caps.groups")
    by_id = {group.id: group for group in live.groups}
    if caps.memberships is not None:
        total = _memberships_after(actions, by_id)
        if total > caps.memberships and any(_members_after(a, by_id) for a in actions):
            yield PlanWarning(
                key=DIRECTORY_KEY,
                message=(
                    f"will hold {total} group memberships after this plan, over its cap of "
                    f"{caps.memberships} (target.caps.memberships): the member additions "
                    "past it will fail"
                ),
            )
    if caps.group_members is None:
        return
    for action in actions:
        members = _members_after(action, by_id)
        if members is not None and members > caps.group_members:
            yield PlanWarning(
                key=action.key,
                message=(
                    f"will hold {members} members after this plan, over the cap of "
                    f"{caps.group_members} members per group (target.caps.group_members): "
                    "the writes that take it over will fail"
                ),
            )


def _over(what: str, count: int, cap: int, setting: str) -> PlanWarning:
    return PlanWarning(
        key=DIRECTORY_KEY,
        message=(
            f"will hold {count} {what} after this plan, over its cap of {cap} ({setting}): "
            f"the creates past it will fail"
        ),
    )


def _count(actions: Iterable[Action], resource: Resource, kind: ActionKind) -> int:
    return sum(1 for a in actions if a.resource is resource and a.action is kind)


def _memberships_after(actions: Sequence[Action], live: dict[str, LiveGroup]) -> int:
    """The memberships of every group together once the plan is applied: the live ones,
    with each group's member changes, less those of the groups it deletes."""
    total = sum(len(group.member_ids) for group in live.values())
    for action in actions:
        if action.resource is not Resource.GROUP:
            continue
        group = live.get(action.id or "")
        if action.action in (ActionKind.DELETE, ActionKind.RENAME) and group is not None:
            total -= len(group.member_ids)  # a rename moves them to the new group: added
        change = action.member_change
        if action.action is not ActionKind.DELETE and change is not None:
            total += len(change.add) - (0 if action.action is ActionKind.RENAME else change.removes)
    return total


def _members_after(action: Action, live: dict[str, LiveGroup]) -> int | None:
    """Members a group gains in the plan will leave it with; None when it gains none."""
    change = action.member_change
    if action.resource is not Resource.GROUP or change is None or not change.add:
        return None
    if action.action in (ActionKind.CREATE, ActionKind.RENAME):
        return len(change.add)  # a new group: every member is in the create
    group = live.get(action.id or "")
    held = len(group.member_ids) if group is not None else 0
    return held + len(change.add) - change.removes
