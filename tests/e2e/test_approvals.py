"""Approvals leave a trace, and a mismatched one asks for a person (issue 16 item 8,
issue 17 item 2): through the real CLI against the embedded sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from reconciler.app import Runtime
from tests.e2e.conftest import Directory
from tests.e2e.helpers import reconciler, write

# One sensitive membership: over max_sensitive_changes (default 0), so blocked.
BLOCKED = """
version: 1
policy: {groups: {sensitive: ["*admins"]}}
users:
  - userName: ann@example.com
    groups: [ops-admins]
groups:
  - displayName: ops-admins
"""
WRONG = "sha256:" + "0" * 64


def _files(tmp_path: Path, text: str = BLOCKED) -> str:
    return str(write(tmp_path / "files", "directory.yaml", text).parent)


def _events(stderr: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def _summary(stderr: str) -> dict[str, Any]:
    (summary,) = [e for e in _events(stderr) if e["event"] == "summary"]
    return summary


def _digest(files: str, target: str) -> str:
    planned = reconciler("plan", files, "--target", target, "--format", "json")
    assert planned.exit_code == 3, planned.stderr  # blocked: this plan needs --approve
    return str(planned.json()["digest"])


def test_a_mismatched_approval_exits_3_and_sends_nothing(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """--approve with another plan's digest exits 3 (needs a human, not broken), says so
    on stderr as a refusal, shows the new plan on stdout, and writes nothing."""
    target, directory = sandbox
    env = {k: v for k, v in os.environ.items() if k != "RECONCILER_TARGET"}
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "apply", _files(tmp_path), "--target", target,
         "--auto-approve", "--approve", WRONG, "--log-format", "console", "--no-color"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert f"refused: --approve {WRONG} does not match this plan" in done.stderr
    assert "+ user ann@example.com" in done.stdout  # the plan to review instead
    assert directory.users() == {}


def test_a_mismatched_approval_in_json_prints_the_new_plan(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """With --format json, stdout is the plan that needs the review: one clean document."""
    target, directory = sandbox
    files = _files(tmp_path)
    run = reconciler(
        "apply", files, "--target", target, "--auto-approve", "--approve", WRONG,
        "--format", "json", "--log-format", "json",
    )  # fmt: skip
    assert run.exit_code == 3
    assert run.json()["digest"] == _digest(files, target)
    (refused,) = [e for e in _events(run.stderr) if e["event"] == "refused"]
    assert refused["exit_code"] == 3
    assert directory.users() == {}


def test_an_approved_apply_says_approved_and_records_who(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """A blocked plan let through by --approve says "approved: DIGEST by NAME" where it
    would say "will refuse", and the summary event records the digest and the CI's actor."""
    target, directory = sandbox
    files = _files(tmp_path)
    digest = _digest(files, target)
    runtime = Runtime(env={"GITHUB_ACTOR": "octocat"})
    run = reconciler(
        "apply", files, "--target", target, "--auto-approve", "--approve", digest,
        "--log-format", "json", "--no-color", runtime=runtime,
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert directory.groups() == {"ops-admins": {"ann@example.com"}}
    assert "will refuse" not in run.stdout
    assert f"allowed (0, the default of policy.limits) — approved: {digest} by octocat" in (
        run.stdout
    )
    assert f"Over a safety limit, approved: {digest} by octocat" in run.stdout
    summary = _summary(run.stderr)
    assert (summary["approved_digest"], summary["approved_by"]) == (digest, "octocat")
    assert summary["exit_code"] == 0


def test_approved_by_wins_over_the_ci_actor_and_is_in_the_json_report(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """--approved-by names the approver, whatever the CI's variables say; the JSON report
    carries approved_digest and approved_by."""
    target, _ = sandbox
    files = _files(tmp_path)
    digest = _digest(files, target)
    runtime = Runtime(env={"GITHUB_ACTOR": "bot", "GITLAB_USER_LOGIN": "other"})
    run = reconciler(
        "apply", files, "--target", target, "--auto-approve", "--approve", digest,
        "--approved-by", "Dana Scully", "--format", "json", "--log-format", "json",
        runtime=runtime,
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    report = run.json()
    assert (report["approved_digest"], report["approved_by"]) == (digest, "Dana Scully")
    assert list(report)[:6] == [
        "format_version", "target", "digest", "dry_run", "approved_digest", "approved_by"
    ]  # fmt: skip
    assert _summary(run.stderr)["approved_by"] == "Dana Scully"


def test_the_gitlab_actor_is_used_and_no_actor_means_no_approved_by(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """GITLAB_USER_LOGIN names the approver on GitLab; with no actor known, approved_by
    is absent while approved_digest is still recorded."""
    target, _ = sandbox
    files = _files(tmp_path)
    digest = _digest(files, target)
    gitlab = reconciler(
        "apply", files, "--target", target, "--auto-approve", "--approve", digest,
        "--dry-run", "--format", "json", runtime=Runtime(env={"GITLAB_USER_LOGIN": "mulder"}),
    )  # fmt: skip
    assert gitlab.json()["approved_by"] == "mulder"
    nobody = reconciler(
        "apply", files, "--target", target, "--auto-approve", "--approve", digest,
        "--format", "json", "--log-format", "json", runtime=Runtime(env={}),
    )  # fmt: skip
    assert nobody.exit_code == 0, nobody.stderr
    assert nobody.json()["approved_digest"] == digest
    assert "approved_by" not in nobody.json()
    summary = _summary(nobody.stderr)
    assert summary["approved_digest"] == digest
    assert "approved_by" not in summary


def test_an_approve_of_a_plan_within_its_limits_records_nothing(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """--approve of a plan that no limit blocks overrides nothing: no approval is recorded."""
    target, _ = sandbox
    files = _files(tmp_path, "version: 1\nusers:\n  - userName: ann@example.com\n")
    planned = reconciler("plan", files, "--target", target, "--format", "json")
    assert planned.exit_code == 0
    run = reconciler(
        "apply", files, "--target", target, "--auto-approve", "--approve",
        planned.json()["digest"], "--approved-by", "dana", "--format", "json",
        "--log-format", "json",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert "approved_digest" not in run.json()
    assert "approved_by" not in run.json()
    summary = _summary(run.stderr)
    assert "approved_digest" not in summary
    assert "approved_by" not in summary


def test_an_approved_saved_plan_records_the_approval(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """apply --plan of a blocked plan, approved by its digest, records the approval too."""
    target, directory = sandbox
    files = _files(tmp_path)
    saved = tmp_path / "plan.json"
    assert reconciler("plan", files, "--target", target, "--out", str(saved)).exit_code == 3
    digest = json.loads(saved.read_text(encoding="utf-8"))["digest"]
    run = reconciler(
        "apply", files, "--plan", str(saved), "--target", target, "--auto-approve",
        "--approve", digest, "--approved-by", "dana", "--format", "json",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert (run.json()["approved_digest"], run.json()["approved_by"]) == (digest, "dana")
    assert directory.groups() == {"ops-admins": {"ann@example.com"}}


def test_an_approved_by_that_is_no_name_is_refused_before_anything_is_read(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """--approved-by with control characters (a forged log line, say) exits 1, sends nothing."""
    target, directory = sandbox
    files = _files(tmp_path)
    run = reconciler(
        "apply", files, "--target", target, "--auto-approve", "--approve", WRONG,
        "--approved-by", "dana\n{\"event\": \"summary\"}",
    )  # fmt: skip
    assert run.exit_code == 1
    assert "--approved-by needs a name" in run.stderr
    assert directory.users() == {}
