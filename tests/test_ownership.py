"""Field ownership: what a file user manages, its values, and shared shapes; the
per-shape form (``ownership_fast``) and shared field sets held equal to the plain rule."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler import desired_compact, ownership_fast
from reconciler.attributes import live_user_values
from reconciler.desired import Email, Enterprise, Name, PhoneNumber, UserSpec
from reconciler.desired_compact import share_common_parts
from reconciler.live import compact_value
from reconciler.ownership import create_user_attributes, managed_attributes, mentioned_attributes
from reconciler.ownership_fast import (
    desired_user_attributes,
    desired_user_values,
    managed_paths,
    mentioned_paths,
    shapes_of,
    user_shape,
)


def email(value: str, type_: str | None = "work", *, primary: bool = False) -> dict[str, Any]:
    return {"value": value, "type": type_, "primary": primary}


# --- what the files manage ------------------------------------------------------------


def test_desired_attributes_hold_only_what_the_file_mentions() -> None:
    """Field ownership: only mentioned attributes are managed, userName always."""
    user = UserSpec(
        userName="alice@example.com",
        displayName="Alice",
        name=Name(givenName="Alice"),
        enterprise=Enterprise(department="R&D"),
    )
    assert desired_user_attributes(user) == {
        "userName": "alice@example.com",
        "displayName": "Alice",
        "name.givenName": "Alice",
        "enterprise.department": "R&D",
    }


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        pytest.param(
            UserSpec(userName="a", title=None), {"userName": "a", "title": None}, id="simple"
        ),
        pytest.param(
            UserSpec(userName="a", name=None),
            {"userName": "a", **{f"name.{n}": None for n in Name.model_fields}},
            id="whole-name",
        ),
        pytest.param(
            UserSpec(userName="a", enterprise=None),
            {"userName": "a", **{f"enterprise.{n}": None for n in Enterprise.model_fields}},
            id="whole-enterprise",
        ),
        pytest.param(
            UserSpec(userName="a", name=Name(familyName=None)),
            {"userName": "a", "name.familyName": None},
            id="one-name-part",
        ),
        pytest.param(
            UserSpec(userName="a", emails=None), {"userName": "a", "emails": None}, id="emails"
        ),
    ],
)
def test_explicit_null_is_managed_as_absent(user: UserSpec, expected: dict[str, Any]) -> None:
    """A key written as null is managed: the planner removes it from the server."""
    assert desired_user_attributes(user) == expected


def test_desired_multi_valued_attributes_are_canonical() -> None:
    """Emails and phone numbers compare in the same canonical form as live ones."""
    user = UserSpec(
        userName="a@example.com",
        emails=(
            Email(value="b@example.com", type="home"),
            Email(value="a@example.com", type="work", primary=True),
        ),
        phoneNumbers=(PhoneNumber(value="+1 555 0100"),),
    )
    attributes = desired_user_attributes(user)
    assert attributes["emails"] == [
        email("a@example.com", primary=True),
        email("b@example.com", "home"),
    ]
    assert attributes["phoneNumbers"] == [{"value": "+1 555 0100", "type": None, "primary": False}]


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        pytest.param(
            UserSpec(userName="alice@example.com"),
            {"userName": "alice@example.com", "emails": [email("alice@example.com", primary=True)]},
            id="default-email",
        ),
        pytest.param(
            UserSpec(userName="a@example.com", active=False, title=None, displayName="A"),
            {
                "userName": "a@example.com",
                "displayName": "A",
                "active": False,
                "emails": [email("a@example.com", primary=True)],
            },
            id="inactive-and-null-dropped",
        ),
        pytest.param(
            UserSpec(userName="a@example.com", emails=None),
            {"userName": "a@example.com"},
            id="explicitly-null-emails",
        ),
    ],
)
def test_create_attributes(user: UserSpec, expected: dict[str, Any]) -> None:
    """A create sends what the file says, the default email when it has none, and no nulls."""
    assert create_user_attributes(user) == expected


# --- shapes -------------------------------------------------------------------------


def test_users_of_one_shape_share_their_field_sets_once_loaded() -> None:
    """The loader's compaction: equal field sets become one set, and equal group names
    one string; what each model says, and what pydantic does with it, is unchanged."""
    users = [
        UserSpec(
            userName=f"u{i}@example.com",
            title="Engineer",
            name=Name(givenName="U", familyName=f"N{i}"),
            emails=(Email(value=f"u{i}@example.com", primary=True),),
            groups=tuple("team-" + str(n) for n in (1, 2)),
        )
        for i in range(3)
    ]
    before = [u.model_dump() for u in users]
    given = [u.model_dump(exclude_unset=True) for u in users]
    share_common_parts(users)
    assert [u.model_dump() for u in users] == before
    assert all(u.model_fields_set is users[0].model_fields_set for u in users)
    # What pydantic does with a model's own set still works on a shared one.
    assert [u.model_dump(exclude_unset=True) for u in users] == given
    renamed = users[1].model_copy(update={"nickName": "U"})
    assert renamed.nickName == "U"
    assert "nickName" in renamed.model_fields_set
    assert "nickName" not in users[0].model_fields_set  # the shared set is left alone
    assert all(u.name is not None and u.name.model_fields_set is users[0].name.model_fields_set
               for u in users)  # fmt: skip
    assert all(u.groups[1] is users[0].groups[1] for u in users)
    assert len(shapes_of(users)) == 1


@pytest.mark.skipif(
    desired_compact._TEMPLATES[UserSpec] is None or desired_compact._TEMPLATES[Name] is None,
    reason="this interpreter's key-sharing dicts are no smaller: users keep pydantic's dicts",
)
def test_loaded_users_keep_their_values_on_the_class_keys() -> None:
    """The loader's compaction gives each user (and its name) a dict that shares its keys
    with the class (smaller than the dict pydantic made), holding the same values in order."""
    users = [
        UserSpec(userName=f"u{i}@example.com", title="Engineer", name=Name(givenName=f"U{i}"))
        for i in range(3)
    ]
    made = [(dict(u.__dict__), dict(u.name.__dict__)) for u in users if u.name]
    share_common_parts(users)
    for user, (before, name_before) in zip(users, made, strict=True):
        assert list(user.__dict__.items()) == list(before.items())
        assert sys.getsizeof(user.__dict__) < sys.getsizeof(before)
        assert user.name is not None
        assert list(user.name.__dict__.items()) == list(name_before.items())
        assert sys.getsizeof(user.name.__dict__) < sys.getsizeof(name_before)
    assert users[1].model_copy(update={"title": "Lead"}).title == "Lead"
    assert users[1].title == "Engineer"


def test_equal_enterprise_parts_become_one_once_loaded() -> None:
    """Users whose enterprise parts say the same (fields given and values) share one
    model; a part that gives one more field, even as null, stays its own."""
    users = [
        UserSpec(userName="a@x.com", enterprise=Enterprise(department="R&D")),
        UserSpec(userName="b@x.com", enterprise=Enterprise(department="R&D")),
        UserSpec(userName="c@x.com", enterprise=Enterprise(department="R&D", division=None)),
        UserSpec(userName="d@x.com", enterprise=Enterprise(department="Sales")),
    ]
    given = [u.model_dump(exclude_unset=True) for u in users]
    share_common_parts(users)
    parts = [u.enterprise for u in users]
    assert parts[0] is parts[1]
    assert len({id(part) for part in parts}) == 3
    assert [u.model_dump(exclude_unset=True) for u in users] == given


def test_a_shape_tells_what_a_user_manages_and_mentions() -> None:
    """A name written as null manages every name part but mentions none of them."""
    user = UserSpec(userName="a@example.com", active=False, name=None, title="T")
    assert managed_paths(user) == {"userName", "title"} | {
        f"name.{part}" for part in Name.model_fields
    }
    assert mentioned_paths(user_shape(user)) == {"userName", "active", "title"}


_texts = st.none() | st.text(min_size=1, max_size=4)


@st.composite
def _users(draw: st.DrawFn) -> UserSpec:
    fields: dict[str, Any] = {"userName": draw(st.sampled_from(["a@x.io", "B@x.io"]))}
    for field in ("displayName", "title", "externalId"):
        if draw(st.booleans()):
            fields[field] = draw(_texts)
    if draw(st.booleans()):
        fields["name"] = draw(st.none() | st.builds(Name, givenName=_texts, familyName=_texts))
    if draw(st.booleans()):
        fields["enterprise"] = draw(st.none() | st.builds(Enterprise, department=_texts))
    if draw(st.booleans()):
        value = draw(st.sampled_from(["a@x.io", "A@X.IO", "c@x.io"]))
        fields["emails"] = (Email(value=value, primary=True),)
    return UserSpec(**fields)


@given(_users(), _users())
def test_equal_compact_values_mean_nothing_to_change(wanted: UserSpec, other: UserSpec) -> None:
    """The planner's shortcut is sound: when a live user's compact values equal the
    file's, every managed attribute compares equal the long way too."""
    paths, values = desired_user_values(wanted)
    assert tuple(desired_user_attributes(wanted)) == paths == tuple(sorted(paths))
    resource = _resource(other)
    have = live_user_values(resource, paths)
    if have == values:
        live_attributes = dict(zip(paths, have, strict=True))
        for path, value in desired_user_attributes(wanted).items():
            if path in ("emails", "phoneNumbers"):
                assert sorted(i["value"] for i in value or []) == sorted(
                    v for v, _, _ in live_attributes[path] or ()
                )
            else:
                assert live_attributes[path] == value


