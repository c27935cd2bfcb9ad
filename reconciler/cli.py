"""The command line: ``reconciler validate | plan | apply | export | sandbox serve | schema``.

Thin: parse options, run the data flow (load → read → plan → render / execute), and
turn ``ReconcilerError`` into a message and an exit code (DESIGN.md "Exit codes").
stdout carries only the plan or report; logs and progress go to stderr.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from reconciler.desired import DesiredState, render_schema
from reconciler.errors import (
    ApprovalError,
    AuthenticationError,
    ConfigError,
    LimitExceededError,
    ReconcilerError,
)
from reconciler.executor import Executor, RecordingWriter, ScimWriter
from reconciler.export import export_documents
from reconciler.files import load_desired
from reconciler.logs import configure_logging
from reconciler.plan import Plan
from reconciler.planner import PlanContext, plan
from reconciler.progress import Progress
from reconciler.render import (
    render_plan_json,
    render_plan_markdown,
    render_plan_text,
    render_report_json,
    render_report_text,
)
from reconciler.report import ApplyReport, Outcome
from reconciler.saved import check_plan_target, verify_saved_plan
from reconciler.snapshot import read_snapshot
from reconciler.target import Connection, Target, connect, resolve_target
from reconciler.version import __version__

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CHANGES = 2
EXIT_FAILED = 4


class Output:
    """Where results go and how they look, decided once per run."""

    def __init__(self, *, no_color: bool) -> None:
        self.color = sys.stdout.isatty() and not no_color and "NO_COLOR" not in os.environ
        self.err_color = sys.stderr.isatty() and not no_color and "NO_COLOR" not in os.environ

    def out(self, text: str) -> None:
        click.echo(text, nl=not text.endswith("\n"))

    def err(self, text: str) -> None:
        click.echo(text, err=True)


def global_options(func: F) -> F:
    """Options every subcommand accepts after its name."""

    @click.option(
        "--log-format",
        type=click.Choice(["console", "json"]),
        default=None,
        help="Log format on stderr. Default: console on a terminal, JSON otherwise.",
    )
    @click.option("-v", "--verbose", count=True, help="More log detail (repeatable).")
    @click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
    @click.option("--no-color", is_flag=True, help="No colour (also: the NO_COLOR variable).")
    @functools.wraps(func)
    def wrapper(
        *args: Any, log_format: str | None, verbose: int, quiet: bool, no_color: bool, **kwargs: Any
    ) -> Any:
        output = Output(no_color=no_color)
        configure_logging(
            log_format,  # type: ignore[arg-type]
            -1 if quiet else verbose,
            color=output.err_color,
        )
        try:
            return func(*args, output=output, **kwargs)
        except LimitExceededError as error:
            output.err(f"refused: {error}")
            sys.exit(error.exit_code)
        except AuthenticationError as error:
            output.err(f"error: {error}")
            output.err(
                "hint: the directory refused the token; check the environment variable "
                "named by target.token_env (default RECONCILER_TOKEN)"
            )
            sys.exit(error.exit_code)
        except ReconcilerError as error:
            output.err(f"error: {error}")
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


class _Commands(click.Group):
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


@click.group(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="reconciler")
def main() -> None:
    """Make a SCIM 2.0 directory (Atlassian first) look like the files in a git repository.

    Users and groups live in YAML/JSON files. `plan` shows what would change;
    `apply` changes it. With no target configured, everything runs against the
    local embedded sandbox at .reconciler/sandbox.db, so you can try it safely.

    Exit codes: 0 ok (no changes with --detailed-exitcode), 1 error (nothing was
    changed), 2 changes pending (--detailed-exitcode), 3 refused by a safety limit,
    4 apply finished but some actions failed.
    """


@main.command()
@paths_argument
@global_options
def validate(paths: tuple[Path, ...], output: Output) -> None:
    """Check desired-state files without touching any directory.

    Every problem is reported at once as file:line:column: path: message.
    """
    desired = _load(paths)
    users = _count(len(desired.users), "user")
    groups = _count(len(desired.groups), "group")
    output.out(f"OK: {users} and {groups} are valid.")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@main.command()
@global_options
def schema(output: Output) -> None:
    """Print the JSON Schema of a desired-state file (for editors)."""
    output.out(render_schema())


def _load(paths: tuple[Path, ...]) -> DesiredState:
    if not paths:
        raise ConfigError("give at least one PATH: a desired-state file or a directory of them")
    return load_desired(paths)


@contextmanager
def _connected(
    desired: DesiredState, cli_target: str | None, output: Output, rate: float | None = None
) -> Iterator[tuple[Target, Connection]]:
    target = resolve_target(cli_target, desired.target, os.environ)
    connection = connect(target, rate=rate)
    try:
        yield target, connection
    finally:
        connection.client.close()


def _make_plan(desired: DesiredState, target: Target, connection: Connection) -> Plan:
    with Progress("Reading the directory") as progress:
        live = read_snapshot(
            connection.client, page_size=connection.page_size, progress=progress.update
        )
    return plan(desired, live, desired.policy, PlanContext(target.url, target.dialect))


def _render(plan_: Plan, fmt: str, target: Target, output: Output) -> str:
    if fmt == "json":
        return render_plan_json(plan_)
    if fmt == "markdown":
        return render_plan_markdown(plan_, sandbox=target.is_sandbox)
    return render_plan_text(plan_, color=output.color, sandbox=target.is_sandbox)


@main.command("plan")
@paths_argument
@target_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    help="text for people, markdown for a pull-request comment, json for machines.",
)
@click.option("--out", type=click.Path(path_type=Path), help="Also save the JSON plan here.")
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none."
)
@global_options
def plan_command(
    paths: tuple[Path, ...],
    target: str | None,
    fmt: str,
    out: Path | None,
    detailed_exitcode: bool,
    output: Output,
) -> None:
    """Show what apply would change. Sends no writes.

    A plan that exceeds a safety limit exits 3 whatever --detailed-exitcode says.
    """
    desired = _load(paths)
    with _connected(desired, target, output) as (resolved, connection):
        plan_ = _make_plan(desired, resolved, connection)
    output.out(_render(plan_, fmt, resolved, output))
    if out is not None:
        _write_plan(out, plan_)
    if plan_.blocked:
        sys.exit(LimitExceededError.exit_code)
    if detailed_exitcode and not plan_.is_empty:
        sys.exit(EXIT_CHANGES)


def _write_plan(path: Path, plan_: Plan) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(render_plan_json(plan_), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise ConfigError(f"cannot write the plan to {path}: {exc}") from exc


@main.command()
@paths_argument
@target_option
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Apply this saved plan (from plan --out) instead of planning anew.",
)
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Go through the apply, but send no writes.")
@click.option(
    "--approve",
    metavar="DIGEST",
    help="Let exactly the plan with this digest through its safety limits.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Writes in flight at once.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1),
    default=None,
    help="At most this many requests per second.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    help="Format of the plan and the apply report on stdout.",
)
@global_options
def apply(
    paths: tuple[Path, ...],
    target: str | None,
    plan_file: Path | None,
    auto_approve: bool,
    dry_run: bool,
    approve: str | None,
    concurrency: int,
    rate: float | None,
    fmt: str,
    output: Output,
) -> None:
    """Change the directory to match the files (or a saved plan).

    Without --auto-approve, asks for "yes" on a terminal and refuses without one.
    With --plan, the saved plan is applied exactly, to the target it was made for,
    after every object it touches has been re-read and found unchanged; PATH... is
    then optional and only supplies target settings (url, token_env, dialect).
    """
    approve = _digest_argument(approve)
    saved: Plan | None = None
    if plan_file is not None:
        saved = _read_plan(plan_file)
        desired = _load(paths) if paths else DesiredState()
        if target is None and not os.environ.get("RECONCILER_TARGET") and not desired.target.url:
            target = saved.target
        # Refuse a plan made for another directory before anything is opened.
        check_plan_target(saved, resolve_target(target, desired.target, os.environ).url)
    elif not paths:
        raise ConfigError("give PATH... to plan from files, or --plan PLAN.json")
    else:
        desired = _load(paths)
    with _connected(desired, target, output, rate) as (resolved, connection):
        if saved is not None:
            plan_ = saved
            verify_saved_plan(plan_, connection.client, resolved.url)
        else:
            plan_ = _make_plan(desired, resolved, connection)
        # stdout holds one document: in JSON, the plan when refused, else the report.
        if fmt == "text":
            output.out(_render(plan_, "text", resolved, output))
        try:
            _check_approval(plan_, approve)
        except LimitExceededError:
            if fmt == "json":
                output.out(_render(plan_, "json", resolved, output))
            raise
        if plan_.is_empty:
            return
        if not (auto_approve or dry_run):
            _confirm(plan_, resolved)
        writer = RecordingWriter() if dry_run else ScimWriter(connection.client)
        with Progress("Applying", total=len(plan_.actions)) as progress:
            executor = Executor(
                writer, concurrency=concurrency, on_result=lambda _r: progress.advance()
            )
            report = executor.execute(plan_, dry_run=dry_run)
    _print_report(report, fmt, output, sandbox=resolved.is_sandbox)
    if report.count(Outcome.FAILED) or report.count(Outcome.SKIPPED):
        sys.exit(EXIT_FAILED)


def _read_plan(path: Path) -> Plan:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the plan {path}: {exc}") from exc
    return Plan.from_json(text, source=str(path))


def _digest_argument(approve: str | None) -> str | None:
    """``--approve`` as ``sha256:<64 hex>``; the bare hex is accepted too."""
    if approve is None:
        return None
    value = approve.strip().lower()
    if not value.startswith("sha256:"):
        value = "sha256:" + value
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", value):
        raise ConfigError(
            f"--approve {approve!r} is not a plan digest; copy the 'Digest: sha256:...' "
            "line that reconciler plan printed"
        )
    return value


def _check_approval(plan_: Plan, approve: str | None) -> None:
    if approve is not None and approve != plan_.digest:
        raise LimitExceededError(
            f"--approve {approve} does not match this plan ({plan_.digest}); the plan "
            "changed since it was approved. Review the new plan and approve its digest."
        )
    if plan_.blocked and approve is None:
        limits = ", ".join(f"{b.limit} ({b.planned} > {b.allowed})" for b in plan_.blocked)
        raise LimitExceededError(
            f"the plan exceeds safety limits: {limits}; nothing was sent. "
            f"If it is intended, run again with --approve {plan_.digest}"
        )


def _confirm(plan_: Plan, target: Target) -> None:
    if not sys.stdin.isatty():
        raise ApprovalError(
            "apply needs confirmation, and there is no terminal to ask on; "
            "use --auto-approve in unattended runs"
        )
    answer = click.prompt(
        f"Apply {len(plan_.actions)} actions to {target.description}? Only 'yes' is accepted",
        default="",
        show_default=False,
        err=True,
    )
    if answer.strip() != "yes":
        raise ApprovalError("apply cancelled; nothing was sent")


def _print_report(report: ApplyReport, fmt: str, output: Output, *, sandbox: bool) -> None:
    if fmt == "json":
        output.out(render_report_json(report))
    else:
        # The plan above already named the target and the digest.
        output.out(render_report_text(report, color=output.color, sandbox=sandbox, header=False))


@main.command()
@target_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write users and groups files into this directory (created if missing).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
    help="File format of the export.",
)
@global_options
def export(target: str | None, out: Path | None, fmt: str, output: Output) -> None:
    """Write today's directory as desired-state files, to start managing it as code.

    The export loads without problems and plans to no changes against the same
    directory. Without --out, one document goes to stdout.
    """
    desired = DesiredState()
    with (
        _connected(desired, target, output) as (_resolved, connection),
        Progress("Reading the directory") as progress,
    ):
        live = read_snapshot(
            connection.client, page_size=connection.page_size, progress=progress.update
        )
    users_doc, groups_doc = export_documents(live)
    if out is None:
        output.out(_dump({**users_doc, "groups": groups_doc["groups"]}, fmt))
        return
    suffix = "yaml" if fmt == "yaml" else "json"
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, doc in (("users", users_doc), ("groups", groups_doc)):
            (out / f"{name}.{suffix}").write_text(_dump(doc, fmt), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the export to {out}: {exc}") from exc
    output.err(
        f"Exported {len(users_doc['users'])} users and {len(groups_doc['groups'])} groups "
        f"to {out}/users.{suffix} and {out}/groups.{suffix}"
    )


def _dump(document: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100))


@main.group()
def sandbox() -> None:
    """The embedded local directory that behaves like the Atlassian API."""


@sandbox.command("serve")
@click.option(
    "--db",
    type=click.Path(path_type=Path),
    default=Path(".reconciler/sandbox.db"),
    show_default=True,
    help="SQLite file that holds the directory.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--token", metavar="T", help="Require this bearer token (default: no auth).")
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0.1),
    default=None,
    metavar="R",
    help="Fault knob: answer 429 with Retry-After above R requests per second.",
)
@click.option(
    "--latency-ms",
    type=click.FloatRange(min=0),
    default=0.0,
    metavar="MS",
    help="Fault knob: delay every answer by MS milliseconds.",
)
@click.option(
    "--error-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    metavar="P",
    help="Fault knob: answer this fraction of requests with 500 or 503.",
)
@click.option(
    "--drop-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    metavar="P",
    help="Fault knob: drop this fraction of connections without an answer.",
)
@click.option("--seed", type=int, default=None, help="Seed for the random fault knobs.")
@global_options
def sandbox_serve(
    db: Path,
    host: str,
    port: int,
    token: str | None,
    rate_limit: float | None,
    latency_ms: float,
    error_rate: float,
    drop_rate: float,
    seed: int | None,
    output: Output,
) -> None:
    """Serve the sandbox over HTTP at http://HOST:PORT/scim/directory/sandbox.

    Loopback by default; the same directory as the sandbox:PATH target. The base URL
    is printed on stdout once the server listens. The fault knobs (all off by
    default) make it misbehave like a busy real directory, for tests and benchmarks.
    """
    from reconciler.sandbox import FaultConfig, serve

    faults = FaultConfig(
        rate_limit=rate_limit,
        latency_ms=latency_ms,
        error_rate=error_rate,
        drop_rate=drop_rate,
        seed=seed,
    )

    def ready(url: str) -> None:
        output.out(url)
        output.err(f"Serving the sandbox at {url} from {db} (Ctrl-C stops)")

    serve(db, host=host, port=port, token=token, faults=faults, ready=ready)
