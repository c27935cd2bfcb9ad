"""Short tokens (issue 22): the data read is the directory's, whatever the token.

The sandbox's own docs serve it with ``--token T``. A token of a few characters
cannot be cut out of text without rewriting ordinary words, so the token is never
cut out of what a server says, only out of what leaves the process; and a token too
short to cut out safely is refused for a remote target and warned about on loopback.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

from reconciler.app import Runtime
from reconciler.scim.retry import RetryPolicy
from tests.e2e.helpers import reconciler, served_sandbox, write

FAST = RetryPolicy(attempts=2, sleep=lambda seconds: None)


@pytest.mark.parametrize(
    "token",
    [
        # "Bookkeeper" holds "ok": once read as "Bo<redacted>keeper", never converged.
        pytest.param("ok", id="token-inside-a-title"),
        # Every key of a ListResponse holds "t": "totalResults" was rewritten and
        # every plan failed.
        pytest.param("t", id="token-inside-the-listing-keys"),
    ],
)
def test_a_short_token_on_the_served_sandbox_converges(
    tmp_path: Path, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against the served sandbox with a short token, apply then plan is empty (exit 0)."""
    files = write(
        tmp_path / "files",
        "users.yaml",
        """
        version: 1
        users:
          - userName: carol@example.com
            title: Bookkeeper
        groups:
          - displayName: bookkeeping
            members: [carol@example.com]
        """,
    ).parent
    monkeypatch.setenv("RECONCILER_TOKEN", token)
    quick = functools.partial(reconciler, runtime=Runtime(env=os.environ, retry=FAST))
    with served_sandbox(tmp_path / "served.db", "--token", token) as url:
        applied = quick("apply", str(files), "--target", url, "--auto-approve")
        planned = quick("plan", str(files), "--target", url, "--detailed-exitcode")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    assert "No changes." in planned.stdout
    assert "shorter than 16 characters" in planned.stderr


def test_a_short_token_for_a_remote_target_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token under 16 characters for a non-loopback target stops the run (exit 1) unsent."""
    write(tmp_path, "users.yaml", "version: 1\nusers:\n  - userName: a@example.com\n")
    monkeypatch.setenv("RECONCILER_TOKEN", "short-t0ken")
    run = reconciler("plan", str(tmp_path), "--target", "https://scim.invalid/v2")
    assert run.exit_code == 1
    assert "RECONCILER_TOKEN" in run.stderr
    assert "shorter than 16 characters" in run.stderr
    assert "short-t0ken" not in run.stdout + run.stderr
