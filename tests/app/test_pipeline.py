"""Loading the files while the directory is read: the same plan, file problems first, the
read used only when it is of the target the files name (docs/design.md "Data flow")."""

from __future__ import annotations

import gc
import sys
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

import reconciler.app.pipeline as pipeline
from reconciler.app.apply import ApplyRequest, run_apply
from reconciler.app.gcpolicy import PACED_SWITCH_INTERVAL
from reconciler.app.loading import load_files
from reconciler.app.pipeline import Strategy, overlapped, read_while_loading, sequential
from reconciler.app.reader import Reader
from reconciler.app.runtime import ProgressBar, Runtime
from reconciler.app.session import Session, plan_context, plan_live, run_plan
from reconciler.desired import DesiredState, TargetSpec
from reconciler.errors import DesiredStateError, ServerError
from reconciler.plan import Plan
from reconciler.planner import PlanContext, plan
from reconciler.report import Approval, Outcome
from reconciler.sandbox import SandboxStore, sandbox_transport
from reconciler.scim.retry import RetryPolicy
from reconciler.snapshot import read_snapshot
from reconciler.target import Target

SERVED = "http://127.0.0.1:9/scim/directory/sandbox"  # answered in-process, see served()
FILES = """\
version: 1
users:
- userName: u000001@example.com
  displayName: Renamed
- userName: new@example.com
groups:
  - displayName: eng
    members: [u000001@example.com]
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


class Served(httpx.BaseTransport):
    """The sandbox behind an http:// loopback URL, remembering the requests; ``slow``
    holds each listing page that long, ``broken`` answers listings with a 503."""

    def __init__(self, db: Path, *, slow: float = 0.0, broken: bool = False) -> None:
        self.inner = sandbox_transport(db)
        self.slow = slow
        self.broken = broken
        self.requests: list[str] = []
        self.threads: set[str] = set()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.url.path.rsplit('/', 1)[-1]}?{request.url.query.decode()}")
        self.threads.add(threading.current_thread().name)
        listing = request.url.path.endswith(("/Users", "/Groups"))
        if listing and self.slow:
            time.sleep(self.slow)
        if listing and self.broken:
            return httpx.Response(503, json={"detail": "down for maintenance"})
        return self.inner.handle_request(request)


def served(tmp_path: Path, **faults: float | bool) -> tuple[Served, Runtime]:
    db = tmp_path / "s.db"
    with SandboxStore(db) as store:
        ids = store.seed_users(3, prefix="u", domain="example.com")
        store.create_group({"displayName": "eng"}, ids)
    transport = Served(db, **faults)  # type: ignore[arg-type]
    retry = RetryPolicy(attempts=2, base_delay=0.0, sleep=lambda s: None)
    return transport, Runtime(env={}, transport=lambda inner: transport, retry=retry)


def test_the_plan_is_the_one_made_after_loading(tmp_path: Path) -> None:
    """Read while loading or after, the plan is the same; the read ran on its own thread."""
    files = write(tmp_path, "users.yaml", FILES)
    transport, runtime = served(tmp_path)
    gc_before = gc.get_threshold()
    pipelined = run_plan((files,), SERVED, runtime).plan
    assert "reconciler-read" in transport.threads
    assert (gc.get_threshold(), gc.get_freeze_count()) == (gc_before, 0)
    monkeypatched = pytest.MonkeyPatch()
    monkeypatched.setattr(pipeline, "early_target_spec", lambda paths, exclude=(): None)
    with monkeypatched.context():
        transport.threads.clear()
        after = run_plan((files,), SERVED, runtime).plan
    monkeypatched.undo()
    assert "reconciler-read" not in transport.threads
    assert pipelined.to_dict() == after.to_dict()
    assert pipelined.summary == {
        "create": 1,
        "update": 2,
        "deactivate": 0,
        "reactivate": 0,
        "delete": 0,
    }


def test_the_files_load_once_the_read_has_connected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parsing a file holds the interpreter for long stretches: the read connects (its
    discovery answered) before the files start loading, so its first pages go out."""
    files = write(tmp_path, "users.yaml", FILES)
    transport, runtime = served(tmp_path)
    answered_at_load: list[list[str]] = []

    def loading(paths: tuple[Path, ...], exclude: tuple[str, ...] = ()) -> DesiredState:
        answered_at_load.append(list(transport.requests))
        return load_files(paths, exclude)

    monkeypatch.setattr(pipeline, "load_files", loading)
    monkeypatch.setattr(pipeline, "_CONNECT_FIRST", 30.0)  # however slow the machine
    run_plan((files,), SERVED, runtime)
    assert "reconciler-read" in transport.threads
    (answered,) = answered_at_load
    assert answered[:1] == ["ServiceProviderConfig?"]


