"""The run: applies a plan in order and reports every action.

Phases run in the order of ``reconciler.plan.PHASES``; inside a phase, actions run
on a bounded thread pool. A failed action does not stop the run; an action that
depends on it (a group that would gain a user whose create failed) is skipped and
reported, never sent. A dry run is structural: the same executor, a writer that
records instead of sending.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import structlog

from reconciler.dialect import Dialect
from reconciler.errors import ApplyInterruptedError, ConflictError, ReconcilerError
from reconciler.executor.actions import ActionApplier, ActionWrites, SkipError, UserIds
from reconciler.executor.writers import Writer
from reconciler.plan import Action, ActionKind, Plan, Resource
from reconciler.report import ActionResult, ApplyReport, Outcome
from reconciler.wording import plural

log = structlog.get_logger("reconciler.apply")

NOT_SENT = "not sent: the apply was interrupted"
NOT_SYNCED = (
    "the name is a product's default-access or built-in group name: Atlassian answered "
    "success, and does not sync such a group to its products"
)


class Executor:
    """Applies plans through a ``Writer``, shaping writes for the target's ``Dialect``."""

    def __init__(
        self,
        writer: Writer,
        *,
        dialect: Dialect,
        concurrency: int = 4,
        member_chunk: int | None = None,
        on_result: Callable[[ActionResult], None] | None = None,
    ) -> None:
        self.writer = writer
        self.dialect = dialect
        # Servers with ETags (dialect.etags, from /ServiceProviderConfig) get If-Match
        # on the first write of each action: a concurrent change by someone else
        # fails the action with 412 rather than being overwritten.
        self.concurrency = max(1, concurrency)
        # Member references per PATCH; None: no cap but the server's 413 (batching).
        self.member_chunk = None if member_chunk is None else max(1, member_chunk)
        self.on_result = on_result
        self._lock = threading.Lock()
        # The state of one execute(), set at its start.
        self._dry_run = False
        self._users: UserIds
        self._applier: ActionApplier
        self._ended: dict[int, ActionResult] = {}

    def execute(self, plan: Plan, *, dry_run: bool = False) -> ApplyReport:
        self._dry_run = dry_run
        self._users = UserIds(plan.user_ids)
        self._applier = ActionApplier(
            self._users, dialect=self.dialect, member_chunk=self.member_chunk
        )
        # Filled by each action as it ends (not as the pool hands results back in
        # order), so an interrupt knows exactly which actions ended.
        self._ended = {}
        by_phase: dict[int, list[tuple[int, Action]]] = {}
        for index, action in enumerate(plan.actions):
            by_phase.setdefault(action.phase, []).append((index, action))
        pool = ThreadPoolExecutor(max_workers=self.concurrency)
        try:
            for phase in sorted(by_phase):
                list(pool.map(lambda item: self._run(*item), by_phase[phase]))
        except KeyboardInterrupt as stop:
            # Ctrl-C or SIGTERM: the actions in flight finish (no request is cut in
            # half), the queued ones are never sent.
            pool.shutdown(wait=True, cancel_futures=True)
            raise self._interrupted(plan, dry_run, getattr(stop, "signum", 2)) from None
        pool.shutdown()
        return self._report(plan, dry_run)

    def _report(self, plan: Plan, dry_run: bool) -> ApplyReport:
        results = tuple(
            self._ended.get(i) or ActionResult(action=a, outcome=Outcome.SKIPPED, reason=NOT_SENT)
            for i, a in enumerate(plan.actions)
        )
        return ApplyReport(
            target=plan.target,
            digest=plan.digest,
            dry_run=dry_run,
            results=results,
            user_names=plan.user_names,
            left_for_later=plan.left_for_later,
        )

    def _interrupted(self, plan: Plan, dry_run: bool, signum: int) -> ApplyInterruptedError:
        report = self._report(plan, dry_run)
        name = "SIGTERM" if signum == 15 else "Ctrl-C" if signum == 2 else f"signal {signum}"
        applied, failed = report.count(Outcome.APPLIED), report.count(Outcome.FAILED)
        not_sent = sum(1 for r in report.results if r.reason == NOT_SENT)
        return ApplyInterruptedError(
            f"interrupted by {name}: of {plural(len(plan.actions), 'action')}, {applied} "
            f"applied and {failed} failed (the ones in flight were let finish); {not_sent} "
            "not sent. Plan again to see what is left; a rerun converges.",
            signum=signum,
            report=report,
        )

    def _run(self, index: int, action: Action) -> ActionResult:
        writes = ActionWrites(self.writer, action.version if self.dialect.etags else None)
        started = time.monotonic()
        new_id: str | None = None
        not_synced = False
        try:
            new_id = self._applier.apply(action, writes)
            outcome, reason = Outcome.APPLIED, None
            if self._not_synced(action):
                not_synced, reason = True, NOT_SYNCED
        except SkipError as skip:
            outcome, reason = Outcome.SKIPPED, str(skip)
        except ReconcilerError as error:
            outcome, reason = Outcome.FAILED, str(error)
            if isinstance(error, ConflictError):
                reason += conflict_hint(action, self.dialect)
        if (
            outcome is not Outcome.APPLIED
            and action.resource is Resource.USER
            and action.action in (ActionKind.CREATE, ActionKind.ADOPT)
        ):
            # Nobody joins a group through an account that was not created or taken
            # over as planned: an adoption that failed leaves the account someone else's.
            self._users.fail(action.key)
        result = ActionResult(
            action=action,
            outcome=outcome,
            reason=reason,
            id=new_id,
            attempts=writes.attempt,
            duration_ms=(time.monotonic() - started) * 1000,
            adopted=action.action is ActionKind.CREATE and any(r.adopted for r in writes.results),
            not_synced=not_synced,
        )
        self._log(result, writes)
        with self._lock:
            self._ended[index] = result
        if self.on_result is not None:
            self.on_result(result)
        return result

    def _not_synced(self, action: Action) -> bool:
        """A group created under a name Atlassian keeps for its products (docs/atlassian.md
        "Groups"): the create succeeds, the group never reaches the products."""
        return (
            action.resource is Resource.GROUP
            and action.action in (ActionKind.CREATE, ActionKind.RENAME)
            and self.dialect.reserved_group(action.key)
        )

    def _log(self, result: ActionResult, writes: ActionWrites) -> None:
        """The action's canonical log event."""
        action, outcome = result.action, result.outcome
        applied = outcome is Outcome.APPLIED
        log.info(
            "action",
            resource=action.resource.value,
            key=action.key,
            action=action.action.value,
            outcome="would_apply" if self._dry_run and applied else outcome.value,
            attempt=writes.attempt,
            requests=writes.requests,
            duration_ms=round(result.duration_ms, 1),
            reason=result.reason,
            adopted=result.adopted,
            dry_run=self._dry_run,
        )


def conflict_hint(action: Action, dialect: Dialect) -> str:
    """What a 409 on this action most likely means on this dialect, and where to look
    (docs/atlassian.md); the wording is the dialect's."""
    if action.resource is Resource.GROUP and action.action in (
        ActionKind.CREATE,
        ActionKind.RENAME,
    ):
        return dialect.conflict_hint(group=action.key)
    emails = next((c.after for c in action.attribute_changes if c.path == "emails"), None)
    email = next((e.get("value") for e in emails or () if e.get("primary")), None)
    if action.resource is Resource.USER and email:
        return dialect.conflict_hint(email=str(email))
    return ""
