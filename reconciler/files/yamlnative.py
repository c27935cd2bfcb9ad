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
  integers, which both parsers read alike; or a flow list or mapping on one line
  (``[a, b]``, ``{givenName: Ann, familyName: Lee}``) of such text and quoted
  strings, none holding a ``:``, ``,``, ``#`` or bracket, nothing nested;
* no tab, carriage return or other character libyaml would refuse or read as a line
  break, and nothing that could nest deeper than ``MAX_DEPTH`` or hold more than
  the node limit (bounds counted from the text).

So no tags, anchors, aliases, nested flow, block scalars, escapes, documents
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
from sys import intern
from typing import Any

from reconciler.files.plainscalars import ANYTHING, Expected
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
_QUOTED = rf"""(?:
    '[^'\s{_BAD}]*(?:[ ]+[^'\s{_BAD}]*)*[ ]*'    # single-quoted, no '' inside
  | "[^"\\\s{_BAD}]*(?:[ ]+[^"\\\s{_BAD}]*)*[ ]*"  # double-quoted, no escapes
)"""
_FIRST = rf"""[^\s\-?:,\[\]{{}}\#&*!|>'"%@`0-9+.~=<{_BAD}]"""
"""What plain text that is text to every schema may start with: no indicator, digit,
sign, dot or tilde."""
_FLOW_ITEM = rf"""(?:
    (?!(?:{_WORDS})[ ]*[,\]}}])                # plain text, as below, in a flow collection:
    {_FIRST}(?>[^\s:,\[\]{{}}\#{_BAD}]+|[ ]+(?=[^\s:,\[\]{{}}\#{_BAD}]))*  # no ":,[]{{}}#"
  | {_QUOTED}
)"""
_FLOW_KEY = rf"(?!(?:{_WORDS}):)[A-Za-z_][A-Za-z0-9_-]*:[ ]+"
_VALUE = rf"""(?:
    (?!(?:{_WORDS}){_END})                    # plain text that is text to every schema:
    {_FIRST}                                  # (see _FIRST)
    (?>[^\s:{_BAD}]+|:(?=[^\s{_BAD}])|[ ]+(?=[^\s\#{_BAD}]))*  # no ": ", " #" or end spaces
  | {_QUOTED}
  | \[\] | \{{\}}                             # an empty list or mapping
  | (?:{_WORDS}|~|[-+]?[0-9]{{1,18}}){_END}    # a core-schema word or a short integer
  | [0-9]{{1,18}}%{_END}                       # a percentage (text to every schema)
  | \[[ ]*{_FLOW_ITEM}(?:[ ]*,[ ]*{_FLOW_ITEM})*[ ]*\]{_END}  # one line of flow: texts,
  | \{{[ ]*{_FLOW_KEY}{_FLOW_ITEM}(?:[ ]*,[ ]*{_FLOW_KEY}{_FLOW_ITEM})*[ ]*\}}{_END}  # no nesting
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
left of column 28 is nested at most 58 deep, 59 with a line of flow."""


ITEMS_PER_PARSE = 1_000
"""Items of a list at the root parsed at a time (``load_native``)."""
# "\n" first where it can be: a literal start is found fast, "^" would be tried everywhere.
_FIRST_ROOT_LIST = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):\n(?=( *)-[ \n])")
_ROOT_LIST = re.compile(r"\n([A-Za-z_][A-Za-z0-9_-]*):\n(?=( *)-[ \n])")


@functools.cache
def _list_lines(indent: int) -> re.Pattern[str]:
    """The lines that tell where the items of a root list ``indent`` columns in are: an
    item (group 1), a root key (group 2), and any other line that starts left of the
    items or at their column (group 3)."""
    if not indent:  # in the subset a line at column 0 is an item, a key, a comment or blank
        return re.compile(r"\n(?:(-[ \n])|([A-Za-z_]))")
    return re.compile(rf"\n(?:( {{{indent}}}-[ \n])|([A-Za-z_])|( {{0,{indent}}}+[^ \n#]))")


class _TextLostError(Exception):
    """A boolean or integer where the schema expects text: its source text is gone."""


