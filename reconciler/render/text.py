"""The terminal view of a plan and of an apply report, in the manner of Terraform.

The plain text is the contract: colour only wraps whole tokens of the same lines,
so logs, golden files and ``grep`` see what a person sees on a terminal. Colours are
fixed ANSI codes rather than a terminal probe, so the output depends on ``color``
alone; whether a stream deserves colour (a terminal, ``--no-color``, ``NO_COLOR``)
is the CLI's decision.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.plan import Action, ActionKind, Change, Plan
from reconciler.render.access import access_line, holders_line, ordered_access
from reconciler.render.notation import (
    DRY_RUN_NOTE,
    LEFT_ALONE_KEYS_SHOWN_IN_TEXT,
    LEFT_FOR_LATER_HEADING,
    MEMBERS_SHOWN,
    SANDBOX_NOTE,
    SYMBOL,
    action_label,
    adopt_sentence,
    cost_line,
    existing_account,
    format_value,
    item_lines,
    left_alone_keys,
    left_for_later_label,
    left_for_later_recap,
    member_name,
    other_member_name,
    printable,
    rename_sentence,
    report_summary_line,
    sensitive_group_action,
    summary_line,
)
from reconciler.report import ActionResult, ApplyReport, Approval, Outcome

_RESET = "\x1b[0m"
_GREEN = "\x1b[32m"
_YELLOW = "\x1b[33m"
_RED = "\x1b[31m"
_BOLD = "\x1b[1m"

_KIND_COLOR: dict[ActionKind, str] = {
    ActionKind.CREATE: _GREEN,
    ActionKind.UPDATE: _YELLOW,
    ActionKind.REACTIVATE: _YELLOW,
    ActionKind.DEACTIVATE: _RED,
    ActionKind.DELETE: _RED,
    ActionKind.ADOPT: _YELLOW,
    ActionKind.RENAME: _YELLOW,
}

_ITEM_COLOR = {"+": _GREEN, "-": _RED, "~": _YELLOW}

_OUTCOME_COLOR: dict[Outcome, str] = {
    Outcome.APPLIED: _GREEN,
    Outcome.FAILED: _RED,
    Outcome.SKIPPED: _YELLOW,
}

ATTRIBUTE_INDENT = "    "
SECTION_INDENT = "  "


class _Painter:
    """Wraps text in an ANSI style when colour is on, and leaves it alone otherwise."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, style: str) -> str:
        return f"{style}{text}{_RESET}" if self.color else text


def render_plan_text(
    plan: Plan, *, color: bool, sandbox: bool = False, approval: Approval | None = None
) -> str:
    """The plan for a terminal or a CI log: one block per action, then the summary.

    ``approval``: the ``--approve`` of an apply that lets this plan through its limits;
    each blocked limit then says it is approved instead of what apply would refuse.
    """
    paint = _Painter(color)
    digest = plan.digest  # a hash over every action: computed once
    lines = _header(plan.target, plan.dialect, sandbox)
    if plan.actions:
        lines.append("")
        sensitive = frozenset(plan.sensitive_groups)
        for action in plan.actions:
            marked = sensitive_group_action(action, sensitive)
            lines.extend(
                _action_lines(
                    action, paint, plan.user_names, plan.existing_accounts, sensitive=marked
                )
            )
    lines += _review_lines(plan, paint)
    lines += _blocked_lines(plan, paint, approval, digest)
    lines += _left_lines(plan)
    lines.append("")
    if not plan.is_empty:  # the last two lines stay the summary line and the digest
        lines.append(cost_line(plan))
    lines.append(paint(summary_line(plan), _BOLD))
    if not plan.is_empty:
        lines.append(f"Digest: {digest}")
    return "\n".join(lines) + "\n"


