"""Fixtures for the sandbox tests: an in-process client and small resource factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox import sandbox_base_url, sandbox_transport

from .helpers import user_body

UserFactory = Callable[..., dict[str, Any]]
GroupFactory = Callable[..., dict[str, Any]]


@pytest.fixture
def client(sandbox_db: Path) -> Iterator[httpx.Client]:
    """An httpx client talking to a fresh sandbox in-process, without a token."""
    with httpx.Client(base_url=sandbox_base_url(), transport=sandbox_transport(sandbox_db)) as c:
        yield c


@pytest.fixture
def new_user(client: httpx.Client) -> UserFactory:
    """Create a user through the API; returns the created resource."""

    def create(name: str, /, **extra: Any) -> dict[str, Any]:
        response = client.post("/Users", json=user_body(name, **extra))
        assert response.status_code == 201, response.text
        return dict(response.json())

    return create


@pytest.fixture
def new_group(client: httpx.Client) -> GroupFactory:
    """Create a group through the API, optionally with members; returns the resource."""

    def create(name: str, *member_ids: str) -> dict[str, Any]:
        body: dict[str, Any] = {"displayName": name}
        if member_ids:
            body["members"] = [{"value": i} for i in member_ids]
        response = client.post("/Groups", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    return create
