"""``validate`` checks the files for the target ``plan`` would use (issue 16, item 7)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.helpers import reconciler, write

WITH_LOCALE = """
version: 1
users:
  - userName: ann@example.com
    locale: en-GB
"""
LOCALE_PROBLEM = "users.yaml:4:5: users[0].locale: the Atlassian API has no locale attribute"


def _files(tmp_path: Path, text: str = WITH_LOCALE) -> Path:
    return write(tmp_path / "files", "users.yaml", text).parent


def test_validate_refuses_what_plan_refuses_on_the_default_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no target anywhere, validate checks for the sandbox (Atlassian) as plan does:
    a managed locale is the same problem at the same place, and no directory is made."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RECONCILER_TARGET", raising=False)
    files = _files(tmp_path)
    validated = reconciler("validate", str(files))
    assert validated.exit_code == 1
    assert LOCALE_PROBLEM in validated.stderr
    assert "OK" not in validated.stdout
    assert not (tmp_path / ".reconciler").exists()  # nothing was opened
    planned = reconciler("plan", str(files), "--target", f"sandbox:{tmp_path / 's.db'}")
    assert planned.exit_code == 1
    assert LOCALE_PROBLEM in planned.stderr


def test_validate_with_a_generic_target_accepts_locale(tmp_path: Path) -> None:
    """--target of a generic SCIM server: locale is an attribute it has, and the OK line
    says which target and dialect the files were checked for."""
    run = reconciler("validate", str(_files(tmp_path)), "--target", "https://scim.example.com/v2")
    assert run.exit_code == 0, run.stderr
    assert run.stdout == (
        "OK: 1 user and 0 groups are valid for https://scim.example.com/v2 (dialect generic).\n"
    )


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ("target: {url: https://scim.example.com/v2}", 0),
        ("target: {url: https://scim.example.com/v2, dialect: atlassian}", 1),
        ("target: {url: 'https://api.atlassian.com/scim/directory/abc'}", 1),
    ],
)
def test_validate_uses_the_files_target(tmp_path: Path, target: str, code: int) -> None:
    """The files' own target decides the dialect, as it does for plan."""
    run = reconciler("validate", str(_files(tmp_path, WITH_LOCALE + target + "\n")))
    assert run.exit_code == code, run.stdout + run.stderr
    assert (LOCALE_PROBLEM in run.stderr) == (code == 1)


def test_a_target_url_whose_variable_is_unset_is_checked_as_written(tmp_path: Path) -> None:
    """A files' URL naming a variable that is not set (a pre-commit hook, say) still tells
    the dialect: Atlassian's URL refuses locale, and a clean file validates, saying so."""
    target = "target: {url: 'https://api.atlassian.com/scim/directory/${DIRECTORY_ID_UNSET}'}\n"
    refused = reconciler("validate", str(_files(tmp_path / "a", WITH_LOCALE + target)))
    assert refused.exit_code == 1
    assert LOCALE_PROBLEM in refused.stderr
    clean = "version: 1\nusers:\n  - userName: ann@example.com\n" + target
    run = reconciler("validate", str(_files(tmp_path / "b", clean)))
    assert run.exit_code == 0, run.stderr
    assert run.stdout == (
        "OK: 1 user and 0 groups are valid for "
        "https://api.atlassian.com/scim/directory/${DIRECTORY_ID_UNSET} "
        "(dialect atlassian; DIRECTORY_ID_UNSET is not set).\n"
    )


def test_a_target_url_with_a_credential_variable_is_refused(tmp_path: Path) -> None:
    """What plan refuses in a target URL (a token variable) validate refuses too, set or not."""
    target = "target: {url: 'https://api.atlassian.com/scim/directory/${SOME_TOKEN}'}\n"
    clean = "version: 1\nusers:\n  - userName: ann@example.com\n" + target
    run = reconciler("validate", str(_files(tmp_path, clean)))
    assert run.exit_code == 1
    assert "may not use ${SOME_TOKEN}" in run.stderr


def test_validate_in_a_process_exits_1_with_the_problem_on_stderr(tmp_path: Path) -> None:
    """As a CI step runs it: exit 1, the problem on stderr, nothing on stdout."""
    env = {k: v for k, v in os.environ.items() if k != "RECONCILER_TARGET"}
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", str(_files(tmp_path)), "--log-format",
         "console", "--no-color"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stdout == ""
    assert LOCALE_PROBLEM in done.stderr