def _review_lines(plan: Plan, paint: _Painter) -> list[str]:
    """What a reviewer reads beside the actions: holders, access changes, warnings."""
    lines: list[str] = []
    if plan.holders:
        lines += ["", "Sensitive groups:"]
        lines += [
            paint(f"{SECTION_INDENT}{printable(holders_line(h))}", _RED) for h in plan.holders
        ]
    if plan.access:
        lines += ["", "Access changes:"]
        lines += [
            paint(f"{SECTION_INDENT}{printable(access_line(a))}", _RED) if a.sensitive
            else f"{SECTION_INDENT}{printable(access_line(a))}"
            for a in ordered_access(plan)
        ]  # fmt: skip
    if plan.warnings:
        lines += ["", "Warnings:"]
        lines += [
            paint(f"{SECTION_INDENT}! {printable(w.key)}: {printable(w.message)}", _YELLOW)
            for w in plan.warnings
        ]
    return lines


def _blocked_lines(
    plan: Plan, paint: _Painter, approval: Approval | None, digest: str
) -> list[str]:
    """The limits the plan exceeds, and what apply will do about each."""
    lines: list[str] = []
    if plan.blocked:
        outcome = (
            approved_words(approval)
            if approval is not None
            else f"apply will refuse without --approve {digest}"
        )
        lines += ["", "Blocked:"]
        lines += [
            paint(
                f"{SECTION_INDENT}limit {printable(b.limit)}: {b.planned} planned, "
                f"{b.allowed} allowed{_basis(b.basis)} — {outcome}",
                _RED,
            )
            for b in plan.blocked
        ]
    return lines


def _left_lines(plan: Plan) -> list[str]:
    """What the policy left alone, and what ``apply --only`` leaves for later."""
    lines: list[str] = []
    if plan.left_alone:
        lines += ["", "Left alone by policy:"]
        for entry in plan.left_alone:
            keys, unnamed = left_alone_keys(entry, LEFT_ALONE_KEYS_SHOWN_IN_TEXT, plan.user_names)
            named = ", ".join(keys) + (f", and {unnamed} more" if keys and unnamed else "")
            lines.append(
                f"{SECTION_INDENT}{entry.resource.value}: {printable(entry.reason)}: "
                f"{entry.count}" + (f" ({named})" if keys else "")
            )
    if plan.left_for_later:
        lines += ["", LEFT_FOR_LATER_HEADING]
        lines += [
            f"{SECTION_INDENT}{left_for_later_label(entry, plan.user_names)}"
            for entry in plan.left_for_later
        ]
    return lines


def render_report_text(
    report: ApplyReport, *, color: bool, sandbox: bool = False, header: bool = True
) -> str:
    """What an apply did: one line per action with its outcome, then the counts.

    ``header=False`` leaves out the target and digest lines, for a report printed
    right below the plan that already named them.
    """
    paint = _Painter(color)
    lines = [paint(DRY_RUN_NOTE, _BOLD)] if report.dry_run else []
    if header:
        lines += _header(report.target, None, sandbox)
        lines.append(f"Digest: {report.digest}")
    if report.results:
        lines.append("")
        lines += [
            _result_line(r, paint, report.user_names, dry_run=report.dry_run)
            for r in report.results
        ]
    lines += _failure_recap(report, paint)
    if report.left_for_later:
        lines += ["", left_for_later_recap(len(report.left_for_later))]
    if report.approved_digest is not None:
        approval = Approval(report.approved_digest, report.approved_by)
        lines += ["", f"Over a safety limit, {approved_words(approval)}"]
    lines += ["", paint(report_summary_line(report), _BOLD)]
    return "\n".join(lines) + "\n"


def _failure_recap(report: ApplyReport, paint: _Painter) -> list[str]:
    """What did not happen, together at the end, where an on-call engineer looks first."""
    missed = [r for r in report.results if r.outcome is not Outcome.APPLIED]
    if not missed:
        return []
    lines = ["", f"Not applied ({len(missed)}):"]
    for result in missed:
        what = action_label(result.action, report.user_names)
        if result.kind in (ActionKind.CREATE, ActionKind.UPDATE):  # the others name their kind
            what += f" ({result.kind.value})"
        reason = printable(result.reason or "")
        lines.append(paint(f"{SECTION_INDENT}{result.outcome.value}: {what}: {reason}", _RED))
    return lines


