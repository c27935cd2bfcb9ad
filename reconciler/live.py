"""The live directory as read at one moment: users and groups, normalised.

Built from raw SCIM resources, leniently (servers deviate), and immutable. Each
object keeps a fingerprint of everything it said, so a saved plan can tell later
whether the object changed in any attribute since it was planned against.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.attributes import live_active, live_user_attributes
from reconciler.errors import ProtocolError

# Attributes that say nothing about the object's own state: server bookkeeping, and
# the read-only ``groups`` of a user, which changes when a *group* changes.
_NOT_FINGERPRINTED = frozenset({"meta", "schemas", "groups"})


def fingerprint(resource: Mapping[str, Any]) -> str:
    """A stable hash of a resource's content, blind to member order and bookkeeping."""
    content = {k: v for k, v in resource.items() if k not in _NOT_FINGERPRINTED}
    members = content.get("members")
    if isinstance(members, list):
        content["members"] = sorted(str(m.get("value")) for m in members if isinstance(m, Mapping))
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _version(resource: Mapping[str, Any]) -> str | None:
    meta = resource.get("meta")
    version = meta.get("version") if isinstance(meta, Mapping) else None
    return version if isinstance(version, str) and version else None


def _require_id(resource: Mapping[str, Any], kind: str) -> str:
    rid = resource.get("id")
    if not isinstance(rid, str) or not rid:
        raise ProtocolError(f"a listed {kind} has no id: {json.dumps(resource)[:200]}")
    return rid


def _required_text(resource: Mapping[str, Any], attribute: str, what: str) -> str:
    value = resource.get(attribute)
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"{what} has no {attribute}")
    return value


@dataclass(frozen=True, slots=True)
class LiveUser:
    """One user as the directory holds it."""

    id: str
    userName: str
    externalId: str | None
    active: bool
    attributes: Mapping[str, Any]
    fingerprint: str
    version: str | None = None  # meta.version, the ETag, where the server has them

    @classmethod
    def from_scim(cls, resource: Mapping[str, Any]) -> LiveUser:
        rid = _require_id(resource, "user")
        user_name = _required_text(resource, "userName", f"user {rid}")
        external = resource.get("externalId")
        return cls(
            id=rid,
            userName=user_name,
            externalId=external if isinstance(external, str) else None,
            active=live_active(resource),
            attributes=live_user_attributes(resource),
            fingerprint=fingerprint(resource),
            version=_version(resource),
        )


@dataclass(frozen=True, slots=True)
class LiveGroup:
    """One group as the directory holds it; members by live user id."""

    id: str
    displayName: str
    member_ids: frozenset[str]
    fingerprint: str
    version: str | None = None

    @classmethod
    def from_scim(cls, resource: Mapping[str, Any]) -> LiveGroup:
        rid = _require_id(resource, "group")
        name = _required_text(resource, "displayName", f"group {rid}")
        members = resource.get("members") or []
        ids = frozenset(
            str(m["value"]) for m in members if isinstance(m, Mapping) and m.get("value")
        )
        return cls(
            id=rid,
            displayName=name,
            member_ids=ids,
            fingerprint=fingerprint(resource),
            version=_version(resource),
        )


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    """Every user and group of the directory, read completely and consistently."""

    users: tuple[LiveUser, ...] = ()
    groups: tuple[LiveGroup, ...] = ()
    _by_id: dict[str, LiveUser] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({u.id: u for u in self.users})

    def user_by_id(self, user_id: str) -> LiveUser | None:
        return self._by_id.get(user_id)
