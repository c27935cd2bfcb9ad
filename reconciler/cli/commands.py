"""The main commands: validate, schema, plan and apply."""

from __future__ import annotations

import os
import re
import sys
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli.common import (
    EXIT_CHANGES,
    EXIT_FAILED,
    Commands,
    Output,
    global_options,
    paths_argument,
    render_plan,
    target_option,
    timeout_option,
    with_timeout,
    write_atomically,
)
from reconciler.cli.metrics import metrics_option, observe_plan, observe_report
from reconciler.cli.options import exclude_option, only_option
from reconciler.dialect import ATLASSIAN
from reconciler.errors import (
    ApplyInterruptedError,
    ApprovalError,
    ConfigError,
    LimitExceededError,
)
from reconciler.version import __version__

if TYPE_CHECKING:  # imported where used: --help and --version stay fast
    from reconciler.app import ProgressBar
    from reconciler.plan import Plan
    from reconciler.report import ApplyReport, Approval
    from reconciler.target import Target


@click.group(
    cls=Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="reconciler")
def main() -> None:
    """Make a SCIM 2.0 directory (Atlassian first) look like the files in a git repository.

    Users and groups live in YAML/JSON files. `plan` shows what would change;
    `apply` changes it. With no target configured, everything runs against the
    local embedded sandbox at .reconciler/sandbox.db, so you can try it safely.

    Exit codes: 0 ok (no changes with --detailed-exitcode), 1 error (nothing was
    changed), 2 changes pending (--detailed-exitcode), 3 refused by a safety limit or
    an --approve of another plan, 4 apply finished but some actions failed.
    """


@main.command()
@paths_argument
@target_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "github"]),
    default="text",
    help="github: also print each problem as a GitHub workflow annotation on stdout, so it "
    "shows inline on the pull request's diff (the default inside GitHub Actions).",
)
@exclude_option
@global_options
def validate(
    paths: tuple[Path, ...],
    target: str | None,
    fmt: str,
    exclude: tuple[str, ...],
    output: Output,
) -> None:
    """Check desired-state files without touching any directory.

    The files are checked for the target plan would use (--target, RECONCILER_TARGET,
    the files' target, or the embedded sandbox): an attribute its API does not have
    (on Atlassian: locale, userType, ...) is a problem. Every problem is reported at
    once as file:line:column: path: message.
    """
    from reconciler.app import run_validate
    from reconciler.scope import listed_but_left_alone, listed_look_alikes

    output.annotate = fmt == "github"
    checked = run_validate(paths, target, output.runtime, exclude)
    desired = checked.desired
    users = _count(len(desired.users), "user")
    groups = _count(len(desired.groups), "group")
    left_alone = listed_but_left_alone(desired)
    for resource, name, reason in left_alone:
        output.out(
            f"warning: {resource} {name}: listed in the files but {reason}; "
            "a plan never applies its entry"
        )
    look_alikes = listed_look_alikes(desired)
    for resource, name, why in look_alikes:
        output.out(f"warning: {resource} {name}: {why}")
    warnings = len(left_alone) + len(look_alikes)
    unset = "".join(f"; {name} is not set" for name in checked.unset)
    where = f"{checked.target.url} (dialect {checked.target.dialect.name}{unset})"
    tail = f"; {_count(warnings, 'warning')}" if warnings else ""
    output.out(f"OK: {users} and {groups} are valid for {where}{tail}.")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@main.command()
@global_options
def schema(output: Output) -> None:
    """Print the JSON Schema of a desired-state file (for editors)."""
    from reconciler.desired import render_schema

    output.out(render_schema())


rate_option = click.option(
    "--rate",
    type=click.FloatRange(min=0.1),
    default=None,
    help=(
        "At most this many requests per second. Default: "
        f"{ATLASSIAN.default_rate:g} on an Atlassian directory (its conservative rate), "
        "no limit on the sandbox, loopback hosts and other SCIM servers."
    ),
)


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
@rate_option
@timeout_option
@exclude_option
@global_options
@metrics_option
def plan_command(
    paths: tuple[Path, ...],
    target: str | None,
    fmt: str,
    out: Path | None,
    detailed_exitcode: bool,
    rate: float | None,
    timeout: float | None,
    exclude: tuple[str, ...],
    output: Output,
) -> None:
    """Show what apply would change. Sends no writes.

    A plan that exceeds a safety limit exits 3 whatever --detailed-exitcode says.
    """
    from reconciler.app import run_plan

    with_timeout(output, timeout)
    started = time.monotonic()
    planned = run_plan(paths, target, output.runtime, exclude, rate=rate)
    plan_, resolved = planned.plan, planned.target
    observe_plan(plan_)
    output.out(render_plan(plan_, fmt, resolved, output))
    if out is not None:
        output.info(f"Saved the plan to {_write_plan(out, plan_)}")
    code = 0
    if plan_.blocked:
        code = LimitExceededError.exit_code
    elif detailed_exitcode and not plan_.is_empty:
        code = EXIT_CHANGES
    _summary_event("plan", started, code, plan_.target, plan_.digest, plan_.summary)
    if code:
        sys.exit(code)


