"""Log configuration for the command line (library code never configures logging).

Logs go to stderr, so stdout carries only the plan or report. On a terminal they are
rendered for people; otherwise, or with ``--log-format json``, one JSON object per
line for machines. Either way, every event passes ``redact_log_event`` last, so an
echoed token never reaches stderr.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog

from reconciler.progress import write_stderr_line
from reconciler.redaction import redact_log_event

LogFormat = Literal["console", "json"]


class _StderrLogger:
    """structlog's output: one line per event on stderr, above any progress bar."""

    def __init__(self, *args: object) -> None:
        pass

    def msg(self, message: str) -> None:
        write_stderr_line(message)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def chosen_format(log_format: LogFormat | None) -> LogFormat:
    """The format of this run's logs: the one given, else console on a terminal, JSON not."""
    if log_format is not None:
        return log_format
    return "console" if sys.stderr.isatty() else "json"


def configure_logging(log_format: LogFormat | None, verbosity: int, *, color: bool) -> None:
    """Set up structlog for one CLI run; ``verbosity`` is -1 (quiet), 0, or the -v count."""
    log_format = chosen_format(log_format)
    # People on a terminal read the plan and the report; the per-action events are
    # for machines (JSON), or for people who ask with -v. -vv adds every request.
    default = logging.INFO if log_format == "json" else logging.WARNING
    if verbosity < 0:
        level = logging.ERROR
    elif verbosity == 0:
        level = default
    else:
        level = logging.INFO if verbosity == 1 else logging.DEBUG
    renderer: structlog.types.Processor
    if log_format == "json":
        renderer = structlog.processors.JSONRenderer(sort_keys=True)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=color)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            # Errors are redacted when built; this is the second net, for anything
            # else a log event may carry (reconciler.redaction).
            redact_log_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_StderrLogger,
        cache_logger_on_first_use=False,
    )


def unfiltered_logger() -> structlog.typing.FilteringBoundLogger:
    """A logger with the run's processors that no level silences (-q included): for
    what a person must read before answering a question, in the run's log format."""
    logger: structlog.typing.FilteringBoundLogger = structlog.wrap_logger(
        _StderrLogger(), wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG)
    )
    return logger
