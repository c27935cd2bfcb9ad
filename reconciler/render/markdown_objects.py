"""One object of a markdown plan, and the escaping of everything untrusted in it.

Every key and value from the files or the directory is untrusted. ``escaped`` writes
the characters that markdown or HTML treat as syntax as character references, so a
displayName cannot split a table row, close a ``<details>`` or inject a tag; ``code``
also wraps the value in ``<code>``, inside which code hosts link no @mentions or
issue references.

An object is a block that the comment's size logic (``markdown``) keeps or leaves
out whole: a heading, for an adopt or a rename the sentence saying what it does,
a table of attributes (multi-valued ones item by item) and the members it moves.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.itemdiff import item_changes
from reconciler.plan import Action, ActionKind, Change, Resource
from reconciler.render.notation import (
    MEMBERS_SHOWN,
    adopt_sentence,
    existing_account,
    format_value,
    member_name,
    other_member_name,
    printable,
    rename_sentence,
    renamed_from,
)

VALUE_CHARS = 200  # of one attribute value; the JSON plan has the rest
MESSAGE_CHARS = 500  # of one warning or left-alone reason

_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "|": "&#124;",
        "`": "&#96;",
        "\\": "&#92;",
        "*": "&#42;",
        "_": "&#95;",
        "[": "&#91;",
        "]": "&#93;",
        "~": "&#126;",
        "$": "&#36;",  # GitHub renders $…$ as math
    }
)


def escaped(value: str, limit: int = MESSAGE_CHARS) -> str:
    """Untrusted text, on one line, clipped, with markdown and HTML syntax escaped."""
    return _clip(printable(value), limit).translate(_ESCAPES)


def code(value: str, limit: int = MESSAGE_CHARS) -> str:
    """Untrusted text as inline code that links nothing."""
    return f"<code>{escaped(value, limit)}</code>"


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _value(value: object) -> str:
    return "<em>(none)</em>" if value is None else code(format_value(value), VALUE_CHARS)


def object_block(
    action: Action,
    user_names: Mapping[str, str] | None = None,
    accounts: Mapping[str, str] | None = None,
    *,
    sensitive: bool = False,
) -> str:
    """The markdown of one action, ending with a blank line; ``accounts``: the plan's
    ``existing_accounts``, said under a create that links to one; ``sensitive``: a group
    that policy.groups.sensitive marks, flagged in its heading."""
    names = user_names or {}
    heading = _object_heading(action, names)
    if sensitive:
        heading += " **(sensitive)**"
    lines = [heading, ""]
    account = existing_account(action, accounts)
    if account is not None:
        lines += [f"Links to the existing Atlassian account {code(account)}.", ""]
    if action.action is ActionKind.ADOPT:
        lines += [_sentence(adopt_sentence(action, code, code)), ""]
    elif action.action is ActionKind.RENAME:
        lines += [_sentence(rename_sentence(action, code, code)), ""]
    changes = action.attribute_changes
    if changes and action.action is ActionKind.CREATE:
        lines += ["| Attribute | Value |", "|---|---|"]
        lines += [f"| {code(c.path)} | {row[2]} |" for c in changes for row in _rows(c)]
        lines.append("")
    elif changes:
        lines += ["| Attribute | Before | After |", "|---|---|---|"]
        lines += [f"| {row[0]} | {row[1]} | {row[2]} |" for c in changes for row in _rows(c)]
        lines.append("")
    members = action.member_change
    if members is not None:
        added = "moved" if action.action is ActionKind.RENAME else "added"
        others = [other_member_name(o) for o in members.remove_other]
        for verb, keys in (
            (added, members.add),
            ("removed that are not users", others),
            ("removed", members.remove),
        ):
            if keys:
                listed = ", ".join(code(member_name(k, names)) for k in keys[:MEMBERS_SHOWN])
                more = len(keys) - MEMBERS_SHOWN
                lines += [
                    f"Members {verb} ({len(keys)}): {listed}"
                    + (f", … {more} more" if more > 0 else ""),
                    "",
                ]
    return "\n".join(lines) + "\n"


def _object_heading(action: Action, user_names: Mapping[str, str]) -> str:
    key = action.key
    if action.resource is Resource.USER:
        key = member_name(key, user_names)
    heading = f"**{action.resource.value}** {code(key)}"
    old_name = renamed_from(action)
    if old_name is not None:
        heading = f"**{action.resource.value}** {code(old_name)} → {code(action.key)}"
    if action.action in (ActionKind.ADOPT, ActionKind.RENAME):
        heading += f" ({action.action.value})"
    return heading


def _sentence(words: str) -> str:
    return words[:1].upper() + words[1:] + "."


def _rows(change: Change) -> list[tuple[str, str, str]]:
    """Table cells (attribute, before, after): one row, or one per item of a multi-valued one.

    An added or removed item is shown whole; a changed one by its value and the
    fields that change, so that a reviewer sees what moves without comparing lists.
    """
    path = code(change.path)
    items = item_changes(change.path, change.before, change.after)
    if not items:
        return [(path, _value(change.before), _value(change.after))]
    rows: list[tuple[str, str, str]] = []
    for item in items:
        if item.op == "add":
            rows.append((f"{path} added", _value(None), _value(item.after)))
        elif item.op == "remove":
            rows.append((f"{path} removed", _value(item.before), _value(None)))
        else:
            before = {"value": item.value} | {f.name: f.before for f in item.fields}
            after = {"value": item.value} | {f.name: f.after for f in item.fields}
            rows.append((f"{path} changed", _value(before), _value(after)))
    return rows
