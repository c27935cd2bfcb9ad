"""The planner, one behaviour per test, against an in-memory SCIM directory."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.attributes import ENTERPRISE_URN
from reconciler.desired import (
    DesiredState,
    Email,
    Enterprise,
    GroupSpec,
    GroupsPolicy,
    Name,
    Policy,
    UserSpec,
    UsersPolicy,
)
from reconciler.plan import Action, ActionKind, Change, LeftAlone, MemberChange, Plan, Resource
from reconciler.planner import LEFT_ALONE_KEYS_KEPT, PlanContext, narrow_plan, plan
from reconciler.saved import read_plan
from tests.directory_model import DirectoryModel, apply_plan

BY_EXTERNAL_ID = UsersPolicy(key="externalId")


def desired(
    *users: UserSpec, groups: tuple[GroupSpec, ...] = (), policy: Policy | None = None
) -> DesiredState:
    return DesiredState(users=users, groups=groups, policy=policy or Policy())


def plan_for(state: DesiredState, model: DirectoryModel, dialect: str = "generic") -> Plan:
    return plan(state, model.snapshot(), PlanContext("model:", dialect))


def summary(plan_: Plan) -> list[tuple[str, str, str]]:
    return [(a.resource.value, a.action.value, a.key) for a in plan_.actions]


def changes(action: Action) -> dict[str, tuple[Any, Any]]:
    return {c.path: (c.before, c.after) for c in action.attribute_changes}


def only_action(plan_: Plan) -> Action:
    assert len(plan_.actions) == 1, summary(plan_)
    return plan_.actions[0]


def work_email(value: str, *, primary: bool = True) -> dict[str, Any]:
    return {"value": value, "type": "work", "primary": primary}


# --- users ---------------------------------------------------------------------------


def test_create_uses_the_user_name_as_the_one_primary_work_email() -> None:
    """A new user without emails in the file gets its userName as the primary work email."""
    state = desired(UserSpec(userName="alice@example.com", displayName="Alice"))
    action = only_action(plan_for(state, DirectoryModel()))
    assert (action.resource, action.action, action.id) == (Resource.USER, ActionKind.CREATE, None)
    assert changes(action) == {
        "displayName": (None, "Alice"),
        "emails": (None, [work_email("alice@example.com")]),
        "userName": (None, "alice@example.com"),
    }


def test_update_changes_only_the_attributes_the_file_mentions() -> None:
    """Attributes the file leaves out stay as they are, even when the server has them."""
    model = DirectoryModel()
    model.add_user(
        "alice@example.com", displayName="Old", title="Intern", name={"familyName": "Liddell"}
    )
    state = desired(
        UserSpec(userName="alice@example.com", displayName="New", name=Name(givenName="Alice"))
    )
    action = only_action(plan_for(state, model))
    assert action.action is ActionKind.UPDATE
    assert changes(action) == {"displayName": ("Old", "New"), "name.givenName": (None, "Alice")}


@pytest.mark.parametrize(
    "live_emails",
    [
        pytest.param(
            [work_email("a2@example.com", primary=False), work_email("a@example.com")],
            id="reordered",
        ),
        pytest.param(
            [work_email("A@Example.COM"), work_email("A2@example.com", primary=False)],
            id="other-letter-case",
        ),
    ],
)
def test_emails_compare_as_a_set_and_case_insensitively(live_emails: list[Any]) -> None:
    """Multi-valued emails are a set (RFC 7643 section 2.4); addresses ignore letter case."""
    model = DirectoryModel()
    model.add_user("a@example.com", emails=live_emails)
    emails = (
        Email(value="a@example.com", type="work", primary=True),
        Email(value="a2@example.com", type="work"),
    )
    assert plan_for(desired(UserSpec(userName="a@example.com", emails=emails)), model).is_empty


def test_active_false_deactivates_a_live_active_user() -> None:
    """``active: false`` on a live active user plans a deactivation, not a delete."""
    model = DirectoryModel()
    user_id = model.add_user("alice@example.com", active=True)
    action = only_action(
        plan_for(desired(UserSpec(userName="alice@example.com", active=False)), model)
    )
    assert (action.action, action.id) == (ActionKind.DEACTIVATE, user_id)
    assert changes(action) == {"active": (True, False)}


def test_a_desired_active_user_that_is_live_inactive_is_reactivated() -> None:
    """A user the files want (active by default) but the directory holds inactive is reactivated."""
    model = DirectoryModel()
    user_id = model.add_user("alice@example.com", active=False)
    action = only_action(plan_for(desired(UserSpec(userName="alice@example.com")), model))
    assert (action.action, action.id) == (ActionKind.REACTIVATE, user_id)
    assert changes(action) == {"active": (False, True)}


@pytest.mark.parametrize(
    ("unmanaged", "live_active", "expected"),
    [
        pytest.param("ignore", True, [], id="ignore"),
        pytest.param(
            "deactivate", True, [("user", "deactivate", "bob@example.com")], id="deactivate"
        ),
        pytest.param("deactivate", False, [], id="deactivate-already-inactive"),
    ],
)
def test_unmanaged_users_are_ignored_or_deactivated_per_policy(
    unmanaged: str, live_active: bool, expected: list[tuple[str, str, str]]
) -> None:
    """A live user in scope that no file lists is left alone or deactivated, per policy."""
    model = DirectoryModel()
    model.add_user("alice@example.com")
    model.add_user("bob@example.com", active=live_active)
    policy = Policy(users=UsersPolicy(unmanaged=unmanaged))  # type: ignore[arg-type]
    plan_ = plan_for(desired(UserSpec(userName="alice@example.com"), policy=policy), model)
    assert summary(plan_) == expected


def test_unmanaged_ignored_users_are_counted_as_left_alone() -> None:
    """Under ``unmanaged: ignore`` the reviewer sees which live users the files do not list."""
    model = DirectoryModel()
    model.add_user("bob@example.com")
    assert plan_for(desired(), model).left_alone == (
        LeftAlone(
            resource=Resource.USER,
            reason="not in the files (policy.users.unmanaged: ignore)",
            count=1,
            keys=("bob@example.com",),
        ),
    )


def test_external_id_key_matches_a_renamed_user_and_warns() -> None:
    """With ``key: externalId`` a changed userName is an update of that user, with a warning."""
    model = DirectoryModel()
    user_id = model.add_user("alice@old.example", externalId="emp-1")
    state = desired(
        UserSpec(userName="alice@new.example", externalId="emp-1"),
        policy=Policy(users=BY_EXTERNAL_ID),
    )
    plan_ = plan_for(state, model)
    action = only_action(plan_)
    assert (action.action, action.key, action.id) == (ActionKind.UPDATE, "emp-1", user_id)
    assert changes(action) == {"userName": ("alice@old.example", "alice@new.example")}
    assert [(w.key, "changes the userName" in w.message) for w in plan_.warnings] == [
        ("emp-1", True)
    ]


def test_user_name_is_matched_case_insensitively() -> None:
    """userName differs only in letter case: the same user, nothing to do (RFC 7643 4.1.1)."""
    model = DirectoryModel()
    model.add_user("Alice@Example.COM")
    assert plan_for(desired(UserSpec(userName="alice@example.com")), model).is_empty


def test_changing_the_emails_of_an_existing_user_warns() -> None:
    """A changed email on an existing account is flagged: the identity link may break."""
    model = DirectoryModel()
    model.add_user("alice@example.com", emails=[work_email("alice@example.com")])
    state = desired(
        UserSpec(
            userName="alice@example.com",
            emails=(Email(value="alice@new.example", type="work", primary=True),),
        )
    )
    plan_ = plan_for(state, model)
    assert changes(only_action(plan_)) == {
        "emails": ([work_email("alice@example.com")], [work_email("alice@new.example")])
    }
    assert [w.key for w in plan_.warnings] == ["alice@example.com"]
    assert "changes the email of an existing account" in plan_.warnings[0].message


@pytest.mark.parametrize(
    ("spec", "live", "expected"),
    [
        pytest.param(
            UserSpec(userName="a@example.com", title=None),
            {"title": "Engineer", "displayName": "A"},
            {"title": ("Engineer", None)},
            id="title",
        ),
        pytest.param(
            UserSpec(userName="a@example.com", name=None),
            {"name": {"givenName": "A", "familyName": "B"}},
            {"name.familyName": ("B", None), "name.givenName": ("A", None)},
            id="whole-name",
        ),
        pytest.param(
            UserSpec(userName="a@example.com", enterprise=Enterprise(department=None)),
            {ENTERPRISE_URN: {"department": "R&D", "costCenter": "7"}},
            {"enterprise.department": ("R&D", None)},
            id="enterprise-department",
        ),
    ],
)
def test_explicit_null_in_the_file_removes_the_attribute(
    spec: UserSpec, live: dict[str, Any], expected: dict[str, tuple[Any, Any]]
) -> None:
    """An attribute written as ``null`` is managed as absent: removed, and then stable."""
    model = DirectoryModel()
    model.add_user("a@example.com", **live)
    state = desired(spec)
    plan_ = plan_for(state, model)
    assert changes(only_action(plan_)) == expected
    apply_plan(model, plan_)
    assert plan_for(state, model).is_empty


def test_explicit_null_removal_keeps_the_attributes_the_file_does_not_mention() -> None:
    """Removing one enterprise attribute leaves its siblings on the server alone."""
    model = DirectoryModel()
    user_id = model.add_user(
        "a@example.com", **{ENTERPRISE_URN: {"department": "R&D", "costCenter": "7"}}
    )
    state = desired(UserSpec(userName="a@example.com", enterprise=Enterprise(department=None)))
    apply_plan(model, plan_for(state, model))
    assert model.users[user_id][ENTERPRISE_URN] == {"costCenter": "7"}


def test_explicit_null_emails_on_a_new_user_converges() -> None:
    """A user created from ``emails: null`` needs no further change on the next plan."""
    model = DirectoryModel()
    state = desired(UserSpec(userName="a@example.com", emails=None))
    apply_plan(model, plan_for(state, model))
    assert summary(plan_for(state, model)) == []


# --- scope, protect and duplicates -------------------------------------------------


def test_scope_and_protect_are_left_alone_with_counts_and_reasons() -> None:
    """Objects the policy keeps out are counted by reason, with their keys, and never acted on."""
    model = DirectoryModel()
    model.add_user("out-2@partner.example")
    model.add_user("out-1@partner.example")
    model.add_user("boss@example.com", displayName="Boss")
    model.add_group("vendors")
    model.add_group("admins")
    policy = Policy(
        users=UsersPolicy(scope=("*@example.com",), protect=("BOSS@example.com",)),
        groups=GroupsPolicy(scope=("a*",), protect=("admins",), unmanaged="delete"),
    )
    state = desired(
        UserSpec(userName="boss@example.com", displayName="Changed"),
        UserSpec(userName="out-1@partner.example", title="Consultant"),
        groups=(GroupSpec(displayName="admins", members=("boss@example.com",)),),
        policy=policy,
    )
    plan_ = plan_for(state, model)
    assert plan_.actions == ()
    assert [(x.resource.value, x.reason, x.count, x.keys) for x in plan_.left_alone] == [
        ("group", "outside policy.groups.scope", 1, ("vendors",)),
        ("group", "protected by policy.groups.protect", 1, ("admins",)),
        (
            "user",
            "outside policy.users.scope",
            2,
            ("out-1@partner.example", "out-2@partner.example"),
        ),
        ("user", "protected by policy.users.protect", 1, ("boss@example.com",)),
    ]


def test_left_alone_counts_every_object_but_lists_only_the_first_keys() -> None:
    """The count is complete; the keys are the first few, sorted."""
    model = DirectoryModel()
    for number in reversed(range(LEFT_ALONE_KEYS_KEPT + 5)):
        model.add_user(f"u{number:02d}@partner.example")
    policy = Policy(users=UsersPolicy(scope=("*@example.com",)))
    (entry,) = plan_for(desired(policy=policy), model).left_alone
    assert entry.count == LEFT_ALONE_KEYS_KEPT + 5
    assert entry.keys == tuple(f"u{n:02d}@partner.example" for n in range(LEFT_ALONE_KEYS_KEPT))


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param(Policy(users=UsersPolicy(scope=("*@example.com",))), id="outside-scope"),
        pytest.param(Policy(users=UsersPolicy(protect=("carol@partner.example",))), id="protected"),
    ],
)
def test_a_desired_user_the_policy_excludes_is_not_created_and_warns(policy: Policy) -> None:
    """A file that lists a user outside scope (or protected) gets a warning, not a create."""
    state = desired(
        UserSpec(userName="carol@partner.example"),
        groups=(GroupSpec(displayName="eng", members=("carol@partner.example",)),),
        policy=policy,
    )
    plan_ = plan_for(state, DirectoryModel())
    assert summary(plan_) == [("group", "create", "eng")]
    assert plan_.actions[0].member_change is None
    assert [w.key for w in plan_.warnings] == ["carol@partner.example"]
    assert plan_.warnings[0].message.endswith("; not created")


@pytest.mark.parametrize(
    ("users_policy", "live"),
    [
        pytest.param(
            UsersPolicy(unmanaged="deactivate"),
            [("alice@example.com", None), ("ALICE@example.com", None)],
            id="userName",
        ),
        pytest.param(
            UsersPolicy(key="externalId", unmanaged="deactivate"),
            [("alice@example.com", "emp-1"), ("alice2@example.com", "emp-1")],
            id="externalId",
        ),
    ],
)
def test_live_users_that_share_a_key_are_left_alone_with_a_warning(
    users_policy: UsersPolicy, live: list[tuple[str, str | None]]
) -> None:
    """Two live users with the same key cannot be told apart: warn, change neither."""
    model = DirectoryModel()
    for user_name, external_id in live:
        model.add_user(user_name, externalId=external_id, active=True)
    plan_ = plan_for(desired(policy=Policy(users=users_policy)), model)
    assert plan_.actions == ()
    assert [w.message for w in plan_.warnings] == [
        "several live users share this key; they are left alone"
    ]


def test_the_duplicate_key_warning_names_the_shared_key() -> None:
    """With ``key: externalId`` the warning's key is that externalId, as for every user key."""
    model = DirectoryModel()
    model.add_user("alice@example.com", externalId="emp-1")
    model.add_user("alice2@example.com", externalId="emp-1")
    plan_ = plan_for(desired(policy=Policy(users=BY_EXTERNAL_ID)), model)
    assert [w.key for w in plan_.warnings] == ["emp-1"]


