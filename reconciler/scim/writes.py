"""Writes as data: what is asked of a directory, and how it ended.

The executor describes each write as a ``WriteRequest`` and hands it to a writer
(``reconciler.executor.writers``): the SCIM client for an apply, a recorder for a dry
run, an in-memory model in tests. The writer answers with a ``WriteResult``.

The contract, for every writer:

- ``write(request)`` returns a result; it does not raise for a write that failed.
  A failure is the result's ``error``: the ``ReconcilerError`` the write ended with,
  after any retries. Anything else that escapes (Ctrl-C, a bug) is not an outcome.
- ``attempts`` counts the times the request was sent, retries included (1 for a
  write a dry run records). An action's report shows the most attempts any of its
  writes needed.
- ``id`` is the resource written: the one a POST created or took over, else the
  request's own. ``adopted`` says a POST answered 409 and the existing object was
  taken over (the rule is in ``ScimWriter``; see docs/identity.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from reconciler.errors import ReconcilerError

Method = Literal["POST", "PATCH", "DELETE"]


@dataclass(frozen=True, slots=True)
class WriteRequest:
    """One write to a directory, and what it is for."""

    method: Method
    resource_type: str  # "Users" or "Groups"
    resource_id: str | None  # None for a POST: the server assigns it
    body: dict[str, Any] | None  # a resource (POST), a PatchOp (PATCH), None (DELETE)
    # With an ETag, the server refuses with 412 when the resource changed since that
    # version was read (RFC 7644 section 3.14).
    if_match: str | None = None
    key: str = ""  # the key of the plan action the write belongs to
    purpose: str = ""  # what the write does for it: "create user", "add members"

    @classmethod
    def post(
        cls, resource_type: str, body: dict[str, Any], *, key: str = "", purpose: str = ""
    ) -> WriteRequest:
        return cls("POST", resource_type, None, body, key=key, purpose=purpose)

    @classmethod
    def patch(
        cls,
        resource_type: str,
        resource_id: str,
        body: dict[str, Any],
        *,
        if_match: str | None = None,
        key: str = "",
        purpose: str = "",
    ) -> WriteRequest:
        return cls("PATCH", resource_type, resource_id, body, if_match, key, purpose)

    @classmethod
    def delete(
        cls,
        resource_type: str,
        resource_id: str,
        *,
        if_match: str | None = None,
        key: str = "",
        purpose: str = "",
    ) -> WriteRequest:
        return cls("DELETE", resource_type, resource_id, None, if_match, key, purpose)

    @property
    def path(self) -> str:
        """Where the write goes, below the base URL: ``/Users`` or ``/Users/{id}``."""
        if self.resource_id is None:
            return f"/{self.resource_type}"
        return f"/{self.resource_type}/{self.resource_id}"


@dataclass(frozen=True, slots=True)
class WriteResult:
    """How one write ended (the contract is in this module's docstring)."""

    # The HTTP status the write ended with; None when it ended without one: nothing
    # was sent (a dry run), no answer came, or a lookup found the create had landed.
    status: int | None
    id: str | None  # the resource written, created or taken over; None on failure
    adopted: bool = False  # a POST answered 409 and the existing object was taken over
    attempts: int = 1
    error: ReconcilerError | None = None
    resource: dict[str, Any] | None = None  # the resource the server answered with, if any

    def raise_for_error(self) -> WriteResult:
        """This result, or its error raised: for callers to whom a failure is an exception."""
        if self.error is not None:
            raise self.error
        return self
