"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox import sandbox_base_url, sandbox_transport
from tests.e2e.helpers import Directory


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[str, Directory]]:
    """A sandbox target and a plain-httpx view of it."""
    db = tmp_path / "sandbox.db"
    directory = Directory(sandbox_base_url(), transport=sandbox_transport(db))
    yield f"sandbox:{db}", directory
    directory.close()
