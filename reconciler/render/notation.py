"""How plan items are written in every human view: symbols, labels, values, counts.

Text and markdown must say the same thing about an action, so the words live here
once. Keys and values come from the files or from the directory and are untrusted:
``printable`` turns control and format characters into visible escapes, so that a
displayName cannot recolour or clear a terminal, reorder what a reviewer reads (bidi
overrides) or start a new line that looks like another action.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Collection, Mapping
from typing import Any

from reconciler.itemdiff import describe, item_changes
from reconciler.plan import (
    Action,
    ActionKind,
    Change,
    LeftAlone,
    LeftForLater,
    OtherMember,
    Plan,
    Resource,
)
from reconciler.render.access import person
from reconciler.report import ApplyReport, Outcome
from reconciler.wording import plural

# Terraform's symbols, which reviewers already read. An adopt changes an account that
# exists in place, as Terraform marks an import that changes its object (``~``); its
# label names it and the line below it says whose account it takes over. A rename is
# Terraform's "create replacement, then destroy" (``+/-``, where ``-/+`` would destroy
# first): the new group exists with its members before the old one goes, so nobody
# loses a group's access in between.
SYMBOL: dict[ActionKind, str] = {
    ActionKind.CREATE: "+",
    ActionKind.UPDATE: "~",
    ActionKind.REACTIVATE: "~",
    ActionKind.DEACTIVATE: "-",
    ActionKind.DELETE: "-",
    ActionKind.ADOPT: "~",
    ActionKind.RENAME: "+/-",
}

# Members listed per direction (added, removed) for one group. A cap per direction,
# not per group, so that a handful of removals is never hidden behind 20,000 adds.
MEMBERS_SHOWN = 50

# Keys a view lists per left-alone reason: a few in the terminal, more in a review
# comment; the plan keeps more (planner.LEFT_ALONE_KEYS_KEPT), and the count beside
# them is always complete.
LEFT_ALONE_KEYS_SHOWN_IN_TEXT = 5
LEFT_ALONE_KEYS_SHOWN_IN_MARKDOWN = 10

SANDBOX_NOTE = "The target is the local embedded sandbox, not a real directory."
DRY_RUN_NOTE = "Dry run: nothing was sent to the directory; outcomes show what an apply would do."
NO_CHANGES = "No changes. The directory matches the files."
NO_CHANGES_WITH_WARNINGS = "No changes planned, but read the warnings above."
LEFT_FOR_LATER_HEADING = "Left for a later run (not asked for by --only):"

# Categories whose characters are invisible or move the cursor: controls (Cc),
# format characters such as bidi overrides and zero-width joiners (Cf), and the
# Unicode line and paragraph separators (Zl, Zp); and lone surrogates (Cs), which
# JSON can carry but no UTF-8 stream can write.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def printable(text: str) -> str:
    """``text`` on one line with every invisible or control character made visible."""
    if text.isprintable():  # fast path; str.isprintable() is False for all of the above
        return text
    out: list[str] = []
    for char in text:
        if unicodedata.category(char) in _HIDDEN_CATEGORIES:
            code = ord(char)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out)


def format_value(value: Any) -> str:
    """An attribute value as a reviewer reads it: ``(none)`` or one-line compact JSON.

    JSON keeps the type visible (``"1001"`` versus ``1001``, ``true`` versus
    ``"true"``) and quotes strings, so leading and trailing spaces show.
    """
    if value is None:
        return "(none)"
    return printable(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def action_label(
    action: Action, user_names: Mapping[str, str] | None = None, *, sensitive: bool = False
) -> str:
    """``user alice@example.com``, ``group old-team (delete)``, ``group ops -> team (rename)``.

    Create and update read naturally from the symbol alone; every other kind names
    itself, because ``~`` and ``-`` each stand for several kinds. A user under an
    opaque key has its userName beside it (``user E1001 (alice@example.com)``).
    ``sensitive``: the group is one policy.groups.sensitive marks
    (``group site-admins (sensitive)``, ``group admins (delete, sensitive)``).
    """
    key = printable(action.key)
    if action.resource is Resource.USER and user_names:
        key = printable(person(action.key, user_names.get(action.key)))
    old_name = renamed_from(action)
    if old_name is not None:
        key = f"{printable(old_name)} -> {key}"
    label = f"{action.resource.value} {key}"
    notes = [] if action.action in (ActionKind.CREATE, ActionKind.UPDATE) else [action.action.value]
    if sensitive:
        notes.append("sensitive")
    return f"{label} ({', '.join(notes)})" if notes else label


def sensitive_group_action(action: Action, sensitive_groups: Collection[str]) -> bool:
    """Whether the action is on a group that policy.groups.sensitive marks (a rename:
    under its old or its new name); ``sensitive_groups`` is the plan's."""
    if action.resource is not Resource.GROUP or not sensitive_groups:
        return False
    return action.key in sensitive_groups or renamed_from(action) in sensitive_groups


def existing_account(action: Action, accounts: Mapping[str, str] | None) -> str | None:
    """The account a user create will link to (``Plan.existing_accounts``), if any."""
    if action.resource is not Resource.USER or action.action is not ActionKind.CREATE:
        return None
    return (accounts or {}).get(action.key)


