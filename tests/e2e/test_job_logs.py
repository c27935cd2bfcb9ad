"""Logs a scheduled job can be judged by: a summary event, problems as events and annotations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler import app
from tests.e2e.helpers import reconciler, write

USERS = "version: 1\nusers:\n  - userName: ann@example.com\n  - userName: bob@example.com\n"


def _events(stderr: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_plan_and_apply_end_with_one_summary_event(tmp_path: Path) -> None:
    """The last JSON event of a run says what it did, to what, and how it ended."""
    files = write(tmp_path / "files", "users.yaml", USERS).parent
    target = ("--target", f"sandbox:{tmp_path / 's.db'}", "--log-format", "json")
    plan = reconciler("plan", str(files), *target, "--detailed-exitcode")
    summary = _events(plan.stderr)[-1]
    assert (summary["event"], summary["command"], summary["exit_code"]) == ("summary", "plan", 2)
    assert summary["counts"] == {
        "create": 2, "update": 0, "deactivate": 0, "reactivate": 0, "delete": 0
    }  # fmt: skip
    apply = reconciler("apply", str(files), *target, "--auto-approve")
    summary = _events(apply.stderr)[-1]
    assert (summary["command"], summary["exit_code"]) == ("apply", 0)
    assert summary["counts"] == {"applied": 2, "failed": 0, "skipped": 0}
    assert str(summary["target"]).startswith("sandbox:")
    assert str(summary["digest"]).startswith("sha256:")
    assert isinstance(summary["duration_ms"], float)


def test_file_problems_are_one_event_each_and_github_annotations(tmp_path: Path) -> None:
    """Each problem is a structured event in JSON logs, and with --format github an
    annotation on stderr that GitHub shows on the pull request's diff."""
    files = write(
        tmp_path / "files",
        "users.yaml",
        "version: 1\nusers:\n  - userName: ann@example.com\n    titel: Boss\n",
    ).parent
    run = reconciler("validate", str(files), "--format", "github", "--log-format", "json")
    assert run.exit_code == 1
    (problem,) = [e for e in _events(run.stderr) if e["event"] == "file_problem"]
    assert (problem["line"], problem["column"], problem["path"]) == (4, 5, "users[0].titel")
    assert run.stdout == ""
    (annotation,) = [line for line in run.stderr.splitlines() if line.startswith("::")]
    assert annotation.startswith("::error file=")
    assert ",line=4,col=5,title=reconciler::users[0].titel: unknown key" in annotation


def test_off_a_terminal_problems_are_events_and_inside_github_actions_annotations(
    tmp_path: Path,
) -> None:
    """With no --log-format, a job's JSON logs still carry one event per problem, and
    inside GitHub Actions a plan that meets file problems prints them as annotations
    on stderr; the error itself is a JSON event too."""
    files = write(
        tmp_path / "files",
        "users.yaml",
        "version: 1\nusers:\n  - userName: ann@example.com\n    titel: Boss\n",
    ).parent
    run = reconciler(
        "plan", str(files), "--target", f"sandbox:{tmp_path / 's.db'}",
        env={"GITHUB_ACTIONS": "true"},
    )  # fmt: skip
    assert run.exit_code == 1
    assert [e["path"] for e in _events(run.stderr) if e["event"] == "file_problem"] == [
        "users[0].titel"
    ]
    assert run.stdout == ""
    assert run.stderr.startswith("::error file=") or "\n::error file=" in run.stderr
    (error,) = [e for e in _events(run.stderr) if e["event"] == "error"]
    assert "users.yaml:4:5: users[0].titel" in str(error["message"])


def test_a_crash_in_json_logs_is_one_error_event_with_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug (an exception no error class names) does not spill a plain traceback among
    JSON events: it is one ``error`` event carrying it, then the summary; exit 1."""
    files = write(tmp_path / "files", "users.yaml", USERS).parent

    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app, "run_validate", broken)
    run = reconciler("validate", str(files), "--log-format", "json")
    assert run.exit_code == 1
    error, summary = [json.loads(line) for line in run.stderr.splitlines()]
    assert error["event"] == "error"
    assert error["message"] == "internal error (RuntimeError: a bug); please report it"
    assert str(error["exception"]).startswith("Traceback (most recent call last):")
    assert (summary["event"], summary["exit_code"]) == ("summary", 1)


def test_a_crash_in_console_logs_keeps_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal a bug propagates as Python shows it, for the person to report."""
    files = write(tmp_path / "files", "users.yaml", USERS).parent

    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app, "run_validate", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        reconciler("validate", str(files), "--log-format", "console")
