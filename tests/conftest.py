"""Shared fixtures: a real scim2-server on loopback, a fresh tenant per test."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import structlog

# Loads the Hypothesis profile HYPOTHESIS_PROFILE names (dev, ci, thorough) before any test.
from tests import hypothesis_profiles  # noqa: F401

SCIM2_SERVER_TOKEN = "interop-test-token"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    command: Callable[[int], list[str]], answers: Callable[[int], bool], attempts: int = 3
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``command(port)`` on a free loopback port; return it once ``answers(port)``.

    Parallel workers (pytest -n) each start their own servers: a port another worker
    took between ``free_port`` and the bind makes the process exit, and it is started
    again on another port; a port that answers counts only while the process lives.
    """
    for _ in range(attempts):
        port = free_port()
        process = subprocess.Popen(
            command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if answers(port) and process.poll() is None:
                    return process, port
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        stop_server(process)
    raise RuntimeError(f"{command(0)[0]} did not start on a free port")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _scim2_server_command() -> list[str]:
    exe = shutil.which("scim2-server", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "scim2_server"]


@pytest.fixture(autouse=True)
def _logging_as_before() -> Iterator[None]:
    """Each test starts with structlog as the previous one found it: an in-process CLI
    run configures it for the whole process (a level for -q or console logs), and
    ``capture_logs`` swaps only the processors, so a later test would see no events."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.fixture(scope="session")
def scim2_server() -> Iterator[str]:
    """Start scim2-server with dynamic tenants; yield its root URL (no tenant).

    Session-scoped: one server per test process, so one per xdist worker."""

    def command(port: int) -> list[str]:
        return [
            *_scim2_server_command(),
            "--hostname",
            "127.0.0.1",
            "--port",
            str(port),
            "--dynamic-tenants",
            "--bearer-token",
            SCIM2_SERVER_TOKEN,
        ]

    def answers(port: int) -> bool:
        response = httpx.get(
            f"http://127.0.0.1:{port}/probe/v2/ServiceProviderConfig",
            headers={"Authorization": f"Bearer {SCIM2_SERVER_TOKEN}"},
            timeout=1,
        )
        return response.status_code == 200

    process, port = start_server(command, answers)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(process)


@pytest.fixture
def scim2_tenant(scim2_server: str) -> str:
    """The base URL of a new, empty directory on the shared scim2-server."""
    return f"{scim2_server}/t{secrets.token_hex(6)}/v2"


@pytest.fixture
def scim2_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the scim2-server token where reconciler reads it by default."""
    monkeypatch.setenv("RECONCILER_TOKEN", SCIM2_SERVER_TOKEN)


@pytest.fixture
def sandbox_db(tmp_path: Path) -> Path:
    """A path for a fresh sandbox database."""
    return tmp_path / "sandbox.db"


# Whole folders of slow tests: each end-to-end test runs the CLI in a process or
# against a served directory, and the contract tests start scim2-server. The fast loop
# (docs/contributing.md) leaves them to CI; single slow tests elsewhere say so with
# @pytest.mark.slow.
_SLOW_FOLDERS = ("e2e", "contract")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent
    for item in items:
        parts = item.path.relative_to(tests).parts if item.path.is_relative_to(tests) else ()
        if parts and parts[0] in _SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)
