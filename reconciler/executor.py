"""The executor: the only writer. Applies a plan in order and reports every action.

Phases run in the order of ``reconciler.plan.PHASES``; inside a phase, actions run
on a bounded thread pool. A failed action does not stop the run; an action that
depends on it (a group that would gain a user whose create failed) is skipped and
reported, never sent. A dry run is structural: the same executor, a writer that
records instead of sending.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from reconciler.attributes import (
    GROUP_SCHEMA,
    member_add_operation,
    member_remove_operation,
    patch_body,
    user_create_body,
    user_patch_operations,
)
from reconciler.dialect import dialect_named
from reconciler.errors import (
    ApplyInterruptedError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    ProtocolError,
    ReconcilerError,
)
from reconciler.plan import Action, ActionKind, Plan, Resource
from reconciler.report import ActionResult, ApplyReport, Outcome
from reconciler.scim.client import ScimClient

log = structlog.get_logger("reconciler.apply")

NOT_SENT = "not sent: the apply was interrupted"


class Writer(Protocol):
    """What the executor needs from a directory: four kinds of write."""

    def create(
        self, resource_type: str, body: dict[str, Any], key: str, attempts: list[int]
    ) -> tuple[str, bool]:
        """Create; return (id, adopted) where adopted means it already existed."""

    def patch(
        self,
        resource_type: str,
        resource_id: str,
        body: dict[str, Any],
        attempts: list[int],
        if_match: str | None = None,
    ) -> None:
        """Change; with ``if_match``, only if the object still has that ETag."""

    def delete(
        self,
        resource_type: str,
        resource_id: str,
        attempts: list[int],
        if_match: str | None = None,
    ) -> None: ...


_KEY_ATTRIBUTE = {"Users": "userName", "Groups": "displayName"}


def _id_of(resource: dict[str, Any], what: str) -> str:
    rid = resource.get("id")
    if not isinstance(rid, str) or not rid:
        raise ProtocolError(f"{what} came back without an id")
    return rid


class ScimWriter:
    """Writes through a ``ScimClient``; a 409 on create adopts the existing object."""

    def __init__(self, client: ScimClient) -> None:
        self.client = client

    def _find(self, resource_type: str, name: str) -> dict[str, Any] | None:
        attribute = _KEY_ATTRIBUTE[resource_type]
        for resource in self.client.find(resource_type, attribute, name):
            value = resource.get(attribute)
            if isinstance(value, str) and value.lower() == name.lower():
                return resource
        return None

    def create(
        self, resource_type: str, body: dict[str, Any], key: str, attempts: list[int]
    ) -> tuple[str, bool]:
        # Look up by the name the directory keeps unique (userName, displayName),
        # which is in the body whatever the plan's key is (externalId, say).
        name = str(body.get(_KEY_ATTRIBUTE[resource_type]) or key)
        try:
            created = self.client.create(
                resource_type,
                body,
                find_existing=lambda: self._find(resource_type, name),
                attempts=attempts,
            )
        except ConflictError as conflict:
            existing = self._find(resource_type, name)
            if existing is None:
                raise
            wanted = body.get("externalId")
            if wanted is not None and existing.get("externalId") != wanted:
                # Not what an earlier attempt of ours would have created: someone else's
                # account took the name since the plan was made. Taking it over is an
                # adoption, which a person approves in a plan (docs/identity.md).
                raise ConflictError(
                    f"{name} now belongs to an account with externalId "
                    f"{existing.get('externalId') or '(none)'}, not {wanted}; it was not "
                    "taken over. Plan again to see it.",
                    status=conflict.status,
                ) from conflict
            return _id_of(existing, f"the existing {resource_type} {name}"), True
        return _id_of(created, f"the created {resource_type} {name}"), False

    def patch(
        self,
        resource_type: str,
        resource_id: str,
        body: dict[str, Any],
        attempts: list[int],
        if_match: str | None = None,
    ) -> None:
        self.client.patch(resource_type, resource_id, body, attempts=attempts, if_match=if_match)

    def delete(
        self,
        resource_type: str,
        resource_id: str,
        attempts: list[int],
        if_match: str | None = None,
    ) -> None:
        self.client.delete(resource_type, resource_id, attempts=attempts, if_match=if_match)


@dataclass(frozen=True, slots=True)
class Request:
    """A write a dry run would have sent."""

    method: str
    path: str
    body: dict[str, Any] | None
    if_match: str | None = None


@dataclass
class RecordingWriter:
    """Records every write and sends nothing: the dry run."""

    requests: list[Request] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def create(
        self, resource_type: str, body: dict[str, Any], key: str, attempts: list[int]
    ) -> tuple[str, bool]:
        attempts.append(1)
        with self._lock:
            self.requests.append(Request("POST", f"/{resource_type}", body))
        return f"(new {key})", False

    def patch(
        self,
        resource_type: str,
        resource_id: str,
        body: dict[str, Any],
        attempts: list[int],
        if_match: str | None = None,
    ) -> None:
        attempts.append(1)
        path = f"/{resource_type}/{resource_id}"
        with self._lock:
            self.requests.append(Request("PATCH", path, body, if_match))

    def delete(
        self,
        resource_type: str,
        resource_id: str,
        attempts: list[int],
        if_match: str | None = None,
    ) -> None:
        attempts.append(1)
        path = f"/{resource_type}/{resource_id}"
        with self._lock:
            self.requests.append(Request("DELETE", path, None, if_match))


class _SkipError(Exception):
    """An action cannot run because something it needs did not happen."""


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Executor:
    """Applies plans through a ``Writer``."""

    def __init__(
        self,
        writer: Writer,
        *,
        concurrency: int = 4,
        member_chunk: int | None = None,
        use_etags: bool = False,
        on_result: Callable[[ActionResult], None] | None = None,
    ) -> None:
        self.writer = writer
        # Servers with ETags (generic dialect, /ServiceProviderConfig etag.supported)
        # get If-Match on the first write of each action: a concurrent change by
        # someone else fails the action with 412 rather than being overwritten.
        self.use_etags = use_etags
        self.concurrency = max(1, concurrency)
        # Member references per PATCH. Atlassian documents no cap, so by default a
        # group's member changes go in one PATCH, halved only when the server answers
        # 413 (the only way a server "demands" chunking that we can see).
        self.member_chunk = None if member_chunk is None else max(1, member_chunk)
        self.on_result = on_result
        self._ids: dict[str, str] = {}
        self._failed: set[str] = set()
        self._dry_run = False
        self._top_level: frozenset[str] = frozenset()
        self._names_immutable = False
        self._lock = threading.Lock()

    def execute(self, plan: Plan, *, dry_run: bool = False) -> ApplyReport:
        self._dry_run = dry_run
        self._top_level = dialect_named(plan.dialect).top_level_enterprise
        self._names_immutable = dialect_named(plan.dialect).names_immutable
        self._ids = dict(plan.user_ids)
        self._failed = set()
        # Filled by each action as it ends (not as the pool hands results back in
        # order), so an interrupt knows exactly which actions ended.
        self._ended: dict[int, ActionResult] = {}
        by_phase: dict[int, list[tuple[int, Action]]] = {}
        for index, action in enumerate(plan.actions):
            by_phase.setdefault(action.phase, []).append((index, action))
        pool = ThreadPoolExecutor(max_workers=self.concurrency)
        try:
            for phase in sorted(by_phase):
                list(pool.map(lambda item: self._run(*item), by_phase[phase]))
        except KeyboardInterrupt as stop:
            # Ctrl-C or SIGTERM: the actions in flight finish (no request is cut in
            # half), the queued ones are never sent.
            pool.shutdown(wait=True, cancel_futures=True)
            raise self._interrupted(plan, dry_run, getattr(stop, "signum", 2)) from None
        pool.shutdown()
        return self._report(plan, dry_run)

    def _report(self, plan: Plan, dry_run: bool) -> ApplyReport:
        results = tuple(
            self._ended.get(i) or ActionResult(action=a, outcome=Outcome.SKIPPED, reason=NOT_SENT)
            for i, a in enumerate(plan.actions)
        )
        return ApplyReport(target=plan.target, digest=plan.digest, dry_run=dry_run, results=results)

    def _interrupted(self, plan: Plan, dry_run: bool, signum: int) -> ApplyInterruptedError:
        report = self._report(plan, dry_run)
        name = "SIGTERM" if signum == 15 else "Ctrl-C" if signum == 2 else f"signal {signum}"
        applied, failed = report.count(Outcome.APPLIED), report.count(Outcome.FAILED)
        not_sent = sum(1 for r in report.results if r.reason == NOT_SENT)
        return ApplyInterruptedError(
            f"interrupted by {name}: of {len(plan.actions)} actions, {applied} were applied "
            f"and {failed} failed (the ones in flight were let finish); {not_sent} were not "
            "sent. Plan again to see what is left; a rerun converges.",
            signum=signum,
            report=report,
        )

    def _run(self, index: int, action: Action) -> ActionResult:
        attempts: list[int] = []
        started = time.monotonic()
        new_id: str | None = None
        try:
            new_id = self._apply(action, attempts)
            outcome, reason = Outcome.APPLIED, None
        except _SkipError as skip:
            outcome, reason = Outcome.SKIPPED, str(skip)
        except ReconcilerError as error:
            outcome, reason = Outcome.FAILED, str(error)
            if isinstance(error, ConflictError) and self._names_immutable:
                reason += atlassian_conflict_hint(action)
        if (
            outcome is not Outcome.APPLIED
            and action.resource is Resource.USER
            and action.action in (ActionKind.CREATE, ActionKind.ADOPT)
        ):
            # Nobody joins a group through an account that was not created or taken
            # over as planned: an adoption that failed leaves the account someone else's.
            with self._lock:
                self._failed.add(action.key)
        result = ActionResult(
            action=action,
            outcome=outcome,
            reason=reason,
            id=new_id,
            attempts=max(attempts, default=0),
            duration_ms=(time.monotonic() - started) * 1000,
        )
        log.info(
            "action",
            resource=action.resource.value,
            key=action.key,
            action=action.action.value,
            outcome="would_apply"
            if self._dry_run and outcome is Outcome.APPLIED
            else outcome.value,
            attempt=max(attempts, default=0),
            requests=len(attempts),
            duration_ms=round(result.duration_ms, 1),
            reason=reason,
            dry_run=self._dry_run,
        )
        with self._lock:
            self._ended[index] = result
        if self.on_result is not None:
            self.on_result(result)
        return result

    def _apply(self, action: Action, attempts: list[int]) -> str | None:
        if action.resource is Resource.USER:
            return self._apply_user(action, attempts)
        return self._apply_group(action, attempts)

    def _apply_user(self, action: Action, attempts: list[int]) -> str | None:
        values = [(c.path, c.after) for c in action.attribute_changes]
        if action.action is ActionKind.CREATE:
            user_id, adopted = self.writer.create(
                "Users",
                user_create_body(dict(values), top_level=self._top_level),
                action.key,
                attempts,
            )
            if adopted:
                # 409: the user exists (made by an earlier, interrupted run). Adopt it
                # and set what the files say, rather than failing or duplicating.
                updates = [
                    (p, v)
                    for p, v in values
                    if p not in ("userName", "active") and not _default_emails(p, v, values)
                ]
                # The adopted account may be deactivated; the files decide.
                updates.append(("active", dict(values).get("active", True)))
                self.writer.patch(
                    "Users",
                    user_id,
                    patch_body(user_patch_operations(updates, top_level=self._top_level)),
                    attempts,
                )
            with self._lock:
                self._ids[action.key] = user_id
            return user_id
        assert action.id is not None, "only creates have no id"
        try:
            self.writer.patch(
                "Users",
                action.id,
                patch_body(user_patch_operations(values, top_level=self._top_level)),
                attempts,
                self._if_match(action),
            )
        except NotFoundError:
            if action.action is not ActionKind.DEACTIVATE:
                raise
            # A user that is gone cannot sign in: the deactivation holds.
        return None

    def _member_ids(self, keys: tuple[str, ...]) -> list[str]:
        with self._lock:
            failed = sorted(k for k in keys if k in self._failed)
            if failed:
                raise _SkipError(f"user create failed or was skipped for {', '.join(failed[:5])}")
            missing = sorted(k for k in keys if k not in self._ids)
            if missing:
                raise _SkipError(f"no live id for member {', '.join(missing[:5])}")
            return [self._ids[k] for k in keys]

    def _apply_group(self, action: Action, attempts: list[int]) -> str | None:
        members = action.member_change
        add = self._member_ids(members.add) if members else []
        remove = self._member_ids(members.remove) if members else []
        if action.action is ActionKind.DELETE:
            assert action.id is not None
            self.writer.delete("Groups", action.id, attempts, self._if_match(action))
            return None
        if action.action is ActionKind.RENAME:
            return self._rename_group(action, add, attempts)
        operations: list[dict[str, Any]] = [
            {"op": "replace", "path": "displayName", "value": c.after}
            for c in action.attribute_changes
            if c.path == "displayName"
        ]
        group_id = action.id
        if action.action is ActionKind.CREATE:
            group_id, add = self._create_group(action.key, add, attempts)
            operations = []
        assert group_id is not None
        if add:
            operations.append(member_add_operation(add))
        operations += [member_remove_operation(i) for i in remove]
        if_match = self._if_match(action)
        for part in _parts(operations, self.member_chunk):
            self._patch_group(group_id, part, attempts, if_match)
            if_match = None  # the first write changed the version; the plan's is spent
        return group_id if action.action is ActionKind.CREATE else None

    def _rename_group(self, action: Action, add: list[str], attempts: list[int]) -> str:
        """A rename where names are immutable: the new group with its members, then the old
        one deleted. Stopped between the two, the next plan sees both groups and finishes
        the rename by deleting the old one (reconciler.planner.groups)."""
        assert action.id is not None
        group_id, left = self._create_group(action.key, add, attempts)
        if left:
            for part in _parts([member_add_operation(left)], self.member_chunk):
                self._patch_group(group_id, part, attempts)
        with contextlib.suppress(NotFoundError):  # the old group is gone already: it holds
            self.writer.delete("Groups", action.id, attempts, self._if_match(action))
        return group_id

    def _create_group(
        self, name: str, add: list[str], attempts: list[int]
    ) -> tuple[str, list[str]]:
        """Create a group with its members in the POST; return its id and who is left to add."""
        body: dict[str, Any] = {"schemas": [GROUP_SCHEMA], "displayName": name}
        if add and (self.member_chunk is None or len(add) <= self.member_chunk):
            body["members"] = [{"value": i} for i in add]
        try:
            group_id, adopted = self.writer.create("Groups", body, name, attempts)
        except PayloadTooLargeError:
            if "members" not in body:
                raise
            del body["members"]
            group_id, adopted = self.writer.create("Groups", body, name, attempts)
            return group_id, add
        # An adopted group (409) already existed: its members are still to be added.
        return group_id, add if adopted or "members" not in body else []

    def _patch_group(
        self,
        group_id: str,
        operations: list[dict[str, Any]],
        attempts: list[int],
        if_match: str | None = None,
    ) -> None:
        """One PATCH; halved and sent again only when the server says it is too large."""
        try:
            self.writer.patch("Groups", group_id, patch_body(operations), attempts, if_match)
        except PayloadTooLargeError:
            halves = _halve(operations)
            if halves is None:
                raise
            for half in halves:
                self._patch_group(group_id, half, attempts, if_match)
                if_match = None

    def _if_match(self, action: Action) -> str | None:
        return action.version if self.use_etags else None


def atlassian_conflict_hint(action: Action) -> str:
    """What a 409 on Atlassian most likely means, and where to look (docs/atlassian.md)."""
    if action.resource is Resource.GROUP and action.action in (
        ActionKind.CREATE,
        ActionKind.RENAME,
    ):
        return (
            f"; group names are unique across the Atlassian organisation: another "
            f"directory, a site or a product's default group may already be named "
            f"{action.key}"
        )
    emails = next((c.after for c in action.attribute_changes if c.path == "emails"), None)
    email = next((e.get("value") for e in emails or () if e.get("primary")), None)
    if action.resource is Resource.USER and email:
        return (
            f"; the email {email} likely belongs to an Atlassian account linked to a SCIM "
            f"user of another directory: see `reconciler links {email}`, and detach a stale "
            "link with `reconciler links unlink`"
        )
    return ""


def _default_emails(path: str, value: Any, values: list[tuple[str, Any]]) -> bool:
    """Whether this is the email a create defaults to (the files did not name any).

    Set on a new account, it is harmless; pushed onto an adopted existing account it
    could replace real addresses (on Atlassian, unlink the account). The next plan
    shows any difference, with its warning, for a person to approve.
    """
    user_name = dict(values).get("userName")
    return path == "emails" and value == [{"value": user_name, "type": "work", "primary": True}]


def _weight(operation: dict[str, Any]) -> int:
    """How many member references an operation carries."""
    value = operation.get("value")
    return len(value) if operation.get("path") == "members" and isinstance(value, list) else 1


def _parts(operations: list[dict[str, Any]], cap: int | None) -> list[list[dict[str, Any]]]:
    """All operations in one PATCH, or split to at most ``cap`` member references each."""
    if cap is None or sum(_weight(op) for op in operations) <= cap:
        return [operations] if operations else []
    flat: list[dict[str, Any]] = []
    for op in operations:
        if _weight(op) > cap and op.get("op") == "add":
            flat += [
                member_add_operation([m["value"] for m in chunk])
                for chunk in _chunks(op["value"], cap)
            ]
        else:
            flat.append(op)
    parts: list[list[dict[str, Any]]] = []
    weight = 0
    for op in flat:
        if parts and weight + _weight(op) <= cap:
            parts[-1].append(op)
            weight += _weight(op)
        else:
            parts.append([op])
            weight = _weight(op)
    return parts


def _halve(operations: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], ...] | None:
    """Split a PATCH the server found too large in two, or None when it cannot be split."""
    if len(operations) > 1:
        middle = len(operations) // 2
        return operations[:middle], operations[middle:]
    (op,) = operations
    if _weight(op) > 1 and op.get("op") == "add":
        ids = [m["value"] for m in op["value"]]
        middle = len(ids) // 2
        return [member_add_operation(ids[:middle])], [member_add_operation(ids[middle:])]
    return None
