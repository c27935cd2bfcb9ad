"""The process's entry point (``reconciler``, ``python -m reconciler``): the command
line, then an end that frees nothing.

A plan of a million users builds tens of millions of objects; freeing them one by one
when the run is over takes seconds (2.5 s at a million users) and serves nobody, as
the process ends anyway. So, as tools like mypy do, the process ends with
``os._exit`` once the command has returned or exited and its output is flushed, and
the run's files and snapshot are held until then (``Runtime.hold``). Everything a
run must do before it ends (the summary, the metrics file, the lock, the saved plan)
is done by the command itself, before it returns. An exception the command did not
handle ends the process as Python does, traceback included.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import NoReturn

_held: list[object] | None = None  # what this process holds until it ends, once it may


def run() -> NoReturn:
    """Run the command line, then end the process with its exit code, freeing nothing."""
    global _held
    _held = []
    from reconciler.cli import main

    try:
        main()
        code = 0
    except SystemExit as stop:
        code = _exit_code(stop.code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # a reader that stopped early (| head): as click, the code stands
        pass
    os._exit(code)


def held_until_exit() -> Callable[[object], None] | None:
    """What holds a run's objects until the process ends, when it ends through ``run``
    (None in a process that goes on: tests, a program that embeds the CLI)."""
    return None if _held is None else _held.append


def _exit_code(code: object) -> int:
    """The exit code of ``sys.exit(code)``: a message is printed and exits 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
