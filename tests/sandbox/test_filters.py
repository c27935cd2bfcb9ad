"""List filters: one ``eq`` on userName / externalId (users) and displayName (groups)."""

from __future__ import annotations

import httpx
import pytest

from reconciler.sandbox.filters import Comparison, ListFilter, list_filter, parse_comparison
from reconciler.sandbox.problems import ScimRequestError
from reconciler.sandbox.schemas import GROUP_URN, USER_URN

from .conftest import GroupFactory, UserFactory
from .helpers import scim_error


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["Resources"]]


def test_user_name_eq_is_case_insensitive(client: httpx.Client, new_user: UserFactory) -> None:
    """docs/atlassian.md "Listing, paging, filtering": userName is compared case-insensitively,
    in filters too."""
    ann = new_user("Ann.Lee@example.com")
    new_user("bob")
    response = client.get("/Users", params={"filter": 'userName eq "ann.lee@EXAMPLE.com"'})
    assert _ids(response) == [ann["id"]]
    assert response.json()["totalResults"] == 1


def test_external_id_eq_is_case_sensitive(client: httpx.Client, new_user: UserFactory) -> None:
    """docs/atlassian.md "Listing, paging, filtering": externalId is the client's and
    case-sensitive."""
    ann = new_user("ann", externalId="E-1")
    assert _ids(client.get("/Users", params={"filter": 'externalId eq "E-1"'})) == [ann["id"]]
    assert _ids(client.get("/Users", params={"filter": 'externalId eq "e-1"'})) == []


def test_urn_qualified_attribute(client: httpx.Client, new_user: UserFactory) -> None:
    """RFC 7644 section 3.4.2.2: a filter attribute may carry its schema URN."""
    ann = new_user("ann")
    text = f'{USER_URN}:userName eq "ann"'
    assert _ids(client.get("/Users", params={"filter": text})) == [ann["id"]]


def test_no_match_is_an_empty_list(client: httpx.Client, new_user: UserFactory) -> None:
    """RFC 7644 section 3.4.2: a filter that matches nothing gives totalResults 0."""
    new_user("ann")
    response = client.get("/Users", params={"filter": 'userName eq "nobody"'})
    assert response.json()["totalResults"] == 0
    assert response.json()["Resources"] == []


def test_group_display_name_eq(client: httpx.Client, new_group: GroupFactory) -> None:
    """docs/atlassian.md "Listing, paging, filtering": groups filter on displayName eq,
    case-insensitively."""
    eng = new_group("Engineering")
    new_group("Ops")
    response = client.get("/Groups", params={"filter": 'displayName eq "ENGINEERING"'})
    assert _ids(response) == [eng["id"]]


@pytest.mark.parametrize(
    ("endpoint", "text"),
    [
        pytest.param("/Users", 'emails eq "a@example.com"', id="emails"),
        pytest.param("/Users", 'emails.value eq "a@example.com"', id="emails-value"),
        pytest.param("/Users", 'id eq "x"', id="id"),
        pytest.param("/Users", 'userName co "a"', id="contains"),
        pytest.param("/Users", 'userName sw "a"', id="starts-with"),
        pytest.param("/Users", "userName pr", id="present"),
        pytest.param("/Users", 'userName eq "a" and externalId eq "b"', id="and"),
        pytest.param("/Users", '(userName eq "a")', id="parentheses"),
        pytest.param("/Users", 'not (userName eq "a")', id="not"),
        pytest.param("/Users", "userName eq 3", id="number"),
        pytest.param("/Users", "userName eq", id="no-value"),
        pytest.param("/Users", 'userName xx "a"', id="bad-operator"),
        pytest.param("/Users", 'userName eq "\\ud800"', id="lone-surrogate"),
        pytest.param("/Users", "garbage", id="garbage"),
        pytest.param("/Users", 'displayName eq "a"', id="user-display-name"),
        pytest.param("/Groups", 'userName eq "a"', id="group-user-name"),
        pytest.param("/Groups", 'members.value eq "a"', id="group-members"),
    ],
)
def test_unsupported_filters_are_400(client: httpx.Client, endpoint: str, text: str) -> None:
    """docs/atlassian.md "Listing, paging, filtering": anything but the one eq is 400
    invalidFilter."""
    scim_error(client.get(endpoint, params={"filter": text}), 400, "invalidFilter")


def test_parse_comparison_shapes() -> None:
    """RFC 7644 section 3.4.2.2: attrPath SP compareOp SP compValue, operators any case."""
    assert parse_comparison('userName EQ "a b"') == Comparison("userName", "eq", "a b")
    assert parse_comparison("primary eq true") == Comparison("primary", "eq", True)
    assert parse_comparison("title pr") == Comparison("title", "pr", None)
    assert parse_comparison(' value eq "a\\"]" ') == Comparison("value", "eq", 'a"]')


def test_list_filter_keys() -> None:
    """userName and displayName keys are lower-cased for the index; externalId is not."""
    assert list_filter('userName eq "ÄNN"', USER_URN) == ListFilter("user_name_key", "änn")
    assert list_filter('externalId eq "X"', USER_URN) == ListFilter("external_id", "X")
    assert list_filter('DISPLAYNAME eq "Eng"', GROUP_URN) == ListFilter("display_name_key", "eng")


def test_unsupported_message_names_the_alternatives() -> None:
    """The 400 says which filters the directory does support."""
    with pytest.raises(ScimRequestError, match="userName or externalId"):
        list_filter('emails eq "x"', USER_URN)
