"""Regressions found in review, through the real CLI: each test states the behaviour.

A token that cannot be a header never leaks; Atlassian top-level department removal
converges; JSON output is JSON even with nothing to do; exports load; Ctrl-C during an
apply says what it did.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.attributes import ENTERPRISE_URN
from reconciler.sandbox import sandbox_base_url, sandbox_transport
from tests.e2e.helpers import Directory, reconciler, write


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[str, Directory]]:
    """A sandbox target and a plain-httpx view of it."""
    db = tmp_path / "sandbox.db"
    directory = Directory(sandbox_base_url(), transport=sandbox_transport(db))
    yield f"sandbox:{db}", directory
    directory.close()


def test_token_with_a_stray_carriage_return_never_appears_in_output(
    tmp_path: Path, scim2_tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token read from a CRLF file (``TOKEN=$(cat token.txt)``) must not be printed.

    Expected (DESIGN.md "The token never appears in any output"): a clear error that
    names the variable, not its value. Actual: h11 refuses the header with
    ``Illegal header value b'Bearer <token>\\r'``; the client wraps that message into
    a retryable TransportError, so the token is logged in each ``scim.retry`` warning
    and again in the final ``error:`` line on stderr.
    """
    secret = "leak-check-5f3a9c"
    monkeypatch.setenv("RECONCILER_TOKEN", secret + "\r")
    write(tmp_path, "users.yaml", "version: 1\nusers:\n  - userName: a@example.com\n")
    run = reconciler("plan", str(tmp_path), "--target", scim2_tenant, "--log-format", "json")
    assert run.exit_code == 1
    assert secret not in run.stdout + run.stderr


def test_removing_a_department_held_at_the_atlassian_top_level_converges(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """``enterprise: {department: null}`` on a user whose department is top-level converges.

    ATLASSIAN.md: department and organization are also accepted at the top level, and
    ``live_user_attributes`` reads them from there when the enterprise block lacks them.
    Expected: apply, then plan again is empty. Actual: the executor only sends
    ``remove urn:…:enterprise:2.0:User:department``; the top-level value stays, is read
    back as enterprise.department, and every plan repeats the same update forever.
    """
    target, directory = sandbox
    directory.create_user("e@example.com", department="Sales")
    files = write(
        tmp_path / "files",
        "users.yaml",
        "version: 1\nusers:\n  - userName: e@example.com\n    enterprise: {department: null}\n",
    )
    applied = reconciler("apply", str(files), "--target", target, "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    again = reconciler("plan", str(files), "--target", target, "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout


def test_apply_json_output_is_json_even_when_there_is_nothing_to_do(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """``apply --format json > report.json`` always yields a JSON document.

    Expected (DESIGN.md "--format json > plan.json is always clean JSON"): an empty
    report (or the empty plan) on stdout. Actual: ``apply`` returns before printing
    anything when the plan is empty, so stdout is empty and ``json.loads`` fails.
    """
    target, _ = sandbox
    files = write(tmp_path / "files", "users.yaml", "version: 1\nusers:\n  - userName: z@e.com\n")
    first = reconciler("apply", str(files), "--target", target, "--auto-approve")
    assert first.exit_code == 0, first.stderr
    run = reconciler("apply", str(files), "--target", target, "--auto-approve", "--format", "json")
    assert run.exit_code == 0, run.stderr
    json.loads(run.stdout)


def test_exported_yaml_keeps_number_like_strings_as_strings(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """An export must load without problems (DESIGN.md "Bootstrap").

    Expected: ``department: "4E20"``, ``organization: "0o17"``, ``title: "1e5"`` come
    back as strings, so ``validate`` passes. Actual: ``yaml.safe_dump`` (YAML 1.1)
    writes them unquoted, the YAML 1.2 core loader reads numbers, and the strict
    models refuse the exported file ("expected a string, found the number").
    """
    target, directory = sandbox
    directory.create_user(
        "num@example.com",
        title="1e5",
        **{ENTERPRISE_URN: {"department": "4E20", "organization": "0o17"}},
    )
    out = tmp_path / "exported"
    exported = reconciler("export", "--target", target, "--out", str(out))
    assert exported.exit_code == 0, exported.stderr
    run = reconciler("validate", str(out))
    assert run.exit_code == 0, run.stderr


def test_interrupted_apply_does_not_claim_nothing_was_sent(tmp_path: Path) -> None:
    """An apply interrupted after writes went out must not say that nothing was sent.

    Expected: exit code other than 1 (DESIGN.md: 1 means "Nothing was changed") and no
    "nothing was sent" claim. Actual: KeyboardInterrupt becomes click's Abort, and
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


def test_emails_and_phone_numbers_without_type_are_created(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """An email or phone number with no ``type`` is sent without one, never as ``null``
    (which SCIMMY, and the sandbox like it, refuse with 400): the user is created."""
    url, directory = sandbox
    write(
        tmp_path / "d",
        "users.yaml",
        """
        version: 1
        users:
          - userName: alice@example.com
            emails: [{value: alice@example.com, primary: true}]
            phoneNumbers: [{value: "+1 555 0100"}]
        """,
    )
    run = reconciler("apply", str(tmp_path / "d"), "--target", url, "--auto-approve")
    assert run.exit_code == 0, run.stdout + run.stderr
    alice = directory.users()["alice@example.com"]
    assert alice["emails"] == [{"value": "alice@example.com", "primary": True}]
    assert alice["phoneNumbers"] == [{"value": "+1 555 0100", "primary": False}]
    again = reconciler("plan", str(tmp_path / "d"), "--target", url, "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout
