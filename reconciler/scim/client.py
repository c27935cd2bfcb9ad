"""The SCIM client: the only code that touches the network.

Each call is *prepare (pure) → send (one httpx call, ``scim.exchange``) → check
(pure, ``reconciler.scim.protocol``)*, wrapped in the one retry policy. httpx errors
are mapped once, where the request is sent, to ``reconciler.errors``. The transport is
injectable, which is how the embedded sandbox and the fault-injection tests use this
very client; the default one goes to the host directly, never through a proxy from
the environment (``scim.network``). Every answer is read in chunks against the
request's deadline and the largest size an answer may have (``scim.budget``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from reconciler.attributes import eq_filter
from reconciler.errors import (
    NotFoundError,
    OutcomeUnknownError,
    ProtocolError,
    ReconcilerError,
    ScimError,
    ScimHTTPError,
)
from reconciler.scim.budget import MAX_RESPONSE_BYTES, Budget
from reconciler.scim.exchange import Exchange, check_token, session_headers
from reconciler.scim.listing import ProgressCallback, read_listing
from reconciler.scim.network import network_transport
from reconciler.scim.paging import Pager
from reconciler.scim.protocol import (
    Answer,
    ListPage,
    check,
    check_created,
    check_list,
    check_resource,
    check_write,
)
from reconciler.scim.retry import GaveUp, RateLimiter, RetryPolicy
from reconciler.scim.writes import WriteRequest, WriteResult

__all__ = ["ScimClient", "check_token"]

T = TypeVar("T")


class ScimClient:
    """A SCIM 2.0 client for one directory (base URL), with bearer-token auth."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        rate: float | None = None,
        budget: Budget | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        """``timeout`` bounds each socket wait; ``budget`` each request, whole, and the
        run's requests together; ``max_response_bytes`` each answer."""
        headers = session_headers(base_url, token)
        self.base_url = base_url.rstrip("/")
        self.host = urlsplit(base_url).netloc.rpartition("@")[2]  # as messages name it
        self.retry = retry or RetryPolicy()
        self.limiter = RateLimiter(rate)
        self.budget = budget or Budget()
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self._exchange = Exchange(
            httpx.Client(
                base_url=self.base_url + "/",
                headers=headers,
                # Given a transport, httpx reads no proxy from the environment.
                transport=transport or network_transport(self.base_url),
                timeout=timeout,
                follow_redirects=False,
            ),
            host=self.host,
            limiter=self.limiter,
            budget=self.budget,
            timeout=timeout,
            max_response_bytes=max_response_bytes,
        )

    def close(self) -> None:
        self._exchange.close()

    def __enter__(self) -> ScimClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sending ------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        if_match: str | None = None,
    ) -> Answer:
        """One request and its whole answer, not retried (``scim.exchange``)."""
        return self._exchange.send(method, path, params=params, body=body, if_match=if_match)

    def _retrying(
        self,
        call: Callable[[], T],
        *,
        before_retry: Callable[[ReconcilerError], T | None] | None = None,
    ) -> T:
        """Run ``call`` under the client's one retry policy (``RetryPolicy.run``)."""
        return self.retry.run(call, before_retry=before_retry, budget=self.budget, host=self.host)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One request under the retry policy; its JSON body, or None for an empty one.

        For endpoints beside SCIM that answer in its way (Atlassian's Admin API).
        """
        return self._retrying(lambda: check(self._send(method, path, body=body)))

    # -- reading ------------------------------------------------------------------------

    def service_provider_config(self) -> dict[str, Any]:
        """``/ServiceProviderConfig`` (RFC 7644 section 4): what the server supports."""
        return self._retrying(lambda: check_resource(self._send("GET", "ServiceProviderConfig")))

    def list_all(
        self,
        resource_type: str,
        *,
        page_size: int,
        progress: ProgressCallback | None = None,
        concurrency: int = 1,
    ) -> list[dict[str, Any]]:
        """Every resource of a type, or an error: never a partial listing (``each_page``)."""
        resources: list[dict[str, Any]] = []
        self.each_page(
            resource_type,
            resources.extend,
            page_size=page_size,
            progress=progress,
            concurrency=concurrency,
        )
        return resources

    def each_page(
        self,
        resource_type: str,
        accept: Callable[[Sequence[dict[str, Any]]], None],
        *,
        page_size: int,
        progress: ProgressCallback | None = None,
        concurrency: int = 1,
        leave_out: tuple[str, ...] = (),
    ) -> None:
        """Hand every page of a listing to ``accept``, in order, or raise; nothing is kept
        here (``reconciler.scim.listing.read_listing``). ``leave_out``: attributes the
        server is asked not to send (``excludedAttributes``; it may send them anyway)."""
        extra = {"excludedAttributes": ",".join(leave_out)} if leave_out else {}
        read_listing(
            lambda start, count: self._list_page(resource_type, start, count, extra),
            Pager(resource_type, page_size, keep=False),
            accept,
            progress=progress,
            concurrency=concurrency,
        )

    def _list_page(
        self, resource_type: str, start: int, count: int, extra: Mapping[str, str]
    ) -> ListPage:
        """One page of a listing, under the retry policy."""
        params: dict[str, str | int] = {"startIndex": start, "count": count, **extra}
        return self._retrying(lambda: check_list(self._send("GET", resource_type, params=params)))

    def get(self, resource_type: str, resource_id: str) -> dict[str, Any] | None:
        """One resource by id, or None when it does not exist."""
        try:
            return self._retrying(
                lambda: check_resource(self._send("GET", f"{resource_type}/{resource_id}"))
            )
        except NotFoundError:
            return None

    def find(self, resource_type: str, attribute: str, value: str) -> list[dict[str, Any]]:
        """Resources whose ``attribute`` equals ``value`` (an ``eq`` filter)."""
        params: dict[str, str | int] = {
            "filter": eq_filter(attribute, value),
            "startIndex": 1,
            "count": 10,
        }
        page = self._retrying(lambda: check_list(self._send("GET", resource_type, params=params)))
        return list(page.resources)

    # -- writing ------------------------------------------------------------------------

    def write(
        self,
        request: WriteRequest,
        *,
        find_existing: Callable[[], dict[str, Any] | None] | None = None,
    ) -> WriteResult:
        """Send one write under the retry policy; how it ended (``reconciler.scim.writes``).

        A failed write is the result's ``error``, with the attempts it took; it is not
        raised. Before a POST is retried, ``find_existing`` looks it up: a retry never
        makes a duplicate. A DELETE of something already gone counts as done.
        """
        before_retry = None if find_existing is None else _found_before_retry(find_existing)
        tried = self.retry.tried(
            lambda: self._write_once(request),
            before_retry=before_retry,
            budget=self.budget,
            host=self.host,
        )
        if isinstance(tried, GaveUp):
            error = tried.error
            if isinstance(error, NotFoundError) and request.method == "DELETE":
                return WriteResult(
                    status=error.status, id=request.resource_id, attempts=tried.attempts
                )
            return _failed(error, tried.attempts)
        status, resource = tried.value
        try:
            written = _written_id(request, resource)
        except ReconcilerError as error:
            return _failed(error, tried.attempts)
        return WriteResult(status=status, id=written, attempts=tried.attempts, resource=resource)

    def _write_once(self, request: WriteRequest) -> tuple[int | None, dict[str, Any] | None]:
        """One attempt: send, then check that the answer is the resource written."""
        kind, sent = request.resource_type, request.body or {}
        if request.method == "POST":
            answer = self._send("POST", kind, body=request.body)
            return answer.status, check_created(answer, resource_type=kind, sent=sent)
        path = f"{kind}/{request.resource_id}"
        answer = self._send(request.method, path, body=request.body, if_match=request.if_match)
        if request.method == "PATCH":
            checked = check_write(
                answer, resource_type=kind, sent=sent, resource_id=request.resource_id
            )
        else:
            checked = check(answer)
        return answer.status, checked if isinstance(checked, dict) else None


def _found_before_retry(
    find_existing: Callable[[], dict[str, Any] | None],
) -> Callable[[ReconcilerError], tuple[int | None, dict[str, Any]] | None]:
    """The lookup before a create is sent again: the resource if the last POST landed."""

    def lookup(error: ReconcilerError) -> tuple[int | None, dict[str, Any]] | None:
        try:
            found = find_existing()
        except ScimError as lookup_error:
            # Not knowing whether the first POST landed, a second one could make
            # a twin: stop here, the next run will find it or create it.
            raise OutcomeUnknownError(
                f"{error}; the lookup before retrying failed too ({lookup_error}), "
                "so the create was not sent again"
            ) from lookup_error
        return None if found is None else (None, found)

    return lookup


def _written_id(request: WriteRequest, resource: dict[str, Any] | None) -> str | None:
    """The id of the resource written: the request's, or the one a POST created."""
    if request.method != "POST":
        return request.resource_id
    created = (resource or {}).get("id")
    if not isinstance(created, str) or not created:
        raise ProtocolError(
            f"POST {request.resource_type}: the created {request.key or 'resource'} "
            "came back without an id"
        )
    return created


def _failed(error: ReconcilerError, attempts: int) -> WriteResult:
    status = error.status if isinstance(error, ScimHTTPError) else None
    return WriteResult(status=status, id=None, attempts=attempts, error=error)
