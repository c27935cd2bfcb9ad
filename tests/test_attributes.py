"""Attribute mapping between the file's vocabulary and SCIM resources (RFC 7643, 7644)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.attributes import (
    ENTERPRISE_URN,
    GROUP_SCHEMA,
    PATCH_SCHEMA,
    USER_SCHEMA,
    enterprise_places,
    eq_filter,
    extension_removals,
    group_create_body,
    group_patch_operations,
    held_at,
    live_active,
    live_user_attributes,
    member_add_operation,
    member_remove_operation,
    patch_body,
    same_value,
    user_create_body,
    user_patch_operations,
)


def email(value: str, type_: str | None = "work", *, primary: bool = False) -> dict[str, Any]:
    return {"value": value, "type": type_, "primary": primary}


# --- reading a SCIM resource --------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        pytest.param(
            {ENTERPRISE_URN: {"department": "R&D", "employeeNumber": "1001"}},
            {"enterprise.department": "R&D", "enterprise.employeeNumber": "1001"},
            id="enterprise-urn",
        ),
        pytest.param(
            {"department": "Sales", "organization": "ACME"},
            {"enterprise.department": "Sales", "enterprise.organization": "ACME"},
            id="atlassian-top-level-fallback",
        ),
        pytest.param(
            # Atlassian writes these at the top level; its extension is read-only.
            {"department": "Sales", ENTERPRISE_URN: {"department": "R&D"}},
            {"enterprise.department": "Sales"},
            id="top-level-wins-for-atlassian-department",
        ),
        pytest.param(
            {"costCenter": "7", "division": "North"},
            {"enterprise.costCenter": None, "enterprise.division": None},
            id="no-fallback-for-other-enterprise-attributes",
        ),
        pytest.param(
            {ENTERPRISE_URN: {"employeeNumber": 1001}},
            {"enterprise.employeeNumber": "1001"},
            id="number-read-as-string",
        ),
        pytest.param(
            {"name": {"givenName": "Alice", "familyName": "Liddell"}, "title": "Engineer"},
            {"name.givenName": "Alice", "name.familyName": "Liddell", "title": "Engineer"},
            id="name-and-simple",
        ),
        pytest.param(
            {"name": "Alice Liddell", ENTERPRISE_URN: "R&D", "title": {"x": 1}},
            {"name.givenName": None, "enterprise.department": None, "title": None},
            id="malformed-values-read-as-absent",
        ),
    ],
)
def test_live_user_attributes_read_leniently(
    resource: dict[str, Any], expected: dict[str, Any]
) -> None:
    """Live attributes come from the enterprise URN, Atlassian's top level, or nowhere."""
    attributes = live_user_attributes({"userName": "alice@example.com", **resource})
    assert {path: attributes[path] for path in expected} == expected


def test_live_user_attributes_cover_every_manageable_path() -> None:
    """An empty resource reads as every path absent, so unmentioned attributes compare cleanly."""
    attributes = live_user_attributes({"userName": "alice@example.com"})
    assert attributes["userName"] == "alice@example.com"
    assert {p for p, v in attributes.items() if v is not None} == {"userName"}
    assert {"name.honorificSuffix", "enterprise.division", "emails", "phoneNumbers"} <= set(
        attributes
    )


@pytest.mark.parametrize(
    ("emails", "expected"),
    [
        pytest.param([], None, id="empty-list-is-absent"),
        pytest.param(None, None, id="missing"),
        pytest.param("alice@example.com", None, id="not-a-list"),
        pytest.param(
            [{"value": "b@example.com"}, {"value": "A@example.com", "primary": True}, "junk"],
            [email("A@example.com", None, primary=True), email("b@example.com", None)],
            id="canonical-and-sorted",
        ),
    ],
)
def test_live_emails_are_canonical(emails: Any, expected: Any) -> None:
    """Emails read as value/type/primary, sorted case-insensitively; junk items are dropped."""
    assert live_user_attributes({"userName": "a", "emails": emails})["emails"] == expected


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        pytest.param({}, True, id="missing-is-true"),
        pytest.param({"active": True}, True, id="true"),
        pytest.param({"active": False}, False, id="false"),
        pytest.param({"active": "false"}, False, id="string-false"),
        pytest.param({"active": " False "}, False, id="string-false-padded"),
        pytest.param({"active": "true"}, True, id="string-true"),
        pytest.param({"active": None}, True, id="null"),
    ],
)
def test_live_active(resource: dict[str, Any], expected: bool) -> None:
    """``active`` defaults to true (one Atlassian response omitted it); "false" is false."""
    assert live_active(resource) is expected


