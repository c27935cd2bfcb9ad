"""apply asks for "yes" on a terminal (docs/design.md "CLI"), in a real pseudo-terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.helpers import reconciler, write


def apply_on_a_terminal(files: Path, target: str, answer: str) -> tuple[int, str]:
    """Run apply with its stdin on a pseudo-terminal and type ``answer``."""
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
    return process.returncode, stdout + stderr


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
    """Only the answer "yes" applies; anything else cancels with exit 1 and sends nothing."""
    write(tmp_path / "files", "users.yaml", "version: 1\nusers:\n  - userName: a@example.com\n")
    target = f"sandbox:{tmp_path / 's.db'}"
    code, output = apply_on_a_terminal(tmp_path / "files", target, answer)
    assert code == exit_code, output
    assert "Only 'yes' is accepted" in output
    after = reconciler("plan", str(tmp_path / "files"), "--target", target, "--detailed-exitcode")
    assert after.exit_code == pending