def test_a_desired_user_whose_key_several_live_users_share_is_not_created() -> None:
    """An ambiguous key is left alone: no create of yet another account with that key."""
    model = DirectoryModel()
    model.add_user("alice@example.com", externalId="emp-1")
    model.add_user("alice2@example.com", externalId="emp-1")
    state = desired(
        UserSpec(userName="alice3@example.com", externalId="emp-1"),
        policy=Policy(users=BY_EXTERNAL_ID),
    )
    assert summary(plan_for(state, model)) == []


def test_a_desired_group_whose_name_several_live_groups_share_is_not_created() -> None:
    """An ambiguous group name is left alone: no create of yet another group of that name."""
    model = DirectoryModel()
    model.add_group("eng")
    model.add_group("Eng")
    assert summary(plan_for(desired(groups=(GroupSpec(displayName="eng"),)), model)) == []


# --- groups --------------------------------------------------------------------------


def test_group_create_includes_members_and_users_that_name_the_group() -> None:
    """A new group's members are its ``members`` plus users whose ``groups:`` names it."""
    model = DirectoryModel()
    bob_id = model.add_user("bob@example.com")
    state = desired(
        UserSpec(userName="alice@example.com", groups=("ENG",)),
        UserSpec(userName="bob@example.com"),
        groups=(GroupSpec(displayName="eng", members=("BOB@example.com",)),),
    )
    plan_ = plan_for(state, model)
    assert summary(plan_) == [("user", "create", "alice@example.com"), ("group", "create", "eng")]
    group = plan_.actions[1]
    assert group.changes == (
        Change(path="displayName", after="eng"),
        MemberChange(add=("alice@example.com", "bob@example.com")),
    )
    apply_plan(model, plan_)
    (group_id,) = model.group_ids("eng")
    assert model.member_ids(group_id) == {model.user_id("alice@example.com"), bob_id}


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        pytest.param(
            "authoritative",
            MemberChange(add=("bob@example.com",), remove=("carol@example.com",)),
            id="authoritative",
        ),
        pytest.param("additive", MemberChange(add=("bob@example.com",)), id="additive"),
    ],
)
def test_authoritative_members_remove_and_additive_members_only_add(
    members: str, expected: MemberChange
) -> None:
    """Authoritative groups get exactly the listed members; additive ones only gain members."""
    model = DirectoryModel()
    alice, _, carol = (model.add_user(f"{n}@example.com") for n in ("alice", "bob", "carol"))
    group_id = model.add_group("eng", [alice, carol])
    state = desired(
        groups=(GroupSpec(displayName="eng", members=("alice@example.com", "bob@example.com")),),
        policy=Policy(groups=GroupsPolicy(members=members)),  # type: ignore[arg-type]
    )
    action = only_action(plan_for(state, model))
    assert (action.action, action.id, action.changes) == (
        ActionKind.UPDATE,
        group_id,
        (expected,),
    )


