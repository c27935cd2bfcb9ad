"""Identity rules of the planner: who each file user and group is in the live directory.

Each rule is shown in the plan (docs/identity.md); these tests state them one at a
time against an in-memory directory, and apply the plan to show that the next plan
is empty.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.desired import (
    DesiredState,
    Email,
    GroupSpec,
    GroupsPolicy,
    LimitsPolicy,
    Policy,
    UserSpec,
    UsersPolicy,
)
from reconciler.dialect import ATLASSIAN
from reconciler.errors import ServerError
from reconciler.executor import Executor, WriteRequest, WriteResult
from reconciler.live import LiveSnapshot, LiveUser
from reconciler.plan import Action, ActionKind, Plan, Resource
from reconciler.planner import PlanContext, plan
from reconciler.planner.identity import Identity
from reconciler.planner.match_groups import match_groups
from reconciler.planner.match_users import match_users
from reconciler.report import Outcome
from tests.directory_model import DirectoryModel, ModelWriter, apply_plan

UNLIMITED = LimitsPolicy(
    max_deactivations=10**6, max_group_deletions=10**6, max_member_removals=10**6,
    max_adoptions=10**6,
)  # fmt: skip


def policy(**users: Any) -> Policy:
    return Policy(users=UsersPolicy(**users), limits=UNLIMITED)


def plan_for(
    model: DirectoryModel, *users: UserSpec, policy: Policy, dialect: str = "generic",
    groups: tuple[GroupSpec, ...] = (),
) -> Plan:  # fmt: skip
    state = DesiredState(users=users, groups=groups, policy=policy)
    return plan(state, model.snapshot(), PlanContext("model:", dialect))


def kinds(plan_: Plan) -> list[tuple[str, str]]:
    return [(a.action.value, a.key) for a in plan_.actions]


def changes(action: Action) -> dict[str, tuple[Any, Any]]:
    return {c.path: (c.before, c.after) for c in action.attribute_changes}


def messages(plan_: Plan) -> list[str]:
    return [f"{w.key}: {w.message}" for w in plan_.warnings]


def converges(model: DirectoryModel, plan_: Plan, *users: UserSpec, **kw: Any) -> None:
    report = apply_plan(model, plan_)
    assert all(r.outcome.value == "applied" for r in report.results), report.results
    assert plan_for(model, *users, **kw).actions == ()


# --- the five cases of issue 7 ---------------------------------------------------------


def test_a_re_keyed_person_is_updated_never_deactivated() -> None:
    """key: externalId, the HR export re-keyed alice (same userName): her externalId is
    updated with a warning; she is not deactivated, and the next plan is empty."""
    model = DirectoryModel()
    alice = model.add_user("alice@example.com", externalId="E1", active=True)
    rules = policy(key="externalId", unmanaged="deactivate")
    spec = UserSpec(userName="alice@example.com", externalId="E2")
    result = plan_for(model, spec, policy=rules)
    (action,) = result.actions
    assert (action.action, action.key, action.id) == (ActionKind.UPDATE, "E2", alice)
    assert changes(action) == {"externalId": ("E1", "E2")}
    assert any("re-keyed" in m and "E1 -> E2" in m for m in messages(result))
    converges(model, result, spec, policy=rules)


@pytest.mark.parametrize(
    ("holder", "adopt", "expected"),
    [
        pytest.param({"externalId": "E1", "active": False}, "never", None, id="never"),
        pytest.param({"externalId": "E1", "active": False}, "inactive", "adopt", id="inactive"),
        pytest.param({"active": True}, "inactive", None, id="inactive-refuses-active"),
        pytest.param({"active": True}, "always", "adopt", id="always-no-external-id"),
    ],
)
def test_a_user_name_held_by_another_account_is_an_adoption_or_a_warning(
    holder: dict[str, Any], adopt: str, expected: str | None
) -> None:
    """key: externalId, a new person's userName is held by an account of another (or no)
    externalId: never a bare create; an explicit adopt when policy.users.adopt allows it,
    a warning that says how to allow it otherwise."""
    model = DirectoryModel()
    held = model.add_user("alice@example.com", **holder)
    rules = policy(key="externalId", adopt=adopt)
    spec = UserSpec(userName="alice@example.com", externalId="E2", displayName="Alice")
    result = plan_for(model, spec, policy=rules)
    if expected is None:
        assert result.actions == ()
        (message,) = messages(result)
        assert message.startswith("E2: not created: its userName alice@example.com is held")
        return
    (action,) = result.actions
    assert (action.action, action.id) == (ActionKind.ADOPT, held)
    assert changes(action)["externalId"] == (holder.get("externalId"), "E2")
    if not holder["active"]:
        assert changes(action)["active"] == (False, True)
    assert any("adopts the existing account" in m for m in messages(result))
    converges(model, result, spec, policy=rules)


def test_an_adoption_is_blocked_by_default_until_approved() -> None:
    """max_adoptions defaults to 0: a plan that adopts is blocked, with its basis."""
    model = DirectoryModel()
    model.add_user("alice@example.com", externalId="E1", active=False)
    rules = Policy(users=UsersPolicy(key="externalId", adopt="inactive"))
    result = plan_for(model, UserSpec(userName="alice@example.com", externalId="E2"), policy=rules)
    assert [(b.limit, b.allowed, b.planned) for b in result.blocked] == [("max_adoptions", 0, 1)]


def test_percentage_of_deactivations_counts_only_active_managed_users() -> None:
    """18 deactivated and 2 active users: deactivating both active ones is 100% of who can
    still sign in, so a 10% limit blocks it."""
    model = DirectoryModel()
    for number in range(18):
        model.add_user(f"gone{number}@example.com", active=False)
    model.add_user("ann@example.com", active=True)
    model.add_user("bob@example.com", active=True)
    rules = Policy(
        users=UsersPolicy(unmanaged="deactivate"), limits=LimitsPolicy(max_deactivations="10%")
    )
    result = plan_for(model, policy=rules)
    assert [(b.limit, b.allowed, b.planned, b.basis) for b in result.blocked] == [
        ("max_deactivations", 0, 2, "10% of 2 active managed users")
    ]


@pytest.mark.parametrize(
    ("rules", "reason"),
    [
        pytest.param(
            policy(protect=("alice@example.com",)),
            "protected by policy.users.protect",
            id="protect",
        ),
        pytest.param(policy(scope=("*@other.example",)), "outside policy.users.scope", id="scope"),
    ],
)
def test_a_file_user_the_policy_leaves_alone_is_a_warning(rules: Policy, reason: str) -> None:
    """A listed user that protect or scope keeps out of reach is warned about, not silent."""
    model = DirectoryModel()
    model.add_user("alice@example.com", displayName="Old")
    result = plan_for(
        model, UserSpec(userName="alice@example.com", displayName="New"), policy=rules
    )
    assert result.actions == ()
    assert messages(result) == [
        f"alice@example.com: listed in the files but {reason}; left as it is"
    ]


def test_the_key_of_the_files_policy_is_the_one_used() -> None:
    """The policy comes from the files: with key: externalId there, a user who exists under
    that externalId is matched (updated), not created."""
    model = DirectoryModel()
    alice = model.add_user("alice@old.example", externalId="E1")
    result = plan_for(
        model,
        UserSpec(userName="alice@new.example", externalId="E1"),
        policy=policy(key="externalId"),
    )
    (action,) = result.actions
    assert (action.action, action.id) == (ActionKind.UPDATE, alice)


# --- renames ---------------------------------------------------------------------------


def test_previous_user_names_plan_a_rename_of_the_same_account() -> None:
    """A userName rename listed in previousUserNames is an update of that account, with
    warnings; no create, no deactivation."""
    model = DirectoryModel()
    alice = model.add_user("alice@old.example")
    rules = policy(unmanaged="deactivate")
    spec = UserSpec(userName="alice@new.example", previousUserNames=("alice@old.example",))
    result = plan_for(model, spec, policy=rules)
    (action,) = result.actions
    assert (action.action, action.id) == (ActionKind.UPDATE, alice)
    assert changes(action) == {"userName": ("alice@old.example", "alice@new.example")}
    assert any("renamed: found by its previous userName" in m for m in messages(result))
    converges(model, result, spec, policy=rules)


def test_key_user_name_finds_a_renamed_person_by_external_id() -> None:
    """key: userName, the userName changed but the externalId did not: the same account is
    renamed (re-keyed), not created while the old one is deactivated."""
    model = DirectoryModel()
    alice = model.add_user("alice@old.example", externalId="E1")
    rules = policy(unmanaged="deactivate")
    spec = UserSpec(userName="alice@new.example", externalId="E1")
    result = plan_for(model, spec, policy=rules)
    assert kinds(result) == [("update", "alice@new.example")]
    assert result.actions[0].id == alice
    converges(model, result, spec, policy=rules)


def test_a_rename_onto_a_held_user_name_collides_and_deactivates_nobody() -> None:
    """key: externalId, alice's new userName belongs to another account: nothing is sent for
    her, her account is not deactivated, and the holder is left alone."""
    model = DirectoryModel()
    model.add_user("alice@example.com", externalId="E1")
    model.add_user("bob@example.com", externalId="E9")
    rules = policy(key="externalId", unmanaged="deactivate")
    result = plan_for(model, UserSpec(userName="bob@example.com", externalId="E1"), policy=rules)
    assert result.actions == ()
    assert any("is held by the live account bob@example.com" in m for m in messages(result))


def test_on_atlassian_an_email_held_by_another_account_blocks_a_create() -> None:
    """Atlassian keeps emails unique: a new user whose email another account has is not created."""
    model = DirectoryModel()
    model.add_user(
        "old@example.com", emails=[{"value": "x@example.com", "type": "work", "primary": True}]
    )
    spec = UserSpec(
        userName="new@example.com",
        emails=(Email(value="X@example.com", type="work", primary=True),),
    )
    assert plan_for(model, spec, policy=policy(), dialect="atlassian").actions == ()
    assert kinds(plan_for(model, spec, policy=policy(), dialect="generic")) == [
        ("create", "new@example.com")
    ]


def test_two_file_users_naming_one_account_are_both_left_alone() -> None:
    """One account, two file users that each name it by a non-key identifier: ambiguous."""
    model = DirectoryModel()
    model.add_user("old@example.com", externalId="E1")
    result = plan_for(
        model,
        UserSpec(userName="a@example.com", externalId="E1"),
        UserSpec(userName="b@example.com", previousUserNames=("old@example.com",)),
        policy=policy(unmanaged="deactivate"),
    )
    assert result.actions == ()
    assert len([m for m in messages(result) if "cannot be matched" in m]) == 2


def _renamed_group(dialect: str) -> tuple[DirectoryModel, Plan, DesiredState]:
    model = DirectoryModel()
    ann = model.add_user("ann@example.com")
    outsider = model.add_user("zed@partner.example")
    model.add_group("eng", [ann, outsider])
    state = DesiredState(
        users=(UserSpec(userName="ann@example.com"),),
        groups=(
            GroupSpec(
                displayName="engineering", previousNames=("eng",), members=("ann@example.com",)
            ),
        ),
        policy=Policy(users=UsersPolicy(scope=("*@example.com",)), limits=UNLIMITED),
    )
    return model, plan(state, model.snapshot(), PlanContext("model:", dialect)), state


def test_a_group_rename_is_a_patch_of_its_name_on_a_generic_server() -> None:
    """previousNames on a generic server: one update of displayName, members unchanged."""
    model, result, state = _renamed_group("generic")
    (action,) = result.actions
    assert (action.action, action.key) == (ActionKind.UPDATE, "engineering")
    assert changes(action) == {"displayName": ("eng", "engineering")}
    apply_plan(model, result)
    assert plan(state, model.snapshot(), PlanContext("model:", "generic")).actions == ()


def test_a_group_rename_on_atlassian_is_one_rename_step_that_keeps_every_member() -> None:
    """Names are immutable on Atlassian: one rename action (create, add members, delete old)
    that carries over members outside the policy's scope too, and counts as a deletion."""
    model, result, state = _renamed_group("atlassian")
    (action,) = result.actions
    assert (action.action, action.key, action.resource) == (
        ActionKind.RENAME,
        "engineering",
        Resource.GROUP,
    )
    assert action.member_change is not None
    assert action.member_change.add == ("ann@example.com", "zed@partner.example")
    apply_plan(model, result)
    (new_id,) = model.group_ids("engineering")
    assert model.group_ids("eng") == []
    assert model.member_ids(new_id) == {
        model.user_id("ann@example.com"),
        model.user_id("zed@partner.example"),
    }
    assert plan(state, model.snapshot(), PlanContext("model:", "atlassian")).actions == ()
    limited = state.model_copy(update={"policy": Policy(users=state.policy.users)})
    blocked = plan(limited, DirectoryModel().snapshot(), PlanContext("m", "atlassian")).blocked
    assert blocked == ()  # nothing to rename in an empty directory
    model2, _, _ = _renamed_group("atlassian")
    assert [
        b.limit for b in plan(limited, model2.snapshot(), PlanContext("m", "atlassian")).blocked
    ] == ["max_group_deletions"]


