"""JSON text exactly as ``json.dumps(value, indent=2, ensure_ascii=False, default=...)``
writes it, in one pass.

The standard library's C encoder does not indent: given ``indent`` it falls back to an
encoder in Python made of nested generators, which yields every token up through each
level. A plan whose access review names 100,000 people is some 3 million tokens. This
writer appends the same text to one list as it walks the value: strings are escaped
by the C ``encode_basestring``, and a list of strings (a group's members, a person's
gains) or a mapping of strings to strings (``user_names``) is written by one join.
Objects that are not JSON's own go through ``default``, as with ``json.dumps``, when
they are reached: the plan's access review is written from its ``AccessChange``
objects one by one, without a list of 100,000 dicts made first.

``tests/render/test_jsontext.py`` holds it to ``json.dumps`` on random values. What
it does not do: detect circular references (``json.dumps`` raises ``ValueError``,
this overflows the stack); no plan has one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

_encode: Callable[[str], str] = encode_basestring
Default = Callable[[Any], Any]


class Written:
    """A value whose JSON text is written by ``write(level)``: what ``dumps_indented``
    writes in its place, at that nesting level (the fast form of a large part)."""

    __slots__ = ("write",)

    def __init__(self, write: Callable[[int], str]) -> None:
        self.write = write


def dumps_indented(value: Any, *, default: Default | None = None) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False, default=default)``, the same text."""
    out: list[str] = []
    _write(value, out, 0, default)
    return "".join(out)


def _write(value: Any, out: list[str], level: int, default: Default | None) -> None:
    # The order of json.encoder's checks: a str subclass is a string, a bool is no int.
    if isinstance(value, str):
        out.append(_encode(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, list | tuple):
        _write_list(value, out, level, default)
    elif isinstance(value, dict):
        _write_dict(value, out, level, default)
    elif isinstance(value, Written):
        out.append(value.write(level))
    elif default is not None:
        _write(default(value), out, level, default)
    else:
        raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def strings(items: list[str] | tuple[str, ...], level: int) -> str:
    """A list of strings at nesting ``level``, as ``dumps_indented`` writes it."""
    if not items:
        return "[]"
    inner = "\n" + "  " * (level + 1)
    return "[" + inner + ("," + inner).join(map(_encode, items)) + "\n" + "  " * level + "]"


def string_map(mapping: dict[str, str], level: int) -> str:
    """A mapping of strings to strings at nesting ``level``, as ``dumps_indented`` writes it."""
    if not mapping:
        return "{}"
    inner = "\n" + "  " * (level + 1)
    pairs = (f"{_encode(k)}: {_encode(v)}" for k, v in mapping.items())
    return "{" + inner + ("," + inner).join(pairs) + "\n" + "  " * level + "}"


def text(value: str | None) -> str:
    """A string, or null."""
    return "null" if value is None else _encode(value)


def _float(value: float) -> str:
    """As ``json.dumps`` with ``allow_nan``: NaN and the infinities by their JavaScript names."""
    if math.isfinite(value):
        return float.__repr__(value)
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _write_list(
    items: list[Any] | tuple[Any, ...], out: list[str], level: int, default: Default | None
) -> None:
    if all(type(item) is str for item in items):  # an empty list too
        out.append(strings(items, level))
        return
    inner = "\n" + "  " * (level + 1)
    out.append("[")
    separator = inner
    for item in items:
        out.append(separator)
        _write(item, out, level + 1, default)
        separator = "," + inner
    out.append("\n" + "  " * level + "]")


def _write_dict(
    mapping: dict[Any, Any], out: list[str], level: int, default: Default | None
) -> None:
    if all(type(k) is str and type(v) is str for k, v in mapping.items()):  # {} too
        out.append(string_map(mapping, level))
        return
    inner = "\n" + "  " * (level + 1)
    out.append("{")
    separator = inner
    for key, item in mapping.items():
        name = separator + _encode(key if type(key) is str else _key(key)) + ": "
        separator = "," + inner
        # The values most mappings of a plan hold, written here without a call.
        kind = type(item)
        if kind is str:
            out.append(name + _encode(item))
        elif item is None:
            out.append(name + "null")
        elif not item and (kind is list or kind is tuple):
            out.append(name + "[]")
        elif not item and kind is dict:
            out.append(name + "{}")
        else:
            out.append(name)
            _write(item, out, level + 1, default)
    out.append("\n" + "  " * level + "}")


def _key(key: Any) -> str:
    """A mapping key as ``json.dumps`` writes it: numbers, booleans and null as text."""
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")
