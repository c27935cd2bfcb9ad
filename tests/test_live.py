"""The live snapshot: lenient parsing of what servers send, fingerprints, and the
compact form a read makes held equal to the plain one."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.attributes import (
    ENTERPRISE_ATTRIBUTES,
    ENTERPRISE_URN,
    LIVE_PATHS,
    NAME_ATTRIBUTES,
    SIMPLE_ATTRIBUTES,
    live_user_attributes,
    live_user_values,
)
from reconciler.errors import ProtocolError
from reconciler.live import (
    LiveGroup,
    LiveSnapshot,
    LiveUser,
    compact_value,
    content_digest,
    decoded_digest,
    fingerprint,
)
from reconciler.live_compact import (
    CompactGroup,
    CompactUser,
    Layout,
    groups_of_page,
    narrowed_users,
    users_of_page,
)
from reconciler.scim.jsonbody import loads


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
    """Fingerprints are taken as users are made, and equal what saved plans recompute."""
    expected = fingerprint(resource)
    assert LiveUser.from_scim(resource).fingerprint == expected
    assert CompactUser.from_scim(resource).fingerprint == expected
    others = [{"id": f"o{i}", "userName": f"o{i}@example.com"} for i in range(3)]
    page = users_of_page([*others, resource], Layout.of(frozenset({"userName"})))
    assert page[-1].fingerprint == expected
    assert [u.fingerprint for u in page[:-1]] == [fingerprint(o) for o in others]


@pytest.mark.parametrize("resource", GROUPS)
def test_a_groups_fingerprint_is_the_fingerprint_of_its_resource(resource: dict[str, Any]) -> None:
    """Whatever the members look like, the group's fingerprint is its resource's."""
    assert LiveGroup.from_scim(resource).fingerprint == fingerprint(resource)
    assert CompactGroup.from_scim(resource).fingerprint == fingerprint(resource)
    (group,) = groups_of_page([resource], {})
    assert group.fingerprint == fingerprint(resource)


def test_objects_that_are_not_json_still_fingerprint() -> None:
    """A resource holding other Python objects (a caller's own) is kept as it is."""
    resource = {"id": "u", "userName": "a", "when": datetime(2026, 1, 1, tzinfo=UTC)}
    assert LiveUser.from_scim(resource).fingerprint == fingerprint(resource)
    assert CompactUser.from_scim(resource).fingerprint == fingerprint(resource)


def test_members_share_the_users_id_strings() -> None:
    """A member id is the user's own id string: one copy of each id in memory."""
    user = CompactUser.from_scim({"id": "".join(["u", "1"]), "userName": "a"})
    group = CompactGroup.from_scim(
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
    whole = CompactUser.from_scim(resource)
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


# --- the compact form a read makes, held equal to the plain one (differential) -------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too: msgspec and json keep them exact
    | st.floats(allow_nan=False)
    | st.text(max_size=6)
    | st.sampled_from(["true", "false", " True ", "R&D", "a@x.io", "A@X.IO"])
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=3,
)
_items = st.lists(
    st.fixed_dictionaries(
        {"value": st.sampled_from(["a@x.io", "A@X.IO", "b@x.io"]) | _scalars},
        optional={
            "type": st.sampled_from(["work", "home"]) | _scalars,
            "primary": st.booleans() | st.sampled_from(["true", "false", "True"]) | _scalars,
            "display": _scalars,
        },
    )
    | _scalars,
    max_size=4,
)


@st.composite
def _user_resources(draw: st.DrawFn) -> dict[str, Any]:
    """A SCIM user as servers send them: every manageable attribute, often odd."""
    resource: dict[str, Any] = {
        "id": draw(st.sampled_from(["u1", "u2", "u3"])),
        "userName": draw(st.sampled_from(["a@x.io", "A@X.IO", "b@x.io"])),
    }
    optional: dict[str, st.SearchStrategy[Any]] = {
        **dict.fromkeys(SIMPLE_ATTRIBUTES[1:], _scalars | _json),
        "department": _scalars,
        "organization": _scalars,
        "active": _scalars,
        "name": st.dictionaries(st.sampled_from(NAME_ATTRIBUTES), _scalars | _json) | _scalars,
        ENTERPRISE_URN: st.dictionaries(st.sampled_from(ENTERPRISE_ATTRIBUTES), _scalars)
        | _scalars,
        "emails": _items | _scalars,
        "phoneNumbers": _items,
        "meta": st.fixed_dictionaries({}, optional={"version": _scalars}) | _scalars,
        "groups": st.lists(st.fixed_dictionaries({"value": st.text(max_size=3)}), max_size=2),
        "urn:example:other": _json | st.datetimes(),  # not JSON: fingerprinted as str
    }
    for key in draw(st.sets(st.sampled_from(sorted(optional)), max_size=6)):
        resource[key] = draw(optional[key])
    return resource


_keeps = st.none() | st.sets(st.sampled_from(LIVE_PATHS)).map(
    lambda paths: frozenset({"userName", "emails", *paths})
)


def _same_user(compact: LiveUser, plain: LiveUser, kept: tuple[str, ...]) -> None:
    assert (compact.id, compact.userName, compact.externalId, compact.active, compact.version) == (
        plain.id, plain.userName, plain.externalId, plain.active, plain.version
    )  # fmt: skip
    assert compact.fingerprint == plain.fingerprint
    assert dict(compact.attributes) == {p: plain.attributes[p] for p in kept}
    assert compact.values_at(kept) == plain.values_at(kept)
    assert compact.values_at(kept[::-1][:2]) == plain.values_at(kept[::-1][:2])


@given(st.lists(_user_resources(), max_size=3), _keeps, st.booleans(), st.booleans())
def test_compact_users_answer_as_the_plain_ones(
    page: list[dict[str, Any]], keep: frozenset[str] | None, narrowed_after: bool, own: bool
) -> None:
    """A page of users made compact (kept paths, the fingerprint's digest, narrowed
    after the read, as copies or in place, or kept narrow from the start) answers every
    question as the plain users of ``live`` do, read from the same resources."""
    layout = Layout.of(keep)
    users = users_of_page(page, Layout.of() if narrowed_after else layout)
    if narrowed_after:
        users = list(narrowed_users(users, keep, own=own))
    for compact, resource in zip(users, page, strict=True):
        _same_user(compact, LiveUser.from_scim(resource), layout.paths)


@given(_user_resources())
def test_the_attribute_reader_is_the_plain_rule(resource: dict[str, Any]) -> None:
    """``live_user_values``' table of readers gives what ``live_user_attributes`` says
    in plain code, in the compact form (``compact_value``)."""
    attributes = live_user_attributes(resource)
    assert tuple(attributes) == LIVE_PATHS
    expected = tuple(compact_value(path, value) for path, value in attributes.items())
    assert live_user_values(resource, LIVE_PATHS) == expected


@given(
    st.fixed_dictionaries(
        {"id": st.sampled_from(["u1", ""]) | _scalars},
        optional={"userName": st.sampled_from(["a@x.io", ""]) | _scalars},
    )
)
def test_compact_and_plain_users_refuse_the_same_resources(resource: dict[str, Any]) -> None:
    """A user without an id or a userName is refused alike in both forms."""
    try:
        plain = LiveUser.from_scim(resource)
    except ProtocolError as error:
        with pytest.raises(ProtocolError, match=re.escape(str(error))):
            users_of_page([resource])
    else:
        (compact,) = users_of_page([resource])
        _same_user(compact, plain, LIVE_PATHS)


_member = st.fixed_dictionaries(
    {}, optional={"value": st.sampled_from(["u1", "u2", "", "0"]) | _scalars, "display": _scalars}
)


@st.composite
def _group_resources(draw: st.DrawFn) -> dict[str, Any]:
    resource: dict[str, Any] = {"id": draw(st.sampled_from(["g1", "g2"])), "displayName": "eng"}
    if draw(st.booleans()):
        resource["members"] = draw(st.none() | st.lists(_member | _scalars, max_size=5))
    if draw(st.booleans()):
        resource["meta"] = {"version": draw(_scalars)}
    if draw(st.booleans()):
        resource["urn:example:other"] = draw(_json)
    return resource


@given(st.lists(_group_resources(), max_size=4))
def test_compact_groups_answer_as_the_plain_ones(page: list[dict[str, Any]]) -> None:
    """A page of groups made compact (member ids sharing the users' strings, the
    fingerprint's digest) answers as the plain groups of ``live`` do."""
    ids = {"u1": "".join(["u", "1"])}
    for compact, resource in zip(groups_of_page(page, ids), page, strict=True):
        plain = LiveGroup.from_scim(resource)
        assert (compact.id, compact.displayName, compact.version) == (
            plain.id, plain.displayName, plain.version
        )  # fmt: skip
        assert compact.member_ids == plain.member_ids
        assert compact.fingerprint == plain.fingerprint == fingerprint(resource)
        assert all(m is ids[m] for m in compact.member_ids if m in ids)


# --- pages as a read decodes them (scim.jsonbody), fingerprinted natively -------------


def _decoded(resource: dict[str, Any]) -> Any:
    """``resource`` as a read gets it: sent as JSON, decoded by ``scim.jsonbody``."""
    return loads(json.dumps(resource, default=str).encode())


_any_text = st.text(st.characters(exclude_categories=()))  # lone surrogates too
_content = st.dictionaries(
    _any_text,  # any code point: non-ASCII, DEL, controls and lone surrogates
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | _any_text,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=8,
    ),
    max_size=5,
)


