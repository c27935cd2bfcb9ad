"""A directory of files that holds other YAML: .reconcilerignore and --exclude (issue 19,
item 2), through the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import Directory
from tests.e2e.helpers import reconciler, write

USERS = """
version: 1
users:
  - userName: ann@example.com
    groups: [engineering]
groups:
  - displayName: engineering
"""
KUSTOMIZATION = """
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
configMapGenerator:
  - name: directory-files
    files: [users.yaml]
"""


def _repository(tmp_path: Path) -> Path:
    """Desired state beside a kustomization.yaml and a CI file, as deployments keep it."""
    root = tmp_path / "directory"
    write(root, "users.yaml", USERS)
    write(root, "kustomization.yaml", KUSTOMIZATION)
    write(root, "ci/lint.yml", "stages: [lint]\n")
    return root


def _validate(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RECONCILER_TARGET", "GITHUB_ACTIONS")}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", *args,
         "--target", "https://scim.example.com/v2", "--log-format", "console"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


def test_a_stray_file_fails_validate_without_an_ignore(tmp_path: Path) -> None:
    """Other YAML in the directory is an error (exit 1) naming the file: nothing is
    skipped silently."""
    done = _validate(str(_repository(tmp_path)))
    assert done.returncode == 1
    assert "kustomization.yaml:1:1: apiVersion: unknown key" in done.stderr
    assert "ci/lint.yml" in done.stderr
    assert done.stdout == ""


def test_exclude_on_the_command_line_lets_validate_pass(tmp_path: Path) -> None:
    """--exclude (repeatable, gitignore patterns) leaves the stray files out: exit 0."""
    done = _validate(
        str(_repository(tmp_path)), "--exclude", "kustomization.yaml", "--exclude", "ci/"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK: 1 user and 1 group are valid")


def test_an_ignore_file_lets_validate_pass(tmp_path: Path) -> None:
    """A .reconcilerignore at the root of the PATH does the same as --exclude."""
    root = _repository(tmp_path)
    write(root, ".reconcilerignore", "# not desired state\nkustomization.yaml\nci/\n")
    done = _validate(str(root))
    assert done.returncode == 0, done.stderr


def test_plan_and_apply_leave_excluded_files_out(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """plan and apply take --exclude too, and apply the files that are left in."""
    target, directory = sandbox
    root = _repository(tmp_path)
    write(root, ".reconcilerignore", "kustomization.yaml\n")
    refused = reconciler("plan", str(root), "--target", target)
    assert refused.exit_code == 1  # ci/lint.yml is still in
    assert "ci/lint.yml" in refused.stderr
    planned = reconciler("plan", str(root), "--target", target, "--exclude", "ci/")
    assert planned.exit_code == 0, planned.stderr
    assert "+ user ann@example.com" in planned.stdout
    applied = reconciler(
        "apply", str(root), "--target", target, "--exclude", "ci/", "--auto-approve"
    )
    assert applied.exit_code == 0, applied.stderr
    assert directory.groups() == {"engineering": {"ann@example.com"}}


def test_the_dialect_check_reads_only_the_files_left_in(tmp_path: Path) -> None:
    """When the files manage an attribute the target lacks, the files are read again to
    say where: an excluded file, even one that is not YAML at all, stays out of it."""
    root = tmp_path / "directory"
    write(root, "users.yaml", "version: 1\nusers:\n  - userName: ann@example.com\n    locale: en\n")
    write(root, "broken.yaml", "key: [unclosed\n")
    run = reconciler(
        "validate", str(root), "--target", "sandbox:" + str(tmp_path / "s.db"),
        "--exclude", "broken.yaml",
    )  # fmt: skip
    assert run.exit_code == 1
    assert "users.yaml:4:5: users[0].locale: the Atlassian API has no locale attribute" in (
        run.stderr
    )
    assert "broken.yaml" not in run.stderr
