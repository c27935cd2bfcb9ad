"""The access review is the whole truth: a property against the directory itself.

For any directory (groups nested in groups, in cycles, holding ids that name nothing)
and any files and groups policy, the plan's ``access`` must say exactly who gains and
who loses which group: applying the plan to the directory with the real executor and
comparing who holds each group before and after (directly or through nested groups,
worked out the plain way, by walking the resources) gives the same answer. And every
access change appears in every view.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.desired import (
    DesiredState,
    GroupSpec,
    GroupsPolicy,
    LimitsPolicy,
    Policy,
    UserSpec,
    UsersPolicy,
)
from reconciler.plan import Plan
from reconciler.planner import PlanContext, plan
from reconciler.render import render_plan_json, render_plan_markdown, render_plan_text
from reconciler.render.access import access_line
from reconciler.render.markdown_objects import code
from reconciler.render.notation import printable
from tests.directory_model import DirectoryModel, apply_plan
from tests.hypothesis_profiles import examples

PEOPLE = ("ann@example.com", "bob@example.com", "cy@example.com", "dee@example.com")
GROUPS = ("admins", "helpers", "eng", "ops")
UNLIMITED = LimitsPolicy(
    max_deactivations=10**6,
    max_group_deletions=10**6,
    max_member_removals=10**6,
    max_sensitive_changes=10**6,
)


def holders(model: DirectoryModel) -> dict[str, dict[str, str]]:
    """Group id -> {person: group name}: who holds each group, nested groups followed."""
    names = {uid: user["userName"] for uid, user in model.users.items()}

    def reach(group_id: str, seen: set[str]) -> set[str]:
        seen.add(group_id)
        people: set[str] = set()
        for member in model.member_ids(group_id):
            if member in names:
                people.add(names[member])
            elif member in model.groups and member not in seen:
                people |= reach(member, seen)
        return people

    return {
        gid: dict.fromkeys(reach(gid, set()), g["displayName"]) for gid, g in model.groups.items()
    }


def changes_by_walking(
    before: dict[str, dict[str, str]], after: dict[str, dict[str, str]]
) -> dict[str, tuple[set[str], set[str]]]:
    """Person -> (groups gained, groups lost), by group id, named as the plan names them."""
    found: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for group_id in before.keys() | after.keys():
        was, now = before.get(group_id, {}), after.get(group_id, {})
        for person in now.keys() - was.keys():
            found[person][0].add(now[person])
        for person in was.keys() - now.keys():
            found[person][1].add(was[person])
    return {p: c for p, c in found.items() if c[0] or c[1]}


@st.composite
def directories(draw: st.DrawFn) -> DirectoryModel:
    """Users and groups whose members are users, other groups (cycles too) and unknown ids."""
    model = DirectoryModel()
    user_ids = [model.add_user(name, active=True) for name in draw(_subset(PEOPLE))]
    group_ids = [model.add_group(name) for name in draw(_subset(GROUPS))]
    for group_id in group_ids:
        pool = [*user_ids, *group_ids, "ghost-1"]
        members = draw(st.lists(st.sampled_from(pool), unique=True, max_size=4))
        model.groups[group_id]["members"] = [{"value": m} for m in members if m != group_id]
    return model


@st.composite
def desired_states(draw: st.DrawFn) -> DesiredState:
    users = tuple(UserSpec(userName=name) for name in draw(_subset(PEOPLE)))
    listed = [u.userName for u in users]
    groups = tuple(
        GroupSpec(displayName=name, members=tuple(draw(_subset(tuple(listed)))))
        for name in draw(_subset(GROUPS))
    )
    policy = Policy(
        users=UsersPolicy(unmanaged=draw(st.sampled_from(("ignore", "deactivate")))),
        groups=GroupsPolicy(
            unmanaged=draw(st.sampled_from(("ignore", "delete"))),
            members=draw(st.sampled_from(("authoritative", "additive"))),
            sensitive=("admins",),
        ),
        limits=UNLIMITED,
    )
    return DesiredState(users=users, groups=groups, policy=policy)


def _subset(pool: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(pool), unique=True) if pool else st.just([])


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model=directories(), desired=desired_states(), dialect=st.sampled_from(("generic", "atlassian"))
)
def test_the_access_review_is_what_applying_the_plan_does_to_who_holds_what(
    model: DirectoryModel, desired: DesiredState, dialect: str
) -> None:
    """Who gains and loses which group, nested groups followed, is exactly what the plan
    says in ``access``; a person it lists with neither has a status (deactivated, new)."""
    result = plan(desired, model.snapshot(), PlanContext("m", dialect))
    before = holders(model)
    apply_plan(model, result)
    expected = changes_by_walking(before, holders(model))
    said = {a.key: (set(a.gains), set(a.loses)) for a in result.access if a.gains or a.loses}
    assert said == expected
    assert all(a.gains or a.loses or a.status for a in result.access)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=directories(), desired=desired_states())
def test_every_access_change_appears_in_every_view(
    model: DirectoryModel, desired: DesiredState
) -> None:
    """Each person's line is in the text and the markdown, the JSON holds the review as
    the plan does, and the summary line counts the sensitive changes."""
    result: Plan = plan(desired, model.snapshot(), PlanContext("m", "generic"))
    text = render_plan_text(result, color=False)
    markdown = render_plan_markdown(result)
    data: dict[str, Any] = json.loads(render_plan_json(result))
    assert data["access"] == [a.model_dump(mode="json") for a in result.access]
    assert data["sensitive_changes"] == result.sensitive_changes
    for change in result.access:
        assert printable(access_line(change)) in text
        assert code(access_line(change)) in markdown
    if result.sensitive_changes:
        assert f"{result.sensitive_changes} sensitive change" in text.splitlines()[-2]