def test_an_interrupted_rename_on_atlassian_is_finished_by_the_next_plan() -> None:
    """Stopped after the new group was made: the next plan deletes the old group, says why."""
    model, _, state = _renamed_group("atlassian")
    model.add_group("engineering", [model.user_id("ann@example.com")])
    result = plan(state, model.snapshot(), PlanContext("model:", "atlassian"))
    assert kinds(result) == [("delete", "eng")]
    assert any("finishes an earlier rename" in m for m in messages(result))


# --- the identity stage itself ----------------------------------------------------------


def test_every_file_and_live_user_gets_exactly_one_identity() -> None:
    """The identity stage names each file user and each live user once."""
    model = DirectoryModel()
    model.add_user("ann@example.com", externalId="E1")
    model.add_user("bob@example.com", externalId="E2", active=False)
    model.add_user("cy@example.com", externalId="E3")
    specs = (
        UserSpec(userName="ann@example.com", externalId="E1"),
        UserSpec(userName="bob@example.com", externalId="E7"),
        UserSpec(userName="dee@example.com", externalId="E4"),
    )
    matches = match_users(specs, model.snapshot().users, "externalId", emails_unique=False)
    assert [(m.key, m.identity) for m in matches.files] == [
        ("E1", Identity.MATCHED), ("E4", Identity.UNMATCHED), ("E7", Identity.COLLIDES)
    ]  # fmt: skip
    assert [(m.account.userName, m.identity) for m in matches.live] == [
        ("ann@example.com", Identity.MATCHED),
        ("bob@example.com", Identity.COLLIDES),
        ("cy@example.com", Identity.UNMATCHED),
    ]


