"""An apply stopped by a signal: in-flight writes finish, what ended is reported.

SIGTERM, as a scheduler sends it (exit 143), and Ctrl-C at a terminal (exit 130).
Real processes: the sandbox over HTTP with latency, or in-process, and ``reconciler
apply`` as cron, Kubernetes, a CI timeout or a person would run it, then signalled.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.helpers import served_sandbox, write

TOKEN = "sigterm-test-token"
USERS = 40


@pytest.fixture
def slow_sandbox(tmp_path: Path) -> Iterator[str]:
    """The sandbox served on loopback, 150 ms per answer: an apply takes seconds."""
    with served_sandbox(tmp_path / "served.db", "--token", TOKEN, "--latency-ms", "150") as url:
        yield url


def _live_user_names(url: str) -> set[str]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    page = httpx.get(f"{url}/Users", params={"count": 1000}, headers=headers, timeout=10).json()
    return {u["userName"] for u in page.get("Resources", [])}


def test_sigterm_lets_in_flight_actions_finish_prints_the_report_and_exits_143(
    tmp_path: Path, slow_sandbox: str
) -> None:
    """SIGTERM mid-apply: exit 143, the JSON report on stdout lists exactly the users that
    now exist as applied and the rest as not sent, and the message counts them exactly."""
    users = "".join(f"  - userName: u{n:02d}@example.com\n" for n in range(USERS))
    write(tmp_path / "files", "users.yaml", "version: 1\nusers:\n" + users)
    process = subprocess.Popen(
        [
            sys.executable, "-m", "reconciler", "apply", str(tmp_path / "files"),
            "--target", slow_sandbox, "--auto-approve", "--concurrency", "2",
            "--format", "json", "--log-format", "json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "RECONCILER_TOKEN": TOKEN},
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while len(_live_user_names(slow_sandbox)) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    report = json.loads(stdout)
    applied = {r["key"] for r in report["results"] if r["outcome"] == "applied"}
    not_sent = [r for r in report["results"] if r["outcome"] == "skipped"]
    assert applied == _live_user_names(slow_sandbox)
    assert 4 <= len(applied) < USERS
    assert len(applied) + len(not_sent) == USERS
    assert (
        f"interrupted by SIGTERM: of {USERS} actions, {len(applied)} applied and 0 failed" in stderr
    )


def test_interrupted_apply_does_not_claim_nothing_was_sent(tmp_path: Path) -> None:
    """An apply interrupted after writes went out must not say that nothing was sent.

    Expected: exit code other than 1 (docs/design.md "Exit codes": 1 means "Nothing was
    changed") and no "nothing was sent" claim. Actual: KeyboardInterrupt becomes click's Abort, and
    ``Commands.main`` answers every Abort with "Aborted; nothing was sent." and exit 1,
    although users were already created (the message is meant for the prompt).
    """
    db = tmp_path / "s.db"
    lines = ["version: 1", "users:"] + [f"  - userName: u{i:02d}@example.com" for i in range(40)]
    (tmp_path / "d.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "reconciler", "apply", str(tmp_path / "d.yaml")),
            *("--target", f"sandbox:{db}", "--auto-approve", "--rate", "5", "-q"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    created = 0
    deadline = time.monotonic() + 30
    while created == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            with sqlite3.connect(db, timeout=1) as conn:
                created = conn.execute("SELECT count(*) FROM users").fetchone()[0]
        except sqlite3.Error:
            created = 0
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert created > 0
    assert "nothing was sent" not in stderr
    assert "interrupted" in stderr
    assert process.returncode == 130
