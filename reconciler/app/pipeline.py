"""Loading the files while the directory is read: a plan's two long steps at once.

Reading a large directory waits on the server for most of its time, and loading the
files keeps the CPU busy, so ``read_while_loading`` runs them together, in this order:

1. **The target, from a first look** at the files' ``target`` section alone
   (``reconciler.app.firstlook``), resolved with the usual precedence (``--target``,
   ``RECONCILER_TARGET``, the files, the sandbox). When the first look is unsure, or
   the target is the in-process ``sandbox:`` (its server shares this interpreter:
   there is nothing to overlap), the run goes one step after the other as before.
2. **The read starts** on its own thread, turning each page into live objects as it
   arrives.
3. **The files load and are validated** meanwhile, then checked against the target's
   dialect. Any problem in them stops the read and is what the run reports (exit 1):
   a file problem is never hidden behind an error of the read, whose own error is
   only raised once the files are known to be good. Nothing is ever written here.
4. **The target is resolved again from the loaded files.** Only when it is the
   target being read is the read used; otherwise (the first look was wrong) it is
   dropped and the directory is read again, after the files: a plan is only ever
   made from a read of the target the files name. The first look trusts the files
   as much as a run always does: the token goes only where the files' (or the
   command line's) target says.
5. Users read once the files are loaded keep only the attributes the files manage;
   those read before are narrowed when the read ends.

Callers build the run's objects (files, snapshot, plan) inside ``gcpolicy.gc_policy``.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from reconciler.app.firstlook import early_target_spec
from reconciler.app.loading import load_files
from reconciler.app.runtime import Runtime
from reconciler.desired import DesiredState
from reconciler.errors import ConfigError
from reconciler.files.dialectcheck import check_dialect_attributes
from reconciler.live import LiveSnapshot
from reconciler.ownership_fast import Shape, shape_paths, shapes_of
from reconciler.snapshot import narrow, read_snapshot
from reconciler.target import Connection, Target, connect, resolve_target

_STOP_WAIT = 5.0  # seconds a failed run waits for the read to notice it should stop


@dataclass(frozen=True, slots=True)
class Loaded:
    """The files, loaded and checked, and the directory of the target they name, read."""

    target: Target
    connection: Connection
    desired: DesiredState
    live: LiveSnapshot


@contextmanager
def read_while_loading(
    paths: tuple[Path, ...],
    cli_target: str | None,
    runtime: Runtime,
    *,
    rate: float | None = None,
    exclude: tuple[str, ...] = (),
) -> Iterator[Loaded]:
    """Read the directory while the files load (module docstring); close after.

    ``rate``: requests per second for the connection (``apply --rate``), which the
    caller goes on using after the read. ``exclude``: gitignore patterns of files to
    leave out (``files.finding``).
    """
    early = _early_target(paths, cli_target, runtime, exclude)
    reader = None if early is None else _Reader(early, runtime, rate)
    try:
        desired = load_files(paths, exclude)
        target = resolve_target(cli_target, desired.target, runtime.env)
        shapes = shapes_of(desired.users)  # once: both ask it of every user
        check_dialect_attributes(desired, paths, target.dialect, shapes=shapes, exclude=exclude)
        keep = kept_paths(desired, shapes)
        if reader is not None and reader.target == target:
            reader.keep = keep  # users read from now on keep only these
            connection, live = reader.result()
            narrow(live, keep)
        else:
            if reader is not None:
                reader.stop()  # the first look was wrong: read again, after the files
            connection, live = _read_after(target, runtime, keep, rate)
        runtime.read_counts(len(live.users), len(live.groups))
    except BaseException:
        if reader is not None:
            reader.stop()
        raise
    try:
        yield Loaded(target, connection, desired, live)
    finally:
        connection.client.close()


def _early_target(
    paths: tuple[Path, ...], cli_target: str | None, runtime: Runtime, exclude: tuple[str, ...]
) -> Target | None:
    """The target to start reading before the files are loaded, if any.

    Not the in-process sandbox: its server runs on this interpreter, so a read would
    only take turns with the loading, and files with problems leave it untouched.
    """
    spec = early_target_spec(paths, exclude)
    if spec is None:
        return None
    try:
        target = resolve_target(cli_target, spec, runtime.env)
    except ConfigError:  # the loaded files resolve it again, and say so then
        return None
    return None if target.is_sandbox else target


def kept_paths(desired: DesiredState, shapes: Collection[Shape] | None = None) -> frozenset[str]:
    """The attribute paths a plan reads of live users (``planner.users``, ``match_users``);
    ``shapes``: the users' shapes, when known already."""
    shapes = shapes_of(desired.users) if shapes is None else shapes
    paths = (shape_paths(shape) for shape in shapes)
    return frozenset({"userName", "emails"}.union(*paths))


