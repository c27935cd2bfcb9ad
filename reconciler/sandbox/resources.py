"""Client bodies in, resources out: validation, canonical form and rendering.

Everything a client sends passes ``clean_attributes`` before it is stored, whether it
came as a POST or PUT body or is the result of applying PATCH operations, so there is
one place that decides what a valid user or group is. Values of the wrong type, and
values for RFC attributes Atlassian's schema lacks (``schemas.UNSUPPORTED``), are
refused with 400 ``invalidValue``; read-only and unknown attributes are ignored
(RFC 7644 section 3.3: read-only attributes "SHALL be ignored"). The stored form uses
the canonical attribute names of ``schemas`` and keeps only what the client owns:
``id``, ``meta``, ``groups``, ``members`` and the Atlassian account block are the
directory's and are added when a resource is rendered. ``department`` and
``organization`` are stored once, at the top level, however they were written, and
rendered in the enterprise extension as well.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from reconciler.sandbox.problems import ScimRequestError, invalid_value
from reconciler.sandbox.schemas import (
    ATLASSIAN_URN,
    ENTERPRISE_SCHEMA,
    ENTERPRISE_URN,
    GROUP_URN,
    USER_URN,
    Attribute,
    ResourceKind,
    Schema,
    unsupported,
)

if TYPE_CHECKING:
    from reconciler.sandbox.store import GroupRecord, UserRecord

_DIRECTORY_OWNED = frozenset({"schemas", "id", "meta"})


def clean_attributes(payload: Mapping[str, Any], kind: ResourceKind) -> dict[str, Any]:
    """The client-owned attributes of ``payload``, type-checked, with canonical names.

    Nulls, empty lists and empty objects mean "unassigned" and are dropped, so a
    stored resource never carries an attribute without a value.
    """
    out: dict[str, Any] = {}
    in_core: dict[str, Any] = {}  # written through an extension stored in the core
    for key, value in payload.items():
        if key.lower() in _DIRECTORY_OWNED or value is None:
            continue
        extension = kind.extension(key)
        if extension is not None:
            block = _clean_extension(extension, value)
            if extension.stored_in_core:
                in_core.update(block)
            elif block:
                out[extension.id] = block
            continue
        refuse_unsupported(kind.schema.id, key)
        attr = kind.attribute(key)
        if attr is not None and attr.writable:
            cleaned = clean_value(attr, value, attr.name)
            if cleaned is not None:
                out[attr.name] = cleaned
    for name, value in in_core.items():
        out.setdefault(name, value)  # the top-level value wins over the extension's
    return out


def _clean_extension(extension: Schema, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise invalid_value(f"{extension.id} must be an object")
    block: dict[str, Any] = {}
    for sub_key, sub_value in value.items():
        if sub_value is not None:
            refuse_unsupported(extension.id, sub_key)
        attr = extension.attribute(sub_key)
        if attr is not None and attr.writable:
            cleaned = clean_value(attr, sub_value, f"{extension.id}:{attr.name}")
            if cleaned is not None:
                block[attr.name] = cleaned
    return block


def refuse_unsupported(schema_id: str, name: str) -> None:
    """400 ``invalidValue`` naming an RFC attribute that Atlassian's schema lacks.

    Atlassian does not document what it does with them (docs/atlassian.md "Users");
    refusing them keeps a plan that is green on the sandbox green on the real API.
    """
    found = unsupported(schema_id, name)
    if found is not None:
        where = found if schema_id == USER_URN else f"{schema_id}:{found}"
        raise unsupported_attribute(where)


def unsupported_attribute(where: str) -> ScimRequestError:
    """The answer to a value for an attribute Atlassian's user schema does not have."""
    return invalid_value(f"the Atlassian API has no {where} attribute")


