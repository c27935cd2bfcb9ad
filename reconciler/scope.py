"""Which names a policy's ``scope`` globs cover: one rule for the loader and the planner."""

from __future__ import annotations

from fnmatch import fnmatchcase

from reconciler.desired import DesiredState


def in_scope(name: str, patterns: tuple[str, ...]) -> bool:
    """Whether a userName or displayName matches one of the globs, case-insensitively."""
    folded = name.lower()
    return any(fnmatchcase(folded, p.lower()) for p in patterns)


def left_alone_reason(
    name: str, scope: tuple[str, ...], protect: tuple[str, ...], section: str
) -> str | None:
    """Why a policy keeps its hands off a user or group, or None when it may change it.

    ``section`` is ``users`` or ``groups``, for the reason's wording.
    """
    if not in_scope(name, scope):
        return f"outside policy.{section}.scope"
    if any(name.lower() == p.lower() for p in protect):
        return f"protected by policy.{section}.protect"
    return None


def listed_but_left_alone(
    desired: DesiredState,
) -> list[tuple[str, str, str]]:
    """File entries the policy keeps out of reach: (``user``/``group``, name, reason).

    The plan would never apply them; ``validate`` says so rather than "OK" alone.
    """
    users, groups = desired.policy.users, desired.policy.groups
    found = [
        ("user", u.userName, reason)
        for u in desired.users
        if (reason := left_alone_reason(u.userName, users.scope, users.protect, "users"))
    ]
    found += [
        ("group", g.displayName, reason)
        for g in desired.groups
        if (reason := left_alone_reason(g.displayName, groups.scope, groups.protect, "groups"))
    ]
    return found
