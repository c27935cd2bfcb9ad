"""Safe YAML parsing: YAML 1.2 core scalars, core tags only, positions, alias budget.

Covers ``yamlsafe`` and the modules behind it, ``yamlcompose`` and ``yamlcore``.
Every test runs with both PyYAML parsers: libyaml (when installed) and pure Python.
"""

from __future__ import annotations

import math

import pytest
import yaml
from pydantic import BaseModel

from reconciler.files.sourcemap import ParsedDocument
from reconciler.files.yamlsafe import parse_yaml

PARSERS = [
    pytest.param(
        True,
        id="libyaml",
        marks=pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml"),
    ),
    pytest.param(False, id="pure-python"),
]


@pytest.fixture(params=PARSERS)
def libyaml(request: pytest.FixtureRequest) -> bool:
    """Which PyYAML parser produces the events."""
    return bool(request.param)


def parse(text: str, libyaml: bool) -> ParsedDocument:
    return parse_yaml(text, "f.yaml", libyaml=libyaml)


def messages(doc: ParsedDocument) -> list[str]:
    return [str(problem) for problem in doc.problems]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("yes", "yes", id="yes-is-a-string"),
        pytest.param("No", "No", id="No-is-a-string"),
        pytest.param("on", "on", id="on-is-a-string"),
        pytest.param("true", True, id="true"),
        pytest.param("FALSE", False, id="FALSE"),
        pytest.param("~", None, id="tilde"),
        pytest.param("", None, id="nothing"),
        pytest.param("Null", None, id="Null"),
        pytest.param("0123", 123, id="leading-zero-is-decimal"),
        pytest.param("0o17", 15, id="octal"),
        pytest.param("0x1F", 31, id="hex"),
        pytest.param("-7", -7, id="negative"),
        pytest.param("1.5", 1.5, id="float"),
        pytest.param("1e3", 1000.0, id="exponent"),
        pytest.param("-.inf", -math.inf, id="minus-infinity"),
        pytest.param("1_000", "1_000", id="underscores-are-a-string"),
        pytest.param("2024-01-01", "2024-01-01", id="date-is-a-string"),
        pytest.param("'true'", "true", id="quoted-true-is-a-string"),
        pytest.param('"1"', "1", id="quoted-number-is-a-string"),
        pytest.param("!!str 12", "12", id="str-tag"),
        pytest.param("!!int '12'", 12, id="int-tag-on-quoted"),
        pytest.param("! true", "true", id="non-specific-tag"),
    ],
)
def test_scalars_resolve_by_the_yaml_1_2_core_schema(
    libyaml: bool, text: str, value: object
) -> None:
    """Only true/false are booleans, numbers are decimal/0o/0x, anything else is a string."""
    doc = parse(f"x: {text}\n", libyaml)
    assert doc.problems == []
    assert doc.data == {"x": value}
    assert type(doc.data["x"]) is type(value)


class _Inner(BaseModel):
    code: str | None = None
    limit: int | str = 0


class _Schema(BaseModel):
    text: str
    flag: bool
    texts: tuple[str, ...]
    numbers: tuple[int, ...]
    inner: _Inner | None = None


def test_with_a_schema_plain_scalars_where_it_expects_a_string_are_their_text(
    libyaml: bool,
) -> None:
    """Where the schema's field is str, a plain 00018 or true is its text; elsewhere its value."""
    doc = parse_yaml(
        "text: 00018\nflag: true\ntexts: [1e3, yes, 0x1F, true, ~, '7']\nnumbers: [0042, 1e3]\n"
        "inner: {code: -7, limit: 0042}\nunknown: 0042\n",
        "f.yaml",
        schema=_Schema,
        libyaml=libyaml,
    )
    assert doc.problems == []
    assert doc.data == {
        "text": "00018",
        "flag": True,
        "texts": ("1e3", "yes", "0x1F", "true", None, "7"),
        "numbers": (42, 1000.0),
        "inner": {"code": "-7", "limit": 42},
        "unknown": 42,
    }
    assert type(doc.data["flag"]) is bool


def test_an_alias_takes_the_type_its_own_place_expects(libyaml: bool) -> None:
    """An anchored list of plain numbers is text under a str field and numbers under an int one."""
    doc = parse_yaml(
        "texts: &n [0042, 7]\nnumbers: *n\ntext: &t 1e3\nflag: false\ninner: {limit: *t}\n",
        "f.yaml",
        schema=_Schema,
        libyaml=libyaml,
    )
    assert doc.data["texts"] == ("0042", "7")
    assert doc.data["numbers"] == (42, 7)
    assert (doc.data["text"], doc.data["inner"]["limit"]) == ("1e3", 1000.0)
    assert doc.position(("numbers", 1)) == (2, 10)


