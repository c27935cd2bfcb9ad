"""The live directory as read at one moment: users and groups, and the rules that read them.

Built from raw SCIM resources, leniently (servers deviate). This module says what a
live user and group are, in plain code:

- A user's identity (``id``, ``userName``), ``externalId``, ``active`` and ``version``
  (its ETag) come from its resource; its manageable attributes are what
  ``attributes.live_user_attributes`` reads there.
- A group's members are the ``value`` of each member that has one (``member_ids``).
- Each object can tell whether it changed since a plan, in any attribute:
  ``fingerprint``, a sha256 of its sorted JSON without bookkeeping, the one saved
  plans recompute.

``PlainUser`` and ``PlainGroup`` are those rules as they read, and what ``from_scim``
makes. A read of a whole directory (``snapshot``) makes compact objects instead
(``reconciler.live_compact``): a million users are held beside their files, so each
keeps a fraction of its resource. Both answer every question alike;
``tests/test_live.py`` holds the compact form equal to this one on random resources.
"""

from __future__ import annotations

import codecs
import copy
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.attributes import (
    MULTI_VALUED,
    canonical_tuples,
    enterprise_places,
    held_at,
    live_active,
    live_user_attributes,
)
from reconciler.errors import ProtocolError

try:  # the fast canonical text of decoded content (``decoded_digest``); optional
    import msgspec

    _SORTED: Callable[[Any], bytes] | None = msgspec.json.Encoder(order="sorted").encode
except ImportError:  # pragma: no cover - installs without it take json.dumps
    _SORTED = None

# Attributes that say nothing about the object's own state: server bookkeeping, and
# the read-only ``groups`` of a user, which changes when a *group* changes.
_NOT_FINGERPRINTED = frozenset({"meta", "schemas", "groups"})


def fingerprint(resource: Mapping[str, Any]) -> str:
    """A stable hash of a resource's content, blind to member order and bookkeeping."""
    return content_fingerprint(fingerprinted(resource))


def fingerprinted(resource: Mapping[str, Any], values: list[Any] | None = None) -> dict[str, Any]:
    """What ``fingerprint`` hashes: the content, members as their sorted values.
    ``values``: the ``value`` of each member that is an object, where already taken."""
    content = dict(resource)
    for key in _NOT_FINGERPRINTED.intersection(content):
        del content[key]
    members = content.get("members")
    if isinstance(members, list):
        if values is None:
            values = [m.get("value") for m in members if is_mapping(m)]
        content["members"] = sorted(map(str, values))
    return content


def content_fingerprint(content: Mapping[str, Any]) -> str:
    """The fingerprint of content already taken out of a resource (``fingerprinted``)."""
    return as_fingerprint(content_digest(content))


def content_digest(content: Mapping[str, Any]) -> bytes:
    """The sha256 digest that ``content_fingerprint`` shows: of the sorted JSON text."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).digest()


def as_fingerprint(digest: bytes) -> str:
    return "sha256:" + digest.hex()


class JsonFloat(float):
    """A float as ``scim.jsonbody`` decodes one: a float in every way, and the mark that
    ``decoded_digest`` needs (msgspec writes floats otherwise than ``json.dumps``)."""

    __slots__ = ()


def decoded_digest(content: Mapping[str, Any]) -> bytes:
    """``content_digest`` of content decoded from JSON by ``scim.jsonbody`` (every float a
    ``JsonFloat``), four to five times faster: msgspec's sorted text, escaped as ``json.dumps``
    escapes (non-ASCII and DEL as ``\\u`` escapes). msgspec refuses what it would write
    otherwise (a ``JsonFloat``, a lone surrogate), which takes ``json.dumps``: the digest is
    always the same (tests/test_live.py holds the two equal on random content)."""
    if _SORTED is not None:
        try:
            text = _SORTED(content)
        except (TypeError, ValueError):
            return content_digest(content)
        if not text.isascii():
            text = text.decode().encode("ascii", "reconciler.json-ascii")
        if b"\x7f" in text:  # only ever inside a string
            text = text.replace(b"\x7f", b"\\u007f")
        return hashlib.sha256(text).digest()
    return content_digest(content)


def _json_ascii(error: UnicodeError) -> tuple[str, int]:
    """The ``\\uXXXX`` escapes (surrogate pairs beyond the BMP) ``json.dumps`` writes."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    escaped = []
    for char in error.object[error.start : error.end]:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            escaped.append(f"\\u{0xD800 | code >> 10:04x}\\u{0xDC00 | code & 0x3FF:04x}")
        else:
            escaped.append(f"\\u{code:04x}")
    return "".join(escaped), error.end


codecs.register_error("reconciler.json-ascii", _json_ascii)


def is_mapping(value: Any) -> bool:
    return type(value) is dict or isinstance(value, Mapping)  # dict first: the common case


def member_ids(resource: Mapping[str, Any]) -> frozenset[str]:
    """A group's members by live user id: the ``value`` of each member that has one.
    A group listed without members (or with ``null``) has none."""
    members = resource.get("members") or []
    return frozenset(str(m.get("value")) for m in members if is_mapping(m) and m.get("value"))


