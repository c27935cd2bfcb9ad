"""Scalars and tags by the YAML 1.2 core schema, the only YAML a desired-state file uses.

PyYAML resolves YAML 1.1, where ``yes``, ``no``, ``on`` and ``off`` are booleans
(Norway's country code ``NO`` becomes ``False``), ``0123`` is octal 83 and
``2024-01-01`` a date. Here, as in YAML 1.2: only ``true``/``false`` (any of
three spellings) are booleans, so ``active: yes`` stays the string "yes" and the
strict boolean field refuses it with a clear message; ``null``, ``~`` and nothing
are null; decimal, ``0o`` and ``0x`` integers and decimal floats are numbers;
anything else is a string.

Only the core tags (``!!str !!int !!float !!bool !!null !!seq !!map`` and the
non-specific ``!``) are accepted. ``!!python/object``, ``!!binary``, ``!!set``,
``!custom`` and the like are refused by name and never constructed.
"""

from __future__ import annotations

import re

from reconciler.files.sourcemap import excerpt

_CORE = "tag:yaml.org,2002:"
_PLAIN = "only plain YAML is read (strings, numbers, true/false, null, lists, mappings)"
_TRUE = re.compile(r"true|True|TRUE")
_INF = re.compile(r"([-+]?)\.(?:inf|Inf|INF)")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)")
_PATTERNS = {
    "null": re.compile(r"~|null|Null|NULL|"),
    "bool": re.compile(r"true|True|TRUE|false|False|FALSE"),
    "int": re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"),
    "float": re.compile(
        r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
    ),
}
MAX_DIGITS = 1000
"""Longer numbers are refused: converting them costs time quadratic in their length."""


def resolve_scalar(tag: str | None, plain: bool, text: str) -> object:
    """The value of a scalar; ValueError (a message for people) when it is refused.

    ``tag`` is the scalar's explicit tag, if any; ``plain`` says it was written
    without quotes, so its type comes from its text.
    """
    if tag is None and plain:
        name = next((n for n, p in _PATTERNS.items() if p.fullmatch(text)), "str")
    elif tag in (None, "!"):
        name = "str"
    elif tag.startswith(_CORE) and tag.removeprefix(_CORE) in ("str", *_PATTERNS):
        name = tag.removeprefix(_CORE)
        if name != "str" and not _PATTERNS[name].fullmatch(text):
            raise ValueError(f"{excerpt(text)!r} is not a valid !!{name}")
    else:
        raise ValueError(f"tag {_short(tag)} is not allowed; {_PLAIN}")
    if name == "str":
        return text
    if name == "null":
        return None
    if name == "bool":
        return _TRUE.fullmatch(text) is not None
    if len(text) > MAX_DIGITS:
        raise ValueError(f"a number of more than {MAX_DIGITS} digits")
    if name == "int":
        base = {"0o": 8, "0x": 16}.get(text[:2], 10)
        return int(text if base == 10 else text[2:], base)
    if inf := _INF.fullmatch(text):
        return float(f"{inf.group(1)}inf")
    return float("nan") if _NAN.fullmatch(text) else float(text)


def refuse_collection_tag(tag: str | None, kind: str) -> str | None:
    """Why a mapping (``kind`` "map") or sequence ("seq") with ``tag`` is refused, or None."""
    if tag in (None, "!", _CORE + kind):
        return None
    return f"tag {_short(str(tag))} is not allowed; {_PLAIN}"


def _short(tag: str) -> str:
    return excerpt("!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag)
