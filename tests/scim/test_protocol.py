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
    WrongResourceError,
)
from reconciler.live import JsonFloat
from reconciler.redaction import remember
from reconciler.scim.protocol import (
    ERROR,
    Answer,
    check,
    check_created,
    check_list,
    check_write,
    error_for,
    retry_after,
)

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


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


NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        pytest.param({"retry-after": "45"}, 45.0, id="retry-after-seconds"),
        pytest.param({"retry-after": "Tue, 14 Nov 2023 22:14:20 GMT"}, 60.0, id="retry-after-date"),
        pytest.param({"retry-after": "45", "x-ratelimit-reset": "5"}, 45.0, id="retry-after-wins"),
        pytest.param({"x-ratelimit-reset": "30"}, 30.0, id="reset-seconds-from-now"),
        pytest.param({"x-ratelimit-reset": "1700000090"}, 90.0, id="reset-epoch"),
        pytest.param({"x-ratelimit-reset": "1700000090.5"}, 90.5, id="reset-epoch-fraction"),
        pytest.param({"x-ratelimit-reset": "Tue, 14 Nov 2023 22:15:20 GMT"}, 120.0, id="reset-gmt"),
        pytest.param({"x-ratelimit-reset": "2023-11-14T22:15Z"}, 100.0, id="reset-iso-atlassian"),
        pytest.param({"x-ratelimit-reset": "2023-11-14T22:15:00"}, 100.0, id="reset-iso-no-zone"),
        pytest.param({"ratelimit-reset": "12"}, 12.0, id="ietf-ratelimit-reset"),
        pytest.param({"x-ratelimit-reset": "1699999000"}, 0.0, id="reset-epoch-past"),
        pytest.param({"x-ratelimit-reset": "2023-11-14T22:00Z"}, 0.0, id="reset-date-past"),
        pytest.param({"x-ratelimit-reset": "soon"}, None, id="reset-garbage"),
        pytest.param({"x-ratelimit-reset": "-5"}, None, id="reset-negative"),
        pytest.param({"retry-after": "nan"}, None, id="retry-after-nan"),
    ],
)
def test_rate_limit_headers_in_every_form(headers: dict[str, str], wait: float | None) -> None:
    """Retry-After (seconds, HTTP date) wins; X-RateLimit-Reset is seconds below 10**9, epoch
    seconds above, an HTTP date or ISO 8601 (Atlassian); past is 0, nonsense is ignored."""
    assert retry_after(headers, now=NOW) == wait


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


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(b'{"id": "1", "n": %d}' % 10**30, 10**30, id="big-int"),
        pytest.param(b'{"id": "1", "n": 1.5}', JsonFloat(1.5), id="float"),
        pytest.param(b'{"id": "1", "n": "Zo\\u00eb"}', "Zoë", id="unicode"),
    ],
)
def test_bodies_are_read_exactly(body: bytes, expected: object) -> None:
    """Numbers and text arrive as sent: an integer beyond 64 bits is not made a float
    (as orjson, tried for speed, does), so a count is never silently rounded; a float
    is a float (a ``JsonFloat``, which fingerprints need: ``live.decoded_digest``)."""
    resource = check(answer(200, body))
    assert isinstance(resource, dict)
    assert resource["n"] == expected
    assert type(resource["n"]) is type(expected)


def test_invalid_json_names_the_standard_library_error() -> None:
    with pytest.raises(ProtocolError, match=r"not valid JSON \(Expecting"):
        check(answer(200, b'{"id": '))


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


@pytest.mark.parametrize(
    ("body", "cls", "status", "retryable"),
    [
        pytest.param(
            {"schemas": [ERROR], "status": "400", "detail": "bad"},
            ScimHTTPError,
            400,
            False,
            id="400-string",
        ),
        pytest.param(
            {"schemas": [ERROR], "status": 409, "scimType": "uniqueness", "detail": "taken"},
            ConflictError,
            409,
            False,
            id="409-number",
        ),
        pytest.param(
            {"schemas": [ERROR], "status": "503", "detail": "busy"},
            ServerError,
            503,
            True,
            id="503",
        ),
        pytest.param(
            {"schemas": [ERROR], "detail": "no status"}, ScimHTTPError, 200, False, id="none"
        ),
        pytest.param(
            {"status": "400", "detail": "no schemas"}, ScimHTTPError, 400, False, id="bare"
        ),
    ],
)
def test_scim_error_under_200_is_the_error_its_status_implies(
    body: dict[str, object], cls: type[ScimHTTPError], status: int, retryable: bool
) -> None:
    """A 2xx whose body is a SCIM Error (RFC 7644 section 3.12) is that error, never success."""
    with pytest.raises(cls) as caught:
        check(answer(200, body))
    assert type(caught.value) is cls
    assert (caught.value.status, caught.value.retryable) == (status, retryable)
    assert "HTTP 200, but its body is a SCIM error" in str(caught.value)
    assert str(body["detail"]) in str(caught.value)


