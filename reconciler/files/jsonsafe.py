"""JSON desired-state files, parsed with the position of every node.

Why not ``json.loads`` alone: it keeps no positions and silently keeps the last of
two equal keys. Why not the YAML parser (JSON is nearly YAML): PyYAML reads YAML
1.1, which refuses tabs between tokens, and a file named ``.json`` should mean
exactly JSON (RFC 8259): no comments, no ``NaN``, no trailing commas.

So a file goes first to ``json.loads`` with hooks that refuse anything it would
read differently (``jsonfast``); nearly every file passes, and gets its positions
only when a problem asks for one. Any other file is read by the small
recursive-descent parser here, which records positions as it goes and says what
is wrong and where. Its strings go through the standard library's
``json.decoder.scanstring``, so escapes (``\\/``, ``\\uD83D\\uDE00``) and control
characters are handled exactly as ``json.loads`` does. Arrays become tuples, which
is what the strict file models accept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from json import JSONDecodeError
from json import decoder as _json_decoder
from typing import Any

from reconciler.files.jsonfast import NotPlainError, load_plain, locate_plain
from reconciler.files.sizelimits import FILE_NODES_VARIABLE, SizeLimits
from reconciler.files.sourcemap import (
    MAX_DEPTH,
    NO_KEY,
    LineIndex,
    NodePath,
    ParsedDocument,
    PositionTable,
    excerpt,
)
from reconciler.wording import plural

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
# In the standard library since Python 2.6, but missing from typeshed.
_scanstring: Callable[[str, int, bool], tuple[str, int]] = _json_decoder.scanstring  # type: ignore[attr-defined]
_LITERALS: tuple[tuple[str, object], ...] = (("true", True), ("false", False), ("null", None))


class _NotJSONError(Exception):
    """The text is not JSON; parsing stops at ``offset``."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


def parse_json(text: str, file: str, *, limits: SizeLimits | None = None) -> ParsedDocument:
    """Parse one JSON document into plain data, positions and problems.

    ``limits`` default to ``SizeLimits.from_environment()``.
    """
    limits = SizeLimits.from_environment() if limits is None else limits
    doc = ParsedDocument(file)
    try:
        doc.data = load_plain(text, limits.file_nodes)
    except NotPlainError:
        pass  # out of this block first, so that what json.loads built can go
    else:
        doc.locate = lambda: locate_plain(text)
        return doc
    return _parse_with_positions(text, doc, limits.file_nodes)


def _parse_with_positions(text: str, doc: ParsedDocument, max_values: int) -> ParsedDocument:
    parser = _Parser(text, doc, max_values)
    try:
        start = parser.skip(0)
        if start < len(text):
            doc.data, end = parser.value(start, (), 0, record=True)
            end = parser.skip(end)
            if end < len(text):
                raise _NotJSONError(end, "invalid JSON: more text after the end of the document")
    except _NotJSONError as exc:
        doc.complete = False
        doc.data = None
        doc.add_problem(parser.lines.position(exc.offset), (), exc.message)
    return doc


class _Parser:
    def __init__(self, text: str, doc: ParsedDocument, max_values: int) -> None:
        self.text = text
        self.doc = doc
        self.lines = LineIndex(text)
        self.table = doc.positions = PositionTable(self.lines.position)
        self.max_values = max_values
        self.nodes = 0

    def fail(self, offset: int, expected: str) -> _NotJSONError:
        """The error to raise when ``expected`` is not at ``offset``."""
        if offset >= len(self.text):
            return _NotJSONError(
                offset, f"invalid JSON: the file ends where {expected} was expected"
            )
        found = self.text[offset]
        return _NotJSONError(offset, f"invalid JSON: expected {expected}, found {found!r}")

    def skip(self, offset: int) -> int:
        match = _WHITESPACE.match(self.text, offset)
        assert match is not None  # the pattern matches the empty string
        return match.end()

    def value(
        self, i: int, path: NodePath, depth: int, *, record: bool, key: int = NO_KEY
    ) -> tuple[Any, int]:
        """Parse the value starting exactly at ``i``; return it and the offset after it.

        ``key`` is the offset of its key, when it is the value of an object member.
        """
        self.nodes += 1
        if self.nodes > self.max_values:
            message = f"more than {plural(self.max_values, 'JSON value')} ({FILE_NODES_VARIABLE})"
            raise _NotJSONError(i, f"{message}; split the file")
        ordinal = self.table.add(i, key) if record else -1
        text = self.text
        char = text[i : i + 1]
        if char in ("{", "["):
            if depth >= MAX_DEPTH:
                raise _NotJSONError(i, f"nested more than {MAX_DEPTH} levels deep")
            parse = self.object if char == "{" else self.array
            value, end = parse(i, path, depth, record=record)
            if record:
                self.table.close(ordinal)
            return value, end
        if char == '"':
            return self.string(i)
        number = _NUMBER.match(text, i)
        if number is not None:
            if number.group(1) or number.group(2):
                return float(number.group()), number.end()
            try:
                return int(number.group()), number.end()
            except ValueError:  # more digits than Python converts
                raise _NotJSONError(i, "invalid JSON: this number is too long") from None
        for literal, result in _LITERALS:
            if text.startswith(literal, i):
                return result, i + len(literal)
        raise self.fail(i, "a value")

    def string(self, i: int) -> tuple[str, int]:
        try:
            return _scanstring(self.text, i + 1, True)
        except JSONDecodeError as exc:
            message = re.sub(r"(?: starting)? at$", "", exc.msg).lower()
            raise _NotJSONError(exc.pos, f"invalid JSON: {message}") from None

    def object(self, i: int, path: NodePath, depth: int, *, record: bool) -> tuple[Any, int]:
        items: dict[str, Any] = {}
        seen: dict[str, int] = {}
        i = self.skip(i + 1)
        if self.text.startswith("}", i):
            return items, i + 1
        while True:
            if not self.text.startswith('"', i):
                raise self.fail(i, "a key in double quotes")
            key_offset = i
            key, i = self.string(i)
            i = self.skip(i)
            if not self.text.startswith(":", i):
                raise self.fail(i, "':' after the key")
            child = (*path, key)
            first = seen.get(key)
            if first is not None:
                key_position = self.lines.position(key_offset)
                self.doc.add_problem(
                    key_position,
                    child,
                    f'key "{excerpt(key)}" appears twice in one object, '
                    f"on lines {self.lines.position(first)[0]} and {key_position[0]}",
                )
            value, i = self.value(
                self.skip(i + 1), child, depth + 1, record=record and first is None, key=key_offset
            )
            if first is None:
                seen[key] = key_offset
                items[key] = value
            i = self.skip(i)
            if self.text.startswith(",", i):
                i = self.skip(i + 1)
            elif self.text.startswith("}", i):
                return items, i + 1
            else:
                raise self.fail(i, "',' or '}'")

    def array(self, i: int, path: NodePath, depth: int, *, record: bool) -> tuple[Any, int]:
        items: list[Any] = []
        i = self.skip(i + 1)
        if self.text.startswith("]", i):
            return (), i + 1
        while True:
            value, i = self.value(i, (*path, len(items)), depth + 1, record=record)
            items.append(value)
            i = self.skip(i)
            if self.text.startswith(",", i):
                i = self.skip(i + 1)
            elif self.text.startswith("]", i):
                return tuple(items), i + 1
            else:
                raise self.fail(i, "',' or ']'")
