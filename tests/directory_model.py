"""An in-memory SCIM directory for planner tests: raw resources in, snapshots out.

``DirectoryModel`` holds SCIM user and group resources as plain dicts, the way a
server would return them, and reads them back as the snapshot reader does, page by
page into compact objects (``live_compact``), or into the plain ones of
``reconciler.live``. ``ModelWriter``
implements the executor's ``Writer`` protocol against it, understanding the PATCH
operations the executor sends (RFC 7644 section 3.5.2), so a test can apply a plan
with the real ``Executor`` and plan again.

Like a strict server (scim2-server), userName is unique in any letter case (RFC 7643
section 4.1.1) and Unicode form (``fold_identity``): a create that clashes answers as
a 409 would, and the executor adopts the existing user. Group displayNames are not
unique (RFC 7643 section 4.2 says nothing). Ids come from a counter, so every run of
a test sees the same ids.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.attributes import ENTERPRISE_URN, GROUP_SCHEMA, USER_SCHEMA
from reconciler.dialect import dialect_named
from reconciler.errors import NotFoundError
from reconciler.executor import Executor, WriteRequest, WriteResult
from reconciler.identifiers import fold_identity
from reconciler.live import LiveGroup, LiveSnapshot, LiveUser
from reconciler.live_compact import FULL, Layout, groups_of_page, users_of_page
from reconciler.plan import Plan
from reconciler.report import ApplyReport, Outcome

_MEMBER_FILTER = re.compile(r'^members\[value eq "(?P<id>[^"]*)"\]$')
_KINDS = ("Users", "Groups")


class DirectoryModel:
    """Users and groups as raw SCIM resources, keyed by id."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self._counter = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DirectoryModel(users={self.users!r}, groups={self.groups!r})"

    def _new_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}-{self._counter:04d}"

    def add_user(self, userName: str, **attributes: Any) -> str:
        """Store a user resource as given (extra attributes included); return its id."""
        with self._lock:
            user_id = self._new_id("u")
            self.users[user_id] = {
                "schemas": [USER_SCHEMA],
                "id": user_id,
                "userName": userName,
                **copy.deepcopy(attributes),
            }
            return user_id

    def add_group(self, displayName: str, member_ids: Iterable[str] = ()) -> str:
        """Store a group resource with these member ids; return its id."""
        with self._lock:
            group_id = self._new_id("g")
            self.groups[group_id] = {
                "schemas": [GROUP_SCHEMA],
                "id": group_id,
                "displayName": displayName,
                "members": [{"value": m} for m in member_ids],
            }
            return group_id

    def user_id(self, userName: str) -> str:
        """The id of the user with this userName (folded)."""
        found = self._find_user(userName)
        if found is None:
            raise KeyError(userName)
        return found

    def group_ids(self, displayName: str) -> list[str]:
        """The ids of every group with this displayName (folded)."""
        wanted = fold_identity(displayName)
        return sorted(
            gid for gid, g in self.groups.items() if fold_identity(g["displayName"]) == wanted
        )

    def member_ids(self, group_id: str) -> frozenset[str]:
        return frozenset(m["value"] for m in self.groups[group_id].get("members", []))

    def snapshot(self, keep: frozenset[str] | None = None, *, plain: bool = False) -> LiveSnapshot:
        """What a complete read of the directory would give, in id order: compact, as a
        read makes it, users keeping the paths in ``keep`` (all when None), or plain."""
        users = [self.users[i] for i in sorted(self.users)]
        groups = [self.groups[i] for i in sorted(self.groups)]
        if plain:
            return LiveSnapshot(
                users=tuple(map(LiveUser.from_scim, users)),
                groups=tuple(map(LiveGroup.from_scim, groups)),
            )
        made = users_of_page(users, FULL if keep is None else Layout.of(keep))
        ids = {user.id: user.id for user in made}
        return LiveSnapshot(users=tuple(made), groups=tuple(groups_of_page(groups, ids)))

    def _find_user(self, userName: str) -> str | None:
        for user_id, user in self.users.items():
            if fold_identity(user["userName"]) == fold_identity(userName):
                return user_id
        return None

    def _store(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.users if kind == "Users" else self.groups


class ModelWriter:
    """The executor's ``Writer`` against a ``DirectoryModel``; records every request."""

    def __init__(self, model: DirectoryModel) -> None:
        self.model = model
        self.requests: list[tuple[str, str, dict[str, Any] | None]] = []

    def write(self, request: WriteRequest) -> WriteResult:
        with self.model._lock:
            self.requests.append((request.method, request.path, copy.deepcopy(request.body)))
            try:
                if request.method == "POST":
                    assert request.body is not None
                    return self._create(request.resource_type, request.body)
                assert request.resource_id is not None
                if request.method == "PATCH":
                    assert request.body is not None
                    # 200 with the whole resource, as RFC 7644 section 3.5.2 allows and the
                    # sandbox, scim2-server and Atlassian answer: the executor reads it.
                    patched = self._patch(request.resource_type, request.resource_id, request.body)
                    return WriteResult(200, request.resource_id, resource=patched)
                self._delete(request.resource_type, request.resource_id)
            except NotFoundError as error:
                return WriteResult(404, None, error=error)
        return WriteResult(200, request.resource_id)

    def _create(self, resource_type: str, body: dict[str, Any]) -> WriteResult:
        model = self.model
        if resource_type == "Users":
            existing = model._find_user(body["userName"])
            if existing is not None:
                return WriteResult(409, existing, adopted=True)  # taken over as ScimWriter does
        resource = copy.deepcopy(body)
        resource["id"] = model._new_id("u" if resource_type == "Users" else "g")
        model._store(resource_type)[resource["id"]] = resource
        return WriteResult(201, resource["id"])

    def _patch(self, resource_type: str, resource_id: str, body: dict[str, Any]) -> dict[str, Any]:
        resource = self._get(resource_type, resource_id)
        for operation in body["Operations"]:
            if resource_type == "Users":
                _patch_user(resource, operation)
            else:
                _patch_group(resource, operation)
        return copy.deepcopy(resource)

    def _delete(self, resource_type: str, resource_id: str) -> None:
        self._get(resource_type, resource_id)
        del self.model._store(resource_type)[resource_id]
        if resource_type == "Users":
            for group in self.model.groups.values():
                group["members"] = [
                    m for m in group.get("members", []) if m["value"] != resource_id
                ]

    def _get(self, resource_type: str, resource_id: str) -> dict[str, Any]:
        assert resource_type in _KINDS, resource_type
        resource = self.model._store(resource_type).get(resource_id)
        if resource is None:
            raise NotFoundError(f"{resource_type}/{resource_id} not found", status=404)
        return resource


def _patch_user(resource: dict[str, Any], operation: Mapping[str, Any]) -> None:
    op, path = operation["op"].lower(), operation["path"]
    assert op in ("replace", "remove", "add"), operation
    if path.startswith(f"{ENTERPRISE_URN}:"):
        container = resource.setdefault(ENTERPRISE_URN, {})
        attribute = path.removeprefix(f"{ENTERPRISE_URN}:")
        if ENTERPRISE_URN not in resource["schemas"]:
            resource["schemas"].append(ENTERPRISE_URN)
    elif path.startswith("name."):
        container = resource.setdefault("name", {})
        attribute = path.removeprefix("name.")
    else:
        assert "." not in path, path
        assert "[" not in path, path
        container, attribute = resource, path
    if op == "remove":
        container.pop(attribute, None)
    else:
        container[attribute] = copy.deepcopy(operation["value"])


def _patch_group(resource: dict[str, Any], operation: Mapping[str, Any]) -> None:
    op, path = operation["op"].lower(), operation["path"]
    members: list[dict[str, Any]] = resource.setdefault("members", [])
    if path == "displayName" and op == "replace":
        resource["displayName"] = operation["value"]
    elif path == "members" and op == "add":
        have = {m["value"] for m in members}
        for item in operation["value"]:
            if item["value"] not in have:
                members.append({"value": item["value"]})
                have.add(item["value"])
    elif path == "members" and op == "remove":
        members.clear()
    elif op == "remove" and (match := _MEMBER_FILTER.match(path)):
        resource["members"] = [m for m in members if m["value"] != match["id"]]
    else:
        raise AssertionError(f"unexpected group operation {operation}")


def apply_plan(model: DirectoryModel, plan: Plan) -> ApplyReport:
    """Apply a plan to the model with the real executor, in the dialect it was made for;
    every action must succeed."""
    executor = Executor(ModelWriter(model), dialect=dialect_named(plan.dialect), concurrency=1)
    report = executor.execute(plan)
    failed = [r for r in report.results if r.outcome is not Outcome.APPLIED]
    assert not failed, failed
    return report
