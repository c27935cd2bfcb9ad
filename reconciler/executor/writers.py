"""Writers: what carries out the executor's writes.

The executor describes every write as a ``WriteRequest`` and gets a ``WriteResult``
back (the contract is in ``reconciler.scim.writes``). ``ScimWriter`` sends to a
directory; ``RecordingWriter`` records for a dry run and sends nothing. Tests write
their own against an in-memory directory.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Protocol

from reconciler.errors import ConflictError, ProtocolError, ReconcilerError
from reconciler.scim.client import ScimClient
from reconciler.scim.lookup import find_by_key
from reconciler.scim.protocol import UNIQUE_ATTRIBUTE
from reconciler.scim.writes import WriteRequest, WriteResult


class Writer(Protocol):
    """What the executor needs from a directory."""

    def write(self, request: WriteRequest) -> WriteResult:
        """Carry out one write; a failure is the result's ``error``, not an exception."""


class ScimWriter:
    """Writes through a ``ScimClient``, which retries; a 409 on create may take over."""

    def __init__(self, client: ScimClient) -> None:
        self.client = client

    def write(self, request: WriteRequest) -> WriteResult:
        if request.method != "POST":
            return self.client.write(request)
        # Look up by the name the directory keeps unique (userName, displayName),
        # which is in the body whatever the plan's key is (externalId, say).
        unique = UNIQUE_ATTRIBUTE[request.resource_type]
        name = str((request.body or {}).get(unique) or request.key)
        result = self.client.write(
            request, find_existing=lambda: find_by_key(self.client, request.resource_type, name)
        )
        if isinstance(result.error, ConflictError):
            return self._take_over(request, name, result)
        return result

    def _take_over(self, request: WriteRequest, name: str, conflict: WriteResult) -> WriteResult:
        """A create answered 409: take over the existing object if it is the one we meant.

        It is, when a lookup by name finds it and it has the externalId the create sent
        (or the create sent none): made by an earlier run that was stopped. Otherwise it
        is someone else's account, and taking it over is an adoption, which a person
        approves in a plan (docs/identity.md).
        """
        assert isinstance(conflict.error, ConflictError)
        try:
            existing = find_by_key(self.client, request.resource_type, name)
        except ReconcilerError as error:
            return replace(conflict, error=error)
        if existing is None:
            return conflict
        wanted = (request.body or {}).get("externalId")
        if wanted is not None and existing.get("externalId") != wanted:
            refused = ConflictError(
                f"{name} now belongs to an account with externalId "
                f"{existing.get('externalId') or '(none)'}, not {wanted}; it was not "
                "taken over. Plan again to see it.",
                status=conflict.error.status,
            )
            refused.__cause__ = conflict.error
            return replace(conflict, error=refused)
        existing_id = existing.get("id")
        if not isinstance(existing_id, str) or not existing_id:
            missing = ProtocolError(
                f"the existing {request.resource_type} {name} came back without an id"
            )
            return replace(conflict, error=missing)
        return replace(conflict, id=existing_id, adopted=True, error=None, resource=existing)


@dataclass
class RecordingWriter:
    """Records every write and sends nothing: the dry run."""

    requests: list[WriteRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self, request: WriteRequest) -> WriteResult:
        with self._lock:
            self.requests.append(request)
        if request.method == "POST":
            return WriteResult(status=None, id=f"(new {request.key})")
        return WriteResult(status=None, id=request.resource_id)
