"""The lean path for YAML: plain data straight from parser events, for plain files.

Almost every desired-state file is plain YAML: mappings, sequences and scalars,
no tags, no anchors, no key twice. ``compose_plain`` builds such a file's data
with as little Python per event as it can: no node paths, no positions, and each
plain scalar resolved on the spot by what the schema expects there, without a
regular expression unless its first character could start a null, a boolean or a
number (a digit, ``+ - . ~``, ``t f n T F N``, or nothing): a ``userName`` or a
``displayName`` is text at a glance. Where the schema expects text, a plain
scalar is its text as written (``plainscalars``); null, ``~`` and nothing are
still null.

Anything else (a tag, an anchor or an alias, a key twice, a ``<<`` merge key, a
key that is not a scalar, a root that is not a mapping, a second document, a
syntax error) raises ``NotPlainError``, and ``yamlsafe`` reads the file again
with the position-keeping composer (``yamlcompose``), which reports it as it
always did. The node and nesting limits the lean path meets itself, at the node
where that composer would stop, with its message.

Positions cost a third more time and are rarely asked for, so ``locate_plain``
finds them only when a problem needs one, in a second pass over the events of
a file ``compose_plain`` accepted.
"""

from __future__ import annotations

from sys import intern
from typing import Any, NoReturn

from yaml.events import (
    CollectionStartEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    StreamEndEvent,
)

from reconciler.files.plainscalars import ANYTHING, Expected, PlainScalar
from reconciler.files.sourcemap import MAX_DEPTH, NO_KEY, PositionTable, unpack_mark
from reconciler.files.yamlcompose import (
    EventStream,
    StopParsingError,
    mark_position,
    too_deep,
    too_many_nodes,
)
from reconciler.files.yamlcore import MAX_DIGITS, resolve_scalar

_MAYBE_NOT_TEXT = frozenset("0123456789+-.~tfnTFN") | {""}
"""First characters of every plain scalar the core schema does not read as a string."""
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})


class NotPlainError(Exception):
    """The file is not plain YAML (module docstring); read it with positions instead."""


def compose_plain(events: EventStream, schema: Expected | None, max_nodes: int) -> dict[str, Any]:
    """The data of a plain YAML file whose root is a mapping, shaped by ``schema``.

    Without a ``schema`` (it is picked from the data later), plain scalars that are
    not strings stay ``PlainScalar``s for ``plainscalars.resolve_plain_scalars``.
    Raises ``NotPlainError``, ``StopParsingError`` (a limit) or PyYAML's errors.
    """
    get = events.get_event
    _expect_root(events)
    wrap = schema is None
    stack: list[tuple[Any, dict[str, Expected] | None, Expected, str]] = []
    container: Any = {}
    data: dict[str, Any] = container
    fields: dict[str, Expected] | None = (schema or ANYTHING).fields()  # None: in a sequence
    items, key, want_key, nodes = ANYTHING, "", True, 1  # want_key: a mapping's key is next
    while True:
        event = get()
        kind = type(event)
        if kind is MappingEndEvent or kind is SequenceEndEvent:
            value = container if fields is not None else tuple(container)
            if not stack:
                _expect_end(events)
                return data
            container, fields, items, key = stack.pop()
            want_key = False
        else:
            nodes += 1
            if nodes > max_nodes or event.anchor is not None or event.tag is not None:
                _refuse(event, nodes, max_nodes, len(stack) + 1)  # or an alias
            if kind is ScalarEvent:
                text = event.value
                if want_key:
                    # A merge key, or a plain key perhaps a number too long to read:
                    # the full path reads those otherwise (inline: every key comes here).
                    if text in container or (
                        event.implicit[0] and (text == "<<" or len(text) > MAX_DIGITS)
                    ):
                        raise NotPlainError
                    key, want_key = intern(text), False  # one "userName" for all users
                    continue
                value = text
                if event.implicit[0] and text[:1] in _MAYBE_NOT_TEXT:
                    place = items if fields is None else fields.get(key, ANYTHING)
                    value = _special(text, place, wrap)
            else:
                if want_key or len(stack) + 1 >= MAX_DEPTH:
                    _refuse(event, nodes, max_nodes, len(stack) + 1)  # a key, or too deep
                place = items if fields is None else fields.get(key, ANYTHING)
                stack.append((container, fields, items, key))
                if kind is MappingStartEvent:
                    container, fields, want_key = {}, place.fields(), True
                else:
                    container, fields, items = [], None, place.items or ANYTHING
                continue
        if fields is None:
            container.append(value)
        else:
            container[key] = value
            want_key = True


def _special(text: str, expected: Expected, wrap: bool) -> Any:
    """A plain scalar that may be null, a boolean or a number, as ``expected`` wants it."""
    if expected.text and len(text) <= MAX_DIGITS:  # longer: perhaps a number too long to read
        return None if text in _NULLS else text
    try:
        value = resolve_scalar(None, True, text)
    except ValueError:
        raise NotPlainError from None  # a number too long: the full path refuses it
    if wrap and isinstance(value, bool | int | float):
        return PlainScalar(value, text)
    return value


def _refuse(event: Any, nodes: int, max_nodes: int, depth: int) -> NoReturn:
    """Stop at ``event``: at a limit where the full path stops, else to leave the file to it.

    ``depth`` is the nesting a mapping or sequence that starts here would have.
    """
    if nodes > max_nodes:
        raise StopParsingError(mark_position(event.start_mark), too_many_nodes(max_nodes))
    if isinstance(event, CollectionStartEvent) and depth >= MAX_DEPTH:
        raise StopParsingError(mark_position(event.start_mark), too_deep())
    raise NotPlainError  # a tag, an anchor, an alias, a mapping or sequence as a key


def _expect_root(events: EventStream) -> None:
    """The stream's start, its document's, and a mapping without tag or anchor as the root."""
    events.get_event()  # stream start
    events.get_event()  # document start (or the stream's end: no root at all)
    root = events.get_event()
    if type(root) is not MappingStartEvent or root.anchor is not None or root.tag is not None:
        raise NotPlainError


def _expect_end(events: EventStream) -> None:
    """After the root: the end of the one document, then of the stream."""
    if type(events.get_event()) is not DocumentEndEvent:
        raise NotPlainError
    if type(events.get_event()) is not StreamEndEvent:
        raise NotPlainError  # a second document


def locate_plain(events: EventStream) -> PositionTable:
    """The positions of every node of a file that ``compose_plain`` accepted."""
    table = PositionTable(unpack_mark)
    get = events.get_event
    get()  # stream start
    get()  # document start
    open_: list[tuple[int, bool]] = []  # ordinal of each open collection, and if its parent maps
    in_map = expect_key = False
    key = NO_KEY
    while True:
        event = get()
        kind = type(event)
        if kind is MappingEndEvent or kind is SequenceEndEvent:
            ordinal, in_map = open_.pop()
            table.close(ordinal)
            expect_key = in_map
            if not open_:
                return table
            continue
        mark = event.start_mark
        if expect_key:
            key, expect_key = mark.line << 32 | mark.column, False
            continue
        ordinal = table.add(mark.line << 32 | mark.column, key)
        key = NO_KEY
        if kind is ScalarEvent:
            expect_key = in_map
        else:
            open_.append((ordinal, in_map))
            in_map = expect_key = kind is MappingStartEvent
