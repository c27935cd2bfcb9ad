"""The GitOps example: its workflows are valid YAML, and their shell steps do what they say.

The scripts in examples/gitops/scripts run here as the workflows run them, against the
embedded sandbox: the plan step (plan or error for the pull request), the merge step
that applies exactly the reviewed plan or stops, and the nightly drift report.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reconciler.sandbox import SandboxStore, sandbox_base_url, sandbox_transport
from tests.e2e.helpers import Directory

EXAMPLE = Path(__file__).parents[2] / "examples" / "gitops"
SCRIPTS = EXAMPLE / "scripts"


def _run(
    script: str, *args: str, target: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a script as the workflow does, with ``reconciler`` on the PATH."""
    env = {
        **os.environ,
        "RECONCILER_TARGET": target,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    return subprocess.run(
        ["bash", str(SCRIPTS / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the example's directory/ to edit."""
    shutil.copytree(EXAMPLE / "directory", tmp_path / "directory")
    return tmp_path / "directory"


def test_the_workflows_are_valid_yaml_with_jobs_and_steps() -> None:
    """Every workflow parses and each job runs steps (a broken file fails here, not in CI)."""
    workflows = sorted((EXAMPLE / ".github" / "workflows").glob("*.y*ml"))
    assert workflows
    for path in workflows:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert document["jobs"], path
        for name, job in document["jobs"].items():
            assert job["steps"], f"{path.name}: job {name} has no steps"


def test_the_plan_step_writes_the_plan_or_the_error_for_the_pull_request(
    tmp_path: Path, repo: Path
) -> None:
    """With a target it writes the markdown plan and the saved plan; when no plan can be
    made (here: no token for a remote target) the comment carries the error."""
    out = tmp_path / "out"
    run = _run("plan.sh", str(repo), str(out), target=f"sandbox:{tmp_path / 's.db'}")
    assert run.returncode == 0, run.stderr
    assert (out / "exitcode").read_text().strip() == "2"
    assert (out / "plan.md").read_text().startswith("## Reconciler plan")
    assert (out / "plan.json").exists()
    broken = tmp_path / "broken"
    env_target = "https://scim.example.invalid/v2"
    run = _run("plan.sh", str(repo), str(broken), target=env_target)
    assert (broken / "exitcode").read_text().strip() == "1"
    comment = (broken / "plan.md").read_text()
    assert comment.startswith("## Reconciler plan failed (exit 1)")
    assert "no token" in comment


def test_a_failed_plans_comment_keeps_the_files_text_out_of_the_markdown(
    tmp_path: Path, repo: Path
) -> None:
    """The error quotes the pull request's files; it is HTML-escaped inside <pre>, so a
    backtick fence, a link or a tag in a name cannot end the block and become markdown."""
    hostile = "nobody```\n\n[click](https://evil.example) <b>@octocat</b>"
    groups = [{"displayName": "team-x", "members": [hostile]}]
    (repo / "hostile.yaml").write_text(yaml.safe_dump({"version": 1, "groups": groups}))
    out = tmp_path / "out"
    run = _run("plan.sh", str(repo), str(out), target=f"sandbox:{tmp_path / 's.db'}")
    assert run.returncode == 0, run.stderr
    assert (out / "exitcode").read_text().strip() == "1"
    comment = (out / "plan.md").read_text()
    head, _, block = comment.partition("<pre>")
    assert head == "## Reconciler plan failed (exit 1)\n\n"
    inner, _, tail = block.partition("</pre>")
    assert tail == "\n"
    assert "<" not in inner
    assert ">" not in inner
    assert "```" in html.unescape(inner)
    assert "[click](https://evil.examp" in inner


def test_the_scripts_import_no_python_from_the_working_directory(
    tmp_path: Path, repo: Path
) -> None:
    """Run from a checkout that holds json.py and friends, neither the scripts' Python
    nor reconciler imports them: a pull request's files cannot become code that way."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    marker = tmp_path / "imported"
    for module in ("json", "html", "yaml", "click", "httpx", "pydantic", "sitecustomize"):
        (checkout / f"{module}.py").write_text(f"open({str(marker)!r}, 'a').write('{module} ')\n")
    target = f"sandbox:{tmp_path / 's.db'}"
    failed = _run("plan.sh", str(repo), str(tmp_path / "f"), target="https://x.invalid/v2",
                  cwd=checkout)  # fmt: skip
    assert (tmp_path / "f" / "exitcode").read_text().strip() == "1", failed.stderr
    review = tmp_path / "review"
    assert _run("plan.sh", str(repo), str(review), target=target, cwd=checkout).returncode == 0
    applied = _run("apply-reviewed.sh", str(repo), str(review / "plan.json"), str(tmp_path / "m"),
                   target=target, cwd=checkout)  # fmt: skip
    assert applied.returncode == 0, applied.stderr
    assert not marker.exists(), marker.read_text()


def test_the_merge_applies_the_reviewed_plan_or_stops_with_the_new_one(
    tmp_path: Path, repo: Path
) -> None:
    """The reviewed plan is applied as it was; if the directory changed since the review,
    nothing is applied and the new plan is written to post instead."""
    db = tmp_path / "s.db"
    target = f"sandbox:{db}"
    review = tmp_path / "review"
    assert _run("plan.sh", str(repo), str(review), target=target).returncode == 0
    with SandboxStore(db) as store:
        store.seed_users(1, prefix="late", domain="example.com")  # drift after review
    stopped = _run(
        "apply-reviewed.sh", str(repo), str(review / "plan.json"), str(tmp_path / "m1"),
        target=target,
    )  # fmt: skip
    assert stopped.returncode == 10, stopped.stderr
    assert "changed since it was reviewed" in stopped.stderr
    assert (tmp_path / "m1" / "changed.md").read_text().startswith("## Reconciler plan")
    with SandboxStore(db) as store:
        assert store.count_users() == 1  # nothing was applied
    fresh = tmp_path / "review2"  # reviewed again; it deactivates the late user: a limit
    assert _run("plan.sh", str(repo), str(fresh), target=target).returncode == 0
    assert (fresh / "exitcode").read_text().strip() == "3"
    digest = json.loads((fresh / "plan.json").read_text())["digest"]
    applied = _run(
        "apply-reviewed.sh", str(repo), str(fresh / "plan.json"), str(tmp_path / "m2"), digest,
        target=target,
    )  # fmt: skip
    assert applied.returncode == 0, applied.stdout + applied.stderr


def test_the_nightly_drift_report_says_what_changed_outside_the_repository(
    tmp_path: Path, repo: Path
) -> None:
    """After an apply the directory matches (exit 0, no report); a change made outside the
    repository is drift (exit 2) with the markdown plan that would undo it."""
    db = tmp_path / "s.db"
    target = f"sandbox:{db}"
    review = tmp_path / "review"
    _run("plan.sh", str(repo), str(review), target=target)
    _run("apply-reviewed.sh", str(repo), str(review / "plan.json"), str(tmp_path / "m"),
         target=target)  # fmt: skip
    quiet = _run("drift.sh", str(repo), str(tmp_path / "d1"), target=target)
    assert quiet.returncode == 0, quiet.stderr
    assert not (tmp_path / "d1" / "drift.md").exists()
    directory = Directory(sandbox_base_url(), transport=sandbox_transport(db))
    grace = directory.users()["grace@example.com"]
    directory.patch("Users", grace["id"], {"op": "replace", "path": "title", "value": "Changed"})
    directory.close()
    drift = _run("drift.sh", str(repo), str(tmp_path / "d2"), target=target)
    assert drift.returncode == 2, drift.stderr
    report = (tmp_path / "d2" / "drift.md").read_text()
    assert report.startswith("# Directory drift")
    assert "title" in report


def test_a_failed_drift_check_reports_the_log_as_escaped_text(tmp_path: Path, repo: Path) -> None:
    """When the nightly plan fails, drift.md carries its log HTML-escaped inside <pre>,
    so text quoted from the files or the directory cannot become markdown."""
    groups = [{"displayName": "team-x", "members": ["nobody```\n<b>@octocat</b>"]}]
    (repo / "hostile.yaml").write_text(yaml.safe_dump({"version": 1, "groups": groups}))
    run = _run("drift.sh", str(repo), str(tmp_path / "d"), target=f"sandbox:{tmp_path / 's.db'}")
    assert run.returncode == 1, run.stderr
    report = (tmp_path / "d" / "drift.md").read_text()
    head, _, block = report.partition("<pre>")
    assert head == "# Drift check failed (exit 1)\n\n"
    inner, _, tail = block.partition("</pre>")
    assert tail == "\n"
    assert "<" not in inner
    assert ">" not in inner
    assert "unknown member" in inner
    assert "```" in inner
