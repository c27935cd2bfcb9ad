"""The Organizations API reads of ``AdminClient`` against scripted answers (httpx.MockTransport)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.errors import ProtocolError
from reconciler.scim.admin import AdminClient, admin_base_url

BASE = admin_base_url("https://api.atlassian.com/scim/directory/d1", "org-1")


def _client(pages: dict[str, Any], seen: list[str]) -> AdminClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=pages[request.url.params.get("cursor", "")])

    return AdminClient(BASE, token="org-key-0123456789", transport=httpx.MockTransport(answer))


def test_pages_follow_the_cursor_on_the_organisations_own_host() -> None:
    """``links.next`` gives the cursor; the next page is asked of api.atlassian.com under
    the organisation, whatever host the link names, so the key goes nowhere else."""
    seen: list[str] = []
    pages = {
        "": {
            "data": [{"account_id": "a1", "email": "A@example.com", "account_status": "active"}],
            "links": {"next": "https://elsewhere.example/x?cursor=c%2F2"},
        },
        "c/2": {"data": [{"account_id": "a2", "account_status": "inactive"}], "links": {}},
    }
    with _client(pages, seen) as admin:
        accounts = admin.managed_accounts()
    assert [(a.account_id, a.email, a.status) for a in accounts] == [
        ("a1", "A@example.com", "active")
    ]  # a2's email is hidden by its visibility settings: it cannot be matched
    assert seen == [
        "https://api.atlassian.com/admin/v1/orgs/org-1/users",
        "https://api.atlassian.com/admin/v1/orgs/org-1/users?cursor=c%2F2",
    ]


def test_only_verified_domains_count() -> None:
    """A domain whose claim is not verified is not one the organisation manages."""
    seen: list[str] = []

    def domain(name: str, status: str) -> dict[str, Any]:
        return {"attributes": {"name": name, "claim": {"type": "dns", "status": status}}}

    pages = {"": {"data": [domain("B.example", "verified"), domain("c.example", "unverified")]}}
    with _client(pages, seen) as admin:
        assert admin.verified_domains() == ["b.example"]


@pytest.mark.parametrize(
    "page",
    [
        pytest.param({"users": []}, id="no-data"),
        pytest.param({"data": [{"email": "x@example.com"}]}, id="no-account-id"),
        pytest.param(
            {"data": [], "links": {"next": "https://api.atlassian.com/x"}}, id="no-cursor"
        ),
    ],
)
def test_an_answer_that_is_no_listing_is_a_protocol_error(page: dict[str, Any]) -> None:
    """What the published UserPage shape does not allow fails the read, never half of it."""
    with _client({"": page}, []) as admin, pytest.raises(ProtocolError):
        admin.managed_accounts()
