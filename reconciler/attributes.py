"""The one place that knows how file attributes map to SCIM attributes.

The planner compares users as flat mappings from a *path* in the file's vocabulary
(``displayName``, ``name.givenName``, ``emails``, ``enterprise.department``) to a
JSON value. This module reads the paths from a SCIM resource (leniently: servers
deviate) and compares their values as the directory does. The paths and schemas
themselves are ``reconciler.scim_paths``; turning planned changes back into SCIM
request bodies and PATCH operations (RFC 7644 section 3.5.2) is
``reconciler.scim_bodies``; both are re-exported here, the import path callers use.
Which paths a file user manages, and their values, is ``reconciler.ownership``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from reconciler.identifiers import fold_identity
from reconciler.scim_bodies import (
    enterprise_places,
    eq_filter,
    extension_removals,
    group_create_body,
    group_patch_operations,
    held_at,
    member_add_operation,
    member_remove_operation,
    patch_body,
    scim_value,
    user_create_body,
    user_patch_operations,
)
from reconciler.scim_paths import (
    ENTERPRISE_ATTRIBUTES,
    ENTERPRISE_URN,
    GROUP_SCHEMA,
    LIVE_PATHS,
    MULTI_VALUED,
    NAME_ATTRIBUTES,
    PATCH_SCHEMA,
    SIMPLE_ATTRIBUTES,
    USER_SCHEMA,
)
from reconciler.scim_paths import TOP_LEVEL_ENTERPRISE as _TOP_LEVEL_ENTERPRISE

__all__ = [
    "ENTERPRISE_ATTRIBUTES",
    "ENTERPRISE_URN",
    "GROUP_SCHEMA",
    "LIVE_PATHS",
    "MULTI_VALUED",
    "NAME_ATTRIBUTES",
    "PATCH_SCHEMA",
    "SIMPLE_ATTRIBUTES",
    "USER_SCHEMA",
    "canonical_items",
    "canonical_tuples",
    "enterprise_places",
    "eq_filter",
    "extension_removals",
    "group_create_body",
    "group_patch_operations",
    "held_at",
    "live_active",
    "live_user_attributes",
    "live_user_values",
    "member_add_operation",
    "member_remove_operation",
    "multi_dicts",
    "patch_body",
    "same_value",
    "scim_value",
    "user_create_body",
    "user_patch_operations",
]

# Values that many users share (a department, an email's type): one string for all.
_SHARED = frozenset(
    {"title", "preferredLanguage", "locale", "timezone", "userType"}
    | {f"enterprise.{a}" for a in ("costCenter", "organization", "division", "department")}
)


def canonical_items(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Canonical form of a multi-valued attribute: value/type/primary, sorted."""
    return multi_dicts(canonical_tuples(items)) or []


def canonical_tuples(items: Iterable[Mapping[str, Any]]) -> tuple[tuple[str, Any, bool], ...]:
    """``canonical_items`` as the ``(value, type, primary)`` tuples live users keep."""
    return _items(list(items), None)


def live_user_attributes(resource: Mapping[str, Any]) -> dict[str, Any]:
    """Every attribute the files can manage, read from a SCIM user resource, by path.

    Text as it is; numbers and booleans as text; anything else as absent (None). The
    name's parts from ``name``, the enterprise parts from the extension, Atlassian's
    department and organization from the top level of the user where it has them.
    Emails and phone numbers canonical (``canonical_items``), None when there are none.
    """
    name = _mapping(resource.get("name"))
    enterprise = _mapping(resource.get(ENTERPRISE_URN))
    found: dict[str, Any] = {a: _string(resource.get(a)) for a in SIMPLE_ATTRIBUTES}
    found.update({f"name.{part}": _string(name.get(part)) for part in NAME_ATTRIBUTES})
    for part in ENTERPRISE_ATTRIBUTES:
        top = resource.get(part) if part in _TOP_LEVEL_ENTERPRISE else None
        found[f"enterprise.{part}"] = _string(enterprise.get(part) if top is None else top)
    for attribute in MULTI_VALUED:
        items = resource.get(attribute)
        found[attribute] = canonical_items(items) if isinstance(items, list) and items else None
    return found


