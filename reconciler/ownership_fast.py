"""Field ownership per shape: ``reconciler.ownership``'s rule, worked out once per shape.

What a user mentions is its *shape* (``user_shape``): the fields it sets, and the
sub-fields of its ``name`` and ``enterprise``. A directory of a hundred thousand
users has a handful of shapes, so everything that depends on the shape alone (the
paths, the order they are compared in, where each value is read from) is worked out
once per shape and cached; the loader makes users of one shape share one set of
fields (``desired_compact.share_common_parts``). Every answer here is the one
``ownership.managed_attributes`` and ``ownership.mentioned_attributes`` give, which
``tests/test_ownership.py`` checks on random users.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from operator import attrgetter
from typing import Any

from reconciler.attributes import MULTI_VALUED, SIMPLE_ATTRIBUTES, canonical_tuples, multi_dicts
from reconciler.desired import UserSpec
from reconciler.ownership import NESTED

Shape = tuple[frozenset[str], frozenset[str] | None, frozenset[str] | None]
"""A user's fields, its name's and its enterprise's (None: absent or written null)."""

_NOT_ATTRIBUTES = frozenset({"groups", "previousUserNames", *NESTED})
# How a managed value is read: the attribute at its path (dotted through ``name`` or
# ``enterprise``), a multi-valued one made compact, or none (a part written as null).
_PLAIN, _MULTI, _NULL = "plain", "multi", "null"
_Readers = tuple[tuple[str, str], ...]


def user_shape(user: UserSpec) -> Shape:
    """What decides the paths a file user manages (module docstring)."""
    return _known_shape(user)[0]


def _shape_of(user: UserSpec) -> Shape:
    name, enterprise = user.name, user.enterprise
    return (
        frozenset(user.model_fields_set),
        None if name is None else frozenset(name.model_fields_set),
        None if enterprise is None else frozenset(enterprise.model_fields_set),
    )


_FieldSets = tuple[set[str], set[str] | None, set[str] | None]
_Known = tuple[Shape, tuple[str, ...], Callable[[UserSpec], tuple[Any, ...]]]
# Users of one shape share their field sets (``desired_compact``): what is worked out
# per shape is found by the sets themselves, kept here so that their ids stay theirs.
_KNOWN: dict[tuple[int, int, int], tuple[_FieldSets, _Known]] = {}
_KNOWN_KEPT = 4096


def _known_shape(user: UserSpec) -> _Known:
    """The user's shape, its paths and what reads its values: found by the identity of
    its field sets when they are shared, else worked out (``_shape_of``)."""
    name, enterprise = user.name, user.enterprise
    sets = (
        user.model_fields_set,
        None if name is None else name.model_fields_set,
        None if enterprise is None else enterprise.model_fields_set,
    )
    ids = (id(sets[0]), id(sets[1]), id(sets[2]))
    hit = _KNOWN.get(ids)
    if hit is not None and all(map(operator.is_, hit[0], sets)):
        return hit[1]
    shape = _shape_of(user)
    readers = _readers(shape)
    known = (shape, _paths(readers), _values_getter(readers))
    if len(_KNOWN) >= _KNOWN_KEPT:  # the sets of earlier loads: let them go
        _KNOWN.clear()
    _KNOWN[ids] = (sets, known)
    return known


def shapes_of(users: Iterable[UserSpec]) -> set[Shape]:
    """The distinct shapes among ``users``: what every per-shape question is asked of."""
    return {user_shape(user) for user in users}


def managed_paths(user: UserSpec) -> frozenset[str]:
    """The paths of ``managed_attributes(user)``: what a plan reads of its account."""
    return shape_paths(user_shape(user))


@lru_cache(maxsize=1024)
def shape_paths(shape: Shape) -> frozenset[str]:
    """The paths a user of this shape manages (``managed_paths``)."""
    return frozenset(path for path, _ in _readers(shape))


@lru_cache(maxsize=1024)
def mentioned_paths(shape: Shape) -> frozenset[str]:
    """``ownership.mentioned_attributes`` of a user of this shape."""
    fields, *nested_fields = shape
    paths = set(fields - _NOT_ATTRIBUTES)
    for nested, subs in zip(NESTED, nested_fields, strict=True):
        if nested in fields and subs is not None:
            paths.update(f"{nested}.{sub}" for sub in subs)
    return frozenset(paths)


@lru_cache(maxsize=1024)
def _readers(shape: Shape) -> _Readers:
    """For each managed path, in path order: how its value is read."""
    fields, *nested_fields = shape
    found = [("userName", _PLAIN)]
    found += [(a, _PLAIN) for a in SIMPLE_ATTRIBUTES[1:] if a in fields]
    found += [(a, _MULTI) for a in MULTI_VALUED if a in fields]
    for (nested, parts), subs in zip(NESTED.items(), nested_fields, strict=True):
        if nested in fields:
            if subs is None:  # written as null: every part is managed as absent
                found += [(f"{nested}.{a}", _NULL) for a in parts]
            else:
                found += [(f"{nested}.{a}", _PLAIN) for a in parts if a in subs]
    return tuple(sorted(found))


def desired_user_attributes(user: UserSpec) -> dict[str, Any]:
    """``ownership.managed_attributes(user)``, by shape."""
    paths, values = desired_user_values(user)
    return {
        path: multi_dicts(value) if path in MULTI_VALUED else value
        for path, value in zip(paths, values, strict=True)
    }


def desired_user_values(user: UserSpec) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """The paths a file user manages, in path order, and their values in the compact
    form live users keep (``live.compact_value``): equal values are equal tuples, so
    an unchanged user is one comparison (``planner.users``)."""
    _, paths, values = _known_shape(user)
    return paths, values(user)


@lru_cache(maxsize=1024)
def _values_getter(readers: _Readers) -> Callable[[UserSpec], tuple[Any, ...]]:
    """What reads a user's values of these readers: one ``attrgetter`` for the usual
    shape (plain attributes, on the user, its name or its enterprise part)."""
    dotted = [path for path, how in readers if how != _NULL]  # never empty: the userName
    get = attrgetter(*dotted)
    if all(how == _PLAIN for _, how in readers):
        return get if len(dotted) > 1 else lambda user: (get(user),)
    kinds = [how for _, how in readers]

    def values(user: UserSpec) -> tuple[Any, ...]:
        got = iter(get(user) if len(dotted) > 1 else (get(user),))
        found: list[Any] = []
        for how in kinds:
            value = None if how == _NULL else next(got)
            found.append(_compact(value) if how == _MULTI and value is not None else value)
        return tuple(found)

    return values


def _compact(items: Iterable[Any]) -> tuple[tuple[str, Any, bool], ...]:
    return canonical_tuples(_dumped(items))


@lru_cache(maxsize=1024)
def _paths(readers: _Readers) -> tuple[str, ...]:
    return tuple(path for path, _ in readers)


def _dumped(items: Iterable[Any]) -> list[Mapping[str, Any]]:
    return [item.model_dump() for item in items]
