"""Build plain data from YAML parser events, recording where every node is.

PyYAML's own composer builds a node graph and its constructors then expand
aliases into copies; a "billion laughs" document of a few hundred bytes expands
to 10**9 nodes. This composer works from the event stream, keeps no node objects,
and builds the data directly:

* An alias reuses the anchored value (no copy) and adds the anchored subtree's
  size to a per-file budget; past ``SizeLimits.alias_nodes`` parsing stops. An
  alias to a node that contains it (a cycle) is refused. So are more nodes than
  ``SizeLimits.file_nodes`` and nesting deeper than ``MAX_DEPTH``; all of it in
  time linear in the file, and without recursion.
* Scalars and tags go through ``yamlcore`` (YAML 1.2 core schema, core tags only).
  A plain scalar read as a number or boolean is kept as a ``PlainScalar``, with
  its text, until the schema says which of the two is meant (``plainscalars``).
* A key repeated in one mapping is reported with both lines and its second value
  dropped; ``<<`` merge keys and non-scalar keys are refused.
* Sequences become tuples, which is what the strict file models accept.
* Every node's position goes into the document's ``PositionTable`` as it starts.

This is the full path, for files that are not plain (``yamlfast`` takes the
others): it reports everything the lean path only notices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    Event,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
    StreamEndEvent,
)

from reconciler.files.plainscalars import PlainScalar
from reconciler.files.sizelimits import FILE_NODES_VARIABLE, SizeLimits
from reconciler.files.sourcemap import (
    MAX_DEPTH,
    NO_KEY,
    NodePath,
    ParsedDocument,
    Position,
    PositionTable,
    excerpt,
    pack_mark,
    unpack_mark,
)
from reconciler.files.yamlcore import refuse_collection_tag, resolve_scalar
from reconciler.wording import plural


class StopParsingError(Exception):
    """The document cannot be read further; report ``message`` at ``position``."""

    def __init__(self, position: Position | None, message: str) -> None:
        super().__init__(message)
        self.position = position
        self.message = message


class EventStream(Protocol):
    """What both PyYAML parsers offer: a stream of events."""

    def check_event(self, *choices: type[Event]) -> bool: ...
    def get_event(self) -> Any: ...


def compose(events: EventStream, doc: ParsedDocument, limits: SizeLimits) -> None:
    """Fill ``doc`` (data, positions, problems) from ``events``; raise StopParsingError."""
    _Composer(events, doc, limits).run()


def too_many_nodes(limit: int) -> str:
    """The problem of a file with more than ``limit`` nodes."""
    return f"more than {plural(limit, 'YAML node')} ({FILE_NODES_VARIABLE}); split the file"


def too_deep() -> str:
    """The problem of a file nested deeper than ``MAX_DEPTH``."""
    return f"nested more than {MAX_DEPTH} levels deep"


def mark_position(mark: Any) -> Position:
    """The 1-based position of a PyYAML or libyaml mark (both count from 0)."""
    return int(mark.line) + 1, int(mark.column) + 1


def _next(events: EventStream) -> Event:
    event: Event = events.get_event()
    return event


@dataclass(slots=True)
class _Frame:
    """A mapping or sequence being built."""

    items: dict[str, Any] | list[Any]
    path: NodePath
    record: bool  # False inside a refused key or value: nothing there gets a position
    position: Position
    ordinal: int  # in the position table; -1 when not recorded
    anchor: str | None
    refused: bool = False
    size: int = 1  # nodes in this subtree, aliases expanded
    expect_key: bool = True
    key: str = ""
    drop: bool = False  # the value now expected belongs to a refused key
    key_position: Position = (0, 0)
    key_mark: int = NO_KEY  # key_position, packed for the position table
    seen: dict[str, Position] = field(default_factory=dict)


class _Composer:
    """Builds the data of one document from parser events, without recursion."""

    def __init__(self, events: EventStream, doc: ParsedDocument, limits: SizeLimits) -> None:
        self.events = events
        self.doc = doc
        self.limits = limits
        self.table = doc.positions = PositionTable(unpack_mark)
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int] | None] = {}  # None: still being built
        self.nodes = 0
        self.alias_nodes = 0
        self.done = False

    def run(self) -> None:
        events = self.events
        _next(events)  # stream start
        if events.check_event(StreamEndEvent):
            return  # no document at all: an empty file
        _next(events)  # document start
        while not self.done:
            self._handle(_next(events))
        _next(events)  # document end
        if not events.check_event(StreamEndEvent):
            extra = _next(events)
            raise StopParsingError(
                mark_position(extra.start_mark),
                "a second YAML document (after ---); put one document in each file",
            )

    def _handle(self, event: Event) -> None:
        if isinstance(event, CollectionEndEvent):
            self._close()
            return
        assert isinstance(event, NodeEvent)
        position = mark_position(event.start_mark)
        if not self.stack and isinstance(event, ScalarEvent) and _nothing(event):
            self.done = True  # a document with nothing in it: the file is empty
            return
        path, record, key = self._begin(position)
        ordinal = self.table.add(pack_mark(event.start_mark), key) if record else -1
        if isinstance(event, ScalarEvent):
            self._scalar(event, position, path, record)
        elif isinstance(event, AliasEvent):
            self._alias(event, position, path, record)
        else:
            assert isinstance(event, CollectionStartEvent)
            self._open(event, position, path, (record, ordinal))

    def _begin(self, position: Position) -> tuple[NodePath, bool, int]:
        """Count a new node; return its path, whether to record its position, and its key's."""
        self.nodes += 1
        if self.nodes > self.limits.file_nodes:
            raise StopParsingError(position, too_many_nodes(self.limits.file_nodes))
        if not self.stack:
            return (), True, NO_KEY
        top = self.stack[-1]
        if isinstance(top.items, list):
            return (*top.path, len(top.items)), top.record, NO_KEY
        if top.expect_key:
            return top.path, False, NO_KEY
        return (*top.path, top.key), top.record and not top.drop, top.key_mark

    def _scalar(self, event: ScalarEvent, position: Position, path: NodePath, record: bool) -> None:
        value: Any = None
        key: object = event.value
        tag = event.tag
        try:
            value = resolve_scalar(tag, event.implicit[0], event.value)
            if tag is None and event.implicit[0] and isinstance(value, bool | int | float):
                value = PlainScalar(value, event.value)
        except ValueError as exc:
            self._refuse(position, path, record, str(exc))
            key = _REFUSED
        if key == "<<" and tag is None and event.implicit[0]:  # plain, untagged
            key = _MERGE  # only read when this scalar is a mapping key
        self._finish(value, 1, position, event.anchor, key)

    def _alias(self, event: AliasEvent, position: Position, path: NodePath, record: bool) -> None:
        anchor = event.anchor or ""
        entry = self.anchors.get(anchor, (None, -1))
        name = excerpt(anchor)
        if entry is None:
            self._refuse(position, path, record, f"alias *{name} refers to a node that contains it")
            entry = (None, 1)
        elif entry[1] < 0:
            self._refuse(position, path, record, f"alias *{name} has no anchor &{name} before it")
            entry = (None, 1)
        value, size = entry
        self.alias_nodes += size
        if self.alias_nodes > self.limits.alias_nodes:
            raise StopParsingError(
                position,
                f"aliases expand to more than {plural(self.limits.alias_nodes, 'node')}; "
                "refusing to load what looks like an alias bomb (billion laughs)",
            )
        self._finish(value, size, position, None, value)

    def _open(
        self,
        event: CollectionStartEvent,
        position: Position,
        path: NodePath,
        recorded: tuple[bool, int],
    ) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise StopParsingError(position, too_deep())
        is_map = isinstance(event, MappingStartEvent)
        record, ordinal = recorded
        frame = _Frame({} if is_map else [], path, record, position, ordinal, event.anchor)
        refusal = refuse_collection_tag(event.tag, "map" if is_map else "seq")
        if refusal is not None:
            self._refuse(position, path, record, refusal)
            frame.refused = True
        if event.anchor is not None:
            self.anchors[event.anchor] = None
        self.stack.append(frame)

    def _close(self) -> None:
        frame = self.stack.pop()
        if frame.ordinal >= 0:
            self.table.close(frame.ordinal)
        value: Any = frame.items if isinstance(frame.items, dict) else tuple(frame.items)
        if frame.refused:
            value = None
        self._finish(value, frame.size, frame.position, frame.anchor)

    def _finish(
        self,
        value: Any,
        size: int,
        position: Position,
        anchor: str | None,
        key: object = None,
    ) -> None:
        """Put a completed node where it belongs: root, sequence item, key or value."""
        if anchor is not None:
            self.anchors[anchor] = (value, size)
        if not self.stack:
            self.doc.data = value
            self.done = True
            return
        top = self.stack[-1]
        top.size += size
        if isinstance(top.items, list):
            top.items.append(value)
        elif top.expect_key:
            self._key(top, key, position)
        else:
            top.expect_key = True
            if not top.drop:
                top.items[top.key] = value

    def _key(self, top: _Frame, key: object, position: Position) -> None:
        top.key_position = position
        top.key_mark = (position[0] - 1) << 32 | (position[1] - 1)
        top.drop, top.expect_key = True, False  # until the key proves good
        if key is _MERGE:
            message = "YAML merge keys (<<) are not supported; write the keys out"
            self.doc.add_problem(position, top.path, message)
        elif key is _REFUSED:
            pass  # reported where it was refused
        elif not isinstance(key, str):
            self.doc.add_problem(position, top.path, "a mapping key must be a string")
        elif (first := top.seen.get(key)) is not None:
            message = (
                f'key "{excerpt(key)}" appears twice in one mapping, '
                f"on lines {first[0]} and {position[0]}"
            )
            self.doc.add_problem(position, (*top.path, key), message)
        else:
            top.seen[key] = position
            top.key, top.drop = key, False

    def _refuse(self, position: Position, path: NodePath, record: bool, message: str) -> None:
        """Report a node that is replaced by null; errors found later under it are noise."""
        self.doc.add_problem(position, path, message)
        if record:
            self.doc.refused.add(path)


def _nothing(event: ScalarEvent) -> bool:
    """Whether a root scalar is no node at all (``---`` and nothing after it)."""
    return event.tag is None and bool(event.implicit[0]) and not event.value


_REFUSED = object()  # a key whose scalar was refused (bad tag); already reported
_MERGE = object()  # a plain << key