def version_of(resource: Mapping[str, Any]) -> str | None:
    """``meta.version``, the ETag, where servers have them."""
    meta = resource.get("meta")
    version = meta.get("version") if isinstance(meta, Mapping) else None
    return version if isinstance(version, str) and version else None


def id_of(resource: Mapping[str, Any], kind: str) -> str:
    """The resource's id; a listed object without one is refused, not skipped."""
    rid = resource.get("id")
    if not isinstance(rid, str) or not rid:
        raise ProtocolError(f"a listed {kind} has no id: {json.dumps(resource, default=str)[:200]}")
    return rid


def required_text(resource: Mapping[str, Any], attribute: str, what: str) -> str:
    """An attribute the planner matches by (``userName``, ``displayName``): non-empty text."""
    value = resource.get(attribute)
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"{what} has no {attribute}")
    return value


def external_id_of(resource: Mapping[str, Any]) -> str | None:
    external = resource.get("externalId")
    return external if isinstance(external, str) else None


def compact_value(path: str, value: Any) -> Any:
    """A value of ``live_user_attributes`` in the form the planner compares in one go
    (``LiveUser.values_at``): emails and phone numbers as sorted ``(value, type,
    primary)`` tuples, ``attributes.canonical_tuples``; anything else as it is."""
    if path in MULTI_VALUED and value is not None:
        return canonical_tuples(value)
    return value


class LiveUser(ABC):
    """One user as the directory holds it. Read-only: the reader makes it, nobody changes it."""

    __slots__ = ()
    id: str
    userName: str
    externalId: str | None
    active: bool
    version: str | None  # meta.version, the ETag, where servers have them

    @classmethod
    def from_scim(cls, resource: Mapping[str, Any]) -> LiveUser:
        """A user from its resource, in the plain form (a read makes compact ones)."""
        return PlainUser(resource)

    @property
    @abstractmethod
    def attributes(self) -> Mapping[str, Any]:
        """The manageable attributes by path (``attributes.live_user_attributes``); a
        read keeps only the paths the files manage (``live_compact``)."""

    @abstractmethod
    def values_at(self, paths: tuple[str, ...]) -> tuple[Any, ...]:
        """The ``compact_value`` of each of these paths, in their order."""

    @abstractmethod
    def held_at(self, key: str) -> str | None:
        """Where this user's ``department`` or ``organization`` sat: ``"top_level"``,
        ``"extension"``, ``"both"``, or ``None`` (``attributes.held_at``)."""

    @property
    @abstractmethod
    def fingerprint(self) -> str:
        """The ``fingerprint`` of the resource it was made from."""

    def __repr__(self) -> str:
        return f"LiveUser(id={self.id!r}, userName={self.userName!r}, active={self.active!r})"


class LiveGroup(ABC):
    """One group as the directory holds it; members by live user id. Read-only."""

    __slots__ = ()
    id: str
    displayName: str
    member_ids: frozenset[str]
    version: str | None

    @classmethod
    def from_scim(cls, resource: Mapping[str, Any]) -> LiveGroup:
        """A group from its resource, in the plain form (a read makes compact ones)."""
        return PlainGroup(resource)

    @property
    @abstractmethod
    def fingerprint(self) -> str:
        """The ``fingerprint`` of the resource it was made from."""

    def __repr__(self) -> str:
        return f"LiveGroup(id={self.id!r}, displayName={self.displayName!r})"


class PlainUser(LiveUser):
    """The rules as they read: a copy of the resource, read again on every question."""

    __slots__ = ("_resource", "active", "externalId", "id", "userName", "version")

    def __init__(self, resource: Mapping[str, Any]) -> None:
        self.id = id_of(resource, "user")
        self.userName = required_text(resource, "userName", f"user {self.id}")
        self.externalId = external_id_of(resource)
        self.active = live_active(resource)
        self.version = version_of(resource)
        self._resource = copy.deepcopy(dict(resource))

    @property
    def attributes(self) -> Mapping[str, Any]:
        return live_user_attributes(self._resource)

    def values_at(self, paths: tuple[str, ...]) -> tuple[Any, ...]:
        attributes = self.attributes
        return tuple(compact_value(path, attributes[path]) for path in paths)

    def held_at(self, key: str) -> str | None:
        return held_at(enterprise_places(self._resource), key)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self._resource)


class PlainGroup(LiveGroup):
    """The rules as they read: a copy of the resource, and the member ids it lists."""

    __slots__ = ("_resource", "displayName", "id", "member_ids", "version")

    def __init__(self, resource: Mapping[str, Any]) -> None:
        self.id = id_of(resource, "group")
        self.displayName = required_text(resource, "displayName", f"group {self.id}")
        self.member_ids = member_ids(resource)
        self.version = version_of(resource)
        self._resource = copy.deepcopy(dict(resource))

    @property
    def fingerprint(self) -> str:
        return fingerprint(self._resource)


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
