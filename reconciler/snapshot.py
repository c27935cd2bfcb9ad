"""Reading the live directory: the only reader, and it fails closed.

``read_snapshot`` lists every user and group through the pager, which refuses an
incomplete or inconsistent listing; any error here ends the run before a plan is
made, so nobody is ever deactivated because a page went missing.

Servers may leave ``members`` out of group listings (large groups are costly to
list). A listed group with no ``members`` key at all, as opposed to ``members: []``,
is read again on its own (``GET /Groups/{id}``), whose answer is taken as the group:
member changes are never planned from a listing that did not show the members.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog

from reconciler.errors import InconsistentReadError
from reconciler.live import LiveGroup, LiveSnapshot, LiveUser
from reconciler.scim.client import ProgressCallback, ScimClient

log = structlog.get_logger("reconciler.read")


def read_snapshot(
    client: ScimClient,
    *,
    page_size: int,
    progress: ProgressCallback | None = None,
    concurrency: int = 4,
) -> LiveSnapshot:
    """Every user and group of the directory, read completely."""
    started = time.monotonic()
    users = client.list_all(
        "Users", page_size=page_size, progress=progress, concurrency=concurrency
    )
    listed = client.list_all(
        "Groups", page_size=page_size, progress=progress, concurrency=concurrency
    )
    groups = with_members(client, listed, concurrency=concurrency)
    snapshot = LiveSnapshot(
        users=tuple(LiveUser.from_scim(r) for r in users),
        groups=tuple(LiveGroup.from_scim(r) for r in groups),
    )
    log.info(
        "read",
        users=len(snapshot.users),
        groups=len(snapshot.groups),
        groups_read_alone=sum(1 for g in listed if "members" not in g),
        page_size=page_size,
        duration_ms=round((time.monotonic() - started) * 1000, 1),
    )
    return snapshot


def with_members(
    client: ScimClient, groups: list[dict[str, Any]], *, concurrency: int = 4
) -> list[dict[str, Any]]:
    """The listed groups, each listed without a ``members`` key replaced by its own GET.

    A group that cannot be read alone fails the read (the error, or
    ``InconsistentReadError`` when it is gone or answers as another group). One
    whose own answer has no ``members`` either has none: that is how servers,
    scim2-server and the sandbox among them, show an empty group.
    """
    missing = [g for g in groups if "members" not in g]
    if not missing:
        return groups

    def read_alone(listed: dict[str, Any]) -> dict[str, Any]:
        rid = str(listed.get("id"))
        single = client.get("Groups", rid)
        if single is None or str(single.get("id")) != rid:
            raise InconsistentReadError(
                f"group {rid} was listed without its members, and could not be read on "
                "its own (gone, or answered as another group); nothing was planned"
            )
        return single

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        read = dict(zip((id(g) for g in missing), pool.map(read_alone, missing), strict=True))
    return [read.get(id(g), g) for g in groups]
