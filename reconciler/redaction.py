"""Cutting secrets out of text that came from a server or an exception: the one place.

A server may echo the ``Authorization`` header back (in ``detail``, ``error`` or
``traceId``), and a library may quote it in an exception. Whatever such text reaches
(an error message, a log event, an apply report, a saved plan) must not hold the
token. The rules live here, and are applied where foreign text enters:

* every ``ReconcilerError`` redacts its message and its SCIM detail when built, so
  no error the tool raises, reports or logs can carry the token;
* every JSON body the SCIM client decodes (``reconciler.scim.protocol``) loses the
  remembered secrets (``redact_secrets``), so resource data that reaches a plan
  cannot carry them either;
* ``redact_log_event``, a structlog processor, is the second net for log events.

The token is known to this module from the moment a client is built with it
(``remember``): the registry is process-wide because the log processor is set up
before any target is. Besides the remembered secrets, any ``Bearer …`` credential
in a message or log event is cut out, whoever's it is.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, MutableMapping
from typing import Any

REDACTED = "<redacted>"

# "Bearer <credential>" in any letter case, as an Authorization header is echoed; the
# credential in RFC 6750's b64token syntax.
_BEARER = re.compile(r"(?i)\b(bearer)(\s+)([A-Za-z0-9\-._~+/]+=*)")
_TOKENISH = re.compile(r"[0-9\-._~+/=]")


def _bearer(match: re.Match[str]) -> str:
    """``Bearer <redacted>``, unless the word after it is plain prose ("bearer token")."""
    value = match.group(3)
    if len(value) < 16 and not _TOKENISH.search(value):
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{REDACTED}"


_lock = threading.Lock()
_secrets: tuple[str, ...] = ()


def remember(secret: str) -> None:
    """Cut ``secret`` out of all text from now on (for the life of the process)."""
    global _secrets
    if not secret:
        return
    with _lock:
        # Longest first, so a secret that contains another is cut out whole.
        _secrets = tuple(sorted({*_secrets, secret}, key=len, reverse=True))


def redact(text: str) -> str:
    """``text`` without any remembered secret and without any ``Bearer …`` value."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if "earer" in text or "EARER" in text:
        text = _BEARER.sub(_bearer, text)
    return text


def holds_secret(raw: bytes) -> bool:
    """Whether a raw body may hold a remembered secret (checked before decoding it).

    Cheap enough for every listing page. A JSON body may escape a secret (``\\/``,
    ``\\u0041``), so a body with any escape in it counts as one that may.
    """
    return bool(_secrets) and (b"\\" in raw or any(s.encode() in raw for s in _secrets))


def redact_secrets(value: Any) -> Any:
    """A decoded JSON value with every remembered secret cut out of its strings.

    Only the remembered secrets, not the ``Bearer`` rule: this is resource data,
    where "Bearer of the torch" may be somebody's title.
    """
    if isinstance(value, str):
        for secret in _secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, Mapping):
        return {redact_secrets(k): redact_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_secrets(item) for item in value]
    return value


def redact_value(value: Any) -> Any:
    """Any value a log event may carry, with ``redact`` applied to every string in it."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, BaseException):
        return redact(str(value))
    if isinstance(value, Mapping):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(item) for item in value]
    return value


def redact_log_event(
    logger: object, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: every string of the event, traceback included, redacted."""
    for key, value in event_dict.items():
        event_dict[key] = redact_value(value)
    return event_dict
