"""Saved plans: the file read back as the plan it was, and, against the embedded sandbox,
refused when stale, saying what changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.attributes import (
    member_add_operation,
    member_remove_operation,
    patch_body,
    user_patch_operations,
)
from reconciler.errors import ConfigError, StalePlanError
from reconciler.live import LiveGroup, LiveUser
from reconciler.plan import (
    AccessChange,
    Action,
    ActionKind,
    Change,
    Holders,
    LeftForLater,
    MemberChange,
    Plan,
    PlanWarning,
    Resource,
)
from reconciler.saved import (
    DERIVED,
    MAX_REASONS,
    check_plan_target,
    plan_path,
    read_plan,
    read_plan_file,
    saved_form,
    verify_saved_plan,
)
from reconciler.scim.client import ScimClient
from reconciler.scim.writes import WriteRequest
from reconciler.target import Target, connect

U, G, K = Resource.USER, Resource.GROUP, ActionKind


@pytest.fixture
def target(sandbox_db: Path) -> Target:
    """A fresh sandbox target."""
    return Target(
        url=f"sandbox:{sandbox_db}",
        dialect="atlassian",
        token_env="RECONCILER_TOKEN",
        sandbox_path=sandbox_db,
    )


@pytest.fixture
def client(target: Target) -> Iterator[ScimClient]:
    """reconciler's own client for the sandbox, as ``apply --plan`` opens it."""
    connection = connect(target, env={})
    yield connection.client
    connection.client.close()


def create(client: ScimClient, resource_type: str, body: dict[str, Any]) -> dict[str, Any]:
    created = client.write(WriteRequest.post(resource_type, body)).raise_for_error()
    assert created.resource is not None
    return created.resource


def patch(client: ScimClient, resource_type: str, resource_id: str, body: dict[str, Any]) -> None:
    client.write(WriteRequest.patch(resource_type, resource_id, body)).raise_for_error()


def add_user(client: ScimClient, name: str, **extra: Any) -> LiveUser:
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "emails": [{"value": name, "type": "work", "primary": True}],
        **extra,
    }
    return LiveUser.from_scim(create(client, "Users", body))


def add_group(client: ScimClient, name: str, *members: LiveUser) -> LiveGroup:
    body = {"displayName": name, "members": [{"value": m.id} for m in members]}
    return LiveGroup.from_scim(create(client, "Groups", body))


def set_user(client: ScimClient, user: LiveUser, **values: Any) -> None:
    operations = user_patch_operations(values.items())
    patch(client, "Users", user.id, patch_body(operations))


def update(user: LiveUser, *changes: Change, kind: ActionKind = K.UPDATE) -> Action:
    """An action planned against ``user`` as it was read."""
    return Action(
        resource=U,
        action=kind,
        key=user.userName,
        id=user.id,
        fingerprint=user.fingerprint,
        changes=changes,
    )


def plan_of(target: Target, *actions: Action, **user_ids: str) -> Plan:
    return Plan(target=target.url, dialect="atlassian", actions=actions, user_ids=user_ids)


def stale_message(plan: Plan, client: ScimClient, target: Target) -> str:
    with pytest.raises(StalePlanError) as raised:
        verify_saved_plan(plan, client, target.url)
    message = str(raised.value)
    assert message.startswith("the saved plan is stale; nothing was sent.")
    return message


def test_unchanged_directory_passes(client: ScimClient, target: Target) -> None:
    """A plan whose objects are as they were read is accepted."""
    alice = add_user(client, "alice@example.com", displayName="Alice")
    plan = plan_of(target, update(alice, Change(path="displayName", before="Alice", after="Al")))
    verify_saved_plan(plan, client, target.url)


def test_changed_attribute_is_named_with_planned_and_current_value(
    client: ScimClient, target: Target
) -> None:
    """An attribute the plan changes that moved since says what it was and what it is now."""
    alice = add_user(client, "alice@example.com", displayName="Alice")
    plan = plan_of(target, update(alice, Change(path="displayName", before="Alice", after="Al")))
    set_user(client, alice, displayName="Alicia")
    assert (
        "user alice@example.com changed since the plan was made: "
        'displayName was "Alice" when planned, now "Alicia"'
    ) in stale_message(plan, client, target)