def test_resource_with_a_status_attribute_is_not_an_error() -> None:
    """A resource that happens to carry a ``status`` attribute is still a resource."""
    assert check(answer(200, {"id": "u1", "status": "400", "detail": "x"}))["id"] == "u1"


def patch_of(*operations: dict[str, object]) -> dict[str, object]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


@pytest.mark.parametrize(
    ("resource_type", "sent", "resource_id", "body", "message"),
    [
        pytest.param(
            "Users", patch_of(), "u1", {"id": "u2", "userName": "a"}, "u2, not u1", id="patch-id"
        ),
        pytest.param(
            "Users",
            patch_of({"op": "replace", "path": "userName", "value": "new@x.com"}),
            "u1",
            {"id": "u1", "userName": "old@x.com"},
            "'old@x.com', not the 'new@x.com' sent",
            id="patch-userName",
        ),
        pytest.param(
            "Groups",
            patch_of({"op": "replace", "value": {"displayName": "platform"}}),
            "g1",
            {"id": "g1", "displayName": "infrastructure"},
            "displayName 'infrastructure'",
            id="patch-displayName-without-path",
        ),
        pytest.param(
            "Users",
            {"userName": "ann@x.com"},
            None,
            {"id": "u9", "userName": "someone.else@x.com"},
            "someone.else@x.com",
            id="post-userName",
        ),
    ],
)
def test_write_answered_with_another_resource_is_refused(
    resource_type: str,
    sent: dict[str, object],
    resource_id: str | None,
    body: dict[str, object],
    message: str,
) -> None:
    """A 2xx answer naming another id or name than the one written is not a done write."""
    with pytest.raises(WrongResourceError, match=message) as caught:
        check_write(
            answer(200, body), resource_type=resource_type, sent=sent, resource_id=resource_id
        )
    assert not caught.value.retryable  # the write may have landed on that other resource


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"id": "u1", "userName": "ANN@x.com"}, id="case-differs"),
        pytest.param({"id": "u1"}, id="name-left-out"),
        pytest.param({"userName": "ann@x.com"}, id="id-left-out"),
    ],
)
def test_write_answer_that_agrees_is_accepted(body: dict[str, object]) -> None:
    """Names compare case-insensitively (RFC 7643 4.1.1); left-out attributes contradict nothing."""
    sent = patch_of({"op": "replace", "path": "userName", "value": "ann@x.com"})
    assert (
        check_write(answer(200, body), resource_type="Users", sent=sent, resource_id="u1") == body
    )


def test_created_resource_must_be_the_one_sent() -> None:
    """A POST answered 201 with the resource sent is the created resource."""
    created = check_created(
        answer(201, {"id": "u1", "userName": "ann@x.com"}),
        resource_type="Users",
        sent={"userName": "ann@x.com"},
    )
    assert created["id"] == "u1"


def test_echoed_token_is_cut_out_of_every_error_field() -> None:
    """A server echoing the Authorization header in detail, error or traceId leaks nothing."""
    token = "protocol-echo-token-1234"
    remember(token)
    error = error_for(
        answer(401, {"error": f"bad header Bearer {token}", "traceId": token, "detail": token})
    )
    assert token not in str(error)
    assert token not in f"{error.detail} {error.trace_id}"


def test_resource_data_is_kept_as_the_server_said_it() -> None:
    """The live state is what the server said, an echoed token included: it is cut out
    where text leaves the process, not out of the data the planner compares (issue 22)."""
    token = "protocol-echo-token-5678"
    remember(token)
    body = {"id": "u1", "title": f"x {token}", "totalResults": 1}
    assert check(answer(200, body)) == body
