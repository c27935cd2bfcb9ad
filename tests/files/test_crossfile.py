"""The cross-file checks' fast paths agree with the plain rules they stand for."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.files.crossfile import _all_in, _Known, _listed, _Listings
from reconciler.files.sourcemap import NodePath, ParsedDocument
from reconciler.identifiers import fold_identity
from tests.hypothesis_profiles import examples

# Names that fold alike in many ways: letter case, width, composed and decomposed forms.
_NAME = st.text(alphabet="aAbB\u00e9e\u0301\uff21 -", max_size=4)
_REFERENCE = _NAME | st.integers() | st.none() | st.builds(dict)


def _known(declared: list[str]) -> _Known:
    return _Known({fold_identity(name) for name in declared}, set(declared))


def _plain_rule(declared: list[str], names: tuple[Any, ...]) -> bool:
    """Every name is text whose fold is the fold of a declared name."""
    folded = {fold_identity(name) for name in declared}
    return all(isinstance(name, str) and fold_identity(name) in folded for name in names)


@settings(max_examples=examples(300), deadline=None)
@given(declared=st.lists(_NAME, max_size=5), names=st.lists(_REFERENCE, max_size=5))
def test_names_looked_up_as_spelled_first_are_known_as_folded(
    declared: list[str], names: list[Any]
) -> None:
    """A reference counts as known exactly when its fold is a declared name's fold,
    whether it is found as spelled or only once folded."""
    assert _all_in(_known(declared), tuple(names)) == _plain_rule(declared, tuple(names))


def _listed_one_by_one(
    entries: list[tuple[ParsedDocument, NodePath, dict[str, Any]]], *, empty: bool
) -> _Known:
    """The plain rule: every entry listed in turn."""
    listings = _Listings("user", "why")
    for doc, path, entry in entries:
        text = entry.get("userName")
        if isinstance(text, str) and (text or empty):
            listings.add(doc, (*path, "userName"), text)
    return _Known(set(listings.first), listings.spellings)


@settings(max_examples=examples(300), deadline=None)
@given(names=st.lists(_REFERENCE, max_size=6), empty=st.booleans())
def test_names_listed_once_are_told_by_one_set(names: list[Any], empty: bool) -> None:
    """The names ``_listed`` returns, and the problems it reports, are those of listing
    each entry in turn, whether or not two fold alike."""
    fast, plain = ParsedDocument("f.yaml"), ParsedDocument("f.yaml")
    entries = [(fast, ("users", i), {"userName": name}) for i, name in enumerate(names)]
    known = _listed(entries, "userName", _Listings("user", "why"), empty=empty)
    expected = _listed_one_by_one([(plain, path, entry) for _, path, entry in entries], empty=empty)
    assert known == expected
    assert [str(p) for p in fast.problems] == [str(p) for p in plain.problems]
