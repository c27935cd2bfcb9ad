"""The signals ``sandbox serve`` stops on: asked, never raised into its loop."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """Within the block, Ctrl-C and SIGTERM set the event yielded instead of raising.

    For a loop that stops itself when told (``sandbox serve``): an exception raised at
    whatever point a server's loop happens to be could leave its worker threads half
    told to stop, so the signal only asks, and the loop stops cleanly (exit 0). A second
    signal while it stops does what it did before the block (Ctrl-C twice gets out).
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous: dict[int, Any] = {}

    def asked(signum: int, frame: Any) -> None:
        if not stop.is_set():
            stop.set()
            return
        # Asked again while stopping: the way out there was before (Ctrl-C twice).
        before = previous.get(signum, signal.SIG_DFL)
        if callable(before):
            before(signum, frame)
        elif before == signal.SIG_DFL:
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, asked)
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
