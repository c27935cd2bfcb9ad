"""PATCH (RFC 7644 section 3.5.2) on users and groups, in Atlassian's dialect."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from reconciler.sandbox.patch import apply_operations, parse_patch, parse_path
from reconciler.sandbox.problems import ScimRequestError
from reconciler.sandbox.schemas import GROUP, USER
from reconciler.sandbox.store import MemberOperation

from .conftest import GroupFactory, UserFactory
from .helpers import ATLASSIAN, ENTERPRISE, patch_body, scim_error


def _patch_user(client: httpx.Client, user: dict[str, Any], *ops: dict[str, Any]) -> httpx.Response:
    return client.patch(f"/Users/{user['id']}", json=patch_body(*ops))


# Users --------------------------------------------------------------------------


def test_replace_simple_attribute(client: httpx.Client, new_user: UserFactory) -> None:
    """RFC 7644 section 3.5.2.3: replace sets the attribute; Atlassian answers 200 + resource."""
    ann = new_user("ann")
    response = _patch_user(client, ann, {"op": "replace", "path": "displayName", "value": "Ann"})
    assert response.status_code == 200
    assert response.json()["displayName"] == "Ann"
    assert client.get(f"/Users/{ann['id']}").json()["displayName"] == "Ann"


def test_replace_sub_attribute(client: httpx.Client, new_user: UserFactory) -> None:
    """RFC 7644 section 3.5.2.3: name.givenName changes only that sub-attribute."""
    ann = new_user("ann", name={"givenName": "Ann", "familyName": "Lee"})
    op = {"op": "replace", "path": "name.givenName", "value": "Anne"}
    assert _patch_user(client, ann, op).json()["name"] == {"givenName": "Anne", "familyName": "Lee"}


@pytest.mark.parametrize("value", [False, "False"], ids=["bool", "string"])
def test_deactivate_and_reactivate(client: httpx.Client, new_user: UserFactory, value: Any) -> None:
    """docs/atlassian.md "Users": deactivate with PATCH active=false, reactivate with true."""
    ann = new_user("ann")
    response = _patch_user(client, ann, {"op": "replace", "path": "active", "value": value})
    assert response.json()["active"] is False
    response = _patch_user(client, ann, {"op": "replace", "path": "active", "value": True})
    assert response.json()["active"] is True


def test_deactivated_user_keeps_memberships(
    client: httpx.Client, new_user: UserFactory, new_group: GroupFactory
) -> None:
    """docs/atlassian.md "Users": a deactivated user keeps its group memberships."""
    ann = new_user("ann")
    group = new_group("Eng", ann["id"])
    _patch_user(client, ann, {"op": "replace", "path": "active", "value": False})
    assert [m["value"] for m in client.get(f"/Groups/{group['id']}").json()["members"]] == [
        ann["id"]
    ]
    assert client.get(f"/Users/{ann['id']}").json()["groups"][0]["value"] == group["id"]


def test_enterprise_path(client: httpx.Client, new_user: UserFactory) -> None:
    """RFC 7644 section 3.5.2: a URN-qualified path reaches the enterprise extension."""
    ann = new_user("ann")
    op = {"op": "add", "path": f"{ENTERPRISE}:department", "value": "Eng"}
    assert _patch_user(client, ann, op).json()[ENTERPRISE] == {"department": "Eng"}
    op = {"op": "remove", "path": f"{ENTERPRISE}:department"}
    assert ENTERPRISE not in _patch_user(client, ann, op).json()


def test_pathless_replace_with_extension_key(client: httpx.Client, new_user: UserFactory) -> None:
    """RFC 7644 section 3.5.2.3: without a path, value holds attributes, URN keys included."""
    ann = new_user("ann", organization="ACME")
    value = {"title": "Boss", ENTERPRISE: {"department": "Ops"}}
    user = _patch_user(client, ann, {"op": "replace", "value": value}).json()
    assert user["title"] == "Boss"
    assert user[ENTERPRISE] == {"organization": "ACME", "department": "Ops"}
    value = {f"{ENTERPRISE}:organization": "Initech"}
    user = _patch_user(client, ann, {"op": "replace", "value": value}).json()
    assert (user["organization"], user[ENTERPRISE]["organization"]) == ("Initech", "Initech")


def test_remove_whole_enterprise_extension(client: httpx.Client, new_user: UserFactory) -> None:
    """Removing the enterprise extension removes department and organization, stored top-level."""
    ann = new_user("ann", department="Eng", organization="ACME", title="Boss")
    user = _patch_user(client, ann, {"op": "remove", "path": ENTERPRISE}).json()
    assert ENTERPRISE not in user
    assert "department" not in user
    assert "organization" not in user
    assert user["title"] == "Boss"


@pytest.mark.parametrize(
    ("operation", "named"),
    [
        pytest.param({"op": "replace", "path": "locale", "value": "en"}, "locale", id="locale"),
        pytest.param({"op": "remove", "path": "userType"}, "userType", id="remove-userType"),
        pytest.param(
            {"op": "add", "path": f"{ENTERPRISE}:costCenter", "value": "42"},
            f"{ENTERPRISE}:costCenter",
            id="enterprise-path",
        ),
        pytest.param(
            {"op": "add", "value": {"profileUrl": "https://x.example"}},
            "profileUrl",
            id="pathless",
        ),
        pytest.param(
            {"op": "add", "path": ENTERPRISE, "value": {"division": "North"}},
            f"{ENTERPRISE}:division",
            id="whole-extension",
        ),
    ],
)
def test_attributes_atlassian_lacks_are_refused_in_patch(
    client: httpx.Client, new_user: UserFactory, operation: dict[str, Any], named: str
) -> None:
    """docs/atlassian.md "The sandbox's organisation": a PATCH naming an attribute Atlassian's
    schema lacks is a 400."""
    ann = new_user("ann")
    response = client.patch(f"/Users/{ann['id']}", json=patch_body(operation))
    assert (
        scim_error(response, 400, "invalidValue") == f"the Atlassian API has no {named} attribute"
    )


def test_pathless_add(client: httpx.Client, new_user: UserFactory) -> None:
    """RFC 7644 section 3.5.2.1: add without a path merges the value's attributes."""
    ann = new_user("ann", name={"familyName": "Lee"})
    value = {"nickName": "A", "name": {"givenName": "Ann"}}
    user = _patch_user(client, ann, {"op": "add", "value": value}).json()
    assert user["nickName"] == "A"
    assert user["name"] == {"familyName": "Lee", "givenName": "Ann"}