def test_changed_emails_are_named_item_by_item(client: ScimClient, target: Target) -> None:
    """A multi-valued attribute that moved since says which items differ, not whole lists."""
    alice = add_user(client, "alice@example.com")
    before = alice.attributes["emails"]
    after = [{"value": "alice@example.org", "type": "work", "primary": True}]
    plan = plan_of(target, update(alice, Change(path="emails", before=before, after=after)))
    set_user(
        client,
        alice,
        emails=[
            {"value": "alice@example.com", "type": "home", "primary": True},
            {"value": "a2@example.com", "type": "work", "primary": False},
        ],
    )
    assert (
        "user alice@example.com changed since the plan was made: emails since planned: "
        'alice@example.com: type "work" -> "home", '
        '+ {"value":"a2@example.com","type":"work","primary":false}'
    ) in stale_message(plan, client, target).replace("~ ", "")


def test_change_outside_the_plan_is_named_as_such(client: ScimClient, target: Target) -> None:
    """An object that changed only where the plan does not write says so."""
    alice = add_user(client, "alice@example.com", displayName="Alice")
    plan = plan_of(target, update(alice, Change(path="displayName", before="Alice", after="Al")))
    set_user(client, alice, title="Boss")
    assert (
        "user alice@example.com changed since the plan was made, "
        "in an attribute the plan does not change"
    ) in stale_message(plan, client, target)


def test_adopted_account_renamed_since_is_named(client: ScimClient, target: Target) -> None:
    """An adopt whose account was renamed or reactivated since names both changes."""
    robert = add_user(client, "robert@example.com", active=False)
    adopt = update(
        robert,
        Change(path="userName", before="robert@example.com", after="bob@example.com"),
        Change(path="active", before=False, after=True),
        kind=K.ADOPT,
    ).model_copy(update={"key": "bob@example.com"})
    plan = plan_of(target, adopt)
    patch(
        client,
        "Users",
        robert.id,
        patch_body(
            [
                {"op": "replace", "path": "userName", "value": "rob@example.com"},
                {"op": "replace", "path": "active", "value": True},
            ]
        ),
    )
    assert (
        "user bob@example.com changed since the plan was made: "
        'userName was "robert@example.com" when planned, now "rob@example.com"; '
        "active was false when planned, now true"
    ) in stale_message(plan, client, target)


def test_group_members_that_moved_since_are_named(client: ScimClient, target: Target) -> None:
    """A member the plan adds who joined since, or removes who left since, is named."""
    alice = add_user(client, "alice@example.com")
    bob = add_user(client, "bob@example.com")
    team = add_group(client, "team", bob)
    action = Action(
        resource=G,
        action=K.UPDATE,
        key="team",
        id=team.id,
        fingerprint=team.fingerprint,
        changes=(MemberChange(add=("alice@example.com",), remove=("bob@example.com",)),),
    )
    plan = plan_of(target, action, **{"alice@example.com": alice.id, "bob@example.com": bob.id})
    verify_saved_plan(plan, client, target.url)
    body = patch_body([member_add_operation([alice.id]), member_remove_operation(bob.id)])
    patch(client, "Groups", team.id, body)
    assert (
        "group team changed since the plan was made: "
        "alice@example.com is a member now (the plan adds it); "
        "bob@example.com is no longer a member (the plan removes it)"
    ) in stale_message(plan, client, target)


def test_other_group_change_is_named_as_outside_the_plan(
    client: ScimClient, target: Target
) -> None:
    """A group that gained a member the plan does not name is stale, said as such."""
    alice = add_user(client, "alice@example.com")
    carol = add_user(client, "carol@example.com")
    team = add_group(client, "team")
    action = Action(
        resource=G,
        action=K.UPDATE,
        key="team",
        id=team.id,
        fingerprint=team.fingerprint,
        changes=(MemberChange(add=("alice@example.com",)),),
    )
    plan = plan_of(target, action, **{"alice@example.com": alice.id})
    patch(client, "Groups", team.id, patch_body([member_add_operation([carol.id])]))
    assert (
        "group team changed since the plan was made, "
        "in an attribute or member the plan does not change"
    ) in stale_message(plan, client, target)


