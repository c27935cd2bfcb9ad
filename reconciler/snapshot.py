"""Reading the live directory: the only reader, and it fails closed.

``read_snapshot`` lists every user and group through the pager, which refuses an
incomplete or inconsistent listing; any error here ends the run before a plan is
made, so nobody is ever deactivated because a page went missing.
"""

from __future__ import annotations

import time

import structlog

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
    groups = client.list_all(
        "Groups", page_size=page_size, progress=progress, concurrency=concurrency
    )
    snapshot = LiveSnapshot(
        users=tuple(LiveUser.from_scim(r) for r in users),
        groups=tuple(LiveGroup.from_scim(r) for r in groups),
    )
    log.info(
        "read",
        users=len(snapshot.users),
        groups=len(snapshot.groups),
        page_size=page_size,
        duration_ms=round((time.monotonic() - started) * 1000, 1),
    )
    return snapshot
