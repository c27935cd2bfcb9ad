"""End to end against the embedded sandbox, the Atlassian dialect: apply, then plan again.

Files → apply → plan, through the real CLI; the directory seeded and checked with
plain httpx (the ``sandbox`` fixture). What converges on scim2-server is in
``test_scim2_server.py``.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.helpers import Directory, reconciler, write


def test_removing_a_department_held_at_the_atlassian_top_level_converges(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """``enterprise: {department: null}`` on a user whose department is top-level converges.

    docs/atlassian.md "Users": department and organization are also accepted at the top
    level, and ``live_user_attributes`` reads them from there when the enterprise block
    lacks them.
    Expected: apply, then plan again is empty. Actual: the executor only sends
    ``remove urn:…:enterprise:2.0:User:department``; the top-level value stays, is read
    back as enterprise.department, and every plan repeats the same update forever.
    """
    target, directory = sandbox
    directory.create_user("e@example.com", department="Sales")
    files = write(
        tmp_path / "files",
        "users.yaml",
        "version: 1\nusers:\n  - userName: e@example.com\n    enterprise: {department: null}\n",
    )
    applied = reconciler("apply", str(files), "--target", target, "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    again = reconciler("plan", str(files), "--target", target, "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout


def test_emails_and_phone_numbers_without_type_are_created(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """An email or phone number with no ``type`` is sent without one, never as ``null``
    (which SCIMMY, and the sandbox like it, refuse with 400): the user is created."""
    url, directory = sandbox
    write(
        tmp_path / "d",
        "users.yaml",
        """
        version: 1
        users:
          - userName: alice@example.com
            emails: [{value: alice@example.com, primary: true}]
            phoneNumbers: [{value: "+1 555 0100"}]
        """,
    )
    run = reconciler("apply", str(tmp_path / "d"), "--target", url, "--auto-approve")
    assert run.exit_code == 0, run.stdout + run.stderr
    alice = directory.users()["alice@example.com"]
    assert alice["emails"] == [{"value": "alice@example.com", "primary": True}]
    assert alice["phoneNumbers"] == [{"value": "+1 555 0100", "primary": False}]
    again = reconciler("plan", str(tmp_path / "d"), "--target", url, "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout
