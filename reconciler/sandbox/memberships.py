"""Who is in which group: the member changes of a group's create, PUT and PATCH.

Memberships are rows keyed by ``seq`` (a group's and a user's), so a group of 290,000
members changes by the rows a PATCH names. A change adds, removes or replaces members
by user id, in the order the request gives them; an unknown id fails the whole
request (404 for PATCH, 400 for PUT and POST: docs/atlassian.md "Groups"), removing a
non-member does nothing, and the organisation's caps on members per group and on
memberships overall are checked after the adds (``org.caps``). Every function runs
inside the caller's ``store.transaction()``, so a refusal changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.sandbox import org, sql
from reconciler.sandbox.problems import invalid_value, not_found, over_cap
from reconciler.sandbox.records import MemberOperation, dumps

if TYPE_CHECKING:
    from reconciler.sandbox.store import SandboxStore


def change_members(
    store: SandboxStore, group_seq: int, changes: Sequence[MemberOperation], *, unknown_status: int
) -> None:
    """Apply ``changes`` to a group's members in order, then hold it to the caps."""
    for change in changes:
        if change.op == "replace":
            store.execute("DELETE FROM memberships WHERE group_seq = ?", (group_seq,))
        if change.op in ("add", "replace"):
            seqs = _user_seqs(store, change.ids, unknown_status)
            store.execute_many(
                "INSERT OR IGNORE INTO memberships (group_seq, user_seq) VALUES (?, ?)",
                [(group_seq, seq) for seq in seqs],
            )
        elif change.op == "remove":
            store.execute(sql.REMOVE_MEMBERS, (group_seq, dumps(list(change.ids))))
        else:
            raise ValueError(f"unknown member change {change.op!r}")
    if any(change.op != "remove" and change.ids for change in changes):
        _check_members_cap(store, group_seq)


def _check_members_cap(store: SandboxStore, group_seq: int) -> None:
    """400 when a group holds more members than the organisation's cap (the caller's
    transaction is then rolled back, so the request changes nothing)."""
    caps = org.caps(store)
    if caps.group_members is not None:
        count = int(store.rows(sql.MEMBER_COUNT, (group_seq,))[0][0])
        if count > caps.group_members:
            raise over_cap(
                f"the group would hold {count} members; its limit is {caps.group_members}"
            )
    if caps.memberships is not None:
        total = int(store.rows(sql.MEMBERSHIPS_COUNT)[0][0])
        if total > caps.memberships:
            raise over_cap(
                f"the directory would hold {total} memberships; its limit is {caps.memberships}"
            )


def _user_seqs(store: SandboxStore, ids: Sequence[str], unknown_status: int) -> list[int]:
    """The ``seq`` of each user id, in order; 404 or 400 (``unknown_status``) for one
    that names no user."""
    found: dict[str, int] = dict(store.rows(sql.USER_SEQS, (dumps(list(ids)),)))
    missing = [i for i in ids if i not in found]
    if missing:
        if unknown_status == 404:
            raise not_found("User", missing[0])
        raise invalid_value(f"members: no user with id [{missing[0]}]")
    return [found[i] for i in ids]
