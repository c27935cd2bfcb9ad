"""Honest outcomes under hostile servers (issue 8): no false "applied", no leaked token,
no plan from a listing that is short without contradicting itself.

Through the real CLI, against the sandbox with its fault knobs: in-process behind
``FaultInjectingTransport``, or served over loopback by ``reconciler sandbox serve``.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import reconciler.sandbox as sandbox
from reconciler.app import Runtime
from reconciler.sandbox import FaultConfig, FaultInjectingTransport, SandboxStore
from reconciler.scim.retry import RetryPolicy
from tests.e2e.helpers import Run, reconciler, served_sandbox, write

TOKEN = "hostile-test-token-6f1c2a"
WRONG_TOKEN = "hostile-wrong-token-9d3e7b"
FAST = RetryPolicy(attempts=3, sleep=lambda seconds: None)


def with_faults(faults: FaultConfig) -> Runtime:
    """A run whose every connection goes through these fault knobs, with quick retries."""
    return Runtime(retry=FAST, transport=lambda inner: FaultInjectingTransport(inner, faults))


def user_files(directory: Path, names: list[str], extra: str = "") -> Path:
    lines = ["version: 1", "users:", *[f"  - userName: {name}" for name in names]]
    write(directory, "users.yaml", "\n".join(lines) + "\n" + extra)
    return directory


def test_write_answered_200_with_a_scim_error_is_a_failed_action(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deactivation answered 200 with a SCIM Error body fails (exit 4) with the server's say."""
    db = tmp_path / "s.db"
    with SandboxStore(db) as store:
        store.seed_users(1, prefix="ann", domain="example.com")
    files = tmp_path / "files"
    write(
        files,
        "users.yaml",
        """
        version: 1
        policy: {limits: {max_deactivations: 1}}
        users:
          - {userName: ann000001@example.com, active: false}
        """,
    )
    run = reconciler(
        "apply", str(files), "--target", f"sandbox:{db}", "--auto-approve", "--format", "json",
        runtime=with_faults(FaultConfig(error_200_rate=1.0, writes_only=True)),
    )  # fmt: skip
    assert run.exit_code == 4, run.stderr
    (result,) = run.json()["results"]
    assert result["outcome"] == "failed"
    assert "refused, but answered 200" in result["reason"]
    assert result["attempts"] == 1  # a 400 in the body is not retried
    with SandboxStore(db) as store:
        (user,) = store.list_users(1, 10, None)[1]
    assert user.attributes["active"] is True


def test_listing_with_a_short_total_stops_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """totalResults 100 for 250 users stops the run (exit 1), not 150 creates of existing users."""
    db = tmp_path / "s.db"
    with SandboxStore(db) as store:
        store.seed_users(250, prefix="u", domain="example.com")
    files = user_files(tmp_path / "files", [f"u{i:06d}@example.com" for i in range(1, 251)])
    run = reconciler(
        "apply", str(files), "--target", f"sandbox:{db}", "--auto-approve",
        runtime=with_faults(FaultConfig(total_cap=100)),
    )  # fmt: skip
    assert run.exit_code == 1, run.stdout
    assert "after the 100 that totalResults announced" in run.stderr
    with SandboxStore(db) as store:
        assert store.count_users() == 250


def test_group_listings_without_members_plan_no_member_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Groups listed without members are read one by one: the exported state plans no change."""
    db = tmp_path / "s.db"
    with SandboxStore(db) as store:
        ids = store.seed_users(3, prefix="u", domain="example.com")
        store.create_group({"displayName": "eng"}, ids)
        store.create_group({"displayName": "empty"}, [])
    exported = reconciler("export", "--target", f"sandbox:{db}", "--out", str(tmp_path / "files"))
    assert exported.exit_code == 0, exported.stderr
    run = reconciler(
        "plan", str(tmp_path / "files"), "--target", f"sandbox:{db}", "--detailed-exitcode",
        runtime=with_faults(FaultConfig(lists_without_members=True)),
    )  # fmt: skip
    assert run.exit_code == 0, run.stdout


def test_sandbox_serve_takes_every_hostile_knob(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sandbox serve`` turns each new knob into the FaultConfig field of the same meaning."""
    served: list[FaultConfig] = []
    monkeypatch.setattr(sandbox, "serve", lambda *a, faults, **kw: served.append(faults))
    run = reconciler(
        *("sandbox", "serve", "--db", str(tmp_path / "s.db"), "--error-200-rate", "0.5"),
        *("--writes-only", "--echo-auth", "--total-cap", "7", "--lists-without-members"),
    )
    assert run.exit_code == 0, run.stderr
    assert served == [
        FaultConfig(
            error_200_rate=0.5,
            writes_only=True,
            echo_auth=True,
            total_cap=7,
            lists_without_members=True,
        )
    ]


# -- the token, against a server that echoes it -------------------------------------------


@pytest.fixture
def echoing_server(tmp_path: Path) -> Iterator[str]:
    """``reconciler sandbox serve`` echoing Authorization in errors, failing every write (500).

    One live user's title holds the token, as a hostile server could serve it.
    """
    db = tmp_path / "served.db"
    with SandboxStore(db) as store:
        store.create_user(
            {
                "userName": "carol@example.com",
                "emails": [{"value": "carol@example.com", "type": "work", "primary": True}],
                "title": f"Bearer {TOKEN} and {TOKEN}",
                "active": True,
            }
        )
    knobs = ["--echo-auth", "--error-rate", "1", "--writes-only", "--seed", "1"]
    with served_sandbox(db, "--token", TOKEN, *knobs) as url:
        yield url


