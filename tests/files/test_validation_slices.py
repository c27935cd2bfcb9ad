"""A file's users validated a slice at a time (``validate_file``) are exactly the
model, or the errors, of validating the whole file in one call."""

from __future__ import annotations

import copy
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from reconciler.desired import DesiredFile
from reconciler.errors import DesiredStateError
from reconciler.files import validation
from reconciler.files.loader import load_desired

_NAMES = st.sampled_from(["ann@example.com", "bob@example.com", "", "x"]) | st.integers(0, 3)
_EMAIL = st.fixed_dictionaries(
    {"value": st.sampled_from(["ann@example.com", "not an email", 7])},
    optional={
        "type": st.sampled_from(["work", "home", 1]),
        "primary": st.booleans() | st.just("y"),
    },
)
_USER = st.fixed_dictionaries(
    {"userName": _NAMES},
    optional={
        "active": st.booleans() | st.just("yes"),
        "displayName": st.text(max_size=3) | st.none(),
        "emails": st.lists(_EMAIL, max_size=2).map(tuple),
        "groups": st.lists(st.sampled_from(["eng", "ops", ""]), max_size=2).map(tuple),
        "nickname": st.just("typo"),
    },
)
_FILE = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 1, 1, 2, "1"])},
    optional={
        "users": st.lists(_USER, max_size=9).map(tuple) | st.lists(_USER, max_size=3),
        "groups": st.just(({"displayName": "eng"},)),
        "extra": st.just(1),
    },
)


def _outcome(call: Any, data: dict[str, Any]) -> tuple[str, Any]:
    try:
        model = call(data)
    except ValidationError as error:
        errors = [  # an error's ctx holds the exception raised, equal only to itself
            {**e, "ctx": {k: repr(v) for k, v in e.get("ctx", {}).items()}}
            for e in error.errors(include_url=False)
        ]
        return "errors", (errors, str(error))
    return "model", (model, model.model_fields_set, [u.model_fields_set for u in model.users])


@given(_FILE, st.booleans())
def test_users_validated_in_slices_are_the_one_call(data: dict[str, Any], release: bool) -> None:
    """Slices of two (so that small random files have several): the same model, with
    the same fields set, or the same errors in the same order; also when the users
    validated are let go (``release``) before a later slice's problem is found."""
    expected = _outcome(DesiredFile.model_validate, copy.deepcopy(data))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(validation, "USERS_AT_ONCE", 2)
        sliced = _outcome(lambda d: validation.validate_file(d, release=release), data)
    assert sliced == expected


def test_released_users_are_let_go_as_they_are_validated() -> None:
    """With ``release``, no parsed user of a file validated in slices stays referenced
    from its data: what the file's models are made next can reuse their memory."""
    users = tuple({"userName": f"u{i}@example.com"} for i in range(2500))
    data: dict[str, Any] = {"version": 1, "users": users}
    watched = [users[0], users[1500], users[2499]]  # in the first, a middle, the last slice
    del users
    held_by_data = [sys.getrefcount(user) for user in watched]
    model = validation.validate_file(data, release=True)
    assert len(model.users) == 2500
    assert model.users[-1].userName == "u2499@example.com"
    # Each is now held by ``watched`` alone: one reference fewer than the tuple gave it.
    assert [sys.getrefcount(user) for user in watched] == [n - 1 for n in held_by_data]
    assert {u["userName"] for u in data["users"]} == {"validated@example.invalid"}


def _count_slices(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the slices ``validate_file`` validates, as it validates them."""
    sizes: list[int] = []
    adapter = validation._USERS

    class Counting:
        def validate_python(self, users: Any) -> Any:
            sizes.append(len(users))
            return adapter.validate_python(users)

    monkeypatch.setattr(validation, "_USERS", Counting())
    return sizes


def _large_file(suffix: str, last_active: str) -> tuple[str, str]:
    """2,500 users, the last one's ``active`` written as ``last_active``; the text, and
    where that value is (``line:column``)."""
    if suffix == "yaml":
        lines = ["version: 1", "users:"]
        lines += [f"  - userName: u{i}@example.com" for i in range(2499)]
        lines += ["  - userName: last@example.com", f"    active: {last_active}"]
    else:
        lines = ['{"version": 1,', ' "users": [']
        lines += [f'  {{"userName": "u{i}@example.com"}},' for i in range(2499)]
        lines += [f'  {{"userName": "last@example.com", "active": {last_active}}}', "]}"]
    last = max(n for n, line in enumerate(lines, 1) if "active" in line)
    column = lines[last - 1].index(last_active) + 1
    return "\n".join(lines) + "\n", f"{last}:{column}"


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_a_large_file_loads_the_same_in_slices(
    suffix: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the loader, a file of 2,500 users is validated in three slices; with one
    bad user at the end, that user is reported at its line and column, as it was when
    files were validated whole."""
    path = tmp_path / f"users.{suffix}"
    text, where = _large_file(suffix, '"maybe"' if suffix == "json" else "maybe")
    path.write_text(text, encoding="utf-8")
    slices = _count_slices(monkeypatch)
    with pytest.raises(DesiredStateError) as raised:
        load_desired([path])
    assert slices == [1000, 1000, 500]  # in slices, then whole for the file's problem
    expected = f"users.{suffix}:{where}: users[2499].active: expected true or false"
    assert expected in str(raised.value)
    text, _ = _large_file(suffix, "false")
    path.write_text(text, encoding="utf-8")
    desired = load_desired([path])
    assert len(desired.users) == 2500
    assert desired.users[-1].active is False