def test_remove_attribute(client: httpx.Client, new_user: UserFactory) -> None:
    """RFC 7644 section 3.5.2.2: remove unassigns the attribute."""
    ann = new_user("ann", title="Engineer", name={"givenName": "Ann", "familyName": "Lee"})
    user = _patch_user(
        client, ann, {"op": "remove", "path": "title"}, {"op": "remove", "path": "name.givenName"}
    ).json()
    assert "title" not in user
    assert user["name"] == {"familyName": "Lee"}


def test_replace_emails(client: httpx.Client, new_user: UserFactory) -> None:
    """RFC 7644 section 3.5.2.3: replace on a multi-valued attribute replaces every value."""
    ann = new_user("ann")
    emails = [{"value": "ann@new.example", "type": "work", "primary": True}]
    user = _patch_user(client, ann, {"op": "replace", "path": "emails", "value": emails}).json()
    assert user["emails"] == emails


def test_filtered_email_value(client: httpx.Client, new_user: UserFactory) -> None:
    """RFC 7644 section 3.5.2.3: emails[type eq "work"].value changes the matching value."""
    ann = new_user("ann", emails=[{"value": "a@x.example", "type": "work", "primary": True}])
    op = {"op": "replace", "path": 'emails[type eq "work"].value', "value": "b@x.example"}
    assert _patch_user(client, ann, op).json()["emails"][0]["value"] == "b@x.example"


def test_filter_without_match_is_no_target(client: httpx.Client, new_user: UserFactory) -> None:
    """RFC 7644 section 3.5.2.3: a value filter that matches nothing is 400 noTarget."""
    ann = new_user("ann")
    op = {"op": "replace", "path": 'emails[type eq "home"].value', "value": "h@x.example"}
    scim_error(_patch_user(client, ann, op), 400, "noTarget")


