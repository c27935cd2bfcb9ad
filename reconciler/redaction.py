"""Cutting secrets out of what leaves the process: the one place.

A server may echo the ``Authorization`` header back (in ``detail``, ``error`` or
``traceId``, or inside resource data), and a library may quote it in an exception.
Whatever leaves the process must not hold the token. What comes *in* is kept as it
came: the live state is what the server said, and the planner compares what the
directory really holds. (Cutting the token out of the data read rewrote it: under the
token ``ok`` a title ``Bookkeeper`` read as ``Bo<redacted>keeper`` and never
converged; under ``t`` a listing's ``totalResults`` key was gone.)

The rules live here and are applied where text leaves, at these edges only:

* every ``ReconcilerError`` redacts its message and SCIM detail when built (``redact``):
  an error exists to be reported, so it is output from the start;
* ``redact_log_event``, a structlog processor, redacts every log event;
* documents (the plan views, a saved plan, the apply report, an export) are rendered
  from data with the secrets cut out (``redact_secrets``; ``Plan.for_output``,
  ``ApplyReport.for_output``), so no escaping, clipping or line folding of a renderer
  can carry a secret past the cut. A plan's digest covers the plan as written, so a
  saved plan reads back with the digest its views showed;
* the CLI's streams and the files it writes pass ``redact_secrets`` once more, as
  text: the last net.

The token is known to this module from the moment a client is built with it
(``remember``): the registry is process-wide because the log processor is set up
before any target is. A secret shorter than ``MIN_SECRET_CHARS`` is not remembered:
it cannot be cut out of text without cutting ordinary words too (``reconciler.target``
refuses such a token for a remote target and warns on loopback). Besides the
remembered secrets, any ``Bearer …`` credential in a message or log event is cut out,
whoever's it is.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping, MutableMapping
from typing import Any

REDACTED = "<redacted>"

# Shorter secrets are in ordinary text by chance ("ok" in "Bookkeeper"): cutting them
# out would rewrite what is shown, so they are not remembered.
MIN_SECRET_CHARS = 16

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
# Each secret as it stands inside a JSON string, escaped as ``json.dumps`` writes it
# with and without ``ensure_ascii`` (pydantic writes it as the latter).
_in_json: tuple[str, ...] = ()


def remember(secret: str) -> bool:
    """Cut ``secret`` out of all output from now on (for the life of the process).

    False, and nothing remembered, for a secret shorter than ``MIN_SECRET_CHARS``.
    """
    global _secrets, _in_json
    if len(secret) < MIN_SECRET_CHARS:
        return False
    with _lock:
        # Longest first, so a secret that contains another is cut out whole.
        _secrets = tuple(sorted({*_secrets, secret}, key=len, reverse=True))
        _in_json = tuple(
            {json.dumps(s, ensure_ascii=escape)[1:-1] for s in _secrets for escape in (True, False)}
        )
    return True


def redact(text: str) -> str:
    """``text`` without any remembered secret and without any ``Bearer …`` value."""
    text = _cut(text)
    if "earer" in text or "EARER" in text:
        text = _BEARER.sub(_bearer, text)
    return text


def _cut(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_secrets(value: Any) -> Any:
    """A value as it may leave the process: every remembered secret cut out of every
    string in it, mapping keys included (lists and tuples become lists).

    Only the remembered secrets, not the ``Bearer`` rule: this is data, where "Bearer
    of the torch" may be somebody's title. ``value`` itself is returned when it holds
    no secret.
    """
    if not _secrets or not holds_secret(value):
        return value
    return _redacted(value)


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return _cut(value)
    if isinstance(value, Mapping):
        return {_redacted(k): _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return value


def holds_secret(value: Any) -> bool:
    """Whether any string in ``value`` (a JSON-like value; keys too) holds a remembered secret."""
    if not _secrets:
        return False
    try:
        text = json.dumps(value, ensure_ascii=True, default=str)
    except (TypeError, ValueError):  # keys that are no strings, circular values
        return _holds(value)
    return json_may_hold_secret(text) and _holds(value)


def json_may_hold_secret(text: str) -> bool:
    """Whether a JSON text may hold a remembered secret in one of its strings, keys too.

    One pass at C speed over a big document (a plan of 100,000 actions): in a JSON text
    every string holds each of its substrings in escaped form, so a secret in a string
    is always found; a hit is then confirmed on the data (``holds_secret``).
    """
    return any(secret in text for secret in _in_json)


def _holds(value: Any) -> bool:
    if isinstance(value, str):
        return any(secret in value for secret in _secrets)
    if isinstance(value, Mapping):
        return any(_holds(k) or _holds(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds(item) for item in value)
    return False


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
