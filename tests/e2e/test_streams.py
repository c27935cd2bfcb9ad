"""The streams rule, as a job sees it (docs/design.md "CLI"): stdout holds only the plan,
report or export; off a terminal every line on stderr is one JSON event, and a run of
validate, plan, apply, export or links ends with a ``summary`` event. Each run here is
``python -m reconciler`` in its own process, with stderr a pipe, not a terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import write

GOOD = "version: 1\nusers:\n  - userName: ann@example.com\ngroups:\n  - displayName: eng\n"
BAD = (
    "version: 1\nusers:\n  - userName: ann@example.com\n    titel: Boss\n"
    "  - userName: bob@example.com\n    displayNmae: Bob\n"
)


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m reconciler ARGS`` with stdout and stderr piped, outside GitHub Actions
    unless ``env`` says otherwise."""
    ignored = ("GITHUB_ACTIONS", "RECONCILER_TARGET", "RECONCILER_TOKEN", "NO_COLOR")
    environ = {k: v for k, v in os.environ.items() if k not in ignored}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**environ, **(env or {})},
        timeout=120,
        check=False,
    )


def json_events(stderr: str) -> list[dict[str, Any]]:
    """Every line of stderr as a JSON event; any other line fails the test."""
    events = []
    for line in stderr.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            pytest.fail(f"a line on stderr is not a JSON event: {line!r}")
        assert isinstance(event, dict), line
        events.append(event)
    return events


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A directory with good files at ``good/`` and bad ones at ``bad/``."""
    write(tmp_path / "good", "team.yaml", GOOD)
    write(tmp_path / "bad", "team.yaml", BAD)
    return tmp_path


@pytest.mark.parametrize(
    ("args", "exit_code", "counts"),
    [
        pytest.param(
            ["validate", "good"], 0, {"users": 1, "groups": 1, "warnings": 0}, id="validate"
        ),
        pytest.param(["validate", "bad"], 1, {"problems": 2}, id="validate-bad-files"),
        pytest.param(["plan", "bad"], 1, {"problems": 2}, id="plan-bad-files"),
        pytest.param(["plan", "good", "--out", "saved.json"], 0, None, id="plan-saved"),
        pytest.param(["apply", "good", "--auto-approve"], 0, None, id="apply"),
        pytest.param(["export"], 0, {"users": 0, "groups": 0}, id="export"),
        pytest.param(["links", "ann@example.com"], 0, {"emails": 1, "links": 0}, id="links"),
        pytest.param(["plan", "good", "--target", "sandbox:"], 1, {}, id="bad-target"),
    ],
)
def test_off_a_terminal_every_stderr_line_is_a_json_event_ending_with_the_summary(
    files: Path, args: list[str], exit_code: int, counts: dict[str, int] | None
) -> None:
    """Without --log-format, errors (the multi-line list of file problems too) and notes
    ("Saved the plan to ...") are JSON events like the logs, and the last is the summary."""
    run = run_cli(*args, cwd=files)
    assert run.returncode == exit_code, run.stderr
    events = json_events(run.stderr)
    summary = events[-1]
    assert (summary["event"], summary["command"]) == ("summary", args[0])
    assert summary["exit_code"] == exit_code
    if counts is not None:
        assert summary["counts"] == counts
    assert [e["event"] for e in events].count("summary") == 1


def test_a_multi_line_error_is_one_event_beside_one_event_per_problem(files: Path) -> None:
    """The error block of bad files is one JSON event whose message holds every problem."""
    run = run_cli("validate", "bad", cwd=files)
    events = json_events(run.stderr)
    problems = [e for e in events if e["event"] == "file_problem"]
    assert [p["path"] for p in problems] == ["users[0].titel", "users[1].displayNmae"]
    (error,) = [e for e in events if e["event"] == "error"]
    assert error["message"].count("\n") == 1
    assert error["exit_code"] == 1


def test_the_saved_plan_note_is_a_json_event(files: Path) -> None:
    """ "Saved the plan to ..." is a note event, not a plain line among the JSON."""
    run = run_cli("plan", "good", "--out", "saved.json", cwd=files)
    (note,) = [e for e in json_events(run.stderr) if e["event"] == "note"]
    assert note["message"] == "Saved the plan to saved.json"


def test_a_usage_error_off_a_terminal_is_a_json_event(files: Path) -> None:
    """Even click's own errors, before any command runs, are one JSON event; exit 1."""
    run = run_cli("plan", "good", "--format", "xml", cwd=files)
    assert run.returncode == 1
    (event,) = json_events(run.stderr)
    assert event["event"] == "error"
    assert "'xml' is not one of" in event["message"]


