"""PATCH (RFC 7644 section 3.5.2): parse operations, then apply them to a resource.

Parsing resolves every path against ``schemas`` first, so an operation on an unknown
or read-only attribute is refused before anything changes, and the whole request is
all-or-nothing. Applying works on a copy of the stored, canonical attributes and
re-validates the result with ``resources``; what the client sends inside a value is
type-checked before it is merged, so the result never holds raw client data.

Group ``members`` are kept apart as ``MemberOperation``s: the store applies them as
membership rows, so adding 1,000 members to a group of 290,000 costs 1,000 rows, not a
rewrite of the member list (docs/atlassian.md "Groups": one PATCH carries all of a
group's member changes).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.filters import Comparison, parse_comparison
from reconciler.sandbox.problems import (
    ScimRequestError,
    invalid_path,
    invalid_value,
    mutability,
)
from reconciler.sandbox.resources import clean_value, member_ids, refuse_unsupported
from reconciler.sandbox.schemas import GROUP, Attribute, ResourceKind, Schema
from reconciler.sandbox.store import MemberOperation

_OPS = ("add", "replace", "remove")


@dataclass(frozen=True, slots=True)
class Path:
    """A resolved PATCH path: ``[urn:]attribute[[filter]][.sub]`` or a whole extension."""

    extension: Schema | None  # None for core attributes
    attribute: Attribute | None  # None: the whole extension block
    value_filter: Comparison | None = None
    sub: Attribute | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation on the client-owned attributes; ``path`` is never absent here."""

    op: str
    path: Path
    value: Any


@dataclass(frozen=True, slots=True)
class PatchRequest:
    """A parsed PATCH body: attribute operations and member changes, in request order."""

    operations: tuple[Operation, ...]
    members: tuple[MemberOperation, ...]


def parse_patch(body: Mapping[str, Any], kind: ResourceKind) -> PatchRequest:
    """Parse a PatchOp body; Atlassian spells the list ``Operations`` (also accepted: any case)."""
    raw_ops = next((v for k, v in body.items() if k.lower() == "operations"), None)
    if not isinstance(raw_ops, list) or not raw_ops:
        raise invalid_value('a PATCH body needs a non-empty "Operations" list')
    operations: list[Operation] = []
    members: list[MemberOperation] = []
    for index, raw in enumerate(raw_ops):
        if not isinstance(raw, Mapping):
            raise invalid_value(f"Operations[{index}] must be an object")
        fields = {k.lower(): v for k, v in raw.items()}
        op = fields.get("op")
        if not isinstance(op, str) or op.lower() not in _OPS:
            raise invalid_value(f"Operations[{index}].op must be one of add, replace, remove")
        op = op.lower()
        path_text = fields.get("path")
        value = fields.get("value")
        if path_text is not None and not isinstance(path_text, str):
            raise invalid_path(f"Operations[{index}].path must be a string")
        if not path_text:
            if op == "remove":
                # RFC 7644 section 3.5.2.2: remove without a path is "noTarget".
                raise ScimRequestError(400, "remove needs a path", "noTarget")
            if not isinstance(value, Mapping):
                raise invalid_value(f"Operations[{index}]: without a path, value must be an object")
            expanded = [
                Operation(op, parse_path(key, kind), item)
                for key, item in value.items()
                if key.lower() not in ("schemas", "id", "meta")
            ]
        else:
            if op != "remove" and "value" not in fields:
                raise invalid_value(f"Operations[{index}]: {op} needs a value")
            expanded = [Operation(op, parse_path(path_text, kind), value)]
        for operation in expanded:
            if kind is GROUP and _is_members(operation.path):
                members.append(_member_operation(operation))
            else:
                operations.append(operation)
    return PatchRequest(tuple(operations), tuple(members))


