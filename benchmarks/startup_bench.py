"""How fast the command line answers: --version, --help and validate of the quickstart.

Each command runs as a fresh process, as a person or a CI step runs it; the figure is
the median wall time of several runs. Targets (issue 12): --version and --help under
0.3 s, validate of the quickstart under 0.5 s.

    python benchmarks/startup_bench.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart"
COMMANDS = {
    "reconciler --version": ["--version"],
    "reconciler --help": ["--help"],
    "reconciler validate examples/quickstart": ["validate", str(QUICKSTART)],
}


def median_seconds(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "reconciler", *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    for label, args in COMMANDS.items():
        print(f"{label:45} {median_seconds(args, runs):.2f} s (median of {runs})")


if __name__ == "__main__":
    main()
