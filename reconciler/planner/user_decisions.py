"""What the users stage decides, one user at a time, and the fold into its result.

Each step of ``planner.users`` returns a ``Decision`` for one file user or one live
user and changes nothing; ``fold`` gathers them, in order, into the ``UserPlan``. The
live users are decided after the file users, knowing only what those settled
(``FileUsersDecided``): that is the one ordering between the steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from reconciler.live import LiveUser
from reconciler.plan import Action, PlanWarning, Resource

LeftAloneEntry = tuple[Resource, str, str]  # (resource, reason, key)


@dataclass(frozen=True, slots=True)
class UserPlan:
    """What the users stage decided, for the plan and for the stages after it."""

    actions: tuple[Action, ...] = ()
    warnings: tuple[PlanWarning, ...] = ()
    left_alone: tuple[LeftAloneEntry, ...] = ()
    # Users whose memberships the plan may change: folded key -> key as shown.
    members: Mapping[str, str] = field(default_factory=dict)
    # Live id -> folded key of the users in ``members`` that exist.
    key_of_id: Mapping[str, str] = field(default_factory=dict)
    # Key as shown -> live id, for the existing users in ``members``.
    ids: Mapping[str, str] = field(default_factory=dict)
    # Accounts the plan deactivates, with their key as shown.
    deactivated: tuple[tuple[LiveUser, str], ...] = ()
    # Live accounts the plan could change (in scope, unprotected, matchable).
    managed: tuple[LiveUser, ...] = ()


class Decision(NamedTuple):
    """What the users stage decided for one file user or one live user.

    Empty fields are what it leaves unchanged. (A tuple, not a dataclass: one is made
    for every user of a directory, and a directory has millions.)
    """

    warnings: tuple[PlanWarning, ...] = ()
    action: Action | None = None
    left_alone: LeftAloneEntry | None = None
    # A user whose memberships the plan may change: key as shown, folded key, account.
    manages: tuple[str, str, LiveUser | None] | None = None
    # An account the plan deactivates, with its key as shown.
    deactivates: tuple[LiveUser, str] | None = None
    # A live account whose fate this decision settled, and one a warning of it names:
    # the live users' pass says nothing more of either.
    settles: str | None = None
    names: str | None = None
    # An ambiguous live user's key, folded and as shown: warned about once per key.
    shared_key: tuple[str, str] | None = None


NOTHING = Decision()


@dataclass(frozen=True, slots=True)
class FileUsersDecided:
    """What the live users' pass needs to know of the file users' decisions."""

    settled: frozenset[str]  # live ids whose fate a file user's entry decided
    named: frozenset[str]  # live ids a warning already names (holders of a wanted identity)
    managed: frozenset[str]  # live ids a file user manages (its account, or one it adopts)

    @classmethod
    def of(cls, decisions: Iterable[Decision]) -> FileUsersDecided:
        settled: set[str] = set()
        named: set[str] = set()
        managed: set[str] = set()
        for decision in decisions:
            if decision is NOTHING:
                continue
            manages, settles, names = decision.manages, decision.settles, decision.names
            if manages is not None and manages[2] is not None:
                managed.add(manages[2].id)
            if settles is not None:
                settled.add(settles)
            if names is not None:
                named.add(names)
        return cls(frozenset(settled), frozenset(named), frozenset(managed))


def fold(decisions: Iterable[Decision]) -> UserPlan:
    """Every decision, in order, gathered into the stage's result."""
    actions: list[Action] = []
    warnings: list[PlanWarning] = []
    left_alone: list[LeftAloneEntry] = []
    deactivated: list[tuple[LiveUser, str]] = []
    members: dict[str, str] = {}
    key_of_id: dict[str, str] = {}
    ids: dict[str, str] = {}
    managed: dict[str, LiveUser] = {}
    shared_keys: dict[str, str] = {}
    for decision in decisions:
        if decision is NOTHING:
            continue
        said, action, alone, manages, deactivates, _, _, shared_key = decision
        if said:
            warnings += said
        if action is not None:
            actions.append(action)
        if alone is not None:
            left_alone.append(alone)
        if deactivates is not None:
            deactivated.append(deactivates)
        if manages is not None:
            key, folded, account = manages
            members[folded] = key
            if account is not None:
                key_of_id[account.id] = folded
                ids[key] = account.id
                managed[account.id] = account
        if shared_key is not None:
            folded, live_key = shared_key
            shared_keys[folded] = min(shared_keys.get(folded, live_key), live_key)
    for key in sorted(set(shared_keys.values())):
        warnings.append(warning(key, "several live users share this key; they are left alone"))
    return UserPlan(
        actions=tuple(actions),
        warnings=tuple(warnings),
        left_alone=tuple(left_alone),
        members=members,
        key_of_id=key_of_id,
        ids=ids,
        deactivated=tuple(deactivated),
        managed=tuple(managed.values()),
    )


def warning(key: str, message: str) -> PlanWarning:
    """A warning about the user with this key."""
    return PlanWarning(key=key, message=message)