def test_user_ids_holds_the_live_ids_of_the_existing_users_member_changes_name() -> None:
    """The executor resolves member keys through ``user_ids``; users no change names stay out."""
    model = DirectoryModel()
    alice, bob, carol = (model.add_user(f"{n}@example.com") for n in ("alice", "bob", "carol"))
    model.add_user("zed@example.com")
    model.add_group("eng", [alice, carol])
    state = desired(
        UserSpec(userName="alice@example.com"),
        groups=(GroupSpec(displayName="eng", members=("alice@example.com", "bob@example.com")),),
    )
    plan_ = plan_for(state, model)
    assert only_action(plan_).changes == (
        MemberChange(add=("bob@example.com",), remove=("carol@example.com",)),
    )
    assert plan_.user_ids == {"bob@example.com": bob, "carol@example.com": carol}


def test_removing_a_member_spelled_in_another_letter_case_in_the_file() -> None:
    """userNames match case-insensitively, also when an authoritative group drops the user."""
    model = DirectoryModel()
    alice = model.add_user("alice@example.com")
    model.add_group("eng", [alice])
    state = desired(UserSpec(userName="Alice@example.com"), groups=(GroupSpec(displayName="eng"),))
    plan_ = plan_for(state, model)
    assert only_action(plan_).changes == (MemberChange(remove=("Alice@example.com",)),)
    assert plan_.user_ids["Alice@example.com"] == alice


