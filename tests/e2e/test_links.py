"""SCIM links, end to end: the plan predicts Atlassian's 409, `links` shows and detaches.

Against the sandbox with an organisation fixture, in-process and served over loopback
with its own organisation token.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox import SandboxServer
from tests.e2e.helpers import Directory, reconciler, write

ORG = """
version: 1
org:
  accounts:
    - {email: carol@example.com, account_id: acct-carol}
    - {email: dave@example.com, linked_to: other-dir}
  groups: [design]
"""

FILES = """
version: 1
users:
  - userName: carol@example.com
  - userName: dave@example.com
"""


@pytest.fixture
def seeded(tmp_path: Path) -> tuple[str, Path]:
    """A sandbox whose organisation holds carol (unlinked) and dave (linked elsewhere)."""
    db = tmp_path / "sandbox.db"
    fixture = write(tmp_path, "org.yaml", ORG)
    assert reconciler("sandbox", "seed", str(fixture), "--db", str(db)).exit_code == 0
    return f"sandbox:{db}", write(tmp_path / "files", "users.yaml", FILES).parent


def test_the_plan_says_which_create_will_fail_and_how_to_fix_it(
    seeded: tuple[str, Path],
) -> None:
    """Before anything is sent, the plan warns that dave's create will 409 because another
    directory holds the link, with the command that detaches it."""
    target, files = seeded
    run = reconciler("plan", str(files), "--target", target, "--format", "json")
    assert run.exit_code == 0, run.stderr
    assert [(w["key"], w["message"]) for w in run.json()["warnings"]] == [
        (
            "dave@example.com",
            "will fail with 409: dave@example.com belongs to an Atlassian account linked to "
            f"SCIM user {_other_user(target)} of directory other-dir; if that link is stale: "
            "reconciler links unlink dave@example.com --directory other-dir",
        )
    ]


def _other_user(target: str) -> str:
    shown = reconciler("links", "dave@example.com", "--target", target).stdout
    return shown.split("SCIM user ")[1].split()[0]


def test_links_shows_unlink_detaches_and_the_create_then_links(
    seeded: tuple[str, Path],
) -> None:
    """links shows dave's foreign link; unlink refuses without approval (exit 3), detaches
    with --auto-approve, and the next apply creates dave; carol's create links her account."""
    target, files = seeded
    shown = reconciler("links", "dave@example.com", "carol@example.com", "--target", target)
    assert shown.exit_code == 0, shown.stderr
    assert "of directory other-dir" in shown.stdout
    assert "carol@example.com: no SCIM link" in shown.stdout
    unlink = ("links", "unlink", "dave@example.com", "--directory", "other-dir", "--target", target)
    refused = reconciler(*unlink)
    assert refused.exit_code == 3
    assert "nothing was sent" in refused.stderr
    assert reconciler(*unlink, "--auto-approve").exit_code == 0
    assert "no SCIM link" in reconciler("links", "dave@example.com", "--target", target).stdout
    applied = reconciler("apply", str(files), "--target", target, "--auto-approve")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    carol = reconciler("links", "carol@example.com", "--target", target).stdout
    assert "account acct-carol linked to SCIM user" in carol
    assert "(this directory)" in carol


@pytest.fixture
def served(seeded: tuple[str, Path]) -> Iterator[tuple[str, Path]]:
    """The seeded sandbox over loopback HTTP, its Admin API behind the token org-t0k."""
    target, files = seeded
    server = SandboxServer(target.removeprefix("sandbox:"), port=0, org_token="org-t0k")
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield server.base_url, files
    finally:
        server.shutdown()
        thread.join(10)
        server.close()


def test_links_through_the_served_admin_api_needs_the_org_token(
    served: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over HTTP, links needs --org and RECONCILER_ORG_TOKEN; with them it shows and unlinks."""
    url, _ = served
    monkeypatch.delenv("RECONCILER_ORG_TOKEN", raising=False)
    missing = reconciler("links", "dave@example.com", "--target", url)
    assert missing.exit_code == 1
    assert "organisation id" in missing.stderr
    monkeypatch.setenv("RECONCILER_ORG_TOKEN", "wrong")
    wrong = reconciler("links", "dave@example.com", "--target", url, "--org", "sandbox-org")
    assert wrong.exit_code == 1
    monkeypatch.setenv("RECONCILER_ORG_TOKEN", "org-t0k")
    args = ("--target", url, "--org", "sandbox-org")
    assert "other-dir" in reconciler("links", "dave@example.com", *args).stdout
    run = reconciler("links", "unlink", "dave@example.com", "--directory", "other-dir", *args,
                     "--auto-approve")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert "no SCIM link" in reconciler("links", "dave@example.com", *args).stdout


def test_without_an_org_token_a_409_in_the_report_names_its_cause(
    served: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No organisation configured: the create still fails with 409, and the report says
    what it likely is and which command shows it."""
    url, files = served
    monkeypatch.delenv("RECONCILER_ORG_TOKEN", raising=False)
    run = reconciler("apply", str(files), "--target", url, "--auto-approve")
    assert run.exit_code == 4
    assert "likely belongs to an Atlassian account linked to a SCIM user of another" in run.stdout
    assert "reconciler links dave@example.com" in run.stdout
    directory = Directory(url)
    assert "carol@example.com" in directory.users()
    directory.close()


def test_a_group_name_taken_in_the_organisation_is_explained(
    seeded: tuple[str, Path],
) -> None:
    """design is held by another directory of the organisation: the apply that meets the
    409 says why."""
    target, files = seeded
    write(files, "groups.yaml", "version: 1\ngroups:\n  - displayName: design\n")
    run = reconciler("apply", str(files), "--target", target, "--auto-approve")
    assert run.exit_code == 4
    assert "group names are unique across the Atlassian organisation" in run.stdout


def test_a_plan_that_changes_a_sensitive_group_needs_its_digest_approved(tmp_path: Path) -> None:
    """policy.groups.sensitive: a plan that adds someone to site-admins exits 3 until its
    digest is approved, then applies."""
    target = f"sandbox:{tmp_path / 's.db'}"
    files = write(
        tmp_path / "files",
        "d.yaml",
        """
        version: 1
        policy: {groups: {sensitive: ["site-admins*"]}}
        users: [{userName: ann@example.com, groups: [site-admins-acme]}]
        groups: [{displayName: site-admins-acme}]
        """,
    ).parent
    planned = reconciler("plan", str(files), "--target", target, "--format", "json")
    assert planned.exit_code == 3
    assert [b["limit"] for b in planned.json()["blocked"]] == ["max_sensitive_changes"]
    refused = reconciler("apply", str(files), "--target", target, "--auto-approve")
    assert refused.exit_code == 3
    digest = planned.json()["digest"]
    approved = reconciler(
        "apply", str(files), "--target", target, "--auto-approve", "--approve", digest
    )
    assert approved.exit_code == 0, approved.stdout + approved.stderr