def runs_against(url: str, files: Path, saved: Path, monkeypatch: pytest.MonkeyPatch) -> list[Run]:
    """Every kind of run and output: plans in each format, applies in each, an export, a
    refused token."""
    quick = functools.partial(reconciler, runtime=Runtime(env=os.environ, retry=FAST))
    monkeypatch.setenv("RECONCILER_TOKEN", TOKEN)
    at = ("--target", url)
    runs = [
        quick("plan", str(files), *at, "--out", str(saved), "--format", "json",
                   "--log-format", "json", "-vv"),
        quick("plan", str(files), *at, "--format", "markdown", "--log-format", "console"),
        quick("plan", str(files), *at, "--log-format", "console", "-vv"),
        quick("apply", "--plan", str(saved), *at, "--auto-approve", "--format", "json",
                   "--log-format", "json", "-vv"),
        quick("apply", str(files), *at, "--auto-approve", "--log-format", "console", "-v"),
        quick("export", *at, "--out", str(saved.parent / "exported"), "--log-format", "json"),
    ]  # fmt: skip
    monkeypatch.setenv("RECONCILER_TOKEN", WRONG_TOKEN)
    runs.append(quick("plan", str(files), *at, "--log-format", "json"))
    runs.append(quick("plan", str(files), *at, "--log-format", "console"))
    return runs


def test_token_is_in_no_output_of_a_run_against_an_echoing_server(
    tmp_path: Path, echoing_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """stdout, stderr, JSON and console logs, the report and the saved plan never hold the token."""
    files = user_files(
        tmp_path / "files",
        ["carol@example.com", "dave@example.com"],
        "policy: {users: {unmanaged: ignore}}\n",
    )
    (files / "users.yaml").write_text(
        (files / "users.yaml")
        .read_text()
        .replace("carol@example.com", "carol@example.com\n    title: Engineer", 1)
    )
    saved = tmp_path / "plan.json"
    runs = runs_against(echoing_server, files, saved, monkeypatch)
    outputs: list[Any] = [(r.exit_code, r.stdout, r.stderr) for r in runs]
    assert [r.exit_code for r in runs] == [0, 0, 0, 4, 4, 0, 1, 1], outputs
    exported = (tmp_path / "exported" / "users.yaml").read_text()
    everything = saved.read_text() + exported + "".join(r.stdout + r.stderr for r in runs)
    assert TOKEN not in everything
    assert WRONG_TOKEN not in everything
    # The server did echo, and what it said still arrives, redacted.
    assert "Bearer <redacted> and <redacted>" in saved.read_text()
    assert "Bearer <redacted> and <redacted>" in exported
    assert "scim.retry" in runs[3].stderr
    assert "scim.retry" in runs[4].stderr
    report = json.loads(runs[3].stdout)
    assert {r["outcome"] for r in report["results"]} == {"failed"}
    assert all("Authorization: Bearer <redacted>" in r["reason"] for r in report["results"])
    assert "HTTP 401" in runs[7].stderr
    assert "Authorization: Bearer <redacted>" in runs[7].stderr


def test_a_plan_that_would_send_the_token_is_refused_unsaved_and_unsent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files that put the token into a value make plan and apply stop (exit 1): every view
    would show it redacted, so what would be sent could not be reviewed."""
    db = tmp_path / "served.db"
    with SandboxStore(db) as store:
        store.create_user(
            {
                "userName": "carol@example.com",
                "emails": [{"value": "carol@example.com", "type": "work", "primary": True}],
                "title": "Engineer",
                "active": True,
            }
        )
    files = user_files(tmp_path / "files", ["carol@example.com"])
    (files / "users.yaml").write_text(
        (files / "users.yaml").read_text() + f"    title: 'key {TOKEN}'\n", encoding="utf-8"
    )
    monkeypatch.setenv("RECONCILER_TOKEN", TOKEN)
    saved = tmp_path / "plan.json"
    with served_sandbox(db, "--token", TOKEN) as url:
        planned = reconciler("plan", str(files), "--target", url, "--out", str(saved))
        applied = reconciler("apply", str(files), "--target", url, "--auto-approve")
    for run in (planned, applied):
        assert run.exit_code == 1, run.stdout + run.stderr
        assert "would send the target's token to the directory" in run.stderr
        assert TOKEN not in run.stdout + run.stderr
    assert not saved.exists()
    with SandboxStore(db) as store:
        (user,) = store.list_users(1, 10, None)[1]
    assert user.attributes["title"] == "Engineer"


def test_a_token_that_views_escape_is_cut_out_before_they_escape_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Markdown writes ``_`` ``~`` ``*`` as character references and JSON escapes ``\\``:
    the token served back in a title is cut out of the plan before any view renders it."""
    token = "md_view~token*0123\\x"
    escaped = token.translate(str.maketrans({"_": "&#95;", "~": "&#126;", "*": "&#42;"}))
    db = tmp_path / "served.db"
    with SandboxStore(db) as store:
        store.create_user(
            {
                "userName": "carol@example.com",
                "emails": [{"value": "carol@example.com", "type": "work", "primary": True}],
                "title": f"was {token}",
                "active": True,
            }
        )
    files = user_files(tmp_path / "files", ["carol@example.com"])
    (files / "users.yaml").write_text(
        (files / "users.yaml").read_text() + "    title: Engineer\n", encoding="utf-8"
    )
    monkeypatch.setenv("RECONCILER_TOKEN", token)
    with served_sandbox(db, "--token", token) as url:
        views = [
            reconciler("plan", str(files), "--target", url, "--format", fmt).stdout
            for fmt in ("markdown", "text", "json")
        ]
    for view in views:
        assert "was <redacted>" in view or "was &lt;redacted&gt;" in view
        assert escaped.replace("\\", "&#92;") not in view
        assert token.replace("\\", "\\\\") not in view
        assert token not in view
