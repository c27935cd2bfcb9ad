"""One apply per target at a time on this machine: a lock file held while it writes.

Two applies at once against one directory each plan from what they read and then
write over each other: on a server that allows duplicate group names both create
``eng``, and every later plan leaves the four groups alone. The lock is an advisory
``flock`` on a small file, which the kernel releases when its holder dies, so a
killed job never blocks the next one forever; the file's content says who holds it
(pid, host, start time) or when the last apply released it:

- held by a running apply: the second one stops at once (exit 1), naming the holder;
- left by an apply that died while holding it: taken, and the caller is told (it is
  reported, never broken silently), since that apply may have stopped halfway;
- released after this run started reading: the directory may have changed under
  the plan, which is refused as stale (exit 1); running again plans afresh.

The file lies beside the sandbox's database for ``sandbox:`` targets and under
``.reconciler/locks/`` in the working directory for the others. It serialises jobs on
one machine only: CI jobs on different runners need the pipeline's own serialisation
(``concurrency:`` in the GitHub workflow, ``concurrencyPolicy: Forbid`` in the
CronJob), and the executor's check for duplicate groups after a create is the last
net.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.errors import LockHeldError, StalePlanError

LOCKS_DIRECTORY = Path(".reconciler") / "locks"


def lock_path(target_url: str) -> Path:
    """Where the lock of a target lives."""
    if target_url.startswith("sandbox:"):
        return Path(target_url.removeprefix("sandbox:") + ".lock")
    digest = hashlib.sha256(target_url.encode()).hexdigest()[:16]
    return LOCKS_DIRECTORY / f"{digest}.lock"


@contextlib.contextmanager
def target_lock(
    target_url: str, *, read_started: float, note: Callable[[str], None]
) -> Iterator[Path]:
    """Hold the target's lock for the ``with`` block; see the module docstring."""
    path = lock_path(target_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(_read(fd))
            raise LockHeldError(
                f"another apply against {target_url} is running ({holder}; lock {path}); "
                "nothing was sent. Let it finish, then run again."
            ) from None
        previous = _read(fd)
        if "pid" in previous and "released" not in previous:
            note(
                f"the lock {path} was left by an apply that did not finish "
                f"({_describe(previous)}): it may have stopped halfway; this run plans "
                "from what the directory holds now"
            )
        released = previous.get("released")
        if isinstance(released, int | float) and released > read_started:
            raise StalePlanError(
                f"another apply against {target_url} finished while this one was reading "
                f"the directory ({_describe(previous)}); nothing was sent. Run again to plan "
                "from the directory as it is now."
            )
        _write(fd, {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()})
        try:
            yield path
        finally:
            _write(fd, {"released": time.time(), "pid": os.getpid()})
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read(fd: int) -> dict[str, Any]:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = os.read(fd, 4096)
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _write(fd: int, data: dict[str, Any]) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, json.dumps(data).encode())
    os.fsync(fd)


def _describe(holder: dict[str, Any]) -> str:
    parts = []
    if "pid" in holder:
        parts.append(f"pid {holder['pid']}")
    if "host" in holder:
        parts.append(f"on {holder['host']}")
    for key, word in (("since", "started"), ("released", "released")):
        stamp = holder.get(key)
        if isinstance(stamp, int | float):
            parts.append(f"{word} {datetime.fromtimestamp(stamp, UTC):%Y-%m-%d %H:%M:%S} UTC")
    return ", ".join(parts) or "holder unknown"