@pytest.mark.parametrize("rate", [None, 50.0])
def test_a_paced_read_hands_the_interpreter_over_often_while_the_files_load(
    rate: float | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``--rate`` the files load (and the users half is made) with the switch
    interval at 0.5 ms, so the read's threads keep their slots; it is back after the
    read. Without a rate the interval is the interpreter's own throughout."""
    files = write(tmp_path, "users.yaml", FILES)
    _, runtime = served(tmp_path)
    before = sys.getswitchinterval()
    at_load: list[float] = []

    def loading(paths: tuple[Path, ...], exclude: tuple[str, ...] = ()) -> DesiredState:
        at_load.append(sys.getswitchinterval())
        return load_files(paths, exclude)

    monkeypatch.setattr(pipeline, "load_files", loading)
    with read_while_loading((files,), SERVED, runtime, rate=rate) as run:
        assert sys.getswitchinterval() == before
    assert len(run.live.users) == 3
    assert at_load == [PACED_SWITCH_INTERVAL if rate else before]


def test_a_target_paced_by_default_counts_as_paced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --rate, a target the connection paces by default (Atlassian's 10 a
    second; here the served sandbox, said to be paced) loads with the interval low."""
    files = write(tmp_path, "users.yaml", FILES)
    _, runtime = served(tmp_path)
    at_load: list[float] = []

    def loading(paths: tuple[Path, ...], exclude: tuple[str, ...] = ()) -> DesiredState:
        at_load.append(sys.getswitchinterval())
        return load_files(paths, exclude)

    monkeypatch.setattr(pipeline, "load_files", loading)
    monkeypatch.setattr(pipeline, "default_rate", lambda target: 10.0)
    with read_while_loading((files,), SERVED, runtime) as run:
        assert len(run.live.users) == 3
    assert at_load == [PACED_SWITCH_INTERVAL]


def test_file_problems_stop_the_read_and_are_what_is_reported(tmp_path: Path) -> None:
    """Bad files are the error, not a read still running or failing; the read stops at
    its next page and nothing is written."""
    files = write(tmp_path, "users.yaml", "version: 1\nusers:\n  - userName: a\n    titel: x\n")
    transport, runtime = served(tmp_path, slow=0.3)
    with pytest.raises(DesiredStateError, match="titel"):
        run_plan((files,), SERVED, runtime)
    first_page = "Users?startIndex=1&count=100&excludedAttributes=groups"
    assert transport.requests == ["ServiceProviderConfig?", first_page]


def test_file_problems_come_before_a_failing_read(tmp_path: Path) -> None:
    """A directory that cannot be read does not hide what is wrong with the files."""
    files = write(tmp_path, "users.yaml", "version: 1\nusers:\n  - userName: a\n    titel: x\n")
    _, runtime = served(tmp_path, broken=True)
    with pytest.raises(DesiredStateError, match="titel"):
        run_plan((files,), SERVED, runtime)


def test_a_failing_read_is_the_error_when_the_files_are_good(tmp_path: Path) -> None:
    """Good files, a broken directory: the read's own error ends the run."""
    files = write(tmp_path, "users.yaml", FILES)
    _, runtime = served(tmp_path, broken=True)
    with pytest.raises(ServerError, match="maintenance"):
        run_plan((files,), SERVED, runtime)


def test_a_wrong_first_look_reads_again_from_the_target_the_files_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read of any target but the one the loaded files resolve to is dropped."""
    files = write(tmp_path, "users.yaml", FILES + "target: {url: " + SERVED + "}\n")
    elsewhere = TargetSpec(url="http://127.0.0.1:9/scim/directory/elsewhere")
    monkeypatch.setattr(pipeline, "early_target_spec", lambda paths, exclude=(): elsewhere)
    _, runtime = served(tmp_path)
    with read_while_loading((files,), None, runtime) as run:
        assert run.target.url == SERVED
        assert {u.userName for u in run.live.users} == {f"u00000{i}@example.com" for i in (1, 2, 3)}
        assert all(
            set(u.attributes) == {"userName", "displayName", "emails"} for u in run.live.users
        )


def test_users_narrowed_to_what_the_files_manage_plan_as_whole_ones(tmp_path: Path) -> None:
    """Keeping only the paths the files manage changes nothing in the plan."""
    more = "- userName: u000002@example.com\n  name: null\n  emails: null\n  title: Boss\n"
    files = write(tmp_path, "users.yaml", FILES.replace("groups:", more + "groups:"))
    _, runtime = served(tmp_path)
    with read_while_loading((files,), SERVED, runtime) as run:
        client, page_size = run.connection.client, run.connection.page_size
        whole = read_snapshot(client, page_size=page_size)
        context = PlanContext(run.target.url, run.connection.dialect)
        narrowed = plan(run.desired, run.live, context)
        assert narrowed.to_dict() == plan(run.desired, whole, context).to_dict()
    assert len(narrowed.actions) == 4  # a create, two user updates, a group update
    assert all(
        len(set(u.attributes)) < len(set(w.attributes))
        for u, w in zip(run.live.users, whole.users, strict=True)
    )


class _Going:
    """Apply hooks that show nothing and never ask (``--auto-approve``)."""

    def planned(self, plan_: Plan, target: Target, approval: Approval | None) -> None:
        self.plan, self.approval = plan_, approval

    def refused(self, plan_: Plan, target: Target) -> None:
        raise AssertionError("no limit refuses this plan")

    def confirm(self, plan_: Plan, target: Target) -> None:
        raise AssertionError("--auto-approve does not ask")

    def applying(self, total: int) -> AbstractContextManager[ProgressBar]:
        return Runtime().progress("Applying", total)


def test_apply_from_files_reads_while_loading_and_applies_that_plan(tmp_path: Path) -> None:
    """``apply PATH`` plans as ``plan`` does (the read on its own thread while the files
    load) and applies exactly that plan; planned again, nothing is left to do."""
    files = write(tmp_path, "users.yaml", FILES)
    transport, runtime = served(tmp_path)
    shown = run_plan((files,), SERVED, runtime).plan  # over a limit: approved by digest
    transport.threads.clear()
    hooks = _Going()
    request = ApplyRequest(
        paths=(files,), target=SERVED, approve=shown.digest, auto_approve=True, rate=50.0
    )
    report = run_apply(request, runtime, hooks)
    assert "reconciler-read" in transport.threads
    assert report.digest == hooks.plan.digest == shown.digest
    assert {r.key for r in report.results} == {a.key for a in shown.actions}
    assert report.count(Outcome.APPLIED) == len(report.results)
    assert run_plan((files,), SERVED, runtime).plan.is_empty


def test_apply_with_file_problems_reads_no_further_and_writes_nothing(tmp_path: Path) -> None:
    files = write(tmp_path, "users.yaml", "version: 1\nusers:\n  - userName: a\n    titel: x\n")
    transport, runtime = served(tmp_path, slow=0.3)
    request = ApplyRequest(paths=(files,), target=SERVED, auto_approve=True)
    with pytest.raises(DesiredStateError, match="titel"):
        run_apply(request, runtime, _Going())
    first_page = "Users?startIndex=1&count=100&excludedAttributes=groups"
    assert transport.requests == ["ServiceProviderConfig?", first_page]


# -- the overlap against its reference ----------------------------------------------------

# Files for a directory of 250 users (three pages of users at the sandbox's 100), "eng"
# (u1-u3) and "ops" (u100-u150); each case several files in a directory.
CASES = {
    "updates": {"users.yaml": FILES},
    "manages-more": {
        "a.yaml": """\
version: 1
users:
  - userName: u000002@example.com
    name: null
    emails: null
    title: Boss
  - userName: u000150@example.com
    active: false
    groups: [ops]
""",
        "b.json": """\
{"version": 1,
 "users": [{"userName": "u000249@example.com", "displayName": "Last",
            "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}]}],
 "groups": [{"displayName": "ops"}]}
""",
    },
    "by-external-id": {
        "users.yaml": """\
version: 1
policy:
  users: {key: externalId}
users:
  - userName: renamed@example.com
    externalId: u-7
  - userName: u000200@example.com
    externalId: u-200
    name: {givenName: Two, familyName: Hundred}
""",
    },
    "over-a-limit": {
        "users.yaml": """\
version: 1
policy:
  users: {unmanaged: deactivate, scope: ["u0001*"]}
  limits: {max_deactivations: 1}
users:
  - userName: u000100@example.com
    title: Kept
""",
    },
}
# When the files are loaded, in the overlapped run: before the read has anything, once
# it has a page of users, once it has every user (all of them read keeping every path).
WHEN = ("at-once", "after-a-page", "after-the-users")


class Signalling(httpx.BaseTransport):
    """The sandbox behind ``SERVED``, saying when it answered a page of users, and when
    the groups were asked for (every user read)."""

    def __init__(self, db: Path) -> None:
        self.inner = sandbox_transport(db)
        self.answered = {WHEN[0]: threading.Event(), WHEN[1]: threading.Event()}
        self.answered[WHEN[2]] = threading.Event()
        self.answered[WHEN[0]].set()
        self.threads: set[str] = set()
        # Set: the listing's page past its last user waits until this is set.
        self.last_users_page: threading.Event | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.threads.add(threading.current_thread().name)
        past_the_users = int(request.url.params.get("startIndex", "1")) > USERS
        if request.url.path.endswith("/Users") and past_the_users and self.last_users_page:
            assert self.last_users_page.wait(30), "the files never told the read"
        response = self.inner.handle_request(request)
        if request.url.path.endswith("/Users"):
            self.answered[WHEN[1]].set()
        elif request.url.path.endswith("/Groups"):
            self.answered[WHEN[2]].set()
        return response


USERS = 250  # in larger_directory


def larger_directory(db: Path) -> None:
    with SandboxStore(db) as store:
        ids = store.seed_users(USERS, prefix="u", domain="example.com")
        store.create_group({"displayName": "eng"}, ids[:3])
        store.create_group({"displayName": "ops"}, ids[99:150])


def planned_with(
    strategy: Strategy, paths: tuple[Path, ...], runtime: Runtime
) -> tuple[Plan, list[tuple[str, dict[str, Any], str]], bool]:
    """What ``run_plan`` makes, the files loaded and the directory read by ``strategy``;
    the users read, as the plan saw them; whether the plan's users half was made while
    the groups were read (from the snapshot's very users)."""
    with read_while_loading(paths, SERVED, runtime, strategy=strategy) as run:
        session = Session(run.target, run.connection)
        users = [(u.id, dict(u.attributes), u.fingerprint) for u in run.live.users]
        first = run.users_first
        context = plan_context(session, run.desired)
        assert first is None or first.made_from(run.desired, run.live.users, context)
        planned = plan_live(session, run.desired, run.live, runtime, first)
        return planned, users, first is not None


@pytest.mark.parametrize("when", WHEN)
@pytest.mark.parametrize("case", list(CASES))
def test_the_overlapped_read_plans_as_the_sequential_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, when: str
) -> None:
    """Whenever the files finish loading during the read, the overlapped strategy gives
    the plan (digest included) and the users of the reference: files, then read."""
    directory = tmp_path / "files"
    for name, text in CASES[case].items():
        directory.mkdir(exist_ok=True)
        write(directory, name, text)
    larger_directory(tmp_path / "s.db")
    transport = Signalling(tmp_path / "s.db")
    runtime = Runtime(env={}, transport=lambda inner: transport)
    reference, reference_users, reference_first = planned_with(sequential, (directory,), runtime)
    assert not reference_first
    transport.answered[WHEN[1]].clear()  # what the reference's read set: the overlapped
    transport.answered[WHEN[2]].clear()  # run waits for its own read to get there
    assert "reconciler-read" not in transport.threads

    def load_later(paths: tuple[Path, ...], exclude: tuple[str, ...] = ()) -> DesiredState:
        assert transport.answered[when].wait(30), "the read never got there"
        return load_files(paths, exclude)

    monkeypatch.setattr(pipeline, "load_files", load_later)
    if when != "after-the-users":  # the files tell the read what users keep before its end
        told = transport.last_users_page = threading.Event()
        users_first = Reader.users_first

        def telling(reader: Reader, keep: frozenset[str]) -> Any:
            try:
                return users_first(reader, keep)
            finally:
                told.set()

        monkeypatch.setattr(Reader, "users_first", telling)
    plan_, users, made_first = planned_with(overlapped, (directory,), runtime)
    assert "reconciler-read" in transport.threads
    # Files loaded before the last user is read: the users half is made meanwhile.
    assert made_first == (when != "after-the-users")
    assert plan_.to_dict() == reference.to_dict()
    assert plan_.digest == reference.digest
    assert users == reference_users
    assert reference.actions or reference.warnings