_LONG = "A" * 30 + "B" * 30


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            f"x: !!int {_LONG}\n",
            f"f.yaml:1:4: x: '{_LONG[:37]}...' is not a valid !!int",
            id="bad-int",
        ),
        pytest.param(
            f"{_LONG}: 1\n{_LONG}: 2\n",
            f'f.yaml:2:1: ["{_LONG[:37]}..."]: key "{_LONG[:37]}..." appears twice in one '
            "mapping, on lines 1 and 2",
            id="duplicate-key",
        ),
    ],
)
def test_file_text_quoted_in_a_problem_is_a_short_excerpt(
    libyaml: bool, text: str, expected: str
) -> None:
    """A value or key of the file is quoted in a problem as at most 40 characters."""
    assert messages(parse(text, libyaml)) == [expected]


def test_a_syntax_error_quotes_at_most_an_excerpt_of_the_file(libyaml: bool) -> None:
    """What PyYAML quotes from the file in a syntax error (a tag handle) is cut to 40 characters."""
    (message,) = messages(parse(f"x: !{_LONG}!y z\n", libyaml))
    assert message.startswith("f.yaml:1:4: invalid YAML: found undefined tag handle")
    assert _LONG[:38] not in message


def test_nan_is_a_float(libyaml: bool) -> None:
    """.nan is the float NaN, as in the core schema."""
    assert math.isnan(parse("x: .nan\n", libyaml).data["x"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "!!python/object/apply:os.system [echo hi]",
            "tag !!python/object/apply:os.system is not allowed",
            id="python-object-apply",
        ),
        pytest.param(
            "!!python/name:os.system ''", "tag !!python/name:os.system is not allowed", id="name"
        ),
        pytest.param("!!binary aGVsbG8=", "tag !!binary is not allowed", id="binary"),
        pytest.param("!!set {a, b}", "tag !!set is not allowed", id="set"),
        pytest.param("!!timestamp 2024-01-01", "tag !!timestamp is not allowed", id="timestamp"),
        pytest.param("!custom x", "tag !custom is not allowed", id="local-tag"),
        pytest.param(
            "!<tag:example.com,2024:x> y",
            "tag tag:example.com,2024:x is not allowed",
            id="verbatim",
        ),
        pytest.param("!!int abc", "'abc' is not a valid !!int", id="int-tag-on-text"),
        pytest.param("!!bool yes", "'yes' is not a valid !!bool", id="bool-tag-on-yes"),
    ],
)
def test_tags_other_than_core_are_refused_and_never_constructed(
    libyaml: bool, text: str, message: str
) -> None:
    """A node with a non-core tag becomes null and one problem at its place."""
    doc = parse(f"x: {text}\n", libyaml)
    assert doc.data == {"x": None}
    assert len(doc.problems) == 1
    assert doc.problems[0].message.startswith(message)
    assert (doc.problems[0].line, doc.problems[0].column, doc.problems[0].path) == (1, 4, "x")
    assert doc.refused == {("x",)}


def test_positions_of_values_and_keys_are_one_based(libyaml: bool) -> None:
    """Values and mapping keys are recorded at their 1-based line and column."""
    doc = parse("version: 1\nusers:\n  - userName: a\n    emails: [{value: b}]\n", libyaml)
    assert doc.exact_position(()) == (1, 1)
    assert doc.exact_position(("users",)) == (3, 3)
    assert doc.exact_position(("users", 0)) == (3, 5)
    assert doc.exact_position(("users", 0, "userName")) == (3, 15)
    assert doc.key_position(("users", 0, "userName")) == (3, 5)
    assert doc.exact_position(("users", 0, "emails", 0, "value")) == (4, 22)
    assert doc.key_position(("users", 0, "emails", 0, "value")) == (4, 15)


def test_sequences_become_tuples(libyaml: bool) -> None:
    """Sequences are tuples, which the strict models accept as their tuple fields."""
    assert parse("a: [1, [2]]\n", libyaml).data == {"a": (1, (2,))}


