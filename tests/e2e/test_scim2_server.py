"""End to end against scim2-server, a third-party SCIM server, on a fresh tenant per test.

Files → plan → apply → plan again, through the real CLI, checked with plain httpx.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.executor import Executor, ScimWriter
from reconciler.files import load_desired
from reconciler.planner import PlanContext, plan
from reconciler.report import Outcome
from reconciler.snapshot import read_snapshot
from reconciler.target import connect, resolve_target
from tests.conftest import SCIM2_SERVER_TOKEN
from tests.e2e.helpers import Directory, reconciler, write

POLICY = """
version: 1
policy:
  users: {unmanaged: deactivate, scope: ["*@example.com"], protect: [root@example.com]}
  groups: {unmanaged: delete}
  limits: {max_deactivations: 10, max_group_deletions: 10, max_member_removals: 10}
"""

USERS = """
version: 1
users:
  - userName: alice@example.com
    displayName: Alice Liddell
    name: {givenName: Alice, familyName: Liddell}
    enterprise: {department: R&D}
    groups: [engineering]
  - userName: bob@example.com
    displayName: Bob Builder
    emails:
      - {value: bob@example.com, type: work, primary: true}
      - {value: bob@home.example, type: home}
    groups: [engineering, ops]
  - userName: carol@example.com
    title: Manager
"""

GROUPS = """
version: 1
groups:
  - displayName: engineering
    members: [carol@example.com]
  - displayName: ops
