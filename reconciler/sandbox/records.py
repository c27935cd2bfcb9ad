"""What the store hands out and how it keeps values: records, member changes, JSON, time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A stored user: the directory-owned fields and the client-owned attributes."""

    seq: int
    id: str
    account_id: str
    created: str
    last_modified: str
    attributes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class GroupRecord:
    """A stored group, without its members (those are rows of ``memberships``)."""

    seq: int
    id: str
    created: str
    last_modified: str
    attributes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class MemberOperation:
    """One PATCH operation on a group's members: ``add``, ``remove`` or ``replace`` these ids.

    By live user id, as the server sees it; the plan's ``MemberChange`` is by user key.
    """

    op: str
    ids: tuple[str, ...]


def now() -> str:
    """The time as ``meta.created`` and ``meta.lastModified`` show it."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_ENCODER = json.JSONEncoder(separators=(",", ":"))  # one encoder: seeding calls it 100k times


def dumps(value: Any) -> str:
    """Compact JSON, as attributes are stored."""
    return _ENCODER.encode(value)


def user_record(row: tuple[Any, ...]) -> UserRecord:
    """A user from a row of ``sql.GET_USER`` (or a page of users)."""
    seq, user_id, account_id, created, last_modified, attributes = row
    return UserRecord(seq, user_id, account_id, created, last_modified, json.loads(attributes))


def group_record(row: tuple[Any, ...]) -> GroupRecord:
    """A group from a row of ``sql.GET_GROUP`` (or a page of groups)."""
    seq, group_id, created, last_modified, attributes = row
    return GroupRecord(seq, group_id, created, last_modified, json.loads(attributes))