def test_new_primary_email_demotes_old(client: httpx.Client, new_user: UserFactory) -> None:
    """RFC 7644 section 3.5.2: adding a primary value sets primary false on the others."""
    ann = new_user("ann")
    op = {"op": "add", "path": "emails", "value": [{"value": "n@x.example", "primary": True}]}
    emails = _patch_user(client, ann, op).json()["emails"]
    assert [e["primary"] for e in emails] == [False, True]


def test_removing_primary_email_is_refused(client: httpx.Client, new_user: UserFactory) -> None:
    """docs/atlassian.md "Users": a user always needs exactly one primary email."""
    ann = new_user("ann")
    scim_error(_patch_user(client, ann, {"op": "remove", "path": "emails"}), 400, "invalidValue")


def test_email_taken_by_another_user(client: httpx.Client, new_user: UserFactory) -> None:
    """docs/atlassian.md "Conflicts (409)": updating to an email another account holds is 409
    uniqueness."""
    new_user("bob")
    ann = new_user("ann")
    emails = [{"value": "BOB@example.com", "primary": True}]
    response = _patch_user(client, ann, {"op": "replace", "path": "emails", "value": emails})
    detail = scim_error(response, 409, "uniqueness")
    assert detail == "Resource [USER]: with email[BOB@example.com] already exists"


def test_lowercase_operations_and_op_names(client: httpx.Client, new_user: UserFactory) -> None:
    """docs/atlassian.md "Users": "Operations" is canonical; "operations" and "Replace" also
    work."""
    ann = new_user("ann")
    body = {"operations": [{"op": "Replace", "path": "title", "value": "CTO"}]}
    assert client.patch(f"/Users/{ann['id']}", json=body).json()["title"] == "CTO"


def test_patch_is_all_or_nothing(client: httpx.Client, new_user: UserFactory) -> None:
    """RFC 7644 section 3.5.2: if one operation fails, none of them is applied."""
    ann = new_user("ann")
    ops = [{"op": "replace", "path": "title", "value": "CTO"}, {"op": "remove", "path": "emails"}]
    scim_error(_patch_user(client, ann, *ops), 400, "invalidValue")
    assert "title" not in client.get(f"/Users/{ann['id']}").json()


@pytest.mark.parametrize(
    ("operation", "scim_type"),
    [
        pytest.param({"op": "add", "path": "groups", "value": []}, "mutability", id="groups"),
        pytest.param(
            {"op": "replace", "path": f"{ATLASSIAN}:atlassianAccountId", "value": "x"},
            "mutability",
            id="account-id",
        ),
        pytest.param(
            {"op": "replace", "path": "shoeSize", "value": 9}, "invalidPath", id="unknown"
        ),
        pytest.param({"op": "replace", "path": "emails[", "value": 1}, "invalidPath", id="bracket"),
        pytest.param({"op": "replace", "path": "urn:x:y", "value": 1}, "invalidPath", id="urn"),
        pytest.param(
            {"op": "replace", "path": "emails.value", "value": "x"}, "invalidPath", id="multi-sub"
        ),
        pytest.param({"op": "remove"}, "noTarget", id="remove-no-path"),
        pytest.param({"op": "move", "path": "title"}, "invalidValue", id="bad-op"),
        pytest.param({"op": "replace", "path": "title"}, "invalidValue", id="no-value"),
        pytest.param({"op": "replace", "path": "active", "value": 3}, "invalidValue", id="type"),
        pytest.param({"op": "replace", "value": "x"}, "invalidValue", id="pathless-scalar"),
        pytest.param(
            {"op": "replace", "path": 'emails[type co "w"]', "value": {}}, "invalidPath", id="co"
        ),
    ],
)
def test_bad_operations(
    client: httpx.Client, new_user: UserFactory, operation: dict[str, Any], scim_type: str
) -> None:
    """RFC 7644 section 3.5.2: read-only targets, unknown paths and bad ops are 400s."""
    scim_error(_patch_user(client, new_user("ann"), operation), 400, scim_type)