def live_user_values(resource: Mapping[str, Any], paths: tuple[str, ...]) -> tuple[Any, ...]:
    """The values of ``paths`` (some of ``LIVE_PATHS``) in a SCIM user resource, compact.

    What ``live_user_attributes`` reads (tests/test_live.py holds the two equal), but
    multi-valued attributes as sorted tuples of ``(value, type, primary)``
    (``multi_dicts`` makes them the canonical lists again), an email equal to the
    userName as the userName's own string, and values many users share as one string:
    a directory of a million users is held in memory whole. Read and kept by the
    users a read makes (``live_compact``).
    """
    sources = (resource, _mapping(resource.get("name")), _mapping(resource.get(ENTERPRISE_URN)))
    values: list[Any] = [None] * len(paths)
    for i, source, key, top_level, shared in _readers(paths):
        if source < 0:  # multi-valued
            items = resource.get(key)
            if isinstance(items, list) and items:
                values[i] = _items(items, resource.get("userName"))
            continue
        value = sources[source].get(key)
        if top_level and resource.get(key) is not None:
            # Atlassian's writable place (its extension is read-only); no standard
            # server has these at the top level, so there they come from the extension.
            value = resource.get(key)
        if value is not None:
            value = value if type(value) is str else _string(value)
            values[i] = sys.intern(value) if shared and value is not None else value
    return tuple(values)


@lru_cache(maxsize=64)
def _readers(paths: tuple[str, ...]) -> tuple[tuple[int, int, str, bool, bool], ...]:
    """For each path: its index, where its value is (the resource 0, its name 1, its
    enterprise extension 2, multi-valued -1), its key there, whether a top-level value
    wins (Atlassian's department and organization), whether many users share values."""
    found = []
    for i, path in enumerate(paths):
        where, _, key = path.rpartition(".")
        source = -1 if path in MULTI_VALUED else ("", "name", "enterprise").index(where)
        top_level = where == "enterprise" and key in _TOP_LEVEL_ENTERPRISE
        found.append((i, source, key, top_level, path in _SHARED))
    return tuple(found)


def _items(items: list[Any], user_name: Any) -> tuple[tuple[str, Any, bool], ...]:
    """A multi-valued attribute as ``canonical_items`` reads it, as sorted tuples."""
    found = []
    for item in items:
        if not _is_mapping(item) or not isinstance(value := item.get("value"), str):
            continue
        kind = item.get("type")
        found.append(
            (
                user_name if value == user_name else value,
                sys.intern(kind) if type(kind) is str else kind,
                _true(item.get("primary", False)),
            )
        )
    if len(found) > 1:
        found.sort(key=lambda i: (i[0].lower(), str(i[1]), i[2]))
    return tuple(found)


def multi_dicts(items: Any) -> list[dict[str, Any]] | None:
    """Items as ``_items`` keeps them, as the canonical ``{value, type, primary}`` list."""
    if items is None:
        return None
    return [{"value": value, "type": kind, "primary": primary} for value, kind, primary in items]


def _is_mapping(value: Any) -> bool:
    return type(value) is dict or isinstance(value, Mapping)  # dict first: the common case


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if _is_mapping(value) else {}


def _true(value: Any) -> bool:
    """A boolean as servers send it: true, or sometimes the string "true"."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def live_active(resource: Mapping[str, Any]) -> bool:
    """``active`` defaults to true: one real Atlassian response left it out."""
    value = resource.get("active", True)
    if isinstance(value, str):
        return value.strip().lower() != "false"
    return value is not False


def _string(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    return None


_IDENTIFIERS = frozenset({"userName", "externalId"})


def same_value(path: str, a: Any, b: Any) -> bool:
    """Compare two values of one attribute the way the directory does.

    Multi-valued attributes compare as sets; userNames, externalIds and email
    addresses as identities do (``fold_identity``: in any letter case and Unicode form).
    """
    if path in MULTI_VALUED:
        return _set_key(path, a) == _set_key(path, b)
    if path in _IDENTIFIERS and isinstance(a, str) and isinstance(b, str):
        return fold_identity(a) == fold_identity(b)
    return bool(a == b)


def _set_key(path: str, items: Any) -> frozenset[tuple[str, str | None, bool]]:
    if not items:
        return frozenset()
    value = fold_identity if path == "emails" else str
    return frozenset((value(str(i["value"])), i.get("type"), bool(i["primary"])) for i in items)
