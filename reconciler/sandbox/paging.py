"""Keyset paging: a page at any ``startIndex`` costs what the first page costs.

A listing is in ``seq`` order (creation order; ``seq`` only grows), and
``startIndex`` counts rows in that order from 1, exactly as an ``OFFSET`` would
(RFC 7644 section 3.4.2.4). An ``OFFSET`` walks every row before the page, so the
last page of a million users cost twice the first. Instead, triggers keep a count
of the rows in each block of ``2**BLOCK_BITS`` consecutive ``seq`` numbers
(``sql.BLOCKS_DDL``); the row at any position is then found from the running
totals of those counts (a binary search) and a skip of less than one block in the
narrow ``seq`` index, and the page is a range read from that row on.

The running totals are kept in memory between requests and rebuilt (one read of
about a thousand small rows per million users) whenever the database may have
changed: when this connection has written anything since (``total_changes``), or
another connection has committed (``PRAGMA data_version``). The page is read in the
same snapshot that the totals are checked against, so ``totalResults`` and the page
always agree with each other and with an ``OFFSET`` over the same rows.

Filtered listings match a handful of rows through their own index and keep
``OFFSET`` among those (``sql.FILTERED_PAGES``).
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox import sql
from reconciler.sandbox.filters import ListFilter

Rows = list[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class _Totals:
    """The blocks of one table at one version of the database, with running totals."""

    version: tuple[int, int]
    blocks: tuple[int, ...]  # block numbers, ascending
    before: tuple[int, ...]  # rows in the blocks before each block
    total: int


class BlockIndex:
    """Where the row at a 0-based position of one table's listing is, by block counts.

    Not thread-safe on its own: the store calls it under its lock, inside one
    transaction. Totals read inside a write transaction are used once and not kept,
    since that transaction may still roll back.
    """

    def __init__(self, table: str) -> None:
        self.table = table
        self._totals: _Totals | None = None

    def page(
        self, db: sqlite3.Connection, start_index: int, count: int, *, writing: bool = False
    ) -> tuple[int, Rows]:
        """``totalResults`` and the rows at 1-based ``start_index`` (at most ``count``)."""
        totals = self._current(db, keep=not writing)
        offset = start_index - 1
        if count <= 0 or offset >= totals.total:
            return totals.total, []
        i = bisect_right(totals.before, offset) - 1
        params = {
            "low": totals.blocks[i] << sql.BLOCK_BITS,
            "skip": offset - totals.before[i],
            "count": count,
        }
        return totals.total, db.execute(sql.PAGE_AT[self.table], params).fetchall()

    def _current(self, db: sqlite3.Connection, *, keep: bool) -> _Totals:
        # data_version starts the read transaction when it is the first statement in it,
        # so it describes the snapshot the page is then read from.
        version = (int(db.execute("PRAGMA data_version").fetchone()[0]), db.total_changes)
        if self._totals is not None and self._totals.version == version:
            return self._totals
        totals = _read_totals(db, self.table, version)
        if keep:
            self._totals = totals
        return totals


def _read_totals(db: sqlite3.Connection, table: str, version: tuple[int, int]) -> _Totals:
    blocks: list[int] = []
    before: list[int] = []
    total = 0
    for block, n in db.execute(sql.BLOCKS[table]):
        blocks.append(block)
        before.append(total)
        total += n
    return _Totals(version, tuple(blocks), tuple(before), total)


def filtered_page(
    db: sqlite3.Connection, table: str, start_index: int, count: int, where: ListFilter
) -> tuple[int, Rows]:
    """``totalResults`` and one page of the rows ``where`` matches, in ``seq`` order."""
    count_sql, page_sql = sql.FILTERED_PAGES[table, where.column]
    params = {"key": where.key, "count": count, "offset": start_index - 1}
    total = int(db.execute(count_sql, params).fetchone()[0])
    if count <= 0:
        return total, []
    return total, db.execute(page_sql, params).fetchall()
