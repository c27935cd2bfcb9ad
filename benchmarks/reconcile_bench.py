"""How long a whole reconcile takes at directory scale, phase by phase.

    python benchmarks/reconcile_bench.py [--users 20000] [--changes 500]

Seeds N users into a sandbox, writes desired-state files that list all of them with
``--changes`` of them given a new title (and a group of everyone), then times each
phase the way ``reconciler apply`` runs it: loading the files, the complete live
read (every page of 100 through the in-process HTTP path), the pure planner, the
JSON and markdown views, and the apply. A second plan after the apply must be
empty; the benchmark fails loudly otherwise. Prints seconds per phase and rates.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from reconciler.app.gcpolicy import gc_policy
from reconciler.executor import Executor, ScimWriter
from reconciler.files import load_desired
from reconciler.logs import configure_logging
from reconciler.planner import PlanContext, plan
from reconciler.render import render_plan_json, render_plan_markdown
from reconciler.report import Outcome
from reconciler.sandbox import SandboxStore
from reconciler.snapshot import read_snapshot
from reconciler.target import connect, resolve_target


def write_files(root: Path, users: int, changes: int) -> None:
    lines = ["version: 1", "policy:", "  limits: {max_member_removals: 0}", "users:"]
    for i in range(1, users + 1):
        lines.append(f"  - userName: bench{i:06d}@example.com")
        lines.append(f"    externalId: bench-{i}")
        if i <= changes:
            lines.append("    title: Benchmarked")
    lines += ["groups:", "  - displayName: everyone", "    members:"]
    lines += [f"      - bench{i:06d}@example.com" for i in range(1, users + 1)]
    (root / "directory.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def timed(label: str, results: list[tuple[str, float]]) -> _Timer:
    return _Timer(label, results)


class _Timer:
    def __init__(self, label: str, results: list[tuple[str, float]]) -> None:
        self.label = label
        self.results = results

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.results.append((self.label, time.perf_counter() - self.started))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    configure_logging("console", -1, color=False)  # errors only: the figures are the output
    results: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db = root / "sandbox.db"
        with timed("seed live users", results), SandboxStore(db) as store:
            store.seed_users(args.users, prefix="bench", domain="example.com")
        write_files(root, args.users, args.changes)
        with timed("load and validate files", results), gc_policy():  # as the app loads files
            desired = load_desired([root / "directory.yaml"])
        target = resolve_target(f"sandbox:{db}", desired.target, {})
        connection = connect(target, {})
        context = PlanContext(target.url, connection.dialect)
        with timed("read live directory", results):
            live = read_snapshot(connection.client, page_size=connection.page_size)
        with timed("plan (pure)", results):
            the_plan = plan(desired, live, context)
        with timed("render JSON", results):
            render_plan_json(the_plan)
        with timed("render markdown", results):
            markdown = render_plan_markdown(the_plan)
        with timed("apply", results):
            executor = Executor(
                ScimWriter(connection.client),
                dialect=connection.dialect,
                concurrency=args.concurrency,
            )
            report = executor.execute(the_plan)
        live_after = read_snapshot(connection.client, page_size=connection.page_size)
        again = plan(desired, live_after, context)
        connection.client.close()
    unapplied = report.count(Outcome.FAILED) + report.count(Outcome.SKIPPED)  # exit 4 if any
    if unapplied or not again.is_empty:
        sys.exit(f"did not converge: {unapplied} actions not applied, second plan {again.summary}")
    print(
        f"users: {args.users}, planned actions: {len(the_plan.actions)} "
        f"({the_plan.summary}), markdown {len(markdown)} chars"
    )
    for label, seconds in results:
        print(f"  {label:<26} {seconds:8.2f} s")
    read_s = dict(results)["read live directory"]
    apply_s = dict(results)["apply"]
    print(
        f"  read rate: {args.users / read_s:,.0f} users/s "
        f"({args.users // 100 + 1} pages of 100, {read_s / (args.users / 100) * 1000:.1f} ms/page)"
    )
    print(
        f"  apply rate: {len(the_plan.actions) / apply_s:,.0f} actions/s "
        f"at concurrency {args.concurrency}"
    )


if __name__ == "__main__":
    main()