def test_groups_are_matched_by_name_then_by_previous_names() -> None:
    """A group found under a previous name is renamed; one that two groups name is ambiguous."""
    model = DirectoryModel()
    model.add_group("eng")
    model.add_group("ops")
    specs = (
        GroupSpec(displayName="engineering", previousNames=("eng",)),
        GroupSpec(displayName="ops"),
    )
    matches = match_groups(specs, model.snapshot().groups, renames_by_create=False)
    assert [(m.spec.displayName, m.identity) for m in matches.files] == [
        ("engineering", Identity.RENAMED), ("ops", Identity.MATCHED)
    ]  # fmt: skip


def test_additive_groups_policy_carries_extra_members_through_a_rename() -> None:
    """With additive members, a rename by create keeps members the files do not list."""
    model = DirectoryModel()
    ann = model.add_user("ann@example.com")
    bob = model.add_user("bob@example.com")
    model.add_group("eng", [ann, bob])
    state = DesiredState(
        users=(UserSpec(userName="ann@example.com"), UserSpec(userName="bob@example.com")),
        groups=(
            GroupSpec(
                displayName="engineering", previousNames=("eng",), members=("ann@example.com",)
            ),
        ),
        policy=Policy(groups=GroupsPolicy(members="additive"), limits=UNLIMITED),
    )
    (action,) = plan(state, model.snapshot(), PlanContext("m", "atlassian")).actions
    assert action.member_change is not None
    assert action.member_change.add == ("ann@example.com", "bob@example.com")


