"""Tests for reconciler.render.text: the terminal view of plans and reports.

Golden files are compared byte for byte (no colour, no wrapping). After an intended
change of the output, rewrite them with ``UPDATE_GOLDEN=1 pytest tests/render`` and
review the diff.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reconciler.plan import Action, ActionKind, Change, MemberChange, Plan, Resource
from reconciler.render import render_plan_text, render_report_text
from reconciler.report import ApplyReport

ESC = "\x1b"


def test_plan_text_matches_golden(plan: Plan, golden: Callable[[str, str], None]) -> None:
    """A plan with every kind of action and every section renders as recorded."""
    golden("plan.txt", render_plan_text(plan, color=False))


def test_report_text_matches_golden(
    report: ApplyReport, golden: Callable[[str, str], None]
) -> None:
    """An apply report with applied, failed and skipped actions renders as recorded."""
    golden("report.txt", render_report_text(report, color=False))


@pytest.mark.parametrize("color", [pytest.param(True, id="color"), pytest.param(False, id="plain")])
def test_plan_colour_codes_only_with_color(plan: Plan, color: bool) -> None:
    """ANSI escape codes appear in a plan if and only if colour was asked for."""
    assert (ESC in render_plan_text(plan, color=color)) is color


@pytest.mark.parametrize("color", [pytest.param(True, id="color"), pytest.param(False, id="plain")])
def test_report_colour_codes_only_with_color(report: ApplyReport, color: bool) -> None:
    """ANSI escape codes appear in a report if and only if colour was asked for."""
    assert (ESC in render_report_text(report, color=color)) is color


def test_coloured_plan_is_the_plain_plan_with_codes(plan: Plan) -> None:
    """Stripping the colour codes from the coloured plan gives exactly the plain plan."""
    coloured = render_plan_text(plan, color=True)
    for code in ("\x1b[0m", "\x1b[1m", "\x1b[31m", "\x1b[32m", "\x1b[33m"):
        coloured = coloured.replace(code, "")
    assert coloured == render_plan_text(plan, color=False)


def test_symbols_colours_follow_action_kind(plan: Plan) -> None:
    """Creates are green, updates and reactivations yellow, deactivations and deletes red."""
    lines = render_plan_text(plan, color=True).splitlines()
    assert "\x1b[32m+ user alice@example.com\x1b[0m" in lines
    assert "\x1b[33m~ user carol@example.com (reactivate)\x1b[0m" in lines
    assert "\x1b[31m- group old-team (delete)\x1b[0m" in lines


def test_control_characters_in_values_cannot_reach_the_terminal() -> None:
    """An escape sequence or a line break in a key or value is shown escaped, never emitted."""
    plan = Plan(
        target="https://scim.example.com/v2",
        dialect="generic",
        actions=(
            Action(
                resource=Resource.USER,
                action=ActionKind.UPDATE,
                key="mallory\x1b[2J@example.com",
                changes=(Change(path="displayName", before="M", after="x\n+ user root\u202e"),),
            ),
        ),
    )
    text = render_plan_text(plan, color=False)
    assert ESC not in text
    assert "\u202e" not in text
    assert "~ user mallory\\u001b[2J@example.com" in text
    assert '    displayName: "M" -> "x\\n+ user root\\u202e"' in text


def test_empty_plan_says_no_changes_and_has_no_digest() -> None:
    """A plan without actions closes with the no-changes sentence and shows no digest."""
    text = render_plan_text(
        Plan(target="https://scim.example.com/v2", dialect="generic"), color=False
    )
    assert text.splitlines()[-1] == "No changes. The directory matches the files."
    assert "Digest:" not in text


def test_summary_and_digest_close_the_plan(plan: Plan) -> None:
    """The last two lines are the contract summary line and the plan digest."""
    assert render_plan_text(plan, color=False).splitlines()[-2:] == [
        "Plan: 2 to create, 2 to update, 1 to deactivate, 1 to reactivate, 1 to delete.",
        f"Digest: {plan.digest}",
    ]


def test_sandbox_target_is_named_plainly(plan: Plan) -> None:
    """With ``sandbox`` the second line says the target is the local sandbox, not a directory."""
    lines = render_plan_text(plan, color=False, sandbox=True).splitlines()
    assert lines[1] == "The target is the local embedded sandbox, not a real directory."
    assert "sandbox" not in render_plan_text(plan, color=False)


def test_blocked_line_names_the_digest_to_approve(plan: Plan) -> None:
    """A blocked limit says planned, allowed and the --approve digest that lets it through."""
    assert (
        f"  limit max_deactivations: 1 planned, 0 allowed — apply will refuse without "
        f"--approve {plan.digest}"
    ) in render_plan_text(plan, color=False).splitlines()


def test_large_member_change_shows_first_fifty_per_direction() -> None:
    """A group gaining 20,000 members lists 50 of them, then how many more, and all its removals."""
    plan = Plan(
        target="https://scim.example.com/v2",
        dialect="generic",
        actions=(
            Action(
                resource=Resource.GROUP,
                action=ActionKind.UPDATE,
                key="everyone",
                id="g-1",
                changes=(
                    MemberChange(
                        add=tuple(f"m{n:05d}@example.com" for n in range(20_000)),
                        remove=("gone@example.com",),
                    ),
                ),
            ),
        ),
    )
    lines = render_plan_text(plan, color=False).splitlines()
    adds = [line for line in lines if line.startswith("    members: + ")]
    assert len(adds) == 50
    assert adds[-1] == "    members: + m00049@example.com"
    assert "    members: ... and 19950 more to add" in lines
    assert "    members: - gone@example.com" in lines


def test_dry_run_report_says_first_that_nothing_was_sent(dry_run_report: ApplyReport) -> None:
    """A dry-run report opens with the line saying nothing was sent; a real one does not."""
    text = render_report_text(dry_run_report, color=False)
    assert text.splitlines()[0].startswith("Dry run: nothing was sent")
    real = dry_run_report.model_copy(update={"dry_run": False})
    assert "Dry run" not in render_report_text(real, color=False)


def test_report_closes_with_outcome_counts(report: ApplyReport) -> None:
    """The last line of a report counts applied, failed and skipped actions."""
    text = render_report_text(report, color=False)
    assert text.splitlines()[-1] == "Apply: 5 applied, 1 failed, 1 skipped."


def test_report_lines_give_reasons_for_failed_and_skipped(report: ApplyReport) -> None:
    """Failed and skipped actions carry their reason, and retried ones their attempts."""
    lines = render_report_text(report, color=False).splitlines()
    assert (
        "~ group platform: failed — HTTP 500 from PATCH /Groups/g-7: internal error (3 attempts)"
        in lines
    )
    assert (
        "- user dave@example.com (deactivate): skipped — a membership change it depends on failed"
        in lines
    )
    assert "+ user alice@example.com: applied" in lines


def test_identity_plan_text_matches_golden(
    identity: Plan, golden: Callable[[str, str], None]
) -> None:
    """Adoptions, a rename and item-level email and phone changes render as recorded."""
    golden("identity_plan.txt", render_plan_text(identity, color=False))


def test_adopt_reads_as_a_takeover_that_says_whether_it_reactivates(identity: Plan) -> None:
    """An adopt is labelled as one, names the live account and says if it reactivates it."""
    lines = render_plan_text(identity, color=False).splitlines()
    bob = lines.index("~ user bob@example.com (adopt)")
    assert lines[bob + 1 : bob + 3] == [
        '    takes over the existing account "robert@example.com" (u-2) and reactivates it',
        '    userName: "robert@example.com" -> "bob@example.com"',
    ]
    assert "    active: false -> true" in lines
    eve = lines.index("~ user eve@example.com (adopt)")
    assert lines[eve + 1] == "    takes over the existing account u-5; does not reactivate it"


def test_rename_shows_old_and_new_name_and_how_it_is_done(identity: Plan) -> None:
    """A rename is ``group old -> new (rename)``, done as create, move members, delete old."""
    lines = render_plan_text(identity, color=False).splitlines()
    head = lines.index("+/- group ops -> operations (rename)")
    assert lines[head + 1 :][:5] == [
        '    done as: create group "operations", move 2 members into it, delete group "ops" (g-3)',
        '    displayName: "ops" -> "operations"',
        "    members: + alice@example.com",
        "    members: + bob@example.com",
        "    members: - dan@example.com",
    ]


def test_multi_valued_changes_are_shown_item_by_item(identity: Plan) -> None:
    """Emails and phone numbers show each added, removed and changed item, not whole lists."""
    lines = render_plan_text(identity, color=False).splitlines()
    assert (
        '    emails: ~ erin@example.com: value "Erin@example.com" -> "erin@example.com", '
        'type "home" -> "work"'
    ) in lines
    assert '    emails: + {"value":"erin.new@example.com","type":"work","primary":false}' in lines
    assert '    emails: - {"value":"erin.old@example.com","type":"work","primary":false}' in lines
    assert '    phoneNumbers: ~ +1 555 0100: type "work" -> "mobile"' in lines
    assert '    phoneNumbers: + {"value":"+1 555 0199","type":"work","primary":false}' in lines
    assert not any(line.startswith("    emails: [") for line in lines)


def test_summary_line_counts_adopt_and_rename_when_present(identity: Plan) -> None:
    """The summary line adds the adopt and rename counts after the five basic kinds."""
    assert render_plan_text(identity, color=False).splitlines()[-2] == (
        "Plan: 0 to create, 1 to update, 0 to deactivate, 0 to reactivate, 0 to delete, "
        "2 to adopt, 1 to rename."
    )


def test_item_values_cannot_reach_the_terminal() -> None:
    """Control characters inside an email item are escaped in its item-level line."""
    plan = Plan(
        target="https://scim.example.com/v2",
        dialect="generic",
        actions=(
            Action(
                resource=Resource.USER,
                action=ActionKind.UPDATE,
                key="m@example.com",
                changes=(
                    Change(
                        path="emails",
                        before=[{"value": "m@example.com", "type": "work", "primary": True}],
                        after=[{"value": "m@example.com", "type": "x\x1b[2J", "primary": True}],
                    ),
                ),
            ),
        ),
    )
    text = render_plan_text(plan, color=False)
    assert ESC not in text
    assert '    emails: ~ m@example.com: type "work" -> "x\\u001b[2J"' in text
