"""The one place that knows how file attributes map to SCIM attributes.

The planner compares users as flat mappings from a *path* in the file's vocabulary
(``displayName``, ``name.givenName``, ``emails``, ``enterprise.department``) to a
JSON value. This module names the paths, reads them from a SCIM resource
(leniently: servers deviate), and turns planned changes back into SCIM request
bodies and PATCH operations (RFC 7644 section 3.5.2). Which paths a file user
manages, and their values, is ``reconciler.ownership``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from reconciler.identifiers import fold_identity

ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

SIMPLE_ATTRIBUTES = (
    "userName",
    "externalId",
    "displayName",
    "nickName",
    "title",
    "preferredLanguage",
    "locale",
    "timezone",
    "userType",
    "profileUrl",
)
NAME_ATTRIBUTES = (
    "formatted",
    "familyName",
    "givenName",
    "middleName",
    "honorificPrefix",
    "honorificSuffix",
)
ENTERPRISE_ATTRIBUTES = ("employeeNumber", "costCenter", "organization", "division", "department")
MULTI_VALUED = ("emails", "phoneNumbers")
# Every path the files can manage, in the order ``live_user_attributes`` lists them.
LIVE_PATHS = (
    *SIMPLE_ATTRIBUTES,
    *(f"name.{a}" for a in NAME_ATTRIBUTES),
    *(f"enterprise.{a}" for a in ENTERPRISE_ATTRIBUTES),
    *MULTI_VALUED,
)
# Atlassian also accepts department and organization at the top level of a user.
_TOP_LEVEL_ENTERPRISE = ("department", "organization")
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


def enterprise_places(resource: Mapping[str, Any]) -> int:
    """Where a user's department and organization values sit, as bits (``held_at`` reads
    them): one int per user, as a directory of a million users is held whole."""
    extension = _mapping(resource.get(ENTERPRISE_URN))
    bits = 0
    for i, key in enumerate(_TOP_LEVEL_ENTERPRISE):
        bits |= (resource.get(key) is not None) << (2 * i)
        bits |= (extension.get(key) is not None) << (2 * i + 1)
    return bits


def held_at(places: int, key: str) -> str | None:
    """Where ``enterprise_places`` found the value of ``key`` (department or organization):
    ``"top_level"``, ``"extension"``, ``"both"``, or ``None`` for nowhere."""
    i = _TOP_LEVEL_ENTERPRISE.index(key)
    top, extension = bool(places >> (2 * i) & 1), bool(places >> (2 * i + 1) & 1)
    if top and extension:
        return "both"
    return "top_level" if top else "extension" if extension else None


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


# --- from changes back to SCIM -----------------------------------------------------


def _scim_path(path: str) -> str:
    if path.startswith("enterprise."):
        return f"{ENTERPRISE_URN}:{path.removeprefix('enterprise.')}"
    return path


def scim_value(path: str, value: Any) -> Any:
    """A value as sent to a server: multi-valued items without their absent sub-attributes.

    The canonical form keeps ``"type": None`` so that values compare; a server must never
    see it (SCIMMY refuses ``null``, RFC 7643 section 2.5 says unassigned is absent).
    """
    if path in MULTI_VALUED and isinstance(value, list):
        return [{k: v for k, v in item.items() if v is not None} for item in value]
    return value


def user_create_body(
    attrs: Mapping[str, Any], *, top_level: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """A SCIM user resource (RFC 7643 section 4.1) from attributes by path.

    Enterprise attributes named in ``top_level`` go at the top level of the user
    (Atlassian's department and organization), not into the extension.
    """
    body: dict[str, Any] = {"schemas": [USER_SCHEMA]}
    for path, value in sorted(attrs.items()):
        if value is None:
            continue
        value = scim_value(path, value)
        if path.removeprefix("enterprise.") in top_level and path.startswith("enterprise."):
            body[path.removeprefix("enterprise.")] = value
        elif path.startswith("name."):
            body.setdefault("name", {})[path.removeprefix("name.")] = value
        elif path.startswith("enterprise."):
            if ENTERPRISE_URN not in body["schemas"]:
                body["schemas"].append(ENTERPRISE_URN)
            body.setdefault(ENTERPRISE_URN, {})[path.removeprefix("enterprise.")] = value
        else:
            body[path] = value
    return body


def user_patch_operations(
    changes: Iterable[tuple[str, Any]], *, top_level: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """PATCH operations that set each path to its new value; ``None`` removes it.

    Enterprise attributes named in ``top_level`` (Atlassian's department and
    organization) are written, and removed, at the top level of the user, where that
    API takes them: its OpenAPI description marks the extension read-only, so an
    operation there could fail the whole PATCH on every run. Removals there, where a
    value exists, are ``extension_removals``, in a PATCH of their own.
    """
    operations: list[dict[str, Any]] = []
    for path, after in changes:
        bare = path.removeprefix("enterprise.")
        where = bare if path.startswith("enterprise.") and bare in top_level else _scim_path(path)
        if after is None:
            operations.append({"op": "remove", "path": where})
        else:
            operations.append({"op": "replace", "path": where, "value": scim_value(path, after)})
    return operations


def extension_removals(
    changes: Iterable[tuple[str, Any, str | None]],
    answer: Mapping[str, Any] | None,
    *,
    top_level: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Removals, in the enterprise extension, of the department or organization the plan
    removes (``top_level``), sent in a PATCH of their own so that a refusal of the
    read-only extension never blocks the other changes: where the plan saw the value in
    the extension only (``held="extension"``), and where it saw it in both places or a
    plan from before ``held`` does not say (``None``) and the answer to the top-level
    removal still shows a copy there (``live_user_attributes`` reads either place, so a
    copy left behind would keep the plan from converging). Never for ``"top_level"``."""
    extension = _mapping(_mapping(answer).get(ENTERPRISE_URN))
    found = []
    for path, after, held in changes:
        bare = path.removeprefix("enterprise.")
        if after is not None or not path.startswith("enterprise.") or bare not in top_level:
            continue
        if held == "extension" or (held != "top_level" and extension.get(bare) is not None):
            found.append({"op": "remove", "path": _scim_path(path)})
    return found


def patch_body(operations: list[dict[str, Any]]) -> dict[str, Any]:
    """A PatchOp message; Atlassian documents the ``Operations`` spelling."""
    return {"schemas": [PATCH_SCHEMA], "Operations": operations}


def group_create_body(name: str, member_ids: Iterable[str] = ()) -> dict[str, Any]:
    """A SCIM group resource (RFC 7643 section 4.2), with its first members if any."""
    body: dict[str, Any] = {"schemas": [GROUP_SCHEMA], "displayName": name}
    members = [{"value": i} for i in member_ids]
    if members:
        body["members"] = members
    return body


def group_patch_operations(
    *, display_name: str | None = None, add: Iterable[str] = (), remove: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """PATCH operations that rename a group and change its members, in that order.

    Added members go in one operation, removed ones one operation each.
    """
    operations: list[dict[str, Any]] = []
    if display_name is not None:
        operations.append({"op": "replace", "path": "displayName", "value": display_name})
    added = list(add)
    if added:
        operations.append(member_add_operation(added))
    return operations + [member_remove_operation(i) for i in remove]


def member_add_operation(ids: Iterable[str]) -> dict[str, Any]:
    return {"op": "add", "path": "members", "value": [{"value": i} for i in ids]}


def member_remove_operation(member_id: str) -> dict[str, Any]:
    """Remove one member by filter (RFC 7644 section 3.5.2.2); the only form every server takes."""
    return {"op": "remove", "path": f"members[{eq_filter('value', member_id)}]"}


def eq_filter(attribute: str, value: str) -> str:
    """An ``eq`` filter with the value quoted as RFC 7644 section 3.4.2.2 requires."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{attribute} eq "{escaped}"'
