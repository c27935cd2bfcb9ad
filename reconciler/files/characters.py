"""Identifiers nobody can see or type: the cross-file check of each entry's names.

An identifier holding a zero-width space or a control character, or whitespace at an
end, looks like another; ``crossfile`` refuses it. Printable ASCII without a space at
either end, nearly every name, passes at once: ``all_plain`` tells that of every
identifier of a section at once (a few string operations over all of them), so the
entry-by-entry check (``check_characters``) runs only where one may be refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from typing import Any

from reconciler.files.sourcemap import NodePath, ParsedDocument, excerpt
from reconciler.identifiers import refused_characters

# The identifiers an entry declares: single values, and lists (emails by their value).
USER_IDENTIFIERS = ("userName", "externalId", "previousUserNames", "emails")
GROUP_IDENTIFIERS = ("displayName", "previousNames")


def all_plain(entries: Sequence[dict[str, Any]], keys: tuple[str, ...]) -> bool:
    """Whether every identifier ``check_characters`` would look at in ``entries`` is
    printable ASCII without a space at either end, so that it would refuse none."""
    texts = _texts(entries, keys)
    # Printable text holds no line break, so one after a line break is at a start.
    lines = "\n" + "\n".join(texts) + "\n"
    return (
        lines.isascii()
        and "".join(texts).isprintable()
        and "\n " not in lines
        and (" \n" not in lines)
    )


def _texts(entries: Sequence[dict[str, Any]], keys: tuple[str, ...]) -> list[str]:
    """The identifiers ``check_characters`` looks at, one key of all entries at a time
    (a map and a set of types, not a loop, for the keys every entry gives as text)."""
    texts: list[str] = []
    for key in keys:
        values: list[Any] = list(map(dict.get, entries, repeat(key)))
        kinds = set(map(type, values))
        if kinds == {str}:
            texts += values
            continue
        texts += [value for value in values if type(value) is str]
        if tuple in kinds:
            for items in [value for value in values if type(value) is tuple]:
                for item in items:
                    text = item.get("value") if type(item) is dict else item
                    if type(text) is str:
                        texts.append(text)
    return texts


def check_characters(
    doc: ParsedDocument, path: NodePath, entry: dict[str, Any], keys: tuple[str, ...]
) -> None:
    """Refuse identifiers holding what nobody can see or type (a zero-width space, a
    control character) or whitespace at an end: two such names look like one.

    Printable ASCII without a space at either end, nearly every name, passes at once;
    a node path is built only for a name that is refused.
    """
    for key in keys:
        value = entry.get(key)
        if type(value) is str:
            if not _plain(value):
                _refuse(doc, (*path, key), value)
        elif type(value) is tuple:
            for j, item in enumerate(value):
                text = item.get("value") if type(item) is dict else item
                if type(text) is not str or _plain(text):
                    continue
                _refuse(
                    doc, (*path, key, j, "value") if type(item) is dict else (*path, key, j), text
                )


def _plain(text: str) -> bool:
    """Printable ASCII without a space at either end: passes without a closer look
    (``all_plain`` asks the same of many at once)."""
    return text.isascii() and text.isprintable() and text[:1] != " " and text[-1:] != " "


def _refuse(doc: ParsedDocument, at: NodePath, text: str) -> None:
    why = refused_characters(text)
    if why is not None:
        doc.add_problem(doc.position(at), at, f'"{excerpt(text)}" {why}')
