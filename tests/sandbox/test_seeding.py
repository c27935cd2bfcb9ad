"""Seeding a sandbox from organisation fixtures and desired-state files, in bulk."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.errors import DesiredStateError
from reconciler.sandbox import SandboxStore, sandbox_base_url, sandbox_transport
from reconciler.sandbox.seeding import SeedSummary, seed

from .helpers import ATLASSIAN, ENTERPRISE

ORG = """
version: 1
org:
  accounts:
    - {email: carol@example.com, account_id: acc-carol}
    - {email: dave@example.com, linked_to: other-dir}
  groups: [design]
"""

USERS = """
version: 1
users:
  - userName: alice@example.com
    externalId: E1
    displayName: Alice
    enterprise: {department: R&D}
    groups: [eng]
  - userName: bob@example.com
    emails: [{value: bob@example.com, type: work, primary: true}, {value: b@example.com}]
    active: false
  - userName: carol@example.com
groups:
  - displayName: eng
    members: [bob@example.com]
  - displayName: empty
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def run_seed(db: Path, *paths: Path) -> SeedSummary:
    with SandboxStore(db) as store:
        return seed(store, paths)


def problems_of(db: Path, *paths: Path) -> list[str]:
    """The problems a seed of ``paths`` reports, with file names relative to ``db``'s folder."""
    with pytest.raises(DesiredStateError) as caught:
        run_seed(db, *paths)
    return [str(problem).replace(f"{db.parent}/", "") for problem in caught.value.problems]


@pytest.fixture
def read(sandbox_db: Path) -> Iterator[httpx.Client]:
    """A client for looking at the seeded sandbox (opened lazily, after the seed)."""
    with httpx.Client(base_url=sandbox_base_url(), transport=sandbox_transport(sandbox_db)) as c:
        yield c


def _users(client: httpx.Client) -> dict[str, dict[str, Any]]:
    return {u["userName"]: u for u in client.get("/Users").json()["Resources"]}


def _groups(client: httpx.Client) -> dict[str, list[str]]:
    return {
        g["displayName"]: sorted(m["display"] for m in g.get("members", []))
        for g in client.get("/Groups").json()["Resources"]
    }


def test_desired_state_files_become_the_directory(
    tmp_path: Path, sandbox_db: Path, read: httpx.Client
) -> None:
    """Users, groups and memberships (members, groups: shorthand) load as creates store them."""
    summary = run_seed(sandbox_db, write(tmp_path, "d.yaml", USERS))
    assert summary == SeedSummary(users=3, groups=2, memberships=2)
    users = _users(read)
    alice = users["alice@example.com"]
    assert (alice["externalId"], alice["displayName"], alice["active"]) == ("E1", "Alice", True)
    assert alice["emails"] == [{"value": "alice@example.com", "type": "work", "primary": True}]
    assert (alice["department"], alice[ENTERPRISE]) == ("R&D", {"department": "R&D"})
    assert users["bob@example.com"]["active"] is False
    assert len(users["bob@example.com"]["emails"]) == 2
    assert all(u[ATLASSIAN]["atlassianAccountId"] for u in users.values())
    assert _groups(read) == {"eng": ["Alice", "bob@example.com"], "empty": []}


def test_a_seeded_directory_behaves_like_one_built_by_creates(
    tmp_path: Path, sandbox_db: Path, read: httpx.Client
) -> None:
    """After a seed, uniqueness holds and new objects are listed after the seeded ones."""
    run_seed(sandbox_db, write(tmp_path, "d.yaml", USERS))
    body = {
        "userName": "ALICE@example.com",
        "emails": [{"value": "x@example.com", "primary": True}],
    }
    assert read.post("/Users", json=body).status_code == 409
    assert read.post("/Groups", json={"displayName": "ENG"}).status_code == 409
    body = {
        "userName": "zed@example.com",
        "emails": [{"value": "zed@example.com", "primary": True}],
    }
    assert read.post("/Users", json=body).status_code == 201
    assert list(_users(read))[-1] == "zed@example.com"


