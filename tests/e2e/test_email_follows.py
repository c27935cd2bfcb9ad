"""A user rename and its primary email, end to end on the sandbox (issue 16 item 9)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Directory
from tests.e2e.helpers import reconciler, write

RENAMED = """
version: 1
{policy}
users:
  - userName: ann.smith@example.com
    previousUserNames: [ann.archer@example.com]
  - userName: bob@example.com
"""


def _renamed(tmp_path: Path, policy: str = "") -> str:
    return str(write(tmp_path / "files", "directory.yaml", RENAMED.format(policy=policy)).parent)


def _primary(user: dict[str, object]) -> str:
    emails = user["emails"]
    assert isinstance(emails, list)
    return str(next(e["value"] for e in emails if e.get("primary")))


def test_a_rename_says_the_email_stays_and_the_setting_makes_it_follow(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """ann.archer -> ann.smith with emails not managed: the plan warns (text and JSON)
    that the primary email stays; with email_follows_username the apply changes both,
    and the next plan is empty."""
    target, directory = sandbox
    directory.create_user("ann.archer@example.com")
    directory.create_user("bob@example.com")

    warned = reconciler("plan", _renamed(tmp_path / "a"), "--target", target, "--no-color")
    assert warned.exit_code == 0, warned.stderr
    assert "its primary email stays ann.archer@example.com while its userName changes" in (
        warned.stdout
    )
    assert "policy.users.email_follows_username: true" in warned.stdout
    as_json = reconciler("plan", _renamed(tmp_path / "a"), "--target", target, "--format", "json")
    (warning,) = [w for w in as_json.json()["warnings"] if "primary email stays" in w["message"]]
    assert warning["key"] == "ann.smith@example.com"
    assert [c["path"] for c in as_json.json()["actions"][0]["changes"]] == ["userName"]

    files = _renamed(tmp_path / "b", "policy: {users: {email_follows_username: true}}")
    applied = reconciler("apply", files, "--target", target, "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    ann = directory.users()["ann.smith@example.com"]
    assert _primary(ann) == "ann.smith@example.com"
    again = reconciler("plan", files, "--target", target, "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout  # converged: nothing left to do


def test_an_address_another_account_holds_stays_and_the_rename_goes_alone(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """The sandbox, like Atlassian, gives an email to one account: with the new address
    held by bob, the plan warns and renames ann alone; the apply succeeds (no 409) and
    the next plan is empty."""
    target, directory = sandbox
    directory.create_user("ann.archer@example.com")
    directory.create_user("bob@example.com")
    bob = directory.users()["bob@example.com"]
    directory.patch("Users", bob["id"], {"op": "add", "path": "emails", "value": [
        {"value": "ann.smith@example.com", "type": "home", "primary": False}
    ]})  # fmt: skip
    files = _renamed(tmp_path, "policy: {users: {email_follows_username: true}}")
    planned = reconciler("plan", files, "--target", target, "--no-color")
    assert (
        "ann.smith@example.com is held by the live account bob@example.com, and two "
        "accounts cannot share an email"
    ) in planned.stdout
    applied = reconciler("apply", files, "--target", target, "--auto-approve")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    ann = directory.users()["ann.smith@example.com"]
    assert _primary(ann) == "ann.archer@example.com"
    again = reconciler("plan", files, "--target", target, "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout
