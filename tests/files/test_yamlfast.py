"""The lean YAML path: the same data, positions and problems as the full one, for less.

Every document is parsed twice, by ``parse_yaml`` (lean where the file is plain)
and by the full, position-keeping path alone, and the two must agree exactly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from reconciler.desired import DesiredFile
from reconciler.files.sizelimits import SizeLimits
from reconciler.files.sourcemap import ParsedDocument
from reconciler.files.yamlsafe import SchemaChoice, _parse_with_positions, parse_yaml
from tests.hypothesis_profiles import examples
from tests.paths_agree import assert_same

PARSERS = [
    pytest.param(
        True,
        id="libyaml",
        marks=pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml"),
    ),
    pytest.param(False, id="pure-python"),
]

_LIMITS = SizeLimits(file_nodes=200, alias_nodes=50)


@pytest.fixture(params=PARSERS)
def libyaml(request: pytest.FixtureRequest) -> bool:
    """Which PyYAML parser produces the events."""
    return bool(request.param)


def both(
    text: str, libyaml: bool, schema: SchemaChoice = DesiredFile, limits: SizeLimits = _LIMITS
) -> tuple[ParsedDocument, ParsedDocument]:
    lean = parse_yaml(text, "f.yaml", schema=schema, libyaml=libyaml, limits=limits)
    full = _parse_with_positions(text, "f.yaml", schema, libyaml, limits)
    return lean, full


_PLAIN = """\
version: 1
policy: {users: {unmanaged: deactivate, scope: ["*@x.com"]}, limits: {max_deactivations: 10%}}
users:
  - userName: alice@x.com   # a comment
    displayName: 'Alice ''A'' Liddell'
    title: 1e3
    active: true
    name: {givenName: Alice, familyName: "Liddell"}
    emails:
      - value: alice@x.com
        type: work
        primary: TRUE
    enterprise:
      employeeNumber: 00018
      costCenter: ~
      department: |
        R&D
    groups: [eng, 0x1F, .inf, null, '', -7]
  - {userName: bob@x.com, title: , nickName: -.5, locale: tRUE}
groups:
- displayName: eng
  members:
  - alice@x.com
  - ? bob@x.com
unknown: [1, 0o17, true, [2, [3]], {x: 1.5}, ~]
"""

_NOT_PLAIN = [
    pytest.param("a: &x [1]\nb: *x\n", id="alias"),
    pytest.param("a: !!str 1\n", id="tag"),
    pytest.param("a: 1\na: 2\n", id="key-twice"),
    pytest.param("a: 1\n<<: {b: 2}\n", id="merge-key"),
    pytest.param("? [a]\n: 1\n", id="list-as-key"),
    pytest.param("- 1\n", id="root-list"),
    pytest.param("just text\n", id="root-scalar"),
    pytest.param("", id="empty"),
    pytest.param("---\n", id="empty-document"),
    pytest.param("a: 1\n---\nb: 2\n", id="second-document"),
    pytest.param("a: [1\n", id="syntax-error"),
    pytest.param("a:\n\t- x\n", id="tab"),
    pytest.param(f"a: {'9' * 1001}\n", id="number-too-long"),
    pytest.param(f"{'9' * 1001}: 1\n", id="key-too-long"),
    pytest.param("a: " + "[" * 70 + "]" * 70 + "\n", id="too-deep"),
    pytest.param("a: [" + "1, " * 300 + "]\n", id="too-many-nodes"),
    pytest.param("a: \x01\n", id="control-character"),
]


def test_a_plain_file_gets_its_positions_only_when_asked(libyaml: bool) -> None:
    """The lean path records nothing; the first question about a place finds them all."""
    lean, full = both(_PLAIN, libyaml)
    assert lean.positions is None
    assert lean.locate is not None
    assert lean.problems == []
    assert_same(lean, full)
    assert lean.positions is not None


@pytest.mark.parametrize("text", _NOT_PLAIN)
def test_files_that_are_not_plain_read_as_before(libyaml: bool, text: str) -> None:
    """Anything the lean path does not take is read, and reported, exactly as by the full path."""
    assert_same(*both(text, libyaml))


class _Texts(BaseModel):
    texts: tuple[str, ...] = ()


def _pick(data: object) -> type[BaseModel]:
    return _Texts


@pytest.mark.parametrize("schema", [None, _pick], ids=["no-schema", "chosen-from-data"])
def test_without_a_fixed_schema_both_paths_agree(libyaml: bool, schema: SchemaChoice) -> None:
    """Without a schema every plain scalar is its value; a chosen schema applies afterwards."""
    text = "texts: [00018, true, ~, 1e3, x]\nother: [00018, true]\n"
    lean, full = both(text, libyaml, schema)
    assert_same(lean, full)
    expected = ("00018", "true", None, "1e3", "x") if schema else (18, True, None, 1000.0, "x")
    assert lean.data["texts"] == expected


def test_the_documented_samples_take_the_lean_path(libyaml: bool) -> None:
    """The examples load without positions, and agree with the full path."""
    root = Path(__file__).parents[2] / "examples"
    files = sorted(root.rglob("*.yaml"))
    assert files
    for path in files:
        # The default limits: a sample (a CI workflow, say) may well pass 200 nodes.
        lean, full = both(path.read_text(encoding="utf-8"), libyaml, None, SizeLimits())
        assert lean.locate is not None, path
        assert_same(lean, full)


_YAMLISH = st.text(alphabet="ab1t~.-: \n[]{},'\"#&*!?<|", max_size=60)


@settings(max_examples=examples(300), deadline=None)
@given(text=_YAMLISH)
def test_any_text_reads_the_same_on_both_paths(text: str) -> None:
    """Whatever the text, the lean path gives what the full path gives, or leaves it to it."""
    assert_same(*both(text, yaml.__with_libyaml__))


_DATA = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, min_size=1, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=examples(200), deadline=None)
@given(
    data=st.dictionaries(st.text(max_size=6), _DATA, min_size=1, max_size=4),
    flow=st.sampled_from([None, True, False]),
)
def test_dumped_data_reads_the_same_on_both_paths(data: dict[str, object], flow: bool) -> None:
    """Whatever PyYAML writes, in any style, both paths read alike, positions included."""
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    lean, full = both(text, yaml.__with_libyaml__)
    assert_same(lean, full)
