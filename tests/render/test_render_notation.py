"""Tests for reconciler.render.notation: the words and value notation every view shares."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.errors import ConfigError
from reconciler.plan import Action, ActionKind, Change, MemberChange, Plan, Resource
from reconciler.render import (
    render_plan_json,
    render_plan_markdown,
    render_plan_text,
)
from reconciler.render.notation import (
    action_label,
    adopt_sentence,
    format_value,
    item_lines,
    printable,
    rename_sentence,
    sensitive_group_action,
    summary_line,
)
from reconciler.saved import read_plan


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
        pytest.param(ActionKind.ADOPT, "group team (adopt)", id="adopt"),
        pytest.param(ActionKind.RENAME, "group team (rename)", id="rename-without-old-name"),
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


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        pytest.param(ActionKind.UPDATE, "group site-admins (sensitive)", id="update"),
        pytest.param(ActionKind.DELETE, "group site-admins (delete, sensitive)", id="delete"),
    ],
)
def test_a_sensitive_group_is_marked_in_its_label(kind: ActionKind, label: str) -> None:
    """The group that policy.groups.sensitive marks says so on its own line."""
    action = Action(resource=Resource.GROUP, action=kind, key="site-admins")
    assert sensitive_group_action(action, {"site-admins"})
    assert action_label(action, sensitive=True) == label


def test_a_rename_of_a_sensitive_group_is_marked_under_its_old_name() -> None:
    """A sensitive group renamed to a name no glob marks is still flagged."""
    action = Action(
        resource=Resource.GROUP,
        action=ActionKind.RENAME,
        key="ops",
        changes=(Change(path="displayName", before="site-admins", after="ops"),),
    )
    assert sensitive_group_action(action, {"site-admins"})
    assert not sensitive_group_action(action, set())
    user = Action(resource=Resource.USER, action=ActionKind.UPDATE, key="site-admins")
    assert not sensitive_group_action(user, {"site-admins"})


def test_rename_label_names_the_old_and_the_new_group() -> None:
    """A rename reads ``group old -> new (rename)``, the old name taken from its displayName."""
    action = Action(
        resource=Resource.GROUP,
        action=ActionKind.RENAME,
        key="team",
        changes=(Change(path="displayName", before="old\nteam", after="team"),),
    )
    assert action_label(action) == "group old\\u000ateam -> team (rename)"


@pytest.mark.parametrize(
    ("active", "sentence"),
    [
        pytest.param(
            Change(path="active", before=False, after=True),
            "takes over the existing account u-1 and reactivates it",
            id="reactivates",
        ),
        pytest.param(
            Change(path="active", before=True, after=False),
            "takes over the existing account u-1 and deactivates it",
            id="deactivates",
        ),
        pytest.param(
            None, "takes over the existing account u-1; does not reactivate it", id="unchanged"
        ),
    ],
)
def test_adopt_sentence_says_whether_the_account_is_reactivated(
    active: Change | None, sentence: str
) -> None:
    """An adopt says plainly whether it reactivates, deactivates or leaves ``active`` alone."""
    changes = (Change(path="displayName", before="A", after="B"),)
    action = Action(
        resource=Resource.USER,
        action=ActionKind.ADOPT,
        key="a@example.com",
        id="u-1",
        changes=changes if active is None else (*changes, active),
    )
    assert adopt_sentence(action, repr, str) == sentence


def test_adopt_sentence_names_the_account_by_its_live_user_name() -> None:
    """When an adopt changes the userName, the account is named by the one it has now."""
    action = Action(
        resource=Resource.USER,
        action=ActionKind.ADOPT,
        key="new@example.com",
        id="u-1",
        changes=(Change(path="userName", before="old@example.com", after="new@example.com"),),
    )
    assert adopt_sentence(action, repr, str) == (
        "takes over the existing account 'old@example.com' (u-1); does not reactivate it"
    )


def test_rename_sentence_counts_the_members_moved() -> None:
    """A rename says it creates the new group, moves its members and deletes the old one."""
    action = Action(
        resource=Resource.GROUP,
        action=ActionKind.RENAME,
        key="new",
        id="g-1",
        changes=(
            Change(path="displayName", before="old", after="new"),
            MemberChange(add=("a@example.com",)),
        ),
    )
    assert rename_sentence(action, repr, str) == (
        "done as: create group 'new', move 1 member into it, delete group 'old' (g-1)"
    )


@pytest.mark.parametrize(
    ("change", "lines"),
    [
        pytest.param(
            Change(path="emails", after=[{"value": "a@x", "type": "work", "primary": True}]),
            ['+ {"value":"a@x","type":"work","primary":true}'],
            id="created-item",
        ),
        pytest.param(Change(path="displayName", before="A", after="B"), None, id="not-multi"),
        pytest.param(Change(path="emails", before="a@x", after=None), None, id="not-items"),
    ],
)
def test_item_lines(change: Change, lines: list[str] | None) -> None:
    """Multi-valued changes are written item by item; anything else is left to before -> after."""
    assert item_lines(change) == lines


def test_a_create_that_links_to_an_existing_account_says_so_in_every_view() -> None:
    """``Plan.existing_accounts``: the text view puts it beside the create, markdown under
    it, the JSON plan as a top-level map; the digest covers it, and a saved plan keeps it."""
    carol = Action(
        resource=Resource.USER,
        action=ActionKind.CREATE,
        key="carol@example.com",
        changes=(Change(path="userName", after="carol@example.com"),),
    )
    plain = Plan(target="t", dialect="atlassian", actions=(carol,))
    linked = plain.model_copy(update={"existing_accounts": {"carol@example.com": "5b10ac8d"}})
    text = render_plan_text(linked, color=False)
    assert "+ user carol@example.com (links to existing account 5b10ac8d)\n" in text
    assert "links to existing account" not in render_plan_text(plain, color=False)
    assert "Links to the existing Atlassian account <code>5b10ac8d</code>." in (
        render_plan_markdown(linked)
    )
    written = render_plan_json(linked)
    assert json.loads(written)["existing_accounts"] == {"carol@example.com": "5b10ac8d"}
    assert json.loads(render_plan_json(plain))["existing_accounts"] == {}
    assert linked.digest != plain.digest
    assert read_plan(written) == linked
    edited = written.replace("5b10ac8d", "5b10ac8e")
    with pytest.raises(ConfigError, match="digest does not match"):
        read_plan(edited)
