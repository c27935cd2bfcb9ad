"""The live snapshot: lenient parsing of what servers send, and fingerprints."""

from __future__ import annotations

import pytest

from reconciler.errors import ProtocolError
from reconciler.live import LiveGroup, LiveSnapshot, LiveUser, fingerprint


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
