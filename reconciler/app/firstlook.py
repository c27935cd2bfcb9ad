"""The files' ``target`` section from a first look, before the files are loaded.

Connecting needs the target (URL, token variable, dialect), which a full load gives
only at its end; ``reconciler.app.pipeline`` starts reading the directory at once
with what this finds. In YAML it is the lines of the top-level ``target:`` key,
parsed alone; in JSON the document, when it names a target at all. Files are
scanned, never read whole (``mmap``): a file the loader would refuse for its size
costs no memory here. Anything not certain (a top-level line that is not a plain
``key:``, a sequence entry or a comment; two target sections; a large JSON file with
one; a file problem) gives None: the run then loads the files before it reads, as it
always did, and the loader reports what is wrong.
"""

from __future__ import annotations

import json
import mmap
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reconciler.desired import DesiredFile, TargetSpec
from reconciler.errors import Problem
from reconciler.files.finding import find_files
from reconciler.files.yamlsafe import parse_yaml

# Lines at column 0 (after a newline), and the plain key that may start one.
_TOP_LEVEL = re.compile(rb"\n([^ \t\r\n][^\n]*)")
_FIRST_LINE = re.compile(rb"[^ \t\r\n][^\n]*")
_TOP_KEY = re.compile(rb"([A-Za-z_][A-Za-z0-9_]*)[ \t]*:(?:[ \t]|$)")
_BOM = b"\xef\xbb\xbf"
_JSON_WHOLE = 32 * 1024 * 1024  # a JSON file that names a target is parsed up to this size
_UNSURE, _ABSENT = object(), object()


def early_target_spec(paths: tuple[Path, ...], exclude: tuple[str, ...] = ()) -> TargetSpec | None:
    """The files' ``target`` section, or None when a first look cannot tell for sure."""
    problems: list[Problem] = []
    files = find_files(paths, problems, exclude=exclude) if paths else []
    if problems or not files:
        return None
    found: list[Any] = []
    for name, path in files:
        section = _section(name, path)
        if section is _UNSURE:
            return None
        if section is not _ABSENT:
            found.append(section)
    if len(found) > 1:
        return None
    try:
        return TargetSpec.model_validate(found[0]) if found else TargetSpec()
    except ValidationError:
        return None


def _section(name: str, path: Path) -> Any:
    try:
        with path.open("rb") as file:
            if not path.stat().st_size:
                return _ABSENT  # the loader says that an empty file is a problem
            with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
                if path.suffix.lower() == ".json":
                    return _json_target(data)
                return _yaml_target(data, name)
    except (OSError, ValueError):
        return _UNSURE


def _json_target(data: mmap.mmap) -> Any:
    if data.find(b'"target"') < 0 and data.find(b"\\u") < 0:
        return _ABSENT
    if len(data) > _JSON_WHOLE:
        return _UNSURE
    try:
        document = json.loads(data[:])
    except ValueError:
        return _UNSURE
    return document.get("target", _ABSENT) if isinstance(document, dict) else _UNSURE


def _yaml_target(data: mmap.mmap, name: str) -> Any:
    """The value of the top-level ``target:`` key, parsed alone, from its lines."""
    start = end = None
    for offset, line in _top_level_lines(data):
        line = line.rstrip(b"\r")
        if line.startswith((b"#", b"- ")) or line.rstrip() in (b"-", b"---"):
            continue
        key = _TOP_KEY.match(line)
        if key is None:
            return _UNSURE
        if start is not None and end is None:
            end = offset
        if key.group(1) == b"target":
            if start is not None:
                return _UNSURE
            start = offset
    if start is None:
        return _ABSENT
    try:
        text = data[start:end].decode("utf-8")
    except UnicodeDecodeError:
        return _UNSURE
    doc = parse_yaml(text, name, schema=DesiredFile)
    if doc.problems or not doc.complete or not isinstance(doc.data, dict):
        return _UNSURE
    return doc.data.get("target")


def _top_level_lines(data: mmap.mmap) -> Iterator[tuple[int, bytes]]:
    """Each line that starts at column 0, and where (past a byte-order mark)."""
    first = len(_BOM) if data[: len(_BOM)] == _BOM else 0
    head = _FIRST_LINE.match(data, first)
    if head is not None:
        yield first, head.group()
    for match in _TOP_LEVEL.finditer(data, first):
        yield match.start(1), match.group(1)
