"""``apply --only KEY`` for emergencies (issue 19 item 1), through the real CLI against the
embedded sandbox: exit codes from a subprocess, the directory seen with plain httpx."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import Directory
from tests.e2e.helpers import reconciler, write

BEFORE = """
version: 1
users:
  - userName: carol@example.com
    groups: [eng]
  - userName: dan@example.com
    groups: [eng]
groups:
  - displayName: eng
"""
# alice and bob join, dan leaves: the whole plan is over the default limits (a
# deactivation and a member removal), so a plain apply is refused.
AFTER = """
version: 1
policy: {users: {unmanaged: deactivate}}
users:
  - userName: alice@example.com
    groups: [eng]
  - userName: bob@example.com
    groups: [eng]
  - userName: carol@example.com
    groups: [eng]
groups:
  - displayName: eng
"""


def _setup(tmp_path: Path, target: str) -> str:
    files = write(tmp_path / "files", "directory.yaml", BEFORE).parent
    assert reconciler("apply", str(files), "--target", target, "--auto-approve").exit_code == 0
    write(files, "directory.yaml", AFTER)
    return str(files)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RECONCILER_TARGET", "GITHUB_ACTIONS")}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args, "--no-color", "--log-format", "console"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


def test_only_applies_what_was_asked_and_exits_0(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """--only alice: her create and her membership of eng are sent (the whole plan is over
    its limits, what is sent is not), the rest is listed as left for a later run, exit 0;
    the next plan still shows the rest."""
    target, directory = sandbox
    files = _setup(tmp_path, target)
    assert _cli("apply", files, "--target", target, "--auto-approve").returncode == 3
    done = _cli("apply", files, "--target", target, "--auto-approve", "--only", "alice@example.com")
    assert done.returncode == 0, done.stderr
    assert directory.groups() == {
        "eng": {"alice@example.com", "carol@example.com", "dan@example.com"}
    }
    assert set(directory.users()) == {"alice@example.com", "carol@example.com", "dan@example.com"}
    assert (
        "Left for a later run (not asked for by --only):\n"
        "  + user bob@example.com (create)\n"
        "  ~ group eng (update, the rest of it)\n"
        "  - user dan@example.com (deactivate)\n"
    ) in done.stdout
    assert "; 3 left for a later run." in done.stdout
    assert "Apply: 2 applied, 0 failed, 0 skipped." in done.stdout
    after = reconciler("plan", files, "--target", target, "--format", "json")
    assert [(a["action"], a["key"]) for a in after.json()["actions"]] == [
        ("create", "bob@example.com"),
        ("update", "eng"),
        ("deactivate", "dan@example.com"),
    ]


def test_an_unknown_key_exits_1_naming_it_and_sends_nothing(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """A typo in an emergency stops the run (exit 1) before anything is sent."""
    target, directory = sandbox
    files = _setup(tmp_path, target)
    done = _cli("apply", files, "--target", target, "--auto-approve", "--only", "alcie@example.com")
    assert done.returncode == 1
    assert "--only alcie@example.com: no user or group of the files" in done.stderr
    assert set(directory.users()) == {"carol@example.com", "dan@example.com"}


def test_a_narrowed_plan_over_a_limit_needs_its_own_digest_approved(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """--only the leaver: what is sent is over the limits (exit 3, nothing sent); the
    digest it prints, of what is sent, is the one --approve lets through."""
    target, directory = sandbox
    files = _setup(tmp_path, target)
    asked = ("apply", files, "--target", target, "--auto-approve", "--only", "dan@example.com")
    refused = _cli(*asked, "--format", "json")
    assert refused.returncode == 3
    digest = json.loads(refused.stdout)["digest"]
    assert json.loads(refused.stdout)["left_for_later"]  # the refused plan says what waits
    assert directory.users()["dan@example.com"]["active"] is True
    done = _cli(*asked, "--approve", digest)
    assert done.returncode == 0, done.stderr
    assert directory.users()["dan@example.com"]["active"] is False
    assert directory.groups() == {"eng": {"carol@example.com"}}


def test_the_json_report_lists_what_was_left(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """apply --format json: the report carries left_for_later (resource, action, key, split)."""
    target, _ = sandbox
    files = _setup(tmp_path, target)
    run = reconciler(
        "apply", files, "--target", target, "--auto-approve", "--format", "json",
        "--only", "bob@example.com", "--only", "alice@example.com",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    report = run.json()
    assert report["summary"] == {"applied": 3, "failed": 0, "skipped": 0}
    assert report["left_for_later"] == [
        {"resource": "group", "action": "update", "key": "eng", "split": True},
        {"resource": "user", "action": "deactivate", "key": "dan@example.com", "split": False},
    ]


def test_only_with_a_saved_plan_is_refused(tmp_path: Path, sandbox: tuple[str, Directory]) -> None:
    """A saved plan is applied exactly as reviewed: --only with --plan exits 1."""
    target, directory = sandbox
    files = _setup(tmp_path, target)
    saved = tmp_path / "plan.json"
    reconciler("plan", files, "--target", target, "--out", str(saved))
    done = _cli("apply", "--plan", str(saved), "--target", target, "--auto-approve",
                "--only", "alice@example.com")  # fmt: skip
    assert done.returncode == 1
    assert "--only narrows a plan made now from the files" in done.stderr
    assert "alice@example.com" not in directory.users()