def _write_plan(path: Path, plan_: Plan) -> Path:
    """Write the JSON plan atomically; a directory gets ``plan.json`` inside it.

    It is written without secrets (``Plan.for_output``), and reads back with the
    digest the views showed: the digest covers the plan as it leaves the process.
    """
    from reconciler.render import render_plan_json

    if path.is_dir() or str(path).endswith(("/", os.sep)):
        path = path / "plan.json"
    write_atomically(path, render_plan_json(plan_.for_output()))
    return path


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
    "--approved-by",
    metavar="NAME",
    help="Who approved the digest, recorded with it in the report and the summary event. "
    "Default: the CI's actor (GITHUB_ACTOR, GITLAB_USER_LOGIN, BUILD_REQUESTEDFOR) when set.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Writes in flight at once.",
)
@rate_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    help="Format of the plan and the apply report on stdout.",
)
@timeout_option
@only_option
@exclude_option
@global_options
@metrics_option
def apply(
    paths: tuple[Path, ...],
    target: str | None,
    plan_file: Path | None,
    auto_approve: bool,
    dry_run: bool,
    approve: str | None,
    approved_by: str | None,
    concurrency: int,
    rate: float | None,
    fmt: str,
    timeout: float | None,
    only: tuple[str, ...],
    exclude: tuple[str, ...],
    output: Output,
) -> None:
    """Change the directory to match the files (or a saved plan).

    Without --auto-approve, asks for "yes" on a terminal and refuses without one.
    With --plan, the saved plan is applied exactly, to the target it was made for,
    after every object it touches has been re-read and found unchanged; PATH... is
    then optional and only supplies target settings (url, token_env, dialect).
    """
    from reconciler.app import ApplyRequest, run_apply
    from reconciler.report import ApplyReport, Outcome

    with_timeout(output, timeout)
    request = ApplyRequest(
        paths=paths,
        exclude=exclude,
        saved=_read_plan(plan_file) if plan_file is not None else None,
        target=target,
        approve=_digest_argument(approve),
        approved_by=approved_by,
        auto_approve=auto_approve,
        dry_run=dry_run,
        concurrency=concurrency,
        rate=rate,
        only=only,
    )
    hooks = _ApplyView(fmt, output)
    started = time.monotonic()
    try:
        report = run_apply(request, output.runtime, hooks)
    except ApplyInterruptedError as stopped:
        if isinstance(stopped.report, ApplyReport):  # what ended is reported
            hooks.report(stopped.report)
            _report_summary(stopped.report, started, stopped.exit_code)
        raise
    hooks.report(report)
    code = EXIT_FAILED if report.count(Outcome.FAILED) or report.count(Outcome.SKIPPED) else 0
    _report_summary(report, started, code)
    if code:
        sys.exit(code)


def _report_summary(report: ApplyReport, started: float, code: int) -> None:
    from reconciler.report import Outcome

    counts = {outcome.value: report.count(outcome) for outcome in Outcome}
    _summary_event("apply", started, code, report.target, report.digest, counts, **report.approval)


def _summary_event(
    command: str,
    started: float,
    code: int,
    target: str,
    digest: str,
    counts: dict[str, int],
    **approval: str,
) -> None:
    """The one event a scheduled job is judged by: what it did, to what, how it ended;
    and, when a plan over a limit was let through, ``approved_digest`` and ``approved_by``."""
    import structlog

    structlog.get_logger("reconciler.cli").info(
        "summary",
        command=command,
        target=target,
        digest=digest,
        counts=counts,
        **approval,
        duration_ms=round((time.monotonic() - started) * 1000, 1),
        exit_code=code,
    )


class _ApplyView:
    """What apply shows and asks, by --format: stdout holds one document (in JSON, the
    plan when refused, else the report); a person reads the plan before saying yes."""

    def __init__(self, fmt: str, output: Output) -> None:
        self.fmt = fmt
        self.output = output
        self.target: Target | None = None
        self.approval: Approval | None = None

    def planned(self, plan_: Plan, target: Target, approval: Approval | None) -> None:
        self.target, self.approval = target, approval
        observe_plan(plan_)
        if self.fmt == "text":
            self.output.out(render_plan(plan_, "text", target, self.output, approval))

    def refused(self, plan_: Plan, target: Target) -> None:
        if self.fmt == "json":
            self.output.out(render_plan(plan_, "json", target, self.output))

    def confirm(self, plan_: Plan, target: Target) -> None:
        if self.fmt == "json":  # the JSON goes to stdout after; the person reads this
            self.output.err(render_plan(plan_, "text", target, self.output, self.approval))
        _confirm(plan_, target)

    def applying(self, total: int) -> AbstractContextManager[ProgressBar]:
        return self.output.progress("Applying", total=total)

    def report(self, report: ApplyReport) -> None:
        from reconciler.render import render_report_json, render_report_text

        observe_report(report)
        sandbox = self.target is not None and self.target.is_sandbox
        report = report.for_output()
        if self.fmt == "json":
            self.output.out(render_report_json(report))
        elif report.results:  # text: the plan above already said "no changes"
            # The plan above already named the target and the digest.
            self.output.out(
                render_report_text(report, color=self.output.color, sandbox=sandbox, header=False)
            )


def _read_plan(path: Path) -> Plan:
    from reconciler.render import parse_plan_json

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the plan {path}: {exc}") from exc
    return parse_plan_json(text, source=str(path))


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
