"""Managed and unmanaged accounts, default group names, size caps and the read-only extension.

As docs/atlassian.md "The sandbox's organisation" models them: an organisation with
verified domains, an update that Atlassian answers 200 and then unlinks, a group name
it takes and never syncs, caps on the directory, and the extension its OpenAPI
description marks read-only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.errors import DesiredStateError
from reconciler.sandbox import (
    SANDBOX_ORIGIN,
    SandboxStore,
    sandbox_admin_url,
    sandbox_base_url,
    sandbox_transport,
)

from .helpers import ENTERPRISE, patch_body, scim_error, user_body
from .test_org import seed_text

ORG = """
version: 1
org:
  domains: [example.com, Example.org]
  accounts:
    - {email: pat@partner.net, account_id: acc-pat}
    - {email: quinn@example.com, account_id: acc-quinn}
  groups: [design]
"""


@pytest.fixture
def org(sandbox_db: Path) -> Iterator[httpx.Client]:
    """A client on the sandbox's origin (directory and Admin API), seeded with ``ORG``."""
    seed_text(sandbox_db, ORG)
    headers = {"Authorization": "Bearer org-key"}
    with httpx.Client(transport=sandbox_transport(sandbox_db), headers=headers) as client:
        yield client


def _scim(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return client.request(method, sandbox_base_url() + path, **kwargs)


def _create(client: httpx.Client, email: str, **extra: Any) -> dict[str, Any]:
    response = _scim(client, "POST", "/Users", json=user_body(email, **extra))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _links(client: httpx.Client, email: str) -> list[str]:
    url = f"{sandbox_admin_url()}/get-scim-links-for-email"
    return [
        link["scimUserId"] for link in client.post(url, json={"email": email}).json()["scimLinks"]
    ]


def _group_with(client: httpx.Client, name: str, *ids: str) -> str:
    body = {"displayName": name, "members": [{"value": i} for i in ids]}
    response = _scim(client, "POST", "/Groups", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _members(client: httpx.Client, group_id: str) -> list[str]:
    group = _scim(client, "GET", f"/Groups/{group_id}").json()
    return [m["value"] for m in group.get("members", [])]


def _patch(client: httpx.Client, user_id: str, *ops: dict[str, Any]) -> httpx.Response:
    return _scim(client, "PATCH", f"/Users/{user_id}", json=patch_body(*ops))


def _email(value: str) -> dict[str, Any]:
    return {"op": "replace", "path": "emails", "value": [{"value": value, "primary": True}]}


def test_a_create_outside_the_verified_domains_links_the_unmanaged_account(
    org: httpx.Client,
) -> None:
    """The API reference (create a user): accounts outside the organisation are created
    and linked too, so they can be put in SCIM groups; pat's existing account is linked."""
    pat = _create(org, "pat@partner.net")
    assert _links(org, "pat@partner.net") == [pat["id"]]
    group = _group_with(org, "partners", pat["id"])
    assert _members(org, group) == [pat["id"]]


def test_a_profile_change_of_an_unmanaged_account_is_200_then_unlinks_it(
    org: httpx.Client,
) -> None:
    """Support KB "Email address change via User Provisioning is not reflected": the
    update is taken (200), then the SCIM user is unlinked and out of its groups."""
    pat = _create(org, "pat@partner.net")
    group = _group_with(org, "partners", pat["id"])
    response = _patch(org, pat["id"], {"op": "replace", "path": "title", "value": "Vendor"})
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Vendor"
    assert _links(org, "pat@partner.net") == []
    assert _members(org, group) == []
    assert _scim(org, "GET", f"/Users/{pat['id']}").status_code == 200


def test_an_email_moved_off_the_verified_domains_is_200_then_unlinks(org: httpx.Client) -> None:
    """A managed account's email moved to a domain that is not verified: 200, unlinked, out
    of its groups; the account keeps the old email (nothing changed on Atlassian's side)."""
    ann = _create(org, "ann@example.com")
    group = _group_with(org, "eng", ann["id"])
    assert _patch(org, ann["id"], _email("ann@gmail.test")).status_code == 200
    assert _links(org, "ann@example.com") == []
    assert _links(org, "ann@gmail.test") == []
    assert _members(org, group) == []
    listed = org.get(f"{SANDBOX_ORIGIN}/admin/v1/orgs/sandbox-org/users").json()
    assert "ann@example.com" in {account["email"] for account in listed["data"]}


def test_deactivating_an_unmanaged_account_keeps_its_link(org: httpx.Client) -> None:
    """Only the attributes that reach the account unlink it; active is not one of them."""
    pat = _create(org, "pat@partner.net")
    assert _patch(org, pat["id"], {"op": "replace", "path": "active", "value": False}).is_success
    assert _links(org, "pat@partner.net") == [pat["id"]]


def test_managed_accounts_stay_linked_and_domains_fold_case(org: httpx.Client) -> None:
    """An update within the verified domains (Example.org listed in another case) keeps
    the link and moves the account's email."""
    ann = _create(org, "ann@example.com")
    assert _patch(org, ann["id"], _email("Ann@EXAMPLE.ORG")).status_code == 200
    assert _links(org, "ann@example.org") == [ann["id"]]


def test_without_domains_every_account_is_managed(sandbox_db: Path, client: httpx.Client) -> None:
    """An organisation that lists no domains manages every account, as before domains."""
    created = client.post("/Users", json=user_body("pat@partner.net")).json()
    op = {"op": "replace", "path": "title", "value": "Vendor"}
    assert client.patch(f"/Users/{created['id']}", json=patch_body(op)).status_code == 200
    with SandboxStore(sandbox_db) as store:
        assert store.rows("SELECT linked FROM users") == [(1,)]


def test_an_unlinked_user_is_linked_again_by_an_update_on_a_verified_domain(
    org: httpx.Client,
) -> None:
    """After an email moved off the verified domains, moving it back links the user again
    (out of its groups still: they are provisioned again, ACCESS-1737)."""
    ann = _create(org, "ann@example.com")
    _patch(org, ann["id"], _email("ann@gmail.test"))
    _patch(org, ann["id"], {"op": "replace", "path": "title", "value": "still outside"})
    assert _links(org, "ann@example.com") == []
    assert _patch(org, ann["id"], _email("ann@example.com")).status_code == 200
    assert _links(org, "ann@example.com") == [ann["id"]]


def test_a_default_access_group_name_is_created_and_a_taken_one_is_409(
    org: httpx.Client,
) -> None:
    """The OpenAPI's Limitations: a product's default-access or built-in group name gets a
    success answer (and is never synced); a name another directory holds is 409."""
    for name in ("jira-software-users-acme", "site-admins", "Confluence-Users"):
        assert _scim(org, "POST", "/Groups", json={"displayName": name}).status_code == 201
    refused = _scim(org, "POST", "/Groups", json={"displayName": "Design"})
    assert scim_error(refused, 409, "uniqueness").startswith("Resource [GROUP]")


def test_a_fixture_cannot_list_a_default_group_name_as_taken(sandbox_db: Path) -> None:
    """Default-access names are the sandbox's own rule, so a fixture listing one is refused."""
    with pytest.raises(DesiredStateError, match="default-access or built-in group name"):
        seed_text(sandbox_db, "version: 1\norg:\n  groups: [jira-admins]\n")


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        pytest.param("example", "not a domain name", id="no-dot"),
        pytest.param("ann@example.com", "not a domain name", id="an-email"),
    ],
)
def test_a_fixture_domain_must_be_a_domain(sandbox_db: Path, domain: str, message: str) -> None:
    """org.domains takes domain names only."""
    with pytest.raises(DesiredStateError, match=message):
        seed_text(sandbox_db, f"version: 1\norg:\n  domains: ['{domain}']\n")


