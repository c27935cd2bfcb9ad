"""One action of a plan: what it does, to which object, in which phase.

The vocabulary a ``Plan`` (``reconciler.plan``) is made of, Terraform's
``plans/action.go`` and ``changes.go``: the closed set of action kinds, the order the
executor runs them in (``PHASES``), and the ``Action`` with its attribute and member
changes. Every view, the executor and the saved plan JSON read these; they are frozen.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer


class Frozen(BaseModel):
    """A frozen model that refuses unknown keys: every part of a plan is one."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Resource(StrEnum):
    """The kind of object an action changes."""

    USER = "user"
    GROUP = "group"


class ActionKind(StrEnum):
    """What an action does to its object."""

    CREATE = "create"
    UPDATE = "update"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    DELETE = "delete"
    # Take over an existing live account that the files describe under another
    # identity (its userName or email is held); counted by ``max_adoptions``.
    ADOPT = "adopt"
    # A group rename on a target whose names are immutable (Atlassian): create the
    # group under its new name with the members, then delete the old group.
    RENAME = "rename"


# The kinds every plan summary lists, even at zero (the plan JSON contract); the
# others are listed when a plan has them.
BASIC_KINDS: tuple[ActionKind, ...] = (
    ActionKind.CREATE,
    ActionKind.UPDATE,
    ActionKind.DEACTIVATE,
    ActionKind.REACTIVATE,
    ActionKind.DELETE,
)


# Execution order (docs/design.md "Data flow", Execute): users exist before groups reference them,
# memberships move before anyone is deactivated, groups are deleted last.
PHASES: tuple[tuple[Resource, frozenset[ActionKind]], ...] = (
    (Resource.USER, frozenset({ActionKind.CREATE})),
    (Resource.USER, frozenset({ActionKind.UPDATE, ActionKind.REACTIVATE, ActionKind.ADOPT})),
    (Resource.GROUP, frozenset({ActionKind.CREATE, ActionKind.RENAME})),
    (Resource.GROUP, frozenset({ActionKind.UPDATE})),
    (Resource.USER, frozenset({ActionKind.DEACTIVATE})),
    (Resource.GROUP, frozenset({ActionKind.DELETE})),
)


def phase_of(resource: Resource, action: ActionKind) -> int:
    """The position of an action kind in the execution order."""
    for index, (phase_resource, kinds) in enumerate(PHASES):
        if phase_resource == resource and action in kinds:
            return index
    raise ValueError(f"no phase for {resource} {action}")


class Change(Frozen):
    """One attribute of one object, before and after; ``None`` is absent."""

    path: str
    before: Any = None
    after: Any = None
    # A removal of department or organization where the dialect writes them at the top
    # level (Atlassian): where the live value sat, "top_level", "extension" or "both", so
    # each removal goes only where a value is (docs/design.md "Plan JSON"). Left out of
    # the JSON when None, so other changes, and plans from before, keep their form.
    held: Literal["top_level", "extension", "both"] | None = Field(
        default=None, exclude_if=lambda held: held is None
    )


class OtherMember(Frozen):
    """A live member of a group that is not a user: a nested group, or an unknown id."""

    id: str
    # The nested group's displayName; None when the id names nothing the read found.
    group: str | None = None


class MemberChange(Frozen):
    """Members a group gains and loses, by user key."""

    path: Literal["members"] = "members"
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    # Live members that are not users, removed by id (policy.groups.members:
    # authoritative). Left out of the JSON when empty, so plans without any keep
    # the form (and digest) they always had.
    remove_other: tuple[OtherMember, ...] = ()

    @model_serializer(mode="wrap")
    def _without_empty_other(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if not self.remove_other:
            data.pop("remove_other", None)
        return data

    @property
    def removes(self) -> int:
        """Members removed, users and others."""
        return len(self.remove) + len(self.remove_other)


class Action(Frozen):
    """One change to one object."""

    resource: Resource
    action: ActionKind
    key: str
    id: str | None = None
    changes: tuple[Change | MemberChange, ...] = ()
    # sha256 of the live object this action was planned against (None for creates).
    # A saved plan is stale when a re-read object no longer has this fingerprint.
    fingerprint: str | None = None
    # The live object's ETag when the server has them: writes send it as If-Match,
    # so a change made by someone else after the read fails the action (412).
    version: str | None = None

    @property
    def phase(self) -> int:
        return phase_of(self.resource, self.action)

    @property
    def attribute_changes(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if isinstance(c, Change))

    @property
    def member_change(self) -> MemberChange | None:
        for change in self.changes:
            if isinstance(change, MemberChange):
                return change
        return None
