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
- Fingerprints as the sha256 digest ``live.fingerprint(resource)`` shows, taken as the
  object is made: a user's 32 bytes in one string of bytes per page, its text on
  demand. A read's pages, decoded by ``scim.jsonbody``, are hashed from msgspec's
  sorted text (``live.decoded_digest``), anything else from ``json.dumps``'s; both are
  the same digest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
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
    as_fingerprint,
    content_digest,
    decoded_digest,
    external_id_of,
    fingerprinted,
    id_of,
    is_mapping,
    required_text,
    version_of,
)


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
    """A user as a read keeps it: its values of a ``Layout``, its fingerprint's digest."""

    __slots__ = (
        "_at",
        "_digests",
        "_layout",
        "_places",
        "_values",
        "active",
        "externalId",
        "id",
        "userName",
        "version",
    )

    def __init__(self, resource: Mapping[str, Any], layout: Layout, digests: bytes, at: int):
        """``digests[32 * at:][:32]``: the resource's ``content_digest`` (``users_of_page``). What
        ``live`` reads, its plain values taken at once (text, ``true``, a dict ``meta``),
        anything else read by ``live``'s own rules: a million users a read."""
        get = resource.get
        rid, user_name = get("id"), get("userName")
        self.id = rid if type(rid) is str and rid else id_of(resource, "user")
        if type(user_name) is not str or not user_name:
            user_name = required_text(resource, "userName", f"user {self.id}")
        self.userName = user_name
        external, active, meta = get("externalId"), get("active", True), get("meta")
        self.externalId = external if type(external) is str else external_id_of(resource)
        self.active = True if active is True else live_active(resource)
        version = meta.get("version") if type(meta) is dict else None
        self.version = version if type(version) is str and version else version_of(resource)
        self._layout = layout
        self._values = live_user_values(resource, layout.paths)
        self._places = enterprise_places(resource)  # one int: where department/organization sit
        self._digests, self._at = digests, at

    @classmethod
    def from_scim(cls, resource: Mapping[str, Any]) -> CompactUser:
        """One user alone, keeping every path (a read makes them by page: ``users_of_page``)."""
        return users_of_page([resource])[0]

    @property
    def attributes(self) -> Mapping[str, Any]:
        return UserAttributes(self._layout, self._values)

    def values_at(self, paths: tuple[str, ...]) -> tuple[Any, ...]:
        return _picker(self._layout, paths)(self._values)

    def held_at(self, key: str) -> str | None:
        return held_at(self._places, key)

    @property
    def fingerprint(self) -> str:
        return as_fingerprint(self._digests[32 * self._at : 32 * self._at + 32])

    def narrowed(self, layout: Layout) -> CompactUser:
        """This user keeping only ``layout``'s paths, all of which it has: a new user (this
        one, read-only, stays as it is), or this one when it keeps just those already."""
        if layout is self._layout:
            return self
        user = CompactUser.__new__(CompactUser)
        user.id, user.userName, user.externalId = self.id, self.userName, self.externalId
        user.active, user.version = self.active, self.version
        user._digests, user._at, user._places = self._digests, self._at, self._places
        user._layout, user._values = self._layout, self._values
        user._narrow(layout)
        return user

    def _narrow(self, layout: Layout) -> None:
        """Keep only ``layout``'s paths: for a user nobody else holds yet (``narrowed_users``)."""
        index = self._layout.index
        self._values = tuple(self._values[index[path]] for path in layout.paths)
        self._layout = layout


Digest = Callable[[Mapping[str, Any]], bytes]  # content_digest or decoded_digest


class CompactGroup(LiveGroup):
    """A group as a read keeps it: member ids sharing the users' id strings."""

    __slots__ = ("_digest", "displayName", "id", "member_ids", "version")

    def __init__(
        self, resource: Mapping[str, Any], ids: Mapping[str, str], digest: Digest = content_digest
    ) -> None:
        """``ids``: the users' ids, to share their strings; ``digest``: how to take the
        digest of its fingerprinted content (``groups_of_page``)."""
        self.id = id_of(resource, "group")
        self.displayName = required_text(resource, "displayName", f"group {self.id}")
        listed = resource.get("members")
        values = [m.get("value") for m in listed or [] if is_mapping(m)]
        # Member ids as the same strings as the users' own ids: one copy in memory.
        named = list(map(str, filter(None, values)))
        self.member_ids = frozenset(map(ids.get, named, named))
        self.version = version_of(resource)
        self._digest = digest(fingerprinted(resource, values))

    @classmethod
    def from_scim(
        cls, resource: Mapping[str, Any], *, ids: Mapping[str, str] | None = None
    ) -> CompactGroup:
        """One group alone; ``ids``: the users' ids, to share their strings."""
        return groups_of_page([resource], ids or {})[0]

    @property
    def fingerprint(self) -> str:
        return as_fingerprint(self._digest)


def users_of_page(
    resources: Sequence[Mapping[str, Any]], layout: Layout = FULL, *, decoded: bool = False
) -> list[CompactUser]:
    """The users of one page. ``decoded``: the resources are as ``scim.jsonbody`` decoded
    them, whose fingerprints ``live.decoded_digest`` takes (the same, faster)."""
    digest = decoded_digest if decoded else content_digest
    digests = b"".join([digest(fingerprinted(r)) for r in resources])
    return [CompactUser(r, layout, digests, at) for at, r in enumerate(resources)]


def groups_of_page(
    resources: Sequence[Mapping[str, Any]], ids: Mapping[str, str], *, decoded: bool = False
) -> list[CompactGroup]:
    """The groups of one page; ``ids`` as in ``from_scim``, ``decoded`` as for users."""
    digest = decoded_digest if decoded else content_digest
    return [CompactGroup(r, ids, digest) for r in resources]


def narrowed_users(
    users: Sequence[LiveUser], keep: frozenset[str] | None, *, own: bool = False
) -> tuple[LiveUser, ...]:
    """``users``, the compact ones keeping only the paths in ``keep``: new users where one
    kept more (users are read-only once made); other users as they are. ``own``: the
    users are the caller's alone, made by it and not handed on yet (a read's), and are
    narrowed in place: a million users are not held twice while they are narrowed."""
    if keep is None:
        return tuple(users)
    layout = Layout.of(keep)
    if own:
        for user in users:
            if type(user) is CompactUser and user._layout is not layout:
                user._narrow(layout)
        return tuple(users)
    return tuple(user.narrowed(layout) if type(user) is CompactUser else user for user in users)
