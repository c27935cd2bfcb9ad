"""The live directory as read at one moment: users and groups, normalised and compact.

Built from raw SCIM resources, leniently (servers deviate). A directory of a million
users is held whole beside its files, so each object keeps little:

- The attributes the files can manage as a tuple of values beside a shared ``Layout``
  (their paths): every path of ``attributes.LIVE_PATHS``, or, for a plan, only those
  the files manage (``Layout.of``). ``attributes`` is a read-only view of them in the
  shape the planner compares. Asking a narrowed user for a path it did not keep is a
  programming error, and raises.
- Fingerprints on demand. Each object can tell whether it changed since a plan in
  any attribute (``fingerprint``: a sha256 of its sorted JSON, without bookkeeping),
  but only the objects a plan acts on need one. What it hashes is kept per page,
  marshalled and compressed (``Listed``); a group's members are not kept twice.
  The hash is the one ``fingerprint(resource)`` gives, so saved plans verify.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import zlib
from array import array
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate
from operator import itemgetter
from typing import Any, cast

from reconciler.attributes import (
    LIVE_PATHS,
    MULTI_VALUED,
    enterprise_places,
    held_at,
    live_active,
    live_user_values,
    multi_dicts,
)
from reconciler.errors import ProtocolError

# Attributes that say nothing about the object's own state: server bookkeeping, and
# the read-only ``groups`` of a user, which changes when a *group* changes.
_NOT_FINGERPRINTED = frozenset({"meta", "schemas", "groups"})


def fingerprint(resource: Mapping[str, Any]) -> str:
    """A stable hash of a resource's content, blind to member order and bookkeeping."""
    return _digest(fingerprinted(resource))


def fingerprinted(resource: Mapping[str, Any]) -> dict[str, Any]:
    """What ``fingerprint`` hashes: the content, members as their sorted values."""
    content = {k: v for k, v in resource.items() if k not in _NOT_FINGERPRINTED}
    members = content.get("members")
    if isinstance(members, list):
        content["members"] = sorted(str(m.get("value")) for m in members if _is_mapping(m))
    return content


def _is_mapping(value: Any) -> bool:
    return type(value) is dict or isinstance(value, Mapping)  # dict first: the common case