@pytest.mark.parametrize(
    ("unmanaged", "expected"),
    [
        pytest.param("delete", [("group", "delete", "old")], id="delete"),
        pytest.param("ignore", [], id="ignore"),
    ],
)
def test_unmanaged_groups_are_deleted_only_when_the_policy_says_so(
    unmanaged: str, expected: list[tuple[str, str, str]]
) -> None:
    """A live group in scope that no file lists is deleted under ``unmanaged: delete``."""
    model = DirectoryModel()
    group_id = model.add_group("old")
    policy = Policy(groups=GroupsPolicy(unmanaged=unmanaged))  # type: ignore[arg-type]
    plan_ = plan_for(desired(policy=policy), model)
    assert summary(plan_) == expected
    assert all(a.id == group_id for a in plan_.actions)


def test_group_name_case_difference_is_a_rename_on_a_generic_server() -> None:
    """A generic SCIM server can rename a group, so a letter-case difference is an update."""
    model = DirectoryModel()
    model.add_group("Engineering")
    plan_ = plan_for(desired(groups=(GroupSpec(displayName="engineering"),)), model)
    assert changes(only_action(plan_)) == {"displayName": ("Engineering", "engineering")}
    assert plan_.warnings == ()


def test_group_name_case_difference_is_only_a_warning_on_atlassian() -> None:
    """Atlassian group names are immutable: the difference is flagged, no action planned."""
    model = DirectoryModel()
    model.add_group("Engineering")
    state = desired(groups=(GroupSpec(displayName="engineering"),))
    plan_ = plan_for(state, model, dialect="atlassian")
    assert plan_.actions == ()
    assert [w.key for w in plan_.warnings] == ["engineering"]
    assert 'named "Engineering"' in plan_.warnings[0].message


