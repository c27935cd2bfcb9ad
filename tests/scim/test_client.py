"""The SCIM client against scripted protocol faults (httpx.MockTransport)."""

from __future__ import annotations

import gc
import json
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from reconciler.errors import (
    AuthenticationError,
    HostNotFoundError,
    InconsistentReadError,
    OutcomeUnknownError,
    ProtocolError,
    ScimError,
    ScimHTTPError,
    ServerError,
    TransportError,
    WrongResourceError,
)
from reconciler.scim.client import ScimClient
from reconciler.scim.lookup import find_by_key
from reconciler.scim.retry import RetryPolicy
from reconciler.scim.writes import WriteRequest

Handler = Callable[[httpx.Request], httpx.Response]
PATCH_U1 = WriteRequest.patch("Users", "u1", {"Operations": []})
TOKEN = "s3cret-token-value"


class Script:
    """A transport that answers from a handler and remembers every request."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


def client_for(script: Script, sleeps: list[float] | None = None, attempts: int = 4) -> ScimClient:
    sink = sleeps if sleeps is not None else []
    return ScimClient(
        "https://scim.example.test/v2",
        token=TOKEN,
        transport=httpx.MockTransport(script),
        retry=RetryPolicy(attempts=attempts, base_delay=0.01, sleep=sink.append),
    )


def users_page(request: httpx.Request, total: int, per_page: int) -> httpx.Response:
    start = int(request.url.params["startIndex"])
    ids = range(start, min(start + per_page, total + 1))
    return httpx.Response(
        200,
        json={
            "totalResults": total,
            "itemsPerPage": 10000,
            "Resources": [{"id": str(i), "userName": f"u{i}"} for i in ids],
        },
    )


def test_lists_every_page_with_bearer_token() -> None:
    """A listing walks startIndex/count to totalResults, probes one page past the end, and
    sends the bearer token."""
    script = Script(lambda r: users_page(r, total=250, per_page=100))
    with client_for(script) as client:
        users = client.list_all("Users", page_size=100)
    assert len(users) == 250
    assert [r.url.params["startIndex"] for r in script.requests] == ["1", "101", "201", "251"]
    assert script.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_server_that_ignores_count_is_paged_by_arrivals() -> None:
    """A server capping pages at 50 below the asked 100 loses nobody."""
    script = Script(lambda r: users_page(r, total=120, per_page=50))
    with client_for(script) as client:
        users = client.list_all("Users", page_size=100)
    assert sorted(int(u["id"]) for u in users) == list(range(1, 121))


def test_start_index_past_end_returning_first_page_is_refused() -> None:
    """A server that serves page one again past the end makes the read fail, not loop."""

    def handler(request: httpx.Request) -> httpx.Response:
        # totalResults claims 150 but the server only has 100 and repeats page one.
        response = users_page(httpx.Request("GET", "https://x/?startIndex=1"), 100, 100)
        body = json.loads(response.content)
        body["totalResults"] = 150
        return httpx.Response(200, json=body)

    with (
        client_for(Script(handler)) as client,
        pytest.raises(InconsistentReadError, match="first page"),
    ):
        client.list_all("Users", page_size=100)


def test_429_waits_for_retry_after_then_succeeds() -> None:
    """A 429 with Retry-After is retried after exactly that wait."""
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "3"}, json={"detail": "slow down"}),
            httpx.Response(200, json={"totalResults": 0, "Resources": []}),
        ]
    )
    sleeps: list[float] = []
    with client_for(Script(lambda r: next(answers)), sleeps) as client:
        assert client.list_all("Users", page_size=100) == []
    assert sleeps == [3.0]


def test_failed_page_after_retries_fails_the_read() -> None:
    """A page that keeps failing ends the read with the server's error: fail closed."""
    script = Script(lambda r: httpx.Response(503, json={"status": "503", "detail": "down"}))
    with client_for(script, attempts=3) as client, pytest.raises(ServerError):
        client.list_all("Users", page_size=100)
    assert len(script.requests) == 3


def test_html_page_with_200_fails_the_read() -> None:
    """An HTML error page served with 200 is a protocol error, never an empty listing."""
    script = Script(
        lambda r: httpx.Response(
            200, text="<html>login</html>", headers={"Content-Type": "text/html"}
        )
    )
    with client_for(script, attempts=2) as client, pytest.raises(ProtocolError):
        client.list_all("Users", page_size=100)