class _DeleteFails(ModelWriter):
    """A directory that answers every DELETE with a server error: a rename stops halfway."""

    def write(self, request: WriteRequest) -> WriteResult:
        if request.method == "DELETE":
            return WriteResult(503, None, error=ServerError("the server is down", status=503))
        return super().write(request)


def test_a_rename_stopped_between_its_steps_fails_visibly_and_the_next_plan_resumes() -> None:
    """The delete of the old group fails: the rename is reported failed (not applied), the
    new group exists with its members, and the next plan finishes by deleting the old one."""
    model, result, state = _renamed_group("atlassian")
    report = Executor(_DeleteFails(model), dialect=ATLASSIAN, concurrency=1).execute(result)
    assert [(r.kind, r.outcome) for r in report.results] == [(ActionKind.RENAME, Outcome.FAILED)]
    (new_id,) = model.group_ids("engineering")
    assert len(model.member_ids(new_id)) == 2
    resumed = plan(state, model.snapshot(), PlanContext("model:", "atlassian"))
    assert kinds(resumed) == [("delete", "eng")]
    apply_plan(model, resumed)
    assert plan(state, model.snapshot(), PlanContext("model:", "atlassian")).actions == ()


def test_an_account_under_a_previous_user_name_is_never_deactivated_as_unmanaged() -> None:
    """ann.new is matched by key to an old deactivated account while her previous userName
    still names her active account: that account is left alone with a warning, not
    deactivated (found by the property tests)."""
    model = DirectoryModel()
    model.add_user("ann@example.com", externalId="E-ann", active=True)
    model.add_user("ann.new@example.com", active=False)
    spec = UserSpec(userName="ann.new@example.com", previousUserNames=("ann@example.com",))
    result = plan_for(model, spec, policy=policy(unmanaged="deactivate"))
    assert kinds(result) == [("reactivate", "ann.new@example.com")]
    assert any("also answers to one of its identifiers" in m for m in messages(result))


