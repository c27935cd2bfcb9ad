"""Users just validated, made to share what they have in common.

A directory is held whole (a million users is gigabytes), and pydantic gives each
model its own set of the fields it was given, a third of a user's memory, although a
directory has only a handful of distinct ones. ``share_common_parts`` makes users
(and their names, emails, enterprise parts) with equal field sets share one set,
equal group names in ``groups`` one string, and equal enterprise parts (often a
department alone, of a few dozen) one frozen model.

pydantic also gives each model a dict of its own keys (464 bytes for a user's 19
fields). CPython can keep the dicts of a class's instances on one table of keys
(key-sharing dicts: only the values are each one's own, 208 bytes for a user), but
only for keys it saw set as attributes before the class's first instances; so at
import this module sets every field of one bare instance of each class, in field
order, makes a few more (so that later dicts keep no room for keys to come), and
keeps its dict as a template; each model's dict is then replaced with a
copy of the template, filled with the model's values in the same order. Where the
interpreter does not share keys (another version; a class with instances made
before this module was imported), the copy would be no smaller, and dicts are left
as pydantic made them.

pydantic has no public way to do that to a model it has made, so this is the one
module that writes its private ``__pydantic_fields_set__`` and a frozen model's
``__dict__``. Nothing a model says changes, which ``tests/test_ownership.py`` checks
on random users against models left as pydantic made them: the set stays a ``set``
(what pydantic expects), nothing adds to the set of a frozen model, and
``model_copy`` copies it before adding to it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel

from reconciler.desired import Email, Enterprise, Name, PhoneNumber, UserSpec

_FIELDS_SET = BaseModel.__dict__["__pydantic_fields_set__"]
"""The slot that holds a model's set of the fields it was given."""


def _key_sharing_template(model: type[BaseModel]) -> dict[str, Any] | None:
    """A dict of ``model``'s fields (in order) that shares its keys with the class, or
    None where it would be no smaller than a plain dict (module docstring)."""
    bare = object.__new__(model)
    for name in model.model_fields:
        object.__setattr__(bare, name, None)
    for _ in range(_SPARE_ROOM):  # CPython 3.11 gives each later dict one slot less spare
        object.__new__(model)  # room, down to one: a copy then holds little more than values
    template = bare.__dict__
    return template if sys.getsizeof(template.copy()) < sys.getsizeof(dict(template)) else None


_SPARE_ROOM = 32
"""Instances made to use up the room a class's key-sharing dicts keep for more keys."""


_TEMPLATES: dict[type[BaseModel], dict[str, Any] | None] = {
    model: _key_sharing_template(model)
    for model in (UserSpec, Name, Enterprise, Email, PhoneNumber)
}
"""In CPython 3.11 a copy of each is smaller than pydantic's dict: 208 bytes against 464
for a user, 120 against 272 for a name, 96 against 184 for an email."""


def share_common_parts(users: Iterable[UserSpec]) -> None:
    """Make users just validated share their field sets, keys, group names and equal
    enterprise parts, in place. Only the loader calls this, on models nobody else
    holds yet."""
    names: dict[str, str] = {}
    enterprises: dict[tuple[object, ...], Enterprise] = {}  # by values (then fields)
    get_fields = _FIELDS_SET.__get__
    share_user = _sharer(UserSpec)
    share_name, share_enterprise = _sharer(Name), _sharer(Enterprise)
    share_email, share_phone = _sharer(Email), _sharer(PhoneNumber)
    for user in users:
        share_user(user)
        if user.name is not None:
            share_name(user.name)
        if (enterprise := user.enterprise) is not None:  # one model for equal ones
            values = tuple(enterprise.__dict__.values())
            seen = enterprises.get(values)
            if seen is not None and get_fields(seen) == get_fields(enterprise):
                user.__dict__["enterprise"] = seen
            else:
                share_enterprise(enterprise)
                enterprises.setdefault(values, enterprise)
        for email in user.emails or ():
            share_email(email)
        for phone in user.phoneNumbers or ():
            share_phone(phone)
        if groups := user.groups:
            user.__dict__["groups"] = tuple(map(names.setdefault, groups, groups))


def _sharer(model: type[BaseModel]) -> Callable[[BaseModel], None]:
    """What makes each instance of ``model`` share its field set with the equal ones
    seen before, and its dict's keys with the class."""
    field_sets: dict[frozenset[str], set[str]] = {}
    template = _TEMPLATES[model]
    get_fields, set_fields = _FIELDS_SET.__get__, _FIELDS_SET.__set__
    setattr_, copy, fill = object.__setattr__, dict.copy, dict.update

    def share(instance: BaseModel) -> None:
        fields = get_fields(instance)
        set_fields(instance, field_sets.setdefault(frozenset(fields), fields))
        if template is not None and type(instance) is model:
            own = copy(template)
            fill(own, instance.__dict__)
            setattr_(instance, "__dict__", own)

    return share
