"""The SQLite store: paging, uniqueness, seeding, memberships, opening and closing."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.errors import ConfigError
from reconciler.sandbox import SandboxStore
from reconciler.sandbox.filters import ListFilter
from reconciler.sandbox.problems import ScimRequestError
from reconciler.sandbox.store import MemberOperation

from .conftest import UserFactory
from .helpers import scim_error


def _attrs(name: str, email: str | None = None) -> dict[str, object]:
    return {
        "userName": name,
        "emails": [{"value": email or f"{name}@example.com", "primary": True}],
        "active": True,
    }


@pytest.fixture
def store(sandbox_db: Path) -> Iterator[SandboxStore]:
    """A store on a fresh database, closed after the test."""
    with SandboxStore(sandbox_db) as s:
        yield s


# Paging through HTTP ------------------------------------------------------------


@pytest.fixture
def seeded(sandbox_db: Path) -> list[str]:
    """250 users seeded directly into the store the client's sandbox reads."""
    with SandboxStore(sandbox_db) as s:
        return s.seed_users(250)


def _page(client: httpx.Client, **params: int) -> dict[str, Any]:
    response = client.get("/Users", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_pages_cover_everything_once(client: httpx.Client, seeded: list[str]) -> None:
    """RFC 7644 section 3.4.2.4: 1-based startIndex/count pages walk every user exactly once."""
    seen: list[str] = []
    start = 1
    while True:
        page = _page(client, startIndex=start, count=100)
        assert page["totalResults"] == 250
        resources = page["Resources"]
        if not resources:
            break
        assert page["startIndex"] == start
        assert page["itemsPerPage"] == len(resources)
        seen += [r["id"] for r in resources]
        start += len(resources)
    assert seen == seeded


def test_default_and_maximum_page_is_100(client: httpx.Client, seeded: list[str]) -> None:
    """docs/atlassian.md "Listing, paging, filtering": the default and effective page size is
    100."""
    assert len(_page(client)["Resources"]) == 100
    assert len(_page(client, count=1000)["Resources"]) == 100
    assert len(_page(client, count=7)["Resources"]) == 7


def test_start_index_is_one_based(client: httpx.Client, seeded: list[str]) -> None:
    """RFC 7644 section 3.4.2.4: startIndex=101 begins with the 101st user."""
    page = _page(client, startIndex=101, count=2)
    assert [r["id"] for r in page["Resources"]] == seeded[100:102]


def test_last_and_past_the_end_pages(client: httpx.Client, seeded: list[str]) -> None:
    """RFC 7644 section 3.4.2.4: the last page is short; past the end is empty, not page 1."""
    assert len(_page(client, startIndex=201)["Resources"]) == 50
    past = _page(client, startIndex=251)
    assert past["Resources"] == []
    assert past["totalResults"] == 250


def test_count_zero_gives_only_the_total(client: httpx.Client, seeded: list[str]) -> None:
    """RFC 7644 section 3.4.2.4: count=0 returns totalResults and no resources."""
    page = _page(client, count=0)
    assert page["totalResults"] == 250
    assert page["Resources"] == []


def test_out_of_range_paging_is_clamped(client: httpx.Client, seeded: list[str]) -> None:
    """RFC 7644 section 3.4.2.4: startIndex below 1 means 1; a negative count means 0."""
    first = _page(client, startIndex=-5, count=1)
    assert first["startIndex"] == 1
    assert first["Resources"][0]["id"] == seeded[0]
    assert _page(client, count=-1)["Resources"] == []
    assert _page(client, startIndex=2**70)["Resources"] == []


@pytest.mark.parametrize("params", [{"count": "ten"}, {"startIndex": "1.5"}])
def test_non_integer_paging_is_400(
    client: httpx.Client, seeded: list[str], params: dict[str, str]
) -> None:
    """Paging parameters are integers (RFC 7644 section 3.4.2.4); others are invalidValue."""
    scim_error(client.get("/Users", params=params), 400, "invalidValue")


def test_paging_is_stable_across_deletes(
    client: httpx.Client, new_user: UserFactory, seeded: list[str]
) -> None:
    """Creation order is the listing order, so deleting a user shifts later pages by one."""
    client.delete(f"/Users/{seeded[0]}")
    late = new_user("late")
    assert _page(client, startIndex=1, count=1)["Resources"][0]["id"] == seeded[1]
    assert _page(client, startIndex=250, count=1)["Resources"][0]["id"] == late["id"]


# The store directly -------------------------------------------------------------


def test_user_name_and_email_unique_case_insensitive(store: SandboxStore) -> None:
    """docs/atlassian.md "Users": userName and email are unique, compared case-insensitively."""
    store.create_user(_attrs("Ann", "Ann@Example.com"))
    with pytest.raises(ScimRequestError) as caught:
        store.create_user(_attrs("ANN", "other@example.com"))
    assert (caught.value.status, caught.value.scim_type) == (409, "uniqueness")
    with pytest.raises(ScimRequestError, match=r"email\[ann@example.COM\]"):
        store.create_user(_attrs("bob", "ann@example.COM"))


def test_unique_indexes_back_the_checks(store: SandboxStore, sandbox_db: Path) -> None:
    """The UNIQUE indexes hold even for writes that bypass the friendly checks."""
    store.create_user(_attrs("ann"))
    with sqlite3.connect(sandbox_db) as raw, pytest.raises(sqlite3.IntegrityError):
        raw.execute(
            "INSERT INTO users (id, user_name_key, email_key, display, account_id, created,"
            " last_modified, attributes) VALUES ('x', 'ann', 'z@z', 'd', 'a', '', '', '{}')"
        )
    raw.close()


def test_filter_lookup(store: SandboxStore) -> None:
    """Filters are index lookups on lower-cased userName and exact externalId."""
    ids = store.seed_users(5)
    total, records = store.list_users(1, 100, ListFilter("user_name_key", "user000003@example.com"))
    assert (total, [r.id for r in records]) == (1, [ids[2]])
    total, records = store.list_users(1, 100, ListFilter("external_id", "user-4"))
    assert (total, [r.id for r in records]) == (1, [ids[3]])


def test_seed_is_fast_and_continues_numbering(store: SandboxStore) -> None:
    """seed_users inserts in one transaction (thousands per second) and never collides."""
    started = time.perf_counter()
    first = store.seed_users(5000)
    assert time.perf_counter() - started < 5
    second = store.seed_users(3, prefix="user")
    assert store.count_users() == 5003
    assert len(set(first + second)) == 5003
    user = store.get_user(second[-1])
    assert user.attributes["userName"] == "user005003@example.com"


def test_seed_collision_is_a_config_error(store: SandboxStore) -> None:
    """Seeding over a user created with a seed-like name reports the clash, not a traceback."""
    store.create_user(_attrs("user000002@example.com"))  # seq 1: seeding starts at 2
    with pytest.raises(ConfigError, match="cannot seed"):
        store.seed_users(1)
    assert store.count_users() == 1  # the seed was rolled back as a whole


def test_membership_changes_apply_in_order(store: SandboxStore) -> None:
    """Member changes apply in request order; unknown ids fail the whole update."""
    a, b = store.seed_users(2)
    group = store.create_group({"displayName": "Eng"}, [a])
    changes = [MemberOperation("add", (b,)), MemberOperation("remove", (a,))]
    store.update_group(group.id, {"displayName": "Eng"}, changes)
    assert store.members_of([group.seq])[group.seq] == [(b, "User 2")]
    with pytest.raises(ScimRequestError) as caught:
        store.update_group(group.id, {"displayName": "Eng"}, [MemberOperation("replace", ("zz",))])
    assert caught.value.status == 404
    assert [m[0] for m in store.members_of([group.seq])[group.seq]] == [b]


def test_store_is_thread_safe(store: SandboxStore) -> None:
    """One connection serves many threads: concurrent creates all land, none collide."""
    errors: list[BaseException] = []

    def create(n: int) -> None:
        try:
            for i in range(20):
                store.create_user(_attrs(f"t{n}-{i}"))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.count_users() == 160


def test_wal_mode_and_reopen(sandbox_db: Path) -> None:
    """The database is in WAL mode and keeps its data across close and reopen."""
    with SandboxStore(sandbox_db) as first:
        first.create_user(_attrs("ann"))
        mode = first.rows("PRAGMA journal_mode")[0][0]
    assert mode == "wal"
    with SandboxStore(sandbox_db) as second:
        assert second.count_users() == 1


def test_close_is_idempotent(sandbox_db: Path) -> None:
    """Closing twice is harmless (a transport and its client may both close)."""
    store = SandboxStore(sandbox_db)
    store.close()
    store.close()


def test_not_a_sandbox_database(tmp_path: Path) -> None:
    """Opening a file that is not a sandbox database is a ConfigError, not a traceback."""
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ConfigError, match="not a sandbox database"):
        SandboxStore(junk)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as raw:
        raw.execute("CREATE TABLE t (x)")
    raw.close()
    with pytest.raises(ConfigError, match="not a sandbox database"):
        SandboxStore(other)


def test_unopenable_path(tmp_path: Path) -> None:
    """A path that cannot hold a database (a directory) is a ConfigError."""
    with pytest.raises(ConfigError, match="cannot open"):
        SandboxStore(tmp_path)
