"""Safety for GitOps and unattended runs (issue 4, docs/design.md "Safety model").

Through the real CLI against the embedded sandbox, with a fault-injecting layer
between the client and the directory that also counts every write it lets through.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.app import Runtime
from reconciler.plan import Plan
from reconciler.sandbox import SandboxStore
from reconciler.scim.retry import RetryPolicy
from tests.conftest import SCIM2_SERVER_TOKEN
from tests.e2e.helpers import Run, reconciler

Fault = Callable[[httpx.Request, httpx.Response], httpx.Response]


class FaultLayer(httpx.BaseTransport):
    """Passes requests to the sandbox, rewrites the second page of /Users, counts writes."""

    def __init__(self, inner: httpx.BaseTransport, fault: Fault | None) -> None:
        self.inner = inner
        self.fault = fault
        self.writes: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            self.writes.append(f"{request.method} {request.url.path}")
        response = self.inner.handle_request(request)
        if (
            self.fault is not None
            and request.method == "GET"
            and request.url.path.endswith("/Users")
            and request.url.params.get("startIndex", "1") != "1"
        ):
            response.read()
            return self.fault(request, response)
        return response

    def close(self) -> None:
        self.inner.close()


def body(response: httpx.Response) -> dict:  # type: ignore[type-arg]
    return json.loads(response.content)


def rewrite(response: httpx.Response, **changes: object) -> httpx.Response:
    data = body(response)
    data.update(changes)
    return httpx.Response(200, json=data)


READ_FAULTS = [
    pytest.param(
        lambda rq, rs: httpx.Response(503, json={"status": "503", "detail": "down"}),
        "HTTP 503",
        id="page-fails-after-retries",
    ),
    pytest.param(
        lambda rq, rs: rewrite(rs, totalResults=body(rs)["totalResults"] + 7),
        "totalResults changed",
        id="totalResults-changes",
    ),
    pytest.param(
        lambda rq, rs: rewrite(rs, Resources=[*body(rs)["Resources"], body(rs)["Resources"][0]]),
        "listed twice",
        id="duplicate-id",
    ),
    pytest.param(
        lambda rq, rs: rewrite(rs, Resources=[]), "empty page", id="page-does-not-advance"
    ),
    pytest.param(
        lambda rq, rs: httpx.Response(
            200, text="<html>Service maintenance</html>", headers={"Content-Type": "text/html"}
        ),
        "HTML",
        id="html-with-200",
    ),
    pytest.param(
        lambda rq, rs: httpx.Response(
            200,
            content=rs.content[: len(rs.content) // 2],
            headers={"Content-Type": "application/scim+json"},
        ),
        "not valid JSON",
        id="truncated-json",
    ),
]


@pytest.fixture
def sandbox(tmp_path: Path) -> str:
    """A sandbox with 150 users, so /Users takes two pages of 100."""
    db = tmp_path / "sandbox.db"
    with SandboxStore(db) as store:
        store.seed_users(150, prefix="seed", domain="example.com")
    return f"sandbox:{db}"


def fault_layer(fault: Fault | None) -> tuple[list[FaultLayer], Callable[..., Run]]:
    """Layers that count (and maybe rewrite) what the runs send, and a way to run the CLI
    through them, with quick retries."""
    layers: list[FaultLayer] = []

    def wrap(inner: httpx.BaseTransport) -> httpx.BaseTransport:
        layers.append(FaultLayer(inner, fault))
        return layers[-1]

    fast = RetryPolicy(attempts=3, sleep=lambda seconds: None)
    return layers, functools.partial(reconciler, runtime=Runtime(transport=wrap, retry=fast))


def files_with(tmp_path: Path, policy: str = "", users: str = "") -> Path:
    """A desired-state directory: new@example.com, plus ``users`` (YAML list items)."""
    root = tmp_path / "files"
    root.mkdir(exist_ok=True)
    text = "version: 1\n" + (policy + "\n" if policy else "")
    text += "users:\n  - userName: new@example.com\n" + users
    (root / "directory.yaml").write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(("fault", "message"), READ_FAULTS)
def test_read_fault_stops_the_run_with_no_writes(
    tmp_path: Path, sandbox: str, monkeypatch: pytest.MonkeyPatch, fault: Fault, message: str
) -> None:
    """An incomplete or inconsistent listing exits 1, says what was wrong, and writes nothing."""
    layers, faulty = fault_layer(fault)
    policy = "policy: {users: {unmanaged: deactivate}, limits: {max_deactivations: 1000}}"
    run = faulty("apply", str(files_with(tmp_path, policy)), "--target", sandbox, "--auto-approve")
    assert run.exit_code == 1, run.stdout
    assert message in run.stderr
    assert layers[0].writes == []


def test_plan_over_a_limit_is_refused_with_no_writes(
    tmp_path: Path, sandbox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deactivating 150 users against a limit of 10 exits 3 and sends nothing."""
    layers, faulty = fault_layer(None)
    files = files_with(
        tmp_path, "policy: {users: {unmanaged: deactivate}, limits: {max_deactivations: 10}}"
    )
    run = faulty("apply", str(files), "--target", sandbox, "--auto-approve")
    assert run.exit_code == 3
    assert "max_deactivations: 150 planned, 10 allowed" in run.stdout
    assert layers[0].writes == []
    planned = faulty("plan", str(files), "--target", sandbox)
    assert planned.exit_code == 3  # plan of a blocked plan fails the check, too


