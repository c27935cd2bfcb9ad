"""Sans-I/O SCIM: read an HTTP answer into data or into the right error class.

Everything here is pure, so every odd thing real servers do (docs/test-servers.md) is
unit-tested without a network: PATCH answered 200 or 204, ``status`` as a string,
non-SCIM error bodies with a ``traceId``, HTML error pages with 200, truncated JSON,
a SCIM error under 200, a write answered with another resource than the one written.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import math
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
    WrongResourceError,
)
from reconciler.identifiers import fold_identity
from reconciler.scim.jsonbody import loads

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
# The attribute the directory keeps unique per resource type: what writes are checked
# against and what lookups find by.
UNIQUE_ATTRIBUTE = {"Users": "userName", "Groups": "displayName"}

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
    token_sent: bool = True  # whether the request carried a bearer token


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a listing (RFC 7644 section 3.4.2)."""

    total_results: int
    start_index: int | None
    resources: tuple[dict[str, Any], ...]


# A numeric X-RateLimit-Reset at or above this is an epoch time (2001-09-09T01:46:40Z);
# below it, seconds from now. No server asks for a wait of 31 years, and no reset
# time lies before 2001, so the two readings never overlap.
EPOCH_RESET = 10**9


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait, from ``Retry-After`` or else a rate-limit reset header.

    ``Retry-After`` is seconds or an HTTP date (RFC 9110 section 10.2.3).
    ``X-RateLimit-Reset`` / ``RateLimit-Reset`` is a number (epoch seconds from
    ``EPOCH_RESET`` on, else seconds from now) or a time: an HTTP date, or ISO 8601
    as Atlassian documents it (``2024-05-01T12:30Z``). A time in the past is no wait;
    a value that is none of these is ignored (the retry policy's backoff applies).
    """
    now_ = time.time() if now is None else now
    value = headers.get("retry-after", "").strip()
    if value:
        return _seconds_until(value, now_, epoch_from=None)
    reset = (headers.get("x-ratelimit-reset") or headers.get("ratelimit-reset") or "").strip()
    if reset:
        return _seconds_until(reset, now_, epoch_from=EPOCH_RESET)
    return None


def _seconds_until(value: str, now: float, *, epoch_from: int | None) -> float | None:
    """A header's wait: a number of seconds (an epoch time from ``epoch_from``) or a time."""
    try:
        number = float(value)
    except ValueError:
        when = _timestamp(value)
        return None if when is None else max(0.0, when - now)
    if not math.isfinite(number) or number < 0:
        return None
    if epoch_from is not None and number >= epoch_from:
        return max(0.0, number - now)
    return number


def _timestamp(value: str) -> float | None:
    """An HTTP date or an ISO 8601 time as epoch seconds; one without a zone is UTC."""
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            when = datetime.datetime.fromisoformat(value)
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when.timestamp()


def _json(answer: Answer) -> Any:
    content_type = answer.headers.get("content-type", "")
    if "html" in content_type.lower():
        raise ProtocolError(f"{answer.what}: HTTP {answer.status} with an HTML page, not SCIM JSON")
    try:
        # As the server said it, an echoed token included: the live state is what the
        # directory holds, and the token is cut out where text leaves the process
        # (reconciler.redaction), never here.
        return loads(answer.body)  # json.loads, natively where it can (jsonbody)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        snippet = answer.body[:80].decode("utf-8", "replace")
        raise ProtocolError(
            f"{answer.what}: HTTP {answer.status} body is not valid JSON ({exc}): {snippet!r}"
        ) from exc


def _status_of(body: Mapping[str, Any]) -> int | None:
    """The ``status`` of an error body, a number or a string (RFC 7644 section 3.12)."""
    status = body.get("status")
    if isinstance(status, str) and status.strip().isdigit():
        return int(status)
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def _is_error_body(body: Any) -> bool:
    """Whether a body is a SCIM Error, even one that forgot its ``schemas``."""
    if not isinstance(body, Mapping):
        return False
    schemas = body.get("schemas")
    if isinstance(schemas, list) and any(str(s).lower() == ERROR.lower() for s in schemas):
        return True
    status = _status_of(body)
    return "id" not in body and status is not None and status >= 400 and "detail" in body


def _error_fields(answer: Answer, body: Any) -> tuple[str | None, str | None, str | None]:
    """``detail``, ``scimType`` and ``traceId`` of an error answer, from any body shape."""
    detail = scim_type = trace_id = None
    if isinstance(body, Mapping):
        scim_type = body.get("scimType") if isinstance(body.get("scimType"), str) else None
        raw_detail = body.get("detail") or body.get("error") or body.get("message")
        detail = str(raw_detail) if raw_detail is not None else None
        trace_id = str(body["traceId"]) if body.get("traceId") is not None else None
    elif answer.body:
        text = answer.body[:200].decode("utf-8", "replace").strip()
        detail = "(an HTML page)" if text.lstrip().startswith("<") else text
    return detail, scim_type, trace_id


def _error(answer: Answer, body: Any, status: int, *, in_success: bool = False) -> ScimHTTPError:
    """The error class ``status`` implies, its message naming what the server said."""
    detail, scim_type, trace_id = _error_fields(answer, body)
    message = f"{answer.what}: HTTP {answer.status}"
    if in_success:
        message += f", but its body is a SCIM error with status {status}"
    if scim_type:
        message += f" {scim_type}"
    if detail:
        message += f": {detail}"
    if trace_id:
        message += f" (traceId {trace_id})"
    if status == 412:
        message += " (the object changed since it was read; plan again)"
    cls = _STATUS_CLASSES.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else ScimHTTPError
    error = cls(
        message,
        status=status,
        scim_type=scim_type,
        detail=detail,
        trace_id=trace_id,
        retry_after=retry_after(answer.headers),
    )
    if isinstance(error, AuthenticationError):
        error.token_sent = answer.token_sent
    return error


def error_for(answer: Answer) -> ScimHTTPError:
    """Map an error answer to the most specific error class, keeping its detail."""
    try:
        body = json.loads(answer.body) if answer.body else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = None
    return _error(answer, body, answer.status)


def check(answer: Answer) -> Any:
    """The JSON body of a successful answer, or ``None`` for an empty one (204).

    A 2xx whose body is a SCIM Error is that error, whatever the HTTP status says:
    the class is the one its own ``status`` implies (a 400 is not retried, a 503
    is), and without a usable ``status`` it is a plain, final ``ScimHTTPError``.
    """
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
    body = _json(answer)
    if _is_error_body(body):
        status = _status_of(body)
        usable = status if status is not None and status >= 400 else answer.status
        raise _error(answer, body, usable, in_success=True)
    return body


def _sent_value(sent: Mapping[str, Any], attribute: str) -> str | None:
    """The value a POST body or a PatchOp sets ``attribute`` to, if it sets one."""
    operations = sent.get("Operations", sent.get("operations"))
    if not isinstance(operations, list):
        value = sent.get(attribute)
        return value if isinstance(value, str) else None
    found = None
    for op in operations:
        if not isinstance(op, Mapping) or str(op.get("op", "")).lower() not in ("add", "replace"):
            continue
        value = op.get("value")
        if str(op.get("path", "")).lower() == attribute.lower():
            found = value if isinstance(value, str) else found
        elif op.get("path") is None and isinstance(value, Mapping):
            found = value.get(attribute) if isinstance(value.get(attribute), str) else found
    return found


def check_write(
    answer: Answer,
    *,
    resource_type: str,
    sent: Mapping[str, Any],
    resource_id: str | None = None,
) -> Any:
    """``check``, and a body that comes back must be the resource written.

    A 2xx answer to a POST or PATCH that names another ``id`` than the one written
    to, or another ``userName``/``displayName`` than the one sent, did not do what
    was asked (a gateway's canned answer, a write that landed elsewhere): it is a
    ``WrongResourceError``. Attributes the body leaves out are not held against it.
    """
    body = check(answer)
    if not isinstance(body, Mapping):
        return body
    got = body.get("id")
    if resource_id is not None and got is not None and str(got) != resource_id:
        raise WrongResourceError(
            f"{answer.what}: HTTP {answer.status} answered with {resource_type} {got}, "
            f"not {resource_id}; the write is not counted as done"
        )
    attribute = UNIQUE_ATTRIBUTE.get(resource_type)
    wanted = _sent_value(sent, attribute) if attribute else None
    value = body.get(attribute) if attribute else None
    if wanted is not None and value is not None and _folded(value) != _folded(wanted):
        raise WrongResourceError(
            f"{answer.what}: HTTP {answer.status} answered with {attribute} {value!r}, "
            f"not the {wanted!r} sent; the write is not counted as done"
        )
    return body


def _folded(value: Any) -> str:
    """userName and displayName compare in any letter case (RFC 7643 caseExact false)
    and Unicode form: a server that stores the composed form answers with it."""
    return fold_identity(str(value).strip())


def _resource(answer: Answer, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ProtocolError(f"{answer.what}: expected a SCIM resource, got {type(body).__name__}")
    return body


def check_resource(answer: Answer) -> dict[str, Any]:
    """A single resource; anything else is a protocol error."""
    return _resource(answer, check(answer))


def check_created(answer: Answer, *, resource_type: str, sent: Mapping[str, Any]) -> dict[str, Any]:
    """The resource a POST created: a resource, and the one sent (``check_write``)."""
    return _resource(answer, check_write(answer, resource_type=resource_type, sent=sent))


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


def request_headers(has_body: bool, if_match: str | None) -> dict[str, str] | None:
    """Headers of one request besides the client's own: its body type and If-Match."""
    headers = {}
    if has_body:
        headers["Content-Type"] = "application/scim+json"
    if if_match is not None:
        headers["If-Match"] = if_match
    return headers or None
