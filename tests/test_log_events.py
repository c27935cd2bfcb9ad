"""The canonical log events: one per unit of work, with the fields scripts rely on.

``action``, one per action of an apply (``reconciler.executor``), and ``read``, the
summary of a complete directory read (``reconciler.snapshot``), checked with
``structlog.testing.capture_logs`` as the events leave the code, before any
rendering.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

from reconciler.dialect import GENERIC
from reconciler.errors import ServerError
from reconciler.executor import Executor, RecordingWriter, WriteRequest, WriteResult
from reconciler.plan import Action, ActionKind, Change, MemberChange, Plan, Resource
from reconciler.sandbox import SandboxStore, sandbox_base_url, sandbox_transport
from reconciler.scim.client import ScimClient
from reconciler.snapshot import read_snapshot

ACTION_FIELDS = {
    "event",
    "log_level",
    "resource",
    "key",
    "action",
    "outcome",
    "attempt",
    "requests",
    "duration_ms",
    "reason",
    "adopted",
    "dry_run",
}


class ScriptedWriter(RecordingWriter):
    """Records like the dry run; a POST for a key in ``busy`` fails after three attempts,
    one in ``retried`` succeeds on its second."""

    def __init__(
        self, busy: frozenset[str] = frozenset(), retried: frozenset[str] = frozenset()
    ) -> None:
        super().__init__()
        self.busy, self.retried = busy, retried

    def write(self, request: WriteRequest) -> WriteResult:
        result = super().write(request)
        if request.method == "POST" and request.key in self.busy:
            error = ServerError("POST /Users: HTTP 503", status=503)
            return WriteResult(status=503, id=None, attempts=3, error=error)
        if request.method == "POST" and request.key in self.retried:
            return WriteResult(status=201, id=f"id-{request.key}", attempts=2)
        return result


def user_create(key: str) -> Action:
    return Action(
        resource=Resource.USER,
        action=ActionKind.CREATE,
        key=key,
        changes=(Change(path="userName", after=key),),
    )


def group_joins(name: str, *keys: str) -> Action:
    return Action(
        resource=Resource.GROUP,
        action=ActionKind.UPDATE,
        key=name,
        id=f"g-{name}",
        changes=(MemberChange(add=keys),),
        fingerprint="sha256:x",
    )


def apply(
    writer: ScriptedWriter, *actions: Action, dry_run: bool = False
) -> list[MutableMapping[str, Any]]:
    """The ``action`` events of applying these actions, in the order they were emitted."""
    plan = Plan(target="https://scim.example.test/v2", dialect="generic", actions=actions)
    with capture_logs() as events:
        Executor(writer, dialect=GENERIC, concurrency=1).execute(plan, dry_run=dry_run)
    return [e for e in events if e["event"] == "action"]


def test_every_action_emits_one_event_with_the_canonical_fields() -> None:
    """Each action ends in exactly one ``action`` event at info level, with every field."""
    events = apply(ScriptedWriter(), user_create("a@x.test"), group_joins("eng", "a@x.test"))
    assert [(e["resource"], e["action"], e["key"]) for e in events] == [
        ("user", "create", "a@x.test"),
        ("group", "update", "eng"),
    ]
    for event in events:
        assert set(event) == ACTION_FIELDS
        assert (event["log_level"], event["outcome"], event["dry_run"]) == (
            "info",
            "applied",
            False,
        )
        assert (event["attempt"], event["requests"], event["reason"]) == (1, 1, None)
        assert isinstance(event["duration_ms"], float)


def test_a_failed_action_says_why_and_how_often_it_was_tried() -> None:
    """A write that failed after its retries: outcome failed, the reason, every attempt."""
    (event,) = apply(ScriptedWriter(busy=frozenset({"a@x.test"})), user_create("a@x.test"))
    assert (event["outcome"], event["attempt"], event["requests"]) == ("failed", 3, 3)
    assert "HTTP 503" in event["reason"]


def test_a_retried_write_counts_its_attempts() -> None:
    """``attempt`` is the most tries one write needed; ``requests`` every request sent."""
    (event,) = apply(ScriptedWriter(retried=frozenset({"a@x.test"})), user_create("a@x.test"))
    assert (event["outcome"], event["attempt"], event["requests"]) == ("applied", 2, 2)


def test_an_action_skipped_for_a_failed_dependency_is_an_event_too() -> None:
    """A group change that waits on a failed create is logged as skipped, with the reason."""
    writer = ScriptedWriter(busy=frozenset({"a@x.test"}))
    events = apply(writer, user_create("a@x.test"), group_joins("eng", "a@x.test"))
    outcomes = {e["key"]: (e["outcome"], e["requests"]) for e in events}
    assert outcomes == {"a@x.test": ("failed", 3), "eng": ("skipped", 0)}
    assert "a@x.test" in next(e["reason"] for e in events if e["key"] == "eng")


def test_a_dry_run_event_would_apply_and_says_it_is_a_dry_run() -> None:
    """In a dry run the event never claims that anything was applied."""
    (event,) = apply(ScriptedWriter(), user_create("a@x.test"), dry_run=True)
    assert (event["outcome"], event["dry_run"]) == ("would_apply", True)


def test_a_complete_read_emits_one_summary_event(tmp_path: Path) -> None:
    """``read`` counts what was read, the groups read alone, the page size and the time."""
    db = tmp_path / "sandbox.db"
    with SandboxStore(db) as store:
        ids = store.seed_users(3, prefix="u", domain="example.com")
        store.create_group({"displayName": "eng"}, ids[:2])
    with (
        capture_logs() as events,
        ScimClient(sandbox_base_url(), transport=sandbox_transport(db)) as client,
    ):
        read_snapshot(client, page_size=100)
    (summary,) = [e for e in events if e["event"] == "read"]
    assert summary["log_level"] == "info"
    assert {k: summary[k] for k in ("users", "groups", "groups_read_alone", "page_size")} == {
        "users": 3,
        "groups": 1,
        "groups_read_alone": 0,
        "page_size": 100,
    }
    assert isinstance(summary["duration_ms"], float)