def test_rename_is_stale_when_its_old_group_changed_or_new_name_exists(
    client: ScimClient, target: Target
) -> None:
    """A rename re-reads the old group and refuses when a group has the new name now."""
    alice = add_user(client, "alice@example.com")
    bob = add_user(client, "bob@example.com")
    ops = add_group(client, "ops", bob)
    rename = Action(
        resource=G,
        action=K.RENAME,
        key="operations",
        id=ops.id,
        fingerprint=ops.fingerprint,
        changes=(
            Change(path="displayName", before="ops", after="operations"),
            MemberChange(add=("alice@example.com",), remove=("bob@example.com",)),
        ),
    )
    plan = plan_of(target, rename, **{"alice@example.com": alice.id, "bob@example.com": bob.id})
    verify_saved_plan(plan, client, target.url)
    add_group(client, "operations")
    patch(client, "Groups", ops.id, patch_body([member_add_operation([alice.id])]))
    message = stale_message(plan, client, target)
    assert "group operations now exists (the plan renames a group to it)" in message
    # Members a rename adds go to the new group: the old one having them is no news.
    assert (
        "group ops -> operations changed since the plan was made, "
        "in an attribute or member the plan does not change"
    ) in message
    patch(client, "Groups", ops.id, patch_body([member_remove_operation(bob.id)]))
    assert (
        "group ops -> operations changed since the plan was made: "
        "bob@example.com is no longer a member (the plan removes it)"
    ) in stale_message(plan, client, target)


def test_group_renamed_since_is_named(client: ScimClient, target: Target) -> None:
    """A group whose displayName the plan changes in place says what it is called now."""
    team = add_group(client, "team")
    action = Action(
        resource=G,
        action=K.UPDATE,
        key="team",
        id=team.id,
        fingerprint="sha256:planned-against-another-state",
        changes=(Change(path="displayName", before="Team", after="team"),),
    )
    assert (
        "group team changed since the plan was made: "
        'displayName was "Team" when planned, now "team"'
    ) in stale_message(plan_of(target, action), client, target)


def test_created_and_deleted_objects_are_named(client: ScimClient, target: Target) -> None:
    """An object the plan creates that exists now, or one it changes that is gone, is named."""
    alice = add_user(client, "alice@example.com", displayName="Alice")
    plan = plan_of(
        target,
        Action(resource=U, action=K.CREATE, key="new@example.com"),
        update(alice, Change(path="displayName", before="Alice", after="Al")),
    )
    add_user(client, "New@example.com")
    client.write(WriteRequest.delete("Users", alice.id)).raise_for_error()
    message = stale_message(plan, client, target)
    assert "user new@example.com now exists (the plan creates it)" in message
    assert f"user alice@example.com ({alice.id}) no longer exists" in message


def test_values_from_the_directory_cannot_move_the_terminal(
    client: ScimClient, target: Target
) -> None:
    """Control characters in a re-read value are escaped in the refusal."""
    alice = add_user(client, "alice@example.com", displayName="Alice")
    plan = plan_of(target, update(alice, Change(path="displayName", before="Alice", after="Al")))
    set_user(client, alice, displayName="x\x1b[2J\u202e")
    message = stale_message(plan, client, target)
    assert "\x1b" not in message
    assert "\u202e" not in message
    assert 'now "x\\u001b[2J\\u202e"' in message


def test_many_reasons_are_capped(client: ScimClient, target: Target) -> None:
    """At most MAX_REASONS objects are listed, then how many more."""
    users = [add_user(client, f"u{n:02d}@example.com", title="A") for n in range(MAX_REASONS + 3)]
    plan = plan_of(target, *(update(u, Change(path="title", before="A", after="B")) for u in users))
    for user in users:
        set_user(client, user, title="C")
    message = stale_message(plan, client, target)
    assert message.count("changed since the plan was made") == MAX_REASONS
    assert message.endswith("\n  ... and 3 more")


def test_plan_for_another_target_is_refused(target: Target) -> None:
    """A plan made for another directory is refused before anything is read."""
    with pytest.raises(StalePlanError, match="was made for"):
        check_plan_target(plan_of(target), "sandbox:other.db")


def test_a_create_keyed_by_external_id_is_stale_only_for_that_exact_id(
    client: ScimClient, target: Target
) -> None:
    """With ``key: externalId`` a create whose externalId exists now is stale; externalIds
    compare exactly, so one in another letter case is someone else's and no reason."""
    add_user(client, "someone@example.com", externalId="emp-7")

    def creating(key: str) -> Plan:
        action = Action(resource=U, action=K.CREATE, key=key)
        return Plan(
            target=target.url, dialect="atlassian", user_key="externalId", actions=(action,)
        )

    verify_saved_plan(creating("EMP-7"), client, target.url)
    message = stale_message(creating("emp-7"), client, target)
    assert "user emp-7 now exists (the plan creates it)" in message


# The file: what ``plan --out`` writes and ``apply --plan`` reads.


def _email(value: str, *, primary: bool = True) -> dict[str, object]:
    return {"value": value, "type": "work", "primary": primary}


