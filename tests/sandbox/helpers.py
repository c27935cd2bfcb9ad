"""Request bodies and answer checks shared by the sandbox tests."""

from __future__ import annotations

from typing import Any

import httpx

SCIM_JSON = "application/scim+json"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ATLASSIAN = "urn:scim:schemas:extension:atlassian-external:1.0"


def user_body(name: str, /, **extra: Any) -> dict[str, Any]:
    """A minimal valid Atlassian user: userName and exactly one primary email."""
    body: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "emails": [{"value": name if "@" in name else f"{name}@example.com", "primary": True}],
    }
    body.update(extra)
    return body


def patch_body(*operations: dict[str, Any]) -> dict[str, Any]:
    """A PatchOp message (RFC 7644 section 3.5.2) with Atlassian's "Operations" spelling."""
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def scim_error(response: httpx.Response, status: int, scim_type: str | None = None) -> str:
    """Assert a SCIM error answer (RFC 7644 section 3.12, status as a string); its detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == SCIM_JSON
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == str(status)
    assert body.get("scimType") == scim_type
    return str(body["detail"])