def test_fixture_and_directory_together(
    tmp_path: Path, sandbox_db: Path, read: httpx.Client
) -> None:
    """A directory PATH may mix a fixture and desired-state files; emails link org accounts."""
    write(tmp_path / "repo", "org.yaml", ORG)
    write(tmp_path / "repo", "people/users.yaml", USERS)
    summary = run_seed(sandbox_db, tmp_path / "repo")
    assert (summary.accounts, summary.linked_elsewhere, summary.group_names) == (2, 1, 1)
    assert summary.users == 3
    carol = _users(read)["carol@example.com"]
    assert carol[ATLASSIAN] == {"atlassianAccountId": "acc-carol"}
    assert read.post("/Groups", json={"displayName": "Design"}).status_code == 409


def test_seeding_again_replaces_what_it_is_given(
    tmp_path: Path, sandbox_db: Path, read: httpx.Client
) -> None:
    """Desired-state files replace the directory (accounts kept); a fixture alone keeps it."""
    run_seed(sandbox_db, write(tmp_path, "d.yaml", USERS))
    before = {name: u[ATLASSIAN] for name, u in _users(read).items()}
    smaller = "version: 1\nusers:\n  - userName: alice@example.com\n"
    run_seed(sandbox_db, write(tmp_path, "small.yaml", smaller))
    after = _users(read)
    assert list(after) == ["alice@example.com"]
    assert after["alice@example.com"][ATLASSIAN] == before["alice@example.com"]
    assert _groups(read) == {}
    run_seed(sandbox_db, write(tmp_path, "org.yaml", ORG))
    assert list(_users(read)) == ["alice@example.com"]


def test_a_quick_size_check(tmp_path: Path, sandbox_db: Path, read: httpx.Client) -> None:
    """Thousands of users in one JSON file load in one transaction, all listed, all members."""
    n = 3000
    users = [{"userName": f"u{i:05d}@example.com", "externalId": f"e{i}"} for i in range(n)]
    groups = [{"displayName": "all", "members": [u["userName"] for u in users]}]
    doc = {"version": 1, "users": users, "groups": groups}
    (tmp_path / "big.json").write_text(json.dumps(doc), encoding="utf-8")
    summary = run_seed(sandbox_db, tmp_path / "big.json")
    assert (summary.users, summary.memberships) == (n, n)
    assert read.get("/Users", params={"count": 1}).json()["totalResults"] == n
    last = read.get("/Users", params={"startIndex": n, "count": 1}).json()["Resources"]
    assert last[0]["userName"] == f"u{n - 1:05d}@example.com"
    [group] = read.get("/Groups").json()["Resources"]
    assert len(group["members"]) == n


def test_external_id_keys_resolve_members(
    tmp_path: Path, sandbox_db: Path, read: httpx.Client
) -> None:
    """With policy.users.key externalId, group members are externalIds."""
    text = """
    version: 1
    policy: {users: {key: externalId}}
    users:
      - {userName: a@example.com, externalId: E1}
    groups:
      - {displayName: g, members: [E1]}
    """
    run_seed(sandbox_db, write(tmp_path, "d.yaml", text))
    assert _groups(read) == {"g": ["a@example.com"]}


# Problems -----------------------------------------------------------------------


def test_fixture_problems_are_located(tmp_path: Path, sandbox_db: Path) -> None:
    """A fixture is validated strictly; every problem is file:line:column: path: message."""
    bad = """
    version: 1
    org:
      acounts: []
      groups: [ok, "  ", 7]
    """
    worse = """
    version: 1
    org:
      accounts:
        - {email: not-an-email}
        - {email: x@example.com, linked_to: sandbox}
    """
    found = problems_of(
        sandbox_db, write(tmp_path, "a.yaml", bad), write(tmp_path, "b.yaml", worse)
    )
    assert found == [
        'a.yaml:3:3: org.acounts: unknown key "acounts"; did you mean "accounts"?',
        "a.yaml:4:16: org.groups[1]: a group name must not be blank",
        "b.yaml:4:15: org.accounts[0].email: 'not-an-email' is not an email address",
        "b.yaml:5:41: org.accounts[1].linked_to: 'sandbox' is this directory: list its users"
        " in a desired-state file instead",
    ]
    assert "7" not in found[1]  # plain scalars are text where the fixture expects a string


