"""``--metrics-file`` for scheduled jobs (issue 19 item 3): a subprocess per exit code, the
file read back by the Prometheus text-format parser."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Directory
from tests.e2e.helpers import reconciler, write

USERS = """
version: 1
users:
  - userName: ann@example.com
    groups: [eng]
  - userName: erin@example.com
groups:
  - displayName: eng
"""
# erin's email belongs to an account linked to another directory: her create gets a 409.
ORG = """
version: 1
org:
  accounts:
    - {email: erin@example.com, linked_to: other-dir}
"""


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RECONCILER_", "GITHUB_"))}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args, "--log-format", "console", "-q"],
        capture_output=True, text=True, env={**base, **(env or {})}, timeout=60, check=False,
    )  # fmt: skip


def metrics(path: Path) -> dict[str, dict[str, float]]:
    """Family -> {the one label value, or "": value}, parsed by prometheus_client."""
    found: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(path.read_text(encoding="utf-8")):
        found[family.name] = {
            next(iter(sample.labels.values()), ""): sample.value for sample in family.samples
        }
    return found


@pytest.fixture
def files(tmp_path: Path) -> Path:
    return write(tmp_path / "files", "directory.yaml", USERS).parent


def test_a_plan_with_changes_pending_writes_its_metrics(
    tmp_path: Path, files: Path, sandbox: tuple[str, Directory]
) -> None:
    """plan --detailed-exitcode (exit 2): the planned actions by kind, what was read, how and
    when the run ended, in a file others can read; no temporary file is left behind."""
    target, directory = sandbox
    directory.create_user("zed@example.com")  # left alone: read all the same
    out = tmp_path / "textfile" / "reconciler.prom"
    out.parent.mkdir()
    before = time.time()
    done = _run("plan", str(files), "--target", target, "--detailed-exitcode",
                "--metrics-file", str(out))  # fmt: skip
    assert done.returncode == 2, done.stderr
    found = metrics(out)
    assert found["reconciler_exit_code"] == {"": 2.0}
    assert found["reconciler_planned_actions"]["create"] == 3.0  # ann, erin, eng
    assert found["reconciler_planned_actions"]["deactivate"] == 0.0
    assert found["reconciler_read_objects"] == {"user": 1.0, "group": 0.0}
    assert found["reconciler_sensitive_changes"] == {"": 0.0}
    assert before <= found["reconciler_last_run_timestamp_seconds"][""] <= time.time()
    assert 0 < found["reconciler_duration_seconds"][""] < 60
    assert "reconciler_applied_actions" not in found
    assert stat.S_IMODE(out.stat().st_mode) == 0o644  # node-exporter runs as another user
    assert os.listdir(out.parent) == ["reconciler.prom"]


def test_an_apply_with_failures_writes_its_outcomes(tmp_path: Path, files: Path) -> None:
    """apply exit 4 (erin's create refused by the organisation): applied, failed and skipped
    counts; the variable RECONCILER_METRICS_FILE does what the option does."""
    db = tmp_path / "sandbox.db"
    org = write(tmp_path, "org.yaml", ORG)
    assert reconciler("sandbox", "seed", str(org), "--db", str(db)).exit_code == 0
    out = tmp_path / "apply.prom"
    done = _run("apply", str(files), "--target", f"sandbox:{db}", "--auto-approve",
                env={"RECONCILER_METRICS_FILE": str(out)})  # fmt: skip
    assert done.returncode == 4, done.stderr
    found = metrics(out)
    assert found["reconciler_exit_code"] == {"": 4.0}
    assert found["reconciler_applied_actions"] == {"applied": 2.0, "failed": 1.0, "skipped": 0.0}
    assert found["reconciler_left_for_later_actions"] == {"": 0.0}


def test_a_refused_apply_writes_exit_3_and_nothing_applied(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """apply over a safety limit (exit 3): the plan is counted, nothing was applied."""
    target, _ = sandbox
    blocked = write(
        tmp_path / "blocked", "d.yaml",
        "version: 1\npolicy: {groups: {sensitive: [eng]}}\n" + USERS.split("\n", 2)[2],
    )  # fmt: skip
    out = tmp_path / "apply.prom"
    done = _run("apply", str(blocked), "--target", target, "--auto-approve",
                "--metrics-file", str(out))  # fmt: skip
    assert done.returncode == 3, done.stderr
    found = metrics(out)
    assert found["reconciler_exit_code"] == {"": 3.0}
    assert found["reconciler_sensitive_changes"] == {"": 1.0}
    assert found["reconciler_applied_actions"] == {"applied": 0.0, "failed": 0.0, "skipped": 0.0}


def test_a_run_that_fails_early_still_writes_exit_1(tmp_path: Path) -> None:
    """Bad files (exit 1): the metrics say how and when it ended, and nothing else."""
    out = tmp_path / "plan.prom"
    bad = write(tmp_path, "bad.yaml", "version: 2\n")
    done = _run("plan", str(bad), "--target", f"sandbox:{tmp_path / 's.db'}",
                "--metrics-file", str(out))  # fmt: skip
    assert done.returncode == 1
    assert set(metrics(out)) == {
        "reconciler_exit_code",
        "reconciler_duration_seconds",
        "reconciler_last_run_timestamp_seconds",
    }
    assert metrics(out)["reconciler_exit_code"] == {"": 1.0}


def test_metrics_that_cannot_be_written_fail_a_run_that_succeeded(
    tmp_path: Path, files: Path, sandbox: tuple[str, Directory]
) -> None:
    """A missing directory: a plan that would exit 0 exits 1 and says why (a job whose
    metrics stop is not a success); a symbolic link is never written through."""
    target, _ = sandbox
    done = _run("plan", str(files), "--target", target,
                "--metrics-file", str(tmp_path / "missing" / "x.prom"))  # fmt: skip
    assert done.returncode == 1
    assert "cannot write the metrics file" in done.stderr
    elsewhere = write(tmp_path, "elsewhere.txt", "keep\n")
    link = tmp_path / "link.prom"
    link.symlink_to(elsewhere)
    done = _run("plan", str(files), "--target", target, "--metrics-file", str(link))
    assert done.returncode == 1
    assert "is a symbolic link" in done.stderr
    assert elsewhere.read_text(encoding="utf-8") == "keep\n"
