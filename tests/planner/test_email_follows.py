"""A renamed account's primary email (issue 16 item 9): warned about, or following the
userName with ``policy.users.email_follows_username``, never onto an address another
account holds; against an in-memory directory, applied to show the next plan is empty."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.desired import (
    DesiredState,
    Email,
    LimitsPolicy,
    Policy,
    UserSpec,
    UsersPolicy,
)
from reconciler.plan import Action, Plan
from reconciler.planner import PlanContext, plan
from reconciler.planner.follow import followed_address
from tests.directory_model import DirectoryModel, apply_plan

ROOT = Path(__file__).resolve().parents[2]
UNLIMITED = LimitsPolicy(max_deactivations=10**6, max_member_removals=10**6)
SETTING = "policy.users.email_follows_username"


def rules(**users: Any) -> Policy:
    return Policy(users=UsersPolicy(**users), limits=UNLIMITED)


def plan_for(
    model: DirectoryModel, *users: UserSpec, policy: Policy, dialect: str = "atlassian"
) -> Plan:
    state = DesiredState(users=users, policy=policy)
    return plan(state, model.snapshot(), PlanContext("model:", dialect))


def work(address: str, primary: bool = True) -> dict[str, Any]:
    return {"value": address, "type": "work", "primary": primary}


def changes(action: Action) -> dict[str, tuple[Any, Any]]:
    return {c.path: (c.before, c.after) for c in action.attribute_changes}


def follow_warnings(plan_: Plan) -> list[str]:
    return [w.message for w in plan_.warnings if "primary email stays" in w.message]


ANN = UserSpec(userName="ann.smith@example.com", previousUserNames=("ann.archer@example.com",))


def _ann(model: DirectoryModel, *more: dict[str, Any], **attrs: Any) -> str:
    return model.add_user(
        "ann.archer@example.com", emails=[work("ann.archer@example.com"), *more], **attrs
    )


def test_a_rename_warns_that_the_primary_email_stays() -> None:
    """Emails not managed, policy off: the userName changes alone, and the plan says the
    primary email stays the old one, why it matters on Atlassian, and what to set."""
    model = DirectoryModel()
    _ann(model)
    result = plan_for(model, ANN, policy=rules())
    (action,) = result.actions
    assert set(changes(action)) == {"userName"}
    assert follow_warnings(result) == [
        "its primary email stays ann.archer@example.com while its userName changes: the "
        "files do not manage its emails; on Atlassian the email is how the account is "
        f"found and linked. Set {SETTING}: true to change it to ann.smith@example.com "
        "with the userName, or list the user's emails"
    ]


def test_with_the_setting_the_primary_email_follows_and_the_next_plan_is_empty() -> None:
    """email_follows_username: the primary email becomes the new userName in the same
    update (other emails kept), with the email-change warning; applied, nothing is left."""
    model = DirectoryModel()
    ann = _ann(model, work("ann@home.example", primary=False))
    policy = rules(email_follows_username=True)
    result = plan_for(model, ANN, policy=policy)
    (action,) = result.actions
    assert changes(action)["emails"] == (
        [work("ann.archer@example.com"), work("ann@home.example", primary=False)],
        [work("ann.smith@example.com"), work("ann@home.example", primary=False)],
    )
    assert follow_warnings(result) == []
    assert any("changes the email of an existing account" in w.message for w in result.warnings)
    apply_plan(model, result)
    assert model.users[ann]["userName"] == "ann.smith@example.com"
    assert plan_for(model, ANN, policy=policy).actions == ()


def test_a_re_key_under_external_id_follows_too() -> None:
    """key: externalId: the HR export renames E1 from ann.archer to ann.smith; the email
    follows the same way, and the next plan is empty."""
    model = DirectoryModel()
    _ann(model, externalId="E1")
    ann = UserSpec(userName="ann.smith@example.com", externalId="E1")
    policy = rules(key="externalId", email_follows_username=True)
    result = plan_for(model, ann, policy=policy)
    (action,) = result.actions
    assert changes(action)["emails"][1] == [work("ann.smith@example.com")]
    apply_plan(model, result)
    assert plan_for(model, ann, policy=policy).actions == ()


def test_a_user_name_that_is_no_address_keeps_the_domain() -> None:
    """ann.archer -> ann.smith with the email ann.archer@example.com: the email follows
    to ann.smith@example.com (or is warned about, without the setting)."""
    model = DirectoryModel()
    model.add_user("ann.archer", emails=[work("ann.archer@example.com")])
    ann = UserSpec(userName="ann.smith", previousUserNames=("ann.archer",))
    warned = plan_for(model, ann, policy=rules(), dialect="generic")
    assert follow_warnings(warned) == [
        "its primary email stays ann.archer@example.com while its userName changes: the "
        f"files do not manage its emails. Set {SETTING}: true to change it to "
        "ann.smith@example.com with the userName, or list the user's emails"
    ]
    followed = plan_for(model, ann, policy=rules(email_follows_username=True))
    assert changes(followed.actions[0])["emails"][1] == [work("ann.smith@example.com")]


def test_emails_managed_in_the_files_are_left_to_the_files() -> None:
    """A user whose emails the files list says what they are: no warning, no following."""
    model = DirectoryModel()
    _ann(model)
    ann = UserSpec(
        userName="ann.smith@example.com",
        previousUserNames=("ann.archer@example.com",),
        emails=(Email(value="ann.archer@example.com", type="work", primary=True),),
    )
    for setting in (False, True):
        result = plan_for(model, ann, policy=rules(email_follows_username=setting))
        assert set(changes(result.actions[0])) == {"userName"}
        assert follow_warnings(result) == []


def test_an_email_that_did_not_follow_the_user_name_is_not_touched() -> None:
    """A primary email unrelated to the old userName stays, without a warning."""
    model = DirectoryModel()
    model.add_user("ann.archer@example.com", emails=[work("ann@elsewhere.example")])
    for setting in (False, True):
        result = plan_for(model, ANN, policy=rules(email_follows_username=setting))
        assert set(changes(result.actions[0])) == {"userName"}
        assert follow_warnings(result) == []


def test_an_address_another_account_holds_is_not_planned_on_atlassian() -> None:
    """On Atlassian an email belongs to one account: when another live account holds the
    new address, the userName changes alone and the plan names the holder. A generic
    server, where emails may repeat, follows."""
    model = DirectoryModel()
    _ann(model)
    bob_emails = [work("bob@example.com"), work("ann.smith@example.com", primary=False)]
    model.add_user("bob@example.com", emails=bob_emails)
    policy = rules(email_follows_username=True)
    result = plan_for(model, ANN, policy=policy)
    (action,) = result.actions
    assert set(changes(action)) == {"userName"}
    assert follow_warnings(result) == [
        "its primary email stays ann.archer@example.com while its userName changes: "
        "ann.smith@example.com is held by the live account bob@example.com, and two "
        f"accounts cannot share an email ({SETTING}); the userName changes alone"
    ]
    generic = plan_for(model, ANN, policy=policy, dialect="generic")
    assert "emails" in changes(generic.actions[0])


def test_an_address_another_file_user_wants_is_not_planned() -> None:
    """A new file user whose (default) email is the address a rename would follow to:
    the two would collide in one apply, so the email stays, with a warning."""
    model = DirectoryModel()
    model.add_user("ann.archer", emails=[work("ann.archer@example.com")])
    ann = UserSpec(userName="ann.smith", previousUserNames=("ann.archer",))
    other = UserSpec(userName="ann.smith@example.com")
    result = plan_for(model, ann, other, policy=rules(email_follows_username=True))
    (message,) = follow_warnings(result)
    assert "ann.smith@example.com is wanted by the file user ann.smith@example.com" in message
    update = next(a for a in result.actions if a.key == "ann.smith")
    assert set(changes(update)) == {"userName"}


@pytest.mark.parametrize(
    ("old", "new", "primary", "expected"),
    [
        ("ann.archer@example.com", "ann.smith@example.com", "Ann.Archer@example.com",
         "ann.smith@example.com"),
        ("ann.archer", "ann.smith", "ann.archer@example.com", "ann.smith@example.com"),
        ("ann.archer", "ann.smith@corp.example", "ann.archer@example.com",
         "ann.smith@corp.example"),
        ("ann.archer@example.com", "ann.smith@example.com", "ann@example.com", None),
        ("ann.archer@example.com", "ann.smith@example.com", "ann.archer@other.example", None),
        ("ann", "ann.smith", "not-an-address", None),
    ],
)  # fmt: skip
def test_followed_address(old: str, new: str, primary: str, expected: str | None) -> None:
    """The address a primary email follows to: the new userName, or it at the old domain;
    None when the email was not the userName's."""
    assert followed_address(old, new, primary) == expected


def test_the_committed_schema_has_the_setting() -> None:
    """schemas/desired-state.schema.json (regenerated by `reconciler schema`) offers
    email_follows_username to editors: a boolean, false by default."""
    schema = json.loads((ROOT / "schemas" / "desired-state.schema.json").read_text("utf-8"))
    setting = schema["$defs"]["UsersPolicy"]["properties"]["email_follows_username"]
    assert (setting["type"], setting["default"]) == ("boolean", False)
    assert "primary email" in setting["description"]