def test_a_member_a_rename_carries_over_is_not_said_to_join() -> None:
    """On Atlassian a rename moves the old group's members; a deactivated (active: false)
    member moving with it does not 'join' the group (found by the property tests)."""
    model = DirectoryModel()
    bob = model.add_user("bob@example.com", active=False)
    model.add_group("eng-old", [bob])
    state = DesiredState(
        users=(UserSpec(userName="bob@example.com", active=False, groups=("eng",)),),
        groups=(GroupSpec(displayName="eng", previousNames=("eng-old",)),),
        policy=Policy(limits=UNLIMITED),
    )
    result = plan(state, model.snapshot(), PlanContext("model:", "atlassian"))
    assert kinds(result) == [("rename", "eng")]
    assert not any("joins" in m for m in messages(result))


def test_a_group_named_like_an_atlassian_default_group_is_warned_about_on_atlassian() -> None:
    """Creating a group named like a product's default group (jira-admins) is planned on
    Atlassian with a warning that it will never sync to the products; not elsewhere."""
    state = DesiredState(groups=(GroupSpec(displayName="Jira-Admins-acme"),))
    on_atlassian = plan(state, DirectoryModel().snapshot(), PlanContext("m", "atlassian"))
    assert kinds(on_atlassian) == [("create", "Jira-Admins-acme")]
    assert any("never sync the group to its products" in m for m in messages(on_atlassian))
    elsewhere = plan(state, DirectoryModel().snapshot(), PlanContext("m", "generic"))
    assert elsewhere.warnings == ()


def test_user_names_that_only_casefold_equal_are_different_users() -> None:
    """``straße@…`` and ``strasse@…`` are two accounts (scim2-server accepts both).

    Expected: the file's ``strasse@example.com`` is created; the live
    ``straße@example.com`` is not touched. Actual: the planner folds keys with
    ``str.casefold()`` (ß -> ss), matches the file's user to the other person's account
    and plans an update of *that* account (userName counted as unchanged).
    """
    account = {"id": "u1", "userName": "straße@example.com", "displayName": "Anna"}
    live = LiveSnapshot(users=(LiveUser.from_scim(account),))
    state = DesiredState(users=(UserSpec(userName="strasse@example.com", displayName="Bert"),))
    result = plan(state, live, PlanContext("t", "generic"))
    assert [(a.action, a.id) for a in result.actions] == [(ActionKind.CREATE, None)]


# --- names that look alike (issue 16, item 6) ------------------------------------------

NFD_JOSE = "jose\u0301@example.com"  # as macOS and some identity providers write it
NFC_JOSE = "jos\u00e9@example.com"


@pytest.mark.parametrize(
    ("live_name", "file_name"),
    [
        pytest.param(NFD_JOSE, NFC_JOSE, id="nfd-live-nfc-file"),
        pytest.param(NFC_JOSE, NFD_JOSE, id="nfc-live-nfd-file"),
        pytest.param(NFD_JOSE, NFC_JOSE.upper(), id="nfd-live-upper-file"),
        pytest.param("\uff4a\uff4f\uff53\u00e9@example.com", NFC_JOSE, id="fullwidth-live"),
    ],
)
def test_a_look_alike_user_name_is_the_same_account(live_name: str, file_name: str) -> None:
    """The live account under another Unicode form, case or width of the file's userName
    is that user: not created beside it while it is deactivated (a lock-out on a server
    that refuses the twin), not renamed to an invisible change; the plan is empty."""
    model = DirectoryModel()
    model.add_user(live_name, emails=[{"value": live_name, "primary": True}], active=True)
    rules = policy(unmanaged="deactivate")
    spec = UserSpec(userName=file_name, emails=(Email(value=file_name, primary=True),))
    result = plan_for(model, spec, policy=rules)
    assert (result.actions, result.warnings) == ((), ())


