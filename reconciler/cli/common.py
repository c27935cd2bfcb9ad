"""What every subcommand shares: output streams, global options, loading and connecting."""

from __future__ import annotations

import functools
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
import structlog

from reconciler.desired import DesiredState
from reconciler.dialect import dialect_named
from reconciler.errors import (
    AuthenticationError,
    ConfigError,
    LimitExceededError,
    ReconcilerError,
)
from reconciler.files import load_desired
from reconciler.files.dialectcheck import check_dialect_attributes
from reconciler.linkcheck import link_warnings, planned_emails
from reconciler.logs import configure_logging
from reconciler.plan import Plan
from reconciler.planner import PlanContext, plan
from reconciler.progress import Progress
from reconciler.render import (
    render_plan_json,
    render_plan_markdown,
    render_plan_text,
)
from reconciler.scim.admin import directory_id_of
from reconciler.snapshot import read_snapshot
from reconciler.target import Connection, Target, connect, connect_admin, resolve_target

F = TypeVar("F", bound=Callable[..., Any])

_log = structlog.get_logger("reconciler.cli")

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
    a stray plain line).
    """

    def __init__(self, *, no_color: bool, quiet: bool = False, json_logs: bool = False) -> None:
        self.color = sys.stdout.isatty() and not no_color and "NO_COLOR" not in os.environ
        self.err_color = sys.stderr.isatty() and not no_color and "NO_COLOR" not in os.environ
        self.quiet = quiet
        self.json_logs = json_logs

    def out(self, text: str) -> None:
        click.echo(text, nl=not text.endswith("\n"))

    def err(self, text: str) -> None:
        """Text a person must see on stderr (the plan before a prompt)."""
        click.echo(text, err=True)

    def info(self, text: str) -> None:
        """A note for people: where things went, what is being served."""
        if self.quiet:
            return
        if self.json_logs:
            _log.info("note", message=text)
        else:
            click.echo(text, err=True)

    def error(self, kind: str, text: str, exit_code: int) -> None:
        if self.json_logs:
            _log.error(kind, message=text, exit_code=exit_code)
        else:
            click.echo(f"{kind}: {text}", err=True)

    def progress(self, description: str, total: int | None = None) -> Progress:
        return Progress(description, total, enabled=not self.quiet, color=self.err_color)


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
        color = sys.stderr.isatty() and not no_color and "NO_COLOR" not in os.environ
        configure_logging(
            log_format,  # type: ignore[arg-type]
            -1 if quiet else verbose,
            color=color,
        )
        # Only an explicit --log-format json makes notes and errors JSON events: by
        # default (JSON logs because stderr is no terminal, as in CI) errors stay
        # the plain file:line:column lines people read in a job log.
        output = Output(no_color=no_color, quiet=quiet, json_logs=log_format == "json")
        try:
            with sigterm_as_interrupt():
                return func(*args, output=output, **kwargs)
        except Terminated:
            output.error(
                "error", "terminated by SIGTERM; nothing was sent", 128 + Terminated.signum
            )
            sys.exit(128 + Terminated.signum)
        except LimitExceededError as error:
            output.error("refused", str(error), error.exit_code)
            sys.exit(error.exit_code)
        except AuthenticationError as error:
            hint = (
                "\nhint: the directory refused the token; check the environment variable "
                "named by target.token_env (default RECONCILER_TOKEN)"
            )
            output.error("error", str(error) + hint, error.exit_code)
            sys.exit(error.exit_code)
        except ReconcilerError as error:
            output.error("error", str(error), error.exit_code)
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


def load_files(paths: tuple[Path, ...]) -> DesiredState:
    if not paths:
        raise ConfigError("give at least one PATH: a desired-state file or a directory of them")
    return load_desired(paths)


@contextmanager
def connected(
    desired: DesiredState,
    cli_target: str | None,
    output: Output,
    rate: float | None = None,
    paths: tuple[Path, ...] = (),
) -> Iterator[tuple[Target, Connection]]:
    """Resolve the target and open a connection for the length of a command.

    ``connect`` is looked up here, at call time: the fault-injection tests replace it.
    """
    target = resolve_target(cli_target, desired.target, os.environ)
    # Before anything is read or sent: attributes this target's API does not have.
    check_dialect_attributes(desired, paths, dialect_named(target.dialect))
    connection = connect(target, rate=rate)
    if connection.note is not None:
        output.info(connection.note)
    try:
        yield target, connection
    finally:
        connection.client.close()


def make_plan(
    desired: DesiredState, target: Target, connection: Connection, output: Output
) -> Plan:
    with output.progress("Reading the directory") as progress:
        live = read_snapshot(
            connection.client, page_size=connection.page_size, progress=progress.update
        )
    token_env = None if target.is_sandbox else target.token_env
    planned = plan(desired, live, PlanContext(target.url, target.dialect, token_env))
    return with_link_checks(planned, target)


def with_link_checks(planned: Plan, target: Target) -> Plan:
    """On Atlassian, with the organisation's Admin API at hand, the plan's new emails
    that another directory's link will refuse (409), said before anything is sent."""
    if target.dialect != "atlassian" or not planned_emails(planned):
        return planned
    admin = connect_admin(target, required=False)
    if admin is None:
        return planned  # without an org token, a 409 in the report explains itself
    with admin:
        here = "sandbox" if target.is_sandbox else directory_id_of(target.url)
        found = link_warnings(planned, admin.links_for_email, here)
    if not found:
        return planned
    warnings = sorted({*planned.warnings, *found}, key=lambda w: (w.key.lower(), w.key, w.message))
    return planned.model_copy(update={"warnings": tuple(warnings)})


def render_plan(plan_: Plan, fmt: str, target: Target, output: Output) -> str:
    if fmt == "json":
        return render_plan_json(plan_)
    if fmt == "markdown":
        return render_plan_markdown(plan_, sandbox=target.is_sandbox)
    return render_plan_text(plan_, color=output.color, sandbox=target.is_sandbox)
