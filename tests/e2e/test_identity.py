"""The identity cases of issue 7, end to end through the CLI, on scim2-server and the sandbox.

Each test seeds the live directory with plain httpx, runs ``reconciler plan`` and
``apply`` as a user would, and looks at the directory again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox import sandbox_base_url, sandbox_transport
from tests.conftest import SCIM2_SERVER_TOKEN
from tests.e2e.helpers import Directory, reconciler, write


@pytest.fixture(params=["scim2-server", "sandbox"])
def target(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Directory]]:
    """A fresh directory on each real server, and a plain-httpx view of it."""
    if request.param == "sandbox":
        db = tmp_path / "sandbox.db"
        directory = Directory(sandbox_base_url(), transport=sandbox_transport(db))
        yield f"sandbox:{db}", directory
    else:
        url = request.getfixturevalue("scim2_tenant")
        monkeypatch.setenv("RECONCILER_TOKEN", SCIM2_SERVER_TOKEN)
        directory = Directory(url, token=SCIM2_SERVER_TOKEN)
        yield url, directory
    directory.close()


def _files(tmp_path: Path, text: str) -> str:
    write(tmp_path / "d", "directory.yaml", text)
    return str(tmp_path / "d")


def test_a_re_keyed_person_is_not_locked_out(tmp_path: Path, target: tuple[str, Directory]) -> None:
    """key: externalId and the HR export re-keyed alice: apply updates her externalId, she
    stays active, and the next plan has no changes (no warning repeated forever)."""
    url, directory = target
    directory.create_user("alice@example.com", externalId="E1", active=True)
    files = _files(
        tmp_path,
        """
        version: 1
        policy:
          users: {key: externalId, unmanaged: deactivate}
        users:
          - {userName: alice@example.com, externalId: E2}
        """,
    )
    shown = reconciler("plan", files, "--target", url, "--format", "json").json()
    assert [(a["action"], a["key"]) for a in shown["actions"]] == [("update", "E2")]
    assert reconciler("apply", files, "--target", url, "--auto-approve").exit_code == 0
    alice = directory.users()["alice@example.com"]
    assert (alice["externalId"], alice.get("active", True)) == ("E2", True)
    again = reconciler("plan", files, "--target", url, "--format", "json").json()
    assert (again["actions"], again["warnings"]) == ([], [])


def test_a_held_user_name_is_adopted_only_when_the_policy_says_so(
    tmp_path: Path, target: tuple[str, Directory]
) -> None:
    """A deactivated account holds the userName of a new person: the default refuses with a
    warning and sends nothing; with adopt: inactive the plan shows an adopt, blocked until
    its digest is approved, and the apply takes the account over and reactivates it."""
    url, directory = target
    held = directory.create_user("alice@example.com", externalId="E1", active=False)
    policy = "policy: {users: {key: externalId, adopt: %s}}"
    body = "\nusers:\n  - {userName: alice@example.com, externalId: E2, title: Engineer}\n"
    refusing = _files(tmp_path, "version: 1\n" + policy % "never" + body)
    run = reconciler("apply", refusing, "--target", url, "--auto-approve")
    assert run.exit_code == 0, run.stderr
    assert "not created: its userName alice@example.com is held" in run.stdout
    assert directory.users()["alice@example.com"]["externalId"] == "E1"

    adopting = _files(tmp_path, "version: 1\n" + policy % "inactive" + body)
    blocked = reconciler("plan", adopting, "--target", url, "--format", "json")
    assert blocked.exit_code == 3
    shown = blocked.json()
    assert [(a["action"], a["id"]) for a in shown["actions"]] == [("adopt", held)]
    assert [b["limit"] for b in shown["blocked"]] == ["max_adoptions"]
    run = reconciler(
        "apply", adopting, "--target", url, "--auto-approve", "--approve", shown["digest"]
    )
    assert run.exit_code == 0, run.stderr
    alice = directory.users()["alice@example.com"]
    assert (alice["id"], alice["externalId"], alice["title"]) == (held, "E2", "Engineer")
    assert alice.get("active", True) is True
    assert reconciler("plan", adopting, "--target", url, "--detailed-exitcode").exit_code == 0


def test_deactivation_limit_counts_only_people_who_can_still_sign_in(
    tmp_path: Path, target: tuple[str, Directory]
) -> None:
    """18 deactivated and 2 active users: deactivating both active ones is refused by 10%."""
    url, directory = target
    for number in range(18):
        directory.create_user(f"gone{number}@example.com", active=False)
    directory.create_user("ann@example.com", active=True)
    directory.create_user("bob@example.com", active=True)
    files = _files(
        tmp_path,
        """
        version: 1
        policy:
          users: {unmanaged: deactivate}
          limits: {max_deactivations: "10%"}
        """,
    )
    run = reconciler("apply", files, "--target", url, "--auto-approve")
    assert run.exit_code == 3
    assert "10% of 2 active managed users" in run.stdout + run.stderr
    assert all(
        u.get("active", True) for u in directory.users().values() if "gone" not in u["userName"]
    )


def test_a_protected_user_in_the_files_is_a_warning_in_validate_and_plan(
    tmp_path: Path, target: tuple[str, Directory]
) -> None:
    """The plan no longer says "matches the files" about a user it will never change."""
    url, directory = target
    directory.create_user("root@example.com", displayName="Root")
    files = _files(
        tmp_path,
        """
        version: 1
        policy: {users: {protect: [root@example.com]}}
        users:
          - {userName: root@example.com, displayName: Administrator}
        """,
    )
    assert "warning: user root@example.com" in reconciler("validate", files).stdout
    run = reconciler("plan", files, "--target", url)
    assert "protected by policy.users.protect" in run.stdout
    assert "The directory matches the files" not in run.stdout


def test_the_policy_in_the_files_decides_how_users_match(
    tmp_path: Path, target: tuple[str, Directory]
) -> None:
    """With key: externalId in the files, a user who exists under that externalId (and an
    old userName) is renamed, not created beside the old account."""
    url, directory = target
    user_id = directory.create_user("alice@old.example", externalId="E1")
    files = _files(
        tmp_path,
        """
        version: 1
        policy: {users: {key: externalId}}
        users:
          - {userName: alice@new.example, externalId: E1}
        """,
    )
    shown = reconciler("plan", files, "--target", url, "--format", "json").json()
    assert [(a["action"], a["id"]) for a in shown["actions"]] == [("update", user_id)]


def test_a_group_rename_keeps_its_members_on_either_dialect(
    tmp_path: Path, target: tuple[str, Directory]
) -> None:
    """previousNames renames the group: a PATCH on scim2-server, a rename step (create, move
    members, delete old) on the Atlassian-like sandbox; either way the members stay and
    the next plan is empty."""
    url, directory = target
    ann = directory.create_user("ann@example.com")
    directory.http.post(
        "Groups",
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "eng",
            "members": [{"value": ann}],
        },
    ).raise_for_status()
    files = _files(
        tmp_path,
        """
        version: 1
        policy: {limits: {max_group_deletions: 1}}
        users: [{userName: ann@example.com}]
        groups:
          - {displayName: engineering, previousNames: [eng], members: [ann@example.com]}
        """,
    )
    shown = reconciler("plan", files, "--target", url, "--format", "json").json()
    expected = "rename" if url.startswith("sandbox:") else "update"
    assert [(a["action"], a["key"]) for a in shown["actions"]] == [(expected, "engineering")]
    run = reconciler("apply", files, "--target", url, "--auto-approve")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert directory.groups() == {"engineering": {"ann@example.com"}}
    assert reconciler("plan", files, "--target", url, "--detailed-exitcode").exit_code == 0


def test_a_look_alike_user_name_is_never_locked_out(
    tmp_path: Path, target: tuple[str, Directory]
) -> None:
    """A live ``jose\\u0301@`` (NFD, as macOS writes it) in the NFD group ``E\\u0301quipe``, and
    files that name them in NFC and other letter case: nothing is created, deactivated or
    deleted (scim2-server refuses the twin create with 409 and would accept the
    deactivation: the only account locked out), and a rerun has nothing to do either."""
    url, directory = target
    jose = directory.create_user("jose\u0301@example.com", active=True)
    directory.http.post(
        "Groups",
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "E\u0301quipe",
            "members": [{"value": jose}],
        },
    ).raise_for_status()
    files = _files(
        tmp_path,
        """
        version: 1
        policy:
          users: {unmanaged: deactivate}
          groups: {unmanaged: delete}
          limits: {max_deactivations: 10, max_group_deletions: 10}
        users:
          - {userName: "jos\u00e9@example.com", groups: ["\u00e9quipe"]}
        groups:
          - {displayName: "\u00c9quipe"}
        """,
    )
    shown = reconciler("plan", files, "--target", url, "--format", "json").json()
    assert (shown["actions"], shown["warnings"]) == ([], [])
    run = reconciler("apply", files, "--target", url, "--auto-approve")
    assert run.exit_code == 0, run.stdout + run.stderr
    (user,) = directory.list("Users")
    assert (user["id"], user.get("active", True)) == (jose, True)
    assert directory.groups() == {"E\u0301quipe": {"jose\u0301@example.com"}}
    again = reconciler("plan", files, "--target", url, "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout + again.stderr


def test_validate_refuses_invisible_characters_and_warns_about_look_alikes(
    tmp_path: Path,
) -> None:
    """A zero-width space in a userName and a group name with a trailing space are errors
    at their file:line:column; twins are refused at both lines; fullwidth and mixed-script
    names are warnings that validate prints beside its "OK"."""
    refused = _files(
        tmp_path / "refused",
        """
        version: 1
        users:
          - {userName: "ann\u200b@example.com"}
          - {userName: "jose\u0301@example.com"}
          - {userName: "JOS\u00c9@example.com"}
        groups:
          - {displayName: "eng "}
        """,
    )
    run = reconciler("validate", refused)
    assert run.exit_code == 1
    for place in ("3:16: users[0].userName", "4:16: users[1].userName",
                  "5:16: users[2].userName", "7:19: groups[0].displayName"):  # fmt: skip
        assert f"{refused}/directory.yaml:{place}: " in run.stderr
    assert "U+200B (ZERO WIDTH SPACE)" in run.stderr
    assert "is listed twice" in run.stderr
    assert "whitespace at its start or end" in run.stderr
    warned = _files(
        tmp_path / "warned",
        """
        version: 1
        users:
          - {userName: "\uff41nn@example.com"}
          - {userName: "\u0430lice@example.com"}
        """,
    )
    run = reconciler("validate", warned)
    assert run.exit_code == 0, run.stderr
    assert 'compares as "ann@example.com"' in run.stdout
    assert "mixes Latin and Cyrillic letters" in run.stdout
    assert "OK: 2 users and 0 groups are valid for " in run.stdout
    assert run.stdout.rstrip().endswith("; 2 warnings.")
