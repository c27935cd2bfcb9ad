"""Saved plans: apply exactly what was reviewed, or nothing.

``apply --plan plan.json`` must not act on a directory that moved since the plan was
made. ``verify_saved_plan`` re-reads every object the plan touches (and every user
its member changes name) and refuses when any of them changed in any attribute,
appeared or disappeared, or when the plan was made for another target.

A refusal says what changed where the plan can tell: each action recorded the
``before`` of every attribute it changes, and a group update which members it adds
and removes, so a re-read object is compared with those (multi-valued attributes
item by item). Any other difference is named as one the plan does not change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler.errors import ProtocolError, StalePlanError
from reconciler.itemdiff import describe, item_changes
from reconciler.live import LiveGroup, LiveUser, fingerprint
from reconciler.plan import Action, ActionKind, Plan, Resource
from reconciler.scim.client import ScimClient
from reconciler.scim.lookup import find_by_key

_TYPE = {Resource.USER: "Users", Resource.GROUP: "Groups"}
MAX_REASONS = 10


def check_plan_target(plan: Plan, target_url: str) -> None:
    """Refuse a plan made for another directory (before anything is opened)."""
    if plan.target != target_url:
        raise StalePlanError(f"the plan was made for {plan.target}, not for {target_url}")


STALE = "the saved plan is stale; nothing was sent. Make a new plan."


def verify_saved_plan(
    plan: Plan, client: ScimClient, target_url: str, *, headline: str = STALE
) -> None:
    """Raise ``StalePlanError`` (``headline`` and the reasons) unless the directory is as it
    was when ``plan`` was made."""
    check_plan_target(plan, target_url)
    reasons: list[str] = []
    referenced: dict[str, str] = {}
    for action in plan.actions:
        reasons += _action_reasons(plan, action, client)
        change = action.member_change
        if change is not None:
            for key in (*change.add, *change.remove):
                if key in plan.user_ids:
                    referenced[key] = plan.user_ids[key]
    touched = {a.id for a in plan.actions if a.id is not None}
    for key, user_id in sorted(referenced.items()):
        if user_id not in touched and client.get("Users", user_id) is None:
            reasons.append(
                f"user {_text(key)} ({_text(user_id)}), a member the plan moves, no longer exists"
            )
    if reasons:
        shown = reasons[:MAX_REASONS]
        more = len(reasons) - len(shown)
        tail = f"\n  ... and {more} more" if more else ""
        raise StalePlanError(headline + "\n  " + "\n  ".join(shown) + tail)


def _action_reasons(plan: Plan, action: Action, client: ScimClient) -> list[str]:
    """Why one action no longer fits the directory; empty when it still does."""
    reasons: list[str] = []
    if action.action in (ActionKind.CREATE, ActionKind.RENAME) and _exists(plan, action, client):
        verb = "creates it" if action.action is ActionKind.CREATE else "renames a group to it"
        reasons.append(f"{action.resource.value} {_text(action.key)} now exists (the plan {verb})")
    if action.action is ActionKind.CREATE or action.id is None:
        return reasons
    current = client.get(_TYPE[action.resource], action.id)
    if current is None:
        reasons.append(f"{_subject(action)} ({_text(action.id)}) no longer exists")
    elif fingerprint(current) != action.fingerprint:
        reasons.append(_changed(plan, action, current))
    return reasons


def _subject(action: Action) -> str:
    """``user alice@example.com``; a rename as the views label it, ``group old -> new``."""
    subject = f"{action.resource.value} {_text(action.key)}"
    if action.action is ActionKind.RENAME:
        for change in action.attribute_changes:
            if change.path == "displayName" and isinstance(change.before, str):
                return f"{action.resource.value} {_text(change.before)} -> {_text(action.key)}"
    return subject


def _exists(plan: Plan, action: Action, client: ScimClient) -> bool:
    """Whether an object with the key the action creates is in the directory now."""
    by_external_id = action.resource is Resource.USER and plan.user_key == "externalId"
    attribute = "externalId" if by_external_id else None
    return find_by_key(client, _TYPE[action.resource], action.key, attribute) is not None


def _changed(plan: Plan, action: Action, current: Mapping[str, Any]) -> str:
    """What changed in a re-read object, as far as the plan recorded it."""
    head = f"{_subject(action)} changed since the plan was made"
    try:
        if action.resource is Resource.USER:
            found = _user_differences(action, LiveUser.from_scim(current))
        else:
            found = _group_differences(plan, action, LiveGroup.from_scim(current))
    except ProtocolError:  # not even a readable object any more: say only that it changed
        return head
    if found:
        return f"{head}: " + "; ".join(found)
    what = "an attribute or member" if action.member_change is not None else "an attribute"
    return f"{head}, in {what} the plan does not change"


def _user_differences(action: Action, user: LiveUser) -> list[str]:
    found: list[str] = []
    for change in action.attribute_changes:
        if change.path == "active":
            now: Any = user.active
        elif change.path in user.attributes:
            now = user.attributes[change.path]
        else:
            continue  # a path this version cannot read back; the fingerprint still counts
        if now != change.before:
            found.append(_difference(change.path, change.before, now))
    return found


def _group_differences(plan: Plan, action: Action, group: LiveGroup) -> list[str]:
    found = [
        _difference(change.path, change.before, group.displayName)
        for change in action.attribute_changes
        if change.path == "displayName" and change.before != group.displayName
    ]
    members = action.member_change
    if members is None:
        return found
    # A rename adds members to its new group, which the old one may already have;
    # what it removes are members of the old group that the new one does not get.
    for key in members.add if action.action is not ActionKind.RENAME else ():
        if plan.user_ids.get(key) in group.member_ids:
            found.append(f"{_text(key)} is a member now (the plan adds it)")
    for key in members.remove:
        user_id = plan.user_ids.get(key)
        if user_id is not None and user_id not in group.member_ids:
            found.append(f"{_text(key)} is no longer a member (the plan removes it)")
    for other in members.remove_other:
        if other.id not in group.member_ids:
            what = f"group {_text(other.group)}" if other.group is not None else _text(other.id)
            found.append(f"{what} is no longer a member (the plan removes it)")
    return found


def _difference(path: str, before: Any, now: Any) -> str:
    """``displayName was "Alice" when planned, now "Alicia"``, item by item where it can."""
    items = item_changes(path, before, now)
    if items:
        listed = ", ".join(describe(item, _value, _text) for item in items)
        return f"{_text(path)} since planned: {listed}"
    return f"{_text(path)} was {_value(before)} when planned, now {_value(now)}"


def _value(value: Any) -> str:
    """A value as the plan views write it: ``(none)`` or one-line compact JSON."""
    if value is None:
        return "(none)"
    return _text(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _text(text: str) -> str:
    """Text from the directory or a file with invisible and control characters escaped.

    The render layer's ``printable`` does the same for the plan views; this module may
    not import it (the layers), and an error message must not move a terminal either.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else f"\\u{ord(c):04x}" for c in text)