def test_a_repeated_key_keeps_the_first_value_and_names_both_lines(libyaml: bool) -> None:
    """The second of two equal keys is reported with both lines and its value dropped."""
    doc = parse("a:\n  b: 1\n  c: 2\n  b: {d: 3}\n", libyaml)
    assert doc.data == {"a": {"b": 1, "c": 2}}
    assert messages(doc) == [
        'f.yaml:4:3: a.b: key "b" appears twice in one mapping, on lines 2 and 4'
    ]
    assert doc.exact_position(("a", "b", "d")) is None


def test_an_alias_reuses_the_anchored_value_and_is_placed_at_the_alias(libyaml: bool) -> None:
    """An alias gives the anchored value; its position is the alias's own."""
    doc = parse("a: &x {k: [1, 2]}\nb: *x\n", libyaml)
    assert doc.data["a"] is doc.data["b"]
    assert doc.exact_position(("b",)) == (2, 4)
    assert doc.position(("b", "k", 1)) == (2, 4)
    assert doc.exact_position(("b", "k")) is None
    assert doc.exact_position(("a", "k", 1)) == (1, 15)


def test_aliases_past_the_budget_stop_parsing(
    libyaml: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nodes reached through aliases count against the alias budget, subtree sizes included."""
    monkeypatch.setenv("RECONCILER_MAX_ALIAS_NODES", "10")
    doc = parse("a: &x [1, 2, 3]\nb: [*x, *x]\nc: *x\n", libyaml)
    assert doc.complete is False
    assert messages(doc) == [
        "f.yaml:3:4: aliases expand to more than 10 nodes; refusing to load what looks like "
        "an alias bomb (billion laughs)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "a: &x [*x]\n",
            "f.yaml:1:8: a[0]: alias *x refers to a node that contains it",
            id="cycle",
        ),
        pytest.param(
            "a: *nope\n", "f.yaml:1:4: a: alias *nope has no anchor &nope before it", id="undefined"
        ),
        pytest.param(
            "a: 1\n<<: {b: 2}\n",
            "f.yaml:2:1: YAML merge keys (<<) are not supported; write the keys out",
            id="merge-key",
        ),
        pytest.param(
            "? [a, b]\n: 1\n", "f.yaml:1:3: a mapping key must be a string", id="list-as-key"
        ),
    ],
)
def test_constructs_outside_plain_data_are_reported(
    libyaml: bool, text: str, expected: str
) -> None:
    """Cycles, undefined aliases, merge keys and non-scalar keys are problems at their place."""
    assert messages(parse(text, libyaml)) == [expected]


def test_a_quoted_double_angle_key_is_an_ordinary_key(libyaml: bool) -> None:
    """Only a plain << is a merge key; a quoted "<<" is just a key."""
    assert parse('"<<": 1\n', libyaml).data == {"<<": 1}


def test_a_second_document_is_refused(libyaml: bool) -> None:
    """One file holds one YAML document."""
    doc = parse("a: 1\n---\nb: 2\n", libyaml)
    assert doc.complete is False
    assert messages(doc) == [
        "f.yaml:2:1: a second YAML document (after ---); put one document in each file"
    ]


def test_deep_nesting_is_refused_without_recursion_errors(libyaml: bool) -> None:
    """Nesting deeper than MAX_DEPTH stops parsing instead of exhausting the stack."""
    assert messages(parse("[" * 200 + "]" * 200, libyaml)) == [
        "f.yaml:1:65: nested more than 64 levels deep"
    ]
    doc = parse("[" * 100_000, libyaml)  # libyaml refuses this itself, past 1000 levels
    assert doc.complete is False
    assert len(doc.problems) == 1


def test_a_tab_in_indentation_gets_a_hint(libyaml: bool) -> None:
    """A tab where YAML wants spaces is a syntax error that says so."""
    (message,) = messages(parse("a:\n\t- x\n", libyaml))
    assert message.startswith("f.yaml:2:1: invalid YAML: ")
    assert message.endswith("; indent with spaces, not tabs")


def test_a_control_character_is_placed_by_character_not_byte(libyaml: bool) -> None:
    """A forbidden character after multi-byte text is reported at its character column."""
    assert messages(parse("ééé: \x01\n", libyaml)) == [
        "f.yaml:1:6: character U+0001 is not allowed in a YAML file"
    ]


def test_an_empty_document_has_no_data_and_no_position(libyaml: bool) -> None:
    """Comments only, or a bare ---, parse to nothing, which the loader calls an empty file."""
    for text in ("", "# comment\n", "---\n"):
        doc = parse(text, libyaml)
        assert (doc.data, doc.position(()), doc.problems, doc.complete) == (None, None, [], True)
