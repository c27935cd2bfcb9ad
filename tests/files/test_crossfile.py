"""The cross-file checks' fast paths agree with the plain rules they stand for."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.files.crossfile import _all_in, _Known
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
