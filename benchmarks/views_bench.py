"""The plan views at scale: one group gaining N people (issue: views at scale).

Plans N users who all join ``everyone`` (pure planner, no server), then times the
digest and each view. Every person stays in the JSON plan's ``access`` list.

    python benchmarks/views_bench.py --people 100000
"""

from __future__ import annotations

import argparse
import time

from reconciler.desired import DesiredState, GroupSpec, UserSpec
from reconciler.live import LiveGroup, LiveSnapshot, LiveUser
from reconciler.planner import PlanContext, plan
from reconciler.render import render_plan_json, render_plan_markdown, render_plan_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    n = parser.parse_args().people
    names = [f"user{i}@example.com" for i in range(n)]
    live = LiveSnapshot(
        users=tuple(
            LiveUser.from_scim({"id": f"u{i}", "userName": u}) for i, u in enumerate(names)
        ),
        groups=(LiveGroup.from_scim({"id": "g1", "displayName": "everyone", "members": []}),),
    )
    desired = DesiredState(
        users=tuple(UserSpec(userName=u) for u in names),
        groups=(GroupSpec(displayName="everyone", members=tuple(names)),),
    )
    started = time.perf_counter()
    made = plan(desired, live, PlanContext("bench", "generic"))
    figures = {"plan": time.perf_counter() - started}
    for name, step in (
        ("digest", lambda: made.digest),
        ("json view", lambda: render_plan_json(made)),
        ("text view", lambda: render_plan_text(made, color=False)),
        ("markdown view", lambda: render_plan_markdown(made)),
    ):
        started = time.perf_counter()
        step()
        figures[name] = time.perf_counter() - started
    print(f"{n:,} people join one group; {len(made.access):,} in the access review")
    for name, seconds in figures.items():
        print(f"{name:>14}  {seconds:6.2f} s")


if __name__ == "__main__":
    main()
