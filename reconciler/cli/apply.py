"""``reconciler apply``: change the directory to match the files, or a saved plan.

The command reads its options into an ``ApplyRequest`` and hands it to the
application layer (``reconciler.app.run_apply``); what it shows and asks on the way
(the plan, the confirmation, the progress bar, the report) is ``_ApplyView``, the
hooks the application layer calls.
"""

from __future__ import annotations

import re
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli.commands import main
from reconciler.cli.common import (
    EXIT_FAILED,
    global_options,
    paths_argument,
    render_plan,
    target_option,
    timeout_option,
    with_timeout,
)
from reconciler.cli.metrics import metrics_option, observe_plan, observe_report
from reconciler.cli.options import exclude_option, only_option, rate_option
from reconciler.cli.output import Output
from reconciler.cli.summary import summary_event
from reconciler.errors import ApplyInterruptedError, ApprovalError, ConfigError
from reconciler.wording import plural

if TYPE_CHECKING:  # imported where used: --help and --version stay fast
    from reconciler.app import ApplyRequest, ProgressBar
    from reconciler.plan import Plan
    from reconciler.report import ApplyReport, Approval
    from reconciler.target import Target


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
    from reconciler.app import ApplyRequest

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
    code = _run_and_report(request, _ApplyView(fmt, output), output)
    if code:
        sys.exit(code)


def _run_and_report(request: ApplyRequest, hooks: _ApplyView, output: Output) -> int:
    """Run the apply, show its report and emit the summary event; the exit code of its
    outcomes (an interrupted apply reports what ended, then stops the command)."""
    from reconciler.app import run_apply
    from reconciler.report import ApplyReport, Outcome

    try:
        report = run_apply(request, output.runtime, hooks)
    except ApplyInterruptedError as stopped:
        if isinstance(stopped.report, ApplyReport):  # what ended is reported
            hooks.report(stopped.report)
            _report_summary(stopped.report)
        raise
    hooks.report(report)
    code = EXIT_FAILED if report.count(Outcome.FAILED) or report.count(Outcome.SKIPPED) else 0
    _report_summary(report)
    return code


def _report_summary(report: ApplyReport) -> None:
    """What the apply did, to what, and, when a plan over a limit was let through,
    ``approved_digest`` and ``approved_by``: the run's summary event."""
    from reconciler.report import Outcome

    counts = {outcome.value: report.count(outcome) for outcome in Outcome}
    summary_event("apply", counts, target=report.target, digest=report.digest, **report.approval)


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
        _confirm(plan_, target, self.output)

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
    from reconciler.saved import read_plan_file

    return read_plan_file(path)


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


def _confirm(plan_: Plan, target: Target, output: Output) -> None:
    if not sys.stdin.isatty():
        raise ApprovalError(
            "apply needs confirmation, and there is no terminal to ask on; "
            "use --auto-approve in unattended runs"
        )
    answer = output.ask(
        f"Apply {plural(len(plan_.actions), 'action')} to {target.description}? "
        "Only 'yes' is accepted"
    )
    if answer.strip() != "yes":
        raise ApprovalError("apply cancelled; nothing was sent")