def test_size_caps_refuse_writes_past_them(sandbox_db: Path) -> None:
    """docs/atlassian.md "Size caps": past the organisation's caps (here a fixture's), a
    create or a member add is refused with 400 and changes nothing."""
    seed_text(sandbox_db, "version: 1\norg:\n  caps: {users: 2, groups: 1, group_members: 1}\n")
    with httpx.Client(base_url=sandbox_base_url(), transport=sandbox_transport(sandbox_db)) as c:
        ids = [c.post("/Users", json=user_body(n)).json()["id"] for n in ("ann", "bob")]
        detail = scim_error(c.post("/Users", json=user_body("cy")), 400, "invalidValue")
        assert "holds 2 users" in detail
        both = {"displayName": "g", "members": [{"value": i} for i in ids]}
        assert "would hold 2 members" in scim_error(
            c.post("/Groups", json=both), 400, "invalidValue"
        )
        group = c.post("/Groups", json={"displayName": "g", "members": [{"value": ids[0]}]}).json()
        add = {"op": "add", "path": "members", "value": [{"value": ids[1]}]}
        scim_error(c.patch(f"/Groups/{group['id']}", json=patch_body(add)), 400, "invalidValue")
        assert [m["value"] for m in c.get(f"/Groups/{group['id']}").json()["members"]] == ids[:1]
        scim_error(c.post("/Groups", json={"displayName": "h"}), 400, "invalidValue")
        assert c.get("/Users").json()["totalResults"] == 2


