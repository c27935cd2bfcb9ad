"""Access changes per person: who gains or loses which group, who loses or regains all.

A view derived from the plan's actions (not a second planner), for the reviewer's
real question. One line per person, in every plan view; groups that
``policy.groups.sensitive`` marks are flagged with ``!``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.plan import ActionKind, Plan, Resource

# What happens to a person's access as a whole, by the user action that does it.
_STATUS = {
    ActionKind.CREATE: "new",
    ActionKind.DEACTIVATE: "loses all access (deactivated)",
    ActionKind.REACTIVATE: "regains access (reactivated)",
    ActionKind.ADOPT: "existing account taken over",
}


@dataclass(frozen=True, slots=True)
class AccessChange:
    """One person's change of access."""

    key: str
    user_name: str | None  # beside an opaque key (policy.users.key: externalId)
    gains: tuple[str, ...]
    loses: tuple[str, ...]
    status: str | None
    sensitive: tuple[str, ...]  # the gained or lost groups that grant power


def access_changes(plan: Plan) -> tuple[AccessChange, ...]:
    """Every person whose access the plan changes, sorted by key."""
    gains: dict[str, set[str]] = defaultdict(set)
    loses: dict[str, set[str]] = defaultdict(set)
    status: dict[str, str] = {}
    for action in plan.actions:
        if action.resource is Resource.USER and action.action in _STATUS:
            status[action.key] = _STATUS[action.action]
        change = action.member_change
        if action.resource is Resource.GROUP and change is not None:
            for key in change.add:
                gains[key].add(action.key)
            for key in change.remove:
                loses[key].add(action.key)
    powerful = {name.lower() for name in plan.sensitive_groups}
    people = sorted({*gains, *loses, *status}, key=lambda k: (k.lower(), k))
    return tuple(
        AccessChange(
            key=key,
            user_name=plan.user_names.get(key),
            gains=_sorted(gains[key]),
            loses=_sorted(loses[key]),
            status=status.get(key),
            sensitive=_sorted(g for g in gains[key] | loses[key] if g.lower() in powerful),
        )
        for key in people
    )


def _sorted(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(names), key=lambda n: (n.lower(), n)))


def access_line(change: AccessChange) -> str:
    """``alice@example.com  + engineering (sensitive)  - sales`` (plain text)."""
    who = change.key + (f" ({change.user_name})" if change.user_name else "")
    parts = [f"+ {g}{_flag(g, change)}" for g in change.gains]
    parts += [f"- {g}{_flag(g, change)}" for g in change.loses]
    if change.status:
        parts.append(change.status)
    return f"{who}  " + "  ".join(parts)


def _flag(group: str, change: AccessChange) -> str:
    return " (sensitive)" if group in change.sensitive else ""
