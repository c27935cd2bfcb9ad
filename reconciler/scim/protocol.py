"""Sans-I/O SCIM: read an HTTP answer into data or into the right error class.

Everything here is pure, so every odd thing real servers do (TEST_SERVERS.md) is
unit-tested without a network: PATCH answered 200 or 204, ``status`` as a string,
non-SCIM error bodies with a ``traceId``, HTML error pages with 200, truncated JSON.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PreconditionFailedError,
    ProtocolError,
    RateLimitedError,
    ScimHTTPError,
    ServerError,
)

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

_STATUS_CLASSES: dict[int, type[ScimHTTPError]] = {
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    413: PayloadTooLargeError,
    429: RateLimitedError,
}


@dataclass(frozen=True, slots=True)
class Answer:
    """The parts of an HTTP response that SCIM cares about."""

    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    what: str  # "GET /Users?startIndex=101", for messages


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a listing (RFC 7644 section 3.4.2)."""

    total_results: int
    start_index: int | None
    resources: tuple[dict[str, Any], ...]


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date) or a reset header."""
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    reset = headers.get("x-ratelimit-reset") or headers.get("ratelimit-reset")
    if reset and reset.strip().isdigit():
        seconds = float(reset)
        now_ = time.time() if now is None else now
        # Either a delay in seconds or an epoch timestamp.
        return max(0.0, seconds - now_) if seconds > 10**9 else seconds
    return None


def _json(answer: Answer) -> Any:
    content_type = answer.headers.get("content-type", "")
    if "html" in content_type.lower():
        raise ProtocolError(f"{answer.what}: HTTP {answer.status} with an HTML page, not SCIM JSON")
    try:
        return json.loads(answer.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        snippet = answer.body[:80].decode("utf-8", "replace")
        raise ProtocolError(
            f"{answer.what}: HTTP {answer.status} body is not valid JSON ({exc}): {snippet!r}"
        ) from exc


def error_for(answer: Answer) -> ScimHTTPError:
    """Map an error answer to the most specific error class, keeping its detail."""
    detail = scim_type = trace_id = None
    try:
        body = json.loads(answer.body) if answer.body else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = None
    if isinstance(body, Mapping):
        scim_type = body.get("scimType") if isinstance(body.get("scimType"), str) else None
        raw_detail = body.get("detail") or body.get("error") or body.get("message")
        detail = str(raw_detail) if raw_detail is not None else None
        trace_id = str(body["traceId"]) if body.get("traceId") is not None else None
    elif answer.body:
        text = answer.body[:200].decode("utf-8", "replace").strip()
        detail = "(an HTML page)" if text.lstrip().startswith("<") else text
    message = f"{answer.what}: HTTP {answer.status}"
    if scim_type:
        message += f" {scim_type}"
    if detail:
        message += f": {detail}"
    if trace_id:
        message += f" (traceId {trace_id})"
    if answer.status == 412:
        message += " (the object changed since it was read; plan again)"
    cls = _STATUS_CLASSES.get(answer.status)
    if cls is None:
        cls = ServerError if answer.status >= 500 else ScimHTTPError
    return cls(
        message,
        status=answer.status,
        scim_type=scim_type,
        detail=detail,
        trace_id=trace_id,
        retry_after=retry_after(answer.headers),
    )


def check(answer: Answer) -> Any:
    """The JSON body of a successful answer, or ``None`` for an empty one (204)."""
    if answer.status >= 400:
        raise error_for(answer)
    if not 200 <= answer.status < 300:
        # A redirect (an SSO proxy, http -> https) or anything else that is not a
        # SCIM answer: the request was not carried out, whatever the status says.
        location = answer.headers.get("location")
        to = f" to {location}" if location else ""
        raise ScimHTTPError(
            f"{answer.what}: HTTP {answer.status}{to}, not a SCIM answer; "
            "point the target at the SCIM base URL itself",
            status=answer.status,
        )
    if answer.status == 204 or not answer.body.strip():
        return None
    return _json(answer)


def check_resource(answer: Answer) -> dict[str, Any]:
    """A single resource; anything else is a protocol error."""
    body = check(answer)
    if not isinstance(body, dict):
        raise ProtocolError(f"{answer.what}: expected a SCIM resource, got {type(body).__name__}")
    return body


def check_list(answer: Answer) -> ListPage:
    """A ListResponse page, validated; ``itemsPerPage`` is ignored (servers lie)."""
    body = check(answer)
    if not isinstance(body, dict):
        raise ProtocolError(f"{answer.what}: expected a ListResponse, got {type(body).__name__}")
    total = body.get("totalResults")
    if isinstance(total, str) and total.isdigit():
        total = int(total)
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise ProtocolError(f"{answer.what}: ListResponse without a valid totalResults")
    resources = body.get("Resources", body.get("resources", []))
    if resources is None:
        resources = []
    if not isinstance(resources, list) or not all(isinstance(r, dict) for r in resources):
        raise ProtocolError(f"{answer.what}: ListResponse Resources is not a list of objects")
    start = body.get("startIndex")
    if isinstance(start, str) and start.isdigit():
        start = int(start)
    return ListPage(
        total_results=total,
        start_index=start if isinstance(start, int) and not isinstance(start, bool) else None,
        resources=tuple(resources),
    )


def eq_filter(attribute: str, value: str) -> str:
    """An ``eq`` filter with the value quoted as RFC 7644 section 3.4.2.2 requires."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{attribute} eq "{escaped}"'
