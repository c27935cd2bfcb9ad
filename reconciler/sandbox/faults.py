"""Injected faults: rate limits, latency, 500/503 answers, dropped connections, lies.

Real directories throttle, fail and hang up (docs/atlassian.md "Errors, rate limits,
retries"; docs/test-servers.md "Misbehaviours the client must survive"); the
client's retry policy and its handling of writes whose outcome is unknown can only
be trusted once they have met those faults. ``FaultInjector``
is the one place that decides what happens to a request. Two thin adapters carry
the decision out:

* ``FaultMiddleware`` wraps the WSGI app when the sandbox is served over HTTP. It
  drops a connection by shutting down the client socket that the sandbox's server
  puts in ``environ[SERVED_SOCKET]`` (``wsgiserver``), so the client sees the
  connection close without an answer (httpx: ``RemoteProtocolError``). Under a WSGI
  server that does not expose its socket a drop cannot be done; the middleware then
  answers 502 with an empty body, which the client must also treat as a failed
  request.
* ``FaultInjectingTransport`` wraps an httpx transport in-process (the sandbox behind
  ``httpx.WSGITransport``), where there is no socket: it raises the httpx errors a
  dropped connection produces.

A drop happens either before the request is processed or after it (the write took
effect, but its answer never arrived), chosen at random: the second kind is what
makes a create's outcome unknown (docs/design.md "Safety model": writes). An ``error_200`` refuses
the request but answers HTTP 200 with a SCIM error body, as some gateways do; with
``writes_only``, the random faults hit only POST, PUT, PATCH and DELETE. Answers
that are served can still be rewritten on their way out (``rewrites``: an echoed
Authorization header, a short ``totalResults``, group listings without members).

A 429 comes in one of three styles (``rate_limit_style``): ``scim``, with
``Retry-After`` and a SCIM error body; ``atlassian``, as Atlassian's Organizations API
documents it, with ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and an ISO 8601 UTC
``X-RateLimit-Reset``, no ``Retry-After``, and a non-SCIM ``{"code", "message"}`` body;
and ``headerless``, the same body with no header at all, as has been reported
(docs/atlassian.md "Errors, rate limits, retries").
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Literal

import httpx

from reconciler.sandbox.problems import SCIM_CONTENT_TYPE, encode, error_body
from reconciler.sandbox.rewrites import Rewrites, RewritingMiddleware, rewrite_body

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

FaultKind = Literal[
    "answer", "rate_limited", "server_error", "error_200", "drop_before", "drop_after"
]
RateLimitStyle = Literal["scim", "atlassian", "headerless"]
RATE_LIMIT_STYLES: tuple[RateLimitStyle, ...] = ("scim", "atlassian", "headerless")
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The environ key under which the sandbox's HTTP server hands the app the client socket.
SERVED_SOCKET = "reconciler.socket"


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Which faults to inject; everything is off by default.

    ``rate_limit`` is requests per second (a token bucket holding one second of
    burst); ``error_rate``, ``drop_rate`` and ``error_200_rate`` are fractions of
    requests (of writes only, with ``writes_only``); ``seed`` makes the random
    choices reproducible. ``rate_limit_style`` is how a 429 looks (this module's
    docstring). ``echo_auth``, ``total_cap`` and ``lists_without_members`` rewrite
    answers (``reconciler.sandbox.rewrites``).
    """

    rate_limit: float | None = None
    latency_ms: float = 0.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    seed: int | None = None
    error_200_rate: float = 0.0
    writes_only: bool = False
    echo_auth: bool = False
    total_cap: int | None = None
    lists_without_members: bool = False
    rate_limit_style: RateLimitStyle = "scim"

    def __post_init__(self) -> None:
        if self.rate_limit_style not in RATE_LIMIT_STYLES:
            raise ValueError(f"rate_limit_style must be one of {', '.join(RATE_LIMIT_STYLES)}")
        if self.rate_limit is not None and not self.rate_limit > 0:
            raise ValueError(f"rate_limit must be positive, not {self.rate_limit}")
        if not 0 <= self.latency_ms < math.inf:
            raise ValueError(
                f"latency_ms must be a finite, non-negative number, not {self.latency_ms}"
            )
        for name in ("error_rate", "drop_rate", "error_200_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {rate}")
        if self.total_cap is not None and self.total_cap < 0:
            raise ValueError(f"total_cap must not be negative, not {self.total_cap}")

    @property
    def enabled(self) -> bool:
        """Whether any fault is switched on."""
        return self.injects or self.rewrites.enabled

    @property
    def injects(self) -> bool:
        """Whether any request may be delayed, refused or dropped."""
        return bool(
            self.rate_limit
            or self.latency_ms
            or self.error_rate
            or self.drop_rate
            or self.error_200_rate
        )

    @property
    def rewrites(self) -> Rewrites:
        """The answer rewrites this configuration switches on."""
        return Rewrites(
            echo_auth=self.echo_auth,
            total_cap=self.total_cap,
            lists_without_members=self.lists_without_members,
        )


