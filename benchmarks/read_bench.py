"""Reading a large directory over a network with latency: pages in order vs in parallel.

    python benchmarks/read_bench.py [--users 20000] [--latency-ms 30] [--concurrency 4]

Serves a seeded sandbox over loopback HTTP with injected latency per request (a
stand-in for the round trip to a real directory), then reads every user with the
real client, one page at a time and with parallel pages, and prints both times and
their ratio. Both reads must return the same users.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

from reconciler.logs import configure_logging
from reconciler.sandbox import FaultConfig, SandboxServer, SandboxStore
from reconciler.scim.client import ScimClient


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    configure_logging("console", -1, color=False)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "sandbox.db"
        with SandboxStore(db) as store:
            store.seed_users(args.users, prefix="read", domain="example.com")
        faults = FaultConfig(latency_ms=args.latency_ms)
        with SandboxServer(db, "127.0.0.1", 0, faults=faults) as server:
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                timings = {}
                results = {}
                for concurrency in (1, args.concurrency):
                    with ScimClient(server.base_url) as client:
                        started = time.perf_counter()
                        users = client.list_all("Users", page_size=100, concurrency=concurrency)
                        timings[concurrency] = time.perf_counter() - started
                        results[concurrency] = sorted(u["id"] for u in users)
            finally:
                server.shutdown()
                thread.join(timeout=10)
    if results[1] != results[args.concurrency] or len(results[1]) != args.users:
        sys.exit("the two reads disagree")
    pages = args.users // 100 + (args.users % 100 > 0)
    print(f"users: {args.users} ({pages} pages of 100), latency {args.latency_ms:.0f} ms/request")
    for concurrency, seconds in timings.items():
        per_page = seconds / pages * 1000
        print(f"  concurrency {concurrency}: {seconds:6.2f} s  ({per_page:5.1f} ms/page)")
    print(f"  speed-up: {timings[1] / timings[args.concurrency]:.1f}x")


if __name__ == "__main__":
    main()
