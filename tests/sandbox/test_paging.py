"""Keyset paging: every startIndex answers exactly what an OFFSET over the same rows would."""

from __future__ import annotations

import re
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import ConfigError
from reconciler.sandbox import SandboxStore, sql
from reconciler.sandbox.bulk import BulkGroup, load_directory
from reconciler.sandbox.database import statements
from reconciler.sandbox.filters import ListFilter
from tests.hypothesis_profiles import examples

BLOCK = 2**sql.BLOCK_BITS


def _attrs(name: str, external_id: str | None = None) -> dict[str, object]:
    attrs: dict[str, object] = {
        "userName": f"{name}@example.com",
        "emails": [{"value": f"{name}@example.com", "primary": True}],
        "active": True,
    }
    if external_id is not None:
        attrs["externalId"] = external_id
    return attrs


def _jump(store: SandboxStore, table: str, gap: int) -> None:
    """Leave ``gap`` seq numbers unused, as rows created and deleted since would."""
    with store.transaction():
        store.execute("UPDATE sqlite_sequence SET seq = seq + ? WHERE name = ?", (gap, table))


def _reference(store: SandboxStore, start_index: int, count: int) -> tuple[int, list[str]]:
    """The answer of a plain OFFSET over the users in creation order."""
    total = int(store.rows("SELECT count(*) FROM users")[0][0])
    rows = store.rows(
        "SELECT id FROM users ORDER BY seq LIMIT ? OFFSET ?", (max(count, 0), start_index - 1)
    )
    return total, [row[0] for row in rows]


def _listed(store: SandboxStore, start_index: int, count: int) -> tuple[int, list[str]]:
    total, records = store.list_users(start_index, count)
    return total, [r.id for r in records]


def _all_ids(store: SandboxStore) -> list[str]:
    return [row[0] for row in store.rows("SELECT id FROM users ORDER BY seq")]


@pytest.fixture
def store(sandbox_db: Path) -> Iterator[SandboxStore]:
    """A store on a fresh database, closed after the test."""
    with SandboxStore(sandbox_db) as s:
        yield s


@pytest.fixture
def spread(store: SandboxStore) -> list[str]:
    """2,600 users over three blocks, then 700 more after a gap of two empty blocks."""
    ids = store.seed_users(2600)
    _jump(store, "users", 2 * BLOCK)
    return ids + store.seed_users(700, prefix="late")


def test_every_start_index_is_exact(store: SandboxStore, spread: list[str]) -> None:
    """RFC 7644 section 3.4.2.4: startIndex N begins with the Nth user, at block edges too."""
    edges = [1, 2, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 1, 2600, 2601, 3300, 3301, 3302]
    for start in edges:
        for count in (0, 1, 100):
            assert _listed(store, start, count) == (
                3300,
                spread[start - 1 : start - 1 + count],
            ), (start, count)


def test_pages_stay_exact_across_deletes_and_inserts(
    store: SandboxStore, spread: list[str]
) -> None:
    """Deleting shifts later rows back by one, a whole deleted block included; inserts append."""
    for user_id in spread[BLOCK : 2 * BLOCK]:  # every user of the second block
        store.delete_user(user_id)
    store.delete_user(spread[0])
    store.delete_user(spread[-1])
    assert store.rows("SELECT count(*) FROM user_blocks WHERE n = 0")[0][0] == 0
    late = store.create_user(_attrs("newest"))
    expected = [*spread[1:BLOCK], *spread[2 * BLOCK : -1], late.id]
    assert _all_ids(store) == expected
    for start in range(1, len(expected) + 2, 97):
        assert _listed(store, start, 100) == _reference(store, start, 100)
    assert _listed(store, len(expected), 5) == (len(expected), [late.id])


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("create"), st.sampled_from([0, 0, 1, 300, BLOCK, 3 * BLOCK])),
            st.tuples(st.just("delete"), st.integers(min_value=0, max_value=10_000)),
        ),
        min_size=1,
        max_size=30,
    ),
    st.integers(min_value=1, max_value=8),
)
def test_paging_matches_offset_after_any_writes(
    operations: list[tuple[str, int]], count: int
) -> None:
    """Property: after any creates (with gaps in seq) and deletes, every page is OFFSET's."""
    with tempfile.TemporaryDirectory() as tmp, SandboxStore(Path(tmp) / "s.db") as store:
        for n, (op, value) in enumerate(operations):
            live = _all_ids(store)
            if op == "create":
                _jump(store, "users", value)
                store.create_user(_attrs(f"u{n}"))
            elif live:
                store.delete_user(live[value % len(live)])
            total = len(_all_ids(store))
            for start in range(1, total + 2):
                assert _listed(store, start, count) == _reference(store, start, count)


