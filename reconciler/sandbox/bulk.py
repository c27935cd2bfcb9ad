"""Bulk loads: a whole directory in one transaction, not one create at a time.

A trial, a demo or a benchmark needs a directory of realistic size to start from;
creating 100,000 users through the API takes minutes, an ``executemany`` in one
transaction a few seconds (``benchmarks/sandbox_bench.py``). Rows are built in
Python and inserted with explicit ``seq`` numbers above every number used before
(``sqlite_sequence``), so memberships can be written without reading the users
back, and ``seq`` still only grows. The block counts that paging relies on
(``sql.BLOCKS_DDL``) are counted once for all the new rows, not by a trigger per row.

What goes in has been checked by the caller (``seeding`` runs each user through
``resources``); the links to the organisation's accounts follow the rules of
``org``: an email of an unlinked account links it, a new one mints an account.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.errors import ConfigError
from reconciler.sandbox import sql
from reconciler.sandbox.org import new_account_id
from reconciler.sandbox.records import dumps, now
from reconciler.sandbox.resources import primary_email

if TYPE_CHECKING:
    from reconciler.sandbox.store import SandboxStore


@dataclass(frozen=True, slots=True)
class BulkGroup:
    """A group to load: its name and its members, as indexes into the users loaded with it."""

    display_name: str
    members: tuple[int, ...] = ()


def seed_users(
    store: SandboxStore, n: int, *, prefix: str = "user", domain: str = "example.com"
) -> list[str]:
    """Insert ``n`` generated users in one transaction; their ids, in order.

    Users are ``{prefix}{i:06d}@{domain}`` with a primary work email of the same
    value and ``externalId`` ``{prefix}-{i}``, numbered on from the highest
    ``seq`` so that seeding twice adds more users rather than colliding.
    """
    with store.transaction():
        start = int(store.rows("SELECT coalesce(max(seq), 0) FROM users")[0][0])
        users = []
        for i in range(start + 1, start + n + 1):
            user_name = f"{prefix}{i:06d}@{domain}"
            users.append(
                {
                    "userName": user_name,
                    "externalId": f"{prefix}-{i}",
                    "name": {"givenName": prefix.title(), "familyName": str(i)},
                    "displayName": f"{prefix.title()} {i}",
                    "emails": [{"value": user_name, "type": "work", "primary": True}],
                    "active": True,
                }
            )
        try:
            return _insert_users(store, users, [new_account_id() for _ in users])
        except sqlite3.IntegrityError as exc:
            raise ConfigError(
                f"cannot seed: a user named like {prefix}NNNNNN@{domain} already exists"
            ) from exc


def clear_directory(store: SandboxStore) -> None:
    """Delete every user, group and membership (inside the caller's transaction).

    The users' accounts stay in the organisation, unlinked: loading a user with the
    same email again links it to the same account, as a re-provisioned user would be.
    """
    store.execute("DELETE FROM memberships")
    store.execute("DELETE FROM groups")
    store.execute("DELETE FROM users")


def load_directory(
    store: SandboxStore, users: Sequence[Mapping[str, Any]], groups: Sequence[BulkGroup]
) -> list[tuple[int, str]]:
    """Add checked users and groups (inside the caller's transaction); conflicts, if any.

    A conflict is ``(user index, message)``: a user whose email belongs to an
    account linked to another directory. Nothing is inserted when there is one.
    """
    accounts: dict[str, tuple[str, str | None]] = {
        key: (account_id, linked)
        for key, account_id, linked in store.rows(
            "SELECT email_key, account_id, linked_directory FROM accounts"
        )
    }
    account_ids: list[str] = []
    new_accounts: list[tuple[str, str]] = []
    conflicts: list[tuple[int, str]] = []
    for index, attrs in enumerate(users):
        key = primary_email(attrs).lower()
        account_id, linked = accounts.get(key, (None, None))
        if linked is not None:
            conflicts.append((index, f"its email is linked to a user of directory {linked}"))
        elif account_id is None:
            account_id = new_account_id()
            new_accounts.append((account_id, key))
        account_ids.append(account_id or "")
    if conflicts:
        return conflicts
    store.execute_many("INSERT INTO accounts (account_id, email_key) VALUES (?, ?)", new_accounts)
    user_seqs = _next_seqs(store, "users", len(users))
    _insert_users(store, users, account_ids, user_seqs)
    _insert_groups(store, groups, user_seqs)
    return []


def _next_seqs(store: SandboxStore, table: str, n: int) -> range:
    """``n`` unused ``seq`` numbers of ``table``, above every one it ever used.

    AUTOINCREMENT keeps the highest number a table ever used in ``sqlite_sequence``,
    also for rows inserted with an explicit ``seq`` and for rows since deleted.
    """
    used = store.rows("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,))
    top = int(used[0][0]) if used else 0
    return range(top + 1, top + n + 1)


def _insert_users(
    store: SandboxStore,
    users: Sequence[Mapping[str, Any]],
    account_ids: Sequence[str],
    seqs: range | None = None,
) -> list[str]:
    stamp = now()
    ids = [str(uuid.uuid4()) for _ in users]
    rows = [
        (
            user_id,
            str(attrs["userName"]).lower(),
            primary_email(attrs).lower(),
            attrs.get("externalId"),
            attrs.get("displayName") or attrs["userName"],
            account_id,
            stamp,
            stamp,
            dumps(attrs),
        )
        for user_id, attrs, account_id in zip(ids, users, account_ids, strict=True)
    ]
    with _counted_at_once(store, "users"):
        if seqs is None:
            store.execute_many(sql.INSERT_USER, rows)
        else:
            store.execute_many(
                "INSERT INTO users (seq, id, user_name_key, email_key, external_id, display,"
                " account_id, created, last_modified, attributes)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(seq, *row) for seq, row in zip(seqs, rows, strict=True)],
            )
    return ids


def _insert_groups(store: SandboxStore, groups: Sequence[BulkGroup], user_seqs: range) -> None:
    stamp = now()
    group_seqs = _next_seqs(store, "groups", len(groups))
    with _counted_at_once(store, "groups"):
        store.execute_many(
            "INSERT INTO groups (seq, id, display_name_key, display_name, created,"
            " last_modified, attributes) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (seq, str(uuid.uuid4()), g.display_name.lower(), g.display_name, stamp, stamp,
                 dumps({"displayName": g.display_name}))
                for seq, g in zip(group_seqs, groups, strict=True)
            ],
        )  # fmt: skip
    store.execute_many(
        "INSERT OR IGNORE INTO memberships (group_seq, user_seq) VALUES (?, ?)",
        [
            (group_seq, user_seqs[member])
            for group_seq, group in zip(group_seqs, groups, strict=True)
            for member in group.members
        ],
    )


@contextmanager
def _counted_at_once(store: SandboxStore, table: str) -> Iterator[None]:
    """Rows inserted in the block are counted for paging at its end, not one by one.

    The insert trigger is dropped and created again inside one transaction, so no
    other connection ever sees the table without it. Whatever the block inserted
    is counted, even when it fails halfway, and the trigger is back either way.
    """
    drop, create = sql.BLOCK_INSERT_TRIGGERS[table]
    with store.transaction():
        first = _next_seqs(store, table, 1).start  # every new row's seq is at least this
        store.execute(drop)
        try:
            yield
        finally:
            store.execute(sql.COUNT_NEW_BLOCKS[table], (first,))
            store.execute(create)
