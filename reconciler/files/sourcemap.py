"""Where each value of a parsed desired-state file came from.

pydantic reports an error by ``loc``, a tuple of keys and indexes such as
``('users', 3, 'emails', 0, 'value')``; a person needs a file, a line and a
column. The parsers therefore record where every node starts, and where the key
of every mapping entry is (an unknown key is reported where the key is, not
where its value is), in a ``PositionTable``: three flat integer arrays in the
order the parser met the nodes, about 24 bytes a node. A node is found again by
walking the parsed data along the ``loc`` (keys and items are in file order), so
no path is stored for any node.

Most files have no problem, and nobody asks where their nodes are. So the lean
parsers (``yamlfast``, ``jsonfast``) record nothing and leave a way to ``locate``
the positions; the first question about a position runs it, once.
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from reconciler.errors import Problem

NodePath: TypeAlias = tuple[str | int, ...]
Position: TypeAlias = tuple[int, int]
"""A 1-based (line, column); columns count characters, a tab counts as one."""

MAX_DEPTH = 64
"""Nesting depth of one file; the format needs 4. Bounds the parsers' stack."""

EXCERPT_CHARS = 40
"""The most of a file's own text a problem quotes (a value, a key, a tag): enough to
find it, too little to leak a file that is not desired state at all."""

_PLAIN_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")
NO_KEY = -1
"""The key of a node that is not a mapping entry (the root, a sequence item)."""


class PositionTable:
    """Where each recorded node starts and where its key is, in pre-order.

    A node's *ordinal* is its index in ``starts``; ``ends[o]`` is the ordinal after
    its subtree, so its first child is ``o + 1`` and each next sibling is the
    previous one's end. A node whose children were not recorded (an alias: reported
    where the alias is) has ``ends[o] == o + 1`` like an empty one. Starts and keys
    are what ``decode`` turns into a ``Position``: packed marks for YAML, character
    offsets for JSON.
    """

    __slots__ = ("_children", "decode", "ends", "keys", "starts")

    def __init__(self, decode: Callable[[int], Position]) -> None:
        self.decode = decode
        self.starts = array("q")
        self.keys = array("q")
        self.ends = array("q")
        self._children: dict[int, Any] = {}

    def add(self, start: int, key: int = NO_KEY) -> int:
        """Record a node (a leaf until ``close``); return its ordinal."""
        ordinal = len(self.starts)
        self.starts.append(start)
        self.keys.append(key)
        self.ends.append(ordinal + 1)
        return ordinal

    def close(self, ordinal: int) -> None:
        """The subtree of ``ordinal`` ends here: every node recorded since is below it."""
        self.ends[ordinal] = len(self.starts)

    def find(self, data: Any, path: NodePath) -> tuple[int, bool]:
        """The ordinal of the deepest recorded node on ``path``, and whether it is ``path``.

        -1 when nothing at all was recorded.
        """
        if not self.starts:
            return -1, False
        ordinal, node = 0, data
        for part in path:
            child = self._child(ordinal, node, part)
            if child is None:
                return ordinal, False
            ordinal, node = child, node[part]
        return ordinal, True

    def _child(self, ordinal: int, node: Any, part: str | int) -> int | None:
        if self.ends[ordinal] == ordinal + 1:
            return None  # nothing recorded below: a leaf, an empty container, an alias
        children = self._children.get(ordinal)
        if children is None:
            children = self._list_children(ordinal, node)
        if isinstance(children, dict):
            found: int | None = children.get(part)
            return found
        if isinstance(part, int) and 0 <= part < len(children):
            return int(children[part])
        return None

    def _list_children(self, ordinal: int, node: Any) -> Any:
        """The ordinals of a container's children: by key for a mapping, else a list."""
        ordinals: list[int] = []
        child = ordinal + 1
        while child < self.ends[ordinal]:
            ordinals.append(child)
            child = self.ends[child]
        children: Any = ordinals
        if isinstance(node, dict) and len(node) == len(ordinals):
            children = dict(zip(node, ordinals, strict=True))
        elif not isinstance(node, tuple) or len(node) != len(ordinals):
            children = []  # refused and replaced by null: its children are not in the data
        self._children[ordinal] = children
        return children


