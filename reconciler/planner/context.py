"""Facts about the target that shape a plan."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlanContext:
    """The target a plan is for, and what its dialect can and cannot do."""

    target: str
    dialect: str  # "atlassian" or "generic"
    token_env: str | None = None  # recorded in the plan by name, for apply --plan

    @property
    def names_immutable(self) -> bool:
        """Group displayNames cannot be changed: a rename is create + move + delete."""
        return self.dialect == "atlassian"

    @property
    def emails_unique(self) -> bool:
        """Two accounts cannot share an email: a held email blocks a create."""
        return self.dialect == "atlassian"
