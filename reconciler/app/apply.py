"""``run_apply``: change the directory to match the files, or apply a saved plan exactly.

The caller shows and asks through ``ApplyHooks``; everything else is decided here:
which plan (fresh, or saved and verified against the directory and the files'
limits), whether it may go (limits, the approved digest, the person's yes), and the
apply itself, whose report is returned (or carried by ``ApplyInterruptedError``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from reconciler.app.loading import load_files
from reconciler.app.pipeline import read_while_loading
from reconciler.app.runtime import ProgressBar, Runtime
from reconciler.app.session import Session, opened, plan_live, read_live, refuse_secrets_sent
from reconciler.desired import DesiredState
from reconciler.errors import ApprovalError, ConfigError, LimitExceededError
from reconciler.executor import Executor, RecordingWriter, ScimWriter
from reconciler.limits import check_limits
from reconciler.plan import Plan
from reconciler.planner import PlanContext, limit_bases
from reconciler.report import ApplyReport
from reconciler.saved import check_plan_target, verify_saved_plan
from reconciler.target import Target, resolve_target


@dataclass(frozen=True, slots=True)
class ApplyRequest:
    """What the person asked for."""

    paths: tuple[Path, ...] = ()
    saved: Plan | None = None  # apply --plan: this plan exactly
    target: str | None = None  # --target
    approve: str | None = None  # --approve DIGEST
    auto_approve: bool = False
    dry_run: bool = False
    concurrency: int = 4
    rate: float | None = None


class ApplyHooks(Protocol):
    """How the caller shows a plan and asks about it."""

    def planned(self, plan: Plan, target: Target) -> None:
        """The plan that is about to be judged (limits, approval)."""

    def refused(self, plan: Plan, target: Target) -> None:
        """The plan a limit refuses; the error follows."""

    def confirm(self, plan: Plan, target: Target) -> None:
        """Ask for "yes"; raise ``ApprovalError`` when the answer is anything else."""

    def applying(self, total: int) -> AbstractContextManager[ProgressBar]:
        """Progress of the writes."""


def run_apply(request: ApplyRequest, runtime: Runtime, hooks: ApplyHooks) -> ApplyReport:
    """Plan (or take the saved plan), check it may go, apply it; the report."""
    with _planned(request, runtime) as (session, plan_):
        hooks.planned(plan_, session.target)
        try:
            check_approval(plan_, request.approve)
        except LimitExceededError:
            hooks.refused(plan_, session.target)
            raise
        if plan_.is_empty:
            return ApplyReport(target=plan_.target, digest=plan_.digest, dry_run=request.dry_run)
        if not (request.auto_approve or request.dry_run):
            hooks.confirm(plan_, session.target)
        return _execute(plan_, session, request, hooks)


@contextmanager
def _planned(request: ApplyRequest, runtime: Runtime) -> Iterator[tuple[Session, Plan]]:
    """The session to apply in and the plan to apply: made from the files while the
    directory is read (``pipeline``, as ``plan`` makes it), or the saved plan, verified."""
    if request.saved is None:
        if not request.paths:
            raise ConfigError("give PATH... to plan from files, or --plan PLAN.json")
        with read_while_loading(request.paths, request.target, runtime, rate=request.rate) as run:
            session = Session(run.target, run.connection)
            yield session, plan_live(session, run.desired, run.live, runtime)
        return
    desired, fallback = _desired(request, runtime)
    with opened(
        desired, request.target, runtime, paths=request.paths, rate=request.rate, fallback=fallback
    ) as session:
        yield session, _the_plan(request, desired, session, runtime)


def _desired(request: ApplyRequest, runtime: Runtime) -> tuple[DesiredState, str | None]:
    """The files given with a saved plan (optional), and its target as a fallback.

    A saved plan also lends its token variable when the files name none, and a plan
    made for another directory is refused before anything is opened.
    """
    saved = request.saved
    assert saved is not None, "a plan from files is made while the directory is read"
    desired = load_files(request.paths) if request.paths else DesiredState()
    if saved.token_env is not None and "token_env" not in desired.target.model_fields_set:
        spec = desired.target.model_copy(update={"token_env": saved.token_env})
        desired = desired.model_copy(update={"target": spec})
    resolved = resolve_target(request.target, desired.target, runtime.env, fallback=saved.target)
    check_plan_target(saved, resolved.url)
    return desired, saved.target


def _the_plan(
    request: ApplyRequest, desired: DesiredState, session: Session, runtime: Runtime
) -> Plan:
    saved = request.saved
    assert saved is not None, "a plan from files is made while the directory is read"
    # A plan file written by hand, or while the token was not known to be one.
    refuse_secrets_sent(saved)
    verify_saved_plan(saved, session.connection.client, session.target.url)
    if request.paths:
        recheck_limits(saved, desired, session, runtime, request.approve)
    return saved


def recheck_limits(
    saved: Plan, desired: DesiredState, session: Session, runtime: Runtime, approve: str | None
) -> None:
    """Hold a saved plan to the limits of the files given with it.

    The digest shows a plan was not changed by accident; it is no signature. A plan
    edited past the limits the reviewed files set is refused like a blocked plan.
    """
    live = read_live(session, runtime)
    context = PlanContext(session.target.url, session.connection.dialect)
    blocked = check_limits(saved, desired.policy.limits, limit_bases(desired, live, context))
    if blocked and approve != saved.digest:
        limits = ", ".join(f"{b.limit} ({b.planned} > {b.allowed}: {b.basis})" for b in blocked)
        raise LimitExceededError(
            f"the saved plan exceeds limits the files set: {limits}; nothing was sent. "
            f"If it is intended, run again with --approve {saved.digest}"
        )


def check_approval(plan_: Plan, approve: str | None) -> None:
    """A plan over a limit goes only with its digest approved; an approval of another
    plan (the directory or the files changed since the review) stops everything."""
    if approve is not None and approve != plan_.digest:
        raise ApprovalError(
            f"--approve {approve} does not match this plan ({plan_.digest}); the plan "
            "changed since it was approved, and nothing was sent. Review the new plan and "
            "approve its digest."
        )
    if plan_.blocked and approve is None:
        limits = ", ".join(f"{b.limit} ({b.planned} > {b.allowed})" for b in plan_.blocked)
        raise LimitExceededError(
            f"the plan exceeds safety limits: {limits}; nothing was sent. "
            f"If it is intended, run again with --approve {plan_.digest}"
        )


def _execute(
    plan_: Plan, session: Session, request: ApplyRequest, hooks: ApplyHooks
) -> ApplyReport:
    connection = session.connection
    writer = RecordingWriter() if request.dry_run else ScimWriter(connection.client)
    with hooks.applying(len(plan_.actions)) as bar:
        executor = Executor(
            writer,
            dialect=connection.dialect,
            concurrency=request.concurrency,
            on_result=lambda _result: bar.advance(),
        )
        return executor.execute(plan_, dry_run=request.dry_run)
