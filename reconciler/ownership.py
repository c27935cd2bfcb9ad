"""Field ownership: which attributes a file user manages, and their values.

Only attributes a file mentions are managed (docs/design.md, "Desired-state file").
pydantic records what a file mentions in ``model_fields_set``; this module states
the rule on it in plain code (``managed_attributes``). A plan asks it of every user,
so the planner and the pipeline use the per-shape form of it in
``reconciler.ownership_fast``, which ``tests/test_ownership.py`` holds equal to this
one on random users.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.attributes import (
    ENTERPRISE_ATTRIBUTES,
    MULTI_VALUED,
    NAME_ATTRIBUTES,
    SIMPLE_ATTRIBUTES,
    canonical_items,
)
from reconciler.desired import UserSpec

# The parts of a user that hold attributes of their own, by the path prefix of each.
NESTED = {"name": NAME_ATTRIBUTES, "enterprise": ENTERPRISE_ATTRIBUTES}


def managed_attributes(user: UserSpec) -> dict[str, Any]:
    """The attributes a file manages for one user, by path, in path order.

    The userName always; every other attribute only when the file mentions it, with
    the value it gives, ``null`` (None) meaning "absent". A ``name`` or ``enterprise``
    manages the parts it mentions; written as ``null``, every part of it is managed
    as absent. Emails and phone numbers are canonical (``canonical_items``).
    ``active`` and ``groups`` are left out: the planner handles them as actions and
    memberships.
    """
    mentioned = user.model_fields_set
    found: dict[str, Any] = {"userName": user.userName}
    for attribute in SIMPLE_ATTRIBUTES:
        if attribute in mentioned:
            found[attribute] = getattr(user, attribute)
    for attribute in MULTI_VALUED:
        if attribute in mentioned:
            items = getattr(user, attribute)
            found[attribute] = None if items is None else canonical_items(_dumped(items))
    for nested, parts in NESTED.items():
        if nested in mentioned:
            model = getattr(user, nested)
            for part in parts:
                if model is None:
                    found[f"{nested}.{part}"] = None
                elif part in model.model_fields_set:
                    found[f"{nested}.{part}"] = getattr(model, part)
    return dict(sorted(found.items()))


def mentioned_attributes(user: UserSpec) -> frozenset[str]:
    """The attribute paths a user writes in its file, ``active`` among them (what a
    dialect is asked to support); a ``name`` or ``enterprise`` written as null
    mentions none of its parts."""
    mentioned = user.model_fields_set
    found = {field for field in mentioned if field not in ("groups", "previousUserNames")}
    for nested in NESTED:
        if nested in mentioned:
            found.discard(nested)
            model = getattr(user, nested)
            if model is not None:
                found.update(f"{nested}.{part}" for part in model.model_fields_set)
    return frozenset(found)


def create_user_attributes(
    user: UserSpec, managed: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What a create sends: the managed attributes plus the defaults of a new account.

    ``managed``: the user's ``managed_attributes`` as the caller worked them out already
    (the planner, by shape: ``ownership_fast.desired_user_attributes``).
    """
    attrs = dict(managed_attributes(user) if managed is None else managed)
    if "emails" not in user.model_fields_set:
        # docs/design.md "Desired-state file", field ownership: with no emails in the
        # file, the userName is the one primary work email, on create only (Atlassian
        # requires exactly one primary email).
        attrs["emails"] = [{"value": user.userName, "type": "work", "primary": True}]
    if not user.active:
        attrs["active"] = False
    return {path: value for path, value in attrs.items() if value is not None}


def _dumped(items: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [item.model_dump() for item in items]
