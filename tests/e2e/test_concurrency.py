"""Two runs at once, and a yes given long after the read: nothing routes around the review.

One apply per target on a machine (the lock), the interactive yes checked against the
directory again, and, where two applies on different machines race anyway, a group
create that made a duplicate fails instead of leaving two groups behind in silence.
"""

from __future__ import annotations

import json
import os
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from reconciler.app import ApplyRequest, Runtime, run_apply
from reconciler.app.lock import lock_path, target_lock
from reconciler.dialect import GENERIC
from reconciler.errors import StalePlanError
from reconciler.executor import Executor, ScimWriter
from reconciler.plan import Action, ActionKind, Change, Plan, Resource
from reconciler.report import Approval, Outcome
from reconciler.sandbox import sandbox_base_url, sandbox_transport
from reconciler.saved import read_plan_file
from reconciler.scim.client import ScimClient
from reconciler.target import Target
from tests.conftest import SCIM2_SERVER_TOKEN
from tests.e2e.helpers import Directory, reconciler, write

ALICE = "version: 1\nusers:\n  - {userName: alice@example.com, title: Engineer}\n"


def test_a_second_apply_while_one_holds_the_target_stops_and_names_the_holder(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """With the target's lock held by another apply, apply exits 1, names the holder
    (pid) and sends nothing."""
    target, directory = sandbox
    files = write(tmp_path, "users.yaml", ALICE)
    with target_lock(target, read_started=time.time(), note=lambda text: None):
        run = reconciler("apply", str(files), "--target", target, "--auto-approve")
    assert run.exit_code == 1, run.stdout
    assert f"another apply against {target} is running (pid {os.getpid()}" in run.stderr
    assert directory.users() == {}


def test_a_lock_left_by_an_apply_that_died_is_reported_and_taken(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """A lock file that names a holder but is not held (its apply was killed) does not
    block the next apply; the run says so."""
    target, directory = sandbox
    files = write(tmp_path, "users.yaml", ALICE)
    path = lock_path(target)
    path.write_text(json.dumps({"pid": 4242, "host": "ci-runner-7", "since": time.time() - 60}))
    run = reconciler("apply", str(files), "--target", target, "--auto-approve")
    assert run.exit_code == 0, run.stderr
    assert "was left by an apply that did not finish (pid 4242, on ci-runner-7" in run.stderr
    assert "alice@example.com" in directory.users()
    assert "released" in json.loads(path.read_text())


def test_a_lock_released_after_the_read_began_refuses_the_plan_as_stale(tmp_path: Path) -> None:
    """Another apply that finished while this one was reading may have changed what it
    read: taking the lock then refuses (StalePlanError, exit 1)."""
    target = f"sandbox:{tmp_path / 'd.db'}"
    read_started = time.time()
    with target_lock(target, read_started=read_started - 10, note=lambda text: None):
        pass  # another apply, done
    with (
        pytest.raises(StalePlanError, match="finished while this one was reading"),
        target_lock(target, read_started=read_started - 5, note=lambda text: None),
    ):
        pass


class _ChangesItWhileAsking:
    """Apply hooks whose "yes" comes after someone changed alice in the directory."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def planned(self, plan: Plan, target: Target, approval: Approval | None) -> None:
        pass

    def refused(self, plan: Plan, target: Target) -> None:
        raise AssertionError("no limit refuses this plan")

    def confirm(self, plan: Plan, target: Target) -> None:
        alice = self.directory.users()["alice@example.com"]["id"]
        self.directory.patch("Users", alice, {"op": "replace", "path": "title", "value": "CTO"})

    def applying(self, total: int) -> AbstractContextManager[object]:
        return Runtime().progress("Applying", total)


def test_the_interactive_yes_is_checked_against_the_directory_again(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """An object the plan touches changed while the plan waited for "yes": nothing is
    sent, and the refusal says the directory changed while it waited."""
    target, directory = sandbox
    directory.create_user("alice@example.com", title="Intern")
    files = write(tmp_path, "users.yaml", ALICE)
    request = ApplyRequest(paths=(files,), target=target)
    with pytest.raises(StalePlanError, match="changed while the plan waited for the confirmation"):
        run_apply(request, Runtime(), _ChangesItWhileAsking(directory))  # type: ignore[arg-type]
    assert directory.users()["alice@example.com"]["title"] == "CTO"


class _MeetAtGroupCreates(httpx.BaseTransport):
    """Holds each POST /Groups until both applies have sent theirs, and each answer until
    both creates have landed: a real race, made sure. (Without the second wait, one
    apply may look for twins before the other's create has reached the server, on a
    busy machine or beside parallel test workers.)"""

    def __init__(self, inner: httpx.BaseTransport, barrier: threading.Barrier) -> None:
        self.inner, self.barrier = inner, barrier

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not (request.method == "POST" and request.url.path.endswith("/Groups")):
            return self.inner.handle_request(request)
        self.barrier.wait(timeout=20)
        response = self.inner.handle_request(request)  # the server has answered: created
        self.barrier.wait(timeout=20)
        return response


def test_two_applies_that_create_one_group_at_once_fail_instead_of_leaving_two(
    scim2_tenant: str,
) -> None:
    """scim2-server allows duplicate group names: two applies (on different machines, so
    no lock between them) that each create eng both see two groups named eng after their
    create, and each fails the action with the cause and the fix (exit 4), rather than
    reporting success over a directory that no later plan can manage."""
    plan = Plan(
        target=scim2_tenant,
        dialect="generic",
        actions=(
            Action(
                resource=Resource.GROUP,
                action=ActionKind.CREATE,
                key="eng",
                changes=(Change(path="displayName", after="eng"),),
            ),
        ),
    )
    barrier = threading.Barrier(2)
    reports = []

    def apply_once() -> None:
        client = ScimClient(
            scim2_tenant,
            token=SCIM2_SERVER_TOKEN,
            transport=_MeetAtGroupCreates(httpx.HTTPTransport(), barrier),
        )
        reports.append(Executor(ScimWriter(client), dialect=GENERIC).execute(plan))

    threads = [threading.Thread(target=apply_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(reports) == 2
    for report in reports:
        (result,) = report.results
        assert result.outcome is Outcome.FAILED
        assert "2 groups are named eng now" in (result.reason or "")
        assert "Delete all but one of them by hand" in (result.reason or "")
    listing = Directory(scim2_tenant, token=SCIM2_SERVER_TOKEN)
    assert [g["displayName"] for g in listing.list("Groups")] == ["eng", "eng"]
    listing.close()


def test_a_create_that_takes_over_an_existing_group_reports_adopted(
    tmp_path: Path, sandbox: tuple[str, Directory]
) -> None:
    """A create answered 409 whose object is then taken over says "adopted", not applied.
    The sandbox keeps group names unique, so a group created after the read collides."""
    target, directory = sandbox
    files = write(tmp_path, "groups.yaml", "version: 1\ngroups:\n  - displayName: eng\n")
    saved = tmp_path / "plan.json"
    assert reconciler("plan", str(files), "--target", target, "--out", str(saved)).exit_code == 0
    group = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "eng"}
    directory.http.post("Groups", json=group).raise_for_status()
    plan = read_plan_file(saved)
    db = Path(target.removeprefix("sandbox:"))
    client = ScimClient(sandbox_base_url(), transport=sandbox_transport(db))
    report = Executor(ScimWriter(client), dialect=GENERIC).execute(plan)
    (result,) = report.results
    assert (result.outcome, result.adopted) == (Outcome.APPLIED, True)
