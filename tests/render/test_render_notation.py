"""Tests for reconciler.render.notation: the words and value notation every view shares."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.plan import Action, ActionKind, Plan, Resource
from reconciler.render.notation import action_label, format_value, printable, summary_line


@pytest.mark.parametrize(
    ("value", "written"),
    [
        pytest.param(None, "(none)", id="none"),
        pytest.param("Old", '"Old"', id="string-quoted"),
        pytest.param(" padded ", '" padded "', id="spaces-visible"),
        pytest.param("1001", '"1001"', id="numeric-string"),
        pytest.param(1001, "1001", id="number"),
        pytest.param(False, "false", id="bool"),
        pytest.param(
            [{"value": "a@example.com", "primary": True}],
            '[{"value":"a@example.com","primary":true}]',
            id="list-compact",
        ),
        pytest.param("Größe", '"Größe"', id="non-ascii-kept"),
    ],
)
def test_format_value(value: Any, written: str) -> None:
    """Values are written as one-line compact JSON, and an absent value as ``(none)``."""
    assert format_value(value) == written


@pytest.mark.parametrize(
    ("text", "written"),
    [
        pytest.param("alice@example.com", "alice@example.com", id="plain"),
        pytest.param("a\x1b[31mb", "a\\u001b[31mb", id="ansi-escape"),
        pytest.param("a\nb\tc", "a\\u000ab\\u0009c", id="line-break-and-tab"),
        pytest.param("abc\u202edef", "abc\\u202edef", id="bidi-override"),
        pytest.param("x\u2028y", "x\\u2028y", id="line-separator"),
        pytest.param("\ud800", "\\ud800", id="lone-surrogate"),
        pytest.param("tab\u00a0nbsp", "tab\u00a0nbsp", id="visible-space-kept"),
    ],
)
def test_printable(text: str, written: str) -> None:
    """Control, format and separator characters become visible escapes; the rest stays."""
    assert printable(text) == written
    written.encode("utf-8")  # always writable to a UTF-8 stream


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        pytest.param(ActionKind.CREATE, "group team", id="create"),
        pytest.param(ActionKind.UPDATE, "group team", id="update"),
        pytest.param(ActionKind.REACTIVATE, "group team (reactivate)", id="reactivate"),
        pytest.param(ActionKind.DEACTIVATE, "group team (deactivate)", id="deactivate"),
        pytest.param(ActionKind.DELETE, "group team (delete)", id="delete"),
    ],
)
def test_action_label(kind: ActionKind, label: str) -> None:
    """Kinds that share a symbol with another kind name themselves in the label."""
    assert action_label(Action(resource=Resource.GROUP, action=kind, key="team")) == label


def test_summary_line_counts_every_kind_in_contract_order() -> None:
    """The summary line names all five kinds, zeros included, in the contract's order."""
    plan = Plan(
        target="https://scim.example.com/v2",
        dialect="generic",
        actions=(
            Action(resource=Resource.USER, action=ActionKind.CREATE, key="a"),
            Action(resource=Resource.USER, action=ActionKind.UPDATE, key="b"),
            Action(resource=Resource.GROUP, action=ActionKind.UPDATE, key="c"),
        ),
    )
    assert summary_line(plan) == (
        "Plan: 1 to create, 2 to update, 0 to deactivate, 0 to reactivate, 0 to delete."
    )
