"""The sandbox's SQLite schema and every statement the store runs.

Every statement is a literal: nothing from a request is ever spliced into SQL. Lists
of ids travel as one JSON array parameter, unpacked by ``json_each()``, so there is
no variable-count placeholder list and no limit on how many ids one PATCH names.
"""

from __future__ import annotations

# PRAGMA user_version of a sandbox database; an older one is migrated on open (MIGRATIONS),
# any other is refused.
SCHEMA_VERSION = 4

# Version 2: the organisation around the directory (reconciler.sandbox.org). Every
# user's account_id names a row of accounts; an account may instead be linked to a
# SCIM user of another directory (linked_directory, linked_user), or to none.
ORGANISATION_DDL = """
CREATE TABLE accounts (
    account_id TEXT PRIMARY KEY,
    email_key TEXT NOT NULL UNIQUE,
    linked_directory TEXT,
    linked_user TEXT
);
CREATE INDEX accounts_links ON accounts (linked_directory, linked_user);
CREATE TABLE org_groups (
    name_key TEXT PRIMARY KEY,
    name TEXT NOT NULL
) WITHOUT ROWID;
"""

DDL = """
CREATE TABLE users (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    user_name_key TEXT NOT NULL UNIQUE,
    email_key TEXT NOT NULL UNIQUE,
    external_id TEXT,
    display TEXT NOT NULL,
    account_id TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    attributes TEXT NOT NULL,
    linked INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX users_external_id ON users (external_id);
-- Narrow index on the rowid: the skip inside one block (reconciler.sandbox.paging)
-- walks integers here, not the wide rows.
CREATE INDEX users_seq ON users (seq);
CREATE TABLE groups (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    display_name_key TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    created TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    attributes TEXT NOT NULL
);
CREATE INDEX groups_seq ON groups (seq);
CREATE TABLE memberships (
    group_seq INTEGER NOT NULL REFERENCES groups (seq) ON DELETE CASCADE,
    user_seq INTEGER NOT NULL REFERENCES users (seq) ON DELETE CASCADE,
    PRIMARY KEY (group_seq, user_seq)
) WITHOUT ROWID;
CREATE INDEX memberships_by_user ON memberships (user_seq);
"""
DDL += ORGANISATION_DDL

# Version 3: how many rows each block of 2**BLOCK_BITS consecutive seq numbers holds,
# kept by triggers in the transaction of every insert and delete, whoever writes
# (the store, the organisation, another connection). A page finds the row at any
# startIndex from these counts and a skip of less than one block
# (reconciler.sandbox.paging). A block whose last row is deleted loses its row. Bulk
# loads drop the insert trigger inside their transaction and count the blocks of the
# new rows at once (COUNT_NEW_BLOCKS): a trigger makes every row's insert keep a
# statement journal, which doubles the time of a 100,000-user load.
BLOCK_BITS = 10  # the "seq >> 10" of the statements below
BLOCKS_DDL = """
CREATE TABLE user_blocks (block INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE group_blocks (block INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TRIGGER users_block_delete AFTER DELETE ON users BEGIN
    UPDATE user_blocks SET n = n - 1 WHERE block = OLD.seq >> 10;
    DELETE FROM user_blocks WHERE block = OLD.seq >> 10 AND n = 0;
END;
CREATE TRIGGER groups_block_delete AFTER DELETE ON groups BEGIN
    UPDATE group_blocks SET n = n - 1 WHERE block = OLD.seq >> 10;
    DELETE FROM group_blocks WHERE block = OLD.seq >> 10 AND n = 0;
END;
"""
# table -> (DROP, CREATE) of its insert trigger.
BLOCK_INSERT_TRIGGERS = {
    "users": (
        "DROP TRIGGER users_block_insert",
        """CREATE TRIGGER users_block_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_blocks (block, n) VALUES (NEW.seq >> 10, 1)
    ON CONFLICT (block) DO UPDATE SET n = n + 1;
END;""",
    ),
    "groups": (
        "DROP TRIGGER groups_block_insert",
        """CREATE TRIGGER groups_block_insert AFTER INSERT ON groups BEGIN
    INSERT INTO group_blocks (block, n) VALUES (NEW.seq >> 10, 1)
    ON CONFLICT (block) DO UPDATE SET n = n + 1;
END;""",
    ),
}
BLOCKS_DDL += "\n".join(create for _, create in BLOCK_INSERT_TRIGGERS.values()) + "\n"
DDL += BLOCKS_DDL
# table -> the counts of every block from the one holding seq ? on, counted anew.
COUNT_NEW_BLOCKS = {
    "users": (
        "INSERT INTO user_blocks (block, n) SELECT seq >> 10, count(*) FROM users"
        " WHERE seq >= (? >> 10) << 10 GROUP BY 1"
        " ON CONFLICT (block) DO UPDATE SET n = excluded.n"
    ),
    "groups": (
        "INSERT INTO group_blocks (block, n) SELECT seq >> 10, count(*) FROM groups"
        " WHERE seq >= (? >> 10) << 10 GROUP BY 1"
        " ON CONFLICT (block) DO UPDATE SET n = excluded.n"
    ),
}

