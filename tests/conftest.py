"""Shared fixtures: a real scim2-server on loopback, a fresh tenant per test."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

# Loads the Hypothesis profile HYPOTHESIS_PROFILE names (dev, ci, thorough) before any test.
from tests import hypothesis_profiles  # noqa: F401

SCIM2_SERVER_TOKEN = "interop-test-token"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _scim2_server_command() -> list[str]:
    exe = shutil.which("scim2-server", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "scim2_server"]


@pytest.fixture(scope="session")
def scim2_server() -> Iterator[str]:
    """Start scim2-server with dynamic tenants; yield its root URL (no tenant)."""
    port = free_port()
    process = subprocess.Popen(
        [
            *_scim2_server_command(),
            "--hostname",
            "127.0.0.1",
            "--port",
            str(port),
            "--dynamic-tenants",
            "--bearer-token",
            SCIM2_SERVER_TOKEN,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    root = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    try:
        while True:
            try:
                response = httpx.get(
                    f"{root}/probe/v2/ServiceProviderConfig",
                    headers={"Authorization": f"Bearer {SCIM2_SERVER_TOKEN}"},
                    timeout=1,
                )
                if response.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("scim2-server did not start")
            time.sleep(0.1)
        yield root
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


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