def full_plan() -> Plan:
    """A plan with every part a saved form derives something from: a multi-valued change
    (``items``), the access review (``sensitive_changes``), a rate (``cost``)."""
    return Plan(
        target="https://api.atlassian.com/scim/directory/abc",
        dialect="atlassian",
        token_env="RECONCILER_TOKEN",
        actions=(
            Action(
                resource=U,
                action=K.UPDATE,
                key="erin@example.com",
                id="u-1",
                fingerprint="sha256:aaa",
                changes=(
                    Change(
                        path="emails",
                        before=[_email("erin@example.com")],
                        after=[_email("erin@example.com"), _email("e@x.example", primary=False)],
                    ),
                ),
            ),
            Action(
                resource=G,
                action=K.UPDATE,
                key="admins",
                id="g-1",
                fingerprint="sha256:bbb",
                changes=(MemberChange(add=("erin@example.com",)),),
            ),
        ),
        warnings=(PlanWarning(key="erin@example.com", message="changes the emails"),),
        left_for_later=(LeftForLater(resource=U, action=K.CREATE, key="new@example.com"),),
        user_ids={"erin@example.com": "u-1"},
        sensitive_groups=("admins",),
        rate=10.0,
        access=(AccessChange(key="erin@example.com", gains=("admins",), sensitive=("admins",)),),
        holders=(Holders(group="admins", before=1, after=2),),
    )


def test_a_saved_plan_reads_back_as_the_plan_with_its_digest() -> None:
    """What ``plan --out`` writes reads back equal to the plan, with the same digest."""
    plan = full_plan()
    again = read_plan(saved_form(plan))
    assert again == plan
    assert again.digest == plan.digest
    assert saved_form(again) == saved_form(plan)


def test_the_derived_keys_are_exactly_what_the_saved_form_adds_to_the_plan() -> None:
    """Every top-level key of the saved form is a field of the plan or one of ``DERIVED``
    (``cost`` standing for ``rate``), so reading drops what is derived and nothing else."""
    written = set(json.loads(saved_form(full_plan())))
    fields = set(Plan.model_fields)
    assert written - fields == set(DERIVED)
    assert fields - written == {"rate"}
    (change,) = json.loads(saved_form(full_plan()))["actions"][0]["changes"]
    assert set(change) - set(Change.model_fields) == {"items"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{not json", "not a JSON plan", id="not-json"),
        pytest.param("[]", "not a JSON plan object", id="not-object"),
        pytest.param('{"format_version": 2}', "format_version must be 1", id="version"),
        pytest.param('{"format_version": 1, "target": 3}', "not a valid plan", id="invalid"),
    ],
)
def test_unreadable_saved_plans_are_config_errors(text: str, message: str) -> None:
    """A file that is not a version-1 plan is refused with a message, not a traceback."""
    with pytest.raises(ConfigError, match=message):
        read_plan(text, source="plan.json")


def test_an_edited_action_breaks_the_digest() -> None:
    """Changing an action in a saved plan is refused: its digest no longer matches."""
    data = json.loads(saved_form(full_plan()))
    data["actions"][0]["fingerprint"] = "sha256:other"
    with pytest.raises(ConfigError, match="digest does not match"):
        read_plan(json.dumps(data))


def test_a_key_the_plan_does_not_hold_is_refused() -> None:
    """A key that is neither the plan's nor derived from it is no part of a plan."""
    data = json.loads(saved_form(full_plan()))
    data["approved"] = True
    with pytest.raises(ConfigError, match="not a valid plan"):
        read_plan(json.dumps(data))


def test_edited_items_are_refused() -> None:
    """A change whose ``items`` no longer follow from its before and after is refused."""
    data = json.loads(saved_form(full_plan()))
    data["actions"][0]["changes"][0]["items"] = []
    with pytest.raises(ConfigError, match="do not follow from its before and after"):
        read_plan(json.dumps(data), source="plan.json")


def test_a_plan_written_without_derived_keys_reads_back() -> None:
    """The plan's own JSON without ``items`` (``Plan.to_json``) reads back as the plan."""
    assert read_plan(full_plan().to_json()) == full_plan()


def test_a_directory_gets_plan_json_inside_and_a_missing_file_is_a_config_error(
    tmp_path: Path,
) -> None:
    """``plan --out DIR/`` writes DIR/plan.json; reading a file that is not there says so."""
    assert plan_path(tmp_path) == tmp_path / "plan.json"
    assert plan_path(tmp_path / "p.json") == tmp_path / "p.json"
    with pytest.raises(ConfigError, match="cannot read the plan"):
        read_plan_file(tmp_path / "missing.json")