# --- comparing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "a", "b", "same"),
    [
        pytest.param(
            "emails",
            [email("a@x.example", primary=True), email("b@x.example")],
            [email("b@x.example"), email("a@x.example", primary=True)],
            True,
            id="emails-any-order",
        ),
        pytest.param(
            "emails", [email("A@X.example")], [email("a@x.example")], True, id="emails-any-case"
        ),
        pytest.param(
            "emails", [email("a@x.example")], [email("a@x.example", "home")], False, id="type"
        ),
        pytest.param(
            "emails",
            [email("a@x.example")],
            [email("a@x.example", primary=True)],
            False,
            id="primary",
        ),
        pytest.param("emails", None, [], True, id="emails-none-is-empty"),
        pytest.param(
            "phoneNumbers",
            [{"value": "ext A", "type": None, "primary": False}],
            [{"value": "ext a", "type": None, "primary": False}],
            False,
            id="phone-numbers-case-sensitive",
        ),
        pytest.param("userName", "Alice@X.example", "alice@x.example", True, id="userName-case"),
        pytest.param("displayName", "Alice", "alice", False, id="displayName-case-sensitive"),
        pytest.param("externalId", "E1", "e1", True, id="externalId-case"),
        pytest.param("externalId", "E1", "E2", False, id="externalId-other"),
        pytest.param(
            "userName", "jose\u0301@x.example", "JOS\u00c9@x.example", True, id="userName-nfd"
        ),
        pytest.param(
            "emails",
            [email("jose\u0301@x.example")],
            [email("jos\u00e9@x.example")],
            True,
            id="emails-nfd",
        ),
        pytest.param("title", None, None, True, id="both-absent"),
    ],
)
def test_same_value(path: str, a: Any, b: Any, same: bool) -> None:
    """Multi-valued attributes compare as sets (RFC 7643 2.4); emails, userName and
    externalId compare as identities do (any letter case and Unicode form)."""
    assert same_value(path, a, b) is same
    assert same_value(path, b, a) is same


# --- building SCIM requests -------------------------------------------------------------


def test_user_create_body_nests_name_and_enterprise() -> None:
    """A create body is a SCIM user (RFC 7643 4.1) with the enterprise schema when used."""
    body = user_create_body(
        {
            "userName": "a@example.com",
            "name.givenName": "Alice",
            "enterprise.department": "R&D",
            "title": None,
            "emails": [email("a@example.com", primary=True)],
        }
    )
    assert body == {
        "schemas": [USER_SCHEMA, ENTERPRISE_URN],
        "userName": "a@example.com",
        "name": {"givenName": "Alice"},
        ENTERPRISE_URN: {"department": "R&D"},
        "emails": [email("a@example.com", primary=True)],
    }


def test_user_create_body_without_enterprise_has_only_the_core_schema() -> None:
    """The enterprise schema URN is listed only when an enterprise attribute is sent."""
    assert user_create_body({"userName": "a"}) == {"schemas": [USER_SCHEMA], "userName": "a"}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            [("displayName", "Alice")],
            [{"op": "replace", "path": "displayName", "value": "Alice"}],
            id="replace",
        ),
        pytest.param([("title", None)], [{"op": "remove", "path": "title"}], id="null-is-remove"),
        pytest.param(
            [("name.givenName", "Al")],
            [{"op": "replace", "path": "name.givenName", "value": "Al"}],
            id="sub-attribute",
        ),
        pytest.param(
            [("enterprise.department", "R&D"), ("enterprise.costCenter", None)],
            [
                {"op": "replace", "path": f"{ENTERPRISE_URN}:department", "value": "R&D"},
                {"op": "remove", "path": f"{ENTERPRISE_URN}:costCenter"},
            ],
            id="enterprise-urn-path",
        ),
        pytest.param(
            [("active", False)],
            [{"op": "replace", "path": "active", "value": False}],
            id="deactivate",
        ),
        pytest.param(
            [("emails", [email("a@example.com", primary=True)])],
            [{"op": "replace", "path": "emails", "value": [email("a@example.com", primary=True)]}],
            id="whole-multi-valued",
        ),
    ],
)
def test_user_patch_operations(changes: list[tuple[str, Any]], expected: list[Any]) -> None:
    """Each change is one replace, or a remove for null (RFC 7644 3.5.2.2, 3.5.2.3)."""
    assert user_patch_operations(changes) == expected


def test_patch_body_uses_the_patch_op_schema() -> None:
    """A PatchOp message carries its schema and ``Operations`` (RFC 7644 3.5.2)."""
    operations = [{"op": "remove", "path": "title"}]
    assert patch_body(operations) == {"schemas": [PATCH_SCHEMA], "Operations": operations}


