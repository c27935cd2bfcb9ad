"""Facts about the target that shape a plan."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.dialect import Dialect, DirectoryCaps, dialect_named


@dataclass(frozen=True, slots=True)
class PlanContext:
    """The target a plan is for, and what its dialect can and cannot do.

    ``dialect`` may be given by name (``"atlassian"``, ``"generic"``), as a saved plan
    records it; it is held as the ``Dialect`` of that name. ``caps`` are the
    directory's size caps, the dialect's unless given (the files' ``target.caps``).
    """

    target: str
    dialect: Dialect
    token_env: str | None = None  # recorded in the plan by name, for apply --plan
    rate: float | None = None  # requests per second the apply will be held to
    caps: DirectoryCaps | None = None  # None: the target publishes none

    def __init__(
        self,
        target: str,
        dialect: Dialect | str,
        token_env: str | None = None,
        rate: float | None = None,
        caps: DirectoryCaps | None = None,
    ) -> None:
        object.__setattr__(self, "target", target)
        named = dialect_named(dialect) if isinstance(dialect, str) else dialect
        object.__setattr__(self, "dialect", named)
        object.__setattr__(self, "token_env", token_env)
        object.__setattr__(self, "rate", rate)
        object.__setattr__(self, "caps", caps if caps is not None else named.caps)

    @property
    def names_immutable(self) -> bool:
        """Group displayNames cannot be changed: a rename is create + move + delete."""
        return self.dialect.names_immutable

    @property
    def emails_unique(self) -> bool:
        """Two accounts cannot share an email: a held email blocks a create."""
        return self.dialect.emails_unique