def _resource(user: UserSpec) -> dict[str, Any]:
    """A SCIM resource holding what ``user`` creates."""
    attrs = create_user_attributes(user)
    resource: dict[str, Any] = {}
    for path, value in attrs.items():
        where, _, key = path.rpartition(".")
        if where == "name":
            resource.setdefault("name", {})[key] = value
        elif where == "enterprise":
            urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
            resource.setdefault(urn, {})[key] = value
        else:
            resource[path] = value
    return resource


# --- the per-shape form and shared field sets, held equal to the plain rule ----------

_parts = st.none() | st.sampled_from(["x", "X", "dept"])


@st.composite
def _any_users(draw: st.DrawFn) -> UserSpec:
    """A file user mentioning any of the attributes, with values or written as null."""
    fields: dict[str, Any] = {"userName": draw(st.sampled_from(["a@x.io", "B@x.io"]))}
    for field in draw(st.sets(st.sampled_from(sorted(_OPTIONAL)))):
        fields[field] = draw(_OPTIONAL[field])
    return UserSpec(**fields)


def _models(model: type[Name | Enterprise]) -> st.SearchStrategy[Name | Enterprise | None]:
    parts = st.fixed_dictionaries({}, optional=dict.fromkeys(model.model_fields, _parts))
    return st.none() | parts.map(lambda given: model(**given))