def upgrade_v1_attributes(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """A user stored by a schema-1 sandbox, as this one stores it (``store`` migration)."""
    out = {k: v for k, v in attrs.items() if k != ENTERPRISE_URN and not unsupported(USER_URN, k)}
    enterprise = attrs.get(ENTERPRISE_URN)
    for name, value in (enterprise if isinstance(enterprise, Mapping) else {}).items():
        if ENTERPRISE_SCHEMA.attribute(name) is not None:
            out.setdefault(name, value)
    return out


def clean_value(attr: Attribute, value: Any, where: str) -> Any:
    """``value`` checked against ``attr``; ``None`` when it amounts to no value."""
    if value is None:
        return None
    if not attr.multi_valued:
        return _clean_single(attr, value, where)
    if not isinstance(value, list):
        raise invalid_value(f"{where} must be a list")
    items = []
    seen: set[Hashable] = set()  # a set, not `in items`: a group may hold 290k members
    for index, item in enumerate(value):
        if item is None:
            raise invalid_value(f"{where}[{index}] must not be null")
        if isinstance(item, Mapping):
            # As SCIMMY does: an absent sub-attribute is left out, never sent as null.
            for key, sub_value in item.items():
                if sub_value is None:
                    raise invalid_value(f"{where}[{index}].{key} must not be null")
        cleaned = _clean_single(attr, item, f"{where}[{index}]")
        identity = _identity(cleaned)
        if cleaned is not None and identity not in seen:
            seen.add(identity)
            items.append(cleaned)
    primaries = sum(1 for item in items if isinstance(item, dict) and item.get("primary") is True)
    if primaries > 1:
        # RFC 7643 section 2.4: "true" MUST appear no more than once.
        raise invalid_value(f"{where}: at most one value may be primary")
    return items or None


def _identity(cleaned: Any) -> Hashable:
    """What makes two cleaned values the same: their items (sub-attributes are scalars)."""
    if isinstance(cleaned, dict):
        return tuple(sorted(cleaned.items()))
    return cleaned if isinstance(cleaned, Hashable) else json.dumps(cleaned, sort_keys=True)


def _clean_single(attr: Attribute, value: Any, where: str) -> Any:
    if attr.type == "complex":
        if not isinstance(value, Mapping):
            raise invalid_value(f"{where} must be an object")
        out: dict[str, Any] = {}
        for key, sub_value in value.items():
            sub = attr.sub(key)
            if sub is not None and sub.writable and sub_value is not None:
                cleaned = _clean_single(sub, sub_value, f"{where}.{sub.name}")
                if cleaned is not None:
                    out[sub.name] = cleaned
        return out or None
    if attr.type == "boolean":
        if isinstance(value, bool):
            return value
        # Some identity providers send "True"/"False" as strings; Atlassian takes them.
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise invalid_value(f"{where} must be a boolean")
    if not isinstance(value, str):
        raise invalid_value(f"{where} must be a string")
    check_text(value, where)
    return value


def check_text(value: str, where: str) -> None:
    """Refuse strings SQLite cannot store as text (lone surrogates from JSON escapes)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid_value(f"{where} is not valid Unicode text") from None


def check_user(attrs: dict[str, Any]) -> dict[str, Any]:
    """Atlassian's rules for a complete user; fills the ``active`` default.

    docs/atlassian.md "Users": ``userName`` and exactly one primary email are required,
    and ``active`` defaults to true.
    """
    user_name = attrs.get("userName")
    if not isinstance(user_name, str) or not user_name.strip():
        raise invalid_value("userName is required")
    emails = attrs.get("emails", [])
    if any(not isinstance(e.get("value"), str) or not e["value"].strip() for e in emails):
        raise invalid_value("every email needs a value")
    primaries = [e for e in emails if e.get("primary") is True]
    if len(primaries) != 1:
        raise invalid_value("exactly one primary email is required")
    if "@" not in primaries[0]["value"]:
        raise invalid_value(f"primary email [{primaries[0]['value']}] is not an email address")
    attrs.setdefault("active", True)
    return attrs


def primary_email(attrs: Mapping[str, Any]) -> str:
    """The primary email of a checked user (``check_user`` guarantees exactly one)."""
    return str(next(e["value"] for e in attrs["emails"] if e.get("primary") is True))


def check_group(attrs: dict[str, Any]) -> dict[str, Any]:
    """A group needs a non-blank ``displayName`` (docs/atlassian.md "Groups")."""
    name = attrs.get("displayName")
    if not isinstance(name, str) or not name.strip():
        raise invalid_value("displayName is required")
    return attrs


def split_members(attrs: dict[str, Any]) -> list[str] | None:
    """Take ``members`` out of cleaned group attributes; the ids, or None if absent.

    Members are stored as memberships, not in the group's JSON, so that large
    groups change by rows rather than by rewriting one ever-growing document.
    """
    members = attrs.pop("members", None)
    if members is None:
        return None
    return member_ids(members, "members")


def member_ids(items: Iterable[Any], where: str) -> list[str]:
    """The ``value`` of each member object, de-duplicated, in order."""
    ids: dict[str, None] = {}  # ordered and de-duplicated in linear time
    for item in items:
        value = item.get("value") if isinstance(item, Mapping) else None
        if not isinstance(value, str) or not value:
            raise invalid_value(f'each of {where} must be an object with a "value" (a user id)')
        check_text(value, where)
        ids[value] = None
    return list(ids)


def render_user(
    record: UserRecord, groups: Sequence[tuple[str, str]], base_url: str
) -> dict[str, Any]:
    """The user as the directory answers it: client attributes plus what it owns."""
    attrs = record.attributes
    enterprise = {a.name: attrs[a.name] for a in ENTERPRISE_SCHEMA.attributes if a.name in attrs}
    schemas = [USER_URN, ENTERPRISE_URN, ATLASSIAN_URN] if enterprise else [USER_URN, ATLASSIAN_URN]
    out: dict[str, Any] = {"schemas": schemas, "id": record.id, **attrs}
    if enterprise:
        out[ENTERPRISE_URN] = enterprise
    out.setdefault("active", True)
    out[ATLASSIAN_URN] = {"atlassianAccountId": record.account_id}
    if groups:
        out["groups"] = [
            {"value": gid, "display": name, "type": "direct", "$ref": f"{base_url}/Groups/{gid}"}
            for gid, name in groups
        ]
    out["meta"] = _meta(
        "User", record.created, record.last_modified, f"{base_url}/Users/{record.id}"
    )
    return out


def render_group(
    record: GroupRecord, members: Sequence[tuple[str, str]], base_url: str
) -> dict[str, Any]:
    """The group as the directory answers it, members included."""
    out: dict[str, Any] = {"schemas": [GROUP_URN], "id": record.id, **record.attributes}
    if members:
        out["members"] = [
            {"value": uid, "display": display, "type": "User", "$ref": f"{base_url}/Users/{uid}"}
            for uid, display in members
        ]
    location = f"{base_url}/Groups/{record.id}"
    out["meta"] = _meta("Group", record.created, record.last_modified, location)
    return out


def _meta(kind: str, created: str, last_modified: str, location: str) -> dict[str, str]:
    # No "version": Atlassian has no ETags (docs/atlassian.md "Users").
    return {
        "resourceType": kind,
        "created": created,
        "lastModified": last_modified,
        "location": location,
    }


def project(
    resource: dict[str, Any], attributes: str | None, excluded: str | None
) -> dict[str, Any]:
    """Apply ``attributes`` / ``excludedAttributes`` (RFC 7644 section 3.4.2.5).

    Atlassian honours them on users only. ``schemas`` and ``id`` are always returned;
    names that match nothing are ignored.
    """
    if attributes:
        keep: dict[str, Any] = {"schemas": resource["schemas"], "id": resource["id"]}
        names = _names(attributes, resource)
        whole = {top for top, sub in names if sub is None}
        for top, sub in names:
            if sub is None:
                keep[top] = resource[top]
            elif top not in whole and isinstance(resource[top], dict) and sub in resource[top]:
                keep[top] = {**keep.get(top, {}), sub: resource[top][sub]}
        return keep
    if excluded:
        out = dict(resource)
        for top, sub in _names(excluded, resource):
            if top in ("schemas", "id"):
                continue
            if sub is None:
                out.pop(top, None)
            elif isinstance(out[top], dict):
                out[top] = {k: v for k, v in out[top].items() if k != sub}
        return out
    return resource


def _names(text: str, resource: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """Resolve comma-separated attribute names to (top-level key, sub-attribute)."""
    by_fold = {key.lower(): key for key in resource}
    found: list[tuple[str, str | None]] = []
    for raw in text.split(","):
        name = raw.strip().lower()
        for urn in (USER_URN.lower(), GROUP_URN.lower()):
            name = name.removeprefix(urn + ":")
        if name in by_fold:
            found.append((by_fold[name], None))
            continue
        top, _, sub = name.rpartition(":") if name.startswith("urn:") else name.partition(".")
        if top in by_fold and sub:
            key = by_fold[top]
            value = resource[key]
            subs = {k.lower(): k for k in value} if isinstance(value, dict) else {}
            found.append((key, subs.get(sub, sub)))
    return found
