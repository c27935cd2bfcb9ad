"""One group's members compared: the live members the files list, and those they do not.

Part of the groups stage (planner.groups). Members are named by user key; only users
the users stage made manageable (``UserPlan.key_of_id``) are compared, and every other
live member (a nested group, an unknown id) is an *other* member.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import cast

from reconciler.live import LiveGroup, LiveSnapshot
from reconciler.plan import OtherMember
from reconciler.planner.users import UserPlan


@dataclass(frozen=True, slots=True)
class MemberDiff:
    """How a live group's members differ from the members the files give it."""

    add: tuple[str, ...]
    remove: tuple[str, ...]
    kept: tuple[str, ...]  # manageable live members the files do not list, kept (additive)
    # Live members that are not users (nested groups, unknown ids): removed under
    # authoritative, kept (and warned about) under additive.
    others: tuple[OtherMember, ...] = ()
    # How many of the live members are accounts of manageable users (``key_of_id``).
    accounts: int = 0


def member_diff(
    listed: frozenset[str],
    group: LiveGroup,
    users: UserPlan,
    *,
    authoritative: bool,
    live: LiveSnapshot,
    group_names: Mapping[str, str],
) -> MemberDiff:
    """The members (``listed``: folded keys, from the files) ``group`` gains and loses."""
    # One look-up per live member, made in C: a million users hold millions of
    # memberships. None stands for every member that is no manageable user.
    found: set[str | None] = set(map(users.key_of_id.get, group.member_ids))
    strays = None in found
    found.discard(None)
    held = cast(set[str], found)
    # Every held key is a member's: files that list only held members (the common
    # case) need no look-up of their own, and add nobody.
    wanted = listed if listed <= held else listed & users.members.keys()
    extra = held - wanted
    others = _others(group, users, live, group_names) if strays else ((), 0)
    return MemberDiff(
        add=() if wanted is listed else shown(users.members[k] for k in wanted - held),
        remove=shown(users.members[k] for k in extra) if authoritative else (),
        kept=() if authoritative else shown(users.members[k] for k in extra),
        others=others[0],
        accounts=len(group.member_ids) - others[1],
    )


def _others(
    group: LiveGroup, users: UserPlan, live: LiveSnapshot, group_names: Mapping[str, str]
) -> tuple[tuple[OtherMember, ...], int]:
    """The group's live members that are not users, nested groups by name first; and
    how many members are not manageable users' accounts (those and unmanaged users)."""
    strays = [member for member in group.member_ids if member not in users.key_of_id]
    found = [
        OtherMember(id=member, group=group_names.get(member))
        for member in strays
        if live.user_by_id(member) is None
    ]
    ordered = sorted(found, key=lambda o: (o.group is None, (o.group or "").lower(), o.id))
    return tuple(ordered), len(strays)


def shown(keys: Iterable[str]) -> tuple[str, ...]:
    """Keys as a plan shows them: once each, sorted case-blind."""
    return tuple(sorted(set(keys), key=lambda k: (k.lower(), k)))
