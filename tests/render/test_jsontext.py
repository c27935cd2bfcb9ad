"""The one-pass JSON writer and the access review's text: the very text
``json.dumps(indent=2, ensure_ascii=False)`` writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.plan import AccessChange, access_json
from reconciler.render.json import access_text
from reconciler.render.jsontext import Written, dumps_indented


class Person:
    """Not a JSON type: written through ``default``."""

    def __init__(self, name: str) -> None:
        self.name = name


def as_json(value: object) -> Any:
    if isinstance(value, Person):
        return {"name": value.name, "groups": [value.name, None]}
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**64)  # beyond 64 bits: exact
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.builds(Person, st.text(max_size=5))
)
keys = st.text() | st.integers() | st.floats() | st.booleans() | st.none()
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.lists(inner, max_size=6).map(tuple)
        | st.lists(st.text(), max_size=6)
        | st.dictionaries(keys, inner, max_size=6)
        | st.dictionaries(st.text(), st.text(), max_size=6)
    ),
    max_leaves=40,
)


@given(values)
def test_writes_what_json_dumps_writes(value: Any) -> None:
    """On random values (nested lists, tuples and mappings; non-ASCII, control characters,
    big integers, NaN, numbers and null as keys; objects through ``default``) the text is
    json.dumps's, byte for byte."""
    expected = json.dumps(value, indent=2, ensure_ascii=False, default=as_json)
    assert dumps_indented(value, default=as_json) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param({"a": Person("ann")}, "Person is not JSON serializable", id="no-default"),
        pytest.param({(1, 2): "x"}, "keys must be str, int, float, bool or None", id="tuple-key"),
    ],
)
def test_refuses_what_json_dumps_refuses(value: Any, message: str) -> None:
    """What json.dumps refuses without ``default`` (or ever, as a key) is a TypeError."""
    with pytest.raises(TypeError, match=message):
        json.dumps(value, indent=2)
    with pytest.raises(TypeError, match=message):
        dumps_indented(value)


names = st.text(max_size=8)
people = st.lists(
    st.builds(
        AccessChange,
        key=names,
        userName=st.none() | names,
        gains=st.lists(names, max_size=3).map(tuple),
        loses=st.lists(names, max_size=3).map(tuple),
        via=st.dictionaries(names, names, max_size=2),
        status=st.none() | names,
        sensitive=st.lists(names, max_size=2).map(tuple),
    ),
    max_size=5,
)


@given(people)
def test_the_access_review_is_written_as_json_dumps_writes_its_dicts(
    changes: list[AccessChange],
) -> None:
    """The access review written straight from the objects is the text of json.dumps of
    ``access_json`` of each person: alone, and nested in a plan as its ``access`` key."""
    dicts = [access_json(c) for c in changes]
    assert access_text(changes, 0) == json.dumps(dicts, indent=2, ensure_ascii=False)
    nested = {
        "summary": "1 to change",
        "access": Written(lambda level: access_text(changes, level)),
    }
    expected = json.dumps({"summary": "1 to change", "access": dicts}, indent=2, ensure_ascii=False)
    assert dumps_indented(nested) == expected
