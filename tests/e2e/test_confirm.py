"""apply asks for "yes" on a terminal (docs/design.md "CLI"), in a real pseudo-terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.helpers import reconciler, write


def apply_on_a_terminal(
    files: Path, target: str, answer: str, *options: str
) -> tuple[int, str, str]:
    """Run apply with its stdin on a pseudo-terminal and type ``answer``; its exit code,
    stdout and stderr (a pipe: the logs are JSON)."""
    leader, follower = os.openpty()
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reconciler",
                "apply",
                str(files),
                "--target",
                target,
                "--no-color",
                "-q",
                *options,
            ],
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.write(leader, f"{answer}\n".encode())
        stdout, stderr = process.communicate(timeout=60)
    finally:
        os.close(leader)
        os.close(follower)
    return process.returncode, stdout, stderr


@pytest.mark.parametrize(
    ("answer", "exit_code", "pending"),
    [
        pytest.param("no", 1, 2, id="no-cancels"),
        pytest.param("y", 1, 2, id="only-yes-counts"),
        pytest.param("yes", 0, 0, id="yes-applies"),
    ],
)
def test_apply_asks_on_a_terminal(
    tmp_path: Path, answer: str, exit_code: int, pending: int
) -> None:
    """Only the answer "yes" applies; anything else cancels with exit 1 and sends nothing.
    With stderr a pipe, the question is a JSON event like every other line there."""
    write(tmp_path / "files", "users.yaml", "version: 1\nusers:\n  - userName: a@example.com\n")
    target = f"sandbox:{tmp_path / 's.db'}"
    code, stdout, stderr = apply_on_a_terminal(tmp_path / "files", target, answer)
    assert code == exit_code, stdout + stderr
    events = [json.loads(line) for line in stderr.splitlines()]
    (question,) = [e for e in events if e["event"] == "question"]
    assert question["message"].startswith("Apply 1 action to the local embedded sandbox")
    assert question["message"].endswith("Only 'yes' is accepted")
    after = reconciler("plan", str(tmp_path / "files"), "--target", target, "--detailed-exitcode")
    assert after.exit_code == pending


def test_the_question_on_a_console_counts_in_the_singular(tmp_path: Path) -> None:
    """With console logs the question is click's prompt: "Apply 1 action to ...", no "actions"."""
    write(tmp_path / "files", "users.yaml", "version: 1\nusers:\n  - userName: a@example.com\n")
    target = f"sandbox:{tmp_path / 's.db'}"
    code, _, stderr = apply_on_a_terminal(
        tmp_path / "files", target, "no", "--log-format", "console"
    )
    assert code == 1
    assert "Apply 1 action to the local embedded sandbox at" in stderr
    assert "error: apply cancelled; nothing was sent" in stderr


def test_apply_format_json_shows_the_plan_as_a_review_event_and_stdout_is_the_report(
    tmp_path: Path,
) -> None:
    """apply --format json on a terminal: the plan a person reads before "yes" is a
    ``review`` event on stderr (JSON logs, -q or not), and stdout is only the JSON report."""
    write(tmp_path / "files", "users.yaml", "version: 1\nusers:\n  - userName: a@example.com\n")
    target = f"sandbox:{tmp_path / 's.db'}"
    code, stdout, stderr = apply_on_a_terminal(
        tmp_path / "files", target, "yes", "--format", "json"
    )
    assert code == 0, stderr
    events = [json.loads(line) for line in stderr.splitlines()]
    assert [e["event"] for e in events] == ["review", "question"]  # -q: nothing else
    assert "Plan: 1 to create" in events[0]["message"]
    report = json.loads(stdout)
    assert [r["outcome"] for r in report["results"]] == ["applied"]
