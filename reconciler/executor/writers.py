"""Writers: what carries out the executor's writes.

The executor describes every write as a ``WriteRequest`` and gets a ``WriteResult``
back (the contract is in ``reconciler.scim.writes``). ``ScimWriter`` sends to a
directory; ``RecordingWriter`` records for a dry run and sends nothing. Tests write
their own against an in-memory directory.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

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
    """Writes through a ``ScimClient``, which retries; a 409 on create may take over.

    ``adopt`` is the files' ``policy.users.adopt``: whether a user create answered 409
    may take over an existing account that nothing shows to be the one meant.
    """

    def __init__(self, client: ScimClient, *, adopt: str = "never") -> None:
        self.client = client
        self.adopt = adopt

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
            result = self._take_over(request, name, result)
        if request.resource_type == "Groups" and result.error is None:
            return self._alone(name, result)
        return result

    def _take_over(self, request: WriteRequest, name: str, conflict: WriteResult) -> WriteResult:
        """A create answered 409: take over the existing object if it is the one we meant.

        A group of that name is the one meant (an earlier run that was stopped, or an
        apply running at the same time). A user is, when it has the externalId the
        create sent: the same person. Without an externalId to tell, an existing
        account is taken over only as ``policy.users.adopt`` allows (``always``, or
        ``inactive`` for a deactivated one); otherwise it is someone else's account,
        and taking it over is an adoption a person approves in a plan (docs/identity.md).
        """
        assert isinstance(conflict.error, ConflictError)
        try:
            existing = find_by_key(self.client, request.resource_type, name)
        except ReconcilerError as error:
            return replace(conflict, error=error)
        if existing is None:
            return conflict
        refusal = (
            self._refusal(request, name, existing) if request.resource_type == "Users" else None
        )
        if refusal is not None:
            refused = ConflictError(refusal, status=conflict.error.status)
            refused.__cause__ = conflict.error
            return replace(conflict, error=refused)
        existing_id = existing.get("id")
        if not isinstance(existing_id, str) or not existing_id:
            missing = ProtocolError(
                f"the existing {request.resource_type} {name} came back without an id"
            )
            return replace(conflict, error=missing)
        return replace(conflict, id=existing_id, adopted=True, error=None, resource=existing)

    def _refusal(self, request: WriteRequest, name: str, existing: dict[str, Any]) -> str | None:
        """Why an existing account may not be taken over; None when it may."""
        wanted = (request.body or {}).get("externalId")
        held = existing.get("externalId")
        if wanted is not None:
            if held == wanted:
                return None
            return (
                f"{name} now belongs to an account with externalId {held or '(none)'}, not "
                f"{wanted}; it was not taken over. Plan again to see it."
            )
        active = existing.get("active") not in (False, "false", "False")
        if self.adopt == "always" or (self.adopt == "inactive" and not active):
            return None
        state = "active" if active else "deactivated"
        return (
            f"{name} already exists ({state} account {existing.get('id')}), and the create "
            "sent no externalId to show it is the account meant; it was not taken over "
            f"(policy.users.adopt: {self.adopt}). Plan again to see it."
        )

    def _alone(self, name: str, created: WriteResult) -> WriteResult:
        """A group just created must be the only one of its name; another apply at the
        same time on a server that allows duplicates makes two."""
        try:
            found = self.client.find("Groups", "displayName", name)
        except ReconcilerError as error:
            return replace(created, error=error)
        same = sorted(
            str(g.get("id"))
            for g in found
            if isinstance(g.get("displayName"), str) and g["displayName"].lower() == name.lower()
        )
        if len(same) <= 1:
            return created
        return replace(
            created,
            error=ConflictError(
                f"{len(same)} groups are named {name} now ({', '.join(same)}): another apply "
                "ran at the same time, or someone created one, and this server allows "
                f"duplicate names. Delete all but one of them by hand (this run made "
                f"{created.id}), then plan again; run one apply per target at a time.",
                status=409,
            ),
        )


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