_emails = st.lists(
    st.builds(Email, value=st.sampled_from(["a@x.io", "c@x.io"]), type=_parts), min_size=1
).map(lambda found: (found[0].model_copy(update={"primary": True}), *found[1:]))
_OPTIONAL: dict[str, st.SearchStrategy[Any]] = {
    **dict.fromkeys(("externalId", "displayName", "title", "locale", "profileUrl"), _parts),
    "active": st.booleans(),
    "name": _models(Name),
    "enterprise": _models(Enterprise),
    "emails": st.none() | _emails,
    "phoneNumbers": st.none()
    | st.lists(st.builds(PhoneNumber, value=st.just("+1")), max_size=2).map(tuple),
    "groups": st.lists(st.sampled_from(["eng", "ops"]), max_size=2).map(tuple),
    "previousUserNames": st.lists(st.just("old@x.io"), max_size=1).map(tuple),
}


@given(_any_users())
def test_the_per_shape_form_is_the_plain_rule(user: UserSpec) -> None:
    """What ``ownership_fast`` works out per shape (paths, values read by one attrgetter,
    compact values, mentioned paths) is what ``managed_attributes`` and
    ``mentioned_attributes`` say in plain code."""
    expected = managed_attributes(user)
    assert desired_user_attributes(user) == expected
    assert list(desired_user_attributes(user)) == list(expected)  # path order
    paths, values = desired_user_values(user)
    assert paths == tuple(expected)
    assert values == tuple(compact_value(path, value) for path, value in expected.items())
    assert managed_paths(user) == frozenset(expected)
    by_shape = create_user_attributes(user, desired_user_attributes(user))
    assert by_shape == create_user_attributes(user)
    assert mentioned_paths(user_shape(user)) == mentioned_attributes(user)


@given(st.lists(_any_users(), max_size=4))
def test_shared_field_sets_change_nothing_a_user_says(users: list[UserSpec]) -> None:
    """Users made to share their field sets and group names (``desired_compact``) say
    everything as the same users left as pydantic made them."""
    alone = [u.model_copy(deep=True) for u in users]
    share_common_parts(users)
    for shared, made in zip(users, alone, strict=True):
        assert shared.model_dump() == made.model_dump()
        assert shared.model_dump(exclude_unset=True) == made.model_dump(exclude_unset=True)
        assert user_shape(shared) == user_shape(made)
        assert managed_attributes(shared) == managed_attributes(made)
        assert desired_user_values(shared) == desired_user_values(made)
        assert shared == made


def test_a_long_running_process_keeps_finding_shapes_by_their_sets() -> None:
    """The per-shape work is found by a user's shared field sets however many loads a
    process has made before (the table lets earlier loads' sets go when full), and the
    answers stay the plain rule's."""
    for _ in range(ownership_fast._KNOWN_KEPT + 1):  # each its own sets: another load's
        desired_user_values(UserSpec(userName="earlier@example.com", title="T"))
    user = UserSpec(userName="now@example.com", title="Lead", name=Name(givenName="N"))
    assert len(ownership_fast._KNOWN) <= ownership_fast._KNOWN_KEPT
    assert ownership_fast._known_shape(user) is ownership_fast._known_shape(user)
    paths, values = desired_user_values(user)
    assert dict(zip(paths, values, strict=True)) == {
        path: compact_value(path, value) for path, value in managed_attributes(user).items()
    }
