"""Answers rewritten on their way out: the sandbox misbehaving in *what* it says.

``faults`` decides *whether* a request is served (429, 5xx, drops, a refusal under
200). The knobs here change an answer that was served, the way hostile or sloppy
servers do (issue 8), and are what the client's honesty is tested against:

* ``echo_auth``: error answers quote the request's ``Authorization`` header in
  ``detail`` and ``error``, and as ``traceId`` where the body has one;
* ``total_cap``: user and group listings never announce more than this
  ``totalResults``, from the first page on, without contradicting themselves;
* ``lists_without_members``: group listings leave ``members`` out, as servers do
  for large groups; ``GET /Groups/{id}`` still shows them.

``rewrite_body`` is pure; ``RewritingMiddleware`` applies it to the served WSGI app,
and ``FaultInjectingTransport`` to in-process answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.sandbox.problems import ERROR_SCHEMA, encode

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

_LISTINGS = ("/Users", "/Groups")


@dataclass(frozen=True, slots=True)
class Rewrites:
    """Which answer rewrites are on; all off by default."""

    echo_auth: bool = False
    total_cap: int | None = None
    lists_without_members: bool = False

    def __post_init__(self) -> None:
        if self.total_cap is not None and self.total_cap < 0:
            raise ValueError(f"total_cap must not be negative, not {self.total_cap}")

    @property
    def enabled(self) -> bool:
        """Whether any rewrite is switched on."""
        return self.echo_auth or self.total_cap is not None or self.lists_without_members


def _is_error(status: int, payload: dict[str, Any]) -> bool:
    schemas = payload.get("schemas")
    return status >= 400 or (isinstance(schemas, list) and ERROR_SCHEMA in schemas)


def _echo(payload: dict[str, Any], authorization: str) -> None:
    for key in ("detail", "error"):
        if isinstance(payload.get(key), str):
            payload[key] += f" (the request said Authorization: {authorization})"
    if "traceId" in payload:
        payload["traceId"] = authorization


def _listing(method: str, path: str, status: int, payload: dict[str, Any]) -> str | None:
    """``/Users`` or ``/Groups`` when this is a page of one of those listings."""
    if method != "GET" or status != 200 or "totalResults" not in payload:
        return None
    return next((kind for kind in _LISTINGS if path.rstrip("/").endswith(kind)), None)


def rewrite_body(
    rewrites: Rewrites,
    *,
    method: str,
    path: str,
    authorization: str | None,
    status: int,
    body: bytes,
) -> bytes | None:
    """The body to send instead of ``body``, or None to send it as it is."""
    if not rewrites.enabled or not body:
        return None
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    before = encode(payload)
    if rewrites.echo_auth and authorization and _is_error(status, payload):
        _echo(payload, authorization)
    listing = _listing(method, path, status, payload)
    if listing and rewrites.total_cap is not None:
        payload["totalResults"] = min(payload["totalResults"], rewrites.total_cap)
    if listing == "/Groups" and rewrites.lists_without_members:
        for resource in payload.get("Resources") or []:
            resource.pop("members", None)
    after = encode(payload)
    return after if after != before else None


class RewritingMiddleware:
    """WSGI middleware that applies ``rewrite_body`` to every answer of a served app."""

    def __init__(self, app: WSGIApplication, rewrites: Rewrites) -> None:
        self.app = app
        self.rewrites = rewrites

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        answered: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered[:] = [status, headers]
            return lambda data: None

        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = answered
        new = rewrite_body(
            self.rewrites,
            method=environ["REQUEST_METHOD"],
            path=environ.get("PATH_INFO", ""),
            authorization=environ.get("HTTP_AUTHORIZATION"),
            status=int(status.split()[0]),
            body=body,
        )
        if new is not None:
            body = new
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body]