@dataclass(frozen=True, slots=True)
class Fault:
    """What happens to one request; ``delay`` (seconds) comes before any answer.

    A 429 names its wait twice: ``retry_after`` seconds, and ``reset``, the wall-clock
    time (epoch seconds) the wait ends, for an ``X-RateLimit-Reset``.
    """

    kind: FaultKind
    delay: float = 0.0
    status: int = 200
    retry_after: int = 0
    reset: float = 0.0


class FaultInjector:
    """Decides, thread-safely and reproducibly for a seed, what happens to each request."""

    def __init__(
        self,
        config: FaultConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.sleep = sleep
        self._clock = clock
        self._wall = wall
        # Reproducible fault injection, not security: a seeded PRNG is the point.
        self._random = random.Random(config.seed)  # noqa: S311
        self._lock = threading.Lock()
        self._capacity = max(1.0, config.rate_limit or 0.0)
        self._tokens = self._capacity
        self._refilled = clock()

    def decide(self, method: str = "GET") -> Fault:
        """The fate of the next request. Requests refused with 429 use no token."""
        config = self.config
        delay = config.latency_ms / 1000
        hit = method.upper() in _WRITES or not config.writes_only
        with self._lock:
            if config.rate_limit is not None:
                now = self._clock()
                elapsed = max(0.0, now - self._refilled)
                self._tokens = min(self._capacity, self._tokens + elapsed * config.rate_limit)
                self._refilled = now
                if self._tokens < 1:
                    wait = max(1, math.ceil((1 - self._tokens) / config.rate_limit))
                    return Fault("rate_limited", delay, 429, wait, self._wall() + wait)
                self._tokens -= 1
            if hit and config.drop_rate and self._random.random() < config.drop_rate:
                kind: FaultKind = "drop_after" if self._random.random() < 0.5 else "drop_before"
                return Fault(kind, delay)
            if hit and config.error_rate and self._random.random() < config.error_rate:
                return Fault("server_error", delay, self._random.choice((500, 503)))
            if hit and config.error_200_rate and self._random.random() < config.error_200_rate:
                return Fault("error_200", delay, 200)
        return Fault("answer", delay)


def fault_answer(fault: Fault, config: FaultConfig) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and SCIM error body for a 429, an injected 5xx or an error under 200."""
    headers = [("Content-Type", SCIM_CONTENT_TYPE)]
    if fault.kind == "rate_limited":
        detail = f"Too many requests: the sandbox allows {config.rate_limit:g} per second"
        if config.rate_limit_style != "scim":
            return _atlassian_429(fault, config, detail)
        headers.append(("Retry-After", str(fault.retry_after)))
        payload = error_body(fault.status, detail)
    elif fault.kind == "error_200":
        detail = "Injected fault: refused, but answered 200 as some gateways do"
        payload = error_body(400, detail, "invalidValue")
    else:
        payload = error_body(fault.status, f"Injected fault: {HTTPStatus(fault.status).phrase}")
    body = encode(payload)
    headers.append(("Content-Length", str(len(body))))
    return fault.status, headers, body


def _atlassian_429(
    fault: Fault, config: FaultConfig, detail: str
) -> tuple[int, list[tuple[str, str]], bytes]:
    """A 429 as Atlassian's Organizations API answers it, or with no header at all."""
    headers = [("Content-Type", "application/json")]
    if config.rate_limit_style == "atlassian":
        reset = datetime.datetime.fromtimestamp(math.ceil(fault.reset), datetime.UTC)
        headers += [
            ("X-RateLimit-Limit", str(math.ceil(config.rate_limit or 1))),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", reset.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ]
    body = json.dumps({"code": 429, "message": detail}).encode()
    headers.append(("Content-Length", str(len(body))))
    return 429, headers, body


class FaultMiddleware:
    """WSGI middleware that applies ``FaultInjector`` decisions to a served app."""

    def __init__(self, app: WSGIApplication, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        fault = self.injector.decide(environ["REQUEST_METHOD"])
        if fault.delay:
            self.injector.sleep(fault.delay)
        if fault.kind in ("rate_limited", "server_error", "error_200"):
            status, headers, body = fault_answer(fault, self.injector.config)
            start_response(f"{status} {HTTPStatus(status).phrase}", headers)
            return [body]
        if fault.kind == "drop_after":
            result = self.app(environ, lambda status, headers, exc_info=None: lambda data: None)
            try:
                for _ in result:
                    pass
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        if fault.kind in ("drop_before", "drop_after"):
            return self._drop(environ, start_response)
        return self.app(environ, start_response)

    @staticmethod
    def _drop(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        sock = environ.get(SERVED_SOCKET)
        if isinstance(sock, socket.socket):
            # The client reads end-of-stream instead of a status line. The server's
            # attempt to send the answer below then fails with a broken pipe, which
            # it treats as a connection the client dropped: quietly.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            start_response("500 Internal Server Error", [("Content-Length", "0")])
            return []
        start_response("502 Bad Gateway", [("Content-Length", "0")])
        return []


class FaultInjectingTransport(httpx.BaseTransport):
    """An httpx transport that injects faults in front of another (in-process) one."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        faults: FaultConfig,
        *,
        injector: FaultInjector | None = None,
    ) -> None:
        self.inner = inner
        self.injector = injector or FaultInjector(faults)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        fault = self.injector.decide(request.method)
        if fault.delay:
            self.injector.sleep(fault.delay)
        if fault.kind in ("rate_limited", "server_error", "error_200"):
            status, headers, body = fault_answer(fault, self.injector.config)
            return self._rewritten(
                request, httpx.Response(status, headers=headers, content=body, request=request)
            )
        if fault.kind == "drop_before":
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        response = self.inner.handle_request(request)
        if fault.kind == "drop_after":
            response.read()
            response.close()
            raise httpx.ReadError(
                "Connection reset by peer (the request was processed)", request=request
            )
        return self._rewritten(request, response)

    def _rewritten(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        rewrites = self.injector.config.rewrites
        if not rewrites.enabled:
            return response
        new = rewrite_body(
            rewrites,
            method=request.method,
            path=request.url.path,
            authorization=request.headers.get("authorization"),
            status=response.status_code,
            body=response.read(),
        )
        if new is None:
            return response
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=new, request=request)

    def close(self) -> None:
        self.inner.close()


def with_faults(app: WSGIApplication, config: FaultConfig) -> WSGIApplication:
    """``app`` behind the faults and rewrites ``config`` switches on (for HTTP serving).

    Rewrites sit outermost, so injected error answers are rewritten too.
    """
    if config.injects:
        app = FaultMiddleware(app, FaultInjector(config))
    if config.rewrites.enabled:
        app = RewritingMiddleware(app, config.rewrites)
    return app
