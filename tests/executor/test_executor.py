"""The executor: order, failures and what depends on them, member batching, dry runs."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import structlog.testing

from reconciler.dialect import ATLASSIAN, GENERIC
from reconciler.errors import ConflictError, PayloadTooLargeError, ServerError
from reconciler.executor import Executor, RecordingWriter, Writer, WriteRequest, WriteResult
from reconciler.plan import Action, ActionKind, Change, MemberChange, Plan, Resource
from reconciler.render import render_report_json, render_report_text
from reconciler.report import ApplyReport, Outcome


class FailingWriter(RecordingWriter):
    """Records like the dry run, but fails the creates of chosen keys."""

    def __init__(self, fail_keys: set[str], conflict_keys: set[str] | None = None) -> None:
        super().__init__()
        self.fail_keys = fail_keys
        self.conflict_keys = conflict_keys or set()

    def write(self, request: WriteRequest) -> WriteResult:
        if request.method == "POST" and request.key in self.fail_keys:
            return WriteResult(500, None, error=ServerError("POST /Users: HTTP 500", status=500))
        if request.method == "POST" and request.key in self.conflict_keys:
            return WriteResult(409, f"existing-{request.key}", adopted=True)
        return super().write(request)


def executor(writer: Writer, **options: Any) -> Executor:
    """An executor for the plans below, which are made for Atlassian."""
    return Executor(writer, dialect=ATLASSIAN, **options)


def all_applied(report: ApplyReport) -> bool:
    return report.count(Outcome.APPLIED) == len(report.results)


def user_create(key: str) -> Action:
    return Action(
        resource=Resource.USER,
        action=ActionKind.CREATE,
        key=key,
        changes=(Change(path="userName", after=key),),
    )


def group_update(key: str, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> Action:
    return Action(
        resource=Resource.GROUP,
        action=ActionKind.UPDATE,
        key=key,
        id=f"g-{key}",
        changes=(MemberChange(add=add, remove=remove),),
        fingerprint="sha256:x",
    )


def make_plan(*actions: Action, user_ids: dict[str, str] | None = None) -> Plan:
    ordered = sorted(actions, key=lambda a: (a.phase, a.key))
    return Plan(
        target="sandbox:t.db", dialect="atlassian", actions=tuple(ordered), user_ids=user_ids or {}
    )


def test_failure_skips_only_what_depends_on_it() -> None:
    """A failed user create skips the group that would gain that user; the rest is applied."""
    plan = make_plan(
        user_create("a@x.com"),
        user_create("b@x.com"),
        group_update("eng", add=("a@x.com",)),
        group_update("ops", add=("b@x.com",)),
    )
    writer = FailingWriter(fail_keys={"a@x.com"})
    report = executor(writer, concurrency=2).execute(plan)
    outcomes = {r.action.key: r.outcome for r in report.results}
    assert outcomes == {
        "a@x.com": Outcome.FAILED,
        "b@x.com": Outcome.APPLIED,
        "eng": Outcome.SKIPPED,
        "ops": Outcome.APPLIED,
    }
    assert not any(r.path == "/Groups/g-eng" for r in writer.requests)


def test_member_changes_go_in_one_patch() -> None:
    """Adding and removing many members of a group is one PATCH, not one per member."""
    adds = tuple(f"u{i}" for i in range(300))
    removes = tuple(f"r{i}" for i in range(200))
    ids = {k: f"id-{k}" for k in adds + removes}
    writer = RecordingWriter()
    executor(writer).execute(make_plan(group_update("eng", add=adds, remove=removes), user_ids=ids))
    assert len(writer.requests) == 1
    body = writer.requests[0].body
    assert body is not None
    ops = body["Operations"]
    assert ops[0] == {"op": "add", "path": "members", "value": [{"value": ids[k]} for k in adds]}
    assert ops[1] == {"op": "remove", "path": 'members[value eq "id-r0"]'}
    assert len(ops) == 201


def test_member_changes_are_chunked_only_past_the_chunk_size() -> None:
    """A change larger than the per-request cap is split into as few PATCHes as it allows."""
    adds = tuple(f"u{i}" for i in range(250))
    writer = RecordingWriter()
    executor(writer, member_chunk=100).execute(
        make_plan(group_update("eng", add=adds), user_ids={k: k for k in adds})
    )
    sizes = [len(r.body["Operations"][0]["value"]) for r in writer.requests if r.body]
    assert sizes == [100, 100, 50]


def test_created_user_ids_feed_group_membership() -> None:
    """A group gains a user created earlier in the same apply, by the id the create returned."""
    writer = RecordingWriter()
    executor(writer).execute(
        make_plan(user_create("new@x.com"), group_update("eng", add=("new@x.com",)))
    )
    patch = writer.requests[-1]
    assert patch.body is not None
    assert patch.body["Operations"][0]["value"] == [{"value": "(new new@x.com)"}]


def test_conflict_on_create_adopts_and_sets_attributes() -> None:
    """A create answered 409 adopts the existing user and PATCHes the file's attributes onto it."""
    writer = FailingWriter(fail_keys=set(), conflict_keys={"a@x.com"})
    action = Action(
        resource=Resource.USER,
        action=ActionKind.CREATE,
        key="a@x.com",
        changes=(Change(path="userName", after="a@x.com"), Change(path="title", after="Engineer")),
    )
    report = executor(writer).execute(make_plan(action))
    assert report.results[0].outcome is Outcome.APPLIED
    assert report.results[0].id == "existing-a@x.com"
    assert writer.requests[-1].path == "/Users/existing-a@x.com"
    assert writer.requests[-1].body is not None
    assert writer.requests[-1].body["Operations"] == [
        {"op": "replace", "path": "title", "value": "Engineer"},
        {"op": "replace", "path": "active", "value": True},
    ]