@pytest.mark.parametrize("body", [{}, {"Operations": []}, {"Operations": "x"}, {"Operations": [1]}])
def test_malformed_patch_body(client: httpx.Client, new_user: UserFactory, body: Any) -> None:
    """RFC 7644 section 3.5.2: a PatchOp needs a non-empty list of operation objects."""
    response = client.patch(f"/Users/{new_user('ann')['id']}", json=body)
    scim_error(response, 400, "invalidValue")


def test_patch_unknown_user_is_404(client: httpx.Client) -> None:
    """RFC 7644 section 3.12: patching a user that does not exist is 404."""
    op = {"op": "replace", "path": "title", "value": "x"}
    scim_error(client.patch(f"/Users/{uuid.uuid4()}", json=patch_body(op)), 404)


# Groups -------------------------------------------------------------------------


def _patch_group(
    client: httpx.Client, group: dict[str, Any], *ops: dict[str, Any]
) -> httpx.Response:
    return client.patch(f"/Groups/{group['id']}", json=patch_body(*ops))


def _member_ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [m["value"] for m in response.json().get("members", [])]


def test_add_members(client: httpx.Client, new_user: UserFactory, new_group: GroupFactory) -> None:
    """docs/atlassian.md "Groups": add members with path "members" and a list of {"value": id}."""
    ann, bob = new_user("ann"), new_user("bob")
    group = new_group("Eng")
    value = [{"value": ann["id"]}, {"value": bob["id"]}]
    response = _patch_group(client, group, {"op": "add", "path": "members", "value": value})
    assert _member_ids(response) == [ann["id"], bob["id"]]


def test_adding_existing_member_does_not_duplicate(
    client: httpx.Client, new_user: UserFactory, new_group: GroupFactory
) -> None:
    """Unlike some servers (docs/test-servers.md), adding a present member is a no-op."""
    ann = new_user("ann")
    group = new_group("Eng", ann["id"])
    op = {"op": "add", "path": "members", "value": [{"value": ann["id"]}, {"value": ann["id"]}]}
    assert _member_ids(_patch_group(client, group, op)) == [ann["id"]]


def test_add_unknown_member_is_404(
    client: httpx.Client, new_user: UserFactory, new_group: GroupFactory
) -> None:
    """docs/atlassian.md "Groups": PATCH can answer 404 when a referenced user does not exist."""
    ann = new_user("ann")
    group = new_group("Eng")
    value = [{"value": ann["id"]}, {"value": str(uuid.uuid4())}]
    response = _patch_group(client, group, {"op": "add", "path": "members", "value": value})
    scim_error(response, 404)
    assert "members" not in client.get(f"/Groups/{group['id']}").json()


def test_group_is_not_a_member(client: httpx.Client, new_group: GroupFactory) -> None:
    """docs/atlassian.md "Groups": nested groups are not supported; a group id is no user id."""
    inner, outer = new_group("Inner"), new_group("Outer")
    op = {"op": "add", "path": "members", "value": [{"value": inner["id"]}]}
    scim_error(_patch_group(client, outer, op), 404)


def test_remove_member_by_filter(
    client: httpx.Client, new_user: UserFactory, new_group: GroupFactory
) -> None:
    """docs/atlassian.md "Groups": remove with path members[value eq "<id>"]."""
    ann, bob = new_user("ann"), new_user("bob")
    group = new_group("Eng", ann["id"], bob["id"])
    op = {"op": "remove", "path": f'members[value eq "{ann["id"]}"]'}
    assert _member_ids(_patch_group(client, group, op)) == [bob["id"]]


def test_remove_members_by_value_list(
    client: httpx.Client, new_user: UserFactory, new_group: GroupFactory
) -> None:
    """Azure AD's form, path "members" plus a value list, also removes members."""
    ann, bob = new_user("ann"), new_user("bob")
    group = new_group("Eng", ann["id"], bob["id"])
    op = {"op": "remove", "path": "members", "value": [{"value": bob["id"]}]}
    assert _member_ids(_patch_group(client, group, op)) == [ann["id"]]


