"""Which names a policy's ``scope`` globs cover: one rule for the loader and the planner.

Also what ``validate`` warns about the entries the files list: those the policy keeps
out of reach, and names that may look like another (``listed_look_alikes``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fnmatch import translate
from functools import lru_cache

from reconciler.desired import DesiredState
from reconciler.identifiers import fold_identity, look_alike


def in_scope(name: str, patterns: tuple[str, ...]) -> bool:
    """Whether a userName or displayName matches one of the globs, both folded as
    identities compare (``fold_identity``)."""
    return _matcher(patterns)(fold_identity(name))


@lru_cache(maxsize=64)
def _matcher(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether a folded name matches one of ``patterns``: one regular expression for all
    of them (``fnmatch``'s translation of each, folded), asked of every user."""
    if not patterns:
        return lambda _: False
    if "*" in patterns:
        return lambda _: True
    folded_patterns = [fold_identity(p) for p in patterns]
    if all(p.startswith("*") and not _GLOB.search(p[1:]) for p in folded_patterns):
        # The usual scope, "*@example.com": a suffix, as the regex would match it.
        suffixes = tuple(p[1:] for p in folded_patterns)
        return lambda folded: folded.endswith(suffixes)
    regex = re.compile("|".join(translate(p) for p in folded_patterns))
    return lambda folded: regex.match(folded) is not None


_GLOB = re.compile(r"[*?\[]")  # what makes a glob more than its text


@lru_cache(maxsize=64)
def _folded(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(fold_identity(name) for name in names)


def left_alone_reason(
    name: str, scope: tuple[str, ...], protect: tuple[str, ...], section: str
) -> str | None:
    """Why a policy keeps its hands off a user or group, or None when it may change it.

    ``section`` is ``users`` or ``groups``, for the reason's wording.
    """
    if not in_scope(name, scope):
        return f"outside policy.{section}.scope"
    if protect and fold_identity(name) in _folded(protect):
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


def listed_look_alikes(desired: DesiredState) -> list[tuple[str, str, str]]:
    """File identifiers that may look like another name: (``user``/``group``, name, why).

    Fullwidth forms, compatibility characters, decomposed spellings and mixed scripts
    (``reconciler.identifiers.look_alike``): the plan folds some of them, a directory
    may not, and a reviewer cannot tell them apart by eye.
    """
    found: list[tuple[str, str, str]] = []
    for user in desired.users:
        named = [("userName", user.userName), ("externalId", user.externalId)]
        named += [("email", email.value) for email in user.emails or ()]
        named += [("previous userName", name) for name in user.previousUserNames]
        found += _look_alikes("user", user.userName, named)
    for group in desired.groups:
        named = [("displayName", group.displayName)]
        named += [("previous name", name) for name in group.previousNames]
        found += _look_alikes("group", group.displayName, named)
    return found


def _look_alikes(
    resource: str, name: str, named: list[tuple[str, str | None]]
) -> list[tuple[str, str, str]]:
    return [
        (resource, name, f'{what} "{text}" {why}')
        for what, text in named
        if text is not None and (why := look_alike(text)) is not None
    ]
