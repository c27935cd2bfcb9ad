"""Saved plans (``plan --out``, ``apply --plan``): the file, and apply exactly what was
reviewed, or nothing.

**The file** (Terraform's ``planfile``). ``saved_form`` is what ``plan --out`` writes:
the plan JSON of docs/design.md, the same bytes as ``plan --format json``, of the plan
as it leaves the process (``Plan.for_output``). ``read_plan`` reads it back as data,
not through a view: it takes off the keys that are derived from the plan (``DERIVED``:
the ``digest``, the ``summary``, the ``cost``'s ``requests``, ``sensitive_changes`` and
each change's ``items``), validates the rest as a ``Plan`` (unknown keys refused), and
refuses a file whose digest is not the plan's, or whose ``items`` do not follow from
``before`` and ``after``: the file was edited or damaged.

**Stale plans.** ``apply --plan plan.json`` must not act on a directory that moved
since the plan was made. ``verify_saved_plan`` re-reads every object the plan touches
(and every user its member changes name) and refuses when any of them changed in any
attribute, appeared or disappeared, or when the plan was made for another target.

A refusal says what changed where the plan can tell: each action recorded the
``before`` of every attribute it changes, and a group update which members it adds
and removes, so a re-read object is compared with those (multi-valued attributes
item by item). Any other difference is named as one the plan does not change.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reconciler.errors import ConfigError, ProtocolError, StalePlanError
from reconciler.itemdiff import describe, item_changes, items_json
from reconciler.live import LiveGroup, LiveUser, fingerprint
from reconciler.plan import FORMAT_VERSION, Action, ActionKind, Change, Plan, Resource
from reconciler.render.json import ITEMS_KEY, render_plan_json
from reconciler.scim.client import ScimClient
from reconciler.scim.lookup import find_by_key

# Keys of the plan JSON that are worked out from the plan, not held by it: taken off
# when a saved plan is read (``cost`` gives back its ``rate``, which the plan holds).
DERIVED = ("digest", "summary", "cost", "sensitive_changes")
PLAN_FILE = "plan.json"  # the name ``plan --out DIR/`` writes inside a directory


def saved_form(plan: Plan) -> str:
    """The text of a saved plan: its plan JSON, without secrets (``Plan.for_output``),
    so it reads back with the digest its views showed."""
    return render_plan_json(plan.for_output())


def plan_path(out: str | Path) -> Path:
    """Where ``plan --out PATH`` writes: PATH, or ``plan.json`` inside a directory: one
    that exists there, or PATH as typed ending in a separator (``saved/``, created)."""
    typed = str(out)  # a Path drops the trailing separator: pass the text as typed
    path = Path(typed)
    if path.is_dir() or typed.endswith(("/", os.sep)):
        return path / PLAN_FILE
    return path


def read_plan_file(path: Path) -> Plan:
    """The saved plan at ``path`` (``read_plan``); a file that cannot be read is a
    ``ConfigError``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the plan {path}: {exc}") from exc
    return read_plan(text, source=str(path))


def read_plan(text: str, *, source: str = "plan") -> Plan:
    """A saved plan from its text; refuses one edited after it was written (module
    docstring). ``source`` names it in messages."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: not a JSON plan: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: not a JSON plan object")
    if data.get("format_version") != FORMAT_VERSION:
        raise ConfigError(f"{source}: plan format_version must be {FORMAT_VERSION}")
    derived = {key: data.pop(key) for key in DERIVED if key in data}
    items = _take_items(data)
    cost = derived.get("cost")
    if isinstance(cost, dict) and "rate" in cost:
        data["rate"] = cost["rate"]
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: not a valid plan: {exc}") from exc
    if derived.get("digest") != plan.digest:
        raise ConfigError(
            f"{source}: the digest does not match the actions; the file was edited or damaged"
        )
    for (index, position), written in items.items():
        change = plan.actions[index].changes[position]
        if not isinstance(change, Change) or written != items_json(
            change.path, change.before, change.after
        ):
            raise ConfigError(
                f"{source}: the items of a change of {plan.actions[index].key} do not follow "
                "from its before and after; the file was edited or damaged"
            )
    return plan


def _take_items(data: dict[str, Any]) -> dict[tuple[int, int], Any]:
    """Take every change's ``items`` off parsed plan JSON; what was there, by position."""
    taken: dict[tuple[int, int], Any] = {}
    actions = data.get("actions")
    for index, action in enumerate(actions if isinstance(actions, list) else []):
        changes = action.get("changes") if isinstance(action, dict) else None
        for position, change in enumerate(changes if isinstance(changes, list) else []):
            if isinstance(change, dict) and ITEMS_KEY in change:
                taken[index, position] = change.pop(ITEMS_KEY)
    return taken


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
