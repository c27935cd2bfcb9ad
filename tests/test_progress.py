"""Progress bars and log lines share stderr without being glued together."""

from __future__ import annotations

import io
import re

import pytest
import structlog

from reconciler import progress
from reconciler.logs import configure_logging
from reconciler.progress import Progress, write_stderr_line

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _screen_lines(raw: str) -> list[str]:
    """What each written line shows once carriage returns and escape codes are applied."""
    return [_ANSI.sub("", line).rsplit("\r", 1)[-1] for line in raw.split("\n")]


def test_a_log_line_during_a_progress_bar_is_printed_on_its_own_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A retry warning while the bar is showing prints above it, not onto it."""
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    configure_logging("console", 1, color=False)
    with Progress("Applying", total=10) as bar:
        bar.advance()
        structlog.get_logger("reconciler.scim").warning("scim.retry", attempt=2)
        bar.advance()
    lines = [line for line in _screen_lines(terminal.getvalue()) if "scim.retry" in line]
    assert len(lines) == 1
    assert lines[0].split()[1:] == ["[warning", "]", "scim.retry", "attempt=2"]
    assert progress._live_console is None  # the bar is gone: lines go straight to stderr


def test_without_a_bar_a_log_line_goes_straight_to_stderr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No bar, no detour: one line, newline-terminated."""
    terminal = io.StringIO()
    monkeypatch.setattr("sys.stderr", terminal)
    write_stderr_line("event")
    assert terminal.getvalue() == "event\n"