def _header(target: str, dialect: str | None, sandbox: bool) -> list[str]:
    # The sandbox line is plain words, not a colour, so that it survives logs and
    # pipes: a reviewer must never mistake a sandbox run for a real one.
    line = f"Target: {printable(target)}"
    if dialect is not None:
        line += f" (dialect: {printable(dialect)})"
    return [line, SANDBOX_NOTE] if sandbox else [line]


def _action_lines(
    action: Action,
    paint: _Painter,
    user_names: Mapping[str, str],
    accounts: Mapping[str, str] | None = None,
    *,
    sensitive: bool = False,
) -> list[str]:
    color = _KIND_COLOR[action.action]
    head = f"{SYMBOL[action.action]} {action_label(action, user_names, sensitive=sensitive)}"
    account = existing_account(action, accounts)
    if account is not None:
        head += f" (links to existing account {printable(account)})"
    lines = [paint(head, color)]
    if action.action is ActionKind.ADOPT:
        lines.append(f"{ATTRIBUTE_INDENT}{adopt_sentence(action, format_value, printable)}")
    elif action.action is ActionKind.RENAME:
        lines.append(f"{ATTRIBUTE_INDENT}{rename_sentence(action, format_value, printable)}")
    for change in action.attribute_changes:
        lines += _change_lines(change, paint)
    members = action.member_change
    if members is not None:
        added = [member_name(k, user_names) for k in members.add[:MEMBERS_SHOWN]]
        # Members that are not users first: they are the ones a reviewer does not expect.
        removed = [other_member_name(o) for o in members.remove_other[:MEMBERS_SHOWN]]
        removed += [member_name(k, user_names) for k in members.remove[:MEMBERS_SHOWN]]
        lines += _member_lines(added, paint("+", _GREEN), "to add", len(members.add))
        lines += _member_lines(removed, paint("-", _RED), "to remove", members.removes)
    return lines


def _change_lines(change: Change, paint: _Painter) -> list[str]:
    """``path: before -> after``, or one ``path: + {item}`` line per item of a multi-valued one."""
    path = printable(change.path)
    items = item_lines(change)
    if items is None:
        before, after = format_value(change.before), format_value(change.after)
        return [f"{ATTRIBUTE_INDENT}{path}: {before} -> {after}"]
    lines = []
    for item in items:
        symbol, rest = item.split(" ", 1)  # the symbol is coloured like the members'
        lines.append(f"{ATTRIBUTE_INDENT}{path}: {paint(symbol, _ITEM_COLOR[symbol])} {rest}")
    return lines


def _member_lines(names: list[str], symbol: str, verb: str, total: int | None = None) -> list[str]:
    lines = [
        f"{ATTRIBUTE_INDENT}members: {symbol} {printable(name)}" for name in names[:MEMBERS_SHOWN]
    ]
    hidden = (len(names) if total is None else total) - len(lines)
    if hidden > 0:
        lines.append(f"{ATTRIBUTE_INDENT}members: ... and {hidden} more {verb}")
    return lines


def _result_line(
    result: ActionResult, paint: _Painter, user_names: Mapping[str, str], *, dry_run: bool
) -> str:
    head = f"{SYMBOL[result.kind]} {action_label(result.action, user_names)}: "
    word = result.outcome.value
    if dry_run and result.outcome is Outcome.APPLIED:
        word = "would apply"
    elif result.adopted:
        word = "adopted"
    if result.not_synced:
        word += ", not synced to products"
    outcome = paint(word, _OUTCOME_COLOR[result.outcome])
    line = head + outcome
    if result.reason and (result.outcome is not Outcome.APPLIED or result.not_synced):
        line += f" — {printable(result.reason)}"
    elif result.adopted:
        line += " — it existed already (409); the existing object was taken over"
    if result.attempts > 1:
        line += f" ({result.attempts} attempts)"
    return line


def approved_words(approval: Approval) -> str:
    """``approved: sha256:… by NAME``: a limit a person let this plan through."""
    by = f" by {printable(approval.by)}" if approval.by else ""
    return f"approved: {approval.digest}{by}"


def _basis(basis: str) -> str:
    return f" ({printable(basis)})" if basis else ""
