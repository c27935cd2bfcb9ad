"""Progress bars on stderr for long reads and applies, only when stderr is a terminal."""

from __future__ import annotations

import sys
from types import TracebackType

import rich.console
import rich.progress


class Progress:
    """A single progress bar; a no-op when stderr is not a terminal."""

    def __init__(
        self,
        description: str,
        total: int | None = None,
        *,
        enabled: bool = True,
        color: bool = True,
    ) -> None:
        self.description = description
        self.total = total
        self.enabled = enabled
        self.color = color
        self._bar: rich.progress.Progress | None = None
        self._task: rich.progress.TaskID | None = None

    def __enter__(self) -> Progress:
        if self.enabled and sys.stderr.isatty():
            self._bar = rich.progress.Progress(
                rich.progress.TextColumn("{task.description}"),
                rich.progress.BarColumn(),
                rich.progress.MofNCompleteColumn(),
                rich.progress.TimeElapsedColumn(),
                console=rich.console.Console(file=sys.stderr, no_color=not self.color),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, what: str, done: int, total: int) -> None:
        """Report listing progress: ``done`` of ``total`` resources of type ``what``."""
        if self._bar is not None and self._task is not None:
            self._bar.update(
                self._task, description=f"{self.description}: {what}", completed=done, total=total
            )

    def advance(self) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task)
