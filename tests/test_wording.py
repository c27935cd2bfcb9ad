"""Counts in messages read as English: one of a thing, or several things."""

from __future__ import annotations

import pytest

from reconciler.wording import plural


@pytest.mark.parametrize(
    ("count", "noun", "nouns", "written"),
    [
        pytest.param(0, "group", None, "0 groups", id="none"),
        pytest.param(1, "group", None, "1 group", id="one"),
        pytest.param(2, "action", None, "2 actions", id="several"),
        pytest.param(1, "person", "people", "1 person", id="irregular-one"),
        pytest.param(3, "person", "people", "3 people", id="irregular-several"),
        pytest.param(
            1,
            "membership of managed users",
            "memberships of managed users",
            "1 membership of managed users",
            id="phrase",
        ),
    ],
)
def test_plural(count: int, noun: str, nouns: str | None, written: str) -> None:
    """The noun is singular for exactly one, else the plural given or noun + s."""
    assert plural(count, noun, nouns) == written
