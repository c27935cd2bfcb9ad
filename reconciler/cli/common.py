"""What every subcommand shares: global options, errors and exit codes, writing files.

Where output goes (``Output``, the streams rule) is ``cli.output``."""

from __future__ import annotations

import functools
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from reconciler.cli.output import Output, github_annotation
from reconciler.cli.summary import emit_summary, start_summary
from reconciler.errors import (
    ApprovalMismatchError,
    AuthenticationError,
    ConfigError,
    DesiredStateError,
    LimitExceededError,
    ReconcilerError,
)
from reconciler.redaction import redact_secrets

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:  # imported where used: --help and --version stay fast
    from reconciler.plan import Plan
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


def _output_for_run(log_format: str | None, verbose: int, quiet: bool, no_color: bool) -> Output:
    """Logging configured, and where this run's results and notes go."""
    color = sys.stderr.isatty() and not no_color and "NO_COLOR" not in os.environ
    from reconciler.app import Runtime
    from reconciler.logs import chosen_format, configure_logging

    configure_logging(log_format, -1 if quiet else verbose, color=color)  # type: ignore[arg-type]
    # JSON logs, given or by default (stderr is no terminal: CI, cron, Kubernetes),
    # make notes and errors JSON events too: a log pipeline reads every line.
    json_logs = chosen_format(log_format) == "json"  # type: ignore[arg-type]
    output = Output(no_color=no_color, quiet=quiet, json_logs=json_logs)
    # The outside world comes from the caller (tests pass their own as click's obj).
    given = click.get_current_context().find_root().obj
    from reconciler.cli.entry import held_until_exit

    output.runtime = replace(
        given if isinstance(given, Runtime) else Runtime(),
        progress=output.progress,
        note=output.info,
        started=time.monotonic(),
        hold=held_until_exit(),
    )
    return output


def _in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def _report_error(error: ReconcilerError, output: Output) -> None:
    if isinstance(error, DesiredStateError):
        for problem in error.problems:
            # One structured event per problem, for a log pipeline to count and route.
            if output.json_logs:
                _log().error(
                    "file_problem", file=problem.file, line=problem.line,
                    column=problem.column, path=problem.path, message=problem.message,
                )  # fmt: skip
            if output.annotate or _in_github_actions():
                output.annotation(github_annotation(problem))
    if isinstance(error, LimitExceededError | ApprovalMismatchError):  # exit 3: a person decides
        output.error("refused", str(error), error.exit_code)
        return
    hint = ""
    if isinstance(error, AuthenticationError) and not error.token_sent:
        hint = (
            "\nhint: no token was sent (its environment variable is not set); set the one "
            "named by target.token_env (default RECONCILER_TOKEN) to the bearer token"
        )
    elif isinstance(error, AuthenticationError):
        hint = (
            "\nhint: the directory refused the token; check the environment variable "
            "named by target.token_env (default RECONCILER_TOKEN)"
        )
    output.error("error", str(error) + hint, error.exit_code)


# How much a run says on stderr, and how: the options every subcommand takes, outermost
# first (the order ``--help`` lists them in).
_OUTPUT_OPTIONS = (
    click.option(
        "--log-format",
        type=click.Choice(["console", "json"]),
        default=None,
        help="Log format on stderr. Default: console on a terminal, JSON otherwise. "
        "With JSON, every line on stderr is a JSON event, notes and errors too "
        "(GitHub annotations aside).",
    ),
    click.option(
        "-v",
        "--verbose",
        count=True,
        help="More on stderr: -v one event per action, -vv every request.",
    ),
    click.option(
        "-q", "--quiet", is_flag=True, help="Only errors on stderr: no notes, no progress bar."
    ),
    click.option("--no-color", is_flag=True, help="No colour (also: the NO_COLOR variable)."),
)


def global_options(func: F) -> F:
    """Options every subcommand accepts after its name (``_OUTPUT_OPTIONS``)."""

    @functools.wraps(func)
    def wrapper(
        *args: Any, log_format: str | None, verbose: int, quiet: bool, no_color: bool, **kwargs: Any
    ) -> Any:
        started = time.monotonic()
        start_summary()
        output = _output_for_run(log_format, verbose, quiet, no_color)
        command = click.get_current_context().info_name or ""
        code, error = 1, None  # 1 stays for an exception no branch below names
        try:
            with sigterm_as_interrupt():
                result = func(*args, output=output, **kwargs)
            code = 0
            return result
        except SystemExit as stop:  # the command's own exit code (2, 3, 4)
            code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
            raise
        except Terminated:
            code = 128 + Terminated.signum
            output.error("error", "terminated by SIGTERM; nothing was sent", code)
            sys.exit(code)
        except (KeyboardInterrupt, click.exceptions.Abort):  # Ctrl-C, also at a prompt
            code = 1
            output.error("error", "aborted; nothing was sent", code)
            sys.exit(code)
        except ReconcilerError as failed:
            code, error = failed.exit_code, failed
            _report_error(failed, output)
            sys.exit(code)
        except Exception as crash:  # a bug: its traceback, as one event in JSON logs
            if not output.json_logs:
                raise
            text = f"internal error ({type(crash).__name__}: {crash}); please report it"
            _log().error("error", message=text, exit_code=code, exc_info=crash)
            sys.exit(code)
        finally:  # last, after the errors, with the code the process exits with
            emit_summary(command, started, code, error)

    for option in reversed(_OUTPUT_OPTIONS):  # as if stacked on ``wrapper``, top first
        wrapper = option(wrapper)
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
    """Usage errors exit 1, not click's 2: exit 2 means "changes pending" here; and they
    read like every other error (``error: …``, or one JSON event when logs are JSON)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        argv = kwargs.get("args", args[0] if args else None)
        argv = sys.argv[1:] if argv is None else list(argv)
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as help_shown:
            help_shown.show()
            sys.exit(0)
        except click.ClickException as error:
            _click_error(error, error.format_message(), argv)
            sys.exit(1)
        except click.exceptions.Abort:
            _click_error(None, "aborted; nothing was sent", argv)
            sys.exit(1)


def _click_error(error: click.ClickException | None, message: str, argv: Sequence[str]) -> None:
    """An error click found before a command ran (an unknown option, a bad value)."""
    from reconciler.logs import chosen_format, configure_logging

    given = _log_format_in(argv)
    if chosen_format(given) == "json":
        configure_logging("json", 0, color=False)
        _log().error("error", message=message, exit_code=1)
        return
    context = error.ctx if isinstance(error, click.UsageError) else None
    if context is not None:
        usage = f"{context.get_usage()}\nTry '{context.command_path} --help' for help.\n"
        click.echo(usage, err=True, color=False)
    click.echo(redact_secrets(f"error: {message}"), err=True)


def _log_format_in(argv: Sequence[str]) -> Literal["console", "json"] | None:
    """The ``--log-format`` of a command line click did not finish parsing, if any."""
    for index, arg in enumerate(argv):
        value = arg.partition("=")[2] if arg.startswith("--log-format=") else None
        if arg == "--log-format" and index + 1 < len(argv):
            value = argv[index + 1]
        if value in ("console", "json"):
            return "json" if value == "json" else "console"
    return None


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
