"""Reading the live directory: the only reader, and it fails closed.

``read_snapshot`` lists every user and group through the pager, which refuses an
incomplete or inconsistent listing; any error here ends the run before a plan is
made, so nobody is ever deactivated because a page went missing.

Servers may leave ``members`` out of group listings (large groups are costly to
list). A listed group with no ``members`` key at all, as opposed to ``members: []``,
is read again on its own (``GET /Groups/{id}``), whose answer is taken as the group:
member changes are never planned from a listing that did not show the members. One
kind of server is spared those reads: one whose listing shows the members of some
groups, never ``members: []``, and leaves the key out of empty groups (RFC 7643
section 2.5: unassigned attributes are left out; the sandbox and scim2-server do
so). That is checked once per read with one group's own answer: when it has no
members either, the other groups listed without the key are taken as empty; when it
has members, every one of them is read alone, as on a server that leaves members out
(``_Verdict``).

A directory that an identity provider writes to while it is read (a 1,000-page read
takes minutes) can make a listing contradict itself: ``totalResults`` moves, an
insert shifts the pages so that an id comes twice, a group is gone by the time it
is read alone. Such a listing (``ListingChangedError``) is read again from the start,
at most ``READS`` times in all, each re-read logged as ``scim.reread``; then the read
fails closed as any other. Only a listing read whole in one go is planned from.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import structlog

from reconciler.errors import InconsistentReadError, ListingChangedError
from reconciler.live import LiveGroup, LiveSnapshot, LiveUser
from reconciler.live_compact import FULL, Layout, groups_of_page, narrowed_users, users_of_page
from reconciler.scim.client import ScimClient
from reconciler.scim.listing import ProgressCallback

T = TypeVar("T")
READS = 3  # one read of a listing and at most two more when it changed while read
# The attribute paths to keep of each user, or None while that is not known (yet).
Keep = Callable[[], frozenset[str] | None]

log = structlog.get_logger("reconciler.read")


def read_snapshot(
    client: ScimClient,
    *,
    page_size: int,
    progress: ProgressCallback | None = None,
    concurrency: int = 4,
    keep: Keep | None = None,
    users_without: tuple[str, ...] = (),
    users_read: Callable[[tuple[LiveUser, ...]], None] | None = None,
) -> LiveSnapshot:
    """Every user and group of the directory, read completely.

    Each page becomes live objects as it arrives. ``keep`` says which attribute paths
    a plan will read (``Layout.of``), once it knows (None before); users read before
    that keep every path, and the snapshot returned has them narrowed (``narrowed``)
    when it knows by the end. Without it, users keep every path.
    ``users_without``: attributes the users listing asks the server to leave out
    (``Dialect.users_listed_without``); none that a snapshot keeps. ``users_read``
    is handed the users, once every one is read and ``keep`` is known, before the
    groups are read: they are the very users of the snapshot returned (a plan's
    users half can be made meanwhile: ``planner.users_first``).
    """
    started = time.monotonic()
    read = _Reading(client, page_size, progress, concurrency, keep or (lambda: None), users_without)
    listed = read_consistently("Users", read.users)
    kept = read.keep()
    # The users are this read's alone until handed on: narrowed in place.
    users = narrowed_users(listed, kept, own=True) if kept is not None else None
    if users is not None and users_read is not None:  # the paths are known: final users
        users_read(users)
    ids = {user.id: user.id for user in listed}
    groups = read_consistently("Groups", lambda: read.groups(ids))
    if users is None:
        users = narrowed_users(listed, read.keep(), own=True)
    snapshot = LiveSnapshot(users=users, groups=tuple(groups))
    log.info(
        "read",
        users=len(snapshot.users),
        groups=len(snapshot.groups),
        groups_read_alone=read.alone,
        groups_listed_empty=read.listed_empty,
        page_size=page_size,
        duration_ms=round((time.monotonic() - started) * 1000, 1),
    )
    return snapshot


def narrowed(snapshot: LiveSnapshot, keep: frozenset[str] | None) -> LiveSnapshot:
    """``snapshot`` with every user keeping only the paths in ``keep``: a new snapshot of
    new users where one kept more (snapshots and users are read-only), else ``snapshot``."""
    users = narrowed_users(snapshot.users, keep)
    if all(map(operator.is_, users, snapshot.users)):
        return snapshot
    return LiveSnapshot(users=users, groups=snapshot.groups)


class _Reading:
    """One snapshot's read: each listing page by page, made into live objects.

    Every body the client answers with was decoded by ``scim.protocol`` through
    ``scim.jsonbody`` (the one place bodies are decoded): what ``decoded=True`` relies on
    for the fingerprints (``live.decoded_digest``)."""

    def __init__(
        self,
        client: ScimClient,
        page_size: int,
        progress: ProgressCallback | None,
        concurrency: int,
        keep: Keep,
        users_without: tuple[str, ...],
    ) -> None:
        self.client = client
        self.page_size = page_size
        self.progress = progress
        self.concurrency = concurrency
        self.keep = keep
        self.alone = 0  # groups listed without members, read one by one
        self.listed_empty = 0  # groups listed without members, taken as empty
        # Whether a group listed without members is empty on this server: None until
        # one group's own answer has said so (at most one single read per run).
        self.empty_when_left_out: bool | None = None
        # Users listed without these (read_snapshot): ``live`` keeps none of them, and
        # a fingerprint hashes none of them (``groups``), so saved plans still verify.
        self.users_without = users_without

    def each_page(self, resource_type: str, accept: Callable[[Sequence[Any]], None]) -> None:
        self.client.each_page(
            resource_type,
            accept,
            page_size=self.page_size,
            progress=self.progress,
            concurrency=self.concurrency,
            leave_out=self.users_without if resource_type == "Users" else (),
        )

    def users(self) -> list[LiveUser]:
        users: list[LiveUser] = []

        def accept(page: Sequence[dict[str, Any]]) -> None:
            keep = self.keep()
            layout = FULL if keep is None else Layout.of(keep)
            users.extend(users_of_page(page, layout, decoded=True))

        self.each_page("Users", accept)
        return users

    def groups(self, ids: Mapping[str, str]) -> list[LiveGroup]:
        """The groups; those listed without members as ``_left_out`` takes them."""
        groups: list[LiveGroup | dict[str, Any]] = []
        shown = _Shown()

        def accept(page: Sequence[dict[str, Any]]) -> None:
            listed = [r for r in page if "members" in r]
            shown.see(listed)
            made = iter(groups_of_page(listed, ids, decoded=True))
            groups.extend(next(made) if "members" in r else r for r in page)

        self.each_page("Groups", accept)
        missing = [g for g in groups if isinstance(g, dict)]
        read = self._left_out(missing, shown)
        alone = iter(groups_of_page(read, ids, decoded=True) if read else [])
        return [next(alone) if isinstance(g, dict) else g for g in groups]

    def _left_out(self, missing: list[dict[str, Any]], shown: _Shown) -> list[dict[str, Any]]:
        """The groups listed without a ``members`` key, each as the plan is to take it:
        its own answer (``with_members``), or, on a server that leaves the key out of
        empty groups only, the listing's resource, empty (module docstring)."""
        self.alone = self.listed_empty = 0
        if not missing:
            return []
        if not (shown.members and not shown.empty) or self.empty_when_left_out is False:
            self.alone = len(missing)
            return with_members(self.client, missing, concurrency=self.concurrency)
        first, rest = missing[0], missing[1:]
        if self.empty_when_left_out is None:
            first = read_alone(self.client, first)
            self.alone = 1
            members = first.get("members")
            self.empty_when_left_out = not (isinstance(members, list) and members)
            if not self.empty_when_left_out:
                self.alone += len(rest)
                return [first, *with_members(self.client, rest, concurrency=self.concurrency)]
        self.listed_empty = len(missing) - self.alone
        return [first, *rest]


