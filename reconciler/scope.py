"""Which names a policy's ``scope`` globs cover: one rule for the loader and the planner."""

from __future__ import annotations

from fnmatch import fnmatchcase


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
