"""``run_apply``: change the directory to match the files, or apply a saved plan exactly.

The caller shows and asks through ``ApplyHooks``; everything else is decided here:
which plan (fresh, or saved and verified against the directory and the files'
limits), whether it may go (limits, the approved digest, the person's yes), and the
apply itself, whose report is returned (or carried by ``ApplyInterruptedError``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from reconciler.app.gcpolicy import gc_policy
from reconciler.app.loading import load_files
from reconciler.app.lock import target_lock
from reconciler.app.pipeline import read_while_loading
from reconciler.app.runtime import ProgressBar, Runtime
from reconciler.app.session import (
    Session,
    opened,
    plan_context,
    plan_live,
    read_live,
    refuse_secrets_sent,
)
from reconciler.desired import DesiredState
from reconciler.errors import (
    ApplyInterruptedError,
    ApprovalMismatchError,
    ConfigError,
    LimitExceededError,
)
from reconciler.executor import Executor, RecordingWriter, ScimWriter
from reconciler.plan import Blocked, Plan
from reconciler.planner import PlanContext, narrow_plan, saved_plan_blocked
from reconciler.report import ApplyReport, Approval
from reconciler.saved import check_plan_target, verify_saved_plan
from reconciler.target import Target, resolve_target


@dataclass(frozen=True, slots=True)
class ApplyRequest:
    """What the person asked for."""

    paths: tuple[Path, ...] = ()
    exclude: tuple[str, ...] = ()  # --exclude PATTERN: files below PATHS to leave out
    saved: Plan | None = None  # apply --plan: this plan exactly
    target: str | None = None  # --target
    approve: str | None = None  # --approve DIGEST
    approved_by: str | None = None  # --approved-by NAME (else the CI's actor variable)
    auto_approve: bool = False
    dry_run: bool = False
    concurrency: int = 4
    rate: float | None = None
    # --only KEY: send only these users' and groups' actions and what they need
    # (planner.partial); the rest is left for a later run.
    only: tuple[str, ...] = ()


class ApplyHooks(Protocol):
    """How the caller shows a plan and asks about it."""

    def planned(self, plan: Plan, target: Target, approval: Approval | None) -> None:
        """The plan that is about to be judged (limits, approval); ``approval``: the
        ``--approve`` that lets it through its limits, if it is over any and approved."""

    def refused(self, plan: Plan, target: Target) -> None:
        """The plan a limit refuses; the error follows."""

    def confirm(self, plan: Plan, target: Target) -> None:
        """Ask for "yes"; raise ``ApprovalError`` when the answer is anything else."""

    def applying(self, total: int) -> AbstractContextManager[ProgressBar]:
        """Progress of the writes."""


def run_apply(request: ApplyRequest, runtime: Runtime, hooks: ApplyHooks) -> ApplyReport:
    """Plan (or take the saved plan), check it may go, apply it; the report.

    A plan over a safety limit that ``--approve`` lets through is recorded as such in
    the report (``approved_digest``, ``approved_by``): an access review's audit trail.
    """
    by = approver(request.approved_by, runtime.env)
    read_started = time.time()
    with _planned(request, runtime) as (session, plan_, desired, over_limits):
        approved = over_limits and request.approve == plan_.digest
        approval = Approval(plan_.digest, by) if approved else None
        hooks.planned(plan_, session.target, approval)
        try:
            check_approval(plan_, request.approve)
        except (LimitExceededError, ApprovalMismatchError):
            hooks.refused(plan_, session.target)
            raise
        if plan_.is_empty:
            return ApplyReport(
                target=plan_.target,
                digest=plan_.digest,
                dry_run=request.dry_run,
                left_for_later=plan_.left_for_later,
            )
        going = _Going(plan_, session, request, hooks, desired, approval)
        if request.dry_run:
            return going.execute()
        asked = not request.auto_approve
        if asked:
            hooks.confirm(plan_, session.target)
        with target_lock(session.target.url, read_started=read_started, note=runtime.note):
            if asked:  # the yes may be hours old: the directory must still be as planned
                _still_as_planned(plan_, session)
            return going.execute()


def _still_as_planned(plan_: Plan, session: Session) -> None:
    verify_saved_plan(
        plan_,
        session.connection.client,
        session.target.url,
        headline="the directory changed while the plan waited for the confirmation; nothing "
        "was sent. Run again to plan from the directory as it is now.",
    )


# CI variables that name the person who started the run, asked in this order when
# --approved-by is not given: GitHub Actions, GitLab CI/CD, Azure Pipelines.
ACTOR_VARIABLES = ("GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILD_REQUESTEDFOR")
_MAX_NAME = 200


def approver(named: str | None, env: Mapping[str, str]) -> str | None:
    """Who approves a plan over its limits: ``named`` (``--approved-by``), else the first
    CI actor variable that is set, else nobody known. A record of what the run was told,
    not a check of who runs it."""
    if named is not None:
        name = named.strip()
        if not name or len(name) > _MAX_NAME or not name.isprintable():
            raise ConfigError(
                f"--approved-by needs a name of 1 to {_MAX_NAME} printable characters"
            )
        return name
    for variable in ACTOR_VARIABLES:
        value = env.get(variable, "").strip()
        if value and len(value) <= _MAX_NAME and value.isprintable():
            return value
    return None


@contextmanager
def _planned(
    request: ApplyRequest, runtime: Runtime
) -> Iterator[tuple[Session, Plan, DesiredState, bool]]:
    """The session to apply in, the plan to apply, the files, and whether the plan is over
    a limit: made from the files while the directory is read (``pipeline``, as ``plan``
    makes it), or the saved plan, verified (over a limit as saved, or as the files given
    with it set)."""
    if request.saved is None:
        if not request.paths:
            raise ConfigError("give PATH... to plan from files, or --plan PLAN.json")
        with ExitStack() as opened_run:
            with gc_policy():  # the run's objects are built; the writes are not part of it
                run = opened_run.enter_context(
                    read_while_loading(
                        request.paths,
                        request.target,
                        runtime,
                        rate=request.rate,
                        exclude=request.exclude,
                    )
                )
                if runtime.hold is not None:
                    runtime.hold(run)
                session = Session(run.target, run.connection)
                plan_ = plan_live(session, run.desired, run.live, runtime, run.users_first)
                if request.only:  # limits, access and digest of what is sent
                    context = plan_context(session, run.desired)
                    plan_ = narrow_plan(plan_, request.only, run.desired, run.live, context)
            yield session, plan_, run.desired, bool(plan_.blocked)
        return
    if request.only:
        raise ConfigError(
            "--only narrows a plan made now from the files; a saved plan is applied exactly "
            "as it was reviewed. Run apply PATH... --only KEY instead"
        )
    desired, fallback = _desired(request, runtime)
    with opened(
        desired,
        request.target,
        runtime,
        paths=request.paths,
        rate=request.rate,
        fallback=fallback,
        exclude=request.exclude,
    ) as session:
        saved, over_limits = _the_plan(request, desired, session, runtime)
        yield session, saved, desired, over_limits


def _desired(request: ApplyRequest, runtime: Runtime) -> tuple[DesiredState, str | None]:
    """The files given with a saved plan (optional), and its target as a fallback.

    A saved plan also lends its token variable when the files name none, and a plan
    made for another directory is refused before anything is opened.
    """
    saved = request.saved
    assert saved is not None, "a plan from files is made while the directory is read"
    desired = load_files(request.paths, request.exclude) if request.paths else DesiredState()
    if saved.token_env is not None and "token_env" not in desired.target.model_fields_set:
        spec = desired.target.model_copy(update={"token_env": saved.token_env})
        desired = desired.model_copy(update={"target": spec})
    resolved = resolve_target(request.target, desired.target, runtime.env, fallback=saved.target)
    check_plan_target(saved, resolved.url)
    return desired, saved.target


def _the_plan(
    request: ApplyRequest, desired: DesiredState, session: Session, runtime: Runtime
) -> tuple[Plan, bool]:
    """The saved plan, verified, and whether it is over a limit."""
    saved = request.saved
    assert saved is not None, "a plan from files is made while the directory is read"
    # A plan file written by hand, or while the token was not known to be one.
    refuse_secrets_sent(saved)
    verify_saved_plan(saved, session.connection.client, session.target.url)
    over = bool(saved.blocked)
    if request.paths:
        over = bool(recheck_limits(saved, desired, session, runtime, request.approve)) or over
    return saved, over


def recheck_limits(
    saved: Plan, desired: DesiredState, session: Session, runtime: Runtime, approve: str | None
) -> tuple[Blocked, ...]:
    """Hold a saved plan to the limits of the files given with it; the limits it
    exceeds (let through only when ``approve`` is its digest).

    The digest shows a plan was not changed by accident; it is no signature. A plan
    edited past the limits the reviewed files set is refused like a blocked plan.
    """
    live = read_live(session, runtime)
    context = PlanContext(session.target.url, session.connection.dialect)
    blocked = saved_plan_blocked(saved, desired, live, context)
    if blocked and approve != saved.digest:
        limits = ", ".join(f"{b.limit} ({b.planned} > {b.allowed}: {b.basis})" for b in blocked)
        raise LimitExceededError(
            f"the saved plan exceeds limits the files set: {limits}; nothing was sent. "
            f"If it is intended, run again with --approve {saved.digest}"
        )
    return blocked


def check_approval(plan_: Plan, approve: str | None) -> None:
    """A plan over a limit goes only with its digest approved; an approval of another
    plan (the directory or the files changed since the review) stops everything."""
    if approve is not None and approve != plan_.digest:
        raise ApprovalMismatchError(
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


@dataclass(frozen=True, slots=True)
class _Going:
    """An apply that may go: what ``_execute`` needs, gathered once."""

    plan: Plan
    session: Session
    request: ApplyRequest
    hooks: ApplyHooks
    desired: DesiredState
    approval: Approval | None

    def execute(self) -> ApplyReport:
        return _execute(self)


def _execute(going: _Going) -> ApplyReport:
    plan_, request, approval = going.plan, going.request, going.approval
    connection = going.session.connection
    writer = (
        RecordingWriter()
        if request.dry_run
        else ScimWriter(connection.client, adopt=going.desired.policy.users.adopt)
    )
    with going.hooks.applying(len(plan_.actions)) as bar:
        executor = Executor(
            writer,
            dialect=connection.dialect,
            concurrency=request.concurrency,
            on_result=lambda _result: bar.advance(),
        )
        try:
            return executor.execute(plan_, dry_run=request.dry_run).approved(approval)
        except ApplyInterruptedError as stopped:  # what ended was let through all the same
            if isinstance(stopped.report, ApplyReport):
                stopped.report = stopped.report.approved(approval)
            raise
