"""Apply through a directory that throttles, fails and hangs up: nothing lost, nothing twice.

The sandbox's fault knobs sit between the client and the directory (seeded, so every
run meets the same faults): 500/503 answers and connections dropped before or after
the request was processed. Retries must converge without duplicates.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from reconciler.app import Runtime
from reconciler.sandbox import (
    FaultConfig,
    FaultInjectingTransport,
    sandbox_base_url,
    sandbox_transport,
)
from reconciler.scim.retry import RetryPolicy
from tests.e2e.helpers import Directory, reconciler

USERS = 40


def directory_files(root: Path) -> Path:
    lines = ["version: 1", "users:"]
    for i in range(USERS):
        lines += [f"  - userName: user{i:02d}@example.com", f"    title: Title {i}"]
        lines += ["    groups: [everyone]" if i % 2 else "    groups: [everyone, odd-ones-out]"]
    lines += ["groups:", "  - displayName: everyone", "  - displayName: odd-ones-out"]
    root.mkdir()
    (root / "directory.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_apply_through_faults_converges_without_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """With 20% 5xx and 10% dropped connections, apply succeeds and the next plan is empty."""
    faults = FaultConfig(error_rate=0.2, drop_rate=0.1, seed=seed)
    patient = RetryPolicy(attempts=10, sleep=lambda seconds: None)
    met: list[str] = []

    class Counting(FaultInjectingTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            try:
                response = super().handle_request(request)
            except httpx.TransportError:
                met.append(f"drop {request.method}")
                raise
            if response.status_code >= 500:
                met.append(f"{response.status_code} {request.method}")
            return response

    runtime = Runtime(retry=patient, transport=lambda inner: Counting(inner, faults))
    files = directory_files(tmp_path / "files")
    db = tmp_path / "s.db"
    run = reconciler(
        "apply", str(files), "--target", f"sandbox:{db}", "--auto-approve", "--format", "json",
        runtime=runtime,
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert run.json()["summary"] == {"applied": USERS + 2, "failed": 0, "skipped": 0}
    assert (
        reconciler("plan", str(files), "--target", f"sandbox:{db}", "--detailed-exitcode").exit_code
        == 0
    )

    directory = Directory(sandbox_base_url(), transport=sandbox_transport(db))
    try:
        users = directory.list("Users")
        groups = directory.groups()
    finally:
        directory.close()
    assert "drop POST" in met  # the faults did meet the writes
    assert len(users) == USERS  # a create retried after a drop did not make a twin
    assert len(groups["everyone"]) == USERS
    assert len(groups["odd-ones-out"]) == USERS // 2


def test_a_directory_that_never_answers_fails_the_apply_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When writes keep failing, apply reports each failure and exits 4, with no traceback."""
    files = directory_files(tmp_path / "files")
    db = tmp_path / "s.db"

    class WritesFail(httpx.BaseTransport):
        def __init__(self, inner: httpx.BaseTransport) -> None:
            self.inner = inner

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST" and request.url.path.endswith("/Groups"):
                return httpx.Response(503, json={"status": "503", "detail": "maintenance"})
            return self.inner.handle_request(request)

    runtime = Runtime(retry=RetryPolicy(attempts=2, sleep=lambda s: None), transport=WritesFail)
    run = reconciler(
        "apply", str(files), "--target", f"sandbox:{db}", "--auto-approve", runtime=runtime
    )
    assert run.exit_code == 4
    assert "Traceback" not in run.stderr
    assert "Apply: 40 applied, 2 failed, 0 skipped." in run.stdout
    assert "maintenance" in run.stdout
