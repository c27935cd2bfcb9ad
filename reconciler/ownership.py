"""Field ownership: which attribute paths a file user manages, and their values.

Only attributes a file mentions are managed (docs/design.md, "Desired-state file").
What a user mentions is its *shape* (``user_shape``): the fields it sets, and the
sub-fields of its ``name`` and ``enterprise``. A directory of a hundred thousand
users has a handful of shapes, so everything that depends on the shape alone (the
paths, the order they are compared in, where each value is read from) is worked
out once per shape and cached; the loader makes users of one shape share one
set of fields (``desired.share_common_parts``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from operator import attrgetter
from typing import Any

from reconciler.attributes import (
    ENTERPRISE_ATTRIBUTES,
    MULTI_VALUED,
    NAME_ATTRIBUTES,
    SIMPLE_ATTRIBUTES,
    canonical_tuples,
    multi_dicts,
)
from reconciler.desired import UserSpec

Shape = tuple[frozenset[str], frozenset[str] | None, frozenset[str] | None]
"""A user's fields, its name's and its enterprise's (None: absent or written null)."""

_NESTED = (("name", NAME_ATTRIBUTES), ("enterprise", ENTERPRISE_ATTRIBUTES))
_NESTED_NAMES = frozenset(nested for nested, _ in _NESTED)
_NOT_ATTRIBUTES = frozenset({"groups", "previousUserNames"}) | _NESTED_NAMES
# Where ``_readers`` finds a value: on the user, on its name, on its enterprise
# extension, a multi-valued attribute on the user, or nothing (written as null).
_USER, _NAME, _ENTERPRISE, _MULTI, _NULL = range(5)


def user_shape(user: UserSpec) -> Shape:
    """What decides the paths a file user manages (module docstring)."""
    name, enterprise = user.name, user.enterprise
    return (
        frozenset(user.model_fields_set),
        None if name is None else frozenset(name.model_fields_set),
        None if enterprise is None else frozenset(enterprise.model_fields_set),
    )


def shapes_of(users: Iterable[UserSpec]) -> set[Shape]:
    """The distinct shapes among ``users``: what every per-shape question is asked of."""
    return {user_shape(user) for user in users}


def managed_paths(user: UserSpec) -> frozenset[str]:
    """The paths of ``desired_user_attributes(user)``: what a plan reads of its account."""
    return shape_paths(user_shape(user))


@lru_cache(maxsize=1024)
def shape_paths(shape: Shape) -> frozenset[str]:
    """The paths a user of this shape manages (``managed_paths``)."""
    return frozenset(path for path, _, _ in _readers(shape))


@lru_cache(maxsize=1024)
def mentioned_paths(shape: Shape) -> frozenset[str]:
    """The attribute paths a user of this shape writes in its file, ``active`` among
    them; a ``name`` or ``enterprise`` written as null mentions none of its parts."""
    fields, *nested_fields = shape
    paths = set(fields - _NOT_ATTRIBUTES)
    for (nested, _), subs in zip(_NESTED, nested_fields, strict=True):
        if nested in fields and subs is not None:
            paths.update(f"{nested}.{sub}" for sub in subs)
    return frozenset(paths)


@lru_cache(maxsize=1024)
def _readers(shape: Shape) -> tuple[tuple[str, int, str], ...]:
    """For each managed path, in path order: where its value is, and under which name."""
    fields, name_fields, enterprise_fields = shape
    found = [("userName", _USER, "userName")]
    found += [(a, _USER, a) for a in SIMPLE_ATTRIBUTES[1:] if a in fields]
    found += [(a, _MULTI, a) for a in MULTI_VALUED if a in fields]
    for (nested, names), subs, source in zip(
        _NESTED, (name_fields, enterprise_fields), (_NAME, _ENTERPRISE), strict=True
    ):
        if nested in fields:
            if subs is None:  # written as null: every part is managed as absent
                found += [(f"{nested}.{a}", _NULL, a) for a in names]
            else:
                found += [(f"{nested}.{a}", source, a) for a in names if a in subs]
    return tuple(sorted(found))


def desired_user_attributes(user: UserSpec) -> dict[str, Any]:
    """The attributes a file manages for one user, by path, in path order.

    ``active`` and ``groups`` are left out: the planner handles them as actions and
    memberships. A key written as ``null`` in the file is managed as "absent".
    """
    paths, values = desired_user_values(user)
    return {
        path: multi_dicts(value) if path in MULTI_VALUED else value
        for path, value in zip(paths, values, strict=True)
    }


def desired_user_values(user: UserSpec) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """The paths a file user manages, in path order, and their values in the compact
    form live users keep (``attributes.live_user_values``): equal values are equal
    tuples, so an unchanged user is one comparison (``planner.users``)."""
    readers = _readers(user_shape(user))
    return _paths(readers), _values_getter(readers)(user)


@lru_cache(maxsize=1024)
def _values_getter(
    readers: tuple[tuple[str, int, str], ...],
) -> Callable[[UserSpec], tuple[Any, ...]]:
    """What reads a user's values of these readers: one ``attrgetter`` for the usual
    shape (plain attributes, on the user, its name or its enterprise part)."""
    dotted = [
        attr if where in (_USER, _MULTI) else f"{('', 'name', 'enterprise')[where]}.{attr}"
        for _, where, attr in readers
        if where != _NULL
    ]
    get = attrgetter(*dotted)
    if all(where in (_USER, _NAME, _ENTERPRISE) for _, where, _ in readers):
        return get if len(dotted) > 1 else lambda user: (get(user),)
    kinds = [where for _, where, _ in readers]

    def values(user: UserSpec) -> tuple[Any, ...]:
        got = iter(get(user) if len(dotted) > 1 else (get(user),))
        found: list[Any] = []
        for where in kinds:
            value = None if where == _NULL else next(got)
            found.append(_compact(value) if where == _MULTI and value is not None else value)
        return tuple(found)

    return values


def _compact(items: Iterable[Any]) -> tuple[tuple[str, Any, bool], ...]:
    return canonical_tuples(_dumped(items))


@lru_cache(maxsize=1024)
def _paths(readers: tuple[tuple[str, int, str], ...]) -> tuple[str, ...]:
    return tuple(path for path, _, _ in readers)


def _dumped(items: Iterable[Any]) -> list[Mapping[str, Any]]:
    return [item.model_dump() for item in items]


def create_user_attributes(user: UserSpec) -> dict[str, Any]:
    """What a create sends: the managed attributes plus the defaults of a new account."""
    attrs = desired_user_attributes(user)
    if "emails" not in user.model_fields_set:
        # docs/design.md "Desired-state file", field ownership: with no emails in the
        # file, the userName is the one primary work email, on create only (Atlassian
        # requires exactly one primary email).
        attrs["emails"] = [{"value": user.userName, "type": "work", "primary": True}]
    if not user.active:
        attrs["active"] = False
    return {path: value for path, value in attrs.items() if value is not None}