class _Shown:
    """What a group listing showed of members: any group's members, and any group
    with a ``members`` key that holds none (``[]``, null)."""

    def __init__(self) -> None:
        self.members = False
        self.empty = False

    def see(self, listed: Sequence[dict[str, Any]]) -> None:
        for resource in listed:
            members = resource["members"]
            if isinstance(members, list) and members:
                self.members = True
            else:
                self.empty = True


def read_consistently(resource_type: str, read: Callable[[], T], *, reads: int = READS) -> T:
    """``read()``, run again from the start while the listing changes under it.

    Only ``ListingChangedError`` is read again: a contradiction that no change
    explains fails at once. After ``reads`` reads that each changed, the last error
    stops the run, saying so.
    """
    for attempt in range(1, reads + 1):
        try:
            return read()
        except ListingChangedError as error:
            if attempt == reads:
                each = f"each of {reads} reads" if reads > 1 else "its one read"
                raise ListingChangedError(
                    f"{error}; the {resource_type} listing contradicted itself in {each} "
                    "(a directory written to while it is read, or a server that "
                    "miscounts), so nothing was planned"
                ) from error
            log.warning(
                "scim.reread",
                resource_type=resource_type,
                attempt=attempt + 1,
                reads=reads,
                reason=str(error),
            )
    raise AssertionError("unreachable: the last read returns or raises")


def with_members(
    client: ScimClient, groups: list[dict[str, Any]], *, concurrency: int = 4
) -> list[dict[str, Any]]:
    """The listed groups, each listed without a ``members`` key replaced by its own GET
    (``read_alone``), ``concurrency`` at a time."""
    missing = [g for g in groups if "members" not in g]
    if not missing:
        return groups
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        read = dict(
            zip(
                (id(g) for g in missing),
                pool.map(lambda g: read_alone(client, g), missing),
                strict=True,
            )
        )
    return [read.get(id(g), g) for g in groups]


def read_alone(client: ScimClient, listed: dict[str, Any]) -> dict[str, Any]:
    """A group listed without members, as its own ``GET /Groups/{id}`` answers it.

    A group that cannot be read alone fails the read: the error, ``ListingChangedError``
    when it is gone (deleted since it was listed: the listing is read again), or
    ``InconsistentReadError`` when it answers as another group. One whose own answer
    has no ``members`` either has none: that is how servers, scim2-server and the
    sandbox among them, show an empty group.
    """
    rid = str(listed.get("id"))
    single = client.get("Groups", rid)
    if single is None:
        raise ListingChangedError(
            f"group {rid} was listed without its members, and could not be read on its "
            "own: it is gone"
        )
    if str(single.get("id")) != rid:
        raise InconsistentReadError(
            f"group {rid} was listed without its members, and could not be read on its "
            f"own: it answered as group {single.get('id')}; nothing was planned"
        )
    return single