def parse_path(text: str, kind: ResourceKind) -> Path:
    """Resolve ``text`` against the schemas of ``kind``; 400 for unknown or read-only."""
    base, value_filter, sub_text = _split_filter(text.strip())
    extension, rest = _split_urn(base, kind)
    if rest is None:
        assert extension is not None
        if value_filter is not None or sub_text:
            raise invalid_path(f"cannot filter a whole extension in [{text}]")
        if not any(a.writable for a in extension.attributes):
            raise mutability(f"{extension.id} is read-only")
        return Path(extension, None)
    names = rest.split(".")
    if len(names) > 2 or (value_filter is not None and len(names) > 1) or not all(names):
        raise invalid_path(f"cannot parse path [{text}]")
    if value_filter is not None and sub_text:
        names.append(sub_text)
    refuse_unsupported(extension.id if extension is not None else kind.schema.id, names[0])
    attr = extension.attribute(names[0]) if extension is not None else kind.attribute(names[0])
    if attr is None:
        raise invalid_path(f"no attribute [{names[0]}] in path [{text}]")
    if not attr.writable:
        raise mutability(f"{attr.name} is read-only")
    sub: Attribute | None = None
    if len(names) == 2:
        sub = attr.sub(names[1])
        if sub is None:
            raise invalid_path(f"no sub-attribute [{names[1]}] of {attr.name} in [{text}]")
        if not sub.writable:
            raise mutability(f"{attr.name}.{sub.name} is read-only")
        if attr.multi_valued and value_filter is None:
            raise invalid_path(f"select values of {attr.name} with a filter in [{text}]")
    if value_filter is not None:
        if not (attr.multi_valued and attr.type == "complex"):
            raise invalid_path(f"{attr.name} cannot be filtered in [{text}]")
        if value_filter.operator != "eq" or attr.sub(value_filter.attribute) is None:
            raise invalid_path(f"only [sub-attribute eq value] filters are supported in [{text}]")
    return Path(extension, attr, value_filter, sub)


def _split_filter(text: str) -> tuple[str, Comparison | None, str]:
    """``attr[filter].sub`` → (``attr``, parsed filter, ``sub``); quotes may hold ``]``."""
    start = text.find("[")
    if start < 0:
        return text, None, ""
    in_string = escaped = False
    for end in range(start + 1, len(text)):
        char = text[end]
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = in_string
        elif char == '"':
            in_string = not in_string
        elif char == "]" and not in_string:
            rest = text[end + 1 :]
            if rest and not (rest.startswith(".") and len(rest) > 1):
                raise invalid_path(f"cannot parse path [{text}]")
            return text[:start], parse_comparison(text[start + 1 : end]), rest[1:]
    raise invalid_path(f"unclosed [ in path [{text}]")


def _split_urn(base: str, kind: ResourceKind) -> tuple[Schema | None, str | None]:
    """Split a URN prefix off ``base``: (extension or None for core, attribute text)."""
    folded = base.lower()
    if not folded.startswith("urn:"):
        return None, base
    for schema in sorted((kind.schema, *kind.extensions), key=lambda s: -len(s.id)):
        urn = schema.id.lower()
        extension = None if schema is kind.schema else schema
        if folded == urn and extension is not None:
            return extension, None
        if folded.startswith(urn + ":"):
            return extension, base[len(urn) + 1 :]
    raise invalid_path(f"unknown schema in path [{base}]")


def _is_members(path: Path) -> bool:
    return (
        path.extension is None and path.attribute is not None and path.attribute.name == "members"
    )


def _member_operation(operation: Operation) -> MemberOperation:
    """Translate an operation on ``members`` into a membership change."""
    path, value = operation.path, operation.value
    if path.sub is not None:
        raise mutability("members cannot be changed in place; remove and add them")
    if path.value_filter is not None:
        if operation.op != "remove" or path.value_filter.attribute.lower() != "value":
            raise invalid_path('members can only be removed by members[value eq "<id>"]')
        if not isinstance(path.value_filter.value, str):
            raise invalid_path("a member id is a string")
        return MemberOperation("remove", (path.value_filter.value,))
    if operation.op == "remove" and value is None:
        return MemberOperation("replace", ())
    items = value if isinstance(value, list) else [] if value is None else [value]
    return MemberOperation(operation.op, tuple(member_ids(items, "members")))


def apply_operations(attrs: Mapping[str, Any], operations: tuple[Operation, ...]) -> dict[str, Any]:
    """A copy of ``attrs`` with ``operations`` applied in order (not yet re-validated)."""
    doc = copy.deepcopy(dict(attrs))
    for operation in operations:
        _apply(doc, operation)
    return doc


def _apply(doc: dict[str, Any], operation: Operation) -> None:
    op, path, value = operation.op, operation.path, operation.value
    extension = path.extension
    in_core = extension is None or extension.stored_in_core
    container = doc if extension is None or in_core else doc.setdefault(extension.id, {})
    if path.attribute is None:
        assert extension is not None
        if op == "remove":
            for core_name in (a.name for a in extension.attributes if in_core):
                doc.pop(core_name, None)
            doc.pop(extension.id, None)
            return
        if not isinstance(value, Mapping):
            raise invalid_value(f"the value for {extension.id} must be an object")
        for key, item in value.items():
            refuse_unsupported(extension.id, key)
            attr = extension.attribute(key)
            if attr is None:
                raise invalid_path(f"no attribute [{key}] in {extension.id}")
            if attr.writable:
                _set(container, attr, op, item)
        return
    if path.value_filter is not None:
        _apply_filtered(container, path, op, value)
    elif path.sub is not None:
        block = container.setdefault(path.attribute.name, {})
        if op == "remove":
            block.pop(path.sub.name, None)
        else:
            _put(block, path.sub.name, clean_value(path.sub, value, path.sub.name))
    elif op == "remove":
        _remove(container, path.attribute, value)
    else:
        _set(container, path.attribute, op, value)


