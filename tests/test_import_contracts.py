"""The import-linter contracts in pyproject.toml bite: each forbidden import, injected
into a copy of the package, makes ``lint-imports`` fail on that copy.

A contract that names a module grimp never sees (or a layer nobody checks) passes
whatever the code does; the only proof that it guards anything is a run that breaks it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _copy_project(tmp_path: Path) -> Path:
    """Copy the package and its pyproject.toml, nothing else, to a fresh directory."""
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copytree(
        ROOT / "reconciler", copy / "reconciler", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def _lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports in ``project``: its CLI puts the working directory first on the path."""
    script = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run(
        [sys.executable, "-c", script, "--no-cache"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )


def _inject(project: Path, module: str, line: str) -> None:
    """Append ``line`` to a module of the copy (at the end, after ``from __future__``)."""
    path = project / module
    path.write_text(path.read_text(encoding="utf-8") + "\n" + line + "\n", encoding="utf-8")


def test_the_untouched_copy_keeps_every_contract(tmp_path: Path) -> None:
    """lint-imports passes on a plain copy of the package, so a failure below is the import's."""
    result = _lint_imports(_copy_project(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


_PURE_CORE = "The pure core never does I/O"
_SANS_IO = "The SCIM protocol is sans-I/O"
_STAGES = "The planner's stages"

_INJECTIONS = [
    *(
        pytest.param("reconciler/planner/context.py", f"import {name}", _PURE_CORE, id=name)
        for name in (
            "socket",
            "subprocess",
            "sqlite3",
            "urllib.parse",
            "logging",
            "shutil",
            "tempfile",
            "os",
            "pathlib",
            "http.client",
            "time",
            "random",
            "concurrent.futures",
            "importlib",
            "httpx",
            "structlog",
        )
    ),
    pytest.param(
        "reconciler/planner/users.py",
        "def _later() -> None:\n    import socket  # noqa: F401",
        _PURE_CORE,
        id="socket-inside-a-function",
    ),
    pytest.param("reconciler/plan.py", "from os import environ", _PURE_CORE, id="plan-os"),
    pytest.param("reconciler/desired.py", "import logging", _PURE_CORE, id="desired-logging"),
    pytest.param("reconciler/scim/protocol.py", "import httpx", _SANS_IO, id="protocol-httpx"),
    pytest.param(
        "reconciler/scim/protocol.py", "import structlog", _SANS_IO, id="protocol-structlog"
    ),
    pytest.param("reconciler/scim/paging.py", "import httpx", _SANS_IO, id="paging-httpx"),
    pytest.param("reconciler/scim/writes.py", "import structlog", _SANS_IO, id="writes-structlog"),
    pytest.param(
        "reconciler/scim/paging.py",
        "from reconciler.scim import client",
        _SANS_IO,
        id="paging-client",
    ),
    pytest.param(
        "reconciler/planner/users.py",
        "from reconciler.planner import groups",
        _STAGES,
        id="users-reads-groups",
    ),
    pytest.param(
        "reconciler/planner/match_users.py",
        "from reconciler.planner import users",
        _STAGES,
        id="match-reads-users",
    ),
    pytest.param(
        "reconciler/planner/groups.py",
        "from reconciler.planner import access",
        _STAGES,
        id="groups-reads-access",
    ),
    pytest.param(
        "reconciler/planner/access.py",
        "from reconciler.planner import review",
        _STAGES,
        id="access-reads-review",
    ),
]


@pytest.mark.parametrize(("module", "line", "contract"), _INJECTIONS)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    """Each import the contracts forbid, added to a copy, fails lint-imports on that contract."""
    project = _copy_project(tmp_path)
    _inject(project, module, line)
    result = _lint_imports(project)
    assert result.returncode != 0, result.stdout + result.stderr
    broken = [row for row in result.stdout.splitlines() if row.endswith(" BROKEN")]
    assert broken, result.stdout + result.stderr
    assert all(row.startswith(contract) for row in broken), broken


def test_a_new_planner_module_must_take_a_stage(tmp_path: Path) -> None:
    """A planner module outside the stage order fails the exhaustive layers contract."""
    project = _copy_project(tmp_path)
    (project / "reconciler/planner/newstage.py").write_text('"""A stage."""\n')
    result = _lint_imports(project)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "newstage" in result.stdout + result.stderr
