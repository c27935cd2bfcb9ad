"""Answers rewritten by the fault knobs: echoed Authorization, short totals, no members."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox import (
    FaultConfig,
    SandboxApp,
    SandboxStore,
    sandbox_base_url,
    sandbox_transport,
)
from reconciler.sandbox.rewrites import Rewrites, rewrite_body

from .helpers import user_body


@contextmanager
def client_for(db: Path, faults: FaultConfig, token: str | None = None) -> Iterator[httpx.Client]:
    """An in-process client; with a token, the sandbox demands it (served-app path)."""
    if token is None:
        with httpx.Client(
            base_url=sandbox_base_url(), transport=sandbox_transport(db, faults=faults)
        ) as client:
            yield client
        return
    with SandboxStore(db) as store:
        transport = httpx.WSGITransport(app=SandboxApp(store, token, faults))
        with httpx.Client(base_url=sandbox_base_url(), transport=transport) as client:
            yield client


def test_rewrites_are_off_by_default() -> None:
    """No knob, no rewrite: answers pass exactly as the sandbox made them."""
    assert not FaultConfig().rewrites.enabled
    body = b'{"detail":"x","status":"400"}'
    assert (
        rewrite_body(
            Rewrites(), method="GET", path="/Users", authorization="Bearer a", status=400, body=body
        )
        is None
    )


def test_echo_auth_quotes_the_header_in_a_401(tmp_path: Path) -> None:
    """echo_auth: a refused token comes back in the 401's error and as its traceId."""
    with client_for(tmp_path / "s.db", FaultConfig(echo_auth=True), token="right") as client:
        response = client.get("/Users", headers={"Authorization": "Bearer wrong-one"})
    assert response.status_code == 401
    assert "Authorization: Bearer wrong-one" in response.json()["error"]
    assert response.json()["traceId"] == "Bearer wrong-one"


def test_echo_auth_leaves_successful_answers_alone(tmp_path: Path) -> None:
    """Only error answers echo; a served resource is as the directory holds it."""
    with client_for(tmp_path / "s.db", FaultConfig(echo_auth=True)) as client:
        created = client.post(
            "/Users", json=user_body("ann"), headers={"Authorization": "Bearer a"}
        )
        clash = client.post("/Users", json=user_body("ann"), headers={"Authorization": "Bearer a"})
    assert "Authorization" not in created.text
    assert clash.status_code == 409
    assert "Authorization: Bearer a" in clash.json()["detail"]


def test_total_cap_announces_too_few_from_the_first_page_on(tmp_path: Path) -> None:
    """total_cap: every page of a listing says the same small totalResults; nothing else lies."""
    with SandboxStore(tmp_path / "s.db") as store:
        store.seed_users(5)
    with client_for(tmp_path / "s.db", FaultConfig(total_cap=2)) as client:
        first = client.get("/Users", params={"startIndex": 1, "count": 2}).json()
        past = client.get("/Users", params={"startIndex": 3, "count": 2}).json()
    assert (first["totalResults"], len(first["Resources"])) == (2, 2)
    assert (past["totalResults"], len(past["Resources"])) == (2, 2)


@pytest.mark.parametrize(
    ("faults", "listed"),
    [
        pytest.param(FaultConfig(lists_without_members=True), False, id="knob-on"),
        pytest.param(FaultConfig(), True, id="knob-off"),
    ],
)
def test_lists_without_members_hides_them_from_listings_only(
    tmp_path: Path, faults: FaultConfig, listed: bool
) -> None:
    """lists_without_members: no members key in the group listing; GET /Groups/ID has them."""
    with SandboxStore(tmp_path / "s.db") as store:
        ids = store.seed_users(2)
        group = store.create_group({"displayName": "eng"}, ids)
    with client_for(tmp_path / "s.db", faults) as client:
        (resource,) = client.get("/Groups").json()["Resources"]
        single = client.get(f"/Groups/{group.id}").json()
    assert ("members" in resource) is listed
    assert len(single["members"]) == 2
