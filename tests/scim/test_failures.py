"""httpx's errors as reconciler's, mapped once (reconciler.scim.failures)."""

from __future__ import annotations

import httpx
import pytest

from reconciler.errors import (
    ConfigError,
    DeadlineExceededError,
    OutcomeUnknownError,
    TransportError,
)
from reconciler.scim.budget import Deadline
from reconciler.scim.client import ScimClient
from reconciler.scim.failures import failure

HOST = "scim.example.test"


def test_a_request_that_cannot_be_built_keeps_nothing_of_its_headers() -> None:
    """A LocalProtocolError may quote the Authorization header: the ConfigError says what
    to check, and does not keep the httpx error as its cause."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.LocalProtocolError("Illegal header value b'Bearer s3cret\\n'")

    client = ScimClient(f"https://{HOST}/v2", transport=httpx.MockTransport(refuse))
    with client, pytest.raises(ConfigError, match="could not be built") as caught:
        client.service_provider_config()
    assert caught.value.__cause__ is None
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    ("method", "cut", "kind"),
    [
        pytest.param("GET", None, TransportError, id="read-timeout"),
        pytest.param("PATCH", None, OutcomeUnknownError, id="write-timeout"),
        pytest.param("GET", Deadline(0.0, "the run's budget of 3s (--timeout)"),
                     DeadlineExceededError, id="cut-to-the-deadline"),
    ],
)  # fmt: skip
def test_a_timeout_is_the_deadline_only_when_the_waits_were_cut_to_it(
    method: str, cut: Deadline | None, kind: type[Exception]
) -> None:
    """A socket timeout under the usual read timeout is a retryable transport error (a
    write's outcome unknown); under waits cut to the deadline, it is the deadline."""
    error = failure(httpx.ReadTimeout("timed out"), method, f"{method} Users", HOST, cut)
    assert type(error) is kind
    if cut is not None:
        assert f"no whole answer from {HOST} within the run's budget of 3s" in str(error)
