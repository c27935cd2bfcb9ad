"""The lean path for JSON: the standard library's parser, and positions only on demand.

``json.loads`` reads a file fifteen times faster than ``jsonsafe``'s parser, but
it keeps the last of two equal keys, reads ``NaN`` and ``Infinity``, nests as
deep as Python's stack allows and knows no positions. So ``load_plain`` gives it
hooks that make it refuse, with ``NotPlainError``, any file it would read
differently from ``jsonsafe``: a key twice, a ``NaN``, a number too long for
Python, nesting deeper than ``MAX_DEPTH``, a root that is not an object, and a
file that may hold more values than the limit (counted from its commas and
brackets, an upper bound, before anything is built). ``jsonsafe`` then reads that
file itself and reports it as it always did. Arrays become tuples on the way, as
the strict file models want them.

``locate_plain`` finds the positions of a file ``load_plain`` accepted, when a
problem asks for one: one pass of a regular expression over its tokens, in the
order ``jsonsafe`` records them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from reconciler.files.sourcemap import MAX_DEPTH, NO_KEY, LineIndex, PositionTable

_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]]|[^\s{}\[\],:"]+')
"""A string, a bracket, or a number or literal; commas, colons and whitespace are skipped."""


class NotPlainError(Exception):
    """``json.loads`` would read this file differently; ``jsonsafe`` reads it instead."""


def load_plain(text: str, max_values: int) -> dict[str, Any]:
    """The data of a JSON file whose root is an object; NotPlainError (module docstring)."""
    if text.count(",") + text.count("[") + text.count("{") + 1 > max_values:
        raise NotPlainError  # perhaps too many values: jsonsafe counts them exactly
    heights: dict[int, int] = {}
    try:
        hook = _hooks(heights)
        data = json.loads(text, object_pairs_hook=hook, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise NotPlainError from None
    finally:
        heights.clear()  # the hooks are a cycle, which only the collector would free
    if type(data) is not dict:
        raise NotPlainError
    return data


def _refuse_constant(name: str) -> Any:
    raise NotPlainError(name)  # NaN, Infinity, -Infinity: not JSON


def _hooks(heights: dict[int, int]) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """The ``object_pairs_hook`` that builds objects (from their members) and tuples
    (from arrays' items) bottom-up, refusing repeated keys and deep nesting: closures,
    whose names cost less to look up than methods' (300,000 calls per 100,000 users)."""
    # ``heights``: the height (containers on the longest downward chain) of each container
    # above 1, by id: every container stays alive in the result, so ids stay unique.
    height_of = heights.get

    def items(values: list[Any]) -> tuple[Any, ...]:
        height = 1
        for index, item in enumerate(values):
            kind = type(item)
            if kind is list:
                item = values[index] = items(item)
            elif kind is not dict:
                continue
            below = height_of(id(item), 1)
            if below >= height:
                height = below + 1
        built = tuple(values)
        if height > 1:
            if height > MAX_DEPTH:
                raise NotPlainError  # jsonsafe says where it is nested too deep
            heights[id(built)] = height
        return built

    def members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        built = dict(pairs)
        if len(built) < len(pairs):
            raise NotPlainError  # a key twice
        height = 1
        for key, value in pairs:
            kind = type(value)
            if kind is list:
                value = built[key] = items(value)
            elif kind is not dict:
                continue
            below = height_of(id(value), 1)
            if below >= height:
                height = below + 1
        if height > 1:
            if height > MAX_DEPTH:
                raise NotPlainError
            heights[id(built)] = height
        return built

    return members


def locate_plain(text: str) -> PositionTable:
    """The positions of every value and key of a file ``load_plain`` accepted."""
    table = PositionTable(LineIndex(text).position)
    open_: list[tuple[int, bool]] = []  # ordinal of each open container, and if its parent is one
    in_object = expect_key = False
    key = NO_KEY
    for token in _TOKEN.finditer(text):
        offset = token.start()
        char = text[offset]
        if char in "]}":
            ordinal, in_object = open_.pop()
            table.close(ordinal)
            expect_key = in_object
        elif expect_key:
            key, expect_key = offset, False
        else:
            ordinal = table.add(offset, key)
            key = NO_KEY
            if char in "[{":
                open_.append((ordinal, in_object))
                in_object = expect_key = char == "{"
            else:
                expect_key = in_object
    return table
