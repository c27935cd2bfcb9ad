"""The organisation's Admin API: SCIM links looked up, unlinked, deleted.

As docs/atlassian.md "The sandbox's organisation" describes it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox import (
    SANDBOX_ORG_ID,
    SandboxServer,
    sandbox_admin_url,
    sandbox_base_url,
    sandbox_transport,
)

from .helpers import ATLASSIAN, user_body
from .test_org import ORG, seed_text

BEARER = {"Authorization": "Bearer any-org-key"}
LINK_KEYS = {"atlassianAccountId", "directoryId", "orgId", "scimUserId"}


@pytest.fixture
def admin(sandbox_db: Path) -> Iterator[httpx.Client]:
    """An in-process client on the sandbox's origin, its organisation seeded with ``ORG``."""
    seed_text(sandbox_db, ORG)
    with httpx.Client(transport=sandbox_transport(sandbox_db), headers=BEARER) as client:
        yield client


def _scim(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return client.request(method, sandbox_base_url() + path, **kwargs)


def _links_for(client: httpx.Client, email: str) -> list[dict[str, Any]]:
    response = client.post(f"{sandbox_admin_url()}/get-scim-links-for-email", json={"email": email})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return list(response.json()["scimLinks"])


def _create(client: httpx.Client, email: str) -> dict[str, Any]:
    response = _scim(client, "POST", "/Users", json=user_body(email))
    assert response.status_code == 201, response.text
    return dict(response.json())


# Authentication -----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Bearer "}, id="empty"),
        pytest.param({"Authorization": "Basic any-org-key"}, id="wrong-scheme"),
    ],
)
def test_in_process_the_admin_api_needs_a_bearer_token(
    sandbox_db: Path, headers: dict[str, str]
) -> None:
    """In-process any bearer token will do, but none is 401 with Atlassian's non-SCIM body."""
    with httpx.Client(transport=sandbox_transport(sandbox_db)) as client:
        url = f"{sandbox_admin_url()}/user/x/get-scim-links"
        refused = client.get(url, headers=headers)
        assert refused.status_code == 401
        assert set(refused.json()) == {"error", "traceId"}
        assert client.get(url, headers=BEARER).status_code == 404  # authorised: no such account


def test_in_process_an_org_token_given_is_required(sandbox_db: Path) -> None:
    """With ``org_token``, the in-process Admin API takes that token and no other."""
    transport = sandbox_transport(sandbox_db, org_token="0rg")
    with httpx.Client(transport=transport) as client:
        url = f"{sandbox_admin_url()}/get-scim-links-for-email"
        body = {"email": "a@example.com"}
        assert client.post(url, json=body, headers=BEARER).status_code == 401
        ok = client.post(url, json=body, headers={"Authorization": "Bearer 0rg"})
        assert ok.json() == {"scimLinks": []}


def test_served_admin_api_uses_its_own_token(sandbox_db: Path) -> None:
    """Served, the Admin API takes only --org-token; the directory key does not open it."""
    with SandboxServer(sandbox_db, port=0, token="dir", org_token="0rg") as server:
        thread = threading.Thread(target=server.serve_forever)
        thread.start()
        try:
            url = f"{sandbox_admin_url(server.origin)}/get-scim-links-for-email"
            body = {"email": "a@example.com"}
            with httpx.Client(timeout=5) as client:
                for token in (None, "dir", "wrong"):
                    headers = {"Authorization": f"Bearer {token}"} if token else {}
                    assert client.post(url, json=body, headers=headers).status_code == 401
                answer = client.post(url, json=body, headers={"Authorization": "Bearer 0rg"})
                assert (answer.status_code, answer.json()) == (200, {"scimLinks": []})
                users = client.get(
                    server.base_url + "/Users", headers={"Authorization": "Bearer 0rg"}
                )
                assert users.status_code == 401  # and the org key does not open the directory
        finally:
            server.shutdown()
            thread.join(10)


def test_served_without_an_org_token_the_admin_api_is_closed(sandbox_db: Path) -> None:
    """``sandbox serve`` without --org-token answers 401 to every Admin API request."""
    with SandboxServer(sandbox_db, port=0) as server:
        thread = threading.Thread(target=server.serve_forever)
        thread.start()
        try:
            url = f"{sandbox_admin_url(server.origin)}/user/x/get-scim-links"
            assert httpx.get(url, headers=BEARER, timeout=5).status_code == 401
        finally:
            server.shutdown()
            thread.join(10)


# Lookups ------------------------------------------------------------------------


def test_links_for_an_email_have_atlassians_shape(admin: httpx.Client) -> None:
    """POST get-scim-links-for-email answers {"scimLinks": [...]} with the four published keys."""
    carol = _create(admin, "carol@example.com")
    [link] = _links_for(admin, "CAROL@example.com")
    assert set(link) == LINK_KEYS
    assert link == {
        "atlassianAccountId": "acc-carol",
        "directoryId": "sandbox",
        "orgId": SANDBOX_ORG_ID,
        "scimUserId": carol["id"],
    }
    [foreign] = _links_for(admin, "dave@example.com")
    assert foreign["directoryId"] == "other-dir"
    assert foreign["atlassianAccountId"]
    assert _links_for(admin, "nobody@example.com") == []