def test_a_deactivated_user_that_stays_in_groups_is_flagged() -> None:
    """Deactivating a user who keeps group memberships warns, naming the groups kept."""
    model = DirectoryModel()
    alice = model.add_user("alice@example.com")
    model.add_group("ops", [alice])
    model.add_group("eng", [alice])
    model.add_group("sales", [alice])
    state = desired(
        UserSpec(userName="alice@example.com", active=False),
        groups=(
            GroupSpec(displayName="eng", members=("alice@example.com",)),
            GroupSpec(displayName="sales"),
        ),
    )
    plan_ = plan_for(state, model)
    assert [w.message for w in plan_.warnings] == [
        "is deactivated but stays a member of 2 groups: eng, ops"
    ]


def test_a_deactivated_user_removed_from_its_group_in_another_letter_case_is_not_flagged() -> None:
    """A user dropped from every group as it is deactivated keeps no memberships to warn about."""
    model = DirectoryModel()
    model.add_group("eng", [model.add_user("alice@example.com")])
    state = desired(
        UserSpec(userName="Alice@example.com", active=False),
        groups=(GroupSpec(displayName="eng"),),
    )
    plan_ = plan_for(state, model)
    assert summary(plan_) == [
        ("group", "update", "eng"),
        ("user", "deactivate", "Alice@example.com"),
    ]
    assert plan_.warnings == ()


