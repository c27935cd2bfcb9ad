"""What an apply did: one outcome for every action of the plan."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from reconciler.plan import Action, ActionKind, LeftForLater, Resource
from reconciler.redaction import json_may_hold_secret, redact_secrets


@dataclass(frozen=True, slots=True)
class Approval:
    """A plan over a safety limit let through by ``--approve``: the digest approved, and
    who approved it when known (``--approved-by``, or the CI's actor variable)."""

    digest: str
    by: str | None = None


class Outcome(StrEnum):
    """How one action ended."""

    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"  # never sent: something it depends on failed


class ActionResult(BaseModel):
    """The end of one action: its outcome, why, and what it cost."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Action
    outcome: Outcome
    reason: str | None = None
    id: str | None = None  # the live id after the action (set by creates)
    attempts: int = 0
    duration_ms: float = 0.0
    # A create answered 409 that took over the existing object (the files' policy
    # allowed it, or it was the one meant): applied, but not as a new object.
    adopted: bool = False
    # A group created under a product's default-access or built-in name: Atlassian
    # answered success and will not sync it to its products (``reason`` says so).
    not_synced: bool = False

    @property
    def kind(self) -> ActionKind:
        """What the action did: create, update, deactivate, ..."""
        return self.action.action

    @property
    def resource(self) -> Resource:
        return self.action.resource

    @property
    def key(self) -> str:
        return self.action.key

    @property
    def live_id(self) -> str | None:
        """The object's live id: the one a create made, else the one it was planned on."""
        return self.id if self.id is not None else self.action.id


class ApplyReport(BaseModel):
    """Every action's outcome, in plan order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: str
    digest: str
    dry_run: bool
    results: tuple[ActionResult, ...] = ()
    # userName of each opaque user key (policy.users.key: externalId), from the plan.
    user_names: dict[str, str] = {}
    # Set only when the plan was over a safety limit and let through by --approve:
    # the digest approved, and who approved it (--approved-by or the CI's actor), when known.
    approved_digest: str | None = None
    approved_by: str | None = None
    # What ``apply --only`` left for a later run (``Plan.left_for_later``).
    left_for_later: tuple[LeftForLater, ...] = ()

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    def approved(self, approval: Approval | None) -> ApplyReport:
        """This report with the approval that let its plan through, if any."""
        if approval is None:
            return self
        update = {"approved_digest": approval.digest, "approved_by": approval.by}
        return self.model_copy(update=update)

    @property
    def approval(self) -> dict[str, str]:
        """``approved_digest`` and ``approved_by`` as the report and the logs carry them:
        only those that are set."""
        found = {"approved_digest": self.approved_digest, "approved_by": self.approved_by}
        return {name: value for name, value in found.items() if value is not None}

    def for_output(self) -> ApplyReport:
        """This report as its views show it: every remembered secret cut out of its
        strings (``reconciler.redaction``), as ``Plan.for_output`` does for a plan."""
        if not json_may_hold_secret(self.model_dump_json()):
            return self
        return ApplyReport.model_validate(redact_secrets(self.model_dump()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": 1,
            "target": self.target,
            "digest": self.digest,
            "dry_run": self.dry_run,
            **self.approval,
            "summary": {o.value: self.count(o) for o in Outcome},
            "results": [
                {
                    "resource": r.resource.value,
                    "action": r.kind.value,
                    "key": r.key,
                    **(
                        {"userName": self.user_names[r.key]}
                        if r.resource is Resource.USER and r.key in self.user_names
                        else {}
                    ),
                    "id": r.live_id,
                    "outcome": r.outcome.value,
                    "reason": r.reason,
                    **({"adopted": True} if r.adopted else {}),
                    **({"not_synced": True} if r.not_synced else {}),
                    "attempts": r.attempts,
                    "duration_ms": round(r.duration_ms, 1),
                }
                for r in self.results
            ],
            **(
                {"left_for_later": [x.model_dump(mode="json") for x in self.left_for_later]}
                if self.left_for_later
                else {}
            ),
        }
