"""Bootstrap: export today's directory as files that plan to no changes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

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
