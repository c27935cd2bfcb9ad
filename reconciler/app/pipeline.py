"""Loading the files and reading the directory: a plan's two long steps, one strategy.

``read_while_loading`` gives a run its files, loaded and checked, and the directory of
the target they name, read. How is a ``Strategy``, of which there are two:

- ``sequential``, the reference, one step after the other: load the files and check
  them against the dialect of the target they resolve to, connect, read (users keep
  only the attribute paths the files manage). Tests hold ``overlapped`` to the plan and
  digest this one gives (``tests/test_pipeline.py``).
- ``overlapped``, what runs use: reading a large directory waits on the server for
  most of its time, and loading the files keeps the CPU busy, so it runs them
  together, in this order:

  1. **The target, from a first look** at the files' ``target`` section alone
     (``reconciler.app.firstlook``), resolved with the usual precedence (``--target``,
     ``RECONCILER_TARGET``, the files, the sandbox). When the first look is unsure, or
     the target is the in-process ``sandbox:`` (its server shares this interpreter:
     there is nothing to overlap), it is ``sequential``.
  2. **The read starts** on its own thread, turning each page into live objects as it
     arrives; the files wait for it to connect (at most ``_CONNECT_FIRST``), as their
     parsing would hold the interpreter while it does.
  3. **The files load and are checked** meanwhile, as in ``sequential``. Any problem
     in them stops the read and is what the run reports (exit 1): a file problem is
     never hidden behind an error of the read, whose own error is only raised once the
     files are known to be good. Nothing is ever written here.
  4. **The read is used only when it is of the target the loaded files resolve to**;
     otherwise (the first look was wrong) it is dropped and the directory is read
     again, after the files: a plan is only ever made from a read of the target the
     files name. The first look trusts the files as much as a run always does: the
     token goes only where the files' (or the command line's) target says.
  5. **The files hand the read, once, the paths users keep** (``reader.Reader.result``):
     users read from then on keep only those; the snapshot is then narrowed
     (``snapshot.narrowed``) into new users for those read before. Nothing handed out
     is changed after.
  6. **The plan's users half is made while the groups are read** (``_users_half``,
     ``planner.users_first``), from the users the read hands over once all are read.
  7. **A paced read keeps its slots** (``--rate``, or the target's default pacing:
     Atlassian's 10 requests a second): from the start to the end of the
     read the interpreter is handed over every 0.5 ms, so that the read's threads are
     not kept waiting past their slots by the loading and the users half
     (``gcpolicy.paced_switching``).

Callers build the run's objects (files, snapshot, plan) inside ``gcpolicy.gc_policy``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from reconciler.app.context import context_of
from reconciler.app.firstlook import early_target_spec
from reconciler.app.gcpolicy import paced_switching
from reconciler.app.loading import load_files
from reconciler.app.reader import Reader, connect_to, read_directory
from reconciler.app.runtime import Runtime
from reconciler.desired import DesiredState
from reconciler.dialect import dialect_named
from reconciler.errors import ConfigError
from reconciler.files.dialectcheck import check_dialect_attributes
from reconciler.live import LiveSnapshot
from reconciler.ownership_fast import Shape, shape_paths, shapes_of
from reconciler.planner.users_first import UsersStaged, stage_users
from reconciler.snapshot import narrowed
from reconciler.target import Connection, Target, default_rate, resolve_target

_CONNECT_FIRST = 0.3  # seconds the files wait at most for the read to connect


@dataclass(frozen=True, slots=True)
class Loaded:
    """The files, loaded and checked, and the directory of the target they name, read.

    The connection is open: whoever takes a ``Loaded`` from a strategy closes it."""

    target: Target
    connection: Connection
    desired: DesiredState
    live: LiveSnapshot
    # The plan's users half, made while the groups were read (``overlapped``), if it was.
    users_first: UsersStaged | None = None


class Strategy(Protocol):
    """How the files are loaded and the directory read (module docstring)."""

    def __call__(
        self,
        paths: tuple[Path, ...],
        cli_target: str | None,
        runtime: Runtime,
        *,
        rate: float | None = None,
        exclude: tuple[str, ...] = (),
    ) -> Loaded: ...


def sequential(
    paths: tuple[Path, ...],
    cli_target: str | None,
    runtime: Runtime,
    *,
    rate: float | None = None,
    exclude: tuple[str, ...] = (),
) -> Loaded:
    """The reference: load and check the files, then read the target they name."""
    desired, target, keep = _load(paths, cli_target, runtime, exclude)
    connection, live = _read_after(target, runtime, keep, rate)
    return Loaded(target, connection, desired, live)


def overlapped(
    paths: tuple[Path, ...],
    cli_target: str | None,
    runtime: Runtime,
    *,
    rate: float | None = None,
    exclude: tuple[str, ...] = (),
) -> Loaded:
    """Read the target a first look at the files names while they load (module
    docstring); ``sequential`` when there is nothing to overlap."""
    early = _early_target(paths, cli_target, runtime, exclude)
    if early is None:
        return sequential(paths, cli_target, runtime, rate=rate, exclude=exclude)
    reader = Reader(early, runtime, rate)
    users_first = None
    try:
        # A paced read keeps its slots (gcpolicy): paced by --rate, or, without it, as
        # the connection paces the target by default (Atlassian: 10 a second).
        with paced_switching(rate if rate is not None else default_rate(early)):
            # Parsing a file holds the interpreter for a tenth of a second at a time (C
            # parsers), which a read starting meanwhile would wait out: it connects first.
            reader.reading.wait(_CONNECT_FIRST)
            desired, target, keep = _load(paths, cli_target, runtime, exclude)
            same = reader.target == target
            if same:
                users_first = _users_half(reader, desired, keep)
                connection, live = reader.result(keep)
        if same:
            if users_first is None:  # else the read narrowed every user it handed over
                live = narrowed(live, keep)  # the users read before the files told
        else:
            reader.stop()  # the first look was wrong: read again, after the files
            connection, live = _read_after(target, runtime, keep, rate)
    except BaseException:
        reader.stop()
        raise
    return Loaded(target, connection, desired, live, users_first)


def _users_half(reader: Reader, desired: DesiredState, keep: frozenset[str]) -> UsersStaged | None:
    """Step 6 (module docstring): the plan's users half, made while the groups are read;
    None when the read ended first, or read every user before the files said what they
    keep (the snapshot's users are then new ones)."""
    users_read = reader.users_first(keep)
    members = desired.group_members()  # the files alone: while the users are read
    early = users_read.result()
    if early is None:
        return None
    connection, users = early
    return stage_users(desired, users, context_of(reader.target, connection, desired), members)


@contextmanager
def read_while_loading(
    paths: tuple[Path, ...],
    cli_target: str | None,
    runtime: Runtime,
    *,
    rate: float | None = None,
    exclude: tuple[str, ...] = (),
    strategy: Strategy = overlapped,
) -> Iterator[Loaded]:
    """The files and the directory, as ``strategy`` loads and reads them (module
    docstring); the connection closed after.

    ``rate``: requests per second for the connection (``apply --rate``), which the
    caller goes on using after the read. ``exclude``: gitignore patterns of files to
    leave out (``files.finding``).
    """
    loaded = strategy(paths, cli_target, runtime, rate=rate, exclude=exclude)
    try:
        runtime.read_counts(len(loaded.live.users), len(loaded.live.groups))
        yield loaded
    finally:
        loaded.connection.client.close()


def _load(
    paths: tuple[Path, ...], cli_target: str | None, runtime: Runtime, exclude: tuple[str, ...]
) -> tuple[DesiredState, Target, frozenset[str]]:
    """The files, loaded and checked against the dialect of the target they resolve to;
    that target; the attribute paths users keep (``kept_paths``)."""
    desired = load_files(paths, exclude)
    target = resolve_target(cli_target, desired.target, runtime.env)
    shapes = shapes_of(desired.users)  # once: both ask it of every user
    check_dialect_attributes(
        desired, paths, dialect_named(target.dialect), shapes=shapes, exclude=exclude
    )
    return desired, target, kept_paths(desired, shapes)


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


def _read_after(
    target: Target, runtime: Runtime, keep: frozenset[str], rate: float | None
) -> tuple[Connection, LiveSnapshot]:
    """The read after the files, on this thread."""
    connection = connect_to(target, runtime, rate)
    try:
        return connection, read_directory(connection, runtime, lambda: keep)
    except BaseException:
        connection.client.close()
        raise
