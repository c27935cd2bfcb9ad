"""The native YAML path: the same data, positions and problems as the event paths.

Each document is parsed by ``parse_yaml`` (native where the file is in the subset),
by the lean event path alone (``native=False``) and by the full, position-keeping
path alone; all three must agree exactly. Documents the native parser would read
differently must be left to the event paths.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.desired import DesiredFile
from reconciler.errors import DesiredStateError
from reconciler.files import yamlsafe
from reconciler.files.loader import load_desired
from reconciler.files.plainscalars import schema_expects
from reconciler.files.sizelimits import SizeLimits
from reconciler.files.sourcemap import ParsedDocument
from reconciler.files.yamlnative import available, load_native
from reconciler.files.yamlsafe import SchemaChoice, _parse_with_positions, parse_yaml
from tests.paths_agree import assert_same, typed

pytestmark = pytest.mark.skipif(not available(), reason="yaml-rs is not installed")

_LIMITS = SizeLimits(file_nodes=2_000, alias_nodes=50)
_SHAPE = schema_expects(DesiredFile)


def three(
    text: str, schema: SchemaChoice = DesiredFile, limits: SizeLimits = _LIMITS
) -> tuple[ParsedDocument, ParsedDocument, ParsedDocument]:
    libyaml = yaml.__with_libyaml__
    native = parse_yaml(text, "f.yaml", schema=schema, libyaml=libyaml, limits=limits)
    events = parse_yaml(text, "f.yaml", schema=schema, libyaml=libyaml, native=False, limits=limits)
    full = _parse_with_positions(text, "f.yaml", schema, libyaml, limits)
    return native, events, full


def assert_all_same(text: str, schema: SchemaChoice = DesiredFile) -> None:
    native, events, full = three(text, schema)
    assert_same(native, full)
    assert_same(events, full)
    if schema is None or isinstance(schema, type):  # lists at the root, read in slices
        shape = schema_expects(schema)
        whole = load_native(text, shape, _LIMITS.file_nodes, items_per_parse=10**9)
        for per_parse in (1, 2):
            sliced = load_native(text, shape, _LIMITS.file_nodes, items_per_parse=per_parse)
            assert typed(sliced) == typed(whole)


sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from load_bench import write_directory  # noqa: E402


def test_an_exported_directory_takes_the_native_path(tmp_path: Path) -> None:
    """Files as the benchmark (and ``reconciler export``) writes them are read natively, alike."""
    write_directory(tmp_path, 60, 1, "yaml")
    for path in sorted(tmp_path.iterdir()):
        text = path.read_text(encoding="utf-8")
        assert load_native(text, _SHAPE, SizeLimits().file_nodes) is not None, path.name
        native, _, full = three(text, limits=SizeLimits())
        assert native.positions is None
        assert native.locate is not None
        assert_same(native, full)


_IN_SUBSET = """\
# a comment
version: 1
policy:
  users:
    unmanaged: deactivate   # trailing comment
    scope:
    - '*@x.com'
  limits:
    max_deactivations: 10%
users:
- userName: alice@x.com
  displayName: "Alice O'Hara, R&D [lead]"
  title: Null Island
  nickName: a#b:c
  active: true
  name: {}
  emails: []
  enterprise:
    employeeNumber: '00018'
    costCenter: ~
    manager:
- userName: bob@x.com
  title: null
  locale: tRUE
  emails:
  -
    value: bob@x.com
    primary: FALSE
groups:
- displayName: eng
  members:
  - alice@x.com
  - bob@x.com
  - ''
unknown:
- - -12
  - +7
  - true
