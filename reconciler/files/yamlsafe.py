"""Safe YAML for desired-state files: plain data only, every node's position kept.

Why not ``yaml.safe_load``: it forgets where values were, silently keeps the last
of two equal keys, expands aliases without limit (a "billion laughs" document of a
few hundred bytes asks for 10**9 nodes) and resolves YAML 1.1 scalars, in which
``yes``/``no``/``on``/``off`` are booleans and ``0123`` is octal 83. Here PyYAML's
scanner and parser produce events, and the data is built from them in one of two
ways. A plain file (mappings, sequences, untagged scalars, no anchors, no key
twice: nearly all of them) takes the lean path, ``yamlfast``: no positions until
a problem asks for one. A plain file in simple block style, as ``reconciler
export`` writes them, goes faster still: a native parser builds its data
(``yamlnative``), and the events are made only if a position is asked for. Any
other file is read by ``yamlcompose``, which keeps every position as it goes and
reports:

* Scalars resolve by the YAML 1.2 core schema and only core tags are accepted
  (``yamlcore``): ``yes`` is the string "yes"; ``!!python/object`` is reported
  and never constructed.
* A key repeated in one mapping is reported with both lines; ``<<`` merge keys and
  non-scalar keys are refused.
* Aliases reuse the anchored value and count against a budget, so an alias bomb
  is refused at once (``yamlcompose``).
* Given the file's schema, a plain scalar in a field typed as text is its text as
  written: ``employeeNumber: 00018`` is "00018", not 18 (``plainscalars``).

All paths give the same data, positions and problems; tests compare them.
The events come from libyaml when PyYAML was built with it (five times faster),
else from PyYAML's pure-Python parser. Both give the same positions; the wording
of a few syntax errors differs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeAlias

import yaml
from pydantic import BaseModel
from yaml.error import MarkedYAMLError
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.scanner import Scanner

from reconciler.files.plainscalars import Expected, resolve_plain_scalars, schema_expects
from reconciler.files.sizelimits import SizeLimits
from reconciler.files.sourcemap import LineIndex, ParsedDocument, Position, excerpt
from reconciler.files.yamlcompose import EventStream, StopParsingError, compose, mark_position
from reconciler.files.yamlfast import NotPlainError, compose_plain, locate_plain
from reconciler.files.yamlnative import load_native

SchemaChoice: TypeAlias = type[BaseModel] | Callable[[Any], type[BaseModel] | None] | None
"""The model a document is for, or a function that picks it from the composed data."""


class _PurePythonEvents(Reader, Scanner, Parser):
    """PyYAML's pure-Python event parser over a decoded string."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)


def _libyaml_events(text: str) -> EventStream:
    from yaml._yaml import CParser  # here: the module exists only when built with libyaml

    return CParser(text)


def _events(text: str, libyaml: bool) -> EventStream:
    return _libyaml_events(text) if libyaml else _PurePythonEvents(text)


def parse_yaml(
    text: str,
    file: str,
    *,
    schema: SchemaChoice = None,
    libyaml: bool | None = None,
    native: bool = True,
    limits: SizeLimits | None = None,
) -> ParsedDocument:
    """Parse one YAML document into plain data, positions and problems.

    ``schema`` is the model the document is for: where it expects a string, a plain
    scalar is its text. It may be a function of the composed data (mappings with
    their keys, scalars not yet resolved) that returns the model. ``libyaml`` picks
    the parser of events; by default libyaml when PyYAML has it. ``native`` lets
    a file in simple block style be read by the native parser (``yamlnative``)
    when it is installed. ``limits`` default to ``SizeLimits.from_environment()``.

    Other plain files take the lean path (``yamlfast``); both get positions only when
    one is asked for; any other file is read with positions from the start."""
    limits = SizeLimits.from_environment() if limits is None else limits
    fast = yaml.__with_libyaml__ if libyaml is None else libyaml
    chooser: Callable[[Any], type[BaseModel] | None] | None = None
    expected: Expected | None = None  # None: plain scalars wait for the chooser's model
    if schema is None or isinstance(schema, type):
        expected = schema_expects(schema)
    else:
        chooser = schema
    doc = ParsedDocument(file)
    data = None
    if native and expected is not None:
        data = load_native(text, expected, limits.file_nodes)
    if data is not None:
        doc.data = data
        doc.locate = lambda: locate_plain(_events(text, fast))
        return doc
    try:
        doc.data = compose_plain(_events(text, fast), expected, limits.file_nodes)
    except StopParsingError as exc:  # a limit, met where the full path would meet it
        doc.complete = False
        doc.add_problem(exc.position, (), exc.message)
        return doc
    except (NotPlainError, yaml.YAMLError):
        pass  # out of this block first, so that what the lean path built can go
    else:
        if chooser is not None:
            doc.data = resolve_plain_scalars(doc.data, chooser(doc.data))
        doc.locate = lambda: locate_plain(_events(text, fast))
        return doc
    return _parse_with_positions(text, file, schema, fast, limits)


def _parse_with_positions(
    text: str, file: str, schema: SchemaChoice, fast: bool, limits: SizeLimits
) -> ParsedDocument:
    """The full path (``yamlcompose``): positions as it goes, every problem reported."""
    doc = ParsedDocument(file)
    try:
        compose(_events(text, fast), doc, limits)
    except ReaderError as exc:
        doc.complete = False
        # libyaml counts bytes, PyYAML characters: find the character again.
        found = Reader.NON_PRINTABLE.search(text)
        offset = found.start() if found else exc.position
        char = ord(found.group()) if found else 0
        doc.add_problem(
            LineIndex(text).position(offset),
            (),
            f"character U+{char:04X} is not allowed in a YAML file",
        )
    except MarkedYAMLError as exc:
        doc.complete = False
        mark = exc.problem_mark or exc.context_mark
        position = mark_position(mark) if mark else None
        doc.add_problem(position, (), _syntax_message(exc, text, position))
    except StopParsingError as exc:
        doc.complete = False
        doc.add_problem(exc.position, (), exc.message)
    model = schema if schema is None or isinstance(schema, type) else schema(doc.data)
    doc.data = resolve_plain_scalars(doc.data, model)
    return doc


_QUOTED = re.compile(r"'([^'\n]*)'")


def _quote_excerpts(text: str) -> str:
    """PyYAML's message with what it quotes from the file (a character, a tag) as excerpts."""
    return _QUOTED.sub(lambda quoted: f"'{excerpt(quoted.group(1))}'", text)


def _syntax_message(exc: MarkedYAMLError, text: str, position: Position | None) -> str:
    message = _quote_excerpts(f"invalid YAML: {exc.problem or exc.context}")
    if exc.context and exc.problem:
        message += f" ({_quote_excerpts(exc.context)}"
        if exc.context_mark is not None:
            line, column = mark_position(exc.context_mark)
            message += f" at line {line}, column {column}"
        message += ")"
    if position is not None:
        lines = text.split("\n")
        line_text = lines[position[0] - 1] if position[0] <= len(lines) else ""
        if line_text[position[1] - 1 : position[1]] == "\t":
            message += "; indent with spaces, not tabs"
    return message