# --- ordering -------------------------------------------------------------------------


def test_actions_are_ordered_by_phase_then_key() -> None:
    """Execution order (docs/design.md "Data flow"), and within a phase by key, ignoring case."""
    model = DirectoryModel()
    model.add_user("amy@example.com", displayName="Old")
    model.add_user("Bert@example.com", active=False)
    model.add_user("carl@example.com", displayName="Old")
    model.add_user("dora@example.com")
    model.add_group("old")
    model.add_group("team")
    policy = Policy(
        users=UsersPolicy(unmanaged="deactivate"), groups=GroupsPolicy(unmanaged="delete")
    )
    state = desired(
        UserSpec(userName="zed@example.com"),
        UserSpec(userName="Yan@example.com"),
        UserSpec(userName="carl@example.com", displayName="New"),
        UserSpec(userName="bert@example.com"),
        UserSpec(userName="amy@example.com", displayName="New"),
        groups=(
            GroupSpec(displayName="team", members=("zed@example.com",)),
            GroupSpec(displayName="new"),
        ),
        policy=policy,
    )
    assert summary(plan_for(state, model)) == [
        ("user", "create", "Yan@example.com"),
        ("user", "create", "zed@example.com"),
        ("user", "update", "amy@example.com"),
        ("user", "reactivate", "bert@example.com"),
        ("user", "update", "carl@example.com"),
        ("group", "create", "new"),
        ("group", "update", "team"),
        ("user", "deactivate", "dora@example.com"),
        ("group", "delete", "old"),
    ]


@pytest.mark.parametrize(
    "live_external_ids",
    [pytest.param((), id="warnings"), pytest.param(("E1", "e1"), id="left-alone-keys")],
)
def test_plan_does_not_depend_on_the_order_of_external_ids_that_differ_in_case(
    live_external_ids: tuple[str, ...],
) -> None:
    """externalId is case-sensitive, so "E1" and "e1" are two users in a stable order."""
    model = DirectoryModel()
    for number, external_id in enumerate(live_external_ids):
        model.add_user(f"u{number}@partner.example", externalId=external_id)
    users = (
        UserSpec(userName="u0@partner.example", externalId="E1"),
        UserSpec(userName="u1@partner.example", externalId="e1"),
    )
    policy = Policy(users=UsersPolicy(key="externalId", scope=("*@example.com",)))
    forward = plan_for(desired(*users, policy=policy), model).to_json()
    assert plan_for(desired(*reversed(users), policy=policy), model).to_json() == forward