def _counted_rightly(store: SandboxStore) -> bool:
    """Whether every table's block counts are what counting its rows gives."""
    return all(
        store.rows(f"SELECT block, n FROM {blocks} ORDER BY block")  # noqa: S608
        == store.rows(f"SELECT seq >> {sql.BLOCK_BITS}, count(*) FROM {table} GROUP BY 1")  # noqa: S608
        for table, blocks in (("users", "user_blocks"), ("groups", "group_blocks"))
    )


def _triggers(store: SandboxStore) -> set[str]:
    return {row[0] for row in store.rows("SELECT name FROM sqlite_master WHERE type = 'trigger'")}


def test_bulk_loads_count_blocks_at_once(store: SandboxStore) -> None:
    """A bulk load counts its rows' blocks at its end, into a block it shares too."""
    everything = _triggers(store)
    first = store.create_user(_attrs("first"))
    store.create_group({"displayName": "early"}, [first.id])
    ids = store.seed_users(BLOCK + 10)
    load_directory(
        store,
        [_attrs(f"bulk{n}") for n in range(5)],
        [BulkGroup("bulk", (0, 1)), BulkGroup("other")],
    )
    assert _counted_rightly(store)
    assert _triggers(store) == everything
    late = store.create_user(_attrs("late"))  # the insert trigger counts again
    assert _counted_rightly(store)
    assert _listed(store, BLOCK + 17, 5) == (BLOCK + 17, [late.id])
    assert _listed(store, 2, 1) == (BLOCK + 17, [ids[0]])


def test_a_failed_bulk_load_keeps_counts_and_trigger(store: SandboxStore) -> None:
    """A bulk load that fails halfway rolls back whole; the insert trigger stays."""
    everything = _triggers(store)
    taken = "user000003@example.com"  # seeding numbers on from 2 and collides with it
    store.create_user({"userName": taken, "emails": [{"value": taken, "primary": True}]})
    with pytest.raises(ConfigError):
        store.seed_users(5)
    assert _triggers(store) == everything
    assert _counted_rightly(store)
    assert store.count_users() == 1
    store.create_user(_attrs("next"))
    assert _counted_rightly(store)


def test_writes_of_another_connection_are_seen(store: SandboxStore, sandbox_db: Path) -> None:
    """Block totals kept between pages are read again after another connection commits."""
    ids = store.seed_users(5)
    assert _listed(store, 1, 2) == (5, ids[:2])
    with sqlite3.connect(sandbox_db) as raw:
        raw.execute("DELETE FROM users WHERE id = ?", (ids[0],))
    raw.close()
    assert _listed(store, 1, 2) == (4, ids[1:3])


def test_a_rolled_back_write_is_not_remembered(store: SandboxStore) -> None:
    """Totals seen inside a transaction that rolls back are not kept for later pages."""
    ids = store.seed_users(3)
    seen: list[tuple[int, list[str]]] = []

    def create_list_and_fail() -> None:
        with store.transaction():
            extra = store.create_user(_attrs("ghost"))
            seen.append(_listed(store, 1, 10))
            raise RuntimeError(extra.id)

    with pytest.raises(RuntimeError) as caught:
        create_list_and_fail()
    extra_id = str(caught.value)
    assert seen == [(4, [*ids, extra_id])]
    assert _listed(store, 1, 10) == (3, ids)
    assert store.count_users() == 3
    assert not store.rows("SELECT 1 FROM users WHERE id = ?", (extra_id,))


