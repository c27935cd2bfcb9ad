"""One request and its whole answer: the client's one httpx call (scim2-client's *send*).

``ScimClient`` prepares each request and checks each answer with the pure
``scim.protocol``, under its retry policy; between the two stands ``Exchange.send``:
wait for the rate limit, send once, read the answer in chunks against the request's
deadline and the largest size an answer may have (``scim.budget``), and map httpx's
errors once to ``reconciler.errors`` (``scim.failures``). What a session sends with
every request, and the rule that a token only travels encrypted or to a loopback host,
are here too.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog

from reconciler.errors import ConfigError
from reconciler.redaction import remember
from reconciler.scim.budget import Budget, Deadline
from reconciler.scim.failures import failure, late, spent, too_large
from reconciler.scim.network import clear_text_allowed
from reconciler.scim.protocol import Answer, request_headers
from reconciler.scim.retry import RateLimiter
from reconciler.version import __version__

log = structlog.get_logger("reconciler.scim")


def session_headers(base_url: str, token: str | None) -> dict[str, str]:
    """The headers of every request to ``base_url``; the token only over https or to a
    loopback host, and remembered as a secret from here on."""
    parts = urlsplit(base_url)
    if token and parts.scheme != "https" and not clear_text_allowed(parts.hostname or ""):
        raise ConfigError(
            f"the token is only sent over https, or over http to a loopback host, not to "
            f"{parts.hostname}"
        )
    headers = {
        "Accept": "application/scim+json, application/json",
        "User-Agent": f"reconciler/{__version__}",
    }
    if token:
        check_token(token)
        # From here on no message, log event, report or plan can carry it, even
        # where a server echoes it back (reconciler.redaction).
        remember(token)
        headers["Authorization"] = f"Bearer {token}"
    return headers


class Exchange:
    """Sends one request at a time over ``http`` and reads its answer whole."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        host: str,
        limiter: RateLimiter,
        budget: Budget,
        timeout: float,
        max_response_bytes: int,
    ) -> None:
        self._http = http
        self.host = host
        self.limiter = limiter
        self.budget = budget
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes

    def close(self) -> None:
        self._http.close()

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        if_match: str | None = None,
    ) -> Answer:
        """One request and its whole answer, or the error it ended in; not retried."""
        what = f"{method} {path}"
        if params:
            what += "?" + "&".join(f"{k}={v}" for k, v in params.items())
        self.limiter.wait()
        deadline = self.budget.deadline()
        if deadline.passed:
            raise spent(what, self.host, deadline)
        started = time.monotonic()
        # No socket wait may outlast the deadline; the chunks of the answer are
        # checked against it as they come (_read_whole).
        cut = deadline.left() < self.timeout
        request = self._http.build_request(
            method,
            path.lstrip("/"),
            params=dict(params) if params else None,
            json=body,
            headers=request_headers(body is not None, if_match),
            timeout=min(self.timeout, deadline.left()),
        )
        try:
            response = self._http.send(request, stream=True)
            try:
                content = self._read_whole(response, what, deadline)
            finally:
                response.close()
        except httpx.HTTPError as exc:
            error = failure(exc, method, what, self.host, deadline if cut else None)
            # A request that could not be built may quote its headers, the token among
            # them: that error is not kept as the cause.
            raise error from (None if isinstance(error, ConfigError) else exc)
        log.debug(
            "scim.request",
            request=what,
            status=response.status_code,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
        )
        return _answer(response, content, what)

    def _read_whole(self, response: httpx.Response, what: str, deadline: Deadline) -> bytes:
        """The answer's body, read in chunks: by the deadline and within the size cap."""
        limit = self.max_response_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large(what, self.host, limit, f" (it announces {int(declared):,} bytes)")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise too_large(what, self.host, limit)
            chunks.append(chunk)
            if deadline.passed:
                raise late(response.request.method, what, self.host, deadline)
        return b"".join(chunks)


def _answer(response: httpx.Response, content: bytes, what: str) -> Answer:
    """What a server answered, read whole (``content``); the response itself is let go.

    httpx keeps a read response in a reference cycle (its stream points back at it):
    without its stream it goes, page and all, as soon as it is dropped, not at the next
    cyclic collection, which loading the files pauses while a read goes on.
    """
    answer = Answer(
        status=response.status_code,
        headers={k.lower(): v for k, v in response.headers.items()},
        body=content,
        what=what,
        token_sent="authorization" in response.request.headers,
    )
    response.stream = httpx.ByteStream(b"")
    return answer


def check_token(token: str) -> None:
    """A bearer token must fit in an HTTP header: printable ASCII, no spaces or breaks."""
    if not all(33 <= ord(c) <= 126 for c in token):
        raise ConfigError(
            "the token holds spaces, line breaks or non-ASCII characters, which an HTTP "
            "header cannot carry (a token file saved with Windows line endings?); strip them"
        )