@given(_content, st.booleans())
def test_decoded_content_hashes_to_the_same_digest(content: dict[str, Any], ascii: bool) -> None:
    """msgspec's sorted text, escaped as ``json.dumps`` escapes, hashes to the digest of
    ``json.dumps``'s, for any content a body decodes to (floats, big integers, any text)."""
    body = json.dumps(content, ensure_ascii=ascii).encode("utf-8", "surrogatepass")
    decoded = loads(body)
    assert decoded_digest(decoded) == content_digest(decoded)


@given(st.lists(_user_resources(), max_size=3), _keeps)
def test_decoded_pages_make_the_users_of_the_plain_rules(
    page: list[dict[str, Any]], keep: frozenset[str] | None
) -> None:
    """Users made from a page as a read decodes it (the native fingerprint) answer as
    the plain users of ``live`` read from the same resources."""
    decoded = [_decoded(resource) for resource in page]
    layout = Layout.of(keep)
    for compact, resource in zip(
        users_of_page(decoded, layout, decoded=True), decoded, strict=True
    ):
        _same_user(compact, LiveUser.from_scim(resource), layout.paths)


@given(st.lists(_group_resources(), max_size=4))
def test_decoded_pages_make_the_groups_of_the_plain_rules(page: list[dict[str, Any]]) -> None:
    """Groups made from a page as a read decodes it fingerprint as the plain ones."""
    decoded = [_decoded(resource) for resource in page]
    for compact, resource in zip(groups_of_page(decoded, {}, decoded=True), decoded, strict=True):
        plain = LiveGroup.from_scim(resource)
        assert compact.member_ids == plain.member_ids
        assert compact.fingerprint == plain.fingerprint == fingerprint(resource)


