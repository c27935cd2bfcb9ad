"""Progress bars on stderr for long reads and applies, only when stderr is a terminal."""

from __future__ import annotations

import sys
from types import TracebackType

import rich.console
import rich.progress
import rich.text

# The console of the progress bar on screen, if any: log lines go through it so they
# print above the bar instead of being glued onto it.
_live_console: rich.console.Console | None = None


def write_stderr_line(line: str) -> None:
    """Write one line to stderr, above a progress bar when one is showing."""
    console = _live_console
    if console is not None:
        console.print(rich.text.Text.from_ansi(line), soft_wrap=True)
    else:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


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
            global _live_console
            _live_console = self._bar.console
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            global _live_console
            _live_console = None
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
