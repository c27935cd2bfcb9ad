"""Where a run's results and messages go: the streams rule (docs/design.md "CLI").

stdout carries the plan, report or export only; everything else goes to stderr,
as one JSON event per line when the logs are JSON (``--log-format json``, or by
default off a terminal). ``Output`` is decided once per run by ``global_options``.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from reconciler.errors import Problem
from reconciler.redaction import redact_secrets

if TYPE_CHECKING:  # imported where used: --help and --version stay fast
    from reconciler.app import Runtime
    from reconciler.progress import Progress


def _log() -> Any:
    import structlog

    return structlog.get_logger("reconciler.cli")


class Output:
    """Where results go and how they look, decided once per run.

    stdout carries the plan, report or export only. stderr carries, besides the
    logs, notes for people (silenced by -q), progress bars (on a terminal, not with
    -q), errors (always) and GitHub workflow annotations. When the logs are JSON
    (given, or by default off a terminal) every line on stderr is one JSON event,
    notes, errors and questions included, and no progress bar draws there: a parser
    never meets a stray plain line. The one exception are the annotations, which
    the CI runner reads, and which only GitHub Actions or ``--format github`` asks
    for. Every text passes ``redact_secrets`` on its way out, the last net behind
    documents rendered from redacted data (``reconciler.redaction``).
    """

    def __init__(self, *, no_color: bool, quiet: bool = False, json_logs: bool = False) -> None:
        self.color = sys.stdout.isatty() and not no_color and "NO_COLOR" not in os.environ
        self.err_color = sys.stderr.isatty() and not no_color and "NO_COLOR" not in os.environ
        self.quiet = quiet
        self.json_logs = json_logs
        self._runtime: Runtime | None = None  # set per run by global_options
        self.annotate = False  # also print file problems as GitHub annotations

    def out(self, text: str) -> None:
        click.echo(redact_secrets(text), nl=not text.endswith("\n"))

    def err(self, text: str) -> None:
        """Text a person must see on stderr (the plan before a prompt), even with -q."""
        if self.json_logs:
            _unfiltered_log().info("review", message=text)
        else:
            click.echo(redact_secrets(text), err=True)

    def warn(self, text: str, event: str = "warning", **fields: str) -> None:
        """A warning a person must see even with -q (``warning: …``); in JSON logs one
        ``event`` at level warning, ``fields`` beside the message."""
        if self.json_logs:
            _unfiltered_log().warning(event, message=text, **fields)
        else:
            click.echo(redact_secrets(f"warning: {text}"), err=True)

    def ask(self, question: str) -> str:
        """A person's answer, read from stdin, to ``question`` asked on stderr."""
        if self.json_logs:
            # A prompt left without its line end would glue the next event to it.
            _unfiltered_log().warning("question", message=question)
            return sys.stdin.readline()
        answer: str = click.prompt(question, default="", show_default=False, err=True)
        return answer

    def annotation(self, line: str) -> None:
        """A GitHub workflow command; on stderr, which the runner reads as well, so that
        stdout holds only the plan (``plan --format json > plan.json``)."""
        click.echo(redact_secrets(line), err=True)

    def info(self, text: str) -> None:
        """A note for people: where things went, what is being served."""
        if self.quiet:
            return
        if self.json_logs:
            _log().info("note", message=text)
        else:
            click.echo(redact_secrets(text), err=True)

    def error(self, kind: str, text: str, exit_code: int) -> None:
        if self.json_logs:
            _log().error(kind, message=text, exit_code=exit_code)
        else:
            click.echo(redact_secrets(f"{kind}: {text}"), err=True)

    @property
    def runtime(self) -> Runtime:
        """The outside world of this run (reconciler.app.Runtime)."""
        assert self._runtime is not None, "global_options sets the runtime of every run"
        return self._runtime

    @runtime.setter
    def runtime(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def progress(self, description: str, total: int | None = None) -> Progress:
        from reconciler.progress import Progress

        enabled = not self.quiet and not self.json_logs
        return Progress(description, total, enabled=enabled, color=self.err_color)


def _unfiltered_log() -> Any:
    from reconciler.logs import unfiltered_logger

    return unfiltered_logger()


def github_annotation(problem: Problem, level: str = "error") -> str:
    """A GitHub workflow command that shows a problem inline on the pull request's diff."""

    def escape(text: str, *, prop: bool = False) -> str:
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return text.replace(":", "%3A").replace(",", "%2C") if prop else text

    where = f"file={escape(problem.file, prop=True)}"
    if problem.line is not None:
        where += f",line={problem.line}"
        if problem.column is not None:
            where += f",col={problem.column}"
    message = f"{problem.path}: {problem.message}" if problem.path else problem.message
    return f"::{level} {where},title=reconciler::{escape(message)}"
