"""SCIM bodies decoded natively are exactly what ``json.loads`` makes of them (differential)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.errors import ProtocolError
from reconciler.live import JsonFloat
from reconciler.scim.jsonbody import loads
from reconciler.scim.protocol import Answer, check_list

_text = st.text(st.characters(exclude_categories=()))  # any code point, lone surrogates too
_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)  # beyond 64 bits too
    | st.floats()  # NaN and the infinities too: json.dumps writes them as constants
    | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)


def _same(a: Any, b: Any) -> bool:
    """Equal, and floats (NaN too) equal floats of the same text, each a ``JsonFloat``."""
    if isinstance(b, float):
        return type(a) is JsonFloat and (repr(a) == repr(b) or (math.isnan(a) and math.isnan(b)))
    if isinstance(b, list):
        return type(a) is list and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(b, dict):
        return type(a) is dict and list(a) == list(b) and all(map(_same, a.values(), b.values()))
    return type(a) is type(b) and a == b


def _outcome(decode: Any, body: bytes) -> tuple[str, Any]:
    try:
        return "value", decode(body)
    except (ValueError, RecursionError) as error:
        return type(error).__name__, str(error)


@given(_values, st.booleans(), st.sampled_from(["utf-8", "utf-16", "utf-8-sig"]))
def test_a_body_decodes_as_json_loads_decodes_it(value: Any, ascii: bool, encoding: str) -> None:
    """Any JSON text, in any encoding ``json.loads`` detects, decodes to the same data:
    integers exact, floats the same numbers (as ``JsonFloat``), text as it was."""
    body = json.dumps(value, ensure_ascii=ascii).encode(encoding, "surrogatepass")
    assert _same(loads(body), json.loads(body))


@given(
    st.lists(
        st.sampled_from(['{"a":', "[", "]", "}", ",", '"x"', '"\\ud800"', "1", "1e400", "-0"])
        | st.sampled_from(["NaN", "tru", "\ufeff", "\n", "\x00", '"\x7f"', "01", '"\\q"', "null"])
        | st.binary(max_size=2).map(lambda b: b.decode("latin-1")),
        max_size=8,
    )
)
def test_odd_bodies_decode_or_fail_as_json_loads_does(parts: list[str]) -> None:
    """Bodies that are not quite JSON (or not UTF-8) give the same data, or the same
    error with the same message, as ``json.loads``."""
    body = "".join(parts).encode("latin-1", "replace")
    mine, theirs = _outcome(loads, body), _outcome(json.loads, body)
    if mine[0] == theirs[0] == "value":
        assert _same(mine[1], theirs[1])
    else:
        assert mine == theirs


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 5000 + b"]" * 5000, id="deep"),
        pytest.param('{"a": 1}'.encode("utf-16"), id="utf-16"),
        pytest.param(b'\xef\xbb\xbf{"a": 1}', id="bom"),
        pytest.param(b'{"a": "\xff"}', id="not-utf-8"),
        pytest.param(b'{"a": 1, "a": 2}', id="duplicate-keys"),
        pytest.param(b'{"a": NaN, "b": -Infinity, "c": 1e400}', id="constants"),
    ],
)
def test_hostile_bodies_are_taken_as_json_loads_takes_them(body: bytes) -> None:
    """Deep nesting, other encodings, a byte-order mark, bytes that are not UTF-8,
    duplicate keys, non-finite numbers: decoded or refused exactly as before."""
    mine, theirs = _outcome(loads, body), _outcome(json.loads, body)
    assert mine[0] == theirs[0]
    assert _same(mine[1], theirs[1]) if mine[0] == "value" else mine == theirs


def test_a_page_keeps_integers_beyond_64_bits_exact() -> None:
    """A listing page decoded natively keeps an integer beyond 64 bits an exact int."""
    body = b'{"totalResults": 1, "Resources": [{"id": "1", "n": %d}]}' % (2**70 + 1)
    page = check_list(Answer(status=200, headers={}, body=body, what="GET /Users"))
    (resource,) = page.resources
    assert resource["n"] == 2**70 + 1
    assert type(resource["n"]) is int


def test_a_page_that_is_not_json_fails_with_the_standard_librarys_message() -> None:
    """The error names what ``json.loads`` says about the body, as it always did."""
    answer = Answer(status=200, headers={}, body=b'{"Resources": [', what="GET /Users")
    with pytest.raises(ProtocolError, match=r"not valid JSON \(Expecting value"):
        check_list(answer)


def test_without_msgspec_bodies_decode_as_json_loads_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """An install without msgspec takes ``json.loads`` for every body, floats still marked."""
    monkeypatch.setattr("reconciler.scim.jsonbody._DECODE", None)
    body = b'{"n": %d, "f": 1.5, "s": "\\u00e9"}' % 2**70
    assert _same(loads(body), json.loads(body))
    with pytest.raises(json.JSONDecodeError):
        loads(b'{"a": ')