def renamed_from(action: Action) -> str | None:
    """The old name of a group a rename replaces (its displayName before)."""
    if action.action is not ActionKind.RENAME:
        return None
    for change in action.attribute_changes:
        if change.path == "displayName" and isinstance(change.before, str):
            return change.before
    return None


def adopt_sentence(action: Action, name: Callable[[str], str], ident: Callable[[str], str]) -> str:
    """Whose account an adopt takes over, and plainly whether it reactivates it.

    The account is named by its live userName when the adopt changes it (the
    ``before``), and by its id, which is the one name that survives the takeover.
    """
    held = next((c.before for c in action.attribute_changes if c.path == "userName"), None)
    account = "the existing account"
    if isinstance(held, str):
        account += f" {name(held)}"
    if action.id:
        account += f" ({ident(action.id)})" if isinstance(held, str) else f" {ident(action.id)}"
    active = next((c for c in action.attribute_changes if c.path == "active"), None)
    if active is not None and active.after is True:
        return f"takes over {account} and reactivates it"
    if active is not None and active.after is False:
        return f"takes over {account} and deactivates it"
    return f"takes over {account}; does not reactivate it"


def rename_sentence(action: Action, name: Callable[[str], str], ident: Callable[[str], str]) -> str:
    """How a rename is done on a target whose group names cannot change."""
    old = renamed_from(action)
    members = action.member_change
    count = len(members.add) if members is not None else 0
    old_group = f"group {name(old)}" if old is not None else "the old group"
    if action.id:
        old_group += f" ({ident(action.id)})"
    return (
        f"done as: create group {name(action.key)}, move {plural(count, 'member')} into it, "
        f"delete {old_group}"
    )


def item_lines(change: Change) -> list[str] | None:
    """A multi-valued change item by item (``+ {...}``, ``~ a@x: ...``), or None.

    None when the change is not one of a multi-valued attribute or its values are
    not lists of items: it is then shown whole, ``before -> after``.
    """
    items = item_changes(change.path, change.before, change.after)
    if not items:
        return None
    return [describe(item, format_value, printable) for item in items]


def summary_line(plan: Plan) -> str:
    """The closing line of a plan; its wording is a public contract (docs/design.md "CLI")."""
    later = len(plan.left_for_later)
    if plan.is_empty and later:  # narrowed by --only: the directory does not match
        return (
            f"No changes in what --only asked for; {plural(later, 'action')} left for a later run."
        )
    if plan.is_empty:
        # With warnings, the files and the directory may still disagree (a live key
        # shared by two users, say): "matches" would be a claim we cannot make.
        return NO_CHANGES_WITH_WARNINGS if plan.warnings else NO_CHANGES
    counts = plan.summary
    parts = ", ".join(f"{count} to {kind}" for kind, count in counts.items())
    sensitive = plan.sensitive_changes
    if sensitive:
        parts += f"; {plural(sensitive, 'sensitive change')}"
    if later:
        parts += f"; {later} left for a later run"
    return f"Plan: {parts}."


def left_for_later_label(entry: LeftForLater, user_names: Mapping[str, str]) -> str:
    """``~ group engineering (update, the rest of it)``: an action ``--only`` did not send."""
    key = entry.key
    if entry.resource is Resource.USER:
        key = person(entry.key, user_names.get(entry.key))
    rest = ", the rest of it" if entry.split else ""
    return (
        f"{SYMBOL[entry.action]} {entry.resource.value} {printable(key)} "
        f"({entry.action.value}{rest})"
    )


def left_for_later_recap(count: int) -> str:
    """The apply report's line about what ``--only`` left (the plan above lists it)."""
    return (
        f"Left for a later run: {plural(count, 'action')} that --only did not ask for; "
        "the next plan shows them."
    )


def member_name(key: str, user_names: Mapping[str, str]) -> str:
    """A member as the views list it: the key, with the userName beside an opaque one."""
    return person(key, user_names.get(key))


def other_member_name(other: OtherMember) -> str:
    """A member that is not a user: ``group helpers (g-7)``, or its id and what it is."""
    if other.group is not None:
        return f"group {other.group} ({other.id})"
    return f"{other.id} (no user or group of the directory)"


def cost_line(plan: Plan) -> str:
    """``Cost: 1,204 requests, about 2 min at 10 req/s.`` (no time without a rate)."""
    count = plan.requests
    requests = f"{count:,} request" + ("" if count == 1 else "s")
    if not plan.rate:
        return f"Cost: {requests}, no rate limit."
    about = _duration(count / plan.rate)
    return f"Cost: {requests}, about {about} at {plan.rate:g} req/s."


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def report_summary_line(report: ApplyReport) -> str:
    """The closing line of an apply report."""
    parts = ", ".join(f"{report.count(outcome)} {outcome.value}" for outcome in Outcome)
    if report.dry_run:
        return f"Dry run: {parts.replace(Outcome.APPLIED.value, 'would apply')}; nothing was sent."
    return f"Apply: {parts}."


def left_alone_keys(
    entry: LeftAlone, shown: int, user_names: Mapping[str, str] | None = None
) -> tuple[list[str], int]:
    """The first keys of a left-alone entry and how many of its objects go unnamed."""
    names = user_names if user_names and entry.resource is Resource.USER else {}
    keys = [printable(member_name(key, names)) for key in entry.keys[:shown]]
    return keys, max(entry.count - len(keys), 0)