def _digest(content: Mapping[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


class Listed:
    """What the fingerprints of one page's objects hash, compressed.

    Each object marshalled, one after the other, and the page deflated: a small part
    of the page's JSON, and far cheaper to make than the hashes. With ``raw``, the
    objects are the resources as listed and ``content`` takes out what a fingerprint
    hashes (``fingerprinted``) when asked, so that the read, which every object goes
    through, does no more than marshal; otherwise they are that content already.
    ``content`` unpacks one object (the last few pages inflated are kept: plans list
    actions by key, which often follows the order of the read).
    """

    __slots__ = ("_blob", "_ends", "_plain", "_raw")

    def __init__(self, contents: Sequence[Mapping[str, Any]], *, raw: bool = False) -> None:
        self._raw = raw
        self._plain: Sequence[Mapping[str, Any]] | None = None
        try:
            parts = [_marshalled(content) for content in contents]
        except ValueError:  # not plain JSON data (a caller's own objects): keep it as is
            self._blob, self._ends, self._plain = b"", array("I"), contents
            return
        self._ends = array("I", accumulate(map(len, parts)))
        self._blob = zlib.compress(b"".join(parts), 1)

    def content(self, index: int) -> dict[str, Any]:
        """The fingerprinted content of the page's ``index``-th object."""
        if self._plain is not None:
            item = self._plain[index]
        else:
            start, end = self._ends[index - 1] if index else 0, self._ends[index]
            # Only ever bytes that this class marshalled, never anything read from outside.
            item = marshal.loads(_inflated(self)[start:end])  # noqa: S302
        return fingerprinted(item) if self._raw else dict(item)


def _marshalled(content: Any) -> bytes:
    return marshal.dumps(content)  # ValueError for anything but plain data


@lru_cache(maxsize=8)
def _inflated(listed: Listed) -> bytes:
    return zlib.decompress(listed._blob)


def _version(resource: Mapping[str, Any]) -> str | None:
    meta = resource.get("meta")
    version = meta.get("version") if isinstance(meta, Mapping) else None
    return version if isinstance(version, str) and version else None


def _require_id(resource: Mapping[str, Any], kind: str) -> str:
    rid = resource.get("id")
    if not isinstance(rid, str) or not rid:
        raise ProtocolError(f"a listed {kind} has no id: {json.dumps(resource, default=str)[:200]}")
    return rid


def _required_text(resource: Mapping[str, Any], attribute: str, what: str) -> str:
    value = resource.get(attribute)
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"{what} has no {attribute}")
    return value


class Layout:
    """Which attribute paths live users keep, and where each is in their values."""

    __slots__ = ("index", "paths")

    def __init__(self, paths: tuple[str, ...]) -> None:
        self.paths = paths
        self.index = {path: i for i, path in enumerate(paths)}

    @staticmethod
    @lru_cache(maxsize=16)
    def of(keep: frozenset[str] | None = None) -> Layout:
        """Every path the files can manage, or only the ones in ``keep``."""
        return Layout(LIVE_PATHS if keep is None else tuple(p for p in LIVE_PATHS if p in keep))


FULL = Layout.of()
_ABSENT = object()


class UserAttributes(Mapping[str, Any]):
    """A live user's attributes by path, as ``attributes.live_user_attributes`` reads them."""

    __slots__ = ("_layout", "_values")

    def __init__(self, layout: Layout, values: tuple[Any, ...]) -> None:
        self._layout = layout
        self._values = values

    def __getitem__(self, path: str) -> Any:
        value = self.get(path, _ABSENT)
        if value is _ABSENT:
            raise KeyError(path)
        return value

    def get(self, path: str, default: Any = None) -> Any:
        i = self._layout.index.get(path)
        if i is None:
            if path in FULL.index:
                raise AssertionError(f"{path} was not kept for this read (Layout.of)")
            return default
        value = self._values[i]
        return multi_dicts(value) if path in MULTI_VALUED else value

    def __contains__(self, path: object) -> bool:
        return path in self._layout.index

    def __iter__(self) -> Iterator[str]:
        return iter(self._layout.paths)

    def __len__(self) -> int:
        return len(self._layout.paths)


@lru_cache(maxsize=256)
def _picker(layout: Layout, paths: tuple[str, ...]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """What takes ``paths`` out of a user's values of ``layout``, as a tuple."""
    missing = [path for path in paths if path not in layout.index]
    if missing:
        raise AssertionError(f"{', '.join(missing)} was not kept for this read (Layout.of)")
    indices = [layout.index[path] for path in paths]
    if len(indices) == 1:
        (only,) = indices
        return lambda values: (values[only],)
    return cast(Callable[[tuple[Any, ...]], tuple[Any, ...]], itemgetter(*indices))


class LiveUser:
    """One user as the directory holds it. Read-only: the reader makes it, nobody changes it."""

    __slots__ = (
        "_index",
        "_layout",
        "_listed",
        "_places",
        "_values",
        "active",
        "externalId",
        "id",
        "userName",
        "version",
    )

    def __init__(
        self,
        resource_id: str,
        user_name: str,
        resource: Mapping[str, Any],
        layout: Layout,
        listed: Listed,
        index: int,
    ) -> None:
        self.id = resource_id
        self.userName = user_name
        external = resource.get("externalId")
        self.externalId: str | None = external if isinstance(external, str) else None
        self.active = live_active(resource)
        self.version = _version(resource)  # meta.version, the ETag, where servers have them
        self._layout = layout
        self._values = live_user_values(resource, layout.paths)
        self._places = enterprise_places(resource)
        self._listed = listed
        self._index = index

    @classmethod
    def from_scim(
        cls,
        resource: Mapping[str, Any],
        *,
        layout: Layout = FULL,
        listed: Listed | None = None,
        index: int = 0,
    ) -> LiveUser:
        """A user from its resource; ``listed``: its page's ``Listed``, where it is ``index``."""
        rid = _require_id(resource, "user")
        user_name = _required_text(resource, "userName", f"user {rid}")
        if listed is None:
            listed, index = Listed([resource], raw=True), 0
        return cls(rid, user_name, resource, layout, listed, index)

    @property
    def attributes(self) -> Mapping[str, Any]:
        return UserAttributes(self._layout, self._values)

    def values_at(self, paths: tuple[str, ...]) -> tuple[Any, ...]:
        """The compact values (``live_user_values``) of these kept paths, in their order."""
        return _picker(self._layout, paths)(self._values)

    def held_at(self, key: str) -> str | None:
        """Where this user's ``department`` or ``organization`` sat: ``"top_level"``,
        ``"extension"``, ``"both"``, or ``None`` (``attributes.held_at``)."""
        return held_at(self._places, key)

    @property
    def fingerprint(self) -> str:
        return _digest(self._listed.content(self._index))

    def narrow(self, layout: Layout) -> None:
        """Keep only ``layout``'s paths, all of which this user has (the reader, before
        anyone else sees the user)."""
        if layout is not self._layout:
            index = self._layout.index
            self._values = tuple(self._values[index[path]] for path in layout.paths)
            self._layout = layout

    def __repr__(self) -> str:
        return f"LiveUser(id={self.id!r}, userName={self.userName!r}, active={self.active!r})"


class LiveGroup:
    """One group as the directory holds it; members by live user id. Read-only."""

    __slots__ = (
        "_index",
        "_listed",
        "_members_kept",
        "displayName",
        "id",
        "member_ids",
        "version",
    )

    def __init__(self, resource: Mapping[str, Any], ids: Mapping[str, str]) -> None:
        """Everything but the fingerprint's content, which ``_listing`` hands on."""
        self.id = _require_id(resource, "group")
        self.displayName = _required_text(resource, "displayName", f"group {self.id}")
        listed = resource.get("members")
        values = [m.get("value") for m in listed or [] if _is_mapping(m)]
        # Member ids as the same strings as the users' own ids: one copy in memory.
        self.member_ids = frozenset(ids.get(v, v) for v in map(str, filter(None, values)))
        self.version = _version(resource)
        # The fingerprint hashes the members' sorted values: when they are exactly the
        # member ids, it takes them from there instead of keeping them twice.
        self._members_kept = not (isinstance(listed, list) and _same_ids(values, self.member_ids))
        self._listed = _NOTHING_LISTED
        self._index = 0

    def _listing(self, resource: Mapping[str, Any]) -> dict[str, Any]:
        content = fingerprinted(resource)
        if not self._members_kept:
            del content["members"]
        return content

    @classmethod
    def from_scim(
        cls, resource: Mapping[str, Any], *, ids: Mapping[str, str] | None = None
    ) -> LiveGroup:
        """A group from its resource; ``ids``: the users' ids, to share their strings."""
        return groups_of_page([resource], ids or {})[0]

    @property
    def fingerprint(self) -> str:
        content = self._listed.content(self._index)
        if not self._members_kept:
            content = {**content, "members": sorted(self.member_ids)}
        return _digest(content)

    def __repr__(self) -> str:
        return f"LiveGroup(id={self.id!r}, displayName={self.displayName!r})"


_NOTHING_LISTED = Listed([])


def users_of_page(resources: Sequence[Mapping[str, Any]], layout: Layout = FULL) -> list[LiveUser]:
    """The users of one page, sharing one ``Listed`` for their fingerprints."""
    listed = Listed(resources, raw=True)
    return [
        LiveUser.from_scim(r, layout=layout, listed=listed, index=i)
        for i, r in enumerate(resources)
    ]


def groups_of_page(
    resources: Sequence[Mapping[str, Any]], ids: Mapping[str, str]
) -> list[LiveGroup]:
    """The groups of one page, sharing one ``Listed``; ``ids`` as in ``from_scim``."""
    groups = [LiveGroup(r, ids) for r in resources]
    listed = Listed([g._listing(r) for g, r in zip(groups, resources, strict=True)])
    for i, group in enumerate(groups):
        group._listed, group._index = listed, i
    return groups


def _same_ids(values: Sequence[Any], ids: Collection[str]) -> bool:
    """Whether ``values`` as strings are ``ids`` exactly, each once (no empty ones)."""
    return len(values) == len(ids) and all(values) and set(map(str, values)) == ids


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
