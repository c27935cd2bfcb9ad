"""What the sandbox reads from a SCIM request, and the ListResponse it answers with.

The messages of RFC 7644 as the sandbox's endpoints (``app``) take them in: a JSON
body (415 for other media types, 400 ``invalidSyntax`` when it is not an object), the
paging parameters of a listing, clamped as Atlassian clamps them (section 3.4.2.4),
the ``attributes`` and ``excludedAttributes`` projection (section 3.4.2.5), and the
ListResponse a listing answers with (section 3.4.2).
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Request

from reconciler.sandbox.problems import ScimRequestError, invalid_value
from reconciler.sandbox.resources import project
from reconciler.sandbox.schemas import LIST_RESPONSE_URN, MAX_PAGE_SIZE

_MAX_START_INDEX = 2**62  # SQLite integers are 64-bit; beyond this no page exists anyway
_JSON_TYPES = frozenset({"application/json", "application/scim+json"})


def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; 415 for other media types, 400 ``invalidSyntax`` if bad."""
    if request.mimetype and request.mimetype not in _JSON_TYPES:
        raise ScimRequestError(
            415, f"unsupported media type {request.mimetype}: send application/scim+json"
        )
    raw = request.get_data(cache=False)
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise ScimRequestError(400, "the body is not valid JSON", "invalidSyntax") from None
    if not isinstance(body, dict):
        raise ScimRequestError(400, "the body must be a JSON object", "invalidSyntax")
    return body


def paging(request: Request) -> tuple[int, int]:
    """``startIndex`` (1-based) and ``count``, clamped as RFC 7644 3.4.2.4 and Atlassian say.

    Below 1 a start index counts as 1 and a negative count as 0; counts above 100
    are clamped to 100 (docs/atlassian.md: the default and effective page is 100).
    """
    start = _int_arg(request, "startIndex", 1)
    count = _int_arg(request, "count", MAX_PAGE_SIZE)
    return min(max(start, 1), _MAX_START_INDEX), min(max(count, 0), MAX_PAGE_SIZE)


def _int_arg(request: Request, name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid_value(f"{name} must be an integer, not [{raw}]") from None


def projected(request: Request, resource: dict[str, Any]) -> dict[str, Any]:
    return project(resource, *projection(request))


def projection(request: Request) -> tuple[str | None, str | None]:
    """``attributes`` and ``excludedAttributes``, read once per request."""
    return request.args.get("attributes"), request.args.get("excludedAttributes")


def list_response(total: int, start: int, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A ListResponse; ``itemsPerPage`` is what arrived (RFC 7644 section 3.4.2)."""
    return {
        "schemas": [LIST_RESPONSE_URN],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }
