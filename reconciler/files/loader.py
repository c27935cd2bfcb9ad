"""Load desired-state files into one ``DesiredState``, or report every problem in them.

The loader is the boundary where YAML, JSON and pydantic errors become
``Problem``s: each names a file, line, column and a path such as
``users[3].emails[0].value``, and all of them, from all files, are raised together
in one ``DesiredStateError``, so a pull request is fixed in one round.

Stages, each adding problems without stopping the others: find the files
(``finding``, which refuses links that leave the directory given), read and decode
them (``sizelimits``, UTF-8), parse them (``yamlsafe``, ``jsonsafe``; positions
are found when a problem needs one), validate each against the strict
``DesiredFile`` model, then check what only the whole set can tell
(``crossfile``).

Parsing and validating build millions of small objects that all stay alive and
hold no reference cycles; an application pauses the garbage collector meanwhile
(``reconciler.app.gcpolicy``), which this library never touches.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from reconciler.desired import DesiredFile, DesiredState, TargetSpec
from reconciler.desired_compact import share_common_parts
from reconciler.errors import DesiredStateError, Problem
from reconciler.files.crossfile import check_across_files
from reconciler.files.finding import SUFFIXES, find_files
from reconciler.files.jsonsafe import parse_json
from reconciler.files.sizelimits import FILE_BYTES_VARIABLE, SizeLimits
from reconciler.files.sourcemap import ParsedDocument
from reconciler.files.validation import describe, report_validation_error, validate_file
from reconciler.files.yamlsafe import SchemaChoice, parse_yaml

__all__ = [
    "SUFFIXES",
    "SizeLimits",
    "find_files",
    "load_desired",
    "merge_documents",
    "read_documents",
]


def load_desired(paths: Sequence[str | Path], *, exclude: Sequence[str] = ()) -> DesiredState:
    """Load, validate and merge the files and directories in ``paths``, without those
    their ``.reconcilerignore`` or the ``exclude`` patterns leave out (``finding``).

    Raises ``DesiredStateError`` carrying every problem found in every file.
    """
    problems: list[Problem] = []
    documents = read_documents(paths, problems, exclude=exclude)
    return merge_documents(documents, problems, release=True)


def read_documents(
    paths: Sequence[str | Path],
    problems: list[Problem],
    *,
    schema: SchemaChoice = DesiredFile,
    limits: SizeLimits | None = None,
    exclude: Sequence[str] = (),
) -> list[ParsedDocument]:
    """Find, read and parse the files in ``paths``; what cannot be found goes to ``problems``.

    ``schema`` is the model a YAML file is read for (plain scalars are text where it
    expects text), or a function that picks it from the parsed data: a caller that
    loads other kinds of files beside desired state (``reconciler sandbox seed``)
    sorts the documents and gives ``merge_documents`` only the desired-state ones.
    ``limits`` default to ``SizeLimits.from_environment()`` (ConfigError if bad).
    ``exclude``: gitignore patterns of files to leave out (``finding``).
    """
    limits = SizeLimits.from_environment() if limits is None else limits
    found = find_files(paths, problems, exclude=exclude)
    return [_read(name, path, schema, limits) for name, path in found]


def merge_documents(
    documents: Sequence[ParsedDocument], problems: list[Problem], *, release: bool = False
) -> DesiredState:
    """Validate desired-state documents, check them together and merge them.

    Raises ``DesiredStateError`` with every problem in ``documents`` and ``problems``.
    With ``release`` (the caller is done with the documents), each one's data and
    text are let go as soon as it is validated, so that the parsed data of every
    file does not wait beside the models of them all (a gigabyte at a million users).
    """
    models: list[DesiredFile] = []
    across = _check_across(documents, all_read=not problems)
    for doc, later in zip(documents, across, strict=True):
        model = _validate(doc, release=release)
        if model is not None:
            models.append(model)
        doc.problems.extend(later)
        if release:
            doc.data = doc.positions = doc.locate = None
    for doc in documents:
        problems.extend(doc.problems)
    if problems:
        raise DesiredStateError(problems)
    state = DesiredState(
        target=next((m.target for m in models if m.target is not None), TargetSpec()),
        users=tuple(user for m in models for user in m.users),
        groups=tuple(group for m in models for group in m.groups),
    )
    policy = next((m.policy for m in models if m.policy is not None), None)
    # Set only when a file has one, so that "policy" in model_fields_set tells.
    return state if policy is None else state.model_copy(update={"policy": policy})


def _check_across(documents: Sequence[ParsedDocument], *, all_read: bool) -> list[list[Problem]]:
    """The problems ``crossfile`` finds in each document, taken out of it for now.

    They are checked before validation, while every document still has its data,
    and reported after the validation problems, as they always were.
    """
    counts = [len(doc.problems) for doc in documents]
    check_across_files(documents, all_read=all_read)
    across = [doc.problems[count:] for doc, count in zip(documents, counts, strict=True)]
    for doc, count in zip(documents, counts, strict=True):
        del doc.problems[count:]
    return across


def _read(name: str, path: Path, schema: SchemaChoice, limits: SizeLimits) -> ParsedDocument:
    """Read, decode and parse one file; every failure becomes a problem in the result."""
    doc = ParsedDocument(name, complete=False)
    try:
        if not path.is_file():
            doc.add_problem(None, (), "not a regular file")
            return doc
        size = path.stat().st_size
        if size > limits.file_bytes:
            message = (
                f"file is {size} bytes, over the {limits.describe_bytes()} limit "
                f"({FILE_BYTES_VARIABLE}); split it up"
            )
            doc.add_problem(None, (), message)
            return doc
        with path.open("rb") as stream:
            raw = stream.read(limits.file_bytes + 1)
    except OSError as exc:
        doc.add_problem(None, (), f"cannot read the file: {exc.strerror or exc}")
        return doc
    text = _decode(raw, doc)
    del raw  # the text is kept (to find positions later); the bytes need not be
    if text is None:
        return doc
    if path.suffix.lower() == ".json":
        parsed = parse_json(text, name, limits=limits)
    else:
        parsed = parse_yaml(text, name, schema=schema, limits=limits)
    if parsed.complete and parsed.data is None and parsed.position(()) is None:
        parsed.add_problem(None, (), "file is empty; expected a mapping with version: 1")
        parsed.complete = False
    elif parsed.complete and not isinstance(parsed.data, dict):
        kind = describe(parsed.data, quote=False)  # not desired state: quote nothing of it
        parsed.add_problem(
            parsed.position(()), (), f"expected a mapping with version: 1, found {kind}"
        )
        parsed.complete = False
    return parsed


def _decode(raw: bytes, doc: ParsedDocument) -> str | None:
    """The file's text; a byte-order mark is dropped. None (and a problem) if not UTF-8."""
    skip = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        doc.add_problem(None, (), "file is UTF-16; save it as UTF-8")
        return None
    line_start = raw.rfind(b"\n", 0, offset) + 1
    line = raw.count(b"\n", 0, offset) + 1
    column = len(raw[max(line_start, skip) : offset].decode("utf-8", "replace")) + 1
    doc.add_problem(
        (line, column),
        (),
        f"file is not valid UTF-8 (byte 0x{raw[offset]:02x} at offset {offset}); save it as UTF-8",
    )
    return None


def _validate(doc: ParsedDocument, *, release: bool = False) -> DesiredFile | None:
    """The file's model, or None after adding its validation problems to ``doc``;
    ``release``: the users' parsed data goes as they are validated (``validate_file``)."""
    if not doc.complete:
        return None
    try:
        model = validate_file(doc.data, release=release)
    except ValidationError as exc:
        report_validation_error(exc, doc)
        return None
    if doc.problems:
        return None
    share_common_parts(model.users)
    return model
