"""The pull-request view of a plan: markdown that fits in one code-host comment.

A reviewer must see what can hurt first, so the blocked limits (with the digest to
approve), the warnings and the summary table come on top and are always kept whole.
Per-object details fill the rest of the comment; when the plan is larger than the
comment limit (65,536 characters on common code hosts) they are cut between
objects, never inside a table or an open ``<details>``, each action kind gets a fair
share of the room (5,000 creates cannot hide the three deactivations), and a note
says how much is missing and where to find it.

Every key and value from the files or the directory is untrusted: it is written
only through ``markdown_objects.escaped`` and ``code``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.plan import AccessChange, Action, ActionKind, Plan, PlanWarning, Resource
from reconciler.render.access import access_line
from reconciler.render.markdown_objects import code, escaped, object_block
from reconciler.render.notation import (
    LEFT_ALONE_KEYS_SHOWN_IN_MARKDOWN,
    NO_CHANGES,
    SANDBOX_NOTE,
    cost_line,
    left_alone_keys,
    sensitive_group_action,
    summary_line,
)
from reconciler.wording import plural

COMMENT_LIMIT = 65_000  # under GitHub's 65,536, with room for a bot's own footer
WARNINGS_SHOWN = 50
LEFT_ALONE_REASONS_SHOWN = 20  # left-alone entries (a reason and its keys) listed

_KIND_TITLE: dict[ActionKind, str] = {kind: kind.value.capitalize() for kind in ActionKind}


def render_plan_markdown(plan: Plan, *, sandbox: bool = False, limit: int = COMMENT_LIMIT) -> str:
    """The plan as a pull-request comment of at most ``limit`` characters."""
    digest = plan.digest  # a hash over every action: computed once
    tail = _left_alone(plan) + (f"Digest: `{digest}`\n" if not plan.is_empty else "")
    note_room = len(_omitted_note(len(plan.actions))) if plan.actions else 0
    top = _title(plan, sandbox) + _blocked(plan, digest)
    bottom = _summary(plan) + ("### Details\n\n" if plan.actions else "")
    room = limit - len(top) - len(bottom) - len(tail) - note_room
    if room < 0:
        raise ValueError(f"a markdown plan needs more than {limit} characters for its header")
    # Who gains and loses access, then the warnings, come before the details. The
    # sensitive lines may take all the room; the rest of the access section and the
    # warnings at most half of what is left each.
    access = _access(plan, room)
    room -= len(access)
    warnings = access + _warnings(plan.warnings, room // 2)
    room -= len(warnings) - len(access)

    sections = _sections(
        plan.actions,
        room,
        plan.user_names,
        frozenset(plan.sensitive_groups),
        plan.existing_accounts,
    )
    shown = _allocate(sections, room)
    details = "".join(s.render(n) for s, n in zip(sections, shown, strict=True) if n is not None)
    omitted = sum(s.total - (n or 0) for s, n in zip(sections, shown, strict=True))
    note = _omitted_note(omitted) if omitted else ""
    return (top + warnings + bottom + details + note + tail).rstrip("\n") + "\n"


def _access(plan: Plan, room: int) -> str:
    """The sensitive groups' holders, then one line per person, sensitive lines first.

    Sensitive lines are never cut to make room for anything else; the others may take
    half of what the sensitive ones leave. A note says how many did not fit.
    """
    if not plan.access:
        return ""
    out = ""
    if plan.holders:
        out += "### Sensitive groups\n\n"
        for h in plan.holders:
            noun = "person" if h.after == 1 else "people"
            out += f"- **{code(h.group)}**: {h.before} → {h.after} {noun}\n"
        out += "\n"
    out += "### Access changes\n\n"
    sensitive = [a for a in plan.access if a.sensitive]
    others = [a for a in plan.access if not a.sensitive]
    budget = room - 200  # the notes below, and the blank line
    out, cut = _people(out, sensitive, budget, "**sensitive** ")
    if cut:  # the sensitive lines alone exceed the comment: say how many are missing
        more = plural(cut, "more sensitive change")
        out += f"- **… and {more} of access not shown** (see the JSON plan)\n"
    if others:
        out, cut = _people(out, others, len(out) + (budget - len(out)) // 2, "")
        if cut:
            out += f"- … and {plural(cut, 'more person', 'more people')} (see the JSON plan)\n"
    return out + "\n"


def _people(out: str, changes: Sequence[AccessChange], budget: int, flag: str) -> tuple[str, int]:
    """``out`` with as many access lines as fit in ``budget``; how many did not."""
    for shown, change in enumerate(changes):
        line = f"- {flag}{code(access_line(change))}\n"
        if len(out) + len(line) > budget:
            return out, len(changes) - shown
        out += line
    return out, 0


# -- fixed parts ------------------------------------------------------------------------


def _title(plan: Plan, sandbox: bool) -> str:
    out = "## Reconciler plan\n\n"
    out += f"Target: {code(plan.target)} (dialect {code(plan.dialect)})\n\n"
    if sandbox:
        out += f"> [!NOTE]\n> {SANDBOX_NOTE}\n\n"
    return out


def _blocked(plan: Plan, digest: str) -> str:
    if not plan.blocked:
        return ""
    lines = [
        "> [!CAUTION]",
        "> **Blocked by a safety limit: `reconciler apply` will refuse this plan.**",
        ">",
    ]
    lines += [
        f"> - {code(b.limit)}: {b.planned} planned, {b.allowed} allowed"
        + (f" ({escaped(b.basis)})" if b.basis else "")
        for b in plan.blocked
    ]
    lines += [">", f"> To apply exactly this plan after review: `--approve {digest}`"]
    return "\n".join(lines) + "\n\n"


def _warnings(warnings: Sequence[PlanWarning], room: int) -> str:
    if not warnings:
        return ""
    heading = f"### Warnings ({len(warnings)})\n\n"
    items: list[str] = []
    used = len(heading) + 1  # the blank line that ends the list
    for index, warning in enumerate(warnings[:WARNINGS_SHOWN]):
        item = f"- {code(warning.key)}: {escaped(warning.message)}\n"
        if used + len(item) + len(_more_warnings(len(warnings) - index - 1)) > room:
            break
        items.append(item)
        used += len(item)
    out = heading + "".join(items) + _more_warnings(len(warnings) - len(items)) + "\n"
    return out if len(out) <= room else ""  # only with an absurdly small limit


def _more_warnings(hidden: int) -> str:
    return f"- _… and {hidden} more; see the JSON plan._\n" if hidden else ""


def _summary(plan: Plan) -> str:
    if plan.is_empty:
        return f"**{NO_CHANGES}**\n\n"
    counts = plan.summary
    return (
        "### Summary\n\n"
        + "| " + " | ".join(_KIND_TITLE[ActionKind(k)] for k in counts) + " |\n"
        + "|" + "---:|" * len(counts) + "\n"
        + "| " + " | ".join(str(n) for n in counts.values()) + " |\n\n"
        + cost_line(plan) + "\n\n"
        + f"{summary_line(plan)}\n\n"
    )  # fmt: skip


def _left_alone(plan: Plan) -> str:
    if not plan.left_alone:
        return ""
    lines = [
        "### Left alone by policy",
        "",
        "| Resource | Reason | Count | First keys |",
        "|---|---|---:|---|",
    ]
    for entry in plan.left_alone[:LEFT_ALONE_REASONS_SHOWN]:
        keys, unnamed = left_alone_keys(entry, LEFT_ALONE_KEYS_SHOWN_IN_MARKDOWN, plan.user_names)
        named = ", ".join(code(k) for k in keys) + (
            f", … {unnamed} more" if keys and unnamed else ""
        )
        lines.append(
            f"| {entry.resource.value} | {escaped(entry.reason)} | {entry.count} | {named} |"
        )
    hidden = len(plan.left_alone) - LEFT_ALONE_REASONS_SHOWN
    if hidden > 0:
        lines += ["", f"_… and {plural(hidden, 'more reason')}; see the JSON plan._"]
    return "\n".join(lines) + "\n\n"


def _omitted_note(omitted: int) -> str:
    return (
        f"_… {plural(omitted, 'more action')} not shown "
        "(comment size limit); run `reconciler plan --format json` for the full plan._\n\n"
    )


# -- details ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Section:
    """One kind of action on one resource, collapsible, cut only between objects."""

    opening: str
    # The blocks of the first objects: all of them, or more than the room can hold,
    # so that the work is bounded by the comment limit rather than by the plan.
    blocks: tuple[str, ...]
    total: int  # objects in the section, rendered or not
    closing: str = "</details>\n\n"
    # Prefix sums of the block sizes: the size of any cut is O(1), fitting is linear.
    sums: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sums", (0, *itertools.accumulate(map(len, self.blocks))))

    @property
    def full_size(self) -> int | None:
        """The size with every object shown; None when not every block was rendered."""
        return self.size(self.total) if len(self.blocks) == self.total else None

    def size(self, shown: int) -> int:
        return len(self.opening) + self.sums[shown] + len(self._hidden(shown)) + len(self.closing)

    def fit(self, room: int, start: int = 0) -> int | None:
        """The most objects, from ``start`` up, whose section fits in ``room``."""
        full = self.full_size
        if full is not None and full <= room:
            return self.total
        if self.size(start) > room:
            return None
        shown = start
        limit = min(self.total - 1, len(self.blocks))
        while shown < limit and self.size(shown + 1) <= room:
            shown += 1
        return shown

    def render(self, shown: int) -> str:
        return self.opening + "".join(self.blocks[:shown]) + self._hidden(shown) + self.closing

    def _hidden(self, shown: int) -> str:
        hidden = self.total - shown
        return f"_… and {hidden} more not shown._\n\n" if hidden else ""


def _sections(
    actions: Sequence[Action],
    room: int,
    user_names: Mapping[str, str],
    sensitive: frozenset[str] = frozenset(),
    accounts: Mapping[str, str] | None = None,
) -> list[_Section]:
    # One section per kind and resource, kinds in summary-table order: users and
    # groups are different reviews, and each gets its own share of the room.
    grouped: dict[tuple[ActionKind, Resource], list[Action]] = {}
    for action in actions:
        grouped.setdefault((action.action, action.resource), []).append(action)
    sections = []
    for kind, resource in itertools.product(ActionKind, Resource):
        of_kind = grouped.get((kind, resource), [])
        if not of_kind:
            continue
        blocks: list[str] = []
        rendered = 0
        for action in of_kind:
            if rendered > room:
                break
            marked = sensitive_group_action(action, sensitive)
            blocks.append(object_block(action, user_names, accounts, sensitive=marked))
            rendered += len(blocks[-1])
        title = f"<b>{_KIND_TITLE[kind]}</b>: {plural(len(of_kind), resource.value)}"
        opening = f"<details><summary>{title}</summary>\n\n"
        sections.append(_Section(opening, tuple(blocks), len(of_kind)))
    return sections


def _allocate(sections: Sequence[_Section], room: int) -> list[int | None]:
    """How many objects each section shows (``None``: the section is left out).

    Water-filling: the smallest sections get all they need, the larger ones share
    what is left equally; then the room that whole objects left unused goes to the
    sections in plan order. The total never exceeds ``room``.
    """
    full = [room + 1 if (size := s.full_size) is None else size for s in sections]
    if sum(full) <= room:
        return [s.total for s in sections]
    shares = [0] * len(sections)
    left = room
    for position, index in enumerate(sorted(range(len(sections)), key=full.__getitem__)):
        shares[index] = min(full[index], left // (len(sections) - position))
        left -= shares[index]
    shown = [s.fit(share) for s, share in zip(sections, shares, strict=True)]
    used = sum(s.size(n) for s, n in zip(sections, shown, strict=True) if n is not None)
    for index, section in enumerate(sections):
        current = shown[index]
        before = section.size(current) if current is not None else 0
        grown = section.fit(room - used + before, current or 0)
        if grown is not None:
            shown[index] = grown
            used += section.size(grown) - before
    return shown
