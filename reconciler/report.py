"""What an apply did: one outcome for every action of the plan."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from reconciler.plan import Action


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


class ApplyReport(BaseModel):
    """Every action's outcome, in plan order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: str
    digest: str
    dry_run: bool
    results: tuple[ActionResult, ...] = ()

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def ok(self) -> bool:
        return all(r.outcome is Outcome.APPLIED for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": 1,
            "target": self.target,
            "digest": self.digest,
            "dry_run": self.dry_run,
            "summary": {o.value: self.count(o) for o in Outcome},
            "results": [
                {
                    "resource": r.action.resource.value,
                    "action": r.action.action.value,
                    "key": r.action.key,
                    "id": r.id if r.id is not None else r.action.id,
                    "outcome": r.outcome.value,
                    "reason": r.reason,
                    "attempts": r.attempts,
                    "duration_ms": round(r.duration_ms, 1),
                }
                for r in self.results
            ],
        }
