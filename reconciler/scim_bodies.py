"""From planned changes back to SCIM: request bodies and PATCH operations.

The write side of ``reconciler.attributes``: a new user or group as the resource a
POST carries (RFC 7643 sections 4.1 and 4.2), a change of attributes or members as
PATCH operations (RFC 7644 section 3.5.2) in a PatchOp message, and the filters those
name. Also where a user's department and organization sit (Atlassian takes them at
the top level, its enterprise extension is read-only): the places a read records and
the removals in the extension that a top-level removal leaves behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.scim_paths import (
    ENTERPRISE_URN,
    GROUP_SCHEMA,
    MULTI_VALUED,
    PATCH_SCHEMA,
    TOP_LEVEL_ENTERPRISE,
    USER_SCHEMA,
)


def enterprise_places(resource: Mapping[str, Any]) -> int:
    """Where a user's department and organization values sit, as bits (``held_at`` reads
    them): one int per user, as a directory of a million users is held whole."""
    extension = _mapping(resource.get(ENTERPRISE_URN))
    bits = 0
    for i, key in enumerate(TOP_LEVEL_ENTERPRISE):
        bits |= (resource.get(key) is not None) << (2 * i)
        bits |= (extension.get(key) is not None) << (2 * i + 1)
    return bits


def held_at(places: int, key: str) -> str | None:
    """Where ``enterprise_places`` found the value of ``key`` (department or organization):
    ``"top_level"``, ``"extension"``, ``"both"``, or ``None`` for nowhere."""
    i = TOP_LEVEL_ENTERPRISE.index(key)
    top, extension = bool(places >> (2 * i) & 1), bool(places >> (2 * i + 1) & 1)
    if top and extension:
        return "both"
    return "top_level" if top else "extension" if extension else None


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


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if type(value) is dict or isinstance(value, Mapping) else {}
