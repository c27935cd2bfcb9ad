"""Finding one resource by its key: an ``eq`` filter, then the key compared again."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.errors import ServerError
from reconciler.scim.client import ScimClient
from reconciler.scim.lookup import find_by_key
from reconciler.scim.retry import RetryPolicy


def client_listing(resources: list[dict[str, Any]], filters: list[str]) -> ScimClient:
    """A server that answers every filter with ``resources`` and records the filters."""

    def handler(request: httpx.Request) -> httpx.Response:
        filters.append(request.url.params["filter"])
        return httpx.Response(200, json={"totalResults": len(resources), "Resources": resources})

    return ScimClient(
        "https://scim.example.test/v2",
        token="t0ken",
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=1),
    )


def test_users_are_found_by_user_name_in_any_letter_case() -> None:
    """userName is the default key of Users, and compares case-insensitively."""
    filters: list[str] = []
    client = client_listing([{"id": "u1", "userName": "Alice@Example.com"}], filters)
    found = find_by_key(client, "Users", "alice@example.com")
    assert found is not None
    assert found["id"] == "u1"
    assert filters == ['userName eq "alice@example.com"']


def test_groups_are_found_by_display_name() -> None:
    """displayName is the default key of Groups (RFC 7643 section 4.2)."""
    filters: list[str] = []
    client = client_listing([{"id": "g1", "displayName": "Engineering"}], filters)
    found = find_by_key(client, "Groups", "engineering")
    assert found is not None
    assert found["id"] == "g1"
    assert filters == ['displayName eq "engineering"']


@pytest.mark.parametrize(
    ("live", "found"),
    [
        pytest.param("E-1", True, id="same"),
        pytest.param("e-1", True, id="other-case"),
        pytest.param("E-2", False, id="other-id"),
    ],
)
def test_external_ids_compare_as_identities_do(live: str, found: bool) -> None:
    """externalId compares as the planner matches it: in any letter case and Unicode form."""
    client = client_listing([{"id": "u1", "userName": "a@x.test", "externalId": live}], [])
    assert (find_by_key(client, "Users", "E-1", "externalId") is not None) is found


def test_a_user_name_in_another_unicode_form_is_found() -> None:
    """A decomposed userName (NFD, as macOS writes it) is the composed one the key names."""
    client = client_listing([{"id": "u1", "userName": "jose\u0301@x.test"}], [])
    found = find_by_key(client, "Users", "jos\u00e9@x.test")
    assert found is not None
    assert found["id"] == "u1"


def test_a_loose_filter_answer_is_not_taken_for_the_key() -> None:
    """A server that returns what it cannot filter (or everything) does not make a match."""
    listed = [{"id": "u1", "userName": "bob@x.test"}, {"id": "u2"}, {"id": "u3", "userName": 7}]
    assert find_by_key(client_listing(listed, []), "Users", "alice@x.test") is None


def test_a_failed_lookup_is_an_error_not_an_absence() -> None:
    """When the lookup itself fails, the caller hears it: "absent" would make a twin."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"status": "503", "detail": "busy"})

    client = ScimClient(
        "https://scim.example.test/v2",
        token="t0ken",
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=1),
    )
    with pytest.raises(ServerError):
        find_by_key(client, "Groups", "eng")