def test_member_operations() -> None:
    """Members are added as a value list and removed one by one by filter (RFC 7644 3.5.2)."""
    assert member_add_operation(["u1", "u2"]) == {
        "op": "add",
        "path": "members",
        "value": [{"value": "u1"}, {"value": "u2"}],
    }
    assert member_remove_operation("u1") == {"op": "remove", "path": 'members[value eq "u1"]'}


def test_eq_filter_quotes_values() -> None:
    """Quotes and backslashes in a filter value are escaped (RFC 7644 section 3.4.2.2)."""
    assert eq_filter("userName", 'a"b\\c') == 'userName eq "a\\"b\\\\c"'


def test_member_removal_filter_escapes_the_id() -> None:
    """An id with a quote cannot end the filter early (RFC 7644 section 3.4.2.2)."""
    assert member_remove_operation('u"1') == {
        "op": "remove",
        "path": 'members[value eq "u\\"1"]',
    }


def test_group_create_body_carries_members_only_when_there_are_some() -> None:
    """A group resource (RFC 7643 section 4.2) lists its first members, or none at all."""
    assert group_create_body("eng") == {"schemas": [GROUP_SCHEMA], "displayName": "eng"}
    assert group_create_body("eng", ["u1"])["members"] == [{"value": "u1"}]


def test_group_patch_operations_rename_then_add_then_remove() -> None:
    """A rename comes first, then every added member in one operation, then each removal."""
    assert group_patch_operations(display_name="ops", add=["u1", "u2"], remove=["u3"]) == [
        {"op": "replace", "path": "displayName", "value": "ops"},
        member_add_operation(["u1", "u2"]),
        member_remove_operation("u3"),
    ]
    assert group_patch_operations() == []


def test_on_atlassian_department_and_organization_are_written_at_the_top_level() -> None:
    """Atlassian takes department and organization at the top level of a user (its
    enterprise extension is read-only): creates and PATCHes put them there."""
    top = frozenset({"department", "organization"})
    body = user_create_body(
        {"userName": "a", "enterprise.department": "R&D", "enterprise.organization": "ACME"},
        top_level=top,
    )
    assert body == {
        "schemas": [USER_SCHEMA], "userName": "a", "department": "R&D", "organization": "ACME"
    }  # fmt: skip
    assert user_patch_operations(
        [("enterprise.department", "Sales"), ("enterprise.organization", None)], top_level=top
    ) == [
        {"op": "replace", "path": "department", "value": "Sales"},
        {"op": "remove", "path": "organization"},
    ]


def test_an_extension_copy_is_removed_only_where_the_answer_still_shows_it() -> None:
    """docs/atlassian.md "Users": a removal seen in both places, or planned before the plan
    said where (None), gets its own extension operation only when the server's answer
    still holds a copy there."""
    top = frozenset({"department", "organization"})
    for held in ("both", None):
        changes = [("enterprise.department", None, held), ("enterprise.organization", None, held)]
        kept = {ENTERPRISE_URN: {"department": "R&D"}, "organization": None}
        assert extension_removals(changes, kept, top_level=top) == [
            {"op": "remove", "path": f"{ENTERPRISE_URN}:department"}
        ]
        assert extension_removals(changes, {"userName": "a"}, top_level=top) == []
        assert extension_removals(changes, None, top_level=top) == []
        assert extension_removals(changes, kept, top_level=frozenset()) == []


def test_an_extension_removal_goes_only_where_the_plan_saw_a_value() -> None:
    """A value the plan saw only at the top level gets no extension operation whatever the
    answer shows; one seen only in the extension is removed there, with no answer at all."""
    top = frozenset({"department", "organization"})
    kept = {ENTERPRISE_URN: {"department": "R&D"}}
    only_top = [("enterprise.department", None, "top_level")]
    assert extension_removals(only_top, kept, top_level=top) == []
    only_extension = [("enterprise.department", None, "extension"), ("title", None, None)]
    assert extension_removals(only_extension, None, top_level=top) == [
        {"op": "remove", "path": f"{ENTERPRISE_URN}:department"}
    ]
    assert (
        extension_removals([("enterprise.department", "R&D", "extension")], None, top_level=top)
        == []
    )


def test_where_department_and_organization_sit_is_read_from_both_places() -> None:
    """``enterprise_places`` and ``held_at`` name the top level, the extension, both or
    neither, for each of the two attributes apart."""
    places = enterprise_places(
        {
            "department": "R&D",
            "organization": None,
            ENTERPRISE_URN: {"department": "R&D", "organization": "ACME"},
        }
    )
    assert held_at(places, "department") == "both"
    assert held_at(places, "organization") == "extension"
    assert held_at(enterprise_places({"organization": "ACME"}), "organization") == "top_level"
    assert held_at(enterprise_places({"organization": "ACME"}), "department") is None
