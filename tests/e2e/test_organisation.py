"""The organisation around an Atlassian directory, end to end (issue 18), on the sandbox
in-process (``sandbox:PATH``) and served over loopback (``sandbox serve --org-token``).

Each test seeds an organisation fixture with ``reconciler sandbox seed``, plans and
applies with the real CLI, and looks at the result with plain httpx and ``links``:
verified domains and unmanaged accounts, creates that link to existing accounts,
default group names, the read-only extension, Atlassian's 429s, size caps, and unlink.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.app import Runtime
from reconciler.attributes import ENTERPRISE_URN, PATCH_SCHEMA
from reconciler.sandbox import (
    FaultConfig,
    FaultInjectingTransport,
    FaultInjector,
    sandbox_base_url,
    sandbox_transport,
)
from reconciler.scim.retry import RetryPolicy
from tests.e2e.helpers import Directory, Run, reconciler, served_sandbox, write

ORG_TOKEN = "org-t0k"
WHERE = [pytest.param("in-process", id="in-process"), pytest.param("served", id="served")]


@dataclass
class Site:
    """A seeded sandbox as a target: where the CLI reaches it, and a plain view of it."""

    target: str
    db: Path
    served: bool

    def run(self, *args: str, runtime: Runtime | None = None) -> Run:
        return reconciler(*args, "--target", self.target, runtime=runtime)

    def links(self, *args: str) -> Run:
        return self.run("links", *args, "--org", "sandbox-org")

    @contextmanager
    def directory(self) -> Iterator[Directory]:
        if self.served:
            directory = Directory(self.target)
        else:
            directory = Directory(sandbox_base_url(), transport=sandbox_transport(self.db))
        try:
            yield directory
        finally:
            directory.close()


@contextmanager
def site(
    where: str, root: Path, fixture: str, monkeypatch: pytest.MonkeyPatch, *options: str
) -> Iterator[Site]:
    """A sandbox seeded with the organisation ``fixture``, in-process or served with the
    organisation key in RECONCILER_ORG_TOKEN and the serve ``options``."""
    db = root / "sandbox.db"
    seeded = reconciler("sandbox", "seed", str(write(root, "org.yaml", fixture)), "--db", str(db))
    assert seeded.exit_code == 0, seeded.stderr
    monkeypatch.setenv("RECONCILER_ORG_TOKEN", ORG_TOKEN)
    if where == "in-process":
        yield Site(f"sandbox:{db}", db, served=False)
        return
    with served_sandbox(db, "--org-token", ORG_TOKEN, *options) as url:
        yield Site(url, db, served=True)


def files(root: Path, users: str, groups: str = "", caps: str = "") -> Path:
    """A desired-state directory naming the organisation (the served sandbox needs it)."""
    target = "target:\n  org_id: sandbox-org\n" + (f"  caps: {caps}\n" if caps else "")
    text = f"version: 1\n{target}users:\n{users}" + (f"groups:\n{groups}" if groups else "")
    write(root / "files", "directory.yaml", text)
    return root / "files"


def warnings_of(run: Run) -> dict[str, list[str]]:
    assert run.exit_code in (0, 2), run.stdout + run.stderr
    found: dict[str, list[str]] = {}
    for warning in run.json()["warnings"]:
        found.setdefault(warning["key"], []).append(warning["message"])
    return found


# 1. Managed and unmanaged accounts, verified domains ----------------------------------

DOMAINS = """
version: 1
org:
  domains: [example.com]
  accounts:
    - {email: pat@partner.net, account_id: acc-pat}
