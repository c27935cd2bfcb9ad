"""The Organizations API's managed accounts and verified domains, served and read.

docs/atlassian.md "The organisation around the directory": ``GET
/admin/v1/orgs/{orgId}/users`` (managed accounts, 50 a page, by cursor) and ``GET
.../domains``, with the organisation's API key; ``AdminClient`` reads every page.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox import (
    SANDBOX_ORIGIN,
    SandboxServer,
    sandbox_admin_url,
    sandbox_base_url,
    sandbox_transport,
)
from reconciler.scim.admin import AdminClient, ManagedAccount

from .helpers import patch_body, user_body
from .test_org import seed_text

USERS_URL = f"{SANDBOX_ORIGIN}/admin/v1/orgs/sandbox-org/users"
DOMAINS_URL = f"{SANDBOX_ORIGIN}/admin/v1/orgs/sandbox-org/domains"


def _org(accounts: int) -> str:
    lines = ["version: 1", "org:", "  domains: [example.com]", "  accounts:"]
    lines += [
        f"    - {{email: u{i:03d}@example.com, account_id: a{i:03d}}}" for i in range(accounts)
    ]
    lines += ["    - {email: pat@partner.net, account_id: z-pat}"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def org(sandbox_db: Path) -> Iterator[httpx.Client]:
    """A client with an organisation key, on a sandbox of 60 managed accounts and one not."""
    seed_text(sandbox_db, _org(60))
    headers = {"Authorization": "Bearer org-key"}
    with httpx.Client(transport=sandbox_transport(sandbox_db), headers=headers) as client:
        yield client


def test_managed_accounts_come_50_a_page_by_cursor(org: httpx.Client) -> None:
    """The published UserPage shape; 50 a page (AX-243), ``links.next`` until the last;
    the account outside the verified domains is not listed."""
    first = org.get(USERS_URL).json()
    assert len(first["data"]) == 50
    assert first["meta"] == {"total": 60}
    assert first["data"][0] == {
        "account_id": "a000",
        "account_type": "atlassian",
        "account_status": "active",
        "name": "u000@example.com",
        "picture": f"{SANDBOX_ORIGIN}/avatars/a000",
        "email": "u000@example.com",
        "links": {"self": f"{SANDBOX_ORIGIN}/users/a000/manage/profile"},
    }
    second = org.get(first["links"]["next"]).json()
    assert [a["account_id"] for a in second["data"]] == [f"a{i:03d}" for i in range(50, 60)]
    assert "next" not in second["links"]


def test_a_deactivated_users_account_is_listed_inactive(org: httpx.Client) -> None:
    """A user of the directory that is deactivated shows its account as inactive."""
    base = sandbox_base_url()
    user = org.post(f"{base}/Users", json=user_body("u000@example.com")).json()
    off = patch_body({"op": "replace", "path": "active", "value": False})
    assert org.patch(f"{base}/Users/{user['id']}", json=off).status_code == 200
    statuses = {a["email"]: a["account_status"] for a in org.get(USERS_URL).json()["data"]}
    assert statuses["u000@example.com"] == "inactive"


def test_verified_domains_are_listed(org: httpx.Client) -> None:
    """The published DomainPage shape: each verified domain with a verified claim."""
    (domain,) = org.get(DOMAINS_URL).json()["data"]
    assert domain["type"] == "domains"
    assert domain["attributes"] == {
        "name": "example.com",
        "claim": {"type": "dns", "status": "verified"},
    }


def test_the_organizations_api_needs_a_key(sandbox_db: Path) -> None:
    """Without a bearer token: 401 with Atlassian's non-SCIM body, as the Admin API."""
    with httpx.Client(transport=sandbox_transport(sandbox_db)) as client:
        response = client.get(USERS_URL)
    assert response.status_code == 401
    assert set(response.json()) == {"error", "traceId"}


def test_the_admin_client_reads_every_page_in_process(sandbox_db: Path) -> None:
    """``AdminClient.managed_accounts`` follows the cursor to the end; domains in one read."""
    seed_text(sandbox_db, _org(120))
    transport = sandbox_transport(sandbox_db)
    with AdminClient(sandbox_admin_url(), token="org-key", transport=transport) as admin:
        accounts = admin.managed_accounts()
        assert admin.verified_domains() == ["example.com"]
    assert len(accounts) == 120
    assert accounts[0] == ManagedAccount("a000", "u000@example.com", "active")


def test_the_admin_client_reads_a_served_organisation(sandbox_db: Path) -> None:
    """Over loopback HTTP, with the server's organisation key."""
    seed_text(sandbox_db, _org(55))
    server = SandboxServer(sandbox_db, port=0, org_token="org-t0k")
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        with AdminClient(sandbox_admin_url(server.origin), token="org-t0k") as admin:
            assert len(admin.managed_accounts()) == 55
            assert admin.verified_domains() == ["example.com"]
    finally:
        server.shutdown()
        thread.join(10)
        server.close()