def test_groups_page_by_blocks_too(store: SandboxStore) -> None:
    """Groups list in creation order across seq gaps, exactly as users do."""
    made = []
    for n in range(5):
        _jump(store, "groups", BLOCK if n % 2 else 1)
        made.append(store.create_group({"displayName": f"g{n}"}, []).id)
    for start in range(1, 7):
        total, records = store.list_groups(start, 2)
        assert (total, [r.id for r in records]) == (5, made[start - 1 : start + 1])


def test_filters_still_page_among_their_matches(store: SandboxStore) -> None:
    """A filter's totalResults and startIndex count only the users it matches."""
    shared = [store.create_user(_attrs(f"twin{n}", "E1")).id for n in range(3)]
    store.create_user(_attrs("other", "E2"))
    where = ListFilter("external_id", "E1")
    total, records = store.list_users(2, 5, where)
    assert (total, [r.id for r in records]) == (3, shared[1:])


def test_parallel_pages_by_start_index(client: httpx.Client, sandbox_db: Path) -> None:
    """Pages asked for at once (startIndex 1, 101, 201...) are exact and cover everyone once."""
    with SandboxStore(sandbox_db) as s:
        ids = s.seed_users(1450)
    starts = range(1, 1451, 100)

    def page(start: int) -> list[str]:
        response = client.get("/Users", params={"startIndex": start, "count": 100})
        assert response.status_code == 200, response.text
        assert response.json()["totalResults"] == 1450
        return [r["id"] for r in response.json()["Resources"]]

    with ThreadPoolExecutor(max_workers=4) as pool:
        pages = list(pool.map(page, starts))
    assert [i for p in pages for i in p] == ids


def test_pages_between_concurrent_deletes_are_exact(store: SandboxStore) -> None:
    """Deletes from another thread between pages: each page is OFFSET's at its moment."""
    ids = store.seed_users(1200)

    def delete() -> None:
        for user_id in ids[::7]:
            store.delete_user(user_id)

    writer = threading.Thread(target=delete)
    writer.start()
    pages = 0
    try:
        while writer.is_alive() or pages == 0:
            _, page = _listed(store, 600, 50)  # its own snapshot
            positions = [ids.index(i) for i in page]
            assert positions == sorted(positions)
            assert len(page) == 50
            with store.transaction():  # no delete lands between these two reads
                assert _listed(store, 600, 50) == _reference(store, 600, 50)
            pages += 1
    finally:
        writer.join()
    assert _listed(store, 1, 100) == _reference(store, 1, 100)
    assert store.count_users() == 1200 - len(ids[::7])


def test_a_schema_2_database_gets_block_counts(sandbox_db: Path) -> None:
    """A sandbox written before block counts existed opens with them counted from its rows."""
    with SandboxStore(sandbox_db) as s:
        ids = s.seed_users(1500)
    with sqlite3.connect(sandbox_db, isolation_level=None) as raw:
        for name in ("users_block_insert", "users_block_delete"):
            raw.execute(f"DROP TRIGGER {name}")
        for name in ("groups_block_insert", "groups_block_delete"):
            raw.execute(f"DROP TRIGGER {name}")
        raw.execute("DROP TABLE user_blocks")
        raw.execute("DROP TABLE group_blocks")
        raw.execute("DROP TABLE org_domains")
        raw.execute("DROP TABLE org_caps")
        raw.execute("PRAGMA user_version = 2")
    raw.close()
    with SandboxStore(sandbox_db) as s:
        assert _listed(s, 1101, 100) == (1500, ids[1100:1200])
        s.delete_user(ids[0])
        assert _listed(s, 1, 1) == (1499, [ids[1]])


def test_trigger_bodies_stay_whole() -> None:
    """Schema scripts split into statements at semicolons, except inside a trigger body."""
    parts = list(statements(sql.BLOCKS_DDL))
    assert len(parts) == 6
    assert parts[2].startswith("CREATE TRIGGER")
    assert parts[2].endswith("END;")


def test_block_size_is_the_one_the_triggers_use() -> None:
    """The block number paging computes is the one the triggers count rows under."""
    scripts = [sql.DDL, *sql.MIGRATIONS[2], *sql.COUNT_NEW_BLOCKS.values()]
    shifts = [int(bits) for script in scripts for bits in re.findall(r">> (\d+)", script)]
    assert len(shifts) == 18
    assert set(shifts) == {sql.BLOCK_BITS}
