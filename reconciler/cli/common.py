"""What every subcommand shares: output streams, global options, loading and connecting."""

from __future__ import annotations

import functools
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from reconciler.errors import (
    ApprovalMismatchError,
    AuthenticationError,
    ConfigError,
    DesiredStateError,
    LimitExceededError,
    Problem,
    ReconcilerError,
)
from reconciler.redaction import redact_secrets

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:  # imported where used: --help and --version stay fast
    from reconciler.app import Runtime
    from reconciler.plan import Plan
    from reconciler.progress import Progress
    from reconciler.report import Approval
    from reconciler.target import Target


def _log() -> Any:
    import structlog

    return structlog.get_logger("reconciler.cli")


EXIT_CHANGES = 2
EXIT_FAILED = 4


class Terminated(KeyboardInterrupt):
    """SIGTERM (cron, Kubernetes, systemd, CI timeouts), raised in the main thread so a
    run stops the way Ctrl-C stops it: in-flight writes finish, nothing new is sent."""

    signum = signal.SIGTERM.value


def _on_sigterm(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the wait
    raise Terminated


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises ``Terminated``; outside it, the default returns."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Output:
    """Where results go and how they look, decided once per run.

    stdout carries the plan or report only. stderr carries, besides the logs, notes
    for people (silenced by -q), progress bars (on a terminal, not with -q) and
    errors (always; as JSON events when the logs are JSON, so a parser never meets
    a stray plain line). Every text passes ``redact_secrets`` on its way out, the
    last net behind documents rendered from redacted data (``reconciler.redaction``).
    """

    def __init__(self, *, no_color: bool, quiet: bool = False, json_logs: bool = False) -> None:
        self.color = sys.stdout.isatty() and not no_color and "NO_COLOR" not in os.environ
        self.err_color = sys.stderr.isatty() and not no_color and "NO_COLOR" not in os.environ
        self.quiet = quiet
        self.json_logs = json_logs
        self._runtime: Runtime | None = None  # set per run by global_options
        self.annotate = False  # also print file problems as GitHub annotations
        self.events_json = json_logs  # log events are JSON (set per run)

    def out(self, text: str) -> None:
        click.echo(redact_secrets(text), nl=not text.endswith("\n"))

    def err(self, text: str) -> None:
        """Text a person must see on stderr (the plan before a prompt)."""
        click.echo(redact_secrets(text), err=True)

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

        return Progress(description, total, enabled=not self.quiet, color=self.err_color)


def _output_for_run(log_format: str | None, verbose: int, quiet: bool, no_color: bool) -> Output:
    """Logging configured, and where this run's results and notes go."""
    color = sys.stderr.isatty() and not no_color and "NO_COLOR" not in os.environ
    from reconciler.app import Runtime
    from reconciler.logs import configure_logging

    configure_logging(log_format, -1 if quiet else verbose, color=color)  # type: ignore[arg-type]
    # Only an explicit --log-format json makes notes and errors JSON events: by
    # default (JSON logs because stderr is no terminal, as in CI) errors stay
    # the plain file:line:column lines people read in a job log.
    output = Output(no_color=no_color, quiet=quiet, json_logs=log_format == "json")
    # Whether log events come out as JSON at all (also by default, off a terminal).
    output.events_json = (log_format or ("console" if sys.stderr.isatty() else "json")) == "json"
    # The outside world comes from the caller (tests pass their own as click's obj).
    given = click.get_current_context().find_root().obj
    output.runtime = replace(
        given if isinstance(given, Runtime) else Runtime(),
        progress=output.progress,
        note=output.info,
        started=time.monotonic(),
    )
    return output


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


def _in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def _report_error(error: ReconcilerError, output: Output) -> None:
    if isinstance(error, DesiredStateError):
        for problem in error.problems:
            # One structured event per problem, for a log pipeline to count and route.
            if output.events_json:
                _log().error(
                    "file_problem", file=problem.file, line=problem.line,
                    column=problem.column, path=problem.path, message=problem.message,
                )  # fmt: skip
            if output.annotate or _in_github_actions():
                output.out(github_annotation(problem))
    if isinstance(error, LimitExceededError | ApprovalMismatchError):  # exit 3: a person decides
        output.error("refused", str(error), error.exit_code)
        return
    hint = ""
    if isinstance(error, AuthenticationError):
        hint = (
            "\nhint: the directory refused the token; check the environment variable "
            "named by target.token_env (default RECONCILER_TOKEN)"
        )
    output.error("error", str(error) + hint, error.exit_code)


def global_options(func: F) -> F:
    """Options every subcommand accepts after its name."""

    @click.option(
        "--log-format",
        type=click.Choice(["console", "json"]),
        default=None,
        help="Log format on stderr. Default: console on a terminal, JSON otherwise. "
        "Given explicitly as json, notes and errors are JSON events too.",
    )
    @click.option(
        "-v",
        "--verbose",
        count=True,
        help="More on stderr: -v one event per action, -vv every request.",
    )
    @click.option(
        "-q", "--quiet", is_flag=True, help="Only errors on stderr: no notes, no progress bar."
    )
    @click.option("--no-color", is_flag=True, help="No colour (also: the NO_COLOR variable).")
    @functools.wraps(func)
    def wrapper(
        *args: Any, log_format: str | None, verbose: int, quiet: bool, no_color: bool, **kwargs: Any
    ) -> Any:
        output = _output_for_run(log_format, verbose, quiet, no_color)
        try:
            with sigterm_as_interrupt():
                return func(*args, output=output, **kwargs)
        except Terminated:
            code = 128 + Terminated.signum
            output.error("error", "terminated by SIGTERM; nothing was sent", code)
            sys.exit(code)
        except ReconcilerError as error:
            _report_error(error, output)
            sys.exit(error.exit_code)

    return wrapper  # type: ignore[return-value]


paths_argument = click.argument(
    "paths", nargs=-1, type=click.Path(path_type=Path), metavar="PATH..."
)
target_option = click.option(
    "--target",
    metavar="URL",
    help="SCIM base URL or sandbox:PATH. Overrides RECONCILER_TARGET and target.url.",
)


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """``90s``, ``10m``, ``1h30m`` or seconds, as seconds (``desired.parse_duration``)."""
    if value is None:
        return None
    from reconciler.desired import parse_duration

    try:
        return parse_duration(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


timeout_option = click.option(
    "--timeout",
    callback=_duration,
    metavar="DURATION",
    help="Give up on the directory after this long, all its requests together (90s, 10m, "
    "1h30m), counted from the start; overrides target.timeout. Each request also has a "
    "deadline of 60s.",
)


def with_timeout(output: Output, timeout: float | None) -> None:
    """This run's ``--timeout``, when given, for every connection it opens."""
    if timeout is not None:
        output.runtime = replace(output.runtime, timeout=timeout)


class Commands(click.Group):
    """Usage errors exit 1, not click's 2: exit 2 means "changes pending" here."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as help_shown:
            help_shown.show()
            sys.exit(0)
        except click.ClickException as error:
            error.show()
            sys.exit(1)
        except click.exceptions.Abort:
            click.echo("\nAborted; nothing was sent.", err=True)
            sys.exit(1)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all, never through a symbolic link.

    A reader sees the old file or the new one. A link planted where a file is written
    (a scheduled export into a checked-out repository, say) could otherwise make the
    write land outside the directory: it is refused.
    """
    if path.is_symlink():
        raise ConfigError(f"{path} is a symbolic link; refusing to write through it")
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as handle:
            tmp = Path(handle.name)
            handle.write(text)
        tmp.replace(path)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None


def render_plan(
    plan_: Plan, fmt: str, target: Target, output: Output, approval: Approval | None = None
) -> str:
    """The plan in ``fmt``, rendered from its ``for_output`` form (without secrets);
    ``approval``: the --approve that lets it through its limits."""
    from reconciler.render import render_plan_json, render_plan_markdown, render_plan_text

    plan_ = plan_.for_output()
    if fmt == "json":
        return render_plan_json(plan_)
    if fmt == "markdown":
        return render_plan_markdown(plan_, sandbox=target.is_sandbox)
    return render_plan_text(plan_, color=output.color, sandbox=target.is_sandbox, approval=approval)