def load_native(
    text: str, shape: Expected, max_nodes: int, *, items_per_parse: int = ITEMS_PER_PARSE
) -> dict[str, Any] | None:
    """The data of a file inside the subset (module docstring), read as ``shape`` wants it.

    None for any other file, which the event paths then read. A long list at the
    root (``users:`` and its items at the key's column, as exports are written) is
    parsed ``items_per_parse`` items at a time, each slice checked and converted
    before the next is parsed: the parser's own objects for the whole file would
    outlive it as a hundred megabytes of memory the process keeps.
    """
    # Each line holds at most a key, a value, a mapping, and two nodes for each "-";
    # a line of flow, a node for each "[" and "{" and two for each ",".
    nodes = 3 * (text.count("\n") + 1) + 2 * (text.count("-") + text.count(","))
    if _LOADS is None or nodes + text.count("[") + text.count("{") > max_nodes:
        return None
    if _SUBSET.fullmatch(text) is None:
        return None
    fields = shape.fields()
    skeleton, lists = _root_lists(text)
    try:
        data = _LOADS(skeleton)
        if type(data) is not dict:
            return None  # a list at the root, or nothing at all
        data = _mapping(data, fields)
        for key, (starts, end) in lists.items():
            place = fields.get(key, ANYTHING).items or ANYTHING
            data[key] = _read_list(text, starts, end, place, items_per_parse)
    except _REFUSED:
        return None  # a key twice, bad indentation: the event paths say where
    except _TextLostError:
        return None
    return data


def _root_lists(text: str) -> tuple[str, dict[str, tuple[list[int], int]]]:
    """``text`` without the items of the lists at its root, and where those items are.

    In the subset a line at column 0 is a root key, an item of a list at the root,
    a comment or blank, so a root list's items run until the next root key. Items
    further in (``users:`` then ``  - userName: ...``) are found alike; a line that
    starts left of them or at their column, not an item, leaves the file whole.
    """
    lists: dict[str, tuple[list[int], int]] = {}
    parts: list[str] = []
    done = 0
    found = _FIRST_ROOT_LIST.match(text) or _ROOT_LIST.search(text)
    while found is not None:
        key, starts, end = found.group(1), [found.end()], len(text)
        for line in _list_lines(len(found.group(2))).finditer(text, found.end()):
            if line.group(1) is not None:
                starts.append(line.start() + 1)
            elif line.group(2) is not None:
                end = line.start() + 1
                break
            else:
                return text, {}  # not a list the parser would read in slices alike
        if key in lists:
            return text, {}  # a key twice: the whole file tells the parser so
        lists[key] = (starts, end)
        parts.append(text[done : found.end()])
        done = end
        found = _ROOT_LIST.search(text, end - 1)
    parts.append(text[done:])
    return "".join(parts), lists


def _read_list(
    text: str, starts: list[int], end: int, shape: Expected, per_parse: int
) -> tuple[Any, ...]:
    """The items of a root list (each starts at one of ``starts``), ``per_parse`` at a time."""
    items: list[Any] = []
    for first in range(0, len(starts), per_parse):
        stop = starts[first + per_parse] if first + per_parse < len(starts) else end
        part = _LOADS(text[starts[first] : stop]) if _LOADS is not None else None
        if type(part) is not list:
            raise _TextLostError  # cannot happen: items at one column are a list
        items.extend(_sequence(part, shape))
    return tuple(items)


def available() -> bool:
    """Whether the native parser is installed."""
    return _LOADS is not None


def _mapping(mapping: dict[str, Any], fields: dict[str, Expected]) -> dict[str, Any]:
    """A new mapping's copy for ``fields``: keys interned (one "userName" for all users),
    lists as tuples, and a boolean or integer refused where text is expected."""
    built = {intern(key): value for key, value in mapping.items()}
    for key, value in built.items():
        kind = type(value)
        if kind is str or value is None:
            continue
        if kind is dict:
            built[key] = _mapping(value, fields.get(key, ANYTHING).fields())
        elif kind is list:
            built[key] = _sequence(value, fields.get(key, ANYTHING).items or ANYTHING)
        elif fields.get(key, ANYTHING).text:
            raise _TextLostError
    return built


def _sequence(items: list[Any], shape: Expected) -> tuple[Any, ...]:
    """``items`` as a tuple, each checked and converted for ``shape`` as ``_mapping`` does."""
    fields = shape.fields()  # once for a list of many mappings (the users)
    for index, value in enumerate(items):
        kind = type(value)
        if kind is dict:
            items[index] = _mapping(value, fields)
        elif kind is list:
            items[index] = _sequence(value, shape.items or ANYTHING)
        elif kind is not str and value is not None and shape.text:
            raise _TextLostError
    return tuple(items)