def test_the_published_caps_are_the_default(sandbox_db: Path) -> None:
    """Without a fixture, the caps are Atlassian's published maxima."""
    from reconciler.sandbox import org

    with SandboxStore(sandbox_db) as store:
        caps = org.caps(store)
    assert (caps.users, caps.groups, caps.group_members, caps.memberships) == (
        1_000_000,
        250_000,
        290_000,
        8_000_000,
    )


def test_the_memberships_cap_counts_every_group(sandbox_db: Path) -> None:
    """The directory's total of memberships (fixture caps.memberships) is a cap of its own:
    two groups of one member each fill a cap of two, and a third membership is 400."""
    seed_text(sandbox_db, "version: 1\norg:\n  caps: {memberships: 2}\n")
    with httpx.Client(base_url=sandbox_base_url(), transport=sandbox_transport(sandbox_db)) as c:
        ann, bob = (c.post("/Users", json=user_body(n)).json()["id"] for n in ("ann", "bob"))
        for name, member in (("g", ann), ("h", bob)):
            made = c.post("/Groups", json={"displayName": name, "members": [{"value": member}]})
            assert made.status_code == 201, made.text
        group = c.get("/Groups", params={"filter": 'displayName eq "g"'}).json()["Resources"][0]
        add = {"op": "add", "path": "members", "value": [{"value": bob}]}
        detail = scim_error(
            c.patch(f"/Groups/{group['id']}", json=patch_body(add)), 400, "invalidValue"
        )
        assert "would hold 3 memberships; its limit is 2" in detail
        assert [m["value"] for m in c.get(f"/Groups/{group['id']}").json()["members"]] == [ann]


@pytest.fixture
def read_only(sandbox_db: Path) -> Iterator[httpx.Client]:
    """A sandbox that takes the enterprise extension as read-only."""
    transport = sandbox_transport(sandbox_db, enterprise_read_only=True)
    with httpx.Client(base_url=sandbox_base_url(), transport=transport) as client:
        yield client


def test_a_read_only_extension_is_ignored_in_a_create(read_only: httpx.Client) -> None:
    """RFC 7644 section 3.3: read-only attributes in a body are ignored; the top level
    is still written."""
    body = user_body("ann", department="R&D", **{ENTERPRISE: {"organization": "ACME"}})
    created = read_only.post("/Users", json=body).json()
    assert created["department"] == "R&D"
    assert "organization" not in created


def test_a_read_only_extension_refuses_a_patch(read_only: httpx.Client) -> None:
    """RFC 7644 section 3.5.2: an operation on a read-only attribute is 400 mutability, and the
    whole PATCH with it; the same removal at the top level is taken."""
    ann = read_only.post("/Users", json=user_body("ann", department="R&D")).json()
    both = patch_body(
        {"op": "remove", "path": "department"},
        {"op": "remove", "path": f"{ENTERPRISE}:department"},
    )
    scim_error(read_only.patch(f"/Users/{ann['id']}", json=both), 400, "mutability")
    assert read_only.get(f"/Users/{ann['id']}").json()["department"] == "R&D"
    top = patch_body({"op": "remove", "path": "department"})
    assert read_only.patch(f"/Users/{ann['id']}", json=top).status_code == 200
    assert "department" not in read_only.get(f"/Users/{ann['id']}").json()


def test_a_schema_3_database_gets_domains_caps_and_links(sandbox_db: Path) -> None:
    """A sandbox written before domains, caps and unlinked users existed opens with its
    users linked, and takes a fixture with domains."""
    with SandboxStore(sandbox_db) as store:
        store.seed_users(2)
    with sqlite3.connect(sandbox_db, isolation_level=None) as raw:
        raw.execute("DROP TABLE org_domains")
        raw.execute("DROP TABLE org_caps")
        raw.execute("ALTER TABLE users DROP COLUMN linked")
        raw.execute("PRAGMA user_version = 3")
    raw.close()
    seed_text(sandbox_db, "version: 1\norg:\n  domains: [example.com]\n")
    with SandboxStore(sandbox_db) as store:
        assert store.rows("SELECT linked FROM users") == [(1,), (1,)]
        assert store.rows("SELECT name_key FROM org_domains") == [("example.com",)]
