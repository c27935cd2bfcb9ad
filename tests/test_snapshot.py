"""Reading the live directory: complete, and never planned from groups without members."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from reconciler.errors import InconsistentReadError, ServerError
from reconciler.sandbox import (
    FaultConfig,
    SandboxStore,
    sandbox_base_url,
    sandbox_transport,
)
from reconciler.scim.client import ScimClient
from reconciler.scim.retry import RetryPolicy
from reconciler.snapshot import read_snapshot

Handler = Callable[[httpx.Request], httpx.Response]


class Counting(httpx.BaseTransport):
    """Passes requests on and remembers each path (without the base path)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path.removeprefix("/scim/directory/sandbox"))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def seeded(db: Path, *, empty_group: bool) -> dict[str, set[str]]:
    """Five users and a group with three of them. Group name -> member ids."""
    expected = {}
    with SandboxStore(db) as store:
        ids = store.seed_users(5, prefix="u", domain="example.com")
        store.create_group({"displayName": "eng"}, ids[:3])
        expected["eng"] = set(ids[:3])
        if empty_group:
            store.create_group({"displayName": "empty"}, [])
            expected["empty"] = set()
    return expected


def read(db: Path, faults: FaultConfig | None = None) -> tuple[dict[str, set[str]], list[str]]:
    """Group name -> member ids as read, and the paths requested."""
    transport = Counting(sandbox_transport(db, faults=faults))
    with ScimClient(sandbox_base_url(), transport=transport) as client:
        live = read_snapshot(client, page_size=100)
    return {g.displayName: set(g.member_ids) for g in live.groups}, transport.paths


def test_groups_listed_without_members_are_read_one_by_one(tmp_path: Path) -> None:
    """A group listing that leaves out members costs one GET per such group, and loses nobody."""
    expected = seeded(tmp_path / "s.db", empty_group=True)
    groups, paths = read(tmp_path / "s.db", FaultConfig(lists_without_members=True))
    assert groups == expected
    assert len([p for p in paths if p.startswith("/Groups/")]) == 2


def test_groups_listed_with_members_are_not_read_again(tmp_path: Path) -> None:
    """Listings that show members cost one request per page plus one probe per listing."""
    expected = seeded(tmp_path / "s.db", empty_group=False)
    groups, paths = read(tmp_path / "s.db")
    assert groups == expected
    assert paths == ["/Users", "/Users", "/Groups", "/Groups"]


def listing_without_members(single: Handler) -> Handler:
    """A server whose group listing leaves members out; ``single`` answers GET /Groups/g1."""

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/Users"):
            return httpx.Response(200, json={"totalResults": 0, "Resources": []})
        if path.endswith("/Groups"):
            listed = [{"id": "g1", "displayName": "eng"}]
            start = int(request.url.params["startIndex"])
            return httpx.Response(200, json={"totalResults": 1, "Resources": listed[start - 1 :]})
        return single(request)

    return handle


@pytest.mark.parametrize(
    ("single", "error", "message"),
    [
        pytest.param(
            lambda r: httpx.Response(404, json={"detail": "gone"}),
            InconsistentReadError,
            "could not be read on its own",
            id="gone",
        ),
        pytest.param(
            lambda r: httpx.Response(200, json={"id": "g2", "displayName": "ops"}),
            InconsistentReadError,
            "could not be read on its own",
            id="another-group",
        ),
        pytest.param(
            lambda r: httpx.Response(503, json={"detail": "busy"}),
            ServerError,
            "busy",
            id="fails",
        ),
    ],
)
def test_group_that_cannot_be_read_alone_fails_the_read(
    single: Handler, error: type[Exception], message: str
) -> None:
    """Members are never taken as empty from a listing that left them out: fail closed."""
    client = ScimClient(
        "https://scim.example.test/v2",
        transport=httpx.MockTransport(listing_without_members(single)),
        retry=RetryPolicy(attempts=2, sleep=lambda s: None),
    )
    with client, pytest.raises(error, match=message):
        read_snapshot(client, page_size=100)


def test_group_read_alone_gives_its_members() -> None:
    """The group's own answer is the group: its members are planned from there."""
    single = httpx.Response(
        200, json={"id": "g1", "displayName": "eng", "members": [{"value": "u1"}]}
    )
    client = ScimClient(
        "https://scim.example.test/v2",
        transport=httpx.MockTransport(listing_without_members(lambda r: single)),
    )
    with client:
        live = read_snapshot(client, page_size=100)
    assert [set(g.member_ids) for g in live.groups] == [{"u1"}]
