"""Plans as data: a small closed set of actions, a frozen plan, one JSON form.

A ``Plan`` is what the planner returns and what the executor, the renderers and a
saved ``plan.json`` (``reconciler.saved``) all share. Text and markdown are views
derived from it; the JSON form (docs/design.md "Plan JSON, format version 1") *is* the
plan. Actions are kept in execution order (``PHASES``), then by key, so every view is
stable.

``digest`` covers the target, the actions (with the fingerprint of each live object
an action was planned against), the user ids the actions refer to, the limits the
plan exceeds and everything a reviewer reads beside them (the access review, who an
opaque key is, which existing account a create links to): two plans with the same
digest send the same requests to the same objects in the same state and read the
same. It is a checksum, not a signature: ``apply --plan`` with the files counts the
limits again from the files and the directory, taking nothing from the plan but its
actions.

A plan holds what the directory said, an echoed token included; it leaves the process
only as ``for_output`` makes it, with every remembered secret cut out
(``reconciler.redaction``). The digest covers the plan as it leaves, so a saved plan
reads back with the digest its views showed. A secret may stand only where nothing
is sent from (a ``before``): ``secrets_sent`` names the actions that would send one,
and such a plan is never applied, so nothing that was redacted in review is sent.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

# The parts of one action live in reconciler.action; they are named here too, where
# every reader of a plan has always found them.
from reconciler.action import (
    BASIC_KINDS,
    PHASES,
    Action,
    ActionKind,
    Change,
    Frozen,
    MemberChange,
    OtherMember,
    Resource,
    phase_of,
)
from reconciler.redaction import holds_secret, json_may_hold_secret, redact_secrets

__all__ = [
    "BASIC_KINDS",
    "FORMAT_VERSION",
    "PHASES",
    "AccessChange",
    "Action",
    "ActionKind",
    "Blocked",
    "Change",
    "Holders",
    "LeftAlone",
    "LeftForLater",
    "MemberChange",
    "OtherMember",
    "Plan",
    "PlanWarning",
    "Resource",
    "access_json",
    "phase_of",
]

FORMAT_VERSION = 1


class PlanWarning(Frozen):
    """Something a reviewer must see before approving."""

    key: str
    message: str


class Blocked(Frozen):
    """A safety limit that this plan exceeds."""

    limit: str
    allowed: int
    planned: int
    # Where "allowed" comes from, for a reviewer: "10% of 5 managed memberships".
    basis: str = ""


class LeftAlone(Frozen):
    """Live objects the policy kept out of the plan, counted by reason."""

    resource: Resource
    reason: str
    count: int
    keys: tuple[str, ...] = Field(default=(), description="The first few keys, sorted.")


class AccessChange(Frozen):
    """One person's change of access, as the review shows it (docs/design.md "The access
    review"): computed once by the planner, shown by every view."""

    # The user key; a live person no key names (no externalId under key: externalId)
    # is named by userName.
    key: str
    # The userName beside an opaque key (policy.users.key: externalId), else None.
    userName: str | None = None
    gains: tuple[str, ...] = ()
    loses: tuple[str, ...] = ()
    # Group -> the nested group through which it is gained or was held.
    via: dict[str, str] = Field(default_factory=dict)
    # What happens to the person's access as a whole (deactivated, reactivated, ...).
    status: str | None = None
    # The gained or lost groups that policy.groups.sensitive marks.
    sensitive: tuple[str, ...] = ()


def access_json(change: AccessChange) -> dict[str, Any]:
    """``change.model_dump(mode="json")``, written out: a plan may name 100,000 people."""
    return {
        "key": change.key,
        "userName": change.userName,
        "gains": list(change.gains),
        "loses": list(change.loses),
        "via": dict(change.via),
        "status": change.status,
        "sensitive": list(change.sensitive),
    }


