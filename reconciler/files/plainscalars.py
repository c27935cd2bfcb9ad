"""Plain YAML scalars in text fields are text, exactly as written.

By the YAML core schema a plain (unquoted) ``00018`` is the number 18, ``1e3`` is
1000.0 and ``true`` a boolean. HR exports are full of employee numbers and cost
centres like these, and the tools that write them rarely quote them; yet in a
field the file format types as text (``employeeNumber``, ``title``, a ``members``
item) the number was never meant. So the composer keeps such a scalar as a
``PlainScalar`` (its core-schema value and its source text), and
``resolve_plain_scalars`` walks the data alongside the pydantic models: where the
model's annotation is ``str`` (or ``str | None``), the scalar becomes its text;
anywhere else (``version``, ``active``, ``primary``, limits that are
``int | str``, unknown keys) it becomes its value, as before. The field types
come from the models themselves, so a field added there is covered here.

The lean path (``yamlfast``) knows the model while it composes and reads each
plain scalar by what is ``Expected`` there on the spot; the walk is for the full path
(``yamlcompose``) and for a model chosen from the composed data.

Untouched: ``null``, ``~`` and nothing (always null), quoted scalars and explicit
tags (``!!int 5`` is the number 5 everywhere), and lists or mappings in a text
field, which validation still refuses.
"""

from __future__ import annotations

import functools
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class PlainScalar:
    """A plain, untagged scalar that the core schema reads as a number or boolean."""

    value: bool | int | float
    text: str  # as written in the file


@dataclass(frozen=True, slots=True)
class Expected:
    """What the schema expects at one place in the file."""

    text: bool = False  # a string (or null): a plain scalar here is its text
    model: type[BaseModel] | None = None  # the model a mapping here is validated against
    items: Expected | None = None  # what a list's items are, for a list here

    def field(self, name: str) -> Expected:
        """What is expected at key ``name`` of a mapping here (unknown keys: anything)."""
        return self.fields().get(name, ANYTHING)

    def fields(self) -> dict[str, Expected]:
        """What is expected at each key of a mapping here, by name (unknown keys are not in it)."""
        return _fields_of(self.model) if self.model is not None else _NO_FIELDS


ANYTHING = Expected()  # no schema, or a place it does not describe: values as the core schema says
_NO_FIELDS: dict[str, Expected] = {}


def schema_expects(schema: type[BaseModel] | None) -> Expected:
    """What ``schema`` expects of a whole document (``ANYTHING`` without one)."""
    return _expected_of(schema)


def resolve_plain_scalars(data: Any, schema: type[BaseModel] | None) -> Any:
    """``data`` without ``PlainScalar``s: text where ``schema`` expects a string, else values.

    With no ``schema`` every plain scalar is its core-schema value. Containers are
    rebuilt, never changed in place; a container shared through YAML aliases is
    rebuilt once per expectation, so an alias stays one object where it can.
    """
    return _Resolver().resolve(data, schema_expects(schema))


_NESTED = (PlainScalar, dict, tuple)  # what the walk looks into; strings and null stay


class _Resolver:
    def __init__(self) -> None:
        self.done: dict[tuple[int, int], Any] = {}  # (id of container, id of what it must be)

    def resolve(self, value: Any, expected: Expected) -> Any:
        if isinstance(value, PlainScalar):
            return value.text if expected.text else value.value
        if not isinstance(value, dict | tuple):
            return value
        key = (id(value), id(expected))  # both outlive the walk, so ids are stable
        if key not in self.done:
            if isinstance(value, tuple):
                items = expected.items or ANYTHING
                self.done[key] = tuple(
                    self.resolve(item, items) if isinstance(item, _NESTED) else item
                    for item in value
                )
            else:
                self.done[key] = {
                    name: self.resolve(item, expected.field(name))
                    if isinstance(item, _NESTED)
                    else item
                    for name, item in value.items()
                }
        return self.done[key]


@functools.cache
def _fields_of(model: type[BaseModel]) -> dict[str, Expected]:
    return {name: _expected_of(field.annotation) for name, field in model.model_fields.items()}


def _expected_of(annotation: Any) -> Expected:
    members = _members(annotation)
    model = next((m for m in members if isinstance(m, type) and issubclass(m, BaseModel)), None)
    sequences = (typing.get_args(m) for m in members if typing.get_origin(m) in (tuple, list))
    items = next((_expected_of(args[0]) for args in sequences if args), None)
    return Expected(text=members == [str], model=model, items=items)


def _members(annotation: Any) -> list[Any]:
    """The types a value may have, ``None`` left out: ``str | None`` gives ``[str]``."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    return [] if annotation in (None, types.NoneType) else [annotation]