def test_links_of_an_account(admin: httpx.Client) -> None:
    """GET user/{accountId}/get-scim-links lists the account's links; unknown accounts are 404."""
    ann = _create(admin, "ann@example.com")
    account = ann[ATLASSIAN]["atlassianAccountId"]
    response = admin.get(f"{sandbox_admin_url()}/user/{account}/get-scim-links")
    assert response.json() == {
        "scimLinks": [
            {
                "atlassianAccountId": account,
                "directoryId": "sandbox",
                "orgId": SANDBOX_ORG_ID,
                "scimUserId": ann["id"],
            }
        ]
    }
    unlinked = admin.get(f"{sandbox_admin_url()}/user/acc-carol/get-scim-links")
    assert unlinked.json() == {"scimLinks": []}
    assert admin.get(f"{sandbox_admin_url()}/user/nope/get-scim-links").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"not json", id="not-json"),
        pytest.param(b"[]", id="not-an-object"),
        pytest.param(b'{"mail": "a@example.com"}', id="no-email"),
        pytest.param(b'{"email": "no-at-sign"}', id="not-an-email"),
        pytest.param(b'{"email": "\\ud800@example.com"}', id="lone-surrogate"),
    ],
)
def test_a_bad_email_lookup_is_400(admin: httpx.Client, body: bytes) -> None:
    """A lookup body that is not {"email": "<address>"} is a 400, never a traceback."""
    response = admin.post(
        f"{sandbox_admin_url()}/get-scim-links-for-email",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_other_organisations_and_methods(admin: httpx.Client) -> None:
    """Only the organisation sandbox-org exists (404 elsewhere); a wrong method is 405."""
    other = sandbox_admin_url().replace(SANDBOX_ORG_ID, "other-org")
    assert admin.get(f"{other}/user/acc-carol/get-scim-links").status_code == 404
    response = admin.delete(f"{sandbox_admin_url()}/user/acc-carol/get-scim-links")
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
    assert admin.get(f"{sandbox_admin_url()}/no/such/endpoint").status_code == 404


# Unlink and delete --------------------------------------------------------------


def test_unlinking_a_user_of_this_directory_keeps_its_record(admin: httpx.Client) -> None:
    """PATCH .../unlink (204), as the API reference says: the SCIM user stays, unlinked and out
    of its groups; its next update links it to its account again (docs/atlassian.md "Unlink
    and delete")."""
    carol = _create(admin, "carol@example.com")
    group = _scim(
        admin, "POST", "/Groups", json={"displayName": "g", "members": [{"value": carol["id"]}]}
    )
    url = f"{sandbox_admin_url()}/scimDirectoryId/sandbox/scimUserId/{carol['id']}/unlink"
    response = admin.patch(url)
    assert (response.status_code, response.content) == (204, b"")
    assert _scim(admin, "GET", f"/Users/{carol['id']}").status_code == 200
    assert "members" not in _scim(admin, "GET", f"/Groups/{group.json()['id']}").json()
    assert _links_for(admin, "carol@example.com") == []
    assert admin.patch(url).status_code == 404  # no link left to detach
    patch = {"Operations": [{"op": "replace", "path": "title", "value": "Engineer"}]}
    assert _scim(admin, "PATCH", f"/Users/{carol['id']}", json=patch).status_code == 200
    [link] = _links_for(admin, "carol@example.com")
    assert (link["scimUserId"], link["atlassianAccountId"]) == (carol["id"], "acc-carol")
    assert "members" not in _scim(admin, "GET", f"/Groups/{group.json()['id']}").json()


def test_unlinking_another_directorys_user_frees_the_email(admin: httpx.Client) -> None:
    """After unlinking the other directory's user, a create with that email links the account."""
    [link] = _links_for(admin, "dave@example.com")
    assert _scim(admin, "POST", "/Users", json=user_body("dave@example.com")).status_code == 409
    url = f"{sandbox_admin_url()}/scimDirectoryId/other-dir/scimUserId/{link['scimUserId']}/unlink"
    assert admin.patch(url).status_code == 204
    dave = _create(admin, "dave@example.com")
    assert dave[ATLASSIAN]["atlassianAccountId"] == link["atlassianAccountId"]
    missing = f"{sandbox_admin_url()}/scimDirectoryId/other-dir/scimUserId/nope/unlink"
    assert admin.patch(missing).status_code == 404


def test_only_delete_user_in_db_removes_every_scim_record(admin: httpx.Client) -> None:
    """DELETE user/{accountId}/onlyDeleteUserInDB (204) removes its SCIM users everywhere."""
    [link] = _links_for(admin, "dave@example.com")
    account = link["atlassianAccountId"]
    url = f"{sandbox_admin_url()}/user/{account}/onlyDeleteUserInDB"
    assert admin.delete(url).status_code == 204
    assert _links_for(admin, "dave@example.com") == []
    dave = _create(admin, "dave@example.com")
    assert dave[ATLASSIAN]["atlassianAccountId"] == account
    assert admin.delete(url).status_code == 204
    assert _scim(admin, "GET", f"/Users/{dave['id']}").status_code == 404
    assert admin.delete(f"{sandbox_admin_url()}/user/nope/onlyDeleteUserInDB").status_code == 404