class LeftForLater(Frozen):
    """An action of the plan, or the rest of one, that ``apply --only`` does not send:
    the next plan shows it again (docs/design.md "Partial applies")."""

    resource: Resource
    action: ActionKind
    key: str
    # Part of this action was sent (the memberships of the users asked for); the rest
    # of it (other members, a new name) waits.
    split: bool = False


class Holders(Frozen):
    """How many people hold a sensitive group before and after the plan."""

    group: str
    before: int
    after: int


class Plan(Frozen):
    """The difference between the files and the directory, as actions to take."""

    format_version: Literal[1] = 1
    target: str
    dialect: str
    # How action keys of users are matched: by userName or by externalId.
    user_key: Literal["userName", "externalId"] = "userName"
    # The name (never the value) of the environment variable that holds the target's
    # token, so that `apply --plan` without the files reads the same variable.
    token_env: str | None = None
    actions: tuple[Action, ...] = ()
    warnings: tuple[PlanWarning, ...] = ()
    blocked: tuple[Blocked, ...] = ()
    left_alone: tuple[LeftAlone, ...] = ()
    # Live ids of the existing users that member changes name, by user key.
    user_ids: dict[str, str] = Field(default_factory=dict)
    # The userName of each user key the actions name, where the key is not the
    # userName (policy.users.key: externalId): views show it beside the opaque key.
    user_names: dict[str, str] = Field(default_factory=dict)
    # Groups of the actions that policy.groups.sensitive marks as granting power.
    sensitive_groups: tuple[str, ...] = ()
    # Requests per second the apply will be held to (--rate or the dialect's default),
    # None for no limit: with ``requests``, what the apply costs.
    rate: float | None = None
    # Who gains and who loses access, per person; computed by the planner from the
    # actions and the live memberships (deleted groups, renames, nested groups).
    access: tuple[AccessChange, ...] = ()
    # People holding each sensitive group the plan changes, before and after.
    holders: tuple[Holders, ...] = ()
    # User creates that will link to an account the organisation already manages, by
    # user key: the Atlassian account id (from its users listing; docs/atlassian.md).
    # Review information the app layer adds; a create's request is the same either way.
    existing_accounts: dict[str, str] = Field(default_factory=dict)
    # Narrowed by ``apply --only``: the actions of the plan made from the files that
    # this one does not send. Not covered by the digest, which covers what is sent.
    left_for_later: tuple[LeftForLater, ...] = ()

    @property
    def sensitive_changes(self) -> int:
        """Gains and losses of sensitive groups, one per person and group."""
        return sum(len(change.sensitive) for change in self.access)

    @property
    def requests(self) -> int:
        """Requests the apply sends when nothing is retried, split or taken over after a
        409: one per action, two for a rename by create (create new, delete old)."""
        return sum(2 if a.action is ActionKind.RENAME else 1 for a in self.actions)

    @property
    def summary(self) -> dict[str, int]:
        present = {action.action for action in self.actions}
        counts = {kind.value: 0 for kind in ActionKind if kind in BASIC_KINDS or kind in present}
        for action in self.actions:
            counts[action.action.value] += 1
        return counts

    @property
    def is_empty(self) -> bool:
        return not self.actions

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Plan:
        """A copy with ``update`` applied; its digest is computed anew (never the cached one)."""
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("digest", None)
        return copy

    @functools.cached_property
    def digest(self) -> str:
        """The sha256 of what the plan does and what a reviewer reads (module docstring);
        computed once: the plan is frozen, and large plans are hashed by every view."""
        body = {
            "format_version": self.format_version,
            "target": self.target,
            "user_key": self.user_key,
            "actions": [a.model_dump(mode="json") for a in self.actions],
            "user_ids": dict(sorted(self.user_ids.items())),
            # Covered so that a saved plan cannot be edited past its safety limits.
            "blocked": [b.model_dump(mode="json") for b in self.blocked],
        }
        if self.token_env is not None:
            # Covered: an edited plan must not send another variable's secret.
            body["token_env"] = self.token_env
        # Covered: what a reviewer reads beside the actions (the dialect in the header,
        # who an opaque key is, which groups grant power, who gains and loses access).
        # Left out, and never used to decide anything: warnings, left_alone, cost.
        body["dialect"] = self.dialect
        if self.user_names:
            body["user_names"] = dict(sorted(self.user_names.items()))
        if self.sensitive_groups:
            body["sensitive_groups"] = list(self.sensitive_groups)
        if self.access or self.holders:
            body["access"] = [access_json(a) for a in self.access]
            body["holders"] = [h.model_dump(mode="json") for h in self.holders]
        if self.existing_accounts:  # whose account a new user gets: read beside the creates
            body["existing_accounts"] = dict(sorted(self.existing_accounts.items()))
        # Over the plan as it leaves the process: a plan and its ``for_output`` form,
        # and so a saved plan read back, have the same digest.
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        if json_may_hold_secret(canonical):
            canonical = json.dumps(
                redact_secrets(body), sort_keys=True, separators=(",", ":"), ensure_ascii=True
            )
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    def for_output(self) -> Plan:
        """This plan as views and saved plans show it: every remembered secret cut out
        of its strings (``reconciler.redaction``). Its digest is this plan's."""
        if not json_may_hold_secret(self.model_dump_json()):
            return self  # one quick pass: nearly every plan holds no secret
        return Plan.model_validate(redact_secrets(self.model_dump()))

    def secrets_sent(self) -> tuple[str, ...]:
        """Keys of the actions whose requests would carry a remembered secret: in the
        key, id, version, an attribute's path or new value, or a member moved.

        Only a server that serves the token back (as an id, an ETag, a userName) or
        files that hold it make one; views and saved plans show such a plan redacted,
        so it must never be applied.
        """
        include = {"actions", "user_ids"}
        exclude = {"actions": {"__all__": {"changes": {"__all__": {"before"}}}}}
        if not json_may_hold_secret(self.model_dump_json(include=include, exclude=exclude)):
            return ()  # one quick pass: nearly every plan holds no secret
        sent = self.model_dump(mode="json", include=include, exclude=exclude)
        found = [a["key"] for a in sent["actions"] if holds_secret(a)]
        found += [k for k, v in self.user_ids.items() if holds_secret([k, v])]
        return tuple(dict.fromkeys(found))

    def to_dict(self, *, access: bool = True) -> dict[str, Any]:
        """The plan JSON of docs/design.md, keys in contract order. ``access=False``
        leaves the access review's list empty, for a writer that writes it from
        ``self.access`` itself (``render.json``: a plan may name 100,000 people)."""
        return {
            "format_version": self.format_version,
            "target": self.target,
            "dialect": self.dialect,
            "user_key": self.user_key,
            **({"token_env": self.token_env} if self.token_env is not None else {}),
            "digest": self.digest,
            "summary": self.summary,
            "actions": [a.model_dump(mode="json") for a in self.actions],
            "warnings": [w.model_dump(mode="json") for w in self.warnings],
            "blocked": [b.model_dump(mode="json") for b in self.blocked],
            "left_alone": [x.model_dump(mode="json") for x in self.left_alone],
            **(
                {"left_for_later": [x.model_dump(mode="json") for x in self.left_for_later]}
                if self.left_for_later
                else {}
            ),
            "user_ids": dict(sorted(self.user_ids.items())),
            "user_names": dict(sorted(self.user_names.items())),
            "existing_accounts": dict(sorted(self.existing_accounts.items())),
            "sensitive_groups": list(self.sensitive_groups),
            "cost": {"requests": self.requests, "rate": self.rate},
            "access": [access_json(a) for a in self.access] if access else [],
            "holders": [h.model_dump(mode="json") for h in self.holders],
            "sensitive_changes": self.sensitive_changes,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
