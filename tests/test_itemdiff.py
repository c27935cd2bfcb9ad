"""Item-level differences of multi-valued attributes (RFC 7643 section 2.4)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.attributes import same_value
from reconciler.itemdiff import FieldChange, ItemChange, describe, item_changes


def item(value: str, type_: str | None = "work", *, primary: bool = False) -> dict[str, Any]:
    return {"value": value, "type": type_, "primary": primary}


def words(changes: tuple[ItemChange, ...] | None) -> list[str]:
    assert changes is not None
    return [describe(c, lambda v: json.dumps(v, separators=(",", ":")), str) for c in changes]


def test_equal_lists_have_no_item_changes() -> None:
    """Two lists with the same items, in any order, differ in no item."""
    a, b = item("a@x", primary=True), item("b@x", "home")
    assert item_changes("emails", [a, b], [b, a]) == ()


def test_added_and_removed_items_are_whole() -> None:
    """An item only after is added, one only before is removed, each shown whole."""
    changes = item_changes("emails", [item("old@x")], [item("new@x")])
    assert changes == (
        ItemChange("remove", before=item("old@x")),
        ItemChange("add", after=item("new@x")),
    )


def test_item_with_the_same_value_is_changed_field_by_field() -> None:
    """Items that share a value are paired, and only the fields that differ are named."""
    changes = item_changes(
        "emails", [item("a@x", "home", primary=True)], [item("a@x", "work", primary=True)]
    )
    assert changes is not None
    assert changes[0].fields == (FieldChange("type", "home", "work"),)
    assert words(changes) == ['~ a@x: type "home" -> "work"']


def test_emails_pair_case_insensitively() -> None:
    """Emails pair by address in any letter case, as the directory compares them."""
    changes = item_changes("emails", [item("Ann@X", primary=True)], [item("ann@x", primary=True)])
    assert words(changes) == ['~ ann@x: value "Ann@X" -> "ann@x"']


def test_phone_numbers_pair_exactly() -> None:
    """Phone numbers pair only by the exact value: a different spelling is another number."""
    changes = item_changes("phoneNumbers", [item("+1 555")], [item("+1555")])
    assert [c.op for c in changes or ()] == ["remove", "add"]


def test_order_is_removals_changes_additions_each_by_value() -> None:
    """Changes come as a diff reads: removals, then changes, then additions, each by value."""
    before = [item("c@x"), item("b@x"), item("m@x", "home")]
    after = [item("z@x"), item("a@x"), item("m@x", "work")]
    assert words(item_changes("emails", before, after)) == [
        '- {"value":"b@x","type":"work","primary":false}',
        '- {"value":"c@x","type":"work","primary":false}',
        '~ m@x: type "home" -> "work"',
        '+ {"value":"a@x","type":"work","primary":false}',
        '+ {"value":"z@x","type":"work","primary":false}',
    ]


def test_several_fields_are_named_in_reading_order() -> None:
    """Changed fields come as value, type, primary, then any other field by name."""
    before = {"value": "a@x", "type": "home", "primary": False, "display": "A"}
    after = {"value": "A@x", "type": "work", "primary": True, "display": "B"}
    changes = item_changes("emails", [before], [after])
    assert changes is not None
    assert [f.name for f in changes[0].fields] == ["value", "type", "primary", "display"]


def test_a_field_that_only_changes_type_is_a_change() -> None:
    """``true`` and ``1`` are different values, as deepdiff tells them apart."""
    changes = item_changes("emails", [item("a@x", primary=True)], [{**item("a@x"), "primary": 1}])
    assert changes is not None
    assert changes[0].fields == (FieldChange("primary", True, 1),)


def test_ambiguous_values_are_removed_and_added() -> None:
    """Two items with one value on a side are not paired by guess; they are removed and added."""
    before = [item("a@x", "home"), item("a@x", "work")]
    after = [item("a@x", "other")]
    assert [c.op for c in item_changes("emails", before, after) or ()] == [
        "remove",
        "remove",
        "add",
    ]


def test_none_is_an_empty_list() -> None:
    """An absent attribute has no items: everything after it is added."""
    assert [c.op for c in item_changes("emails", None, [item("a@x")]) or ()] == ["add"]
    assert [c.op for c in item_changes("emails", [item("a@x")], None) or ()] == ["remove"]


@pytest.mark.parametrize(
    ("path", "before", "after"),
    [
        pytest.param("displayName", "A", "B", id="not-multi-valued"),
        pytest.param("emails", "a@x", None, id="not-a-list"),
        pytest.param("emails", [{"type": "work"}], None, id="item-without-value"),
        pytest.param("emails", None, ["a@x"], id="item-not-a-mapping"),
    ],
)
def test_no_item_changes_for_what_is_not_a_list_of_items(
    path: str, before: Any, after: Any
) -> None:
    """Anything that is not a list of items with a value gets None: views show it whole."""
    assert item_changes(path, before, after) is None


_items = st.lists(
    st.builds(
        item,
        st.sampled_from(["a@x", "A@x", "b@x", "c@x"]),
        st.sampled_from(["work", "home", None]),
        primary=st.booleans(),
    ),
    max_size=4,
)


@given(before=_items, after=_items)
def test_no_changes_exactly_when_the_lists_are_equal_multisets(
    before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> None:
    """Item changes are empty if and only if both lists hold the same items."""
    key = sorted(json.dumps(i, sort_keys=True) for i in before)
    same = key == sorted(json.dumps(i, sort_keys=True) for i in after)
    assert (item_changes("emails", before, after) == ()) is same


@given(before=_items, after=_items)
def test_changes_account_for_every_item(
    before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> None:
    """Applying the changes to ``before`` gives ``after`` as the directory compares them."""
    changes = item_changes("emails", before, after) or ()
    result = [dict(i) for i in before]
    for change in changes:
        if change.before is not None:
            result.remove(dict(change.before))
        if change.after is not None:
            result.append(dict(change.after))
    assert same_value("emails", result, after)
    assert sorted(map(json.dumps, result)) == sorted(map(json.dumps, after))
    assert item_changes("emails", before, after) == changes  # deterministic