@dataclass
class ParsedDocument:
    """One file's data, the positions of its nodes and the problems found so far.

    ``complete`` is false when parsing had to stop (a syntax error, an alias bomb):
    ``data`` is then unusable and must not be validated, because the errors it
    would give are consequences of the problem already reported. For the same
    reason ``refused`` holds the paths of nodes that were reported and replaced by
    null (a forbidden tag): validation errors at or below them are not reported.
    ``positions`` is None until ``locate`` (when set) has been asked for them.
    """

    file: str
    data: Any = None
    problems: list[Problem] = field(default_factory=list)
    refused: set[NodePath] = field(default_factory=set)
    complete: bool = True
    positions: PositionTable | None = field(default=None, repr=False, compare=False)
    locate: Callable[[], PositionTable] | None = field(default=None, repr=False, compare=False)

    def add_problem(self, position: Position | None, path: NodePath, message: str) -> None:
        """Record a problem at ``position`` (None: the file as a whole)."""
        line, column = position if position is not None else (None, None)
        self.problems.append(Problem(self.file, line, column, format_path(path), message))

    def position(self, path: NodePath) -> Position | None:
        """Where the node at ``path`` starts, or its nearest recorded ancestor.

        Nodes reached through a YAML alias have no position of their own; they are
        reported at the alias.
        """
        table = self._table()
        ordinal, _ = table.find(self.data, path) if table is not None else (-1, False)
        return table.decode(table.starts[ordinal]) if table is not None and ordinal >= 0 else None

    def key_position(self, path: NodePath) -> Position | None:
        """Where the key of the mapping entry at ``path`` is, else its value's position."""
        table = self._table()
        if table is None:
            return None
        ordinal, exact = table.find(self.data, path)
        if ordinal < 0:
            return None
        key = table.keys[ordinal] if exact else NO_KEY
        return table.decode(table.starts[ordinal] if key == NO_KEY else key)

    def exact_position(self, path: NodePath) -> Position | None:
        """Where the node at exactly ``path`` starts; None if it has no position of its own."""
        table = self._table()
        ordinal, exact = table.find(self.data, path) if table is not None else (-1, False)
        return table.decode(table.starts[ordinal]) if table is not None and exact else None

    def _table(self) -> PositionTable | None:
        if self.locate is not None:
            locate, self.locate = self.locate, None
            self.positions = locate()
        return self.positions


def excerpt(text: str) -> str:
    """``text`` as a problem may quote it: printable, at most ``EXCERPT_CHARS`` long.

    Whitespace becomes a space and other unprintable characters ``?``, so a quote
    never spans lines, moves the cursor or colours a terminal.
    """
    if len(text) > EXCERPT_CHARS:
        text = text[: EXCERPT_CHARS - 3] + "..."
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else " " if c.isspace() else "?" for c in text)


def format_path(path: NodePath) -> str:
    """Write a node path the way people read it: ``users[3].emails[0].value``.

    Keys come from the file, so each is shown as an ``excerpt``.
    """
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
            continue
        key = excerpt(part)
        if _PLAIN_KEY.match(key):
            out.append(f".{key}" if out else key)
        else:
            out.append(f"[{_quote(key)}]")
    return "".join(out)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pack_mark(mark: Any) -> int:
    """A PyYAML or libyaml mark (0-based line and column) as one integer for a table."""
    return int(mark.line) << 32 | int(mark.column)


def unpack_mark(packed: int) -> Position:
    """The 1-based position of a ``pack_mark`` integer."""
    return (packed >> 32) + 1, (packed & 0xFFFFFFFF) + 1


class LineIndex:
    """Turns a character offset into a 1-based (line, column), in O(log lines)."""

    def __init__(self, text: str) -> None:
        self._starts = [0]
        self._starts.extend(m.end() for m in re.finditer("\n", text))

    def position(self, offset: int) -> Position:
        """The (line, column) of the character at ``offset``."""
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1
