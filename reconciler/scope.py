"""Which names a policy's ``scope`` globs cover: one rule for the loader and the planner."""

from __future__ import annotations

from fnmatch import fnmatchcase


def in_scope(name: str, patterns: tuple[str, ...]) -> bool:
    """Whether a userName or displayName matches one of the globs, case-insensitively."""
    folded = name.casefold()
    return any(fnmatchcase(folded, p.casefold()) for p in patterns)
