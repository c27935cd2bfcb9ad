"""``reconciler sandbox seed`` and ``serve --org-token``: the sandbox's organisation, by the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

import reconciler.sandbox as sandbox

from .helpers import reconciler, write

QUICKSTART = Path(__file__).parents[2] / "examples" / "quickstart"

ORG = """
version: 1
org:
  accounts:
    - {email: carol@example.com}
    - {email: erin@example.com, linked_to: other-dir}
  groups: [design]
"""


def test_seed_then_plan_and_apply_meet_the_organisation(tmp_path: Path) -> None:
    """A seeded quickstart plans to nothing; a create on an email held elsewhere then fails."""
    db = tmp_path / "sandbox.db"
    org = write(tmp_path, "org.yaml", ORG)
    seeded = reconciler(
        "sandbox", "seed", str(org), str(QUICKSTART), "--db", str(db), "--log-format", "console"
    )
    assert seeded.exit_code == 0, seeded.stderr
    assert seeded.stdout == ""
    assert "2 accounts (1 linked to other directories), 1 group name taken" in seeded.stderr
    assert "4 users, 3 groups, 6 memberships" in seeded.stderr
    target = ("--target", f"sandbox:{db}")
    plan = reconciler("plan", str(QUICKSTART), *target, "--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    erin = write(tmp_path, "more/erin.yaml", "version: 1\nusers:\n  - userName: erin@example.com\n")
    apply = reconciler("apply", str(QUICKSTART), str(erin), *target, "--auto-approve")
    assert apply.exit_code == 4
    assert "Resource [USER]: with email[erin@example.com] already exists" in apply.stdout


def test_seed_problems_exit_1_with_locations(tmp_path: Path) -> None:
    """A bad fixture exits 1 with file:line:column messages and no traceback; so does no PATH."""
    bad = write(tmp_path, "bad.yaml", "version: 1\norg:\n  acounts: []\n")
    run = reconciler(
        "sandbox", "seed", str(bad), "--db", str(tmp_path / "s.db"), "--log-format", "console"
    )
    assert run.exit_code == 1
    assert f'{bad}:3:3: org.acounts: unknown key "acounts"' in run.stderr
    assert "Traceback" not in run.stderr
    assert reconciler("sandbox", "seed", "--db", str(tmp_path / "s.db")).exit_code == 1


def test_sandbox_serve_passes_the_org_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sandbox serve --org-token T`` serves the Admin API with T as its key (none: closed)."""
    seen: list[str | None] = []
    monkeypatch.setattr(sandbox, "serve", lambda *a, org_token, **kw: seen.append(org_token))
    db = str(tmp_path / "s.db")
    assert reconciler("sandbox", "serve", "--db", db, "--org-token", "T").exit_code == 0
    assert reconciler("sandbox", "serve", "--db", db).exit_code == 0
    assert seen == ["T", None]
