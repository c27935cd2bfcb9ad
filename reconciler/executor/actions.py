"""How each plan action becomes writes, in order.

A user is created, or changed by one PATCH; a create answered 409 that took over the
existing account (``ScimWriter``) then sets the files' attributes on it. A group is
created with its first members, changed by as few PATCHes as the server takes
(``batching``), or deleted. Where group names are immutable, a rename is a new group
with the members, then the old one deleted.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from reconciler.attributes import (
    extension_removals,
    group_create_body,
    group_patch_operations,
    member_add_operation,
    patch_body,
    user_create_body,
    user_patch_operations,
)
from reconciler.dialect import Dialect
from reconciler.errors import NotFoundError, PayloadTooLargeError
from reconciler.executor.batching import fits, send_patch
from reconciler.executor.writers import Writer
from reconciler.plan import Action, ActionKind, Resource
from reconciler.scim.writes import WriteRequest, WriteResult


class SkipError(Exception):
    """An action cannot run because something it needs did not happen."""


class UserIds:
    """The live id of each user key: the plan's, and those created or taken over since.

    Shared by the actions of one run. A user whose create or adoption did not happen
    is remembered as failed: no group gains a member through it.
    """

    def __init__(self, ids: Mapping[str, str]) -> None:
        self._ids = dict(ids)
        self._failed: set[str] = set()
        self._lock = threading.Lock()

    def record(self, key: str, user_id: str) -> None:
        with self._lock:
            self._ids[key] = user_id

    def fail(self, key: str) -> None:
        with self._lock:
            self._failed.add(key)

    def of(self, keys: tuple[str, ...]) -> list[str]:
        """The ids of these users, or ``SkipError`` naming those without one."""
        with self._lock:
            failed = sorted(k for k in keys if k in self._failed)
            if failed:
                raise SkipError(f"user create failed or was skipped for {', '.join(failed[:5])}")
            missing = sorted(k for k in keys if k not in self._ids)
            if missing:
                raise SkipError(f"no live id for member {', '.join(missing[:5])}")
            return [self._ids[k] for k in keys]


class ActionWrites:
    """One action's writes: each sent through the writer, each result kept."""

    def __init__(self, writer: Writer, if_match: str | None = None) -> None:
        self.writer = writer
        # The ETag the action was planned against, for its first write to that object.
        self.if_match = if_match
        self.results: list[WriteResult] = []

    def send(self, request: WriteRequest) -> WriteResult:
        """Send one write and keep its result; raise its error, if any."""
        result = self.writer.write(request)
        self.results.append(result)
        return result.raise_for_error()

    @property
    def attempt(self) -> int:
        """The most attempts any one write needed (0 when nothing was sent)."""
        return max((r.attempts for r in self.results), default=0)

    @property
    def requests(self) -> int:
        """Every request sent, retries included."""
        return sum(r.attempts for r in self.results)