def test_phases_run_in_design_order() -> None:
    """Creates, then updates, group creates, group updates, deactivations, deletions."""
    plan = make_plan(
        Action(
            resource=Resource.GROUP,
            action=ActionKind.DELETE,
            key="old",
            id="g-old",
            fingerprint="sha256:x",
        ),
        Action(
            resource=Resource.USER,
            action=ActionKind.DEACTIVATE,
            key="gone@x.com",
            id="u-gone",
            changes=(Change(path="active", before=True, after=False),),
            fingerprint="sha256:x",
        ),
        user_create("a@x.com"),
        group_update("eng", add=("a@x.com",)),
    )
    writer = RecordingWriter()
    executor(writer, concurrency=4).execute(plan)
    assert [(r.method, r.path) for r in writer.requests] == [
        ("POST", "/Users"),
        ("PATCH", "/Groups/g-eng"),
        ("PATCH", "/Users/u-gone"),
        ("DELETE", "/Groups/g-old"),
    ]


def test_dry_run_report_says_so() -> None:
    """A dry run reports every action as it would go, and is marked as a dry run."""
    report = executor(RecordingWriter()).execute(make_plan(user_create("a@x.com")), dry_run=True)
    assert report.dry_run
    assert report.to_dict()["summary"] == {"applied": 1, "failed": 0, "skipped": 0}


def test_dry_run_action_events_say_would_apply_not_applied() -> None:
    """The canonical action event of a dry run never claims that anything was applied."""
    with structlog.testing.capture_logs() as events:
        executor(RecordingWriter()).execute(make_plan(user_create("a@x.com")), dry_run=True)
    actions = [e for e in events if e["event"] == "action"]
    assert [(e["key"], e["outcome"], e["dry_run"]) for e in actions] == [
        ("a@x.com", "would_apply", True)
    ]


def test_conflict_error_class_is_terminal() -> None:
    """A 409 is not retried by the retry policy: it is decided by adopting, not by waiting."""
    assert ConflictError("x", status=409).retryable is False


