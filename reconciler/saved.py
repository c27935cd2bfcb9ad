"""Saved plans: apply exactly what was reviewed, or nothing.

``apply --plan plan.json`` must not act on a directory that moved since the plan was
made. ``verify_saved_plan`` re-reads every object the plan touches (and every user
its member changes name) and refuses when any of them changed in any attribute,
appeared or disappeared, or when the plan was made for another target.
"""

from __future__ import annotations

from reconciler.errors import StalePlanError
from reconciler.live import fingerprint
from reconciler.plan import ActionKind, Plan, Resource
from reconciler.scim.client import ScimClient

_TYPE = {Resource.USER: "Users", Resource.GROUP: "Groups"}
_KEY = {Resource.USER: "userName", Resource.GROUP: "displayName"}
MAX_REASONS = 10


def check_plan_target(plan: Plan, target_url: str) -> None:
    """Refuse a plan made for another directory (before anything is opened)."""
    if plan.target != target_url:
        raise StalePlanError(f"the plan was made for {plan.target}, not for {target_url}")


def verify_saved_plan(plan: Plan, client: ScimClient, target_url: str) -> None:
    """Raise ``StalePlanError`` unless the directory is as it was when ``plan`` was made."""
    check_plan_target(plan, target_url)
    reasons: list[str] = []
    referenced: dict[str, str] = {}
    for action in plan.actions:
        what = f"{action.resource.value} {action.key}"
        if action.action is ActionKind.CREATE:
            attribute = _KEY[action.resource]
            if action.resource is Resource.USER and plan.user_key == "externalId":
                attribute = "externalId"
            found = [
                r
                for r in client.find(_TYPE[action.resource], attribute, action.key)
                if str(r.get(attribute, "")).lower() == action.key.lower()
            ]
            if found:
                reasons.append(f"{what} now exists (the plan creates it)")
        elif action.id is not None:
            current = client.get(_TYPE[action.resource], action.id)
            if current is None:
                reasons.append(f"{what} ({action.id}) no longer exists")
            elif fingerprint(current) != action.fingerprint:
                reasons.append(f"{what} changed since the plan was made")
        change = action.member_change
        if change is not None:
            for key in (*change.add, *change.remove):
                if key in plan.user_ids:
                    referenced[key] = plan.user_ids[key]
    touched = {a.id for a in plan.actions if a.id is not None}
    for key, user_id in sorted(referenced.items()):
        if user_id not in touched and client.get("Users", user_id) is None:
            reasons.append(f"user {key} ({user_id}), a member the plan moves, no longer exists")
    if reasons:
        shown = reasons[:MAX_REASONS]
        more = len(reasons) - len(shown)
        tail = f"\n  ... and {more} more" if more else ""
        raise StalePlanError(
            "the saved plan is stale; nothing was sent. Make a new plan.\n  "
            + "\n  ".join(shown)
            + tail
        )