def test_approve_lets_exactly_that_digest_through(
    tmp_path: Path, sandbox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--approve with the planned digest applies; a wrong or stale digest is still refused."""
    files = files_with(
        tmp_path, "policy: {users: {unmanaged: deactivate}, limits: {max_deactivations: 10}}"
    )
    digest = reconciler("plan", str(files), "--target", sandbox, "--format", "json").json()[
        "digest"
    ]

    layers, faulty = fault_layer(None)
    wrong = faulty(
        "apply",
        str(files),
        "--target",
        sandbox,
        "--auto-approve",
        "--approve",
        "sha256:" + "0" * 64,
    )
    assert wrong.exit_code == 3  # an approval of another plan: nothing goes, a person decides
    assert "does not match" in wrong.stderr
    assert layers[-1].writes == []

    # The directory changes after the review: the approved digest no longer matches.
    with SandboxStore(sandbox.removeprefix("sandbox:")) as store:
        store.seed_users(1, prefix="late", domain="example.com")
    stale = faulty("apply", str(files), "--target", sandbox, "--auto-approve", "--approve", digest)
    assert stale.exit_code == 3
    assert "does not match" in stale.stderr
    assert layers[-1].writes == []

    fresh = faulty("plan", str(files), "--target", sandbox, "--format", "json").json()
    ok = faulty(
        "apply",
        str(files),
        "--target",
        sandbox,
        "--auto-approve",
        "--approve",
        fresh["digest"],
        "--format",
        "json",
    )
    assert ok.exit_code == 0, ok.stderr
    assert ok.json()["summary"] == {"applied": 152, "failed": 0, "skipped": 0}


def test_saved_plan_applies_exactly_when_fresh(tmp_path: Path, sandbox: str) -> None:
    """apply --plan sends exactly the saved actions when nothing changed since."""
    files = files_with(tmp_path, users="  - userName: other@example.com\n")
    saved = tmp_path / "plan.json"
    assert reconciler("plan", str(files), "--target", sandbox, "--out", str(saved)).exit_code == 0
    run = reconciler(
        "apply", "--plan", str(saved), "--target", sandbox, "--auto-approve", "--format", "json"
    )
    assert run.exit_code == 0, run.stderr
    keys = [r["key"] for r in run.json()["results"]]
    assert keys == ["new@example.com", "other@example.com"]
    again = reconciler("plan", str(files), "--target", sandbox, "--detailed-exitcode")
    assert again.exit_code == 0


def test_stale_saved_plan_is_refused_with_no_writes(
    tmp_path: Path, sandbox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A saved plan whose objects changed since is refused (exit 1) and nothing is sent."""
    files = files_with(tmp_path, users="  - userName: seed000001@example.com\n    title: Boss\n")
    saved = tmp_path / "plan.json"
    assert reconciler("plan", str(files), "--target", sandbox, "--out", str(saved)).exit_code == 0
    db = sandbox.removeprefix("sandbox:")
    with SandboxStore(db) as store:
        # Someone else creates the user the plan would create.
        store.create_user(
            {
                "userName": "new@example.com",
                "emails": [{"value": "new@example.com", "primary": True}],
            }
        )
    layers, faulty = fault_layer(None)
    run = faulty("apply", "--plan", str(saved), "--target", sandbox, "--auto-approve")
    assert run.exit_code == 1
    assert "stale" in run.stderr
    assert "user new@example.com now exists" in run.stderr
    assert layers[0].writes == []


def test_saved_plan_for_another_target_is_refused(tmp_path: Path, sandbox: str) -> None:
    """A plan made for one directory is never applied to another."""
    saved = tmp_path / "plan.json"
    assert (
        reconciler(
            "plan", str(files_with(tmp_path)), "--target", sandbox, "--out", str(saved)
        ).exit_code
        == 0
    )
    other = f"sandbox:{tmp_path / 'other.db'}"
    run = reconciler("apply", "--plan", str(saved), "--target", other, "--auto-approve")
    assert run.exit_code == 1
    assert "was made for" in run.stderr


def test_edited_saved_plan_is_refused(tmp_path: Path, sandbox: str) -> None:
    """A saved plan edited by hand no longer matches its digest and is refused."""
    saved = tmp_path / "plan.json"
    assert (
        reconciler(
            "plan", str(files_with(tmp_path)), "--target", sandbox, "--out", str(saved)
        ).exit_code
        == 0
    )
    saved.write_text(saved.read_text().replace("new@example.com", "evil@example.com"))
    run = reconciler("apply", "--plan", str(saved), "--target", sandbox, "--auto-approve")
    assert run.exit_code == 1
    assert "digest does not match" in run.stderr


def test_apply_without_terminal_and_without_auto_approve_refuses(
    tmp_path: Path, sandbox: str
) -> None:
    """With no terminal to ask on, apply without --auto-approve refuses and sends nothing."""
    run = reconciler("apply", str(files_with(tmp_path)), "--target", sandbox)
    assert run.exit_code == 1
    assert "--auto-approve" in run.stderr


def test_dry_run_sends_nothing(
    tmp_path: Path, sandbox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """apply --dry-run goes through the executor and sends no write."""
    layers, faulty = fault_layer(None)
    run = faulty("apply", str(files_with(tmp_path)), "--target", sandbox, "--dry-run")
    assert run.exit_code == 0, run.stderr
    assert "nothing was sent" in run.stdout.lower() or "dry run" in run.stdout.lower()
    assert layers[0].writes == []


def test_saved_plan_edited_past_its_limits_is_refused(tmp_path: Path, sandbox: str) -> None:
    """Emptying "blocked" in a saved plan breaks its digest: limits cannot be edited away."""
    files = files_with(
        tmp_path, "policy: {users: {unmanaged: deactivate}, limits: {max_deactivations: 1}}"
    )
    saved = tmp_path / "plan.json"
    assert reconciler("plan", str(files), "--target", sandbox, "--out", str(saved)).exit_code == 3
    data = json.loads(saved.read_text())
    assert data["blocked"]
    data["blocked"] = []
    saved.write_text(json.dumps(data))
    run = reconciler("apply", "--plan", str(saved), "--target", sandbox, "--auto-approve")
    assert run.exit_code == 1
    assert "digest does not match" in run.stderr


def test_approve_accepts_bare_hex_and_refuses_garbage(tmp_path: Path, sandbox: str) -> None:
    """--approve takes the digest with or without sha256:, and says so when it is no digest."""
    files = files_with(
        tmp_path, "policy: {users: {unmanaged: deactivate}, limits: {max_deactivations: 1}}"
    )
    digest = reconciler("plan", str(files), "--target", sandbox, "--format", "json").json()[
        "digest"
    ]
    garbage = reconciler(
        "apply", str(files), "--target", sandbox, "--auto-approve", "--approve", "deadbeef"
    )
    assert garbage.exit_code == 1
    assert "is not a plan digest" in garbage.stderr
    bare = reconciler(
        "apply",
        str(files),
        "--target",
        sandbox,
        "--auto-approve",
        "--approve",
        digest.removeprefix("sha256:"),
    )
    assert bare.exit_code == 0, bare.stderr


def test_plan_for_another_target_opens_nothing(tmp_path: Path, sandbox: str) -> None:
    """A plan refused for its target leaves no trace: not even an empty sandbox file."""
    saved = tmp_path / "plan.json"
    assert (
        reconciler(
            "plan", str(files_with(tmp_path)), "--target", sandbox, "--out", str(saved)
        ).exit_code
        == 0
    )
    other = tmp_path / "other.db"
    run = reconciler(
        "apply", "--plan", str(saved), "--target", f"sandbox:{other}", "--auto-approve"
    )
    assert run.exit_code == 1
    assert not other.exists()


def test_saved_plan_defaults_to_its_own_target(tmp_path: Path, sandbox: str) -> None:
    """apply --plan without --target applies to the directory the plan was made for."""
    saved = tmp_path / "plan.json"
    assert (
        reconciler(
            "plan", str(files_with(tmp_path)), "--target", sandbox, "--out", str(saved)
        ).exit_code
        == 0
    )
    run = reconciler("apply", "--plan", str(saved), "--auto-approve", "--format", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["target"] == sandbox


def _resigned(data: dict[str, Any]) -> str:
    """A plan JSON with its digest made anew, as anyone who edits a plan can do."""
    derived = ("digest", "summary", "cost", "sensitive_changes")  # derived by the views
    body = {k: v for k, v in data.items() if k not in derived}
    for action in body["actions"]:
        for change in action["changes"]:
            change.pop("items", None)
    return Plan.model_validate(body).to_json()


def test_saved_plan_re_signed_past_the_files_limits_is_refused(
    tmp_path: Path, sandbox: str
) -> None:
    """The digest is no signature: a blocked plan with "blocked" emptied and a fresh
    digest is still refused (exit 3, nothing sent) when applied with the reviewed files,
    whose limits it exceeds; --approve of that digest lets it through."""
    files = files_with(
        tmp_path, "policy: {users: {unmanaged: deactivate}, limits: {max_deactivations: 1}}"
    )
    run = reconciler("plan", str(files), "--target", sandbox, "--format", "json")
    assert run.exit_code == 3
    saved = tmp_path / "plan.json"
    saved.write_text(_resigned({**run.json(), "blocked": []}))
    refused = reconciler("apply", str(files), "--plan", str(saved), "--auto-approve")
    assert refused.exit_code == 3, refused.stderr
    assert "exceeds limits the files set: max_deactivations" in refused.stderr
    digest = json.loads(saved.read_text())["digest"]
    approved = reconciler(
        "apply", str(files), "--plan", str(saved), "--auto-approve", "--approve", digest
    )
    assert approved.exit_code == 0, approved.stderr


def test_saved_plan_edited_to_hide_a_sensitive_change_is_refused(
    tmp_path: Path, sandbox: str
) -> None:
    """A plan blocked by max_sensitive_changes, edited to drop its access review,
    sensitive_groups and blocked (digest made anew), is refused when applied with the
    reviewed files: the limits are counted again from the files and the directory."""
    files = files_with(
        tmp_path,
        "policy: {groups: {sensitive: [site-admins]}}\n"
        "groups: [{displayName: site-admins, members: [new@example.com]}]",
    )
    run = reconciler("plan", str(files), "--target", sandbox, "--format", "json")
    assert run.exit_code == 3, run.stderr
    assert run.json()["sensitive_changes"] == 1
    edited = {**run.json(), "blocked": [], "access": [], "holders": [], "sensitive_groups": []}
    saved = tmp_path / "plan.json"
    saved.write_text(_resigned(edited))
    refused = reconciler("apply", str(files), "--plan", str(saved), "--auto-approve")
    assert refused.exit_code == 3, refused.stderr
    assert "exceeds limits the files set: max_sensitive_changes" in refused.stderr
    with SandboxStore(sandbox.removeprefix("sandbox:")) as store:
        assert store.list_groups(1, 10)[0] == 0  # nothing was sent


def test_apply_of_a_saved_plan_reads_the_token_variable_the_plan_was_made_with(
    tmp_path: Path, scim2_tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """target.token_env in the files is recorded by name in the saved plan, so apply --plan
    without the files reads the same variable (and the plan never holds the token)."""
    monkeypatch.delenv("RECONCILER_TOKEN", raising=False)
    monkeypatch.setenv("DIRECTORY_TOKEN", SCIM2_SERVER_TOKEN)
    files = files_with(tmp_path, "target: {token_env: DIRECTORY_TOKEN}")
    saved = tmp_path / "plan.json"
    made = reconciler("plan", str(files), "--target", scim2_tenant, "--out", str(saved))
    assert made.exit_code == 0, made.stderr
    text = saved.read_text()
    assert json.loads(text)["token_env"] == "DIRECTORY_TOKEN"
    assert SCIM2_SERVER_TOKEN not in text
    run = reconciler("apply", "--plan", str(saved), "--auto-approve")
    assert run.exit_code == 0, run.stderr
