"""How the access review is written in the human views.

The review itself is plan data (``Plan.access``, ``Plan.holders``), worked out once by
the planner (``reconciler.planner.access``); this module only words it, the same way
in the terminal and in a pull request. Sensitive lines come first: they are what a
reviewer must not miss.
"""

from __future__ import annotations

from reconciler.plan import AccessChange, Holders, Plan


def ordered_access(plan: Plan) -> tuple[AccessChange, ...]:
    """The people whose access changes: those who gain or lose a sensitive group first."""
    return (
        *(a for a in plan.access if a.sensitive),
        *(a for a in plan.access if not a.sensitive),
    )


def person(key: str, user_name: str | None) -> str:
    """``E1001 (alice@example.com)`` beside an opaque key, else the key."""
    return f"{key} ({user_name})" if user_name and user_name != key else key


def access_line(change: AccessChange) -> str:
    """``alice@example.com  + engineering (sensitive)  - admins (via helpers)`` (plain text)."""
    parts = [f"+ {g}{_notes(g, change)}" for g in change.gains]
    parts += [f"- {g}{_notes(g, change)}" for g in change.loses]
    if change.status:
        parts.append(change.status)
    return f"{person(change.key, change.userName)}  " + "  ".join(parts)


def holders_line(holders: Holders) -> str:
    """``site-admins: 2 -> 152 people``."""
    noun = "person" if holders.after == 1 else "people"
    return f"{holders.group}: {holders.before} -> {holders.after} {noun}"


def _notes(group: str, change: AccessChange) -> str:
    notes = ["sensitive"] if group in change.sensitive else []
    via = change.via.get(group)
    if via is not None:
        notes.append(f"via {via}")
    return f" ({', '.join(notes)})" if notes else ""
