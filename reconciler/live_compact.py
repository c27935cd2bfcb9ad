"""Live users and groups as a read makes them: compact, page by page.

A directory of a million users is held whole beside its files, so each object keeps
little. What each answers is what ``reconciler.live`` says, in plain code, that a
user or group answers; ``tests/test_live.py`` holds the two forms equal on random
resources.

- The attributes the files can manage as a tuple of values beside a shared ``Layout``
  (their paths): every path of ``attributes.LIVE_PATHS``, or, for a plan, only those
  the files manage (``Layout.of``). ``attributes`` is a read-only view of them.
  Asking a narrowed user for a path it did not keep is a programming error, and
  raises.
- Fingerprints on demand: only the objects a plan acts on need one. What it hashes
  is kept per page, marshalled and compressed (``Listed``); a group's members are
  not kept twice. The hash is the one ``live.fingerprint(resource)`` gives.
"""

from __future__ import annotations

import marshal
import zlib
from array import array
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
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
from reconciler.live import (
    LiveGroup,
    LiveUser,
    content_fingerprint,
    external_id_of,
    fingerprinted,
    id_of,
    is_mapping,
    required_text,
    version_of,
)


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
    """A compact user's attributes by path, as ``attributes.live_user_attributes`` reads them."""

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


class CompactUser(LiveUser):
    """A user as a read keeps it: its values of a ``Layout``, its page's ``Listed``."""

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

    def __init__(self, resource: Mapping[str, Any], layout: Layout, listed: Listed, index: int):
        self.id = id_of(resource, "user")
        self.userName = required_text(resource, "userName", f"user {self.id}")
        self.externalId = external_id_of(resource)
        self.active = live_active(resource)
        self.version = version_of(resource)
        self._layout = layout
        self._values = live_user_values(resource, layout.paths)
        self._places = enterprise_places(resource)  # one int: where department/organization sit
        self._listed = listed
        self._index = index

    @classmethod
    def from_scim(cls, resource: Mapping[str, Any]) -> CompactUser:
        """One user alone, keeping every path (a read makes them by page: ``users_of_page``)."""
        return cls(resource, FULL, Listed([resource], raw=True), 0)

    @property
    def attributes(self) -> Mapping[str, Any]:
        return UserAttributes(self._layout, self._values)

    def values_at(self, paths: tuple[str, ...]) -> tuple[Any, ...]:
        return _picker(self._layout, paths)(self._values)

    def held_at(self, key: str) -> str | None:
        return held_at(self._places, key)

    @property
    def fingerprint(self) -> str:
        return content_fingerprint(self._listed.content(self._index))

    def narrowed(self, layout: Layout) -> CompactUser:
        """This user keeping only ``layout``'s paths, all of which it has: a new user (this
        one, read-only, stays as it is), or this one when it keeps just those already."""
        if layout is self._layout:
            return self
        index = self._layout.index
        user = CompactUser.__new__(CompactUser)
        user.id, user.userName, user.externalId = self.id, self.userName, self.externalId
        user.active, user.version = self.active, self.version
        user._listed, user._index = self._listed, self._index
        user._places = self._places
        user._layout = layout
        user._values = tuple(self._values[index[path]] for path in layout.paths)
        return user


class CompactGroup(LiveGroup):
    """A group as a read keeps it: member ids sharing the users' id strings."""

    __slots__ = ("_index", "_listed", "_members_kept", "displayName", "id", "member_ids", "version")

    def __init__(self, resource: Mapping[str, Any], ids: Mapping[str, str]) -> None:
        """Everything but the fingerprint's content, which ``_listing`` hands on."""
        self.id = id_of(resource, "group")
        self.displayName = required_text(resource, "displayName", f"group {self.id}")
        listed = resource.get("members")
        values = [m.get("value") for m in listed or [] if is_mapping(m)]
        # Member ids as the same strings as the users' own ids: one copy in memory.
        self.member_ids = frozenset(ids.get(v, v) for v in map(str, filter(None, values)))
        self.version = version_of(resource)
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
    ) -> CompactGroup:
        """One group alone; ``ids``: the users' ids, to share their strings."""
        return groups_of_page([resource], ids or {})[0]

    @property
    def fingerprint(self) -> str:
        content = self._listed.content(self._index)
        if not self._members_kept:
            content = {**content, "members": sorted(self.member_ids)}
        return content_fingerprint(content)


_NOTHING_LISTED = Listed([])


def users_of_page(
    resources: Sequence[Mapping[str, Any]], layout: Layout = FULL
) -> list[CompactUser]:
    """The users of one page, sharing one ``Listed`` for their fingerprints."""
    listed = Listed(resources, raw=True)
    return [CompactUser(r, layout, listed, i) for i, r in enumerate(resources)]


def groups_of_page(
    resources: Sequence[Mapping[str, Any]], ids: Mapping[str, str]
) -> list[CompactGroup]:
    """The groups of one page, sharing one ``Listed``; ``ids`` as in ``from_scim``."""
    groups = [CompactGroup(r, ids) for r in resources]
    listed = Listed([g._listing(r) for g, r in zip(groups, resources, strict=True)])
    for i, group in enumerate(groups):
        group._listed, group._index = listed, i
    return groups


def _same_ids(values: Sequence[Any], ids: Collection[str]) -> bool:
    """Whether ``values`` as strings are ``ids`` exactly, each once (no empty ones)."""
    return len(values) == len(ids) and all(values) and set(map(str, values)) == ids


def narrowed_users(users: Sequence[LiveUser], keep: frozenset[str] | None) -> tuple[LiveUser, ...]:
    """``users``, the compact ones keeping only the paths in ``keep``: new users where one
    kept more (users are read-only once made); other users as they are."""
    if keep is None:
        return tuple(users)
    layout = Layout.of(keep)
    return tuple(user.narrowed(layout) if type(user) is CompactUser else user for user in users)
