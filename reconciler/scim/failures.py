"""What went wrong with one exchange, as the reconciler error that says so.

httpx's errors are mapped here, once, to the most specific class of
``reconciler.errors``; so are the client's own two refusals: an answer that took
longer than its deadline, and one larger than an answer may be (``scim.budget``).
Pure: the client (``scim.client``) raises what these build.
"""

from __future__ import annotations

import httpx

from reconciler.errors import (
    ConfigError,
    DeadlineExceededError,
    OutcomeUnknownError,
    ReconcilerError,
    ResponseTooLargeError,
    TransportError,
)
from reconciler.scim.budget import RESPONSE_BYTES_VARIABLE, Deadline, describe_bytes

WRITES = ("POST", "PATCH", "PUT", "DELETE")


def failure(
    exc: httpx.HTTPError, method: str, what: str, host: str, cut: Deadline | None
) -> ReconcilerError:
    """The reconciler error for an httpx one. ``cut``: the request's deadline, when its
    socket waits were cut short to end by it (a timeout then means it passed)."""
    if isinstance(exc, httpx.LocalProtocolError):
        # Raised before anything is sent, and its text can quote the headers, the
        # token among them: never retried, never quoted.
        return ConfigError(
            f"{what}: the request could not be built ({type(exc).__name__}); "
            "check the token for line breaks or other characters a header cannot hold"
        )
    if isinstance(exc, httpx.TimeoutException) and cut is not None:
        return late(method, what, host, cut)
    if isinstance(exc, httpx.ConnectError):
        return TransportError(f"{what}: cannot connect: {exc}")
    if isinstance(exc, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError):
        reason = f"{what}: no answer ({type(exc).__name__}: {exc})"
        return OutcomeUnknownError(reason) if method in WRITES else TransportError(reason)
    return TransportError(f"{what}: {exc}")


def late(method: str, what: str, host: str, deadline: Deadline) -> DeadlineExceededError:
    """The answer did not come whole by the deadline; a write may have been done."""
    maybe = ", so it may or may not have been done" if method in WRITES else ""
    return DeadlineExceededError(
        f"{what}: no whole answer from {host} within {deadline.limit}{maybe}",
        host=host,
        limit=deadline.limit,
    )


def spent(what: str, host: str, deadline: Deadline) -> DeadlineExceededError:
    """The deadline passed before the request was sent: it was not."""
    return DeadlineExceededError(
        f"{what}: not sent to {host}: {deadline.limit} is spent", host=host, limit=deadline.limit
    )


def too_large(what: str, host: str, limit: int, how: str = "") -> ResponseTooLargeError:
    """The answer is larger than ``limit`` bytes (``how``: what it announced)."""
    return ResponseTooLargeError(
        f"{what}: the answer from {host} is larger than the {describe_bytes(limit)} an answer "
        f"may have{how}; it was not read further ({RESPONSE_BYTES_VARIABLE} raises the limit)"
    )