def test_a_look_alike_external_id_is_the_same_key() -> None:
    """key: externalId compares like userName: ``e-josé`` in NFD and ``E-JOSÉ`` are one
    key, and one value: the account is matched and nothing is changed."""
    model = DirectoryModel()
    model.add_user("jose@example.com", externalId="e-jose\u0301", active=True)
    rules = policy(key="externalId", unmanaged="deactivate")
    spec = UserSpec(userName="jose@example.com", externalId="E-JOS\u00c9")
    result = plan_for(model, spec, policy=rules)
    assert (result.actions, result.warnings) == ((), ())


def test_a_live_twin_of_a_file_user_under_another_key_is_never_deactivated() -> None:
    """key: externalId, the file's userName is held (in NFD) by an account with another
    externalId: that account collides and is left alone, never deactivated as unmanaged."""
    model = DirectoryModel()
    model.add_user(NFD_JOSE, externalId="E1", active=True)
    rules = policy(key="externalId", unmanaged="deactivate")
    result = plan_for(model, UserSpec(userName=NFC_JOSE, externalId="E2"), policy=rules)
    assert not [a for a in result.actions if a.action is ActionKind.DEACTIVATE]
    assert not [a for a in result.actions if a.action is ActionKind.CREATE]


def test_a_look_alike_group_is_the_same_group_and_keeps_its_members() -> None:
    """A live group ``Équipe`` (NFD) is the file's ``équipe``-in-NFC group: its members
    named by a look-alike key stay, it is neither created nor deleted, and a name that
    differs only in composition is not renamed."""
    model = DirectoryModel()
    jose = model.add_user(NFD_JOSE, active=True)
    model.add_group("E\u0301quipe", [jose])
    rules = Policy(
        users=UsersPolicy(unmanaged="deactivate"),
        groups=GroupsPolicy(unmanaged="delete"),
        limits=UNLIMITED,
    )
    result = plan_for(
        model,
        UserSpec(userName=NFC_JOSE),
        policy=rules,
        groups=(GroupSpec(displayName="\u00c9quipe", members=(NFC_JOSE.upper(),)),),
    )
    assert (result.actions, result.warnings) == ((), ())


def test_two_live_twins_are_left_alone_as_ambiguous() -> None:
    """A directory that holds a name in both forms cannot tell them apart: neither is
    changed, created beside or deactivated, and the warning says so."""
    model = DirectoryModel()
    model.add_user(NFD_JOSE, active=True)
    model.add_user(NFC_JOSE, active=True)
    result = plan_for(model, UserSpec(userName=NFC_JOSE), policy=policy(unmanaged="deactivate"))
    assert result.actions == ()
    assert any("several live users share this key" in m for m in messages(result))


def test_a_create_waiting_for_an_email_another_file_user_frees_says_it_waits() -> None:
    """On Atlassian, ann@in's second email is held by ann@out's account, which the files
    give ann@out without it: ann@out is updated now, ann@in is not created and the warning
    says it waits until that is resolved; the next plan creates her, the one after is empty."""
    model = DirectoryModel()
    model.add_user(
        "ann@out.example", active=True, emails=[{"value": "ann@mail.example", "primary": True}]
    )
    rules = policy(key="userName")
    ann_in = UserSpec(
        userName="ann@in.example",
        emails=(Email(value="ann@in.example", primary=True), Email(value="ann@mail.example")),
    )
    ann_out = UserSpec(
        userName="ann@out.example", emails=(Email(value="ann@out.example", primary=True),)
    )
    first = plan_for(model, ann_in, ann_out, policy=rules, dialect="atlassian")
    assert kinds(first) == [("update", "ann@out.example")]
    (waiting,) = [m for m in messages(first) if m.startswith("ann@in.example: not created")]
    assert waiting.endswith("it is not created until that is resolved")
    apply_plan(model, first)
    second = plan_for(model, ann_in, ann_out, policy=rules, dialect="atlassian")
    assert kinds(second) == [("create", "ann@in.example")]
    converges(model, second, ann_in, ann_out, policy=rules, dialect="atlassian")