def test_remove_non_member_is_a_no_op(
    client: httpx.Client, new_user: UserFactory, new_group: GroupFactory
) -> None:
    """Removing someone who is not a member succeeds, so a retried removal is harmless."""
    ann = new_user("ann")
    group = new_group("Eng", ann["id"])
    op = {"op": "remove", "path": f'members[value eq "{uuid.uuid4()}"]'}
    assert _member_ids(_patch_group(client, group, op)) == [ann["id"]]


def test_remove_all_members(
    client: httpx.Client, new_user: UserFactory, new_group: GroupFactory
) -> None:
    """RFC 7644 section 3.5.2.2: remove "members" without a value removes every member."""
    group = new_group("Eng", new_user("ann")["id"])
    assert _member_ids(_patch_group(client, group, {"op": "remove", "path": "members"})) == []


def test_pathless_members_and_same_name(
    client: httpx.Client, new_user: UserFactory, new_group: GroupFactory
) -> None:
    """Okta's form: path-less add with members; repeating the unchanged displayName is fine."""
    ann = new_user("ann")
    group = new_group("Eng")
    value = {"displayName": "Eng", "members": [{"value": ann["id"]}]}
    assert _member_ids(_patch_group(client, group, {"op": "add", "value": value})) == [ann["id"]]


def test_rename_is_refused(client: httpx.Client, new_group: GroupFactory) -> None:
    """docs/atlassian.md "Groups": displayName is immutable; a PATCH rename is 400 mutability."""
    group = new_group("Eng")
    op = {"op": "replace", "path": "displayName", "value": "Engineering"}
    scim_error(_patch_group(client, group, op), 400, "mutability")


def test_member_sub_attribute_is_immutable(client: httpx.Client, new_group: GroupFactory) -> None:
    """RFC 7643 section 4.2: members' value is immutable; change membership by add/remove."""
    group = new_group("Eng")
    op = {"op": "replace", "path": 'members[value eq "x"].value', "value": "y"}
    scim_error(_patch_group(client, group, op), 400, "mutability")


# Units: parsing and applying without HTTP ---------------------------------------


def test_parse_path_is_case_insensitive() -> None:
    """RFC 7643 section 2.1: attribute names and schema URNs are case-insensitive."""
    path = parse_path(f"{ENTERPRISE.upper()}:DEPARTMENT", USER)
    assert path.extension is not None
    assert path.extension.id == ENTERPRISE
    assert path.attribute is not None
    assert path.attribute.name == "department"


def test_bracket_inside_quotes() -> None:
    """A "]" inside the filter's quoted value does not end the filter."""
    path = parse_path('emails[value eq "a]b"].type', USER)
    assert path.value_filter is not None
    assert path.value_filter.value == "a]b"
    assert path.sub is not None
    assert path.sub.name == "type"


def test_member_changes_keep_request_order() -> None:
    """Member operations become membership changes, in the order they were sent."""
    body = patch_body(
        {"op": "add", "path": "members", "value": [{"value": "a"}, {"value": "b"}]},
        {"op": "remove", "path": 'members[value eq "a"]'},
        {"op": "replace", "path": "members", "value": []},
    )
    request = parse_patch(body, GROUP)
    assert request.operations == ()
    assert request.members == (
        MemberOperation("add", ("a", "b")),
        MemberOperation("remove", ("a",)),
        MemberOperation("replace", ()),
    )


def test_apply_does_not_touch_the_input() -> None:
    """apply_operations works on a copy: a failed request leaves stored data intact."""
    attrs = {"userName": "ann", "name": {"givenName": "Ann"}}
    request = parse_patch(
        patch_body({"op": "replace", "path": "name.givenName", "value": "B"}), USER
    )
    assert apply_operations(attrs, request.operations)["name"] == {"givenName": "B"}
    assert attrs["name"] == {"givenName": "Ann"}


def test_members_path_is_unknown_on_users() -> None:
    """Users have no members attribute; such a path is 400 invalidPath."""
    with pytest.raises(ScimRequestError) as caught:
        parse_path("members", USER)
    assert caught.value.scim_type == "invalidPath"
