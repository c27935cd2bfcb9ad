"""Opening a sandbox database: its settings, a new schema, or the migration of an old one.

``PRAGMA user_version`` is the schema's version (``sql.SCHEMA_VERSION``). A new file
gets the whole schema (``sql.DDL``); a file of an older version is brought up to date
step by step (``sql.MIGRATIONS``), in one transaction, when it is opened; a file of
any other version, or some other SQLite file, is refused.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from reconciler.errors import ConfigError
from reconciler.sandbox import sql
from reconciler.sandbox.records import dumps
from reconciler.sandbox.resources import upgrade_v1_attributes


def prepare(db: sqlite3.Connection, path: Path) -> None:
    """Set the connection up and create or migrate the schema of the file at ``path``.

    ``db`` is in autocommit mode (``isolation_level=None``); raises ``ConfigError`` for
    a database of an unknown version, ``sqlite3.DatabaseError`` for a file that is not
    one.
    """
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA cache_size = -65536")  # 64 MiB: index inserts of a big seed
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == sql.SCHEMA_VERSION:
        return
    tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if version not in sql.MIGRATIONS and (version != 0 or tables):
        raise ConfigError(
            f"{path} is not a sandbox database of this version "
            f"(schema {version}, expected {sql.SCHEMA_VERSION})"
        )
    db.execute("BEGIN IMMEDIATE")
    try:
        if version == 0:
            _script(db, sql.DDL)
        for step in range(version or sql.SCHEMA_VERSION, sql.SCHEMA_VERSION):
            _migrate(db, step)
        db.execute(f"PRAGMA user_version = {sql.SCHEMA_VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _migrate(db: sqlite3.Connection, step: int) -> None:
    """Bring a database of schema ``step`` to ``step + 1``."""
    for script in sql.MIGRATIONS[step]:
        _script(db, script)
    if step == 1:  # attributes Atlassian lacks go; department moves up
        rows = db.execute("SELECT seq, attributes FROM users").fetchall()
        db.executemany(
            "UPDATE users SET attributes = ? WHERE seq = ?",
            [(dumps(upgrade_v1_attributes(json.loads(a))), q) for q, a in rows],
        )
    if step == 3 and "linked" not in {row[1] for row in db.execute("PRAGMA table_info(users)")}:
        db.execute(sql.ADD_LINKED)


def _script(db: sqlite3.Connection, script: str) -> None:
    # Not executescript(): it would commit the transaction this runs in.
    for statement in statements(script):
        db.execute(statement)


def statements(script: str) -> Iterator[str]:
    """The statements of ``script``, a trigger's body (``BEGIN ...; END``) kept whole."""
    pending = ""
    for part in script.split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n\t;"):
                yield pending.strip()
            pending = ""
    if pending.strip(" \n\t;"):
        yield pending.strip()