def test_inside_github_actions_bad_files_leave_stdout_empty(files: Path) -> None:
    """``plan --format json > plan.json`` on bad files writes nothing into plan.json: the
    annotations go to stderr, which the runner reads too; every other line there is JSON."""
    run = run_cli("plan", "bad", "--format", "json", cwd=files, env={"GITHUB_ACTIONS": "true"})
    assert run.returncode == 1
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    annotations = [line for line in lines if line.startswith("::error ")]
    assert len(annotations) == 2
    assert "line=4,col=5,title=reconciler::users[0].titel" in annotations[0]
    json_events("\n".join(line for line in lines if not line.startswith("::error ")))


def test_inside_github_actions_stdout_is_exactly_the_json_plan(files: Path) -> None:
    """With good files, stdout is the JSON plan and nothing else: the same document
    ``--out`` saves."""
    run = run_cli(
        "plan", "good", "--format", "json", "--out", "saved.json",
        cwd=files, env={"GITHUB_ACTIONS": "true"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    saved = (files / "saved.json").read_text(encoding="utf-8")
    assert run.stdout.strip() == saved.strip()
    assert json.loads(run.stdout)["summary"]["create"] == 2
    json_events(run.stderr)


def test_a_metrics_file_that_cannot_be_written_ends_in_the_summary_exit_code(
    files: Path,
) -> None:
    """plan --detailed-exitcode with changes would exit 2; a metrics file it cannot write
    makes it exit 1, and the summary, still the last event, says 1 with the plan's counts."""
    run = run_cli(
        "plan", "good", "--detailed-exitcode", "--metrics-file", "missing/reconciler.prom",
        cwd=files,
    )  # fmt: skip
    assert run.returncode == 1
    assert "Plan: 2 to create" in run.stdout
    events = json_events(run.stderr)
    (error,) = [e for e in events if e["event"] == "error"]
    assert "cannot write the metrics file missing/reconciler.prom" in error["message"]
    summary = events[-1]
    assert (summary["event"], summary["exit_code"]) == ("summary", 1)
    assert summary["counts"]["create"] == 2
    assert events.index(error) < len(events) - 1


def test_only_leaves_the_rest_on_stdout_and_stderr_stays_json(files: Path) -> None:
    """apply --only: what was left for a later run is part of the report on stdout;
    stderr holds JSON events only, the summary last."""
    run = run_cli("apply", "good", "--auto-approve", "--only", "ann@example.com", cwd=files)
    assert run.returncode == 0, run.stderr
    assert "Left for a later run (not asked for by --only):" in run.stdout
    assert "+ group eng" in run.stdout.split("Left for a later run")[1]
    events = json_events(run.stderr)
    assert (events[-1]["event"], events[-1]["exit_code"]) == ("summary", 0)


def test_the_note_about_a_lock_left_behind_is_a_json_event(files: Path) -> None:
    """The lock an apply that died left behind is reported as a note event, not a plain
    line among the JSON."""
    lock = files / ".reconciler" / "sandbox.db.lock"
    lock.parent.mkdir()
    lock.write_text(json.dumps({"pid": 4242, "host": "ci-runner-7", "since": 1.0}))
    run = run_cli("apply", "good", "--auto-approve", cwd=files)
    assert run.returncode == 0, run.stderr
    notes = [e["message"] for e in json_events(run.stderr) if e["event"] == "note"]
    assert any("was left by an apply that did not finish" in note for note in notes)


def test_console_logs_keep_errors_plain_and_lower_case(files: Path) -> None:
    """With --log-format console (a person reading), the error is a plain ``error:``
    line and no JSON appears."""
    run = run_cli("plan", "bad", "--log-format", "console", cwd=files)
    assert run.returncode == 1
    assert run.stderr.startswith("error: ")
    assert "{" not in run.stderr
    assert run.stdout == ""


def test_a_reader_that_stops_early_leaves_the_exit_code_and_no_traceback(
    tmp_path: Path,
) -> None:
    """``plan | head``: the reader goes after a few bytes of a large plan; the process
    still ends with its code (2: changes pending) and says nothing of a broken pipe."""
    users = "".join(
        f"  - userName: u{i}@example.com\n    displayName: User {i}\n" for i in range(3000)
    )
    write(tmp_path, "users.yaml", f"version: 1\nusers:\n{users}")
    environ = {k: v for k, v in os.environ.items() if k not in ("RECONCILER_TARGET", "NO_COLOR")}
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "plan", "users.yaml", "--target",
         f"sandbox:{tmp_path / 's.db'}", "--format", "json", "--detailed-exitcode"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=environ,
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stderr is not None
    assert process.stdout.read(10)  # the plan had begun (it is megabytes long)
    process.stdout.close()
    with process.stderr:
        stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 2
    assert "Traceback" not in stderr
    assert "BrokenPipe" not in stderr
    assert json_events(stderr)[-1]["exit_code"] == 2