def test_without_msgspec_decoded_content_takes_json_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    """An install without msgspec hashes decoded content from ``json.dumps``'s text."""
    monkeypatch.setattr("reconciler.live._SORTED", None)
    content = loads(b'{"b": 1.5, "a": "\\u00e9\\u007f", "n": %d}' % 2**70)
    assert decoded_digest(content) == content_digest(content)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"a": "\\ud800"}', id="lone-surrogate"),
        pytest.param(b'{"a": "\\ud83d\\ude00 \\u00e9 \\u007f \\u001f"}', id="escapes"),
        pytest.param(b'{"a": [1e16, 1e-05, NaN, -Infinity, 1e400]}', id="floats"),
        pytest.param(b'{"a": %d}' % -(2**90), id="big-int"),
    ],
)
def test_bodies_msgspec_writes_otherwise_hash_as_json_dumps_does(body: bytes) -> None:
    """Text msgspec cannot write (a lone surrogate), floats it writes otherwise and
    escapes ``json.dumps`` writes: the same digest."""
    content = loads(body)
    assert decoded_digest(content) == content_digest(content)


def test_a_reads_own_users_are_narrowed_in_place() -> None:
    """Users only their read holds are narrowed as they are (no second copy of each),
    other callers' users as new ones, the originals unchanged."""
    resource = {"id": "u", "userName": "a@example.com", "title": "Boss"}
    keep = frozenset({"userName"})
    shared, own = users_of_page([resource]), users_of_page([resource])
    (copy,) = narrowed_users(shared, keep)
    (same,) = narrowed_users(own, keep, own=True)
    assert copy is not shared[0]
    assert "title" in shared[0].attributes
    assert same is own[0]
    assert dict(same.attributes) == dict(copy.attributes)
    assert dict(same.attributes) == {"userName": "a@example.com"}
