"""Access changes per person, and sensitive groups, in every plan view."""

from __future__ import annotations

import json
from typing import Any

from reconciler.desired import (
    DesiredState,
    GroupSpec,
    GroupsPolicy,
    LimitsPolicy,
    Policy,
    UserSpec,
    UsersPolicy,
)
from reconciler.planner import PlanContext, plan
from reconciler.render import render_plan_json, render_plan_markdown, render_plan_text
from tests.directory_model import DirectoryModel


def _scenario(limits: LimitsPolicy | None = None) -> tuple[DesiredState, DirectoryModel]:
    model = DirectoryModel()
    ann = model.add_user("ann@example.com", externalId="E1")
    bob = model.add_user("bob@example.com", externalId="E2")
    model.add_group("site-admins", [bob])
    model.add_group("sales", [ann])
    state = DesiredState(
        users=(
            UserSpec(userName="ann@example.com", externalId="E1", groups=("site-admins",)),
            UserSpec(userName="bob@example.com", externalId="E2"),
        ),
        groups=(GroupSpec(displayName="site-admins"), GroupSpec(displayName="sales")),
        policy=Policy(
            users=UsersPolicy(key="externalId"),
            groups=GroupsPolicy(sensitive=("*admins",)),
            limits=limits or LimitsPolicy(),
        ),
    )
    return state, model


def test_each_person_gets_one_line_with_the_user_name_beside_the_key() -> None:
    """ann joins site-admins and leaves sales, bob leaves site-admins: one line each, with
    the userName beside the opaque externalId and the powerful group flagged."""
    state, model = _scenario()
    result = plan(state, model.snapshot(), PlanContext("m", "generic"))
    lines = [
        line.strip()
        for line in render_plan_text(result, color=False).splitlines()
        if line.startswith("  E")
    ]
    assert lines == [
        "E1 (ann@example.com)  + site-admins (sensitive)  - sales",
        "E2 (bob@example.com)  - site-admins (sensitive)",
    ]
    markdown = render_plan_markdown(result)
    assert "- **sensitive** <code>E1 (ann@example.com)  + site-admins (sensitive)" in markdown
    access = json.loads(render_plan_json(result))["access"]
    assert access[0] == {
        "key": "E1", "userName": "ann@example.com", "gains": ["site-admins"],
        "loses": ["sales"], "via": {}, "status": None, "sensitive": ["site-admins"],
    }  # fmt: skip


def test_a_plan_that_changes_a_sensitive_group_is_blocked_by_default() -> None:
    """max_sensitive_changes defaults to 0: two membership changes of site-admins block the
    plan; an allowance lets it through."""
    state, model = _scenario()
    blocked = plan(state, model.snapshot(), PlanContext("m", "generic")).blocked
    assert [(b.limit, b.allowed, b.planned) for b in blocked] == [
        ("max_member_removals", 0, 2),
        ("max_sensitive_changes", 0, 2),
    ]
    allowed, _ = _scenario(LimitsPolicy(max_sensitive_changes=2, max_member_removals=2))
    assert plan(allowed, model.snapshot(), PlanContext("m", "generic")).blocked == ()


def test_deactivation_and_reactivation_read_as_whole_access() -> None:
    """A deactivated person loses all access; a reactivated one regains it."""
    model = DirectoryModel()
    model.add_user("gone@example.com", active=True)
    model.add_user("back@example.com", active=False)
    state = DesiredState(
        users=(
            UserSpec(userName="gone@example.com", active=False),
            UserSpec(userName="back@example.com"),
        ),
        policy=Policy(limits=LimitsPolicy(max_deactivations=1)),
    )
    result = plan(state, model.snapshot(), PlanContext("m", "generic"))
    assert [(a.key, a.status) for a in result.access] == [
        ("back@example.com", "regains access (reactivated)"),
        ("gone@example.com", "loses all access (deactivated)"),
    ]


def test_the_cost_line_counts_the_requests_a_dry_run_sends() -> None:
    """The plan's request count is what the executor really sends for it (dry run), and
    the time is that count at the rate in force."""
    from reconciler.dialect import ATLASSIAN
    from reconciler.executor import Executor, RecordingWriter
    from reconciler.render.notation import cost_line

    model = DirectoryModel()
    ann = model.add_user("ann@example.com")
    model.add_user("old@example.com", active=True)
    model.add_group("eng", [ann])
    state = DesiredState(
        users=(UserSpec(userName="ann@example.com", title="Lead"),
               UserSpec(userName="new@example.com", groups=("platform",))),
        groups=(GroupSpec(displayName="platform", previousNames=("eng",)),),
        policy=Policy(users=UsersPolicy(unmanaged="deactivate"), limits=LimitsPolicy(
            max_deactivations=5, max_group_deletions=5, max_member_removals=5)),
    )  # fmt: skip
    result = plan(state, model.snapshot(), PlanContext("m", ATLASSIAN, rate=2.0))
    writer = RecordingWriter()
    Executor(writer, dialect=ATLASSIAN).execute(result, dry_run=True)
    assert result.requests == len(writer.requests) == 5  # update, create, rename x2, deactivate
    assert cost_line(result) == "Cost: 5 requests, about 2 s at 2 req/s."