def test_duplicates_across_fixture_files(tmp_path: Path, sandbox_db: Path) -> None:
    """An email or group name listed again, in any case or file, is a problem where it repeats."""
    first = write(tmp_path, "a.yaml", ORG)
    again = "version: 1\norg:\n  accounts: [{email: CAROL@example.com}]\n  groups: [DESIGN]\n"
    found = problems_of(sandbox_db, first, write(tmp_path, "b.yaml", again))
    assert found == [
        "b.yaml:3:14: org.accounts[0]: email CAROL@example.com is listed twice (first at a.yaml:4)",
        "b.yaml:4:12: org.groups[0]: group DESIGN is listed twice (first at a.yaml:6)",
    ]


def test_attributes_atlassian_lacks_are_file_problems(tmp_path: Path, sandbox_db: Path) -> None:
    """Seeded users are held to Atlassian's attribute set, like a create (problems, exit 1)."""
    text = """
    version: 1
    users:
      - userName: a@example.com
        locale: en_US
        profileUrl: null
        enterprise: {department: D, costCenter: "7"}
    """
    found = problems_of(sandbox_db, write(tmp_path, "d.yaml", text))
    assert found == [
        "d.yaml:4:5: users[0].locale: the Atlassian API has no locale attribute",
        "d.yaml:6:33: users[0].enterprise.costCenter: the Atlassian API has no"
        " enterprise.costCenter attribute",
    ]


def test_contradictions_between_fixture_and_files(tmp_path: Path, sandbox_db: Path) -> None:
    """A user on an email linked elsewhere, a group named like an org group, a shared email."""
    org = write(tmp_path, "org.yaml", ORG)
    text = """
    version: 1
    users:
      - userName: dave@example.com
      - userName: d2@example.com
        emails: [{value: DAVE@example.com, primary: true}]
    groups:
      - displayName: Design
    """
    found = problems_of(sandbox_db, org, write(tmp_path, "d.yaml", text))
    assert found == [
        "d.yaml:4:5: users[1]: primary email DAVE@example.com is also dave@example.com's;"
        " an email belongs to one Atlassian account",
        "org.yaml:5:7: org.accounts[1]: linked to directory other-dir, but user"
        " dave@example.com of the desired-state files has this email (Atlassian would answer"
        " 409); leave out linked_to to link that user to it",
        "org.yaml:6:12: org.groups[0]: group design is also in the desired-state files;"
        " group names are unique in the organisation",
    ]


def test_a_fixture_against_the_live_directory(
    tmp_path: Path, sandbox_db: Path, read: httpx.Client
) -> None:
    """A fixture alone may not claim the email or group name of the live directory's objects."""
    run_seed(sandbox_db, write(tmp_path, "d.yaml", USERS))
    text = "version: 1\norg:\n  accounts: [{email: Alice@example.com}]\n  groups: [eng]\n"
    found = problems_of(sandbox_db, write(tmp_path, "org.yaml", text))
    assert found == [
        "org.yaml:3:14: org.accounts[0]: Alice@example.com is the account of a user of this"
        " directory",
        "org.yaml:4:12: org.groups[0]: eng is the name of a group of this directory",
    ]
    assert len(_users(read)) == 3  # rolled back: nothing changed


def test_a_problem_changes_nothing(tmp_path: Path, sandbox_db: Path, read: httpx.Client) -> None:
    """With any problem in any file, the sandbox is left exactly as it was."""
    run_seed(sandbox_db, write(tmp_path, "org.yaml", ORG), write(tmp_path, "d.yaml", USERS))
    broken = write(
        tmp_path, "x.yaml", "version: 1\nusers:\n  - userName: z@example.com\n    nope: 1\n"
    )
    problems_of(sandbox_db, broken, write(tmp_path, "org2.yaml", "version: 1\norg: {}\n"))
    assert len(_users(read)) == 3
    assert read.post("/Groups", json={"displayName": "design"}).status_code == 409
