"""The sandbox directory in one SQLite file.

Each user and group is a row: its client-owned attributes as JSON, plus indexed
columns for everything the directory looks things up by (ids, the lower-cased
``userName`` and primary email, ``externalId``, the lower-cased group name). The
UNIQUE indexes are the invariants of docs/atlassian.md (``userName``, email and group
name unique, compared case-insensitively); the friendly 409 comes from checking first,
inside the same transaction, so the indexes only ever fire on a bug.

``seq`` is an ``INTEGER PRIMARY KEY AUTOINCREMENT``: it only grows, so listing in
``seq`` order is stable while users are created and deleted (a pager never sees a
row twice). ``startIndex`` counts rows in that order; ``paging`` finds the row at
any ``startIndex`` from per-block row counts kept in the same transactions as the
rows (``sql.BLOCKS_DDL``), so the last page of a million users costs what the first
does (see ``benchmarks/sandbox_bench.py``). The statements are in ``sql``; opening
and migrating a database is ``database``.

Memberships are rows keyed by ``seq``; changing them is ``memberships``. One
connection serves every thread, guarded by a lock; writes and the read-modify-write
of a PATCH run in one ``transaction()``.

The organisation around the directory (accounts, links, group names taken elsewhere)
is in the same file and the same transactions (``org``); bulk loads are in ``bulk``.
A database of an older schema is migrated when it is opened.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError
from reconciler.sandbox import bulk, database, memberships, org, sql
from reconciler.sandbox.filters import ListFilter
from reconciler.sandbox.paging import BlockIndex, filtered_page
from reconciler.sandbox.problems import ScimRequestError, not_found, over_cap
from reconciler.sandbox.records import (
    GroupRecord,
    MemberOperation,
    UserRecord,
    dumps,
    group_record,
    now,
    user_record,
)
from reconciler.sandbox.resources import primary_email

__all__ = ["GroupRecord", "MemberOperation", "SandboxStore", "UserRecord"]


class SandboxStore:
    """The users, groups and memberships of one sandbox directory, in SQLite."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._depth = 0
        try:
            # Autocommit mode: transactions are opened explicitly by transaction().
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise ConfigError(f"cannot open the sandbox database {self.path}: {exc}") from exc
        self._ranks = {table: BlockIndex(table) for table in ("users", "groups")}
        try:
            database.prepare(self._db, self.path)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise ConfigError(f"{self.path} is not a sandbox database: {exc}") from exc
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        """Close the database (idempotent); WAL is checkpointed and its files removed."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> SandboxStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of work; nested uses join the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row ``statement`` selects (for this package's modules: ``org``, ``bulk``)."""
        with self._lock:
            return self._db.execute(statement, params).fetchall()

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        """Run one write (inside ``transaction()``); how many rows it changed."""
        with self._lock:
            return int(self._db.execute(statement, params).rowcount)

    def execute_many(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one write for each of ``rows`` (inside ``transaction()``)."""
        with self._lock:
            self._db.executemany(statement, rows)

    # Users -------------------------------------------------------------------

    def create_user(self, attrs: Mapping[str, Any]) -> UserRecord:
        """Store a new, checked user; 409 ``uniqueness`` on a taken userName or email."""
        created = now()
        user_id = str(uuid.uuid4())
        with self.transaction():
            self._check_user_unique(attrs, None)
            cap = org.caps(self).users
            if cap is not None and self.rows(sql.USER_COUNT)[0][0] >= cap:
                raise over_cap(f"the directory holds {cap} users, its limit")
            account_id = org.account_for_new_user(self, primary_email(attrs))
            cursor = self._db.execute(
                sql.INSERT_USER,
                (user_id, *self._user_keys(attrs), account_id, created, created, dumps(attrs)),
            )
        seq = int(cursor.lastrowid or 0)
        return UserRecord(seq, user_id, account_id, created, created, dict(attrs))

    def get_user(self, user_id: str) -> UserRecord:
        """The user with this SCIM id; 404 when there is none."""
        rows = self.rows(sql.GET_USER, (user_id,))
        if not rows:
            raise not_found("User", user_id)
        return user_record(rows[0])

    def replace_user(self, user_id: str, attrs: Mapping[str, Any]) -> UserRecord:
        """Replace a user's attributes, keeping id, account and ``created``; what that
        does to its link is ``org.after_update`` (an unmanaged account is unlinked)."""
        with self.transaction():
            old = self.get_user(user_id)
            self._check_user_unique(attrs, user_id)
            org.after_update(self, user_id, old.account_id, old.attributes, attrs)
            modified = now()
            self._db.execute(
                "UPDATE users SET user_name_key = ?, email_key = ?, external_id = ?,"
                " display = ?, last_modified = ?, attributes = ? WHERE id = ?",
                (*self._user_keys(attrs), modified, dumps(attrs), user_id),
            )
        return UserRecord(old.seq, old.id, old.account_id, old.created, modified, dict(attrs))

    def delete_user(self, user_id: str) -> None:
        """Delete a user and its memberships; 404 when there is none."""
        with self.transaction():
            if self._db.execute("DELETE FROM users WHERE id = ?", (user_id,)).rowcount == 0:
                raise not_found("User", user_id)

    def list_users(
        self, start_index: int, count: int, where: ListFilter | None = None
    ) -> tuple[int, list[UserRecord]]:
        """``totalResults`` and one page, in creation order (RFC 7644 section 3.4.2.4)."""
        total, rows = self._page("users", start_index, count, where)
        return total, [user_record(row) for row in rows]

    def groups_of(self, user_seqs: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
        """(group id, displayName) of every group each user is a direct member of."""
        out: dict[int, list[tuple[str, str]]] = {seq: [] for seq in user_seqs}
        for user_seq, group_id, name in self.rows(sql.GROUPS_OF, (dumps(list(user_seqs)),)):
            out[user_seq].append((group_id, name))
        return out

    def count_users(self) -> int:
        """How many users the directory holds."""
        return self.list_users(1, 0)[0]

    def seed_users(self, n: int, *, prefix: str = "user", domain: str = "example.com") -> list[str]:
        """Insert ``n`` generated users in one transaction; their ids (``bulk.seed_users``)."""
        return bulk.seed_users(self, n, prefix=prefix, domain=domain)

    def _user_keys(self, attrs: Mapping[str, Any]) -> tuple[str, str, str | None, str]:
        user_name = str(attrs["userName"])
        display = attrs.get("displayName") or user_name
        return (
            user_name.lower(),
            primary_email(attrs).lower(),
            attrs.get("externalId"),
            display,
        )

    def _check_user_unique(self, attrs: Mapping[str, Any], user_id: str | None) -> None:
        user_name, email, _, _ = self._user_keys(attrs)
        for query, key, label, shown in (
            (sql.USER_BY_NAME, user_name, "userName", attrs["userName"]),
            (sql.USER_BY_EMAIL, email, "email", primary_email(attrs)),
        ):
            row = self._db.execute(query, (key,)).fetchone()
            if row is not None and row[0] != user_id:
                raise ScimRequestError(
                    409, f"Resource [USER]: with {label}[{shown}] already exists", "uniqueness"
                )

    # Groups ------------------------------------------------------------------

    def create_group(self, attrs: Mapping[str, Any], member_ids: Sequence[str]) -> GroupRecord:
        """Store a new group; 409 on a taken name, 400 on unknown member ids."""
        created = now()
        name = str(attrs["displayName"])
        group_id = str(uuid.uuid4())
        with self.transaction():
            self._check_group_unique(name)
            cap = org.caps(self).groups
            if cap is not None and self.rows(sql.GROUP_COUNT)[0][0] >= cap:
                raise over_cap(f"the directory holds {cap} groups, its limit")
            cursor = self._db.execute(
                "INSERT INTO groups (id, display_name_key, display_name, created,"
                " last_modified, attributes) VALUES (?, ?, ?, ?, ?, ?)",
                (group_id, name.lower(), name, created, created, dumps(attrs)),
            )
            seq = int(cursor.lastrowid or 0)
            memberships.change_members(
                self, seq, [MemberOperation("add", tuple(member_ids))], unknown_status=400
            )
        return GroupRecord(seq, group_id, created, created, dict(attrs))

    def get_group(self, group_id: str) -> GroupRecord:
        """The group with this SCIM id; 404 when there is none."""
        rows = self.rows(sql.GET_GROUP, (group_id,))
        if not rows:
            raise not_found("Group", group_id)
        return group_record(rows[0])

    def update_group(
        self,
        group_id: str,
        attrs: Mapping[str, Any],
        changes: Sequence[MemberOperation],
        *,
        unknown_status: int = 404,
    ) -> GroupRecord:
        """Store new attributes (displayName unchanged) and apply member changes in order.

        Unknown user ids in an add or replace fail the whole update: 404 for PATCH
        (docs/atlassian.md "Groups"), 400 for PUT. Removing a non-member is a no-op.
        """
        with self.transaction():
            old = self.get_group(group_id)
            modified = now()
            self._db.execute(
                "UPDATE groups SET last_modified = ?, attributes = ? WHERE seq = ?",
                (modified, dumps(attrs), old.seq),
            )
            memberships.change_members(self, old.seq, changes, unknown_status=unknown_status)
        return GroupRecord(old.seq, old.id, old.created, modified, dict(attrs))

    def delete_group(self, group_id: str) -> None:
        """Delete a group and its memberships; 404 when there is none."""
        with self.transaction():
            if self._db.execute("DELETE FROM groups WHERE id = ?", (group_id,)).rowcount == 0:
                raise not_found("Group", group_id)

    def list_groups(
        self, start_index: int, count: int, where: ListFilter | None = None
    ) -> tuple[int, list[GroupRecord]]:
        """``totalResults`` and one page of groups, in creation order."""
        total, rows = self._page("groups", start_index, count, where)
        return total, [group_record(row) for row in rows]

    def members_of(self, group_seqs: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
        """(user id, display) of each group's members, in the order users were created."""
        out: dict[int, list[tuple[str, str]]] = {seq: [] for seq in group_seqs}
        for group_seq, user_id, display in self.rows(sql.MEMBERS_OF, (dumps(list(group_seqs)),)):
            out[group_seq].append((user_id, display))
        return out

    def _check_group_unique(self, name: str) -> None:
        row = self._db.execute(
            "SELECT 1 FROM groups WHERE display_name_key = ?", (name.lower(),)
        ).fetchone()
        if row is not None:
            raise org.group_name_taken(name)
        org.check_group_name(self, name)

    # Paging ------------------------------------------------------------------

    def _page(
        self, table: str, start_index: int, count: int, where: ListFilter | None
    ) -> tuple[int, list[tuple[Any, ...]]]:
        # One snapshot: totalResults and the page describe the same rows, even while
        # another connection writes (paging.BlockIndex relies on it).
        with self._lock:
            writing = self._depth > 0
            if not writing:
                self._db.execute("BEGIN")
            try:
                if where is not None:
                    return filtered_page(self._db, table, start_index, count, where)
                return self._ranks[table].page(self._db, start_index, count, writing=writing)
            finally:
                if not writing and self._db.in_transaction:
                    self._db.execute("COMMIT")
