"""The command group and the main commands: validate, schema and plan (apply: ``cli.apply``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli.common import (
    EXIT_CHANGES,
    Commands,
    global_options,
    paths_argument,
    render_plan,
    target_option,
    timeout_option,
    with_timeout,
    write_atomically,
)
from reconciler.cli.metrics import metrics_option, observe_plan
from reconciler.cli.options import exclude_option, rate_option
from reconciler.cli.output import Output
from reconciler.cli.summary import summary_event
from reconciler.errors import (
    LimitExceededError,
)
from reconciler.version import __version__
from reconciler.wording import plural

if TYPE_CHECKING:  # imported where used: --help and --version stay fast
    from reconciler.plan import Plan


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
    an --approve of another plan, 4 apply finished but some actions failed, 130 / 143
    apply interrupted by Ctrl-C / SIGTERM (actions in flight finished; a rerun
    converges).

    Streams: stdout carries only the plan, report or export. Logs, notes and errors
    go to stderr, as JSON events (one per line) when stderr is not a terminal or with
    --log-format json; GitHub workflow annotations go to stderr too.
    """


@main.command()
@paths_argument
@target_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "github"]),
    default="text",
    help="github: also print each problem as a GitHub workflow annotation on stderr, so it "
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
    users = plural(len(desired.users), "user")
    groups = plural(len(desired.groups), "group")
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
    where = f"{checked.target.url} (dialect {checked.target.dialect}{unset})"
    tail = f"; {plural(warnings, 'warning')}" if warnings else ""
    output.out(f"OK: {users} and {groups} are valid for {where}{tail}.")
    counts = {
        "users": len(desired.users),
        "groups": len(desired.groups),
        "warnings": warnings,
    }
    summary_event("validate", counts, target=checked.target.url)


@main.command()
@global_options
def schema(output: Output) -> None:
    """Print the JSON Schema of a desired-state file (for editors)."""
    from reconciler.desired import render_schema

    output.out(render_schema())


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
@click.option(
    "--out",
    type=click.Path(),  # as typed: a trailing "/" says "a directory" (Path drops it)
    help="Also save the JSON plan here; a directory (one that exists, or a path ending in "
    "/, created) gets plan.json inside it.",
)
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
    out: str | None,
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
    summary_event("plan", plan_.summary, target=plan_.target, digest=plan_.digest)
    if code:
        sys.exit(code)


def _write_plan(out: str, plan_: Plan) -> Path:
    """Write the saved plan (``saved.saved_form``) atomically; a directory gets
    ``plan.json`` inside it (``saved.plan_path``: ``out`` as typed, so that ``saved/``
    names a directory, created)."""
    from reconciler.saved import plan_path, saved_form

    path = plan_path(out)
    write_atomically(path, saved_form(plan_))
    return path
