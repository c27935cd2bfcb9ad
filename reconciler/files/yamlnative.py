"""The native path for YAML: a Rust parser builds the data of a file in simple block style.

Building data from PyYAML's events costs about 30 µs a node, most of it making two
million Python event objects for 100,000 users. ``yaml_rs`` (a Rust parser) builds
the same dicts and lists natively, four times faster. But it reads a wider YAML
than the loader (``0x1F``, ``0O17``, ``1_000`` and ``0b11`` are integers to it,
unknown tags are ignored, aliases expand), keeps no positions and knows nothing of
the schema. So it only gets files that stay inside a subset on which it and
libyaml provably read the same, checked line by line with one regular expression:

* each line is blank, a comment, or in block style: indentation (spaces), ``- ``
  items, and a ``key:`` (an identifier that is not ``true``/``null``...) with
  perhaps a value, or an item's value alone;
* a value is plain text that no YAML schema reads as anything else (it does not
  start with a digit, a sign, ``.`` or ``~``, nor is it ``true``/``false``/
  ``null`` in any spelling), a quoted string without escapes, ``[]`` or ``{}``,
  a percentage (``10%``), or one of the core schema's own words and short decimal
  integers, which both parsers read alike;
* no tab, carriage return or other character libyaml would refuse or read as a line
  break, and nothing that could nest deeper than ``MAX_DEPTH`` or hold more than
  the node limit (bounds counted from the text).

So no tags, anchors, aliases, flow collections, block scalars, escapes, documents
markers or multi-line scalars get here; nor does a boolean or an integer where the
schema expects text (it keeps its source text there, which a parser that has made
it a number cannot give back), nor a file whose parser may be missing. Any of
those, a key twice (the Rust parser refuses it) or a file it cannot parse returns
None: the lean event path (``yamlfast``) reads it, and the position-keeping
composer reports its problems with the same line, column and message as always.
Sequences become tuples, as the strict file models want them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from reconciler.files.plainscalars import ANY_SHAPE, Shape
from reconciler.files.sourcemap import MAX_DEPTH

_Loads = Callable[..., Any]
try:
    import yaml_rs

    _LOADS: _Loads | None = functools.partial(
        yaml_rs.loads, parse_datetime=False, duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error
    )
    _REFUSED: tuple[type[Exception], ...] = (yaml_rs.YAMLDecodeError, ValueError)
except ImportError:  # pragma: no cover - an install without the optional speed-up
    _LOADS, _REFUSED = None, ()

_BAD = r"\x00-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff\u2028\u2029"
"""Characters libyaml refuses or reads as a line break (tab, CR, NEL, LS, PS, BOM)."""
_WORDS = "[tT]rue|TRUE|[fF]alse|FALSE|[nN]ull|NULL"
_END = r"(?=[ ]*(?:[ ]\#|\n|\Z))"  # a value ends: spaces, perhaps a comment, the line's end
_COMMENT = rf"\#[^{_BAD}]*"
_VALUE = rf"""(?:
    (?!(?:{_WORDS}){_END})                    # plain text that is text to every schema:
    [^\s\-?:,\[\]{{}}\#&*!|>'"%@`0-9+.~=<{_BAD}]  # no indicator, digit, sign, dot, tilde first,
    (?>[^\s:{_BAD}]+|:(?=[^\s{_BAD}])|[ ]+(?=[^\s\#{_BAD}]))*  # no ": ", " #" or end spaces
  | '[^'\s{_BAD}]*(?:[ ]+[^'\s{_BAD}]*)*[ ]*'    # single-quoted, no '' inside
  | "[^"\\\s{_BAD}]*(?:[ ]+[^"\\\s{_BAD}]*)*[ ]*"  # double-quoted, no escapes
  | \[\] | \{{\}}                             # an empty list or mapping
  | (?:{_WORDS}|~|[-+]?[0-9]{{1,18}}){_END}    # a core-schema word or a short integer
  | [0-9]{{1,18}}%{_END}                       # a percentage (text to every schema)
)"""
_KEY = rf"(?!(?:{_WORDS}):)[A-Za-z_][A-Za-z0-9_-]*:(?=[ \n]|\Z)"
_LINE = rf"""(?>
    (?![ -]{{{MAX_DEPTH // 2 - 4}}})  # content this far right might nest too deep
    [ ]*(?:-[ ]+)*
    (?: {_KEY}(?:[ ]+{_VALUE})?       # a key, perhaps with its value, perhaps after items
      | (?<=-[ ]){_VALUE}             # an item's value
      | -                             # an item whose value is null or on the next lines
      | {_COMMENT}
      | )                             # a blank line
    (?:[ ]+{_COMMENT})?[ ]*)"""
_SUBSET = re.compile(rf"(?:{_LINE}\n)*+{_LINE}", re.VERBOSE)
"""A whole file inside the subset (module docstring). Each level of nesting but a list
that is a key's value starts at least a column to the right of its parent, so content
left of column 28 is nested at most 58 deep."""


class _TextLostError(Exception):
    """A boolean or integer where the schema expects text: its source text is gone."""


def load_native(text: str, shape: Shape, max_nodes: int) -> dict[str, Any] | None:
    """The data of a file inside the subset (module docstring), read as ``shape`` wants it.

    None for any other file, which the event paths then read.
    """
    # Each line holds at most a key, a value, a mapping, and two nodes for each "-".
    if _LOADS is None or 3 * (text.count("\n") + 1) + 2 * text.count("-") > max_nodes:
        return None
    if _SUBSET.fullmatch(text) is None:
        return None
    try:
        data = _LOADS(text)
    except _REFUSED:
        return None  # a key twice, bad indentation: the event paths say where
    if type(data) is not dict:
        return None  # a list at the root, or nothing at all
    try:
        _mapping(data, shape.fields())
    except _TextLostError:
        return None
    return data


def available() -> bool:
    """Whether the native parser is installed."""
    return _LOADS is not None


def _mapping(mapping: dict[str, Any], fields: dict[str, Shape]) -> None:
    """Check and convert, in place, a new mapping whose keys have ``fields``' shapes.

    Lists become tuples; a boolean or integer where text is expected is refused.
    """
    for key, value in mapping.items():
        kind = type(value)
        if kind is str or value is None:
            continue
        place = fields.get(key, ANY_SHAPE)
        if kind is dict:
            _mapping(value, place.fields())
        elif kind is list:
            mapping[key] = _sequence(value, place.items or ANY_SHAPE)
        elif place.text:
            raise _TextLostError


def _sequence(items: list[Any], shape: Shape) -> tuple[Any, ...]:
    """``items`` as a tuple, each checked and converted for ``shape`` as ``_mapping`` does."""
    for index, value in enumerate(items):
        kind = type(value)
        if kind is str or value is None:
            continue
        if kind is dict:
            _mapping(value, shape.fields())
        elif kind is list:
            items[index] = _sequence(value, shape.items or ANY_SHAPE)
        elif shape.text:
            raise _TextLostError
    return tuple(items)
