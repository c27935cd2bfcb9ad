"""How fast the sandbox seeds and serves pages at directory scale.

    python benchmarks/sandbox_bench.py [--users 100000] [--repeat 9] [--no-file-seed]

Seeds N generated users into a temporary database (``SandboxStore.seed_users``),
then times pages of 100 through the same in-process HTTP path the reconciler uses
(httpx -> WSGITransport -> SandboxApp -> SQLite): the first page, a middle page,
the last page, the last page again right after a delete (when the block totals of
``reconciler.sandbox.paging`` are read again), and ``userName eq`` /
``externalId eq`` filters. Prints the median of several runs per request, and the
last page's cost relative to the first: about 1.0x at any N, since the row at a
``startIndex`` is found from block counts, not by walking every row before it.

Last (unless ``--no-file-seed``), it times ``reconciler sandbox seed`` of a
desired-state JSON file of N users in N/1000 groups: reading and validating the
file, checking each user as a create would, and the bulk load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from reconciler.sandbox import SandboxStore, sandbox_base_url, sandbox_transport
from reconciler.sandbox.seeding import seed


def _median_ms(
    client: httpx.Client,
    params: dict[str, str | int],
    repeat: int,
    before: Callable[[], object] | None = None,
) -> float:
    """Median wall time of GET /Users with ``params`` (each after ``before()``), in ms."""
    timings = []
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        response = client.get("/Users", params=params)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            sys.exit(f"GET /Users {params} answered {response.status_code}: {response.text}")
        timings.append(elapsed)
    return statistics.median(timings) * 1000


def _seed_from_file(directory: Path, n: int) -> None:
    """Time ``sandbox seed`` of one desired-state JSON file of ``n`` users."""
    users = [
        {
            "userName": f"person{i:06d}@example.com",
            "externalId": f"E{i}",
            "displayName": f"Person {i}",
            "name": {"givenName": "Person", "familyName": str(i)},
            "title": "Engineer",
            "enterprise": {"department": f"Department {i % 50}"},
            "groups": [f"team-{i % max(1, n // 1000)}"],
        }
        for i in range(n)
    ]
    groups = [{"displayName": f"team-{j}"} for j in range(max(1, n // 1000))]
    path = directory / "directory.json"
    path.write_text(json.dumps({"version": 1, "users": users, "groups": groups}), "utf-8")
    with SandboxStore(directory / "from-files.db") as store:
        started = time.perf_counter()
        summary = seed(store, [path])
        took = time.perf_counter() - started
    print(
        f"seed {n:,} users from a desired-state file: {took:.2f} s ({n / took:,.0f} users/s;"
        f" {summary.groups:,} groups, {summary.memberships:,} memberships)"
    )


def _time_pages(db: Path, n: int, repeat: int) -> None:
    """Print the median cost of pages at the start, middle and end, and of filters."""
    middle = n // 2
    last: dict[str, str | int] = {"startIndex": n - 99, "count": 100}
    cases: list[tuple[str, dict[str, str | int]]] = [
        ("first page", {"startIndex": 1, "count": 100}),
        ("middle page", {"startIndex": middle + 1, "count": 100}),
        ("last page", last),
        ("filter userName eq", {"filter": f'userName eq "USER{middle:06d}@example.com"'}),
        ("filter externalId eq", {"filter": f'externalId eq "user-{middle}"'}),
    ]
    transport = sandbox_transport(db)
    with httpx.Client(base_url=sandbox_base_url(), transport=transport) as client:
        for _, params in cases:  # warm up: imports, SQLite page cache
            _median_ms(client, params, 1)
        timings: dict[str, float] = {}
        for label, params in cases:
            timings[label] = ms = _median_ms(client, params, repeat)
            print(f"{label:<24} {ms:8.2f} ms  (median of {repeat})")
        victims = iter(client.get("/Users", params={"count": repeat}).json()["Resources"])
        ms = _median_ms(
            client, last, repeat, lambda: client.delete(f"/Users/{next(victims)['id']}")
        )
        print(f"{'last page after a delete':<24} {ms:8.2f} ms  (median of {repeat})")
    ratio = timings["last page"] / timings["first page"]
    print(
        f"first vs last page of {n:,} users: {timings['first page']:.2f} ms vs"
        f" {timings['last page']:.2f} ms ({ratio:.2f}x)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000, help="users to seed")
    parser.add_argument("--repeat", type=int, default=9, help="runs per request (median)")
    parser.add_argument(
        "--no-file-seed", action="store_true", help="skip timing sandbox seed of a file"
    )
    args = parser.parse_args(argv)
    n: int = args.users
    if n < 100:
        parser.error("--users must be at least 100")

    with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as tmp:
        db = Path(tmp) / "sandbox.db"
        with SandboxStore(db) as store:
            started = time.perf_counter()
            store.seed_users(n)
            seeded = time.perf_counter() - started
        size_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
        print(f"seed {n:,} users: {seeded:.2f} s ({n / seeded:,.0f} users/s, {size_mb:.0f} MB)")
        _time_pages(db, n, args.repeat)
        if not args.no_file_seed:
            _seed_from_file(Path(tmp), n)


if __name__ == "__main__":
    main()
