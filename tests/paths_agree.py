"""Helpers for the lean-path tests: compare two parsed documents node by node."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from reconciler.files.sourcemap import NodePath, ParsedDocument


def typed(value: Any) -> Any:
    """``value`` with each scalar's type spelled out: 1, 1.0 and True are not equal here."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return (type(value).__name__, [typed(item) for item in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def paths(value: Any, path: NodePath = ()) -> Iterator[NodePath]:
    """Every node path in ``value``, the root first, then one step further each time."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*path, key))
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            yield from paths(item, (*path, index))


def assert_same(lean: ParsedDocument, full: ParsedDocument) -> None:
    """Same data (types too), problems, completeness, and the same position for every node."""
    assert typed(lean.data) == typed(full.data)
    assert [str(p) for p in lean.problems] == [str(p) for p in full.problems]
    assert (lean.complete, lean.refused) == (full.complete, full.refused)
    if not full.complete:
        return  # parsing stopped: nothing looks into the data or asks where it is
    for path in paths(full.data):
        assert lean.exact_position(path) == full.exact_position(path), path
        assert lean.key_position(path) == full.key_position(path), path
        assert lean.position((*path, "nowhere")) == full.position((*path, "nowhere")), path
