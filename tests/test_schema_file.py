"""The committed JSON Schema matches the models, and every example is a valid desired state."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.desired import render_schema
from reconciler.files.jsonsafe import parse_json
from reconciler.files.loader import SUFFIXES, load_desired
from reconciler.files.yamlsafe import parse_yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schemas" / "desired-state.schema.json"
EXAMPLES = ROOT / "examples"
_SECTIONS = {"version", "target", "policy", "users", "groups"}


def _is_desired_state(path: Path) -> bool:
    """Whether a file under examples/ is desired state rather than, say, a CI workflow.

    Only a file that parses cleanly to a mapping with none of the desired-state keys
    is left out; anything broken is kept, so that loading it reports the problem.
    """
    parse = parse_json if path.suffix.lower() == ".json" else parse_yaml
    doc = parse(path.read_text(encoding="utf-8", errors="replace"), str(path))
    if isinstance(doc.data, dict) and "org" in doc.data:
        return False  # an organisation fixture for `reconciler sandbox seed`
    return bool(doc.problems) or not isinstance(doc.data, dict) or bool(set(doc.data) & _SECTIONS)


def _example_sets() -> list[tuple[str, list[Path]]]:
    """Each example (a directory directly under examples/) as the files it loads together:
    its ``directory/`` when it has one (a file beside it, such as the organisation
    example's ``existing.yaml`` for ``sandbox seed``, is a set of its own), else all."""
    if not EXAMPLES.is_dir():
        return []
    sets = []
    for example in sorted(p for p in EXAMPLES.iterdir() if not p.name.startswith(".")):
        candidates = [example] if example.is_file() else sorted(example.rglob("*"))
        files = [
            p
            for p in candidates
            if p.is_file()
            and p.suffix.lower() in SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(EXAMPLES).parts)
            and _is_desired_state(p)
        ]
        loaded = [p for p in files if (example / "directory") in p.parents] or files
        sets += [(example.name, loaded)] if loaded else []
        sets += [(str(p.relative_to(EXAMPLES)), [p]) for p in files if p not in loaded]
    return sets


def test_committed_schema_is_current() -> None:
    """schemas/desired-state.schema.json is exactly what the models generate today."""
    committed = SCHEMA.read_text(encoding="utf-8") if SCHEMA.exists() else ""
    assert committed == render_schema(), (
        "schemas/desired-state.schema.json is stale; regenerate it with "
        "`reconciler schema > schemas/desired-state.schema.json` and commit it"
    )


def test_there_are_examples_to_check() -> None:
    """examples/ holds at least one desired-state example, so the next test checks something."""
    assert _example_sets()


@pytest.mark.parametrize(
    "files",
    [pytest.param(files, id=name) for name, files in _example_sets()],
)
def test_example_is_a_valid_desired_state(files: list[Path]) -> None:
    """Every example's desired-state files load together without a single problem."""
    state = load_desired(files)
    assert state.users or state.groups
