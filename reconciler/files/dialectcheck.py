"""Attributes the files manage that the target's API does not have, with their places.

Run once the target is known (the files may name it), before anything is read or
sent. Only when the merged state mentions such an attribute are the files parsed
again, to say where: the common case costs nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

from reconciler.desired import DesiredState
from reconciler.dialect import Dialect
from reconciler.errors import DesiredStateError, Problem
from reconciler.files.loader import read_documents
from reconciler.files.sourcemap import NodePath, ParsedDocument
from reconciler.ownership_fast import Shape, mentioned_paths, shapes_of

_NESTED = ("name", "enterprise")
_NOT_ATTRIBUTES = frozenset({"groups", "previousUserNames"})


def check_dialect_attributes(
    desired: DesiredState,
    paths: Sequence[str | Path],
    dialect: Dialect,
    *,
    shapes: Collection[Shape] | None = None,
    exclude: Sequence[str] = (),
) -> None:
    """Raise ``DesiredStateError`` naming every user attribute ``dialect`` does not have;
    ``shapes``: the users' shapes, when known already; ``exclude``: as the files were
    loaded with."""
    shapes = shapes_of(desired.users) if shapes is None else shapes
    if not any(dialect.unsupported(mentioned_paths(shape)) for shape in shapes):
        return
    problems: list[Problem] = []
    for doc in read_documents(paths, problems, exclude=exclude):
        for path, attribute in _user_attributes(doc):
            if attribute in dialect.unsupported(frozenset({attribute})):
                name = attribute.rsplit(".", 1)[-1]
                doc.add_problem(
                    doc.key_position(path),
                    path,
                    f"{dialect.label} has no {name} attribute; remove it from the files "
                    "for this target",
                )
        problems.extend(doc.problems)
    if not problems:  # the files changed since they were loaded: say it without a place
        unsupported = sorted(
            set().union(*(dialect.unsupported(mentioned_paths(shape)) for shape in shapes))
        )
        message = f"{dialect.label} has no {', '.join(unsupported)} attribute"
        problems.append(
            Problem(str(paths[0]) if paths else "(files)", None, None, "users", message)
        )
    raise DesiredStateError(problems)


def _user_attributes(doc: ParsedDocument) -> Iterator[tuple[NodePath, str]]:
    users = doc.data.get("users") if isinstance(doc.data, dict) else None
    for i, entry in enumerate(users if isinstance(users, tuple) else ()):
        if not isinstance(entry, dict):
            continue
        for key, value in entry.items():
            if key in _NESTED and isinstance(value, dict):
                for sub in value:
                    yield ("users", i, key, sub), f"{key}.{sub}"
            elif key not in _NESTED and key not in _NOT_ATTRIBUTES:
                yield ("users", i, key), str(key)