- 0018
"""


def test_a_file_in_the_subset_reads_alike_on_every_path() -> None:
    """Quotes, comments, empty collections, core words and integers: native, and the same."""
    assert load_native(_IN_SUBSET, _SHAPE, _LIMITS.file_nodes) is not None
    assert_all_same(_IN_SUBSET)
    native, _, _ = three(_IN_SUBSET)
    assert native.data["users"][0]["enterprise"]["employeeNumber"] == "00018"
    assert native.data["unknown"] == ((-12, 7, True), 18)


_LEFT_TO_EVENTS = [
    pytest.param(
        "users:\n- enterprise:\n    employeeNumber: 00018\n", id="integer-where-text-is-expected"
    ),
    pytest.param("users:\n- userName: x\n  title: true\n", id="boolean-where-text-is-expected"),
    pytest.param("groups:\n- displayName: g\n  members:\n  - 12\n", id="integer-as-text-item"),
    pytest.param("a: 0x1F\n", id="hexadecimal"),
    pytest.param("a: 0X1F\n", id="hexadecimal-capital-x"),
    pytest.param("a: 0O17\n", id="octal-capital-o"),
    pytest.param("a: 1_000\n", id="underscores"),
    pytest.param("a: 0b11\n", id="binary"),
    pytest.param("a: 2024-01-01\n", id="date"),
    pytest.param("a: 1e3\n", id="float"),
    pytest.param("a: .inf\n", id="infinity"),
    pytest.param(f"a: {'9' * 19}\n", id="long-integer"),
    pytest.param(f"a: {'9' * 1001}\n", id="number-too-long"),
    pytest.param("a: yes\nb: 1st floor\n", id="digit-first-text"),
    pytest.param("a: &x [1]\nb: *x\n", id="alias"),
    pytest.param("a: &x 1\nb: *x\n", id="scalar-alias"),
    pytest.param("a: !foo 5\n", id="unknown-tag"),
    pytest.param("a: !!str 5\n", id="core-tag"),
    pytest.param("a: 1\na: 2\n", id="key-twice"),
    pytest.param("users:\n- x\ngroups: []\nusers:\n- y\n", id="root-list-twice"),
    pytest.param("users:\n- a: 1\n- a: 1\n  a: 2\n", id="key-twice-in-a-later-item"),
    pytest.param("users:\n- a\nb: 1\n- c\n", id="item-after-a-root-key"),
    pytest.param("a: 1\n<<: {b: 2}\n", id="merge-key"),
    pytest.param("true: 1\n", id="boolean-key"),
    pytest.param("1: x\n", id="integer-key"),
    pytest.param("'a': 1\n", id="quoted-key"),
    pytest.param("- 1\n", id="root-list"),
    pytest.param("", id="empty"),
    pytest.param("---\na: 1\n", id="document-start"),
    pytest.param("a: 1\n---\nb: 2\n", id="second-document"),
    pytest.param("a: [1, 2]\n", id="flow-list"),
    pytest.param("a: |\n  x\n", id="block-scalar"),
    pytest.param("a: x\n  y\n", id="multi-line-plain"),
    pytest.param('a: "x\\ty"\n', id="escape"),
    pytest.param("a: 'it''s'\n", id="quote-in-single-quotes"),
    pytest.param("a:\n\t- x\n", id="tab"),
    pytest.param("a: x\r\nb: y\r\n", id="carriage-returns"),
    pytest.param("a: x # \u2028b: y\n", id="line-separator-in-comment"),
    pytest.param("a: x\u0085y\n", id="next-line"),
    pytest.param("a: \x01\n", id="control-character"),
    pytest.param("a: b: c\n", id="syntax-error"),
    pytest.param("a:\n  b: 1\n c: 2\n", id="bad-indentation"),
    pytest.param("a:\n   b: 1\n  c: 2\n", id="bad-indentation-deeper"),
    pytest.param("a: b\n- c\n", id="item-after-key"),
    pytest.param("".join(f"{' ' * i}k{i}:\n" for i in range(70)), id="too-deep"),
    pytest.param("a:\n" + "- x\n" * 700, id="too-many-nodes"),
]


@pytest.mark.parametrize("text", _LEFT_TO_EVENTS)
def test_what_the_native_parser_may_misread_is_left_to_the_event_paths(text: str) -> None:
    """Outside the subset the native path declines, and the file reads, or fails, as before."""
    assert load_native(text, _SHAPE, _LIMITS.file_nodes) is None
    assert_all_same(text)


def test_without_a_schema_core_values_are_read_natively() -> None:
    """Without a schema no place is text: integers and booleans are values on every path."""
    text = "texts:\n- 00018\n- true\n- ~\nother: -5\n"
    assert load_native(text, schema_expects(None), _LIMITS.file_nodes) is not None
    assert_all_same(text, None)
    native, _, _ = three(text, None)
    assert native.data == {"texts": (18, True, None), "other": -5}


def test_a_schema_chosen_from_the_data_leaves_the_file_to_the_events() -> None:
    """The chooser needs plain scalars' text before it picks: the event path keeps it."""
    text = "texts:\n- 00018\n"
    native, _, full = three(text, lambda data: DesiredFile)
    assert native.locate is not None
    assert_same(native, full)