def test_additive_membership_is_reported_as_left_alone() -> None:
    """With additive members, a group's extra live members are kept and the plan says why."""
    live = DirectoryModel()
    alice = live.add_user("alice@example.com")
    bob = live.add_user("bob@example.com")
    live.add_group("eng", [alice, bob])
    desired = DesiredState(
        policy=Policy(groups=GroupsPolicy(members="additive")),
        users=(UserSpec(userName="alice@example.com"), UserSpec(userName="bob@example.com")),
        groups=(GroupSpec(displayName="eng", members=("alice@example.com",)),),
    )
    result = plan(desired, live.snapshot(), PlanContext("t", "generic"))
    assert result.actions == ()
    assert [(x.reason, x.keys) for x in result.left_alone] == [
        ("has members the files do not list (policy.groups.members: additive)", ("eng",))
    ]


def test_live_users_without_the_key_attribute_are_shown_as_left_alone() -> None:
    """Matching by externalId, a live user without one is never changed, and the plan says so."""
    live = DirectoryModel()
    live.add_user("legacy@example.com")
    desired = DesiredState(
        policy=Policy(users=UsersPolicy(key="externalId", unmanaged="deactivate"))
    )
    result = plan(desired, live.snapshot(), PlanContext("t", "generic"))
    assert result.actions == ()
    assert [(x.reason, x.keys) for x in result.left_alone] == [
        ("has no externalId to match on (policy.users.key: externalId)", ("legacy@example.com",))
    ]


def test_adding_a_deactivated_user_to_a_group_is_flagged() -> None:
    """A user the files keep deactivated who joins a group gets a review warning."""
    desired = DesiredState(
        users=(UserSpec(userName="dave@example.com", active=False, groups=("ops",)),),
        groups=(GroupSpec(displayName="ops"),),
    )
    result = plan(desired, DirectoryModel().snapshot(), PlanContext("t", "generic"))
    assert [(w.key, w.message) for w in result.warnings] == [
        ("dave@example.com", "is deactivated (active: false) but joins ops")
    ]


@pytest.mark.parametrize(
    ("live", "held"),
    [
        pytest.param({"department": "R&D"}, "top_level", id="top-level"),
        pytest.param({ENTERPRISE_URN: {"department": "R&D"}}, "extension", id="extension"),
        pytest.param(
            {"department": "R&D", ENTERPRISE_URN: {"department": "R&D"}}, "both", id="both"
        ),
    ],
)
def test_on_atlassian_a_department_removal_says_where_the_live_value_sat(
    live: dict[str, Any], held: str
) -> None:
    """Where department and organization are written at the top level, the plan's removal
    names where the value was (so each goes only there), warns of a value only in the
    read-only extension, and survives the plan JSON; other dialects' removals do not say."""
    model = DirectoryModel()
    model.add_user("a@example.com", **live)
    state = desired(UserSpec(userName="a@example.com", enterprise=Enterprise(department=None)))
    plan_ = plan_for(state, model, "atlassian")
    (change,) = only_action(plan_).attribute_changes
    assert (change.path, change.after, change.held) == ("enterprise.department", None, held)
    warned = [w.message for w in plan_.warnings if w.key == "a@example.com"]
    assert any("enterprise extension" in m for m in warned) is (held == "extension")
    assert read_plan(plan_.to_json()) == plan_
    assert "held" not in plan_for(state, model).to_json()
    context = PlanContext("model:", "atlassian")
    narrowed = narrow_plan(plan_, ("a@example.com",), state, model.snapshot(), context)
    assert narrowed.actions[0].attribute_changes == (change,)
    moved = "both" if held != "both" else "top_level"
    edited = only_action(plan_).model_copy(
        update={"changes": (change.model_copy(update={"held": moved}),)}
    )
    assert plan_.model_copy(update={"actions": (edited,)}).digest != plan_.digest
