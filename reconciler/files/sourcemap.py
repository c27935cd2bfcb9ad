"""Where each value of a parsed desired-state file came from.

pydantic reports an error by ``loc``, a tuple of keys and indexes such as
``('users', 3, 'emails', 0, 'value')``; a person needs a file, a line and a
column. The YAML and JSON parsers therefore record, for every node they build,
the 1-based line and column where it starts, keyed by the very tuple pydantic
will use, and the position of every mapping key (an unknown key is reported
where the key is, not where its value is).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from reconciler.errors import Problem

NodePath: TypeAlias = tuple[str | int, ...]
Position: TypeAlias = tuple[int, int]
"""A 1-based (line, column); columns count characters, a tab counts as one."""

MAX_NODES = 3_000_000
"""Nodes in one file (about 200,000 users): bounds the memory and time one file takes."""
MAX_DEPTH = 64
"""Nesting depth of one file; the format needs 4. Bounds the parsers' stack."""

EXCERPT_CHARS = 40
"""The most of a file's own text a problem quotes (a value, a key, a tag): enough to
find it, too little to leak a file that is not desired state at all."""

_PLAIN_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")


@dataclass
class ParsedDocument:
    """One file's data, the positions of its nodes and the problems found so far.

    ``complete`` is false when parsing had to stop (a syntax error, an alias bomb):
    ``data`` is then unusable and must not be validated, because the errors it
    would give are consequences of the problem already reported. For the same
    reason ``refused`` holds the paths of nodes that were reported and replaced by
    null (a forbidden tag): validation errors at or below them are not reported.
    """

    file: str
    data: Any = None
    values: dict[NodePath, Position] = field(default_factory=dict)
    keys: dict[NodePath, Position] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    refused: set[NodePath] = field(default_factory=set)
    complete: bool = True

    def add_problem(self, position: Position | None, path: NodePath, message: str) -> None:
        """Record a problem at ``position`` (None: the file as a whole)."""
        line, column = position if position is not None else (None, None)
        self.problems.append(Problem(self.file, line, column, format_path(path), message))

    def position(self, path: NodePath) -> Position | None:
        """Where the node at ``path`` starts, or its nearest recorded ancestor.

        Nodes reached through a YAML alias have no position of their own; they are
        reported at the alias.
        """
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return None

    def key_position(self, path: NodePath) -> Position | None:
        """Where the key of the mapping entry at ``path`` is, else its value's position."""
        return self.keys.get(path) or self.position(path)


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


class LineIndex:
    """Turns a character offset into a 1-based (line, column), in O(log lines)."""

    def __init__(self, text: str) -> None:
        self._starts = [0]
        self._starts.extend(m.end() for m in re.finditer("\n", text))

    def position(self, offset: int) -> Position:
        """The (line, column) of the character at ``offset``."""
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1
