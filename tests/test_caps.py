"""The planner's size-cap warnings: a plan that takes the directory or a group past its caps."""

from __future__ import annotations

from reconciler.desired import DesiredState, GroupSpec, UserSpec
from reconciler.dialect import ATLASSIAN, GENERIC, DirectoryCaps
from reconciler.planner import PlanContext, plan
from reconciler.planner.caps import DIRECTORY_KEY
from tests.directory_model import DirectoryModel

SMALL = DirectoryCaps(users=3, groups=2, group_members=2)


def _warnings(model: DirectoryModel, state: DesiredState, caps: DirectoryCaps | None) -> list[str]:
    context = PlanContext("model:", "atlassian", caps=caps)
    return [f"{w.key}: {w.message}" for w in plan(state, model.snapshot(), context).warnings]


def _users(*names: str, groups: tuple[str, ...] = ()) -> tuple[UserSpec, ...]:
    return tuple(UserSpec(userName=f"{n}@example.com", groups=groups) for n in names)


def test_creates_past_the_users_and_groups_caps_are_warned_about() -> None:
    """Two live users and two creates make four, over a cap of three; three groups, two."""
    model = DirectoryModel()
    model.add_user("ann@example.com")
    model.add_user("bob@example.com")
    state = DesiredState(
        users=_users("ann", "bob", "cy", "dee"),
        groups=(GroupSpec(displayName="a"), GroupSpec(displayName="b"), GroupSpec(displayName="c")),
    )
    assert _warnings(model, state, SMALL) == [
        f"{DIRECTORY_KEY}: will hold 3 groups after this plan, over its cap of 2 "
        "(target.caps.groups): the creates past it will fail",
        f"{DIRECTORY_KEY}: will hold 4 users after this plan, over its cap of 3 "
        "(target.caps.users): the creates past it will fail",
    ]


def test_a_group_that_gains_members_past_its_cap_is_warned_about() -> None:
    """A live group of one gaining two (one leaving) holds two: at the cap, no warning;
    a new group of three is over it."""
    model = DirectoryModel()
    ids = [model.add_user(f"{n}@example.com") for n in ("ann", "bob", "cy")]
    model.add_group("eng", ids[:1])
    keep = DesiredState(
        users=(*_users("ann"), *_users("bob", "cy", groups=("eng",))),
        groups=(GroupSpec(displayName="eng"),),
    )
    assert _warnings(model, keep, SMALL) == []
    grow = DesiredState(
        users=_users("ann", "bob", "cy", groups=("ops",)), groups=(GroupSpec(displayName="ops"),)
    )
    assert _warnings(model, grow, SMALL) == [
        "ops: will hold 3 members after this plan, over the cap of 2 members per group "
        "(target.caps.group_members): the writes that take it over will fail"
    ]


def test_the_published_caps_are_the_dialects_and_generic_has_none() -> None:
    """Atlassian's published maxima by default (a small plan says nothing); none elsewhere."""
    assert PlanContext("m", "atlassian").caps == ATLASSIAN.caps
    assert PlanContext("m", "generic").caps is None
    assert GENERIC.caps is None
    state = DesiredState(users=_users("ann"))
    assert _warnings(DirectoryModel(), state, None) == []
    assert DirectoryCaps(users=5).overridden(users=None, groups=1) == DirectoryCaps(5, 1)


def test_memberships_past_the_directorys_cap_are_warned_about_once() -> None:
    """Three live memberships, one deleted group's two gone, four added: five, over a
    cap of four (Atlassian's total of group memberships); four would be at it."""
    model = DirectoryModel()
    ids = [model.add_user(f"{n}@example.com") for n in ("ann", "bob", "cy")]
    model.add_group("old", ids[:2])
    model.add_group("eng", ids[2:])
    state = DesiredState(
        users=(*_users("ann", "bob", groups=("eng", "ops")), *_users("cy", groups=("eng",))),
        groups=(GroupSpec(displayName="eng"), GroupSpec(displayName="ops")),
        policy={"groups": {"unmanaged": "delete"}, "limits": {"max_group_deletions": 1}},
    )
    caps = DirectoryCaps(memberships=4)
    assert _warnings(model, state, caps) == [
        f"{DIRECTORY_KEY}: will hold 5 group memberships after this plan, over its cap of 4 "
        "(target.caps.memberships): the member additions past it will fail"
    ]
    assert _warnings(model, state, DirectoryCaps(memberships=5)) == []
