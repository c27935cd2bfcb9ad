"""Users just validated, made to share what they have in common.

A directory is held whole (a million users is gigabytes), and pydantic gives each
model its own set of the fields it was given, a third of a user's memory, although a
directory has only a handful of distinct ones. ``share_common_parts`` makes users
(and their names, emails, enterprise parts) with equal field sets share one set, and
equal group names in ``groups`` one string.

pydantic has no public way to do that to a model it has made, so this is the one
module that writes its private ``__pydantic_fields_set__`` and a frozen model's
``__dict__``. Nothing a model says changes, which ``tests/test_ownership.py`` checks
on random users against models left as pydantic made them: the set stays a ``set``
(what pydantic expects), nothing adds to the set of a frozen model, and
``model_copy`` copies it before adding to it.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from reconciler.desired import UserSpec


def share_common_parts(users: Iterable[UserSpec]) -> None:
    """Make users just validated share their field sets and group names, in place.
    Only the loader calls this, on models nobody else holds yet."""
    field_sets: dict[frozenset[str], set[str]] = {}
    names: dict[str, str] = {}

    def share(model: BaseModel) -> None:
        fields = model.model_fields_set
        shared = field_sets.setdefault(frozenset(fields), fields)
        object.__setattr__(model, "__pydantic_fields_set__", shared)

    for user in users:
        share(user)
        for part in (user.name, user.enterprise, *(user.emails or ()), *(user.phoneNumbers or ())):
            if part is not None:
                share(part)
        if groups := user.groups:
            user.__dict__["groups"] = tuple(map(names.setdefault, groups, groups))
