"""The organisation around the directory: account links, 409s on links and names held elsewhere."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox import SandboxStore, sandbox_base_url, sandbox_transport
from reconciler.sandbox.seeding import seed
from reconciler.sandbox.sql import DDL

from .conftest import UserFactory
from .helpers import ATLASSIAN, ENTERPRISE, patch_body, scim_error, user_body

ORG = """
version: 1
org:
  accounts:
    - {email: carol@example.com, account_id: acc-carol}
    - {email: dave@example.com, linked_to: other-dir}
  groups: [design, platform-team]
"""


def seed_text(db: Path, text: str, name: str = "org.yaml") -> None:
    """Write ``text`` next to the database and seed it with ``reconciler.sandbox.seeding``."""
    path = db.parent / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    with SandboxStore(db) as store:
        seed(store, [path])


@pytest.fixture
def org_client(sandbox_db: Path) -> Iterator[httpx.Client]:
    """An in-process client to a sandbox whose organisation is ``ORG``."""
    seed_text(sandbox_db, ORG)
    transport = sandbox_transport(sandbox_db)
    with httpx.Client(base_url=sandbox_base_url(), transport=transport) as client:
        yield client


def _create(client: httpx.Client, email: str, **extra: Any) -> httpx.Response:
    return client.post("/Users", json=user_body(email, **extra))


def test_create_links_the_unlinked_account_with_that_email(org_client: httpx.Client) -> None:
    """docs/atlassian.md "The sandbox's organisation": a create whose email has an unlinked
    account links to it (201)."""
    response = _create(org_client, "Carol@Example.com")
    assert response.status_code == 201, response.text
    assert response.json()[ATLASSIAN] == {"atlassianAccountId": "acc-carol"}


def test_create_with_an_email_linked_to_another_directory_is_409(
    org_client: httpx.Client,
) -> None:
    """docs/atlassian.md "Conflicts (409)": an email whose account another directory links is
    409 uniqueness."""
    detail = scim_error(_create(org_client, "dave@example.com"), 409, "uniqueness")
    assert detail == "Resource [USER]: with email[dave@example.com] already exists"
    assert org_client.get("/Users").json()["totalResults"] == 0


def test_a_different_user_name_does_not_escape_the_link(org_client: httpx.Client) -> None:
    """The primary email decides the account, whatever the userName is."""
    response = org_client.post(
        "/Users",
        json={"userName": "d.other", "emails": [{"value": "DAVE@example.com", "primary": True}]},
    )
    scim_error(response, 409, "uniqueness")


def test_changing_an_email_to_one_held_elsewhere_is_409(org_client: httpx.Client) -> None:
    """docs/atlassian.md "Conflicts (409)": an email change onto another account's email is 409,
    unchanged."""
    ann = _create(org_client, "ann@example.com").json()
    for taken in ("dave@example.com", "carol@example.com"):
        op = {"op": "replace", "path": "emails", "value": [{"value": taken, "primary": True}]}
        response = org_client.patch(f"/Users/{ann['id']}", json=patch_body(op))
        assert scim_error(response, 409, "uniqueness") == (
            f"Resource [USER]: with email[{taken}] already exists"
        )
    assert org_client.get(f"/Users/{ann['id']}").json()["emails"][0]["value"] == "ann@example.com"


def test_an_email_change_moves_the_account_email(org_client: httpx.Client) -> None:
    """After an email change the old email is free: another create mints a new account for it."""
    ann = _create(org_client, "ann@example.com").json()
    account = ann[ATLASSIAN]["atlassianAccountId"]
    body = {
        **user_body("ann@example.com"),
        "emails": [{"value": "ann2@example.com", "primary": True}],
    }
    moved = org_client.put(f"/Users/{ann['id']}", json=body).json()
    assert moved[ATLASSIAN]["atlassianAccountId"] == account
    emails = [{"value": "ann@example.com", "primary": True}]
    again = _create(org_client, "new@example.com", emails=emails)
    assert again.status_code == 201, again.text
    assert again.json()[ATLASSIAN]["atlassianAccountId"] != account


def test_a_group_name_taken_in_the_organisation_is_409(org_client: httpx.Client) -> None:
    """docs/atlassian.md "Groups": a name taken anywhere in the org (any letter case) is 409."""
    response = org_client.post("/Groups", json={"displayName": "DESIGN"})
    detail = scim_error(response, 409, "uniqueness")
    assert detail == "Resource [GROUP]: with displayName[DESIGN] already exists"
    assert org_client.post("/Groups", json={"displayName": "designers"}).status_code == 201


def test_every_user_carries_its_account_id(new_user: UserFactory, client: httpx.Client) -> None:
    """docs/atlassian.md "The sandbox's organisation": each user has a read-only
    atlassian-external accountId, its own."""
    ids = {new_user(name)[ATLASSIAN]["atlassianAccountId"] for name in ("ann", "bob", "cy")}
    assert len(ids) == 3
    listed = client.get("/Users").json()["Resources"]
    assert {u[ATLASSIAN]["atlassianAccountId"] for u in listed} == ids
    assert all(ATLASSIAN in u["schemas"] for u in listed)


def test_a_deleted_users_account_stays_and_links_again(
    new_user: UserFactory, client: httpx.Client
) -> None:
    """Deleting a SCIM user leaves its account in the org; re-creating it links the same one."""
    ann = new_user("ann")
    assert client.delete(f"/Users/{ann['id']}").status_code == 204
    again = new_user("ann")
    assert again["id"] != ann["id"]
    assert again[ATLASSIAN] == ann[ATLASSIAN]


def test_the_account_id_cannot_be_written(client: httpx.Client, new_user: UserFactory) -> None:
    """RFC 7644 section 3.3: the read-only account block in a body is ignored, in PATCH refused."""
    ann = new_user("ann", **{ATLASSIAN: {"atlassianAccountId": "mine"}})
    assert ann[ATLASSIAN]["atlassianAccountId"] != "mine"
    op = {"op": "replace", "path": f"{ATLASSIAN}:atlassianAccountId", "value": "mine"}
    scim_error(client.patch(f"/Users/{ann['id']}", json=patch_body(op)), 400, "mutability")


def test_a_schema_1_database_is_migrated(sandbox_db: Path) -> None:
    """A sandbox written before the organisation existed opens: accounts made, attributes cut."""
    legacy = {
        "userName": "ann@example.com",
        "emails": [{"value": "ann@example.com", "primary": True}],
        "locale": "en_US",
        ENTERPRISE: {"department": "Eng", "costCenter": "42"},
    }
    with sqlite3.connect(sandbox_db) as raw:
        raw.executescript(DDL.split("CREATE TABLE accounts")[0])
        raw.execute(
            "INSERT INTO users (id, user_name_key, email_key, display, account_id, created,"
            " last_modified, attributes) VALUES ('u1', 'ann@example.com', 'ann@example.com',"
            " 'ann', 'acc-ann', '', '', ?)",
            (json.dumps(legacy),),
        )
        raw.execute("PRAGMA user_version = 1")
    raw.close()
    with httpx.Client(base_url=sandbox_base_url(), transport=sandbox_transport(sandbox_db)) as c:
        ann = c.get("/Users/u1").json()
        assert ann[ATLASSIAN] == {"atlassianAccountId": "acc-ann"}
        assert (ann["department"], ann[ENTERPRISE]) == ("Eng", {"department": "Eng"})
        assert "locale" not in ann
        scim_error(_create(c, "ann@example.com", userName="other"), 409, "uniqueness")