"""


@pytest.mark.parametrize("where", WHERE)
def test_accounts_outside_the_verified_domains_are_predicted_and_unlinked(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan says pat's create makes an unmanaged account; then that pat's title change
    and ann's email moved to gmail.test will unlink them. The apply is green (Atlassian
    answers 200), and then both are unlinked (``links``) and out of their group."""
    with site(where, tmp_path, DOMAINS, monkeypatch) as s:
        users = (
            "  - {userName: ann@example.com, groups: [eng]}\n"
            "  - {userName: pat@partner.net, groups: [eng]}\n"
        )
        first = files(tmp_path, users, "  - displayName: eng\n")
        planned = warnings_of(s.run("plan", str(first), "--format", "json"))
        assert planned["pat@partner.net"] == [
            "will be created with an Atlassian account the organisation does not manage "
            "(partner.net is not one of its verified domains): any later change of its profile "
            "through SCIM will unlink it and drop it from its groups; verify partner.net in "
            "the organisation to manage it"
        ]
        assert "ann@example.com" not in planned
        assert s.run("apply", str(first), "--auto-approve").exit_code == 0
        assert "(this directory)" in s.links("pat@partner.net").stdout
        users = (
            "  - userName: ann@example.com\n    emails: [{value: ann@gmail.test, primary: true}]\n"
            "    groups: [eng]\n"
            "  - {userName: pat@partner.net, title: Vendor, groups: [eng]}\n"
        )
        second = files(tmp_path, users, "  - displayName: eng\n")
        planned = warnings_of(s.run("plan", str(second), "--format", "json"))
        assert any(
            m.startswith(
                "will be unlinked from its Atlassian account and dropped from its groups: its "
                "email pat@partner.net is outside the organisation's verified domains"
            )
            for m in planned["pat@partner.net"]
        )
        assert any(
            "its email moves to ann@gmail.test, and gmail.test is not one of" in m
            for m in planned["ann@example.com"]
        )
        applied = s.run("apply", str(second), "--auto-approve")
        assert applied.exit_code == 0, applied.stdout + applied.stderr
        for email in ("pat@partner.net", "ann@example.com", "ann@gmail.test"):
            assert "no SCIM link" in s.links(email).stdout
        with s.directory() as directory:
            assert directory.groups()["eng"] == set()
            assert directory.users()["pat@partner.net"]["title"] == "Vendor"


# 2. Creates that link to an existing account ----------------------------------------

ACCOUNTS = """
version: 1
org:
  domains: [example.com]
  accounts:
    - {email: carol@example.com, account_id: 5b10ac8d82e05b22cc7d4ef5}
    - {email: dave@example.com, linked_to: other-dir}
"""