_KEYS = ["version", "users", "groups", "members", "userName", "title", "employeeNumber", "active"]
_KEYS += ["primary", "emails", "value", "a", "b-c", "true", "x_1"]
_VALUES = [
    "x", "Alice B", "a:b", "a#b", "O'Brien", "[x]", "x,y", "tRUE", "Null Island", "é", "😀",
    "true", "False", "NULL", "~", "null", "0", "-12", "+7", "00018", "1e3", "0x1F", "1_0",
    "'q'", "' q '", '"d"', "''", "[]", "{}", "&a", "*a", "!t", "|", "-", "x #c", "x ", ": x",
    "x]", "a{b}c", "b,[c]", "a@b", "a  b", "a - b", "-x", "a:", "10%", "%x", "? x", "x: y",
]  # fmt: skip
_LINES = st.builds(
    lambda indent, dashes, key, value, tail: " " * indent + "- " * dashes + key + value + tail,
    st.integers(0, 6),
    st.integers(0, 2),
    st.sampled_from(["", *(f"{k}:" for k in _KEYS)]),
    st.sampled_from(["", *(f" {v}" for v in _VALUES)]),
    st.sampled_from(["", "", "", " # c", "  "]),
)


@settings(max_examples=1500, deadline=None)
@given(lines=st.lists(_LINES, max_size=12), end=st.sampled_from(["\n", ""]))
def test_any_block_text_reads_the_same_on_every_path(lines: list[str], end: str) -> None:
    """Lines in block style, well formed or not: the native path agrees or declines."""
    assert_all_same("\n".join(lines) + end)


_TREES = st.recursive(
    st.sampled_from(_VALUES),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_KEYS), inner, max_size=3)
    ),
    max_leaves=20,
)


def _render(draw: st.DrawFn, value: object, indent: int) -> list[str]:
    """The lines of a non-empty mapping or list in block style, its layout drawn at random."""
    lines: list[str] = []
    pairs = value.items() if isinstance(value, dict) else [("-", item) for item in value]  # type: ignore[attr-defined]
    for key, item in pairs:
        head = " " * indent + ("-" if key == "-" else f"{key}:")
        if not isinstance(item, dict | list) or not item:
            lines.append(f"{head} {item}" if isinstance(item, str) else f"{head} {item or '[]'}")
            continue
        compact = key == "-" and draw(st.booleans())  # "- key: value", "- - item"
        step = draw(st.integers(0 if isinstance(item, list) and key != "-" else 1, 3))
        body = _render(draw, item, indent + (2 if compact else step))
        if compact:
            body[0] = head + " " + body[0][indent + 2 :]
        else:
            lines.append(head)
        lines.extend(body)
    return lines


@st.composite
def _block_documents(draw: st.DrawFn) -> str:
    """A document in block style, perhaps with one line moved, doubled or dropped."""
    root = draw(st.dictionaries(st.sampled_from(_KEYS), _TREES, min_size=1, max_size=4))
    lines = _render(draw, root, 0)
    if draw(st.booleans()):
        at = draw(st.integers(0, len(lines) - 1))
        change = draw(st.sampled_from(["indent", "outdent", "double", "drop"]))
        line = lines[at]
        if change == "indent":
            lines[at] = " " + line
        elif change == "outdent" and line.startswith(" "):
            lines[at] = line[1:]
        elif change == "double":
            lines.insert(at, line)
        else:
            del lines[at]
    return "\n".join(lines) + draw(st.sampled_from(["\n", ""]))


