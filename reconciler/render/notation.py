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
from typing import Any

from reconciler.plan import Action, ActionKind, LeftAlone, Plan
from reconciler.report import ApplyReport, Outcome

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

# Keys listed per left-alone reason; the count beside them is always complete.
LEFT_ALONE_KEYS_SHOWN = 5

SANDBOX_NOTE = "The target is the local embedded sandbox, not a real directory."
DRY_RUN_NOTE = "Dry run: nothing was sent to the directory; outcomes show what an apply would do."
NO_CHANGES = "No changes. The directory matches the files."
NO_CHANGES_WITH_WARNINGS = "No changes planned, but read the warnings above."

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


def action_label(action: Action) -> str:
    """``user alice@example.com`` or ``group old-team (delete)``.

    Create and update read naturally from the symbol alone; every other kind names
    itself, because ``~`` and ``-`` each stand for two kinds.
    """
    label = f"{action.resource.value} {printable(action.key)}"
    if action.action in (ActionKind.CREATE, ActionKind.UPDATE):
        return label
    return f"{label} ({action.action.value})"


def plural(count: int, noun: str) -> str:
    """``1 user``, ``2 users``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def summary_line(plan: Plan) -> str:
    """The closing line of a plan; its wording is a public contract (DESIGN.md)."""
    if plan.is_empty:
        # With warnings, the files and the directory may still disagree (a live key
        # shared by two users, say): "matches" would be a claim we cannot make.
        return NO_CHANGES_WITH_WARNINGS if plan.warnings else NO_CHANGES
    counts = plan.summary
    parts = ", ".join(f"{count} to {kind}" for kind, count in counts.items())
    return f"Plan: {parts}."


def report_summary_line(report: ApplyReport) -> str:
    """The closing line of an apply report."""
    parts = ", ".join(f"{report.count(outcome)} {outcome.value}" for outcome in Outcome)
    if report.dry_run:
        return f"Dry run: {parts.replace(Outcome.APPLIED.value, 'would apply')}; nothing was sent."
    return f"Apply: {parts}."


def left_alone_keys(entry: LeftAlone, shown: int = LEFT_ALONE_KEYS_SHOWN) -> tuple[list[str], int]:
    """The first keys of a left-alone entry and how many of its objects go unnamed."""
    keys = [printable(key) for key in entry.keys[:shown]]
    return keys, max(entry.count - len(keys), 0)