class SmallBodyWriter(RecordingWriter):
    """A server that answers 413 to any request carrying more than 100 member references."""

    def _too_large(self, body: dict[str, Any]) -> bool:
        refs = len(body.get("members", []))
        for op in body.get("Operations", []):
            refs += len(op["value"]) if isinstance(op.get("value"), list) else 1
        return refs > 100

    def write(self, request: WriteRequest) -> WriteResult:
        if request.body is not None and self._too_large(request.body):
            too_large = PayloadTooLargeError(
                f"{request.method} {request.path}: HTTP 413", status=413
            )
            return WriteResult(413, None, error=too_large)
        return super().write(request)


def test_payload_too_large_halves_the_patch_until_accepted() -> None:
    """Only a 413 splits member changes; every member is sent exactly once in the end."""
    adds = tuple(f"u{i}" for i in range(300))
    removes = tuple(f"r{i}" for i in range(50))
    ids = {k: f"id-{k}" for k in adds + removes}
    writer = SmallBodyWriter()
    report = executor(writer).execute(
        make_plan(group_update("eng", add=adds, remove=removes), user_ids=ids)
    )
    assert all_applied(report)
    sent_adds = [
        m["value"]
        for r in writer.requests
        for op in (r.body or {}).get("Operations", [])
        if op["op"] == "add"
        for m in op["value"]
    ]
    sent_removes = [
        op["path"]
        for r in writer.requests
        for op in (r.body or {}).get("Operations", [])
        if op["op"] == "remove"
    ]
    assert sorted(sent_adds) == sorted(ids[k] for k in adds)
    assert len(sent_removes) == 50
    assert len(writer.requests) <= 16  # halving: a handful of requests, not one per member


def test_group_create_too_large_falls_back_to_create_then_patch() -> None:
    """A create whose member list is too large is made empty, then filled by PATCH."""
    adds = tuple(f"u{i}" for i in range(150))
    create = Action(
        resource=Resource.GROUP,
        action=ActionKind.CREATE,
        key="big",
        changes=(Change(path="displayName", after="big"), MemberChange(add=adds)),
    )
    writer = SmallBodyWriter()
    report = executor(writer).execute(make_plan(create, user_ids={k: k for k in adds}))
    assert all_applied(report)
    assert writer.requests[0].method == "POST"
    assert "members" not in (writer.requests[0].body or {})
    added = [
        m["value"] for r in writer.requests[1:] for m in (r.body or {})["Operations"][0]["value"]
    ]
    assert sorted(added) == sorted(adds)


def test_etags_go_as_if_match_on_the_first_write_of_an_action() -> None:
    """With ETags on, each action's first write carries the version it was planned against."""
    user = Action(
        resource=Resource.USER,
        action=ActionKind.UPDATE,
        key="a@x.com",
        id="u1",
        changes=(Change(path="title", before="A", after="B"),),
        fingerprint="sha256:x",
        version='W/"3"',
    )
    group = group_update("eng", add=("a@x.com",)).model_copy(update={"version": 'W/"7"'})
    writer = RecordingWriter()
    with_etags = replace(GENERIC, etags=True)  # as discovery completes a server announcing them
    Executor(writer, dialect=with_etags).execute(make_plan(user, group, user_ids={"a@x.com": "u1"}))
    assert {r.path: r.if_match for r in writer.requests} == {
        "/Users/u1": 'W/"3"',
        "/Groups/g-eng": 'W/"7"',
    }
    plain = RecordingWriter()
    executor(plain).execute(make_plan(user))
    assert plain.requests[0].if_match is None


def test_each_write_says_which_action_it_is_for_and_why() -> None:
    """Every WriteRequest carries its action's key and a short purpose."""
    writer = RecordingWriter()
    executor(writer).execute(
        make_plan(user_create("new@x.com"), group_update("eng", add=("new@x.com",)))
    )
    assert [(r.key, r.purpose) for r in writer.requests] == [
        ("new@x.com", "create user"),
        ("eng", "add members"),
    ]


class RetryingWriter(RecordingWriter):
    """A directory where every POST answers 409 (an earlier run made the user) and every
    PATCH succeeds on its second attempt."""

    def write(self, request: WriteRequest) -> WriteResult:
        super().write(request)
        if request.method == "POST":
            return WriteResult(409, "existing", adopted=True)
        return WriteResult(200, request.resource_id, attempts=2)


