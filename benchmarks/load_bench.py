"""How fast desired-state files load, and how much memory loading them takes.

    python benchmarks/load_bench.py [--users 100000] [--format yaml|json] [--files 1]

Writes a directory like the one ``reconciler export`` writes (users with a few
attributes each, one group per 20 users, three memberships per user) into a
temporary directory: the users spread over ``--files`` files, the groups in one
more. Then, in a fresh Python process so that nothing else counts, it times
``load_desired`` of that directory and prints the wall and CPU time, the peak
resident memory the load added, and (in a second fresh process) the peak of the
memory Python allocated while loading, from ``tracemalloc``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

GROUP_EVERY = 20
"""One group per this many users."""
MEMBERSHIPS = 3
"""Groups each user is a member of."""

# ru_maxrss survives exec (a child starts at its parent's peak), so the peak RSS of
# the loading process is read from /proc (VmHWM, reset by exec) where there is one.
_MEASURE = """
import gc, json, resource, sys, time
from reconciler.app.gcpolicy import gc_policy
from reconciler.files.loader import load_desired

def kib(field):
    try:
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) for l in status if l.startswith(field + ":"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

trace = sys.argv[2] == "trace"
if trace:
    import tracemalloc
    tracemalloc.start()
gc.collect()
before = kib("VmRSS")
wall, cpu = time.perf_counter(), time.process_time()
with gc_policy():  # as the application loads files
    state = load_desired([sys.argv[1]])
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
peak = tracemalloc.get_traced_memory()[1] if trace else 0
print(json.dumps({"wall": wall, "cpu": cpu, "rss_before": before, "rss_peak": kib("VmHWM"),
                  "traced": peak, "users": len(state.users), "groups": len(state.groups)}))
"""


def _user(i: int) -> dict[str, Any]:
    email = f"person{i:07d}@example.com"
    return {
        "userName": email,
        "externalId": f"E{i:07d}",
        "displayName": f"Person {i}",
        "name": {"givenName": "Person", "familyName": f"Number {i}"},
        "title": "Engineer" if i % 3 else "Manager",
        "emails": [{"value": email, "type": "work", "primary": True}],
        "enterprise": {"department": f"Department {i % 50}"},
    }


def _groups(users: int) -> list[dict[str, Any]]:
    count = max(1, users // GROUP_EVERY)
    members: list[list[str]] = [[] for _ in range(count)]
    for i in range(users):
        for k in range(min(MEMBERSHIPS, count)):
            members[(i + k * 7) % count].append(f"person{i:07d}@example.com")
    return [{"displayName": f"team-{j:05d}", "members": m} for j, m in enumerate(members)]


def _yaml(value: Any, indent: str) -> Iterator[str]:
    """Block YAML as ``reconciler export`` writes it (PyYAML's layout), quickly."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                yield f"{indent}{key}:\n"
                yield from _yaml(item, indent + ("  " if isinstance(item, dict) else ""))
            else:
                yield f"{indent}{key}: {_scalar(item)}\n"
    else:
        for item in value:
            if isinstance(item, dict):
                lines = list(_yaml(item, indent + "  "))
                lines[0] = f"{indent}- {lines[0][len(indent) + 2 :]}"
                yield from lines
            else:
                yield f"{indent}- {_scalar(item)}\n"


def _scalar(value: Any) -> str:
    if value is True:
        return "true"
    if isinstance(value, list):
        return "[]"
    return str(value)


def write_directory(root: Path, users: int, files: int, fmt: str) -> int:
    """Write the directory's files into ``root``; return their total size in bytes."""
    per_file = -(-users // files)
    documents: list[tuple[str, dict[str, Any]]] = []
    for k in range(files):
        batch = [_user(i) for i in range(k * per_file, min(users, (k + 1) * per_file))]
        documents.append((f"users-{k + 1}", {"version": 1, "users": batch}))
    documents.append(("groups", {"version": 1, "groups": _groups(users)}))
    size = 0
    for name, document in documents:
        path = root / f"{name}.{fmt}"
        if fmt == "json":
            path.write_text(json.dumps(document, indent=2) + "\n", "utf-8")
        else:
            path.write_text("".join(_yaml(document, "")), "utf-8")
        size += path.stat().st_size
    return size


def _measure(root: Path, trace: bool) -> dict[str, Any]:
    argv = [sys.executable, "-c", _MEASURE, str(root), "trace" if trace else "plain"]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"loading failed:\n{result.stderr[-4000:]}")
    measured: dict[str, Any] = json.loads(result.stdout)
    return measured


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000, help="users to generate")
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml")
    parser.add_argument("--files", type=int, default=1, help="files to spread the users over")
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc run")
    args = parser.parse_args(argv)
    if args.users < 1 or args.files < 1:
        parser.error("--users and --files must be at least 1")
    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp:
        root = Path(tmp)
        size = write_directory(root, args.users, args.files, args.format)
        plain = _measure(root, trace=False)
        traced = None if args.no_trace else _measure(root, trace=True)
    print(
        f"load_desired of {plain['users']:,} users and {plain['groups']:,} groups "
        f"({args.format}, {args.files} user file(s) + 1 group file, {size / 2**20:.1f} MiB):"
    )
    print(f"  wall {plain['wall']:.2f} s, CPU {plain['cpu']:.2f} s")
    print(
        f"  peak RSS {plain['rss_peak'] / 1024:.0f} MiB"
        f" ({plain['rss_before'] / 1024:.0f} MiB before loading)"
    )
    if traced is not None:
        print(f"  peak Python allocations (tracemalloc): {traced['traced'] / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
