"""The review tells the whole truth about access, end to end through the real CLI.

Every way a person loses a group shows in every view and counts as the limits say:
a deleted group, the old group of a rename on Atlassian, a nested group removed from
a group, and under an opaque key the person is named by userName too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SCIM2_SERVER_TOKEN
from tests.e2e.helpers import Directory, reconciler, write

TWO_USERS = """
version: 1
users:
  - userName: alice@example.com
  - userName: bob@example.com
"""


def _files(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / name
    write(folder, "users.yaml", TWO_USERS)
    write(folder, "rest.yaml", text)
    return folder


def _person(access: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(entry for entry in access if entry["key"] == key)


def test_a_deleted_sensitive_group_is_a_loss_for_each_member_and_is_blocked(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """groups.unmanaged: delete and a sensitive managers group gone from the files: each
    member loses it, flagged sensitive, in every view; max_sensitive_changes (default 0)
    blocks the plan (exit 3)."""
    target, _ = sandbox
    first = _files(tmp_path, "v1", """
        version: 1
        policy: {limits: {max_sensitive_changes: 2}, groups: {sensitive: [managers]}}
        groups: [{displayName: managers, members: [alice@example.com, bob@example.com]}]
    """)  # fmt: skip
    assert reconciler("apply", str(first), "--target", target, "--auto-approve").exit_code == 0
    second = _files(tmp_path, "v2", """
        version: 1
        policy:
          groups: {unmanaged: delete, sensitive: [managers]}
          limits: {max_group_deletions: 1}
    """)  # fmt: skip

    as_json = reconciler("plan", str(second), "--target", target, "--format", "json")
    assert as_json.exit_code == 3, as_json.stderr
    data = as_json.json()
    for key in ("alice@example.com", "bob@example.com"):
        entry = _person(data["access"], key)
        assert (entry["loses"], entry["sensitive"]) == (["managers"], ["managers"])
    assert data["holders"] == [{"group": "managers", "before": 2, "after": 0}]
    assert data["sensitive_changes"] == 2
    assert {"limit": "max_sensitive_changes", "allowed": 0, "planned": 2}.items() <= next(
        b for b in data["blocked"] if b["limit"] == "max_sensitive_changes"
    ).items()

    text = reconciler("plan", str(second), "--target", target).stdout
    assert "alice@example.com  - managers (sensitive)" in text
    assert "managers: 2 -> 0 people" in text
    assert "; 2 sensitive changes." in text
    markdown = reconciler("plan", str(second), "--target", target, "--format", "markdown").stdout
    assert "<code>bob@example.com  - managers (sensitive)</code>" in markdown
    assert "<code>managers</code>**: 2 → 0 people" in markdown


def test_an_atlassian_rename_shows_the_old_group_lost_and_the_new_gained(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """sales -> revenue on the sandbox (Atlassian: create, move, delete): alice gains
    revenue and loses sales, in the JSON and the text."""
    target, _ = sandbox
    first = _files(tmp_path, "v1", """
        version: 1
        groups: [{displayName: sales, members: [alice@example.com]}]
    """)  # fmt: skip
    assert reconciler("apply", str(first), "--target", target, "--auto-approve").exit_code == 0
    second = _files(tmp_path, "v2", """
        version: 1
        policy: {limits: {max_group_deletions: 1}}
        groups: [{displayName: revenue, previousNames: [sales], members: [alice@example.com]}]
    """)  # fmt: skip
    run = reconciler("plan", str(second), "--target", target, "--format", "json")
    assert run.exit_code == 0, run.stderr
    alice = _person(run.json()["access"], "alice@example.com")
    assert (alice["gains"], alice["loses"]) == (["revenue"], ["sales"])
    text = reconciler("plan", str(second), "--target", target).stdout
    assert "alice@example.com  + revenue  - sales" in text


def test_opaque_keys_are_shown_with_the_user_name_everywhere_a_person_is_named(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """Under key: externalId the plan's headers and member lists, the apply report and
    the left-alone list name E1001 as "E1001 (alice@example.com)"."""
    target, _ = sandbox
    files = write(tmp_path, "people.yaml", """
        version: 1
        policy: {users: {key: externalId}}
        users:
          - {userName: alice@example.com, externalId: E1001}
        groups: [{displayName: eng, members: [E1001]}]
    """)  # fmt: skip
    first = reconciler("apply", str(files), "--target", target, "--auto-approve")
    assert first.exit_code == 0, first.stderr
    assert "+ user E1001 (alice@example.com): applied" in first.stdout
    assert "+ user E1001 (alice@example.com)\n" in first.stdout  # the plan shown first
    assert "members: + E1001 (alice@example.com)" in first.stdout

    write(tmp_path, "people.yaml", """
        version: 1
        policy: {users: {key: externalId}}
        users:
          - {userName: carol@example.com, externalId: E2002}
        groups: [{displayName: eng, members: []}]
    """)  # fmt: skip
    again = reconciler("plan", str(files), "--target", target)
    assert "members: - E1001 (alice@example.com)" in again.stdout
    assert "(E1001 (alice@example.com))" in again.stdout  # left alone: not in the files


@pytest.fixture
def scim2(scim2_tenant: str, scim2_env: None) -> Iterator[tuple[str, Directory]]:
    directory = Directory(scim2_tenant, token=SCIM2_SERVER_TOKEN)
    yield scim2_tenant, directory
    directory.close()


def _nested_admins(tmp_path: Path, target: str, directory: Directory) -> Path:
    """alice in admins directly, bob through the nested group helpers."""
    setup = write(tmp_path / "setup", "users.yaml", TWO_USERS)
    assert reconciler("apply", str(setup), "--target", target, "--auto-approve").exit_code == 0
    users = directory.users()
    alice, bob = users["alice@example.com"]["id"], users["bob@example.com"]["id"]
    group = "urn:ietf:params:scim:schemas:core:2.0:Group"
    helpers = directory.http.post(
        "Groups", json={"schemas": [group], "displayName": "helpers", "members": [{"value": bob}]}
    )
    helpers.raise_for_status()
    members = [{"value": alice}, {"value": helpers.json()["id"], "type": "Group"}]
    admins = directory.http.post(
        "Groups", json={"schemas": [group], "displayName": "admins", "members": members}
    )
    admins.raise_for_status()
    return setup


def test_nested_group_members_are_removed_under_authoritative_and_named_per_person(
    tmp_path: Path, scim2: tuple[str, Directory]
) -> None:
    """A live sensitive admins holds alice and the group helpers (bob): with members:
    authoritative and files saying "alice only", the plan removes helpers, says bob loses
    admins via helpers, and after the apply bob holds admins no more; the next plan is
    empty."""
    target, directory = scim2
    _nested_admins(tmp_path, target, directory)
    files = _files(tmp_path, "files", """
        version: 1
        policy: {groups: {sensitive: [admins]}, limits: {max_member_removals: 1}}
        groups: [{displayName: admins, members: [alice@example.com]}]
    """)  # fmt: skip
    text = reconciler("plan", str(files), "--target", target)
    assert text.exit_code == 3, text.stderr  # one sensitive change: bob
    assert "No changes" not in text.stdout
    assert "members: - group helpers (" in text.stdout
    assert "bob@example.com  - admins (sensitive, via helpers)" in text.stdout
    assert "admins: 2 -> 1 person" in text.stdout
    data = reconciler("plan", str(files), "--target", target, "--format", "json").json()
    bob = _person(data["access"], "bob@example.com")
    assert (bob["loses"], bob["via"]) == (["admins"], {"admins": "helpers"})

    applied = reconciler(
        "apply", str(files), "--target", target, "--auto-approve", "--approve", data["digest"]
    )
    assert applied.exit_code == 0, applied.stderr
    assert directory.groups()["admins"] == {"alice@example.com"}
    again = reconciler("plan", str(files), "--target", target, "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout


def test_nested_group_members_under_additive_are_warned_about_never_matches(
    tmp_path: Path, scim2: tuple[str, Directory]
) -> None:
    """Under members: additive the nested group stays, and the plan warns about it and
    counts it as left alone instead of saying the directory matches the files."""
    target, directory = scim2
    _nested_admins(tmp_path, target, directory)
    files = _files(tmp_path, "files", """
        version: 1
        policy: {groups: {members: additive}}
        groups: [{displayName: admins, members: [alice@example.com]}]
    """)  # fmt: skip
    run = reconciler("plan", str(files), "--target", target)
    assert run.exit_code == 0, run.stderr
    assert "No changes planned, but read the warnings above." in run.stdout
    assert "has 1 member that is not a user of the directory (group helpers)" in run.stdout
    assert "has members that are not users" in run.stdout  # left alone