def test_an_action_reports_the_most_attempts_any_of_its_writes_needed() -> None:
    """The report shows an action's most attempts; its log event also counts every request."""
    with structlog.testing.capture_logs() as events:
        report = executor(RetryingWriter()).execute(make_plan(user_create("a@x.com")))
    assert report.results[0].attempts == 2
    (event,) = [e for e in events if e["event"] == "action"]
    assert (event["attempt"], event["requests"]) == (2, 3)


class DownWriter(RecordingWriter):
    """A directory that fails every write with 503 after five attempts."""

    def write(self, request: WriteRequest) -> WriteResult:
        down = ServerError(f"{request.method} {request.path}: HTTP 503", status=503)
        return WriteResult(503, None, attempts=5, error=down)


def test_a_failed_write_still_counts_its_attempts() -> None:
    """An action whose write failed after retries reports how many attempts it took."""
    plan = make_plan(group_update("eng", add=("a@x.com",)), user_ids={"a@x.com": "u1"})
    (result,) = executor(DownWriter()).execute(plan).results
    assert (result.outcome, result.attempts) == (Outcome.FAILED, 5)
    assert "HTTP 503" in (result.reason or "")


class TwoCopies(RecordingWriter):
    """A server that keeps department in the extension as well: every PATCH answers the
    user with the extension's copy still there until a PATCH removes it there."""

    def __init__(self) -> None:
        super().__init__()
        self.extension = {"department": "R&D"}

    def write(self, request: WriteRequest) -> WriteResult:
        super().write(request)
        for operation in (request.body or {}).get("Operations", []):
            if operation["path"].endswith(":department"):
                self.extension.pop("department", None)
        urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        return WriteResult(200, request.resource_id, resource={urn: dict(self.extension)})


def test_a_department_removal_and_its_extension_copy_go_in_separate_patches() -> None:
    """docs/atlassian.md "Users": the removal goes to the top level first; a
    copy the answer still shows in the read-only extension gets a PATCH of its own, so a
    refusal there cannot block the top-level removal."""
    action = Action(
        resource=Resource.USER,
        action=ActionKind.UPDATE,
        key="ann",
        id="u-ann",
        changes=(Change(path="enterprise.department", before="R&D", after=None),),
        fingerprint="sha256:x",
    )
    writer = TwoCopies()
    report = executor(writer).execute(Plan(target="t", dialect="atlassian", actions=(action,)))
    assert all_applied(report)
    sent = [r.body["Operations"] for r in writer.requests if r.body is not None]
    urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    assert sent == [
        [{"op": "remove", "path": "department"}],
        [{"op": "remove", "path": f"{urn}:department"}],
    ]


def test_a_group_under_a_default_access_name_is_applied_but_not_synced() -> None:
    """docs/atlassian.md "Groups": Atlassian answers success and never syncs such a group;
    the report says so beside "applied", in the text and the JSON."""
    names = ("jira-software-users-acme", "platform")
    creates = tuple(
        Action(resource=Resource.GROUP, action=ActionKind.CREATE, key=name) for name in names
    )
    report = executor(RecordingWriter()).execute(
        Plan(target="t", dialect="atlassian", actions=creates)
    )
    assert [r.not_synced for r in report.results] == [True, False]
    assert all_applied(report)
    text = render_report_text(report, color=False)
    assert (
        "+ group jira-software-users-acme: applied, not synced to products — the name is a "
        "product's default-access or built-in group name" in text
    )
    assert "+ group platform: applied\n" in text
    results = json.loads(render_report_json(report))["results"]
    assert [r.get("not_synced", False) for r in results] == [True, False]
    on_generic = Executor(RecordingWriter(), dialect=GENERIC).execute(
        Plan(target="t", dialect="generic", actions=creates)
    )
    assert not any(r.not_synced for r in on_generic.results)