# Version 4: the organisation's verified domains (a user whose email is outside them is an
# unmanaged account) and its size caps (name -> value; absent: Atlassian's published
# maxima), and whether each user is linked to its account (0: an unmanaged account
# updated, or unlinked through the Admin API; the SCIM record stays).
DOMAINS_DDL = """
CREATE TABLE org_domains (name_key TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE org_caps (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
"""
DDL += DOMAINS_DDL

# user_version -> the scripts that bring a database of that version to the next.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        ORGANISATION_DDL,
        "INSERT INTO accounts (account_id, email_key) SELECT account_id, email_key FROM users",
    ),
    2: (
        BLOCKS_DDL,
        "INSERT INTO user_blocks (block, n) SELECT seq >> 10, count(*) FROM users GROUP BY 1",
        "INSERT INTO group_blocks (block, n) SELECT seq >> 10, count(*) FROM groups GROUP BY 1",
    ),
    3: (DOMAINS_DDL,),  # and users.linked, when missing (database._migrate)
}

INSERT_USER = (
    "INSERT INTO users (id, user_name_key, email_key, external_id, display,"
    " account_id, created, last_modified, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
GET_USER = "SELECT seq, id, account_id, created, last_modified, attributes FROM users WHERE id = ?"
GET_GROUP = "SELECT seq, id, created, last_modified, attributes FROM groups WHERE id = ?"
USER_BY_NAME = "SELECT id FROM users WHERE user_name_key = ?"
USER_BY_EMAIL = "SELECT id FROM users WHERE email_key = ?"
GROUPS_OF = (
    "SELECT m.user_seq, g.id, g.display_name FROM memberships m"
    " JOIN groups g ON g.seq = m.group_seq"
    " WHERE m.user_seq IN (SELECT value FROM json_each(?)) ORDER BY g.seq"
)
MEMBERS_OF = (
    "SELECT m.group_seq, u.id, u.display FROM memberships m"
    " JOIN users u ON u.seq = m.user_seq"
    " WHERE m.group_seq IN (SELECT value FROM json_each(?)) ORDER BY m.group_seq, m.user_seq"
)
USER_SEQS = "SELECT id, seq FROM users WHERE id IN (SELECT value FROM json_each(?))"
REMOVE_MEMBERS = (
    "DELETE FROM memberships WHERE group_seq = ? AND user_seq IN"
    " (SELECT seq FROM users WHERE id IN (SELECT value FROM json_each(?)))"
)
# Paging (reconciler.sandbox.paging) ----------------------------------------------
# table -> its block counts, in seq order.
BLOCKS = {
    "users": "SELECT block, n FROM user_blocks ORDER BY block",
    "groups": "SELECT block, n FROM group_blocks ORDER BY block",
}
# table -> one page from the row :skip rows into the block starting at seq :low. The
# skip (less than one block) walks the narrow seq index; the page is a range read.
PAGE_AT = {
    "users": (
        "SELECT seq, id, account_id, created, last_modified, attributes FROM users"
        " WHERE seq >= (SELECT seq FROM users INDEXED BY users_seq WHERE seq >= :low"
        " ORDER BY seq LIMIT 1 OFFSET :skip) ORDER BY seq LIMIT :count"
    ),
    "groups": (
        "SELECT seq, id, created, last_modified, attributes FROM groups"
        " WHERE seq >= (SELECT seq FROM groups INDEXED BY groups_seq WHERE seq >= :low"
        " ORDER BY seq LIMIT 1 OFFSET :skip) ORDER BY seq LIMIT :count"
    ),
}
# (table, filter column) -> (count statement, page statement). A filter matches a
# handful of rows (userName and displayName are unique), so OFFSET among them is cheap.
FILTERED_PAGES: dict[tuple[str, str], tuple[str, str]] = {
    ("users", "user_name_key"): (
        "SELECT count(*) FROM users WHERE user_name_key = :key",
        "SELECT seq, id, account_id, created, last_modified, attributes FROM users"
        " WHERE user_name_key = :key ORDER BY seq LIMIT :count OFFSET :offset",
    ),
    ("users", "external_id"): (
        "SELECT count(*) FROM users WHERE external_id = :key",
        "SELECT seq, id, account_id, created, last_modified, attributes FROM users"
        " WHERE external_id = :key ORDER BY seq LIMIT :count OFFSET :offset",
    ),
    ("groups", "display_name_key"): (
        "SELECT count(*) FROM groups WHERE display_name_key = :key",
        "SELECT seq, id, created, last_modified, attributes FROM groups"
        " WHERE display_name_key = :key ORDER BY seq LIMIT :count OFFSET :offset",
    ),
}

# The organisation (reconciler.sandbox.org) ----------------------------------------
ACCOUNT_BY_EMAIL = (
    "SELECT account_id, linked_directory, linked_user FROM accounts WHERE email_key = ?"
)
ACCOUNT_BY_ID = (
    "SELECT account_id, linked_directory, linked_user FROM accounts WHERE account_id = ?"
)
PUT_ACCOUNT = (
    "INSERT INTO accounts (account_id, email_key, linked_directory, linked_user)"
    " VALUES (?, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET email_key = excluded.email_key"
)
# The SCIM user linked to an account (an unlinked record keeps its account_id, unlinked).
USER_BY_ACCOUNT = "SELECT id FROM users WHERE account_id = ? AND linked = 1"
USER_LINK = "SELECT seq, linked FROM users WHERE id = ?"
SET_LINKED = "UPDATE users SET linked = ? WHERE id = ?"
DROP_MEMBERSHIPS = "DELETE FROM memberships WHERE user_seq = ?"
ACCOUNT_HELD = "SELECT 1 FROM accounts WHERE email_key = ? OR account_id = ?"
DELETE_USER = "DELETE FROM users WHERE id = ?"
DELETE_ACCOUNT_USER = "DELETE FROM users WHERE account_id = ? AND linked = 1"
GROUP_BY_NAME = "SELECT 1 FROM groups WHERE display_name_key = ?"
ORG_GROUP = "SELECT name FROM org_groups WHERE name_key = ?"
INSERT_ORG_GROUP = "INSERT INTO org_groups (name_key, name) VALUES (?, ?)"
UNLINK_OTHER = (
    "UPDATE accounts SET linked_directory = NULL, linked_user = NULL"
    " WHERE linked_directory = ? AND linked_user = ?"
)
UNLINK_ACCOUNT = (
    "UPDATE accounts SET linked_directory = NULL, linked_user = NULL WHERE account_id = ?"
)
# Accounts that no user of this directory is linked to: the organisation outside it.
DELETE_OUTSIDE_ACCOUNTS = (
    "DELETE FROM accounts WHERE account_id NOT IN (SELECT account_id FROM users)"
)
DOMAINS = "SELECT name_key FROM org_domains ORDER BY name_key"
INSERT_DOMAIN = "INSERT INTO org_domains (name_key) VALUES (?)"
CAPS = "SELECT name, value FROM org_caps"
INSERT_CAP = "INSERT INTO org_caps (name, value) VALUES (?, ?)"
# The managed accounts in account id order, from after a cursor (the Organizations API's
# users listing): id, email, and the display and attributes of the user linked to it here.
# An account is managed when its email's domain is verified, or no domain is listed.
ACCOUNTS_PAGE = (
    "SELECT a.account_id, a.email_key, u.display, u.attributes FROM accounts a"
    " LEFT JOIN users u ON u.account_id = a.account_id AND u.linked = 1"
    " WHERE a.account_id > ? AND (NOT EXISTS (SELECT 1 FROM org_domains)"
    " OR substr(a.email_key, instr(a.email_key, '@') + 1) IN (SELECT name_key FROM org_domains))"
    " ORDER BY a.account_id LIMIT ?"
)
MANAGED_ACCOUNTS_COUNT = (
    "SELECT count(*) FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM org_domains)"
    " OR substr(a.email_key, instr(a.email_key, '@') + 1) IN (SELECT name_key FROM org_domains)"
)
ADD_LINKED = "ALTER TABLE users ADD COLUMN linked INTEGER NOT NULL DEFAULT 1"
MEMBER_COUNT = "SELECT count(*) FROM memberships WHERE group_seq = ?"
MEMBERSHIPS_COUNT = "SELECT count(*) FROM memberships"
USER_COUNT = "SELECT coalesce(sum(n), 0) FROM user_blocks"
GROUP_COUNT = "SELECT coalesce(sum(n), 0) FROM group_blocks"