def test_create_with_unknown_outcome_is_looked_up_before_retry() -> None:
    """A POST that timed out is looked up before a retry, so no duplicate is made."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(
            200, json={"totalResults": 1, "Resources": [{"id": "u1", "userName": "a"}]}
        )

    script = Script(handler)
    with client_for(script) as client:
        created = client.write(
            WriteRequest.post("Users", {"userName": "a"}),
            find_existing=lambda: (client.find("Users", "userName", "a") or [None])[0],
        )
    assert (created.id, created.error, created.attempts) == ("u1", None, 1)
    assert [r.method for r in script.requests] == ["POST", "GET"]


def test_write_without_answer_is_outcome_unknown() -> None:
    """A PATCH whose connection drops after sending is reported as outcome unknown."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("server disconnected", request=request)

    with client_for(Script(handler), attempts=1) as client, pytest.raises(OutcomeUnknownError):
        client.write(PATCH_U1).raise_for_error()


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(httpx.Response(204), id="204-no-body"),
        pytest.param(httpx.Response(200, json={"id": "u1"}), id="200-resource"),
    ],
)
def test_patch_accepts_200_and_204(response: httpx.Response) -> None:
    """PATCH is done whether the server answers 200 with the resource or 204."""
    with client_for(Script(lambda r: response)) as client:
        client.write(PATCH_U1).raise_for_error()


def test_token_never_appears_in_error_messages() -> None:
    """An auth failure names the request and traceId but never the token."""
    script = Script(lambda r: httpx.Response(401, json={"error": "bad token", "traceId": "t-1"}))
    with client_for(script) as client, pytest.raises(AuthenticationError) as caught:
        client.service_provider_config()
    assert TOKEN not in str(caught.value)
    assert "t-1" in str(caught.value)


def test_parallel_read_gets_every_page_once() -> None:
    """With concurrency, every page after the first is fetched once (then the probe past the
    end), and nobody is missed."""
    script = Script(lambda r: users_page(r, total=1050, per_page=int(r.url.params["count"])))
    with client_for(script) as client:
        users = client.list_all("Users", page_size=100, concurrency=4)
    assert [int(u["id"]) for u in users] == list(range(1, 1051))
    starts = sorted(int(r.url.params["startIndex"]) for r in script.requests)
    assert starts == [*range(1, 1051, 100), 1051]


def test_parallel_read_of_a_server_with_a_smaller_page_uses_its_size() -> None:
    """A server that caps pages at 30 is read in parallel pages of 30, not 100."""
    script = Script(lambda r: users_page(r, total=100, per_page=30))
    with client_for(script) as client:
        users = client.list_all("Users", page_size=100, concurrency=4)
    assert len(users) == 100
    assert all(r.url.params["count"] in ("100", "30") for r in script.requests)


def test_non_uniform_pages_fall_back_to_reading_in_order() -> None:
    """When a parallel page is short, the rest is read page by page: complete all the same."""

    def handler(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params["startIndex"])
        # A server whose pages past the first hold fewer items than asked for.
        per_page = 100 if start == 1 else 40
        return users_page(request, total=300, per_page=per_page)

    with client_for(Script(handler)) as client:
        users = client.list_all("Users", page_size=100, concurrency=4)
    assert sorted(int(u["id"]) for u in users) == list(range(1, 301))


def test_parallel_read_still_fails_closed() -> None:
    """A totalResults that changes on a parallel page fails the read like a sequential one."""

    def handler(request: httpx.Request) -> httpx.Response:
        total = 300 if request.url.params["startIndex"] != "201" else 301
        response = users_page(request, total=300, per_page=100)
        body = json.loads(response.content)
        body["totalResults"] = total
        return httpx.Response(200, json=body)

    with client_for(Script(handler)) as client, pytest.raises(InconsistentReadError):
        client.list_all("Users", page_size=100, concurrency=4)


SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def test_patch_answered_200_with_a_scim_error_fails_without_retry() -> None:
    """A PATCH answered 200 with a SCIM Error body raises its 400, once: it is not done."""
    script = Script(
        lambda r: httpx.Response(
            200, json={"schemas": [SCIM_ERROR], "status": "400", "detail": "active is locked"}
        )
    )
    with client_for(script) as client, pytest.raises(ScimHTTPError, match="active is locked"):
        client.write(PATCH_U1).raise_for_error()
    assert len(script.requests) == 1


