"""What the sandbox answers when a request cannot be served, as SCIM error bodies.

Every refusal inside the sandbox is a ``ScimRequestError`` raised wherever the problem is
found (parsing, validation, the store's uniqueness checks) and turned into one HTTP
answer at the edge of the WSGI app. It is the server side of the protocol, so it is
deliberately not part of ``reconciler.errors``: it never reaches a reconciler user,
only the HTTP client on the other end of the sandbox.

The shapes follow docs/atlassian.md "Errors, rate limits, retries": SCIM errors
carry ``status`` as a *string* (RFC 7644 section 3.12), while 401/403 bodies are not SCIM at all but
``{"error": ..., "traceId": ...}``.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from werkzeug.wrappers import Response

SCIM_CONTENT_TYPE = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"

# What an endpoint of the sandbox (directory or Admin API) answers: the status, the
# JSON payload (None: no body) and any headers of its own.
Reply = tuple[int, Any, dict[str, str]]


class ScimRequestError(Exception):
    """A request the sandbox refuses, with the HTTP status and SCIM ``scimType``."""

    def __init__(
        self,
        status: int,
        detail: str,
        scim_type: str | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.detail = detail
        self.scim_type = scim_type
        self.headers = dict(headers or {})
        super().__init__(f"{status} {scim_type or ''} {detail}".strip())

    def body(self) -> dict[str, Any]:
        """The SCIM error resource (RFC 7644 section 3.12), ``status`` as a string."""
        return error_body(self.status, self.detail, self.scim_type)


def error_body(status: int, detail: str, scim_type: str | None = None) -> dict[str, Any]:
    """A SCIM error resource; ``status`` is a string, as Atlassian sends it."""
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status)}
    if scim_type:
        body["scimType"] = scim_type
    body["detail"] = detail
    return body


def auth_error_body(message: str) -> dict[str, str]:
    """Atlassian's non-SCIM 401/403 body; the ``traceId`` is what support asks for."""
    return {"error": message, "traceId": secrets.token_hex(8)}


def encode(payload: Any) -> bytes:
    """Compact JSON for the wire; ASCII-escaped so that any echoed client text encodes."""
    return json.dumps(payload, separators=(",", ":")).encode("ascii")


def respond(reply: Reply, content_type: str) -> Response:
    """The HTTP response for an endpoint's ``Reply``."""
    status, payload, headers = reply
    if payload is None:
        return Response(status=status, headers=headers)
    return Response(encode(payload), status, headers, content_type=content_type)


def unauthorized(message: str) -> Response:
    """Atlassian's 401 for a missing or refused bearer token (not a SCIM body)."""
    return Response(
        encode(auth_error_body(message)),
        status=401,
        content_type="application/json",
        headers={"WWW-Authenticate": "Bearer"},
    )


def invalid_value(detail: str) -> ScimRequestError:
    """400 ``invalidValue``: a required attribute is missing or a value has the wrong type."""
    return ScimRequestError(400, detail, "invalidValue")


def invalid_path(detail: str) -> ScimRequestError:
    """400 ``invalidPath``: a PATCH path that is malformed or names no attribute."""
    return ScimRequestError(400, detail, "invalidPath")


def invalid_filter(detail: str) -> ScimRequestError:
    """400 ``invalidFilter``: a filter this directory does not support (docs/atlassian.md)."""
    return ScimRequestError(400, detail, "invalidFilter")


def mutability(detail: str) -> ScimRequestError:
    """400 ``mutability``: a change to a read-only or immutable attribute."""
    return ScimRequestError(400, detail, "mutability")


def over_cap(detail: str) -> ScimRequestError:
    """A write that would take the directory or a group over the organisation's size caps.

    Atlassian documents the caps, not its answer to a write over them; the sandbox
    refuses loudly (400 ``invalidValue``) so that a plan green here is not one that
    Atlassian stops syncing (docs/atlassian.md "Size caps").
    """
    return invalid_value(f"{detail} (the organisation's size caps)")


def not_found(kind: str, resource_id: str) -> ScimRequestError:
    """404 for a resource (or a referenced member) that does not exist."""
    return ScimRequestError(404, f"Resource [{kind.upper()}] with id [{resource_id}] not found")
