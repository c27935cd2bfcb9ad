"""Partial applies (``apply --only``): which actions a narrowed plan sends (issue 19 item 1),
against an in-memory SCIM directory and the real executor."""

from __future__ import annotations

import pytest

from reconciler.desired import DesiredState, GroupSpec, Policy, UserSpec, UsersPolicy
from reconciler.errors import ConfigError
from reconciler.plan import LeftForLater, MemberChange, Plan
from reconciler.planner import PlanContext, narrow_plan, plan
from reconciler.saved import read_plan
from tests.directory_model import DirectoryModel, apply_plan

CONTEXT = PlanContext("model:", "generic")


def _directory() -> DirectoryModel:
    """carol and dan in eng; dan is leaving."""
    model = DirectoryModel()
    carol = model.add_user("carol@example.com", active=True)
    dan = model.add_user("dan@example.com", active=True)
    model.add_group("eng", [carol, dan])
    return model


def _files(policy: Policy | None = None) -> DesiredState:
    """alice and bob are new, alice also in a new group; dan is gone from the files."""
    return DesiredState(
        users=(
            UserSpec(userName="alice@example.com", groups=("eng", "new-team")),
            UserSpec(userName="bob@example.com", groups=("eng",)),
            UserSpec(userName="carol@example.com", displayName="Carol", groups=("eng",)),
        ),
        groups=(GroupSpec(displayName="eng"), GroupSpec(displayName="new-team")),
        policy=policy or Policy(users=UsersPolicy(unmanaged="deactivate")),
    )


def _narrowed(model: DirectoryModel, *only: str, files: DesiredState | None = None) -> Plan:
    files = files or _files()
    live = model.snapshot()
    return narrow_plan(plan(files, live, CONTEXT), only, files, live, CONTEXT)


def _actions(plan_: Plan) -> list[tuple[str, str, str]]:
    return [(a.resource.value, a.action.value, a.key) for a in plan_.actions]


def _left(plan_: Plan) -> list[tuple[str, str, str, bool]]:
    return [(x.resource.value, x.action.value, x.key, x.split) for x in plan_.left_for_later]


def test_a_user_brings_its_own_action_and_its_memberships_in_existing_groups() -> None:
    """--only a user: its create, and its add to the existing group split out of that group's
    action; the group's other changes and the user's add to a new group wait."""
    narrowed = _narrowed(_directory(), "alice@example.com")
    assert _actions(narrowed) == [
        ("user", "create", "alice@example.com"),
        ("group", "update", "eng"),
    ]
    assert narrowed.actions[1].changes == (MemberChange(add=("alice@example.com",)),)
    assert _left(narrowed) == [
        ("user", "create", "bob@example.com", False),
        ("user", "update", "carol@example.com", False),
        ("group", "create", "new-team", False),
        ("group", "update", "eng", True),
        ("user", "deactivate", "dan@example.com", False),
    ]


def test_a_split_group_action_keeps_its_live_object() -> None:
    """The narrowed group action is a subset of the planned one against the same object:
    same id, fingerprint and version, so a stale directory is still noticed."""
    model = _directory()
    whole = plan(_files(), model.snapshot(), CONTEXT)
    narrowed = _narrowed(model, "alice@example.com")
    planned = next(a for a in whole.actions if a.key == "eng")
    split = next(a for a in narrowed.actions if a.key == "eng")
    assert (split.id, split.fingerprint, split.version) == (
        planned.id,
        planned.fingerprint,
        planned.version,
    )


def test_a_group_brings_its_whole_action_and_the_users_it_adds() -> None:
    """--only a group: its whole action (adds and removes), and the creates of the users it
    adds, which must exist first; the users' other actions wait."""
    narrowed = _narrowed(_directory(), "eng")
    assert _actions(narrowed) == [
        ("user", "create", "alice@example.com"),
        ("user", "create", "bob@example.com"),
        ("group", "update", "eng"),
    ]
    change = narrowed.actions[2].member_change
    assert change is not None
    assert (change.add, change.remove) == (
        ("alice@example.com", "bob@example.com"),
        ("dan@example.com",),
    )
    assert ("user", "deactivate", "dan@example.com", False) in _left(narrowed)


def test_a_leaver_is_deactivated_and_removed_from_its_groups() -> None:
    """--only the user who is leaving: the deactivation and the removal from each group,
    nothing of anyone else."""
    narrowed = _narrowed(_directory(), "dan@example.com")
    assert _actions(narrowed) == [
        ("group", "update", "eng"),
        ("user", "deactivate", "dan@example.com"),
    ]
    assert narrowed.actions[0].changes == (MemberChange(remove=("dan@example.com",)),)