def _connect(target: Target, runtime: Runtime, rate: float | None) -> Connection:
    connection = connect(
        target,
        runtime.env,
        rate=rate,
        retry=runtime.retry,
        wrap_transport=runtime.transport,
        budget=runtime.budget(target),
    )
    if connection.note is not None:
        runtime.note(connection.note)
    return connection


def _read(
    connection: Connection, runtime: Runtime, keep: _Keep, stopping: threading.Event | None = None
) -> LiveSnapshot:
    with runtime.progress("Reading the directory", None) as bar:

        def progress(what: str, done: int, total: int) -> None:
            if stopping is not None and stopping.is_set():
                raise _Stopped
            bar.update(what, done, total)

        return read_snapshot(
            connection.client,
            page_size=connection.page_size,
            progress=progress,
            keep=keep,
            users_without=connection.dialect.users_listed_without,
        )


def _read_after(
    target: Target, runtime: Runtime, keep: frozenset[str], rate: float | None
) -> tuple[Connection, LiveSnapshot]:
    """The read as it always went: after the files, on this thread."""
    connection = _connect(target, runtime, rate)
    try:
        return connection, _read(connection, runtime, _Keep(keep))
    except BaseException:
        connection.client.close()
        raise


class _Stopped(Exception):  # noqa: N818 - not an error: the run no longer needs the read
    """The run stopped the read (its files had a problem)."""


class _Keep:
    """The paths users keep, once the files tell (``read_snapshot``'s ``keep``)."""

    def __init__(self, paths: frozenset[str] | None = None) -> None:
        self.paths = paths

    def __call__(self) -> frozenset[str] | None:
        return self.paths


class _Reader:
    """The read, on its own thread, of the target the first look resolved.

    The thread owns the connection until ``result`` hands it over; a read that is
    stopped, or fails, closes it. Whatever the thread raises is kept for ``result``.
    """

    def __init__(self, target: Target, runtime: Runtime, rate: float | None) -> None:
        self.target = target
        self._keep = _Keep()
        self._stopping = threading.Event()
        self._outcome: tuple[Connection, LiveSnapshot] | BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(target, runtime, rate), name="reconciler-read", daemon=True
        )
        self._thread.start()

    @property
    def keep(self) -> frozenset[str] | None:
        return self._keep.paths

    @keep.setter
    def keep(self, paths: frozenset[str] | None) -> None:
        self._keep.paths = paths

    def _run(self, target: Target, runtime: Runtime, rate: float | None) -> None:
        try:
            connection = _connect(target, runtime, rate)
        except BaseException as error:  # noqa: BLE001 - handed to result()
            self._outcome = error
            return
        try:
            live = _read(connection, runtime, self._keep, self._stopping)
        except BaseException as error:  # noqa: BLE001 - handed to result()
            connection.client.close()
            self._outcome = error
            return
        if self._stopping.is_set():  # stopped after the last page: nobody takes it
            connection.client.close()
            self._outcome = _Stopped()
        else:
            self._outcome = (connection, live)

    def result(self) -> tuple[Connection, LiveSnapshot]:
        """The connection and the snapshot, once read; or what stopped the read, raised."""
        self._thread.join()
        outcome = self._outcome
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None, "the read thread always leaves an outcome"
        return outcome

    def stop(self) -> None:
        """Stop the read at its next page, and close what it opened."""
        self._stopping.set()
        self._thread.join(_STOP_WAIT)  # a retry may be sleeping: do not wait for it long
        outcome = self._outcome
        if isinstance(outcome, tuple):
            outcome[0].client.close()
