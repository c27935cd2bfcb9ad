"""Discovery: /ServiceProviderConfig, /Schemas and /ResourceTypes (RFC 7644 section 4)."""

from __future__ import annotations

import httpx
import pytest

from reconciler.sandbox.schemas import ENTERPRISE_URN, GROUP_URN, USER, USER_URN

from .helpers import ATLASSIAN, SCIM_JSON, scim_error


def test_service_provider_config(client: httpx.Client) -> None:
    """docs/atlassian.md "Endpoints": PATCH and filters (max 100); no Bulk, sort, ETag, password."""
    response = client.get("/ServiceProviderConfig")
    assert response.status_code == 200
    assert response.headers["content-type"] == SCIM_JSON
    config = response.json()
    assert config["patch"] == {"supported": True}
    assert config["filter"] == {"supported": True, "maxResults": 100}
    for feature in ("bulk", "sort", "etag", "changePassword"):
        assert config[feature]["supported"] is False
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_schemas_list_is_not_paged(client: httpx.Client) -> None:
    """docs/atlassian.md "Endpoints": /Schemas lists User, Group and enterprise User, unpaged."""
    body = client.get("/Schemas").json()
    ids = [s["id"] for s in body["Resources"]]
    assert set(ids) >= {USER_URN, GROUP_URN, ENTERPRISE_URN}
    assert body["totalResults"] == len(ids)


@pytest.mark.parametrize("urn", [USER_URN, GROUP_URN, ENTERPRISE_URN, ATLASSIAN])
def test_schema_by_urn(client: httpx.Client, urn: str) -> None:
    """RFC 7644 section 4: /Schemas/{urn} answers that schema with its attributes."""
    schema = client.get(f"/Schemas/{urn}").json()
    assert schema["id"] == urn
    assert schema["attributes"]
    assert schema["meta"]["resourceType"] == "Schema"


def test_published_attributes_match_atlassian(client: httpx.Client) -> None:
    """docs/atlassian.md "Endpoints": userName required and unique, groups read-only, group name
    immutable."""
    user = {a["name"]: a for a in client.get(f"/Schemas/{USER_URN}").json()["attributes"]}
    assert user["userName"]["required"] is True
    assert user["userName"]["uniqueness"] == "server"
    assert user["groups"]["mutability"] == "readOnly"
    group = {a["name"]: a for a in client.get(f"/Schemas/{GROUP_URN}").json()["attributes"]}
    assert group["displayName"]["mutability"] == "immutable"


def test_unknown_schema_is_404(client: httpx.Client) -> None:
    """RFC 7644 section 4: a schema the directory does not have is 404."""
    scim_error(client.get("/Schemas/urn:example:nothing"), 404)


def test_resource_types(client: httpx.Client) -> None:
    """docs/atlassian.md "Endpoints": /ResourceTypes, /ResourceTypes/User and /Group."""
    listed = client.get("/ResourceTypes").json()
    assert [r["id"] for r in listed["Resources"]] == ["User", "Group"]
    user = client.get("/ResourceTypes/User").json()
    assert user["endpoint"] == "/Users"
    assert {e["schema"] for e in user["schemaExtensions"]} == {ENTERPRISE_URN, ATLASSIAN}
    assert client.get("/ResourceTypes/Group").json()["schema"] == GROUP_URN
    scim_error(client.get("/ResourceTypes/Device"), 404)


def test_lookups_are_case_insensitive() -> None:
    """RFC 7643 section 2.1: attribute names are case-insensitive."""
    emails = USER.attribute("EMAILS")
    assert emails is not None
    assert emails.name == "emails"
    assert emails.sub("Primary") is not None
    assert USER.attribute("externalid") is not None
    assert USER.extension(ENTERPRISE_URN.lower()) is not None