def test_limits_access_and_digest_are_those_of_what_is_sent() -> None:
    """The whole plan is over its limits (a deactivation, a removal); asking for alice sends
    neither, so the narrowed plan is within them, its access review names only alice, and its
    digest is its own."""
    model = _directory()
    whole = plan(_files(), model.snapshot(), CONTEXT)
    assert {b.limit for b in whole.blocked} == {"max_deactivations", "max_member_removals"}
    narrowed = _narrowed(model, "alice@example.com")
    assert narrowed.blocked == ()
    assert [(a.key, a.gains) for a in narrowed.access] == [("alice@example.com", ("eng",))]
    assert narrowed.digest != whole.digest
    assert set(narrowed.user_ids) <= set(whole.user_ids)


def test_a_narrowed_plan_over_a_limit_is_blocked() -> None:
    """The limits are counted again on what is sent: the leaver alone is over them."""
    narrowed = _narrowed(_directory(), "dan@example.com")
    assert {b.limit for b in narrowed.blocked} == {"max_deactivations", "max_member_removals"}


def test_applying_a_narrowed_plan_leaves_the_rest_for_the_next_plan() -> None:
    """After the narrowed plan is applied, the next plan from the same files is the rest:
    every action left for later, the split group action without what was sent."""
    model = _directory()
    narrowed = _narrowed(model, "alice@example.com")
    apply_plan(model, narrowed)
    after = plan(_files(), model.snapshot(), CONTEXT)
    assert [(x[0], x[1], x[2]) for x in _left(narrowed)] == _actions(after)
    eng = next(a for a in after.actions if a.key == "eng").member_change
    assert eng is not None
    assert (eng.add, eng.remove) == (("bob@example.com",), ("dan@example.com",))


def test_keys_compare_as_the_planner_matches_them() -> None:
    """userNames and group names in any letter case (the keys as the plan has them)."""
    narrowed = _narrowed(_directory(), "ALICE@example.com", "Eng")
    assert ("group", "update", "eng") in _actions(narrowed)
    assert ("user", "create", "alice@example.com") in _actions(narrowed)


def test_external_ids_compare_exactly() -> None:
    """Under key: externalId, a key is an externalId, and E1 is not e1."""
    files = DesiredState(
        users=(UserSpec(userName="ann@example.com", externalId="E1"),),
        policy=Policy(users=UsersPolicy(key="externalId")),
    )
    assert _actions(_narrowed(DirectoryModel(), "E1", files=files)) == [("user", "create", "E1")]
    with pytest.raises(ConfigError, match="--only e1: no user or group"):
        _narrowed(DirectoryModel(), "e1", files=files)


def test_unknown_keys_are_an_error_naming_them() -> None:
    """A key that names nothing in the files or the plan is a mistake: every such key is named."""
    with pytest.raises(ConfigError) as info:
        _narrowed(_directory(), "alice@example.com", "alcie@example.com", "egn")
    assert "--only alcie@example.com, egn: no user or group of the files" in str(info.value)


def test_an_empty_key_is_an_error() -> None:
    """--only "" names nothing, even where some user has no externalId."""
    with pytest.raises(ConfigError, match="not an empty string"):
        _narrowed(_directory(), "")


def test_a_known_key_with_nothing_to_do_sends_nothing() -> None:
    """A user of the files whose account already matches is no mistake: nothing is sent and
    everything is left for later."""
    model = _directory()
    files = _files()
    model.users[model.user_id("carol@example.com")]["displayName"] = "Carol"
    untouched = _narrowed(model, "carol@example.com", files=files)
    assert untouched.is_empty
    assert len(untouched.left_for_later) == 5
    assert LeftForLater(resource="group", action="create", key="new-team") in (
        untouched.left_for_later
    )


def test_left_for_later_is_in_the_plan_json_only_when_narrowed() -> None:
    """An addition within format version 1: present on a narrowed plan, absent otherwise, and
    outside the digest (which covers what is sent)."""
    model = _directory()
    whole = plan(_files(), model.snapshot(), CONTEXT)
    assert "left_for_later" not in whole.to_dict()
    narrowed = _narrowed(model, "alice@example.com")
    assert narrowed.to_dict()["left_for_later"][0] == {
        "resource": "user",
        "action": "create",
        "key": "bob@example.com",
        "split": False,
    }
    assert narrowed.model_copy(update={"left_for_later": ()}).digest == narrowed.digest
    assert read_plan(narrowed.to_json()) == narrowed


def test_a_narrowed_plan_names_only_the_existing_accounts_of_the_creates_it_sends() -> None:
    """The organisation's accounts that alice's and bob's creates link to (added by the
    app layer): asking for alice keeps hers only."""
    model = _directory()
    files, live = _files(), model.snapshot()
    accounts = {"alice@example.com": "acc-alice", "bob@example.com": "acc-bob"}
    whole = plan(files, live, CONTEXT).model_copy(update={"existing_accounts": accounts})
    narrowed = narrow_plan(whole, ("alice@example.com",), files, live, CONTEXT)
    assert narrowed.existing_accounts == {"alice@example.com": "acc-alice"}
