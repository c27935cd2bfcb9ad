"""The read of the directory on its own thread, while the files load (``app.pipeline``,
``overlapped``): the connection, the read, and what it hands the run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future

from reconciler.app.runtime import Runtime
from reconciler.live import LiveSnapshot, LiveUser
from reconciler.snapshot import Keep, read_snapshot
from reconciler.target import Connection, Target, connect

_STOP_WAIT = 5.0  # seconds a failed run waits for the read to notice it should stop


def connect_to(target: Target, runtime: Runtime, rate: float | None) -> Connection:
    """A connection to ``target`` as the run's runtime says (transport, retries, budget)."""
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


def read_directory(
    connection: Connection,
    runtime: Runtime,
    keep: Keep,
    stopping: threading.Event | None = None,
    users_read: Callable[[tuple[LiveUser, ...]], None] | None = None,
) -> LiveSnapshot:
    """The directory read whole (``read_snapshot``), with progress; ``stopping`` stops it
    at its next page; ``users_read`` as ``read_snapshot`` has it."""
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
            users_read=users_read,
        )


class _Stopped(Exception):  # noqa: N818 - not an error: the run no longer needs the read
    """The run stopped the read (its files had a problem)."""


class Reader:
    """The read, on its own thread, of the target the first look resolved.

    The thread owns the connection until ``result`` hands it over; a read that is
    stopped, or fails, closes it. Whatever the thread raises is kept for ``result``.
    The paths users keep reach the thread once, through a future that ``result`` sets.
    """

    def __init__(self, target: Target, runtime: Runtime, rate: float | None) -> None:
        self.target = target
        self._keep: Future[frozenset[str]] = Future()
        # The connection and the users, once every one is read (``read_snapshot``'s
        # ``users_read``), or None when the thread ended without them.
        self._users: Future[tuple[Connection, tuple[LiveUser, ...]] | None] = Future()
        self._stopping = threading.Event()
        # Set once connected, as the listing starts (or when the thread ends first).
        self.reading = threading.Event()
        self._outcome: tuple[Connection, LiveSnapshot] | BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(target, runtime, rate), name="reconciler-read", daemon=True
        )
        self._thread.start()

    def _kept(self) -> frozenset[str] | None:
        """The paths users keep, once the files told (``read_snapshot``'s ``keep``)."""
        return self._keep.result() if self._keep.done() else None

    def _run(self, target: Target, runtime: Runtime, rate: float | None) -> None:
        try:
            self._read_through(target, runtime, rate)
        finally:
            self.reading.set()
            if not self._users.done():
                self._users.set_result(None)

    def _read_through(self, target: Target, runtime: Runtime, rate: float | None) -> None:
        try:
            connection = connect_to(target, runtime, rate)
        except BaseException as error:  # noqa: BLE001 - handed to result()
            self._outcome = error
            return

        def users_read(users: tuple[LiveUser, ...]) -> None:
            if not self._users.done():  # once: a plan takes no other (``made_from``)
                self._users.set_result((connection, users))

        self.reading.set()
        try:
            live = read_directory(connection, runtime, self._kept, self._stopping, users_read)
        except BaseException as error:  # noqa: BLE001 - handed to result()
            connection.client.close()
            self._outcome = error
            return
        if self._stopping.is_set():  # stopped after the last page: nobody takes it
            connection.client.close()
            self._outcome = _Stopped()
        else:
            self._outcome = (connection, live)

    def users_first(
        self, keep: frozenset[str]
    ) -> Future[tuple[Connection, tuple[LiveUser, ...]] | None]:
        """Users read from now on keep only ``keep``; the connection and the users, once
        every one is read, if the read gets there with ``keep`` known; else None."""
        self._keep.set_result(keep)
        return self._users

    def result(self, keep: frozenset[str]) -> tuple[Connection, LiveSnapshot]:
        """Users read from now on keep only ``keep``; the connection and the snapshot,
        once read (users read before keep every path); or what stopped the read, raised."""
        if not self._keep.done():
            self._keep.set_result(keep)
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
