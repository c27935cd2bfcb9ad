"""The live snapshot: lenient parsing of what servers send, and fingerprints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from reconciler.attributes import live_user_attributes
from reconciler.errors import ProtocolError
from reconciler.live import (
    Layout,
    LiveGroup,
    LiveSnapshot,
    LiveUser,
    fingerprint,
    groups_of_page,
    users_of_page,
)


def test_fingerprint_ignores_bookkeeping_and_member_order() -> None:
    """meta, schemas, a user's read-only groups and member order do not change a fingerprint."""
    a = {
        "id": "g",
        "displayName": "eng",
        "members": [{"value": "1"}, {"value": "2"}],
        "meta": {"lastModified": "2026-01-01"},
    }
    b = {
        "id": "g",
        "displayName": "eng",
        "members": [{"value": "2"}, {"value": "1", "display": "x"}],
        "meta": {"lastModified": "2026-02-02"},
        "schemas": ["x"],
    }
    assert fingerprint(a) == fingerprint(b)


def test_fingerprint_sees_any_attribute() -> None:
    """An attribute the files never mention still changes the fingerprint (saved plans)."""
    user = {"id": "u", "userName": "a@example.com"}
    assert fingerprint(user) != fingerprint({**user, "nickName": "A"})


def test_user_parses_leniently() -> None:
    """Missing active means active (Atlassian once left it out); externalId may be absent."""
    user = LiveUser.from_scim({"id": "u", "userName": "a@example.com"})
    assert user.active is True
    assert user.externalId is None
    assert LiveUser.from_scim({"id": "u", "userName": "a", "active": "false"}).active is False


@pytest.mark.parametrize(
    "resource",
    [
        pytest.param({"userName": "a"}, id="no-id"),
        pytest.param({"id": "u"}, id="no-userName"),
        pytest.param({"id": "u", "userName": ""}, id="empty-userName"),
    ],
)
def test_user_without_identity_is_a_protocol_error(resource: dict[str, object]) -> None:
    """A user the planner could not match is refused rather than skipped."""
    with pytest.raises(ProtocolError):
        LiveUser.from_scim(resource)


def test_group_members_are_ids_and_missing_members_mean_empty() -> None:
    """Members become a set of user ids; a group listed without members has none."""
    group = LiveGroup.from_scim(
        {
            "id": "g",
            "displayName": "eng",
            "members": [{"value": "1"}, {"value": "1"}, {"display": "x"}],
        }
    )
    assert group.member_ids == frozenset({"1"})
    assert LiveGroup.from_scim({"id": "g", "displayName": "eng"}).member_ids == frozenset()


def test_snapshot_finds_users_by_id() -> None:
    """Member ids resolve to users through the snapshot."""
    user = LiveUser.from_scim({"id": "u1", "userName": "a@example.com"})
    snapshot = LiveSnapshot(users=(user,))
    assert snapshot.user_by_id("u1") is user
    assert snapshot.user_by_id("nope") is None


ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USERS = [
    pytest.param({"id": "u", "userName": "a@example.com"}, id="bare"),
    pytest.param(
        {
            "id": "u",
            "userName": "a@example.com",
            "name": {"givenName": "A", "familyName": "B"},
            "emails": [{"value": "a@example.com", "type": "work", "primary": True}],
            ENTERPRISE: {"department": "R&D", "employeeNumber": 7},
            "title": 1.5,
            "meta": {"version": 'W/"1"'},
            "groups": [{"value": "g"}],
            "urn:example:other": {"nested": [1, None, {"x": "\ud800"}]},
        },
        id="full",
    ),
]
GROUPS = [
    pytest.param({"id": "g", "displayName": "eng"}, id="members-absent"),
    pytest.param({"id": "g", "displayName": "eng", "members": None}, id="members-null"),
    pytest.param({"id": "g", "displayName": "eng", "members": []}, id="members-empty"),
    pytest.param(
        {"id": "g", "displayName": "eng", "members": [{"value": "2"}, {"value": "1"}]},
        id="members-plain",
    ),
    pytest.param(
        {
            "id": "g",
            "displayName": "eng",
            "members": [{"value": "1"}, {"value": "1"}, {"display": "x"}, "junk", {"value": 0}],
        },
        id="members-odd",
    ),
]


@pytest.mark.parametrize("resource", USERS)
def test_a_users_fingerprint_is_the_fingerprint_of_its_resource(resource: dict[str, Any]) -> None:
    """Fingerprints come from a compressed copy, yet equal what saved plans recompute."""
    expected = fingerprint(resource)
    assert LiveUser.from_scim(resource).fingerprint == expected
    others = [{"id": f"o{i}", "userName": f"o{i}@example.com"} for i in range(3)]
    page = users_of_page([*others, resource], Layout.of(frozenset({"userName"})))
    assert page[-1].fingerprint == expected
    assert [u.fingerprint for u in page[:-1]] == [fingerprint(o) for o in others]


@pytest.mark.parametrize("resource", GROUPS)
def test_a_groups_fingerprint_is_the_fingerprint_of_its_resource(resource: dict[str, Any]) -> None:
    """Whatever the members look like, the group's fingerprint is its resource's."""
    assert LiveGroup.from_scim(resource).fingerprint == fingerprint(resource)
    (group,) = groups_of_page([resource], {})
    assert group.fingerprint == fingerprint(resource)


def test_objects_that_are_not_json_still_fingerprint() -> None:
    """A resource holding other Python objects (a caller's own) is kept as it is."""
    resource = {"id": "u", "userName": "a", "when": datetime(2026, 1, 1, tzinfo=UTC)}
    assert LiveUser.from_scim(resource).fingerprint == fingerprint(resource)


def test_members_share_the_users_id_strings() -> None:
    """A member id is the user's own id string: one copy of each id in memory."""
    user = LiveUser.from_scim({"id": "".join(["u", "1"]), "userName": "a"})
    group = LiveGroup.from_scim(
        {"id": "g", "displayName": "eng", "members": [{"value": "".join(["u", "1"])}]},
        ids={user.id: user.id},
    )
    assert next(iter(group.member_ids)) is user.id


def test_a_narrowed_user_keeps_only_its_paths_and_refuses_the_others() -> None:
    """Only the kept paths are attributes of the narrowed copy; asking for another
    manageable path is a bug; the user it was made from is unchanged (read-only)."""
    resource = {
        "id": "u",
        "userName": "a@example.com",
        "title": "Boss",
        "emails": [{"value": "a@example.com", "primary": True}],
    }
    whole = LiveUser.from_scim(resource)
    assert whole.attributes == live_user_attributes(resource)
    layout = Layout.of(frozenset({"userName", "emails"}))
    user = whole.narrowed(layout)
    assert whole.attributes == live_user_attributes(resource)
    assert user.narrowed(layout) is user
    assert (user.id, user.userName, user.active, user.fingerprint) == (
        whole.id,
        whole.userName,
        whole.active,
        whole.fingerprint,
    )
    assert dict(user.attributes) == {
        "userName": "a@example.com",
        "emails": [{"value": "a@example.com", "type": None, "primary": True}],
    }
    assert "title" not in user.attributes
    with pytest.raises(AssertionError, match="title"):
        user.attributes.get("title")
    assert user.attributes.get("active") is None  # not an attribute path at all
