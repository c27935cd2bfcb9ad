"""Secrets cut out of what leaves the process: messages, errors, log events, documents."""

from __future__ import annotations

import io
import sys

import pytest
import structlog

from reconciler.errors import ScimHTTPError, TransportError
from reconciler.logs import configure_logging
from reconciler.redaction import (
    MIN_SECRET_CHARS,
    REDACTED,
    holds_secret,
    redact,
    redact_log_event,
    redact_secrets,
    remember,
)

SECRET = "redaction-test-s3cret/with+chars="


@pytest.fixture(autouse=True)
def _remembered() -> None:
    remember(SECRET)


def test_remembered_secret_and_any_bearer_value_are_cut_out() -> None:
    """A remembered token is cut out wherever it stands; so is any "Bearer <value>"."""
    text = f"401: header was 'Authorization: Bearer {SECRET}'; also bearer other.jwt.value"
    redacted = redact(text)
    assert SECRET not in redacted
    assert "other.jwt.value" not in redacted
    assert redacted.count(REDACTED) == 2
    assert redact(f"token={SECRET}") == f"token={REDACTED}"


@pytest.mark.parametrize(
    "text",
    [
        "GET /Users: HTTP 503: down",
        "set RECONCILER_TOKEN to the bearer token of https://scim.example.com",
        "Bearer of bad news",
    ],
)
def test_text_without_secrets_is_unchanged(text: str) -> None:
    """Ordinary messages pass as they are, prose after the word "bearer" included."""
    assert redact(text) == text


@pytest.mark.parametrize(
    "value",
    ["eyJhbGciOi.eyJzdWIi.sig", "t0k", "abcdefghijklmnopqrstuvwxyz", "a/b+c=="],
)
def test_bearer_values_that_look_like_credentials_are_cut_out(value: str) -> None:
    """A b64token after "Bearer" (RFC 6750 section 2.1) goes, whoever's it is."""
    assert redact(f"header was Authorization: Bearer {value}") == (
        f"header was Authorization: Bearer {REDACTED}"
    )


def test_data_for_output_loses_the_secret_but_keeps_bearer_words() -> None:
    """In data only remembered secrets go, keys too: "Bearer of news" may be someone's title."""
    resource = {"id": "u1", "title": "Bearer of news", "emails": [{"value": f"x{SECRET}"}]}
    assert redact_secrets({**resource, SECRET: 1}) == {
        "id": "u1",
        "title": "Bearer of news",
        "emails": [{"value": f"x{REDACTED}"}],
        REDACTED: 1,
    }


def test_data_without_a_secret_is_returned_as_it_is() -> None:
    """A value that holds no secret is not copied: most output holds none."""
    value = {"id": "u1", "members": [{"value": "u2"}], "active": True}
    assert redact_secrets(value) is value
    assert not holds_secret(value)


def test_secrets_that_json_escapes_are_found_in_data() -> None:
    """A secret with a quote or a backslash, which a JSON text escapes, is still found."""
    odd = 'odd-secret-"quoted"-and-\\slashed'
    remember(odd)
    value = {"title": f"x{odd}y", "n": [1, 2.5, None]}
    assert holds_secret(value)
    assert redact_secrets(value) == {"title": f"x{REDACTED}y", "n": [1, 2.5, None]}


@pytest.mark.parametrize("short", ["t", "ok", "x" * (MIN_SECRET_CHARS - 1)])
def test_short_secrets_are_not_remembered(short: str) -> None:
    """A secret under 16 characters is not cut out: it would rewrite ordinary words."""
    assert remember(short) is False
    text = f"Bookkeeper totalResults {short}"
    assert redact_secrets(text) == text
    assert redact(text) == text


def test_errors_redact_their_message_and_detail_when_built() -> None:
    """Every ReconcilerError is redacted at construction: message, detail and traceId."""
    error = ScimHTTPError(
        f"GET /x: HTTP 401: Bearer {SECRET}", status=401, detail=SECRET, trace_id=SECRET
    )
    assert SECRET not in str(error)
    assert SECRET not in f"{error.detail} {error.trace_id}"
    assert SECRET not in str(TransportError(f"cannot connect: {SECRET}"))


def test_log_processor_redacts_nested_values_and_exceptions() -> None:
    """The log processor is the second net: nested strings and exception objects too."""
    event = redact_log_event(
        None,
        "warning",
        {"event": "x", "error": ValueError(SECRET), "context": {"items": [f"Bearer {SECRET}"]}},
    )
    assert SECRET not in repr(event)


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_configured_logs_never_print_a_secret(
    log_format: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the CLI's log configuration, a secret in any event field never reaches stderr."""
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    configure_logging(log_format, 0, color=False)  # type: ignore[arg-type]
    try:
        structlog.get_logger("test").warning("scim.retry", error=f"echo: Bearer {SECRET}")
    finally:
        structlog.reset_defaults()
    assert "scim.retry" in stderr.getvalue()
    assert SECRET not in stderr.getvalue()