@pytest.mark.parametrize("where", WHERE)
def test_the_plan_names_the_existing_account_a_create_links_to(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """carol's managed account exists with no link: every view says her create links to it
    (dave's is linked elsewhere: a 409 warning instead; erin's is new), and it does."""
    with site(where, tmp_path, ACCOUNTS, monkeypatch) as s:
        users = "  - userName: carol@example.com\n  - userName: erin@example.com\n"
        path = str(files(tmp_path, users))
        planned = s.run("plan", path, "--format", "json").json()
        assert planned["existing_accounts"] == {"carol@example.com": "5b10ac8d82e05b22cc7d4ef5"}
        text = s.run("plan", path).stdout
        assert (
            "+ user carol@example.com (links to existing account 5b10ac8d82e05b22cc7d4ef5)" in text
        )
        assert "+ user erin@example.com\n" in text
        markdown = s.run("plan", path, "--format", "markdown").stdout
        assert "Links to the existing Atlassian account <code>5b10ac8d82e05b22cc7d4ef5</code>" in (
            markdown
        )
        assert s.run("apply", path, "--auto-approve").exit_code == 0
        shown = s.links("carol@example.com").stdout
        assert "account 5b10ac8d82e05b22cc7d4ef5 linked to SCIM user" in shown


MANY = "version: 1\norg:\n  domains: [example.com]\n  accounts:\n" + "".join(
    f"    - {{email: p{i:03d}@example.com, account_id: acc-{i:03d}}}\n" for i in range(120)
)


@pytest.mark.parametrize("where", WHERE)
def test_the_organisations_users_listing_is_read_once_a_page_at_a_time(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """120 managed accounts are three pages of the users listing: an apply reads each
    page once (the plan's one read serves the whole run), and the account on the last
    page is the one p110's create is marked with and links to."""
    with site(where, tmp_path, MANY, monkeypatch) as s:
        path = str(
            files(tmp_path, "  - userName: p110@example.com\n  - userName: new@example.com\n")
        )
        planned = s.run("plan", path, "--format", "json").json()
        assert planned["existing_accounts"] == {"p110@example.com": "acc-110"}
        applied = s.run("apply", path, "--auto-approve", "-vv", "--log-format", "json")
        assert applied.exit_code == 0, applied.stdout + applied.stderr
        assert "+ user p110@example.com (links to existing account acc-110)" in applied.stdout
        reads = [
            json.loads(line)["request"]
            for line in applied.stderr.splitlines()
            if '"scim.request"' in line and "orgs/sandbox-org/users" in line
        ]
        assert reads == [
            "GET v1/orgs/sandbox-org/users",
            "GET v1/orgs/sandbox-org/users?cursor=acc-049",
            "GET v1/orgs/sandbox-org/users?cursor=acc-099",
        ]
        assert "account acc-110 linked to SCIM user" in s.links("p110@example.com").stdout


# 3. Default-access group names -------------------------------------------------------

GROUPS = """
version: 1
org:
  groups: [design]
"""


@pytest.mark.parametrize("where", WHERE)
def test_a_default_group_name_is_created_but_never_synced_and_a_taken_one_fails(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """jira-software-users-acme: the plan says it will never sync, the apply reports it
    applied, not synced to products; design, held by another directory, fails with 409."""
    with site(where, tmp_path, GROUPS, monkeypatch) as s:
        groups = "  - displayName: jira-software-users-acme\n  - displayName: design\n"
        path = str(files(tmp_path, "  - {userName: ann@example.com}\n", groups))
        planned = warnings_of(s.run("plan", path, "--format", "json"))
        assert planned["jira-software-users-acme"] == [
            "is named like a default-access or built-in group of Atlassian's products: Atlassian "
            "will answer its create with success and never sync the group to its products, so "
            "its members will get no access through it; choose another name"
        ]
        applied = s.run("apply", path, "--auto-approve")
        assert applied.exit_code == 4
        assert (
            "+ group jira-software-users-acme: applied, not synced to products — the name is a "
            "product's default-access or built-in group name" in applied.stdout
        )
        assert "+ group design: failed" in applied.stdout
        assert "group names are unique across the Atlassian organisation" in applied.stdout


# 4. The read-only enterprise extension ------------------------------------------------


class ReadOnlyExtension(httpx.BaseTransport):
    """The in-process sandbox of the run, opened again with the extension read-only."""

    def __init__(self, inner: httpx.BaseTransport, db: Path) -> None:
        inner.close()
        self.inner = sandbox_transport(db, enterprise_read_only=True)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("where", WHERE)
def test_removing_a_department_converges_when_the_extension_is_read_only(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As Atlassian's OpenAPI marks it, the extension refuses writes: the department is set
    and removed at the top level, and the next plan is empty."""
    with site(where, tmp_path, "version: 1\norg: {}\n", monkeypatch, "--enterprise-read-only") as s:
        db = s.db
        runtime = (
            None if s.served else Runtime(transport=lambda inner: ReadOnlyExtension(inner, db))
        )
        with_department = "  - {userName: ann@example.com, enterprise: {department: R&D}}\n"
        path = str(files(tmp_path, with_department))
        assert s.run("apply", path, "--auto-approve", runtime=runtime).exit_code == 0
        without = str(
            files(tmp_path, "  - {userName: ann@example.com, enterprise: {department: null}}\n")
        )
        planned = s.run("plan", without, runtime=runtime).stdout
        assert 'enterprise.department: "R&D" -> (none)' in planned
        applied = s.run("apply", without, "--auto-approve", runtime=runtime)
        assert applied.exit_code == 0, applied.stdout + applied.stderr
        again = s.run("plan", without, "--detailed-exitcode", runtime=runtime)
        assert again.exit_code == 0, again.stdout
        with s.directory() as directory:
            assert "department" not in directory.users()["ann@example.com"]


class OnePlace(httpx.BaseTransport):
    """A directory that holds department in one ``place`` only (``top_level`` or
    ``extension``): the sandbox's reads shown without the other copy (the sandbox stores
    one value and shows it in both), and every PATCH body sent, kept."""

    def __init__(self, inner: httpx.BaseTransport, place: str) -> None:
        self.inner = inner
        self.place = place
        self.patches: list[dict[str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            self.patches.append(json.loads(request.content))
        response = self.inner.handle_request(request)
        if request.method != "GET" or "/Users" not in request.url.path:
            return response
        body = json.loads(response.read())
        for user in body.get("Resources", [body]):
            if self.place == "extension":
                user.pop("department", None)
            else:
                user.get(ENTERPRISE_URN, {}).pop("department", None)
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, headers=headers, json=body)

    def close(self) -> None:
        self.inner.close()


def one_place(where: str, s: Site, place: str) -> tuple[Runtime, list[OnePlace]]:
    """A runtime whose transport is ``OnePlace`` over the read-only sandbox of ``s``."""
    made: list[OnePlace] = []

    def wrap(inner: httpx.BaseTransport) -> httpx.BaseTransport:
        base = inner if s.served else ReadOnlyExtension(inner, s.db)
        made.append(OnePlace(base, place))
        return made[-1]

    return Runtime(transport=wrap), made


@pytest.mark.parametrize("where", WHERE)
def test_a_department_only_at_the_top_level_is_removed_there_alone(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the extension read-only, a department the directory holds only at the top
    level is removed with one PATCH and no operation on the extension."""
    with site(where, tmp_path, "version: 1\norg: {}\n", monkeypatch, "--enterprise-read-only") as s:
        runtime, made = one_place(where, s, "top_level")
        user = "  - {userName: ann@example.com, enterprise: {department: %s}}\n"
        assert (
            s.run(
                "apply", str(files(tmp_path, user % "R&D")), "--auto-approve", runtime=runtime
            ).exit_code
            == 0
        )
        without = str(files(tmp_path, user % "null"))
        plan = json.loads(s.run("plan", without, "--format", "json", runtime=runtime).stdout)
        (change,) = plan["actions"][0]["changes"]
        assert change["held"] == "top_level"
        applied = s.run("apply", without, "--auto-approve", runtime=runtime)
        assert applied.exit_code == 0, applied.stdout + applied.stderr
        assert made[-1].patches == [
            {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "remove", "path": "department"}]}
        ]
        assert s.run("plan", without, "--detailed-exitcode", runtime=runtime).exit_code == 0
        with s.directory() as directory:
            assert "department" not in directory.users()["ann@example.com"]


@pytest.mark.parametrize("where", WHERE)
def test_a_department_only_in_the_read_only_extension_fails_alone(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A department held only in the read-only extension: the plan warns naming the
    person; the apply changes the title in the action's own PATCH, and the refused
    extension removal, in a PATCH of its own, fails that one action with the reason."""
    with site(where, tmp_path, "version: 1\norg: {}\n", monkeypatch, "--enterprise-read-only") as s:
        runtime, made = one_place(where, s, "extension")
        user = "  - {userName: ann@example.com, title: %s, enterprise: {department: %s}}\n"
        first = str(files(tmp_path, user % ("Engineer", "R&D")))
        assert s.run("apply", first, "--auto-approve", runtime=runtime).exit_code == 0
        second = str(files(tmp_path, user % ("Lead", "null")))
        planned = s.run("plan", second, runtime=runtime)
        assert "ann@example.com: removes department from the enterprise extension" in planned.stdout
        applied = s.run("apply", second, "--auto-approve", runtime=runtime)
        assert applied.exit_code != 0
        assert "~ user ann@example.com: failed" in applied.stdout
        assert f"{ENTERPRISE_URN} is read-only" in applied.stdout + applied.stderr
        assert [p["Operations"] for p in made[-1].patches] == [
            [{"op": "replace", "path": "title", "value": "Lead"}],
            [{"op": "remove", "path": f"{ENTERPRISE_URN}:department"}],
        ]
        with s.directory() as directory:
            ann = directory.users()["ann@example.com"]
            assert (ann["title"], ann["department"]) == ("Lead", "R&D")


# 5. Rate limiting as Atlassian does it -------------------------------------------------

USERS = "".join(f"  - {{userName: u{i:02d}@example.com, groups: [all]}}\n" for i in range(12))


class FakeClock:
    """The sandbox's token bucket clock, moved on only by the client's waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


@pytest.mark.parametrize("style", ["atlassian", "headerless"])
def test_an_apply_through_atlassian_429s_in_process(
    style: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """429s with X-RateLimit-Reset and no Retry-After (waited for until the reset), or with
    no header (backed off): the apply converges, and the next plan is empty."""
    clock = FakeClock()
    faults = FaultConfig(rate_limit=3, rate_limit_style=style)  # type: ignore[arg-type]
    injector = FaultInjector(faults, clock=clock, sleep=clock.sleep, wall=time.time)
    runtime = Runtime(
        retry=RetryPolicy(attempts=20, sleep=clock.sleep),
        transport=lambda inner: FaultInjectingTransport(inner, faults, injector=injector),
    )
    with site("in-process", tmp_path, "version: 1\norg: {}\n", monkeypatch) as s:
        path = str(files(tmp_path, USERS, "  - displayName: all\n"))
        applied = s.run("apply", path, "--auto-approve", runtime=runtime)
        assert applied.exit_code == 0, applied.stdout + applied.stderr
        waited = "scim.retry_after" if style == "atlassian" else "scim.retry"
        assert f'"event": "{waited}"' in applied.stderr
        assert "HTTP 429" in applied.stderr
        assert s.run("plan", path, "--detailed-exitcode", runtime=runtime).exit_code == 0


def test_an_apply_through_atlassian_429s_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sandbox serve --rate-limit 10 --rate-limit-style atlassian``: the waits the
    X-RateLimit-Reset header names are honoured, and the apply converges."""
    options = ("--rate-limit", "10", "--rate-limit-style", "atlassian")
    with site("served", tmp_path, "version: 1\norg: {}\n", monkeypatch, *options) as s:
        runtime = Runtime(retry=RetryPolicy(attempts=20))
        path = str(files(tmp_path, USERS, "  - displayName: all\n"))
        applied = s.run("apply", path, "--auto-approve", runtime=runtime)
        assert applied.exit_code == 0, applied.stdout + applied.stderr
        assert '"event": "scim.retry_after"' in applied.stderr
        # Read past the served rate limit: the database the server wrote, in-process.
        directory = Directory(sandbox_base_url(), transport=sandbox_transport(s.db))
        try:
            assert len(directory.groups()["all"]) == 12
        finally:
            directory.close()


# 6. Size caps --------------------------------------------------------------------------

CAPS = """
version: 1
org:
  caps: {users: 3, group_members: 2, memberships: 3}
"""


@pytest.mark.parametrize("where", WHERE)
def test_caps_are_warned_about_and_the_writes_past_them_fail(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The organisation's caps (a fixture knob) and the same target.caps in the files: the
    plan warns of four users, four memberships and a group of four; the apply fails the
    writes past them."""
    with site(where, tmp_path, CAPS, monkeypatch) as s:
        users = "".join(f"  - {{userName: {n}@example.com, groups: [eng]}}\n" for n in "abcd")
        groups = "  - displayName: eng\n"
        caps = "{users: 3, group_members: 2, memberships: 3}"
        path = str(files(tmp_path, users, groups, caps=caps))
        planned = warnings_of(s.run("plan", path, "--format", "json"))
        assert planned["(directory)"] == [
            "will hold 4 group memberships after this plan, over its cap of 3 "
            "(target.caps.memberships): the member additions past it will fail",
            "will hold 4 users after this plan, over its cap of 3 (target.caps.users): the "
            "creates past it will fail",
        ]
        assert planned["eng"] == [
            "will hold 4 members after this plan, over the cap of 2 members per group "
            "(target.caps.group_members): the writes that take it over will fail"
        ]
        applied = s.run("apply", path, "--auto-approve")
        assert applied.exit_code == 4
        assert "the directory holds 3 users, its limit (the organisation's size caps)" in (
            applied.stdout
        )
        with s.directory() as directory:
            assert len(directory.users()) == 3


# 7. Unlink keeps the SCIM user ----------------------------------------------------------


@pytest.mark.parametrize("where", WHERE)
def test_unlink_keeps_the_scim_user_and_its_next_update_links_it_again(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API reference: unlinking keeps the SCIM user, unlinked (and out of its groups);
    ``links unlink`` says so; its next update links it again."""
    with site(where, tmp_path, "version: 1\norg: {}\n", monkeypatch) as s:
        path = str(
            files(
                tmp_path,
                "  - {userName: ann@example.com, groups: [eng]}\n",
                "  - displayName: eng\n",
            )
        )
        assert s.run("apply", path, "--auto-approve").exit_code == 0
        unlink = s.links("unlink", "ann@example.com", "--directory", "sandbox", "--auto-approve")
        assert unlink.exit_code == 0, unlink.stderr
        assert "stays in this directory, unlinked and out of its groups; its next update" in (
            unlink.stdout
        )
        assert "no SCIM link" in s.links("ann@example.com").stdout
        with s.directory() as directory:
            assert "ann@example.com" in directory.users()
            assert directory.groups()["eng"] == set()
        title = "  - {userName: ann@example.com, title: Engineer, groups: [eng]}\n"
        path = str(files(tmp_path, title, "  - displayName: eng\n"))
        assert s.run("apply", path, "--auto-approve").exit_code == 0
        assert "(this directory)" in s.links("ann@example.com").stdout
