"""Error answers: SCIM error bodies with a string status, and Atlassian's auth body."""

from __future__ import annotations

import json

from reconciler.sandbox.problems import (
    ERROR_SCHEMA,
    ScimRequestError,
    auth_error_body,
    encode,
    error_body,
)


def test_error_body_has_string_status() -> None:
    """docs/atlassian.md "Errors, rate limits, retries": status is a string in SCIM error bodies
    (RFC 7644 section 3.12)."""
    body = ScimRequestError(409, "taken", "uniqueness").body()
    assert body == {
        "schemas": [ERROR_SCHEMA],
        "status": "409",
        "scimType": "uniqueness",
        "detail": "taken",
    }


def test_scim_type_is_omitted_when_absent() -> None:
    """RFC 7644 section 3.12: scimType only appears for the 400/409 kinds it names."""
    assert "scimType" not in error_body(404, "gone")


def test_auth_body_is_not_scim() -> None:
    """docs/atlassian.md "Errors, rate limits, retries": 401/403 bodies are {"error",
    "traceId"}; traceIds differ."""
    first, second = auth_error_body("no"), auth_error_body("no")
    assert set(first) == {"error", "traceId"}
    assert first["traceId"] != second["traceId"]


def test_encode_survives_any_echoed_text() -> None:
    """Details may echo client text; encoding never fails, even on a lone surrogate."""
    raw = encode(error_body(400, "bad path [\ud800]"))
    assert json.loads(raw)["detail"] == "bad path [\ud800]"
    raw.decode("ascii")
