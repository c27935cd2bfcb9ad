"""The test commands of README.md, .ci/run and docs/contributing.md agree.

CI must run exactly what a contributor is told to run, and the fast loop must be the
first thing docs/contributing.md's "Fast loop" section shows.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_BLOCK = re.compile(r"```sh\n(.*?)\n```", re.DOTALL)


def _first_block_after(text: str, marker: str) -> str:
    """The first ```sh block after the line ``marker``."""
    start = text.index(marker)
    found = _BLOCK.search(text, start)
    assert found is not None, marker
    return found.group(1).strip()


def _readme_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return _first_block_after(readme, "Run the tests in that environment")


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    """.ci/run's last command is the README's test command, character for character."""
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    marker = lines.index("# The README's test command, verbatim:")
    assert lines[marker + 1] == _readme_command()
    assert [line for line in lines[marker + 2 :] if line.strip()] == []


def test_contributing_shows_the_full_command_ci_runs() -> None:
    """docs/contributing.md's full command is the README's test command."""
    text = (ROOT / "docs" / "contributing.md").read_text(encoding="utf-8")
    assert _first_block_after(text, "## The full command CI runs") == _readme_command()


def test_the_fast_loop_leaves_out_the_slow_tests_and_runs_the_dev_profile() -> None:
    """The first block of "Fast loop" runs pytest without the slow tests, under dev."""
    text = (ROOT / "docs" / "contributing.md").read_text(encoding="utf-8")
    fast = _first_block_after(text, "## Fast loop")
    assert "HYPOTHESIS_PROFILE=dev pytest" in fast
    assert '-m "not slow"' in fast
    assert fast != _readme_command()