class ActionApplier:
    """Sends the writes of each action, shaped for the target's dialect."""

    def __init__(self, users: UserIds, *, dialect: Dialect, member_chunk: int | None) -> None:
        self.users = users
        self.top_level = dialect.top_level_enterprise
        self.member_chunk = member_chunk

    def apply(self, action: Action, writes: ActionWrites) -> str | None:
        """Send the action's writes; return the id of the object it created, if any."""
        if action.resource is Resource.USER:
            if action.action is ActionKind.CREATE:
                return self._create_user(action, writes)
            self._change_user(action, writes)
            return None
        return self._apply_group(action, writes)

    def _create_user(self, action: Action, writes: ActionWrites) -> str:
        values = [(c.path, c.after) for c in action.attribute_changes]
        body = user_create_body(dict(values), top_level=self.top_level)
        created = writes.send(
            WriteRequest.post("Users", body, key=action.key, purpose="create user")
        )
        user_id = _id_of(created)
        if created.adopted:
            # 409: the user exists (made by an earlier, interrupted run). Adopt it
            # and set what the files say, rather than failing or duplicating.
            updates = [
                (p, v)
                for p, v in values
                if p not in ("userName", "active") and not _default_emails(p, v, values)
            ]
            # The adopted account may be deactivated; the files decide.
            updates.append(("active", dict(values).get("active", True)))
            operations = user_patch_operations(updates, top_level=self.top_level)
            purpose = "set the files' attributes on the existing user"
            writes.send(
                WriteRequest.patch(
                    "Users", user_id, patch_body(operations), key=action.key, purpose=purpose
                )
            )
        self.users.record(action.key, user_id)
        return user_id

    def _change_user(self, action: Action, writes: ActionWrites) -> None:
        """One PATCH with the changes, then one of the enterprise extension's removals
        (``extension_removals``): never both places in one PATCH, so a refusal of the
        read-only extension fails this action but blocks none of its other changes."""
        assert action.id is not None, "only creates have no id"
        changes = action.attribute_changes
        # A value the plan saw only in the extension is not removed at the top level.
        values = [(c.path, c.after) for c in changes if c.held != "extension"]
        operations = user_patch_operations(values, top_level=self.top_level)
        answer = None
        if operations:
            request = WriteRequest.patch(
                "Users",
                action.id,
                patch_body(operations),
                if_match=writes.if_match,
                key=action.key,
                purpose=f"{action.action.value} user",
            )
            try:
                answer = writes.send(request).resource
            except NotFoundError:
                if action.action is not ActionKind.DEACTIVATE:
                    raise
                # A user that is gone cannot sign in: the deactivation holds.
                return
        held = [(c.path, c.after, c.held) for c in changes]
        removals = extension_removals(held, answer, top_level=self.top_level)
        if removals:
            purpose = "remove from the enterprise extension"
            writes.send(
                WriteRequest.patch(
                    "Users",
                    action.id,
                    patch_body(removals),
                    if_match=None if operations else writes.if_match,
                    key=action.key,
                    purpose=purpose,
                )
            )

    def _apply_group(self, action: Action, writes: ActionWrites) -> str | None:
        members = action.member_change
        add = self.users.of(members.add) if members else []
        remove = self.users.of(members.remove) if members else []
        if members is not None:  # nested groups and unknown ids, removed by id
            remove += [other.id for other in members.remove_other]
        if action.action is ActionKind.DELETE:
            writes.send(self._delete_group(action, writes, "delete group"))
            return None
        if action.action is ActionKind.RENAME:
            return self._rename_group(action, add, writes)
        new_name = next(
            (c.after for c in action.attribute_changes if c.path == "displayName"), None
        )
        group_id = action.id
        if action.action is ActionKind.CREATE:
            group_id, add = self._create_group(action.key, add, writes)
            new_name = None
        assert group_id is not None
        operations = group_patch_operations(display_name=new_name, add=add, remove=remove)
        request = WriteRequest.patch(
            "Groups",
            group_id,
            patch_body(operations),
            if_match=writes.if_match,
            key=action.key,
            purpose=_group_purpose(new_name, add, remove),
        )
        send_patch(writes.send, request, self.member_chunk)
        return group_id if action.action is ActionKind.CREATE else None

    def _rename_group(self, action: Action, add: list[str], writes: ActionWrites) -> str:
        """A rename where names are immutable: the new group with its members, then the old
        one deleted. Stopped between the two, the next plan sees both groups and finishes
        the rename by deleting the old one (reconciler.planner.groups)."""
        group_id, left = self._create_group(action.key, add, writes)
        if left:
            body = patch_body([member_add_operation(left)])
            request = WriteRequest.patch(
                "Groups", group_id, body, key=action.key, purpose="add members"
            )
            send_patch(writes.send, request, self.member_chunk)
        with contextlib.suppress(NotFoundError):  # the old group is gone already: it holds
            writes.send(self._delete_group(action, writes, "delete the group's old name"))
        return group_id

    def _create_group(
        self, name: str, add: list[str], writes: ActionWrites
    ) -> tuple[str, list[str]]:
        """Create a group with its members in the POST; return its id and who is left to add."""
        with_members = bool(add) and fits(add, self.member_chunk)
        body = group_create_body(name, add if with_members else ())
        request = WriteRequest.post("Groups", body, key=name, purpose="create group")
        try:
            created = writes.send(request)
        except PayloadTooLargeError:
            if not with_members:
                raise
            empty = replace(request, body=group_create_body(name), purpose="create empty group")
            return _id_of(writes.send(empty)), add
        # An adopted group (409) already existed: its members are still to be added.
        return _id_of(created), add if created.adopted or not with_members else []

    @staticmethod
    def _delete_group(action: Action, writes: ActionWrites, purpose: str) -> WriteRequest:
        assert action.id is not None
        return WriteRequest.delete(
            "Groups", action.id, if_match=writes.if_match, key=action.key, purpose=purpose
        )


def _id_of(created: WriteResult) -> str:
    assert created.id is not None, "a write that succeeded names its resource"
    return created.id


def _group_purpose(new_name: str | None, add: list[str], remove: list[str]) -> str:
    """What a group PATCH is for: "rename group", "add members", "remove members"."""
    parts = [
        what
        for what, wanted in (
            ("rename group", new_name is not None),
            ("add members", bool(add)),
            ("remove members", bool(remove)),
        )
        if wanted
    ]
    return ", ".join(parts) or "update group"


def _default_emails(path: str, value: Any, values: list[tuple[str, Any]]) -> bool:
    """Whether this is the email a create defaults to (the files did not name any).

    Set on a new account, it is harmless; pushed onto an adopted existing account it
    could replace real addresses (on Atlassian, unlink the account). The next plan
    shows any difference, with its warning, for a person to approve.
    """
    user_name = dict(values).get("userName")
    return path == "emails" and value == [{"value": user_name, "type": "work", "primary": True}]
