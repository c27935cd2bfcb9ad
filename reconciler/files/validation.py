"""pydantic validation errors, told where they are and in the file's words.

pydantic says ``('users', 3, 'active')  Input should be a valid boolean``; a person
needs ``people.yaml:14:13: users[3].active: expected true or false, found the
string "yes"``. This module maps each error's ``loc`` to a recorded position (a
missing key at its parent mapping, an unknown key at the key itself) and rewrites
the common messages. Members of a union (``int | str`` for limits) each report
their own failure; those become one problem listing what would have been accepted.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from reconciler.desired import DesiredFile, UserSpec
from reconciler.files.sourcemap import NodePath, ParsedDocument, excerpt

# Users validated in one call into pydantic's core, which holds the interpreter for
# the whole call: 1,000 take about 10 ms, where a file of 50,000 took 0.6 s, during
# which a read beside the load (``app.pipeline``) could not take a page in.
USERS_AT_ONCE = 1000
_USERS = TypeAdapter(tuple[UserSpec, ...], config=ConfigDict(strict=True))
# What stands in, once let go, for a user already validated (``validate_file``'s
# ``release``): a valid one, so that the file's errors are those of the rest.
_VALIDATED: dict[str, Any] = {"userName": "validated@example.invalid"}


def validate_file(data: Any, *, release: bool = False) -> DesiredFile:
    """``DesiredFile.model_validate(data)``, its users ``USERS_AT_ONCE`` at a time.

    The result is the same model; a file with any problem is validated again in one
    call, so the ``ValidationError`` raised is exactly that call's (its errors, in its
    order). tests/files/test_validation_slices.py holds both equal on random files.

    With ``release`` (the caller is done with ``data``), each slice's parsed users are
    let go once validated, replaced in ``data`` by a valid stand-in: the models made
    next reuse their memory (at 100,000 users, 40 MB less at the peak of a plan). A
    problem in a later slice is still reported as the one call reports it: the users
    let go had none, and the stand-ins have none, at the same places.
    """
    users = data.get("users") if type(data) is dict else None
    if type(users) is not tuple or len(users) <= USERS_AT_ONCE:
        return DesiredFile.model_validate(data)
    try:
        shell = DesiredFile.model_validate({**data, "users": ()})
    except ValidationError:
        return DesiredFile.model_validate(data)  # raises the one call's errors
    raw = list(users)
    if release:
        data["users"] = None  # the parsed tuple goes: ``raw`` holds its users alone
    del users
    specs: list[UserSpec] = []
    for start in range(0, len(raw), USERS_AT_ONCE):
        end = start + USERS_AT_ONCE
        try:
            specs.extend(_USERS.validate_python(tuple(raw[start:end])))
        except ValidationError:
            if release:
                data["users"] = tuple(raw)
            return DesiredFile.model_validate(data)  # raises the one call's errors
        if release:
            raw[start:end] = [_VALIDATED] * (min(end, len(raw)) - start)
    if release:
        data["users"] = tuple(raw)
    return shell.model_copy(update={"users": tuple(specs)})


_EXPECTED = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "tuple_type": "a list",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def report_validation_error(
    exc: ValidationError, doc: ParsedDocument, model: type[BaseModel] = DesiredFile
) -> None:
    """Add one problem to ``doc`` per place ``exc`` complains about.

    ``model`` is the model that was validated; unknown keys are compared with its
    fields for a "did you mean".
    """
    union_failures: dict[NodePath, list[str]] = {}
    for error in exc.errors(include_url=False):
        path, rest = _split(error["loc"], doc.data)
        if any(path[: len(r)] == r for r in doc.refused):
            continue  # under a node already reported as refused; this is its echo
        kind = error["type"]
        if kind == "missing":
            missing = str(rest[0]) if rest else "?"
            _add(doc, path, _missing(path, missing), at_key=False)
        elif kind == "extra_forbidden":
            _add(doc, path, _unknown_key(path, model), at_key=True)
        elif rest and kind in _EXPECTED:
            union_failures.setdefault(path, []).append(_EXPECTED[kind])
        else:
            _add(doc, path, _message(path, error), at_key=False)
    for path, expected in union_failures.items():
        found = describe(_value_at(doc.data, path))
        accepted = " or ".join(dict.fromkeys(expected))
        if path[:2] == ("policy", "limits"):
            accepted = 'a whole number or a percentage like "10%"'
        _add(doc, path, f"expected {accepted}, found {found}", at_key=False)


def describe(value: object, *, quote: bool = True) -> str:
    """How a parsed value reads in a message: ``the string "yes"``, ``a list``, ``null``.

    Strings and numbers are shown as an ``excerpt`` of the file; with ``quote``
    false (a file that is not desired state at all), only their kind is named.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {excerpt(str(value))}" if quote else "a number"
    if isinstance(value, str):
        return f'the string "{excerpt(value)}"' if quote else "a string"
    if isinstance(value, tuple | list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _add(doc: ParsedDocument, path: NodePath, message: str, *, at_key: bool) -> None:
    position = doc.key_position(path) if at_key else doc.position(path)
    doc.add_problem(position, path, message)


def _split(loc: tuple[int | str, ...], data: Any) -> tuple[NodePath, NodePath]:
    """Split ``loc`` into the part that exists in ``data`` and the rest.

    The rest is a missing key, or the name of a union member (``int``, ``str``,
    ``function-after[...]``) that pydantic appends and the file knows nothing of.
    """
    node = data
    for i, part in enumerate(loc):
        in_mapping = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, tuple) and isinstance(part, int) and 0 <= part < len(node)
        if in_mapping or in_list:
            node = node[part]
        else:
            return loc[:i], loc[i:]
    return loc, ()


