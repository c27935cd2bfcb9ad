"""Item-level differences of a multi-valued attribute (``emails``, ``phoneNumbers``).

A plan records a multi-valued attribute whole: ``before`` and ``after`` are lists of
``{value, type, primary}`` items (``attributes.canonical_items``). A reviewer needs to know
which item is added, removed or changed, so this module pairs the items of the two
lists by their ``value`` (email addresses folded, as the directory compares them:
``attributes.same_value``) and diffs the fields of each pair with deepdiff, which
also tells ``1`` from ``true`` and an absent field from a null one.

Pure and deterministic: the same two lists always give the same changes in the same
order (removals, then changes, then additions, each by value, as a diff reads), so
every plan view and the stale-plan check word a difference alike.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from deepdiff import DeepDiff

from reconciler.attributes import MULTI_VALUED
from reconciler.identifiers import fold_identity

Item = Mapping[str, Any]
ItemOp = Literal["remove", "change", "add"]

# Multi-valued attributes whose values compare as identities do (email addresses).
_FOLDED = frozenset({"emails"})
# Fields in the order a reviewer reads them; any other field follows, by name.
_FIELD_ORDER = ("value", "type", "primary")
_OP_ORDER: dict[ItemOp, int] = {"remove": 0, "change": 1, "add": 2}


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of one item, before and after; ``None`` is absent."""

    name: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class ItemChange:
    """One item of a multi-valued attribute that is added, removed or changed.

    ``before`` is None for an addition, ``after`` for a removal; a change has both,
    and ``fields`` names what differs between them.
    """

    op: ItemOp
    before: Item | None = None
    after: Item | None = None
    fields: tuple[FieldChange, ...] = ()

    @property
    def value(self) -> str:
        """The item's ``value`` (its new one when a change alters it)."""
        item = self.after if self.after is not None else self.before
        return str(item["value"]) if item is not None else ""


def is_multi_valued(path: str) -> bool:
    """Whether ``path`` holds a list of items that compares as a set."""
    return path in MULTI_VALUED


def item_changes(path: str, before: Any, after: Any) -> tuple[ItemChange, ...] | None:
    """The items added, removed and changed from ``before`` to ``after``.

    None when ``path`` is not multi-valued or a side is not a list of items with a
    string ``value`` (a hand-made plan, say): the views then show the values whole.
    Items equal on both sides are left out. Items that share a value are paired only
    when exactly one on each side has it; otherwise they are removed and added.
    """
    if not is_multi_valued(path):
        return None
    old, new = _items(before), _items(after)
    if old is None or new is None:
        return None
    old, new = _without_common(old, new)
    fold = path in _FOLDED
    old_by_key, new_by_key = _by_key(old, fold), _by_key(new, fold)
    changes: list[tuple[str, ItemChange]] = []
    for key in sorted(old_by_key.keys() | new_by_key.keys()):
        olds, news = old_by_key.get(key, []), new_by_key.get(key, [])
        if len(olds) == 1 and len(news) == 1:
            change = _changed(olds[0], news[0])
            changes += [(key, change)] if change.fields else []
            continue
        changes += [(key, ItemChange("remove", before=item)) for item in olds]
        changes += [(key, ItemChange("add", after=item)) for item in news]
    changes.sort(key=lambda kc: (_OP_ORDER[kc[1].op], kc[0], _canonical(_item_of(kc[1]))))
    return tuple(change for _, change in changes)


def _item_of(change: ItemChange) -> Item:
    return change.before if change.before is not None else change.after or {}


def describe(change: ItemChange, value: Callable[[Any], str], name: Callable[[str], str]) -> str:
    """One item change on one line: ``+ {item}``, ``- {item}`` or ``~ a@x: type "home" -> "work"``.

    ``value`` writes a value (an item, a field) and ``name`` an item's own value, so
    that each view escapes them its own way.
    """
    if change.op == "add":
        return f"+ {value(change.after)}"
    if change.op == "remove":
        return f"- {value(change.before)}"
    fields = ", ".join(f"{f.name} {value(f.before)} -> {value(f.after)}" for f in change.fields)
    return f"~ {name(change.value)}: {fields}"


def items_json(path: str, before: Any, after: Any) -> list[dict[str, Any]] | None:
    """``item_changes`` as the plan JSON lists them (a change's derived ``items``), or None.

    Each is ``{"op": "add", "after": {...}}``, ``"remove"`` with ``before``, or
    ``"change"`` with both and the ``fields`` that differ, in reading order.
    """
    changes = item_changes(path, before, after)
    return None if changes is None else [_item_json(change) for change in changes]


def _item_json(change: ItemChange) -> dict[str, Any]:
    out: dict[str, Any] = {"op": change.op}
    if change.before is not None:
        out["before"] = dict(change.before)
    if change.after is not None:
        out["after"] = dict(change.after)
    if change.op == "change":
        out["fields"] = [field.name for field in change.fields]
    return out


def _items(value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return []
    if not isinstance(value, Sequence) or isinstance(value, str):
        return None
    items = [dict(item) for item in value if isinstance(item, Mapping)]
    if len(items) != len(value) or not all(isinstance(i.get("value"), str) for i in items):
        return None
    return items


def _canonical(item: Item) -> str:
    return json.dumps(item, sort_keys=True, separators=(",", ":"), default=str)


def _without_common(
    old: list[dict[str, Any]], new: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Both lists less the items they share exactly (as multisets)."""
    common = Counter(map(_canonical, old)) & Counter(map(_canonical, new))

    def rest(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        left = Counter(common)
        kept = []
        for item in items:
            key = _canonical(item)
            if left[key]:
                left[key] -= 1
            else:
                kept.append(item)
        return kept

    return rest(old), rest(new)


def _by_key(items: list[dict[str, Any]], fold: bool) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        value = str(item["value"])
        grouped.setdefault(fold_identity(value) if fold else value, []).append(item)
    return grouped


def _changed(before: dict[str, Any], after: dict[str, Any]) -> ItemChange:
    """The fields that differ between two paired items, as deepdiff finds them."""
    names = {str(name) for name in DeepDiff(before, after).affected_root_keys}
    ordered = [n for n in _FIELD_ORDER if n in names] + sorted(names - set(_FIELD_ORDER))
    fields = tuple(FieldChange(n, before.get(n), after.get(n)) for n in ordered)
    return ItemChange("change", before=before, after=after, fields=fields)