def test_access_and_sensitive_flags_match_the_goldens_in_every_view(golden: Any) -> None:
    """Access lines with the userName beside the key and sensitive groups flagged, in the
    text, markdown and JSON views, exactly as committed."""
    state, model = _scenario()
    result = plan(state, model.snapshot(), PlanContext("https://scim.example.com/v2", "generic"))
    golden("access_plan.txt", render_plan_text(result, color=False))
    golden("access_plan.md", render_plan_markdown(result))
    golden("access_plan.json", render_plan_json(result))


def test_sensitive_lines_come_first_and_are_never_cut_from_a_pull_request_comment() -> None:
    """3,000 people join everyone and 150 of them also the sensitive site-admins (held by 2):
    the markdown names all 150 sensitive lines before the others, which are cut; the
    holders line says 2 → 152 and the summary counts 150 sensitive changes."""
    model = DirectoryModel()
    admins = [model.add_user(f"admin{n}@example.com") for n in range(2)]
    model.add_group("site-admins", admins)
    model.add_group("everyone", admins)
    joiners = [f"user{n:04d}@example.com" for n in range(3000)]
    for name in joiners:
        model.add_user(name)
    state = DesiredState(
        users=(
            *(UserSpec(userName=f"admin{n}@example.com") for n in range(2)),
            *(UserSpec(userName=name) for name in joiners),
        ),
        groups=(
            GroupSpec(displayName="everyone", members=(*joiners, "admin0@example.com",
                                                       "admin1@example.com")),
            GroupSpec(displayName="site-admins", members=(*joiners[-150:], "admin0@example.com",
                                                          "admin1@example.com")),
        ),
        policy=Policy(groups=GroupsPolicy(sensitive=("site-admins",))),
    )  # fmt: skip
    result = plan(state, model.snapshot(), PlanContext("m", "generic"))
    assert result.sensitive_changes == 150
    markdown = render_plan_markdown(result)
    assert len(markdown) <= 65_000
    sensitive = [
        line for line in markdown.splitlines() if line.startswith("- **sensitive** <code>")
    ]
    assert len(sensitive) == 150
    assert "<code>site-admins</code>**: 2 → 152 people" in markdown
    assert "; 150 sensitive changes." in markdown
    first_other = markdown.index("<code>user0000@example.com  + everyone</code>")
    assert markdown.index(sensitive[-1]) < first_other
    assert "more people (see the JSON plan)" in markdown
    text = render_plan_text(result, color=False)
    assert "site-admins: 2 -> 152 people" in text
    assert text.splitlines()[-2].endswith("; 150 sensitive changes.")


def test_sensitive_lines_that_alone_exceed_the_comment_say_how_many_are_missing() -> None:
    """When the sensitive lines alone are more than a comment holds, the markdown stays
    under the limit and says how many sensitive changes it could not show."""
    model = DirectoryModel()
    joiners = [f"user{n:05d}@example.com" for n in range(2000)]
    for name in joiners:
        model.add_user(name)
    state = DesiredState(
        users=tuple(UserSpec(userName=name) for name in joiners),
        groups=(GroupSpec(displayName="site-admins", members=tuple(joiners)),),
        policy=Policy(groups=GroupsPolicy(sensitive=("site-admins",))),
    )
    result = plan(state, model.snapshot(), PlanContext("m", "generic"))
    markdown = render_plan_markdown(result)
    assert len(markdown) <= 65_000
    shown = markdown.count("- **sensitive** <code>")
    assert 0 < shown < 2000
    assert f"… and {2000 - shown} more sensitive changes of access not shown" in markdown


def test_every_way_to_lose_a_group_matches_the_goldens_in_every_view(golden: Any) -> None:
    """A deleted sensitive group, a rename by create, a nested group and an unknown member
    removed under authoritative, under an opaque key: each loss per person, in the text,
    markdown and JSON views, exactly as committed."""
    model = DirectoryModel()
    ann = model.add_user("ann@example.com", externalId="E1")
    bob = model.add_user("bob@example.com", externalId="E2")
    cy = model.add_user("cy@example.com", externalId="E3")
    model.add_group("managers", [ann, bob])
    model.add_group("sales", [cy])
    helpers = model.add_group("helpers", [bob])
    model.add_group("admins", [ann, helpers, "ghost-7"])
    state = DesiredState(
        users=(
            UserSpec(userName="ann@example.com", externalId="E1"),
            UserSpec(userName="bob@example.com", externalId="E2"),
            UserSpec(userName="cy@example.com", externalId="E3"),
        ),
        groups=(
            GroupSpec(displayName="admins", members=("E1",)),
            GroupSpec(displayName="helpers", members=("E2",)),
            GroupSpec(displayName="revenue", previousNames=("sales",), members=("E3",)),
        ),
        policy=Policy(
            users=UsersPolicy(key="externalId"),
            groups=GroupsPolicy(unmanaged="delete", sensitive=("admins", "managers")),
            limits=LimitsPolicy(max_group_deletions=2, max_member_removals=2),
        ),
    )
    result = plan(
        state, model.snapshot(), PlanContext("https://example.atlassian.test", "atlassian")
    )
    golden("losses_plan.txt", render_plan_text(result, color=False))
    golden("losses_plan.md", render_plan_markdown(result))
    golden("losses_plan.json", render_plan_json(result))
