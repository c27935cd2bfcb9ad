"""The native YAML path with one-line flow collections and root lists further in: the
same data, positions and problems as the event paths, or left to them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.files.sizelimits import SizeLimits
from reconciler.files.yamlnative import available, load_native
from tests.files.test_yamlnative import _KEYS, _LIMITS, _SHAPE, _VALUES, assert_all_same, three

pytestmark = pytest.mark.skipif(not available(), reason="yaml-rs is not installed")

_FLOW_FILE = """\
version: 1
users:
  - userName: ann@x.com
    name: {givenName: Ann, familyName: "O'Hara" , formatted: 'Lee, Ann'}
    groups: [team-a, Team B ,'c, d', "e [f]"]
    enterprise: {department: R&D}   # a comment
  - userName: bo@x.com
    groups: [ solo ]
    emails:
      - {value: bo@x.com, type: work}
groups:
  - displayName: team-a
    members: [ann@x.com]
"""


def test_flow_collections_on_one_line_are_read_natively_and_alike() -> None:
    """Flow lists and mappings of text, and root lists further in, take the native path."""
    assert load_native(_FLOW_FILE, _SHAPE, _LIMITS.file_nodes) is not None
    assert_all_same(_FLOW_FILE)
    native, _, _ = three(_FLOW_FILE)
    assert native.positions is None
    assert native.data["users"][0]["groups"] == ("team-a", "Team B", "c, d", "e [f]")
    assert native.data["users"][1]["emails"] == ({"value": "bo@x.com", "type": "work"},)


def test_an_exported_directory_in_flow_style_takes_the_native_path() -> None:
    """Users as ``benchmarks/scale_setup.py`` writes them are read natively, whole and in
    slices of one and two users (``assert_all_same``), to what the composer makes."""
    users = "".join(
        f"  - userName: user{i}@example.com\n    name: {{givenName: User, familyName: N{i}}}\n"
        f"    groups: [team-{i % 3}, team-{i % 5}]\n"
        for i in range(7)
    )
    text = f"version: 1\nusers:\n{users}"
    assert load_native(text, _SHAPE, SizeLimits().file_nodes) is not None
    assert_all_same(text)


_LEFT_TO_EVENTS = [
    pytest.param("a: [[x]]\n", id="nested-list"),
    pytest.param("a: {b: [x]}\n", id="list-in-a-mapping"),
    pytest.param("a: [x: y]\n", id="pair-in-a-list"),
    pytest.param("a: [x, 1]\n", id="integer"),
    pytest.param("a: [true]\n", id="boolean"),
    pytest.param("a: {x: null}\n", id="null"),
    pytest.param("a: [a:b]\n", id="colon"),
    pytest.param("a: [x,]\n", id="trailing-comma"),
    pytest.param("a: [x, , y]\n", id="empty-item"),
    pytest.param("a: {x: }\n", id="empty-value"),
    pytest.param("a: {x}\n", id="key-alone"),
    pytest.param("a: [x\n", id="unclosed"),
    pytest.param("a: [x,\n  y]\n", id="two-lines"),
    pytest.param("a: [x]y\n", id="text-after"),
    pytest.param("a: [x #c]\n", id="comment-inside"),
    pytest.param("a: {x: a, x: b}\n", id="key-twice"),
    pytest.param("a: {'x': a}\n", id="quoted-key"),
    pytest.param("a: [*x]\n", id="alias"),
    pytest.param("users:\n  - a\n - b\n", id="item-left-of-the-items"),
    pytest.param("users:\n  - a\n  b: 1\n", id="key-at-the-items-column"),
    pytest.param("users:\n  - a\n  -b\n", id="dash-without-space"),
]


@pytest.mark.parametrize("text", _LEFT_TO_EVENTS)
def test_flow_the_native_parser_may_misread_is_left_to_the_event_paths(text: str) -> None:
    """Nesting, numbers, empty items, anything odd in a flow collection: the event paths."""
    assert load_native(text, _SHAPE, _LIMITS.file_nodes) is None
    assert_all_same(text)


_ITEMS = st.sampled_from([*_VALUES, "a b", "x y z", "é"])
_FLOWS = st.builds(
    lambda items, space: "[" + (space + "," + space).join(items) + "]",
    st.lists(_ITEMS, max_size=4),
    st.sampled_from(["", " ", "  "]),
) | st.builds(
    lambda pairs, space: "{" + ("," + space).join(f"{k}: {v}" for k, v in pairs) + "}",
    st.lists(st.tuples(st.sampled_from(_KEYS), _ITEMS), max_size=3),
    st.sampled_from(["", " "]),
)
_LINES = st.builds(
    lambda indent, dashes, key, value, tail: " " * indent + "- " * dashes + key + value + tail,
    st.integers(0, 6),
    st.integers(0, 2),
    st.sampled_from(["", *(f"{k}:" for k in _KEYS)]),
    st.sampled_from(["", *(f" {v}" for v in _VALUES[:12])]) | _FLOWS.map(" ".__add__),
    st.sampled_from(["", "", " # c", "  "]),
)


@settings(max_examples=1500, deadline=None)
@given(lines=st.lists(_LINES, max_size=10), end=st.sampled_from(["\n", ""]))
def test_any_block_text_with_flow_reads_the_same_on_every_path(lines: list[str], end: str) -> None:
    """Lines in block style with flow values, well formed or not: the native path agrees
    or declines."""
    assert_all_same("\n".join(lines) + end)


@settings(max_examples=500, deadline=None)
@given(
    indent=st.integers(0, 3),
    items=st.lists(st.lists(_LINES, min_size=1, max_size=3), min_size=1, max_size=4),
    tail=st.sampled_from(["", "groups: []\n", "groups:\n- x\n", "# c\n"]),
)
def test_root_lists_further_in_read_the_same_in_slices(
    indent: int, items: list[list[str]], tail: str
) -> None:
    """A root list whose items are some columns in reads as the whole file reads, in
    slices of any size (``assert_all_same`` slices it)."""
    pad = " " * indent
    body = "".join(
        f"{pad}- {lines[0].lstrip()}\n" + "".join(f"{pad}  {line}\n" for line in lines[1:])
        for lines in items
    )
    assert_all_same(f"version: 1\nusers:\n{body}{tail}")


@settings(max_examples=1000, deadline=None)
@given(values=st.lists(_FLOWS, min_size=1, max_size=6), nested=st.booleans())
def test_flow_values_read_the_same_on_every_path(values: list[str], nested: bool) -> None:
    """Flow lists and mappings of any items, under keys or as items of a list: the
    native path agrees or declines."""
    if nested:
        text = "users:\n" + "".join(f"- {value}\n" for value in values)
    else:
        text = "".join(f"k{i}: {value}\n" for i, value in enumerate(values))
    assert_all_same(text)