"""


@pytest.fixture
def directory(scim2_tenant: str, scim2_env: None) -> Iterator[Directory]:
    d = Directory(scim2_tenant, token=SCIM2_SERVER_TOKEN)
    yield d
    d.close()


@pytest.fixture
def files(tmp_path: Path) -> Path:
    root = tmp_path / "directory"
    write(root, "policy.yaml", POLICY)
    write(root, "users.yaml", USERS)
    write(root, "groups.yaml", GROUPS)
    return root


def test_apply_creates_exactly_the_files_then_plan_is_clean(
    files: Path, directory: Directory, scim2_tenant: str
) -> None:
    """Apply on an empty directory creates exactly the users and groups; a new plan is empty."""
    run = reconciler("apply", str(files), "--target", scim2_tenant, "--auto-approve")
    assert run.exit_code == 0, run.stderr
    users = directory.users()
    assert sorted(users) == ["alice@example.com", "bob@example.com", "carol@example.com"]
    alice = users["alice@example.com"]
    assert alice["displayName"] == "Alice Liddell"
    assert alice["name"] == {"givenName": "Alice", "familyName": "Liddell"}
    assert alice["emails"] == [{"value": "alice@example.com", "type": "work", "primary": True}]
    assert alice["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] == {
        "department": "R&D"
    }
    assert directory.groups() == {
        "engineering": {"alice@example.com", "bob@example.com", "carol@example.com"},
        "ops": {"bob@example.com"},
    }
    again = reconciler("plan", str(files), "--target", scim2_tenant, "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout


def test_changes_are_planned_exactly_and_applied(
    files: Path, directory: Directory, scim2_tenant: str
) -> None:
    """Attribute changes, a new user, a removed user (deactivated) and moved members, exactly."""
    assert (
        reconciler("apply", str(files), "--target", scim2_tenant, "--auto-approve").exit_code == 0
    )
    write(
        files,
        "users.yaml",
        USERS.replace("Alice Liddell", "Alice Kingsleigh").replace(
            "  - userName: carol@example.com\n    title: Manager\n",
            "  - userName: dan@example.com\n    groups: [ops]\n",
        ),
    )
    write(files, "groups.yaml", GROUPS.replace("members: [carol@example.com]", "members: []"))
    run = reconciler(
        "plan", str(files), "--target", scim2_tenant, "--format", "json", "--detailed-exitcode"
    )
    assert run.exit_code == 2, run.stderr
    actions = [(a["resource"], a["action"], a["key"], a["changes"]) for a in run.json()["actions"]]
    dan_changes = [
        {
            "path": "emails",
            "before": None,
            "after": [{"value": "dan@example.com", "type": "work", "primary": True}],
            # Derived from before and after: what changes, item by item.
            "items": [
                {
                    "op": "add",
                    "after": {"value": "dan@example.com", "type": "work", "primary": True},
                }
            ],
        },
        {"path": "userName", "before": None, "after": "dan@example.com"},
    ]
    assert actions == [
        ("user", "create", "dan@example.com", dan_changes),
        (
            "user",
            "update",
            "alice@example.com",
            [{"path": "displayName", "before": "Alice Liddell", "after": "Alice Kingsleigh"}],
        ),
        (
            "group",
            "update",
            "engineering",
            [{"path": "members", "add": [], "remove": ["carol@example.com"]}],
        ),
        ("group", "update", "ops", [{"path": "members", "add": ["dan@example.com"], "remove": []}]),
        (
            "user",
            "deactivate",
            "carol@example.com",
            [{"path": "active", "before": True, "after": False}],
        ),
    ]
    applied = reconciler(
        "apply", str(files), "--target", scim2_tenant, "--auto-approve", "--format", "json"
    )
    assert applied.exit_code == 0, applied.stderr
    assert applied.json()["summary"] == {"applied": 5, "failed": 0, "skipped": 0}
    users = directory.users()
    assert users["carol@example.com"]["active"] is False  # deactivated, not deleted
    assert users["alice@example.com"]["displayName"] == "Alice Kingsleigh"
    assert directory.groups()["ops"] == {"bob@example.com", "dan@example.com"}
    assert (
        reconciler("plan", str(files), "--target", scim2_tenant, "--detailed-exitcode").exit_code
        == 0
    )


def test_unknown_attributes_on_the_server_are_left_untouched(
    files: Path, directory: Directory, scim2_tenant: str
) -> None:
    """Attributes the files do not mention are never compared or changed (field ownership)."""
    assert (
        reconciler("apply", str(files), "--target", scim2_tenant, "--auto-approve").exit_code == 0
    )
    alice = directory.users()["alice@example.com"]
    directory.patch(
        "Users",
        alice["id"],
        {"op": "replace", "path": "nickName", "value": "Al"},
        {"op": "replace", "path": "title", "value": "Set by HR"},
    )
    assert (
        reconciler("plan", str(files), "--target", scim2_tenant, "--detailed-exitcode").exit_code
        == 0
    )
    write(files, "users.yaml", USERS.replace("Alice Liddell", "Alice L."))
    assert (
        reconciler("apply", str(files), "--target", scim2_tenant, "--auto-approve").exit_code == 0
    )
    alice = directory.users()["alice@example.com"]
    assert (alice["displayName"], alice["nickName"], alice["title"]) == (
        "Alice L.",
        "Al",
        "Set by HR",
    )


def test_scope_and_protect_are_honoured(
    files: Path, directory: Directory, scim2_tenant: str
) -> None:
    """Live users outside scope or protected are neither deactivated nor un-membered."""
    outsider = directory.create_user("contractor@partner.test")
    root = directory.create_user("root@example.com")
    run = reconciler("plan", str(files), "--target", scim2_tenant, "--format", "json")
    assert run.exit_code == 0, run.stderr
    plan = run.json()
    touched = {a["key"] for a in plan["actions"]}
    assert "contractor@partner.test" not in touched
    assert "root@example.com" not in touched
    reasons = {(x["reason"], tuple(x["keys"])) for x in plan["left_alone"]}
    assert ("outside policy.users.scope", ("contractor@partner.test",)) in reasons
    assert ("protected by policy.users.protect", ("root@example.com",)) in reasons
    assert (
        reconciler("apply", str(files), "--target", scim2_tenant, "--auto-approve").exit_code == 0
    )
    users = directory.users()
    assert users["contractor@partner.test"]["id"] == outsider
    assert users["root@example.com"].get("active", True) is True
    assert users["root@example.com"]["id"] == root


def test_a_change_made_after_the_read_is_not_overwritten(
    files: Path, directory: Directory, scim2_tenant: str
) -> None:
    """On a server with ETags, a write carries If-Match: a concurrent edit fails it (412)."""
    assert (
        reconciler("apply", str(files), "--target", scim2_tenant, "--auto-approve").exit_code == 0
    )
    write(files, "users.yaml", USERS.replace("Alice Liddell", "Alice From Files"))
    desired = load_desired([files])
    target = resolve_target(scim2_tenant, desired.target, {"RECONCILER_TOKEN": SCIM2_SERVER_TOKEN})
    connection = connect(target, {"RECONCILER_TOKEN": SCIM2_SERVER_TOKEN})
    assert connection.etags  # scim2-server announces etag.supported
    try:
        live = read_snapshot(connection.client, page_size=connection.page_size)
        the_plan = plan(desired, live, PlanContext(target.url, connection.dialect))
        alice = directory.users()["alice@example.com"]
        directory.patch(
            "Users", alice["id"], {"op": "replace", "path": "displayName", "value": "Alice From HR"}
        )
        executor = Executor(ScimWriter(connection.client), dialect=connection.dialect)
        report = executor.execute(the_plan)
    finally:
        connection.client.close()
    (result,) = report.results
    assert result.outcome is Outcome.FAILED
    assert "HTTP 412" in (result.reason or "")
    assert directory.users()["alice@example.com"]["displayName"] == "Alice From HR"