def _set(container: dict[str, Any], attr: Attribute, op: str, value: Any) -> None:
    """add or replace a whole attribute (RFC 7644 sections 3.5.2.1 and 3.5.2.3)."""
    if attr.multi_valued and value is not None and not isinstance(value, list):
        value = [value]
    cleaned = clean_value(attr, value, attr.name)
    name = attr.name
    if attr.multi_valued:
        new = cleaned or []
        old = container.get(name, []) if op == "add" else []
        if any(isinstance(item, dict) and item.get("primary") is True for item in new):
            # RFC 7644 section 3.5.2: a new primary value demotes the others.
            old = [{**item, "primary": False} if isinstance(item, dict) else item for item in old]
        _put(container, name, [*old, *(item for item in new if item not in old)])
    elif attr.type == "complex" and cleaned is not None:
        # Sub-attributes not in the value are left unchanged (RFC 7644 section 3.5.2.3).
        _put(container, name, {**container.get(name, {}), **cleaned})
    elif cleaned is not None or op == "replace":
        _put(container, name, cleaned)


def _remove(container: dict[str, Any], attr: Attribute, value: Any) -> None:
    """remove a whole attribute, or the listed values of a multi-valued one."""
    if not (attr.multi_valued and value is not None):
        container.pop(attr.name, None)
        return
    gone = clean_value(attr, value if isinstance(value, list) else [value], attr.name) or []
    keys = {_identity(item) for item in gone}
    remaining = [item for item in container.get(attr.name, []) if _identity(item) not in keys]
    _put(container, attr.name, remaining)


def _identity(item: Any) -> Any:
    """What makes two values of a multi-valued attribute the same value."""
    if isinstance(item, dict) and isinstance(item.get("value"), str):
        return item["value"].lower()
    return repr(item)


def _apply_filtered(container: dict[str, Any], path: Path, op: str, value: Any) -> None:
    """Operations on ``attr[filter]`` and ``attr[filter].sub``."""
    assert path.attribute is not None
    assert path.value_filter is not None
    attr, sub = path.attribute, path.sub
    items: list[dict[str, Any]] = container.get(attr.name, [])
    hits = [i for i, item in enumerate(items) if _matches(item, attr, path.value_filter)]
    if op == "remove":
        if sub is None:
            items = [item for i, item in enumerate(items) if i not in hits]
        else:
            for i in hits:
                items[i].pop(sub.name, None)
        _put(container, attr.name, items)
        return
    if not hits:
        # RFC 7644 section 3.5.2.3: a value filter that matches nothing is "noTarget".
        raise ScimRequestError(400, f"no value of {attr.name} matches the filter", "noTarget")
    if sub is not None:
        cleaned = clean_value(sub, value, f"{attr.name}.{sub.name}")
        for i in hits:
            _put(items[i], sub.name, cleaned)
    else:
        single = Attribute(attr.name, attr.type, sub_attributes=attr.sub_attributes)
        cleaned = clean_value(single, value, attr.name) or {}
        for i in hits:
            items[i] = {**items[i], **cleaned} if op == "add" else dict(cleaned)
    if sub is None or sub.name == "primary":
        promoted = [i for i in hits if items[i].get("primary") is True]
        if promoted:
            keep = promoted[0]
            items = [{**x, "primary": False} if i != keep else x for i, x in enumerate(items)]
    _put(container, attr.name, items)


def _matches(item: Any, attr: Attribute, comparison: Comparison) -> bool:
    sub = attr.sub(comparison.attribute)
    if sub is None or not isinstance(item, dict):
        return False
    actual = item.get(sub.name)
    expected = comparison.value
    if isinstance(actual, str) and isinstance(expected, str) and not sub.case_exact:
        return actual.lower() == expected.lower()
    return actual == expected and type(actual) is type(expected)


def _put(container: dict[str, Any], name: str, value: Any) -> None:
    """Set ``name``, or drop it when the value is empty (unassigned, RFC 7643 section 2.5)."""
    if value is None or value == [] or value == {}:
        container.pop(name, None)
    else:
        container[name] = value