@settings(max_examples=1500, deadline=None)
@given(text=_block_documents())
def test_block_documents_read_the_same_on_every_path(text: str) -> None:
    """Nested block layouts, and slips in their indentation: the native path agrees or declines."""
    assert_all_same(text)


_SCALARS = st.sampled_from(_VALUES[:20]) | st.integers(-(10**20), 10**20) | st.booleans()
_SCALARS |= st.none() | st.text(st.characters(codec="utf-8"), max_size=6)
_DATA = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=700, deadline=None)
@given(data=st.dictionaries(st.sampled_from(_KEYS), _DATA, min_size=1, max_size=5))
def test_dumped_block_data_reads_the_same_on_every_path(data: dict[str, object]) -> None:
    """Whatever PyYAML writes in block style, all paths read alike, positions included."""
    text = yaml.safe_dump(data, default_flow_style=False, allow_unicode=True, sort_keys=False)
    assert_all_same(text)


def _problems(path: Path, native: bool) -> list[str]:
    """What loading ``path`` reports, the native path allowed or not."""
    real = yamlsafe.load_native
    taken: list[bool] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        data = real(*args, **kwargs) if native else None
        taken.append(data is not None)
        return data

    with patch.object(yamlsafe, "load_native", spy):
        try:
            load_desired([path])
        except DesiredStateError as exc:
            return [str(problem) for problem in exc.problems] + [f"native: {taken}"]
    return [f"native: {taken}"]


_USER_FIELDS: dict[str, list[str]] = {
    "userName": ["alice@x.com", "bob@x.com", "''", "not an email", "true", "~"],
    "active": ["true", "yes", "'true'", "0", "null"],
    "title": ["Engineer", "''", "Null Island", "tRUE"],
    "emails": ["[]", "{}", "x@y.com"],
    "nickName": ["a#b", "[]"],
    "colour": ["blue"],
}


@st.composite
def _desired_files(draw: st.DrawFn) -> str:
    """A desired-state file in simple block style, each field valid or not."""
    users = [
        {
            key: draw(st.sampled_from(values))
            for key, values in _USER_FIELDS.items()
            if draw(st.booleans())
        }
        for _ in range(draw(st.integers(1, 4)))
    ]
    root = {"version": draw(st.sampled_from(["1", "2", "'1'"])), "users": users}
    if draw(st.booleans()):
        root["groups"] = [{"displayName": "eng", "members": ["alice@x.com", "carol@x.com"]}]
    return "\n".join(_render(draw, root, 0)) + "\n"


@settings(max_examples=150, deadline=None)
@given(text=_desired_files())
def test_a_directory_reports_the_same_problems_read_natively_or_not(text: str) -> None:
    """Validation and cross-file problems: the same messages, lines and columns, either way."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "users.yaml"
        path.write_text(text, encoding="utf-8")
        native, events = _problems(path, True), _problems(path, False)
    assert native[:-1] == events[:-1]
    assert events[-1] == "native: [False]"


def test_problems_of_a_file_read_natively_are_where_they_were(tmp_path: Path) -> None:
    """A file in the subset with problems is read natively, and reported as before."""
    path = tmp_path / "users.yaml"
    path.write_text(
        "version: 1\nusers:\n- userName: alice@x.com\n  active: yes\n  colour: blue\n"
        "- userName: alice@x.com\ngroups:\n- displayName: eng\n  members:\n  - carol@x.com\n",
        encoding="utf-8",
    )
    native, events = _problems(path, True), _problems(path, False)
    assert native[-1] == "native: [True]"
    assert native[:-1] == events[:-1]
    assert len(native) > 3
