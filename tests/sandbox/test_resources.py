"""What a valid user and group are, and how the directory renders them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox.problems import ScimRequestError
from reconciler.sandbox.resources import check_user, clean_attributes, project
from reconciler.sandbox.schemas import USER

from .conftest import UserFactory
from .helpers import ATLASSIAN, ENTERPRISE, scim_error, user_body

# Creating users -----------------------------------------------------------------


def test_created_user_shape(new_user: UserFactory) -> None:
    """docs/atlassian.md "Users": meta.resourceType is "User" and meta has no version."""
    user = new_user("ann")
    assert user["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:User", ATLASSIAN]
    assert user["meta"]["resourceType"] == "User"
    assert "version" not in user["meta"]
    assert user["meta"]["created"] == user["meta"]["lastModified"]
    assert user["meta"]["created"].endswith("Z")


def test_active_defaults_to_true(new_user: UserFactory) -> None:
    """docs/atlassian.md "Users": active defaults to true."""
    assert new_user("ann")["active"] is True
    assert new_user("bob", active=False)["active"] is False


def test_atlassian_account_block_is_read_only(new_user: UserFactory) -> None:
    """docs/atlassian.md "The sandbox's organisation": the atlassian-external block with
    atlassianAccountId is read-only."""
    user = new_user("ann", **{ATLASSIAN: {"atlassianAccountId": "mine"}})
    account_id = user[ATLASSIAN]["atlassianAccountId"]
    assert account_id != "mine"
    assert len(account_id) == 24


def test_read_only_attributes_are_ignored(new_user: UserFactory) -> None:
    """RFC 7644 section 3.3: id, meta and groups sent by the client are ignored."""
    user = new_user("ann", id="mine", meta={"version": "W/1"}, groups=[{"value": "g"}])
    assert user["id"] != "mine"
    assert "version" not in user["meta"]
    assert "groups" not in user


def test_enterprise_extension_and_top_level_department(new_user: UserFactory) -> None:
    """docs/atlassian.md "Users": department and organization show at the top level and in the
    URN."""
    user = new_user("ann", department="Eng", organization="ACME")
    assert user[ENTERPRISE] == {"organization": "ACME", "department": "Eng"}
    assert ENTERPRISE in user["schemas"]
    assert (user["department"], user["organization"]) == ("Eng", "ACME")


def test_department_written_in_the_extension_is_stored_once(new_user: UserFactory) -> None:
    """A department written in the enterprise extension is the top-level one; top level wins."""
    user = new_user("ann", **{ENTERPRISE: {"department": "Eng", "organization": "ACME"}})
    assert (user["department"], user[ENTERPRISE]["department"]) == ("Eng", "Eng")
    both = new_user("bob", department="Ops", **{ENTERPRISE: {"department": "Eng"}})
    assert (both["department"], both[ENTERPRISE]) == ("Ops", {"department": "Ops"})
    plain = new_user("cy")
    assert ENTERPRISE not in plain
    assert ENTERPRISE not in plain["schemas"]


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        pytest.param({"locale": "en_US"}, "locale", id="locale"),
        pytest.param({"userType": "Employee"}, "userType", id="userType"),
        pytest.param({"profileUrl": "https://x.example/ann"}, "profileUrl", id="profileUrl"),
        pytest.param({"LOCALE": "en_US"}, "locale", id="any-case"),
        pytest.param(
            {ENTERPRISE: {"employeeNumber": "1001"}}, f"{ENTERPRISE}:employeeNumber", id="number"
        ),
        pytest.param({ENTERPRISE: {"costCenter": "42"}}, f"{ENTERPRISE}:costCenter", id="cost"),
        pytest.param({ENTERPRISE: {"division": "N"}}, f"{ENTERPRISE}:division", id="division"),
        pytest.param({ENTERPRISE: {"manager": {"value": "x"}}}, f"{ENTERPRISE}:manager", id="mgr"),
    ],
)
def test_attributes_atlassian_lacks_are_refused(
    client: httpx.Client, extra: dict[str, Any], named: str
) -> None:
    """docs/atlassian.md "The sandbox's organisation": a value for an attribute Atlassian lacks
    is a 400 naming it."""
    response = client.post("/Users", json=user_body("ann", **extra))
    assert (
        scim_error(response, 400, "invalidValue") == f"the Atlassian API has no {named} attribute"
    )
    assert client.get("/Users").json()["totalResults"] == 0


def test_null_for_an_attribute_atlassian_lacks_is_no_value(new_user: UserFactory) -> None:
    """RFC 7643 section 2.5: null is "unassigned", so a null locale is not refused."""
    user = new_user("ann", locale=None, **{ENTERPRISE: {"costCenter": None}})
    assert "locale" not in user


def test_attribute_names_are_case_insensitive(new_user: UserFactory) -> None:
    """RFC 7643 section 2.1: attribute names are case-insensitive; stored canonically."""
    user = new_user("ann", DISPLAYNAME="Ann", Name={"GivenName": "Ann"})
    assert user["displayName"] == "Ann"
    assert user["name"] == {"givenName": "Ann"}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"emails": [{"value": "a@x.example", "primary": True}]}, id="no-userName"),
        pytest.param(user_body("  "), id="blank-userName"),
        pytest.param(user_body("ann", emails=None), id="no-emails"),
        pytest.param(user_body("ann", emails=[{"value": "a@x.example"}]), id="no-primary"),
        pytest.param(
            user_body(
                "ann",
                emails=[
                    {"value": "a@x.example", "primary": True},
                    {"value": "b@x.example", "primary": True},
                ],
            ),
            id="two-primaries",
        ),
        pytest.param(user_body("ann", emails=[{"type": "work", "primary": True}]), id="no-value"),
        pytest.param(user_body("ann", emails=[{"value": "ann", "primary": True}]), id="not-email"),
        pytest.param(user_body("ann", emails={"value": "a@x.example"}), id="emails-object"),
        pytest.param(user_body("ann", name="Ann Lee"), id="name-string"),
        pytest.param(user_body("ann", active=1), id="active-number"),
        pytest.param(user_body("ann", title=["x"]), id="title-list"),
        pytest.param(user_body("ann", emails=[None]), id="null-email"),
        pytest.param(user_body("ann", **{ENTERPRISE: "Eng"}), id="extension-string"),
    ],
)
def test_invalid_users_are_400(client: httpx.Client, body: dict[str, Any]) -> None:
    """docs/atlassian.md "Users": userName and exactly one primary email are required; types
    hold."""
    scim_error(client.post("/Users", json=body), 400, "invalidValue")


def test_user_name_conflict(client: httpx.Client, new_user: UserFactory) -> None:
    """docs/atlassian.md "Users": userName is unique, compared case-insensitively (409)."""
    new_user("Ann")
    body = user_body("ANN", emails=[{"value": "other@example.com", "primary": True}])
    detail = scim_error(client.post("/Users", json=body), 409, "uniqueness")
    assert detail == "Resource [USER]: with userName[ANN] already exists"


def test_email_conflict(client: httpx.Client, new_user: UserFactory) -> None:
    """docs/atlassian.md "Conflicts (409)": an email held by another account is 409 uniqueness."""
    new_user("ann", emails=[{"value": "ann@example.com", "primary": True}])
    body = user_body("bob", emails=[{"value": "ANN@example.com", "primary": True}])
    detail = scim_error(client.post("/Users", json=body), 409, "uniqueness")
    assert detail == "Resource [USER]: with email[ANN@example.com] already exists"


# attributes / excludedAttributes --------------------------------------------------


def test_attributes_parameter(client: httpx.Client, new_user: UserFactory) -> None:
    """RFC 7644 section 3.4.2.5: attributes limits the answer (id and schemas always stay)."""
    ann = new_user("ann", name={"givenName": "Ann", "familyName": "Lee"}, title="CTO")
    params = {"attributes": "userName,name.givenName"}
    user = client.get(f"/Users/{ann['id']}", params=params).json()
    assert set(user) == {"schemas", "id", "userName", "name"}
    assert user["name"] == {"givenName": "Ann"}


def test_excluded_attributes_parameter(client: httpx.Client, new_user: UserFactory) -> None:
    """RFC 7644 section 3.4.2.5: excludedAttributes drops attributes from users in lists."""
    new_user("ann", title="CTO")
    params = {"excludedAttributes": f"title,meta,{ENTERPRISE}:department"}
    user = client.get("/Users", params=params).json()["Resources"][0]
    assert "title" not in user
    assert "meta" not in user
    assert user["userName"] == "ann"


# Units ----------------------------------------------------------------------------


def test_clean_drops_empty_and_unknown() -> None:
    """Nulls, empty values and unknown attributes never reach the store."""
    cleaned = clean_attributes(
        {"userName": "ann", "title": None, "name": {}, "phoneNumbers": [], "shoeSize": 9}, USER
    )
    assert cleaned == {"userName": "ann"}


def test_clean_accepts_boolean_strings() -> None:
    """Identity providers send "True"/"False" strings; they become booleans."""
    assert clean_attributes({"active": "False"}, USER) == {"active": False}


def test_check_user_fills_active() -> None:
    """check_user adds the active default without overriding a given value."""
    emails = [{"value": "a@x.example", "primary": True}]
    assert check_user({"userName": "a", "emails": emails})["active"] is True
    with pytest.raises(ScimRequestError):
        check_user({"userName": "a"})


def test_project_leaves_input_alone() -> None:
    """Projection builds a new resource; the rendered one is not modified."""
    resource = {"schemas": [], "id": "1", "name": {"givenName": "A", "familyName": "B"}}
    assert project(resource, "name,name.givenName", None)["name"] == resource["name"]
    assert project(resource, None, "name.familyName")["name"] == {"givenName": "A"}
    assert resource["name"] == {"givenName": "A", "familyName": "B"}
