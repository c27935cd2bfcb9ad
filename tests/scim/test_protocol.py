"""Reading SCIM answers: errors, odd bodies and list pages (RFC 7644 sections 3.4.2, 3.12)."""

from __future__ import annotations

import json

import pytest

from reconciler.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ScimHTTPError,
    ServerError,
)
from reconciler.scim.protocol import Answer, check, check_list, eq_filter, error_for, retry_after


def answer(status: int, body: object = None, **headers: str) -> Answer:
    raw = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode())
    return Answer(
        status=status,
        headers={k.lower().replace("_", "-"): v for k, v in headers.items()},
        body=raw,
        what="GET /Users",
    )


def test_scim_error_with_status_as_string_maps_to_conflict() -> None:
    """A 409 SCIM error keeps scimType and detail; status may be a string (Atlassian)."""
    error = error_for(
        answer(
            409,
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "409",
                "scimType": "uniqueness",
                "detail": "Resource [USER]: with email[a] exists",
            },
        )
    )
    assert isinstance(error, ConflictError)
    assert error.scim_type == "uniqueness"
    assert "with email[a] exists" in str(error)


def test_non_scim_401_keeps_trace_id() -> None:
    """Atlassian's 401 body is {"error", "traceId"}; the traceId is in the message for support."""
    error = error_for(answer(401, {"error": "Unauthorized", "traceId": "abc123"}))
    assert isinstance(error, AuthenticationError)
    assert error.trace_id == "abc123"
    assert "traceId abc123" in str(error)


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        pytest.param(404, NotFoundError, False, id="404"),
        pytest.param(429, RateLimitedError, True, id="429"),
        pytest.param(500, ServerError, True, id="500"),
        pytest.param(503, ServerError, True, id="503"),
        pytest.param(400, ScimHTTPError, False, id="400"),
    ],
)
def test_status_maps_to_one_error_class(status: int, cls: type[Exception], retryable: bool) -> None:
    """Each status maps to the most specific class, which says whether it is retryable."""
    error = error_for(answer(status, {"detail": "x"}))
    assert type(error) is cls
    assert error.retryable is retryable


def test_html_error_page_is_summarised_not_dumped() -> None:
    """A proxy's HTML error page becomes a short message, not a page of markup."""
    error = error_for(answer(502, b"<html><body>Bad gateway</body></html>"))
    assert "(an HTML page)" in str(error)


def test_retry_after_seconds_and_http_date() -> None:
    """Retry-After is read as seconds or as an HTTP date (RFC 9110 section 10.2.3)."""
    assert retry_after({"retry-after": "7"}) == 7.0
    assert retry_after({"retry-after": "Thu, 01 Jan 1970 00:01:40 GMT"}, now=40.0) == 60.0
    assert retry_after({"x-ratelimit-reset": "3"}) == 3.0
    assert retry_after({}) is None


def test_patch_answered_204_is_empty() -> None:
    """PATCH may answer 204 with no body; that is success with nothing to read."""
    assert check(answer(204)) is None


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<html>maintenance</html>", id="html-with-200"),
        pytest.param(b'{"totalResults": 3, "Resources": [', id="truncated-json"),
        pytest.param(b'["not", "a", "list response"]', id="json-array"),
        pytest.param(b'{"Resources": []}', id="no-totalResults"),
    ],
)
def test_list_page_that_is_not_a_list_response_is_a_protocol_error(body: bytes) -> None:
    """A 200 whose body is not a ListResponse is refused, never read as an empty page."""
    with pytest.raises(ProtocolError):
        check_list(answer(200, body))


def test_html_content_type_is_refused_even_when_parseable() -> None:
    """A body labelled text/html is not SCIM, whatever it contains."""
    with pytest.raises(ProtocolError, match="HTML"):
        check(answer(200, b"{}", content_type="text/html"))


def test_list_page_ignores_items_per_page() -> None:
    """itemsPerPage is unreliable (Atlassian shows 10000 on an empty list): never used."""
    page = check_list(
        answer(
            200,
            {"totalResults": "2", "itemsPerPage": 10000, "Resources": [{"id": "1"}, {"id": "2"}]},
        )
    )
    assert page.total_results == 2
    assert len(page.resources) == 2


def test_eq_filter_quotes_values() -> None:
    """Quotes and backslashes in a filter value are escaped (RFC 7644 section 3.4.2.2)."""
    assert eq_filter("userName", 'a"b\\c') == 'userName eq "a\\"b\\\\c"'
