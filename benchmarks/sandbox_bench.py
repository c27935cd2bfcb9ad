"""How fast the sandbox seeds and serves pages at directory scale.

    python benchmarks/sandbox_bench.py [--users 100000] [--repeat 9]

Seeds N generated users into a temporary database (``SandboxStore.seed_users``),
then times pages of 100 through the same in-process HTTP path the reconciler uses
(httpx -> WSGITransport -> SandboxApp -> SQLite): the first page, a middle page,
the last page, and ``userName eq`` / ``externalId eq`` filters. Prints the median
of several runs per request. The last page should cost about what the first does:
startIndex is skipped in a narrow index, not by reading every row before it.

Last, it times ``reconciler sandbox seed`` of a desired-state JSON file of N users
in N/1000 groups: reading and validating the file, checking each user as a create
would, and the bulk load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from reconciler.sandbox import SandboxStore, sandbox_base_url, sandbox_transport
from reconciler.sandbox.seeding import seed


def _median_ms(client: httpx.Client, params: dict[str, str | int], repeat: int) -> float:
    """Median wall time of GET /Users with ``params``, in milliseconds."""
    timings = []
    for _ in range(repeat):
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000, help="users to seed")
    parser.add_argument("--repeat", type=int, default=9, help="runs per request (median)")
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

        middle = n // 2
        cases: list[tuple[str, dict[str, str | int]]] = [
            ("first page", {"startIndex": 1, "count": 100}),
            ("middle page", {"startIndex": middle + 1, "count": 100}),
            ("last page", {"startIndex": n - 99, "count": 100}),
            ("filter userName eq", {"filter": f'userName eq "USER{middle:06d}@example.com"'}),
            ("filter externalId eq", {"filter": f'externalId eq "user-{middle}"'}),
        ]
        transport = sandbox_transport(db)
        with httpx.Client(base_url=sandbox_base_url(), transport=transport) as client:
            for _, params in cases:  # warm up: imports, SQLite page cache
                _median_ms(client, params, 1)
            for label, params in cases:
                ms = _median_ms(client, params, args.repeat)
                print(f"{label:<22} {ms:8.2f} ms  (median of {args.repeat})")
        _seed_from_file(Path(tmp), n)


if __name__ == "__main__":
    main()
