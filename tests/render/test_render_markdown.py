"""Tests for reconciler.render.markdown: the pull-request comment view of a plan.

Golden files are compared byte for byte. After an intended change of the output,
rewrite them with ``UPDATE_GOLDEN=1 pytest tests/render`` and review the diff.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from reconciler.plan import (
    Action,
    ActionKind,
    Change,
    LeftAlone,
    MemberChange,
    Plan,
    PlanWarning,
    Resource,
)
from reconciler.render import render_plan_markdown

GITHUB_COMMENT_LIMIT = 65_536
SUMMARY_TABLE = (
    "| Create | Update | Deactivate | Reactivate | Delete |\n"
    "|---:|---:|---:|---:|---:|\n"
    "| 4001 | 949 | 25 | 20 | 5 |\n"
)


def tables(markdown: str) -> list[list[str]]:
    """Every table in the document as its list of lines."""
    found: list[list[str]] = []
    current: list[str] = []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    return found


def assert_well_formed(markdown: str) -> None:
    """Tables keep their column count on every row and every <details> is closed."""
    for table in tables(markdown):
        assert len(table) >= 3, table
        assert re.fullmatch(r"\|(-+:?\|)+|\|(---:\|)+", table[1]), table
        columns = table[0].count("|")
        assert all(row.count("|") == columns and row.endswith("|") for row in table), table
    assert markdown.count("<details>") == markdown.count("</details>")
    opened = 0
    for line in markdown.splitlines():
        opened += line.count("<details>") - line.count("</details>")
        assert opened in (0, 1), "a <details> section is nested or closed twice"
    assert opened == 0


def test_plan_markdown_matches_golden(plan: Plan, golden: Callable[[str, str], None]) -> None:
    """A plan with every kind of action and every section renders as recorded."""
    markdown = render_plan_markdown(plan)
    assert_well_formed(markdown)
    golden("plan.md", markdown)


def test_blocked_and_warnings_come_before_the_summary(plan: Plan) -> None:
    """The blocked callout with the digest to approve, then the warnings, precede the summary."""
    markdown = render_plan_markdown(plan)
    caution = markdown.index("> [!CAUTION]")
    warnings = markdown.index("### Warnings (2)")
    summary = markdown.index("### Summary")
    assert caution < warnings < summary < markdown.index("<details>")
    assert f"`--approve {plan.digest}`" in markdown[caution:warnings]


def test_sandbox_note(plan: Plan) -> None:
    """With ``sandbox`` the comment says that the target is the local sandbox."""
    assert "not a real directory" in render_plan_markdown(plan, sandbox=True)
    assert "not a real directory" not in render_plan_markdown(plan)


def test_empty_plan_says_no_changes() -> None:
    """A plan without actions says there are no changes, with no table, details or digest."""
    markdown = render_plan_markdown(Plan(target="https://scim.example.com/v2", dialect="generic"))
    assert "**No changes. The directory matches the files.**" in markdown
    assert "<details>" not in markdown
    assert "Digest" not in markdown
    assert "|" not in markdown


def test_hostile_values_cannot_break_tables_or_inject_html() -> None:
    """Pipes, tags, backticks and line breaks in keys and values are escaped, not interpreted."""
    hostile = "a | b </details><script>alert(1)</script> `x` \n| injected | row |"
    plan = Plan(
        target="https://scim.example.com/v2",
        dialect="generic",
        actions=(
            Action(
                resource=Resource.USER,
                action=ActionKind.UPDATE,
                key="eve|<img src=x onerror=alert(1)>@example.com",
                changes=(Change(path="displayName", before="Eve", after=hostile),),
            ),
            Action(
                resource=Resource.GROUP,
                action=ActionKind.UPDATE,
                key="</summary></details>`team`",
                changes=(MemberChange(add=("x|y<u>@example.com",)),),
            ),
        ),
        warnings=(PlanWarning(key="<script>", message=hostile),),
        left_alone=(LeftAlone(resource=Resource.USER, reason=hostile, count=1, keys=("k|<i>`",)),),
    )
    markdown = render_plan_markdown(plan)
    assert_well_formed(markdown)
    for raw in ("<script", "<img", "<u>", "<i>", "`x`", "`team`", "</summary></details>"):
        assert raw not in markdown
    assert not any(line.startswith("| injected") for line in markdown.splitlines())
    assert "a &#124; b &lt;/details&gt;&lt;script&gt;" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| <code>displayName"))
    assert row.count("|") == 4


def test_large_plan_stays_under_the_comment_limit(
    big_plan: Plan, big_markdown: str, golden: Callable[[str, str], None]
) -> None:
    """5,000 actions and a 20,000-member group fit one comment, summary whole, truncation noted."""
    markdown = big_markdown
    assert len(markdown) <= 65_000 < GITHUB_COMMENT_LIMIT
    assert_well_formed(markdown)
    assert SUMMARY_TABLE in markdown
    shown = len(re.findall(r"^\*\*(?:user|group)\*\* ", markdown, flags=re.MULTILINE))
    assert 0 < shown < 5000
    assert (
        f"_… {5000 - shown} more actions not shown (comment size limit); "
        "run `reconciler plan --format json` for the full plan._"
    ) in markdown
    assert markdown.rstrip().endswith(f"Digest: `{big_plan.digest}`")
    golden("large_plan.md", markdown)


def test_large_plan_shows_every_kind_and_the_small_ones_whole(big_markdown: str) -> None:
    """Thousands of creates cannot crowd out the deactivations, deletions or the big group."""
    markdown = big_markdown
    for summary in ("Create</b>: 4000 users", "Create</b>: 1 group", "Deactivate</b>: 25 users"):
        assert summary in markdown
    assert all(f"<code>leaver{n:02d}@example.com</code>" in markdown for n in range(25))
    assert all(f"<code>dead-{n}</code>" in markdown for n in range(5))
    assert "Members added (20000): " in markdown
    assert ", … 19950 more\n" in markdown


def test_many_warnings_are_capped(big_markdown: str) -> None:
    """300 warnings show a bounded number, then say how many more the JSON plan has."""
    markdown = big_markdown
    assert "### Warnings (300)" in markdown
    assert markdown.count(": is deactivated but stays a member\n") == 50
    assert "- _… and 250 more; see the JSON plan._" in markdown


@pytest.mark.parametrize(
    "limit", [pytest.param(n, id=f"{n}") for n in (4_000, 8_000, 20_000, 40_000, 65_000)]
)
def test_any_limit_is_respected_without_cutting_a_section(big_plan: Plan, limit: int) -> None:
    """Whatever the limit, the comment fits, keeps its summary table and closes what it opens."""
    markdown = render_plan_markdown(big_plan, limit=limit)
    assert len(markdown) <= limit
    assert_well_formed(markdown)
    assert SUMMARY_TABLE in markdown
    assert "more actions not shown (comment size limit)" in markdown


def test_plan_that_fits_is_not_truncated(plan: Plan) -> None:
    """A plan well under the limit shows every object and no truncation note."""
    markdown = render_plan_markdown(plan)
    assert "not shown" not in markdown
    assert len(re.findall(r"^\*\*(?:user|group)\*\* ", markdown, flags=re.MULTILINE)) == 7


def test_limit_too_small_for_the_header_is_an_error(plan: Plan) -> None:
    """A limit that cannot hold even the header is a programming error, not a silent overflow."""
    with pytest.raises(ValueError, match="characters"):
        render_plan_markdown(plan, limit=100)


def test_markdown_is_deterministic(big_plan: Plan, big_markdown: str) -> None:
    """Rendering the same plan twice gives the same comment."""
    assert render_plan_markdown(big_plan) == big_markdown


def test_identity_plan_markdown_matches_golden(
    identity: Plan, golden: Callable[[str, str], None]
) -> None:
    """Adoptions, a rename and item-level email and phone changes render as recorded."""
    markdown = render_plan_markdown(identity)
    assert_well_formed(markdown)
    golden("identity_plan.md", markdown)


def test_adopt_block_reads_as_a_takeover(identity: Plan) -> None:
    """An adopt names the account it takes over, whether it reactivates it, what it overwrites."""
    markdown = render_plan_markdown(identity)
    assert "<details><summary><b>Adopt</b>: 2 users</summary>" in markdown
    assert "**user** <code>bob@example.com</code> (adopt)\n\n" in markdown
    assert (
        "Takes over the existing account <code>robert@example.com</code> (<code>u-2</code>) "
        "and reactivates it.\n"
    ) in markdown
    assert "Takes over the existing account <code>u-5</code>; does not reactivate it.\n" in markdown
    assert (
        '| <code>userName</code> | <code>"robert@example.com"</code> '
        '| <code>"bob@example.com"</code> |'
    ) in markdown
    assert "| <code>active</code> | <code>false</code> | <code>true</code> |" in markdown


def test_rename_block_shows_old_and_new_name_and_the_members_moved(identity: Plan) -> None:
    """A rename is headed old → new and says it is done as create, move members, delete old."""
    markdown = render_plan_markdown(identity)
    assert "**group** <code>ops</code> → <code>operations</code> (rename)\n" in markdown
    assert (
        "Done as: create group <code>operations</code>, move 2 members into it, "
        "delete group <code>ops</code> (<code>g-3</code>).\n"
    ) in markdown
    assert (
        "Members moved (2): <code>alice@example.com</code>, <code>bob@example.com</code>\n"
    ) in markdown
    assert "Members removed (1): <code>dan@example.com</code>\n" in markdown


def test_multi_valued_changes_get_one_row_per_item(identity: Plan) -> None:
    """Each added, removed or changed email or phone number is a row of its own."""
    markdown = render_plan_markdown(identity)
    rows = [line for line in markdown.splitlines() if line.startswith("| <code>emails</code>")]
    assert [row for row in rows if "erin" in row] == [
        '| <code>emails</code> removed | <code>{"value":"erin.old@example.com","type":"work",'
        '"primary":false}</code> | <em>(none)</em> |',
        '| <code>emails</code> changed | <code>{"value":"Erin@example.com","type":"home"}</code> '
        '| <code>{"value":"erin@example.com","type":"work"}</code> |',
        '| <code>emails</code> added | <em>(none)</em> | <code>{"value":"erin.new@example.com",'
        '"type":"work","primary":false}</code> |',
    ]
    assert (
        '| <code>phoneNumbers</code> changed | <code>{"value":"+1 555 0100","type":"work"}</code> '
        '| <code>{"value":"+1 555 0100","type":"mobile"}</code> |'
    ) in markdown


def test_hostile_item_values_are_escaped() -> None:
    """An email item cannot break its table row or inject HTML."""
    hostile = [{"value": "x|</details><b>@example.com", "type": "work", "primary": True}]
    plan = Plan(
        target="https://scim.example.com/v2",
        dialect="generic",
        actions=(
            Action(
                resource=Resource.USER,
                action=ActionKind.ADOPT,
                key="x@example.com",
                id="</code><i>",
                changes=(Change(path="emails", before=None, after=hostile),),
            ),
        ),
    )
    markdown = render_plan_markdown(plan)
    assert_well_formed(markdown)
    assert "<b>@" not in markdown
    assert "<i>" not in markdown


@pytest.mark.parametrize("limit", [pytest.param(n, id=f"{n}") for n in (4_000, 20_000, 65_000)])
def test_many_adoptions_and_renames_respect_the_limit(limit: int) -> None:
    """Thousands of adoptions and renames are cut between objects like any other kind."""
    actions = [
        Action(
            resource=Resource.USER,
            action=ActionKind.ADOPT,
            key=f"u{n:04d}@example.com",
            id=f"u-{n}",
            changes=(
                Change(
                    path="userName", before=f"old{n:04d}@example.com", after=f"u{n:04d}@example.com"
                ),
                Change(path="active", before=False, after=True),
            ),
        )
        for n in range(2000)
    ] + [
        Action(
            resource=Resource.GROUP,
            action=ActionKind.RENAME,
            key=f"team-{n}",
            id=f"g-{n}",
            changes=(
                Change(path="displayName", before=f"old-team-{n}", after=f"team-{n}"),
                MemberChange(add=tuple(f"m{m}@example.com" for m in range(200))),
            ),
        )
        for n in range(200)
    ]
    plan = Plan(target="https://scim.example.com/v2", dialect="atlassian", actions=tuple(actions))
    markdown = render_plan_markdown(plan, limit=limit)
    assert len(markdown) <= limit
    assert_well_formed(markdown)
    assert "| 0 | 0 | 0 | 0 | 0 | 2000 | 200 |" in markdown
    assert "more actions not shown (comment size limit)" in markdown
    assert "<b>Adopt</b>: 2000 users" in markdown
    assert "<b>Rename</b>: 200 groups" in markdown
