"""Which names a scope covers: the compiled matcher says what fnmatch says, folded."""

from __future__ import annotations

from fnmatch import fnmatchcase

from hypothesis import given
from hypothesis import strategies as st

from reconciler.scope import in_scope, left_alone_reason

_names = st.text(alphabet="abAB@.-*?[]!x", max_size=8)


@given(_names, st.lists(_names, max_size=3).map(tuple))
def test_a_scope_matches_as_each_glob_would_case_insensitively(
    name: str, patterns: tuple[str, ...]
) -> None:
    """One regular expression for all globs says what asking each glob in turn says."""
    expected = any(fnmatchcase(name.lower(), p.lower()) for p in patterns)
    assert in_scope(name, patterns) is expected


_suffixes = st.text(alphabet="abAB@.-x\n", max_size=6).map(lambda text: "*" + text)


@given(st.text(alphabet="abAB@.-x\n", max_size=10), st.lists(_suffixes, min_size=1, max_size=3))
def test_suffix_scopes_match_as_their_globs(name: str, patterns: list[str]) -> None:
    """Scopes that are all ``*`` and a text (the usual ``*@example.com``), which are
    compared as suffixes, cover what fnmatch says they cover."""
    expected = any(fnmatchcase(name.lower(), p.lower()) for p in patterns)
    assert in_scope(name, tuple(patterns)) is expected


def test_no_globs_cover_nothing_and_a_star_covers_everything() -> None:
    assert not in_scope("alice@example.com", ())
    assert in_scope("", ("*",))
    assert in_scope("Alice@Example.com", ("*@EXAMPLE.COM",))


def test_protection_compares_names_case_insensitively() -> None:
    reason = left_alone_reason("Admin@Example.com", ("*",), ("admin@example.com",), "users")
    assert reason == "protected by policy.users.protect"
    assert left_alone_reason("bob@example.com", ("*",), ("admin@example.com",), "users") is None
