"""The all-at-once test of identifiers' characters agrees with the entry-by-entry one."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.files.characters import (
    GROUP_IDENTIFIERS,
    USER_IDENTIFIERS,
    all_plain,
    check_characters,
)
from reconciler.files.sourcemap import ParsedDocument
from tests.hypothesis_profiles import examples

_TEXT = st.text(alphabet="ab @.\u00e9\u200b\n\x01\t", max_size=4)
_ITEM = _TEXT | st.integers() | st.none() | st.fixed_dictionaries({"value": _TEXT | st.integers()})
_VALUE = _TEXT | st.integers() | st.none() | st.lists(_ITEM, max_size=3).map(tuple)
_ENTRY = st.dictionaries(st.sampled_from([*USER_IDENTIFIERS, *GROUP_IDENTIFIERS, "title"]), _VALUE)


def _passes_at_once(text: str) -> bool:
    return text.isascii() and text.isprintable() and text[:1] != " " and text[-1:] != " "


def _plain_rule(entries: list[dict[str, Any]], keys: tuple[str, ...]) -> bool:
    """Entry by entry, as ``check_characters`` looks: every identifier passes at once."""
    for entry in entries:
        for key in keys:
            value = entry.get(key)
            items = value if type(value) is tuple else (value,) if type(value) is str else ()
            for item in items:
                text = item.get("value") if type(item) is dict else item
                if type(text) is str and not _passes_at_once(text):
                    return False
    return True


@settings(max_examples=examples(500), deadline=None)
@given(
    entries=st.lists(_ENTRY, max_size=4),
    keys=st.sampled_from([USER_IDENTIFIERS, GROUP_IDENTIFIERS]),
)
def test_identifiers_all_plain_at_once_are_plain_one_by_one(
    entries: list[dict[str, Any]], keys: tuple[str, ...]
) -> None:
    """``all_plain`` says yes exactly when every identifier passes the entry-by-entry
    test at once, and then checking each entry finds nothing to refuse."""
    plain = all_plain(entries, keys)
    assert plain == _plain_rule(entries, keys)
    if plain:
        doc = ParsedDocument("f.json")
        for i, entry in enumerate(entries):
            check_characters(doc, ("users", i), entry, keys)
        assert doc.problems == []