def test_create_answered_with_another_user_is_not_a_create() -> None:
    """A POST answered 201 with someone else's account is refused, and not sent again."""
    script = Script(lambda r: httpx.Response(201, json={"id": "u7", "userName": "mallory@x.com"}))
    with client_for(script) as client, pytest.raises(WrongResourceError, match="mallory"):
        client.write(WriteRequest.post("Users", {"userName": "ann@x.com"})).raise_for_error()
    assert len(script.requests) == 1


def test_echoed_token_is_in_no_error_and_no_retry_event() -> None:
    """A 500 quoting the Authorization header leaks the token into no message and no log event."""

    def echo(request: httpx.Request) -> httpx.Response:
        auth = request.headers["Authorization"]
        bare = auth.removeprefix("Bearer ")
        return httpx.Response(500, json={"detail": f"failed for {auth}", "traceId": bare})

    with (
        capture_logs() as events,
        client_for(Script(echo), attempts=3) as client,
        pytest.raises(ServerError) as caught,
    ):
        client.write(PATCH_U1).raise_for_error()
    retries = [e for e in events if e["event"] == "scim.retry"]
    assert len(retries) == 2
    assert TOKEN not in str(caught.value) + repr(retries)
    assert "<redacted>" in str(caught.value)


def test_token_quoted_by_a_transport_error_is_cut_out() -> None:
    """An httpx exception whose text quotes the token is mapped without it."""

    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused ({request.headers['Authorization']})", request=request)

    with client_for(Script(fail), attempts=1) as client, pytest.raises(TransportError) as caught:
        client.service_provider_config()
    assert TOKEN not in str(caught.value)


def test_listing_whose_total_is_too_small_from_the_start_fails_closed() -> None:
    """totalResults 100 for 250 users contradicts nothing, but the probe past the end finds more."""

    def short(request: httpx.Request) -> httpx.Response:
        body = json.loads(users_page(request, total=250, per_page=100).content)
        return httpx.Response(200, json={**body, "totalResults": 100})

    with (
        client_for(Script(short)) as client,
        pytest.raises(InconsistentReadError, match="after the 100 that totalResults announced"),
    ):
        client.list_all("Users", page_size=100)


def test_probe_past_the_end_may_serve_the_first_page_again() -> None:
    """A complete listing whose server repeats page one past the end is accepted as complete."""

    def repeat(request: httpx.Request) -> httpx.Response:
        if int(request.url.params["startIndex"]) > 150:
            request = httpx.Request("GET", "https://x/?startIndex=1")
        return users_page(request, total=150, per_page=100)

    script = Script(repeat)
    with client_for(script) as client:
        assert len(client.list_all("Users", page_size=100)) == 150
    assert len(script.requests) == 3


def test_a_failed_write_is_a_result_with_the_attempts_it_took() -> None:
    """A write that still fails after its retries is returned, not raised: the error, the
    status it ended with and every attempt it took."""
    script = Script(lambda r: httpx.Response(503, json={"status": "503", "detail": "down"}))
    with client_for(script, attempts=3) as client:
        result = client.write(PATCH_U1)
    assert isinstance(result.error, ServerError)
    assert (result.status, result.attempts, result.id) == (503, 3, None)
    assert len(script.requests) == 3


def test_delete_of_a_resource_already_gone_counts_as_done() -> None:
    """A DELETE answered 404 is done: what was to be deleted does not exist."""
    script = Script(lambda r: httpx.Response(404, json={"status": "404", "detail": "no user"}))
    with client_for(script) as client:
        result = client.write(WriteRequest.delete("Users", "u1"))
    assert (result.error, result.status, result.id) == (None, 404, "u1")


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_redirect_answer_to_a_write_is_not_success(method: str) -> None:
    """A write answered 302 (SSO proxy, http->https, trailing-slash redirect) did not happen.

    Expected: the write ends in a ScimError, so the action is reported failed (exit 4).
    Actual: ``check()`` treats every status below 400 as success, so the action is
    reported applied and apply exits 0 although nothing was written.
    """

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "https://login.example.test/sso"})

    client = client_for(Script(handler))

    def write() -> None:
        if method == "PATCH":
            body = {"Operations": [{"op": "replace", "path": "active"}]}
            client.write(WriteRequest.patch("Users", "u1", body)).raise_for_error()
        else:
            client.write(WriteRequest.delete("Groups", "g1")).raise_for_error()

    with pytest.raises(ScimError):
        write()


