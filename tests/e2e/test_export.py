"""Bootstrap: export today's directory as files that plan to no changes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reconciler.attributes import ENTERPRISE_URN
from tests.conftest import SCIM2_SERVER_TOKEN
from tests.e2e.helpers import Directory, reconciler

QUICKSTART = Path(__file__).parents[2] / "examples" / "quickstart"


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_export_of_the_sandbox_round_trips(tmp_path: Path, fmt: str) -> None:
    """Files exported from a directory validate and plan to no changes against it."""
    target = f"sandbox:{tmp_path / 's.db'}"
    assert reconciler("apply", str(QUICKSTART), "--target", target, "--auto-approve").exit_code == 0
    out = tmp_path / "exported" / "nested"
    run = reconciler("export", "--target", target, "--out", str(out), "--format", fmt)
    assert run.exit_code == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == [f"groups.{fmt}", f"users.{fmt}"]
    again = reconciler("plan", str(out), "--target", target, "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout


def test_export_from_a_third_party_server_round_trips(
    tmp_path: Path, scim2_tenant: str, scim2_env: None
) -> None:
    """An export from scim2-server, with users made outside reconciler, plans to no changes."""
    directory = Directory(scim2_tenant, token=SCIM2_SERVER_TOKEN)
    try:
        alice = directory.create_user(
            "alice@example.com", displayName="Alice", title="CTO", active=False
        )
        directory.create_user("bob@example.com", name={"givenName": "Bob"})
        directory.http.post("Groups", json={"displayName": "leads", "members": [{"value": alice}]})
    finally:
        directory.close()
    run = reconciler("export", "--target", scim2_tenant)
    assert run.exit_code == 0, run.stderr
    document = yaml.safe_load(run.stdout)
    assert document["groups"] == [{"displayName": "leads", "members": ["alice@example.com"]}]
    assert document["users"][0]["active"] is False
    (tmp_path / "directory.yaml").write_text(run.stdout, encoding="utf-8")
    again = reconciler("plan", str(tmp_path), "--target", scim2_tenant, "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout


def test_export_does_not_overwrite_files_without_force(tmp_path: Path) -> None:
    """An export into a directory that has files refuses, unless --force says to overwrite."""
    target = f"sandbox:{tmp_path / 's.db'}"
    out = tmp_path / "out"
    out.mkdir()
    (out / "users.yaml").write_text("# my notes\nversion: 1\n", encoding="utf-8")
    refused = reconciler("export", "--target", target, "--out", str(out))
    assert refused.exit_code == 1
    assert "--force" in refused.stderr
    assert (out / "users.yaml").read_text(encoding="utf-8").startswith("# my notes")
    forced = reconciler("export", "--target", target, "--out", str(out), "--force")
    assert forced.exit_code == 0, forced.stderr


@pytest.mark.parametrize("dangling", [False, True], ids=["link-to-a-file", "dangling-link"])
def test_export_never_writes_through_a_symbolic_link(tmp_path: Path, dangling: bool) -> None:
    """A users.yaml link planted in --out (even --force, even dangling) is refused: the
    export must not overwrite or create a file outside the directory."""
    outside = tmp_path / "outside.txt"
    if not dangling:
        outside.write_text("precious\n")
    out = tmp_path / "export"
    out.mkdir()
    (out / "users.yaml").symlink_to(outside)
    run = reconciler(
        "export", "--target", f"sandbox:{tmp_path / 's.db'}", "--out", str(out), "--force"
    )
    assert run.exit_code == 1
    assert "symbolic link" in run.stderr
    assert (outside.read_text() == "precious\n") if not dangling else not outside.exists()


def test_exported_yaml_keeps_number_like_strings_as_strings(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """An export must load without problems (docs/design.md "CLI": export).

    Expected: ``department: "4E20"``, ``organization: "0o17"``, ``title: "1e5"`` come
    back as strings, so ``validate`` passes. Actual: ``yaml.safe_dump`` (YAML 1.1)
    writes them unquoted, the YAML 1.2 core loader reads numbers, and the strict
    models refuse the exported file ("expected a string, found the number").
    """
    target, directory = sandbox
    directory.create_user(
        "num@example.com",
        title="1e5",
        **{ENTERPRISE_URN: {"department": "4E20", "organization": "0o17"}},
    )
    out = tmp_path / "exported"
    exported = reconciler("export", "--target", target, "--out", str(out))
    assert exported.exit_code == 0, exported.stderr
    run = reconciler("validate", str(out))
    assert run.exit_code == 0, run.stderr


def test_export_with_a_policy_exports_what_it_owns_and_validates_under_it(
    tmp_path: Path,
) -> None:
    """export --policy leaves out users and groups outside the policy's scope or
    protected, names members by its key, and the result validates and plans to nothing."""
    db = tmp_path / "s.db"
    target = ("--target", f"sandbox:{db}")
    seed = tmp_path / "seed"
    (seed).mkdir()
    (seed / "d.yaml").write_text(
        "version: 1\nusers:\n"
        "  - {userName: ann@example.com, externalId: E1, groups: [eng]}\n"
        "  - {userName: root@example.com, externalId: E0, groups: [eng]}\n"
        "  - {userName: zed@partner.example, externalId: E9, groups: [eng]}\n"
        "groups:\n  - {displayName: eng}\n  - {displayName: partners}\n"
    )
    assert reconciler("apply", str(seed), *target, "--auto-approve").exit_code == 0
    policy = tmp_path / "repo" / "policy.yaml"
    policy.parent.mkdir()
    policy.write_text(
        "version: 1\npolicy:\n  users: {key: externalId, scope: ['*@example.com'], "
        "protect: [root@example.com]}\n  groups: {scope: [eng]}\n"
    )
    out = tmp_path / "repo" / "directory"
    run = reconciler("export", *target, "--policy", str(policy), "--out", str(out))
    assert run.exit_code == 0, run.stderr
    users = yaml.safe_load((out / "users.yaml").read_text())["users"]
    groups = yaml.safe_load((out / "groups.yaml").read_text())["groups"]
    assert [u["userName"] for u in users] == ["ann@example.com"]
    assert groups == [{"displayName": "eng", "members": ["E1"]}]
    repo = str(tmp_path / "repo")
    assert reconciler("validate", repo).exit_code == 0
    planned = reconciler("plan", repo, *target, "--detailed-exitcode")
    assert planned.exit_code == 0, planned.stdout


def test_export_with_a_policy_file_that_has_no_policy_is_refused(tmp_path: Path) -> None:
    """--policy FILE without a policy section would export everything without a word:
    it is refused (exit 1), naming the file, and nothing is written."""
    target = ("--target", f"sandbox:{tmp_path / 's.db'}")
    users = tmp_path / "users.yaml"
    users.write_text("version: 1\nusers:\n  - userName: ann@example.com\n")
    out = tmp_path / "out"
    run = reconciler("export", *target, "--policy", str(users), "--out", str(out))
    assert run.exit_code == 1
    assert f"--policy {users}: the file has no policy section" in run.stderr
    assert not out.exists()


def test_export_counts_what_it_wrote_in_the_singular_too(tmp_path: Path) -> None:
    """One user and one group are "1 user and 1 group", in the note and the summary."""
    target = ("--target", f"sandbox:{tmp_path / 's.db'}")
    seed = tmp_path / "seed" / "d.yaml"
    seed.parent.mkdir()
    seed.write_text(
        "version: 1\nusers:\n  - {userName: ann@example.com, groups: [eng]}\n"
        "groups:\n  - {displayName: eng}\n"
    )
    assert reconciler("apply", str(seed), *target, "--auto-approve").exit_code == 0
    out = tmp_path / "out"
    run = reconciler("export", *target, "--out", str(out), "--log-format", "console")
    assert run.exit_code == 0, run.stderr
    assert f"Exported 1 user and 1 group to {out}/users.yaml" in run.stderr