def _value_at(data: Any, path: NodePath) -> Any:
    for part in path:
        data = data[part]
    return data


def _message(path: NodePath, error: ErrorDetails) -> str:
    kind, value = error["type"], error["input"]
    if path == ("version",):
        return f"version must be 1, the only format this reconciler reads; found {describe(value)}"
    if kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, found {describe(value)}"
        if kind == "string_type" and isinstance(value, int | float | bool):
            message += "; put the value in quotes"
        if kind == "tuple_type" and value is None:
            message += "; write [] for an empty list"
        return message
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "?")
        return f"expected {expected}, found {describe(value)}"
    if kind == "value_error":
        message = error["msg"].removeprefix("Value error, ")
        if isinstance(value, str):  # the models' own messages quote the value in full
            message = message.replace(repr(value), repr(excerpt(value)))
        return message
    if kind == "string_too_short":
        length = error.get("ctx", {}).get("min_length")
        return "must not be empty" if length == 1 else f"must be at least {length} characters long"
    return error["msg"]


def _missing(path: NodePath, key: str) -> str:
    if not path and key == "version":
        return 'missing required key "version"; every file starts with version: 1'
    return f'missing required key "{key}"'


def _unknown_key(path: NodePath, model: type[BaseModel]) -> str:
    key = str(path[-1])
    allowed = _fields(path[:-1], model)
    message = f'unknown key "{excerpt(key)}"'
    folded = {name.lower(): name for name in allowed}
    close = [folded[key.lower()]] if key.lower() in folded else []
    close = close or difflib.get_close_matches(key, allowed, n=1, cutoff=0.7)
    if close:
        return f'{message}; did you mean "{close[0]}"?'
    if allowed:
        return f"{message}; expected one of: {', '.join(allowed)}"
    return message


def _fields(path: NodePath, model: type[BaseModel]) -> list[str]:
    """The keys the model at ``path`` accepts, following model fields from ``model``."""
    for part in path:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        inner = _model_in(field.annotation) if field is not None else None
        if inner is None:
            return []
        model = inner
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside an annotation such as ``tuple[UserSpec, ...] | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None
