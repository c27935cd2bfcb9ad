"""The command line: ``reconciler validate | plan | apply | export | sandbox seed|serve | schema``.

Thin: parse options, run the data flow (load → read → plan → render / execute), and
turn ``ReconcilerError`` into a message and an exit code (docs/design.md "Exit codes").
stdout carries only the plan or report; logs and progress go to stderr.
"""

from __future__ import annotations

from reconciler.cli import apply as _apply  # registers apply on main
from reconciler.cli import links as _links  # registers links on main
from reconciler.cli import tools as _tools  # registers export and the sandbox commands on main
from reconciler.cli.commands import main

__all__ = ["main"]
del _apply, _links, _tools
