"""The lean JSON path: json.loads where it reads a file as jsonsafe does, and nowhere else.

Every document is parsed twice, by ``parse_json`` (lean where it can be) and by
the position-keeping parser alone, and the two must agree exactly.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.files.jsonsafe import _parse_with_positions, parse_json
from reconciler.files.sizelimits import SizeLimits
from reconciler.files.sourcemap import ParsedDocument
from tests.hypothesis_profiles import examples
from tests.paths_agree import assert_same

_MAX_VALUES = 200


def both(text: str) -> tuple[ParsedDocument, ParsedDocument]:
    lean = parse_json(text, "f.json", limits=SizeLimits(file_nodes=_MAX_VALUES))
    full = _parse_with_positions(text, ParsedDocument("f.json"), _MAX_VALUES)
    return lean, full


_PLAIN = (
    '{"version": 1, "users": [\n'
    '\t{"userName": "a@x.com", "emails": [{"value": "a@x.com", "primary": true}],\r\n'
    '  "name": {}, "groups": [], "n": [0, -1.5e3, null, false, [[1], {"k": "\\u00e9\\n"}]]}\n'
    '], "empty": {}, "nested": [[], [[]]]}'
)

_NOT_PLAIN = [
    pytest.param('{"a": 1, "a": 2}', id="key-twice"),
    pytest.param('{"a": {"b": 1, "b": {"c": 2}}}', id="key-twice-inside"),
    pytest.param('{"a": NaN}', id="nan"),
    pytest.param('{"a": -Infinity}', id="minus-infinity"),
    pytest.param('{"a": ' + "9" * 5000 + "}", id="number-too-long"),
    pytest.param('{"a": ' + "[" * 65 + "]" * 65 + "}", id="too-deep"),
    pytest.param('{"a": ' + "[" * 63 + "]" * 63 + "}", id="just-deep-enough"),
    pytest.param('{"a": [' + "{}, " * 100 + '{"b": [' + "1," * 120 + "1]}]}", id="too-many"),
    pytest.param('{"a": "' + "," * 300 + '"}', id="commas-in-a-string"),
    pytest.param('["a"]', id="root-array"),
    pytest.param('"a"', id="root-string"),
    pytest.param(" \n", id="empty"),
    pytest.param('{"a": 1,}', id="trailing-comma"),
    pytest.param('{"a": 1} {}', id="more-after"),
    pytest.param('\ufeff{"a": 1}', id="byte-order-mark"),
    pytest.param('{"a": "\x01"}', id="control-character"),
]


def test_a_plain_file_gets_its_positions_only_when_asked() -> None:
    """The lean path records nothing; the first question about a place finds them all."""
    lean, full = both(_PLAIN)
    assert lean.positions is None
    assert lean.locate is not None
    assert lean.problems == []
    assert_same(lean, full)
    assert lean.positions is not None


@pytest.mark.parametrize("text", _NOT_PLAIN)
def test_files_json_loads_would_read_differently_read_as_before(text: str) -> None:
    """What json.loads accepts but jsonsafe does not, or counts otherwise, goes to jsonsafe."""
    assert_same(*both(text))


_DATA = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=25,
)


@settings(max_examples=examples(200), deadline=None)
@given(
    data=st.dictionaries(st.text(max_size=6), _DATA, max_size=4),
    indent=st.sampled_from([None, 0, 2, "\t"]),
    ascii_only=st.booleans(),
)
def test_dumped_data_reads_the_same_on_both_paths(
    data: dict[str, object], indent: int | str | None, ascii_only: bool
) -> None:
    """Whatever json.dumps writes, both paths read alike, positions included."""
    assert_same(*both(json.dumps(data, indent=indent, ensure_ascii=ascii_only)))


@settings(max_examples=examples(300), deadline=None)
@given(text=st.text(alphabet='{}[]:," \n\\a1-eE.tnul', max_size=40))
def test_any_text_reads_the_same_on_both_paths(text: str) -> None:
    """Whatever the text, the lean path gives what jsonsafe gives, or leaves it to it."""
    assert_same(*both(text))
