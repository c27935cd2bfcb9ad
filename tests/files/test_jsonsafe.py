"""JSON parsing with positions: exactly RFC 8259, duplicate keys reported."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.files.jsonsafe import parse_json
from reconciler.files.sourcemap import ParsedDocument


def parse(text: str) -> ParsedDocument:
    return parse_json(text, "f.json")


def messages(doc: ParsedDocument) -> list[str]:
    return [str(problem) for problem in doc.problems]


def test_tabs_escapes_and_numbers_read_as_json() -> None:
    """Tabs between tokens, \\/ and \\u escapes, ints and floats all read as json.loads would."""
    doc = parse(
        '{\n\t"a\\/b": "\\ud83d\\ude00\\t",\r\n\t"n": [0, -1, 1.5, 2e3, true, false, null]\n}'
    )
    assert doc.problems == []
    assert doc.data == {"a/b": "\U0001f600\t", "n": (0, -1, 1.5, 2000.0, True, False, None)}


def test_positions_of_values_and_keys_are_one_based() -> None:
    """Every value and every key is recorded at its 1-based line and column; a tab is one column."""
    doc = parse('{"users": [\n\t{"userName": "a"}\n]}')
    assert doc.exact_position(()) == (1, 1)
    assert doc.exact_position(("users",)) == (1, 11)
    assert doc.exact_position(("users", 0)) == (2, 2)
    assert doc.exact_position(("users", 0, "userName")) == (2, 15)
    assert doc.key_position(("users", 0, "userName")) == (2, 3)


def test_a_repeated_key_keeps_the_first_value_and_names_both_lines() -> None:
    """json.loads silently keeps the last of two equal keys; here both lines are named."""
    doc = parse('{"a": 1,\n "b": 2,\n "a": {"c": 3}}')
    assert doc.data == {"a": 1, "b": 2}
    assert messages(doc) == ['f.json:3:2: a: key "a" appears twice in one object, on lines 1 and 3']
    assert doc.exact_position(("a", "c")) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            '{"a": 1,}',
            "1:9: invalid JSON: expected a key in double quotes, found '}'",
            id="trailing-comma",
        ),
        pytest.param('{"a": NaN}', "1:7: invalid JSON: expected a value, found 'N'", id="nan"),
        pytest.param(
            "{'a': 1}",
            '1:2: invalid JSON: expected a key in double quotes, found "\'"',
            id="single-quotes",
        ),
        pytest.param(
            '{"a": 1} // c',
            "1:10: invalid JSON: more text after the end of the document",
            id="comment",
        ),
        pytest.param('{"a": "b', "1:7: invalid JSON: unterminated string", id="unterminated"),
        pytest.param('{"a": "\\q"}', "1:8: invalid JSON: invalid \\escape", id="bad-escape"),
        pytest.param(
            '{"a": "\x01"}', "1:8: invalid JSON: invalid control character", id="control-char"
        ),
        pytest.param(
            '{"a": 01}', "1:8: invalid JSON: expected ',' or '}', found '1'", id="leading-zero"
        ),
        pytest.param(
            '{"a" 1}', "1:6: invalid JSON: expected ':' after the key, found '1'", id="no-colon"
        ),
        pytest.param(
            "[1, 2",
            "1:6: invalid JSON: the file ends where ',' or ']' was expected",
            id="truncated",
        ),
        pytest.param("[" * 100, "1:65: nested more than 64 levels deep", id="too-deep"),
    ],
)
def test_text_that_is_not_json_is_one_problem_at_its_place(text: str, expected: str) -> None:
    """Anything json.loads would refuse (and NaN, which it accepts) stops with one problem."""
    doc = parse(text)
    assert doc.complete is False
    assert doc.data is None
    assert messages(doc) == [f"f.json:{expected}"]


def test_whitespace_only_has_no_data_and_no_position() -> None:
    """An empty JSON file parses to nothing, which the loader calls an empty file."""
    doc = parse(" \n\t")
    assert (doc.data, doc.position(()), doc.problems, doc.complete) == (None, None, [], True)


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _tuples(value: object) -> object:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


@given(value=_JSON, indent=st.sampled_from([None, 1, "\t"]))
def test_agrees_with_json_loads_on_valid_json(value: object, indent: int | str | None) -> None:
    """Whatever json.dumps writes, parse_json reads back the same data (arrays as tuples)."""
    doc = parse(json.dumps(value, indent=indent))
    assert doc.problems == []
    assert doc.data == _tuples(value)