def test_create_is_not_retried_when_the_lookup_for_a_landed_post_fails() -> None:
    """A POST whose outcome is unknown must not be re-sent unless the lookup said "absent".

    Expected (docs/design.md "Safety model": writes): when the lookup itself
    fails (here 503 on the filter GET), the create stops with an error and one group
    exists. Actual: ``lookup`` swallows the ScimError, returns None, and the POST is
    sent again; on servers where group names are not unique (scim2-server) that
    makes a duplicate group, which every later plan leaves alone as ambiguous.
    """
    groups: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            body = json.loads(request.content)
            groups.append({"id": f"g{len(groups) + 1}", **body})
            if len(groups) == 1:
                raise httpx.ReadTimeout("timed out after the request was processed")
            return httpx.Response(201, json=groups[-1])
        return httpx.Response(503, json={"status": "503", "detail": "busy"})

    client = client_for(Script(handler))
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "eng"}
    result = client.write(
        WriteRequest.post("Groups", body, key="eng"),
        find_existing=lambda: find_by_key(client, "Groups", "eng"),
    )
    assert isinstance(result.error, ScimError)
    assert len(groups) == 1, f"{len(groups)} groups named eng were created"


def test_a_read_leaves_no_response_waiting_for_the_collector() -> None:
    """A response is freed once read, with its page, not left in a reference cycle for the
    cyclic collector, which the loader of the files pauses while a read goes on."""
    script = Script(lambda r: users_page(r, total=250, per_page=100))
    gc.collect()
    gc.disable()
    try:
        before = {id(o) for o in gc.get_objects() if isinstance(o, httpx.Response)}
        with client_for(script) as client:
            assert len(client.list_all("Users", page_size=100)) == 250
            alive = [
                o for o in gc.get_objects() if isinstance(o, httpx.Response) and id(o) not in before
            ]
    finally:
        gc.enable()
    assert alive == []


def _unresolved(code: int) -> Handler:
    """A transport whose host name lookup fails with ``code``, chained as httpx chains it."""

    def fail(request: httpx.Request) -> httpx.Response:
        try:
            raise socket.gaierror(code, "Name or service not known")
        except socket.gaierror as lookup:
            raise httpx.ConnectError(str(lookup), request=request) from lookup

    return fail


def test_a_host_name_that_does_not_resolve_is_named_and_not_retried() -> None:
    """A name the resolver says does not exist fails at once, naming the host: it will not
    exist seconds later in the same run, so four retries would only delay the error."""
    script, sleeps = Script(_unresolved(socket.EAI_NONAME)), []
    with (
        client_for(script, sleeps, attempts=5) as client,
        pytest.raises(HostNotFoundError) as caught,
    ):
        client.service_provider_config()
    assert len(script.requests) == 1
    assert sleeps == []
    assert "the host name scim.example.test does not resolve" in str(caught.value)


def test_a_resolver_that_does_not_answer_is_retried_naming_the_host() -> None:
    """A temporary lookup failure (EAI_AGAIN) is a transport error like any other: retried."""
    script = Script(_unresolved(socket.EAI_AGAIN))
    with client_for(script, attempts=3) as client, pytest.raises(TransportError) as caught:
        client.service_provider_config()
    assert not isinstance(caught.value, HostNotFoundError)
    assert len(script.requests) == 3
    assert "scim.example.test" in str(caught.value)


@pytest.mark.parametrize("token", [pytest.param(TOKEN, id="sent"), pytest.param(None, id="none")])
def test_a_401_says_whether_a_token_was_sent(token: str | None) -> None:
    """A refusal records whether the request carried a token: without one, the directory
    asked for a token rather than refused one (the CLI's hint depends on it)."""
    script = Script(lambda request: httpx.Response(401, json={"detail": "no"}))
    client = ScimClient(
        "https://scim.example.test/v2", token=token, transport=httpx.MockTransport(script)
    )
    with client, pytest.raises(AuthenticationError) as caught:
        client.service_provider_config()
    assert caught.value.token_sent is (token is not None)
