"""The collector policy: set once at the application edge, never in library code."""

from __future__ import annotations

import ast
import gc
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

import reconciler
import reconciler.app.session as session
from reconciler.app.apply import ApplyRequest, run_apply
from reconciler.app.gcpolicy import PACED_SWITCH_INTERVAL, gc_policy, paced_switching
from reconciler.app.runtime import ProgressBar, Runtime
from reconciler.app.session import run_plan
from reconciler.plan import Plan
from reconciler.report import Approval
from reconciler.sandbox import SandboxStore
from reconciler.target import Target

PACKAGE = Path(reconciler.__file__).parent
APPLICATION_EDGE = ("app", "cli")


@contextmanager
def collector(enabled: bool) -> Iterator[None]:
    """The collector on or off for a test, as it was again after."""
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        yield
    finally:
        (gc.enable if was else gc.disable)()


def test_what_is_built_inside_joins_the_oldest_generation_with_the_collector_back_on() -> None:
    """Inside, the collector is off; after, it is on, nothing stays frozen, and what was
    built inside is in the oldest generation, where young collections do not walk it."""
    with collector(enabled=True):
        with gc_policy():
            assert not gc.isenabled()
            built = [{"user": i} for i in range(3)]
        assert gc.isenabled()
        assert gc.get_freeze_count() == 0
        assert any(o is built for o in gc.get_objects(generation=2))


def test_a_collector_already_off_is_left_to_whoever_turned_it_off() -> None:
    """Inside an outer policy (or a program that turned the collector off), nothing changes."""
    with collector(enabled=False):
        with gc_policy():
            assert not gc.isenabled()
        assert not gc.isenabled()
        assert gc.get_freeze_count() == 0


def test_the_collector_is_back_on_after_an_error() -> None:
    """An error inside leaves the collector as it was."""
    with collector(enabled=True):
        with pytest.raises(ValueError, match="bad"), gc_policy():
            raise ValueError("bad")
        assert gc.isenabled()


def _modules_importing_gc() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if "gc" in names:
                found.append(str(path.relative_to(PACKAGE)))
    return found


def test_only_the_application_edge_touches_the_collector() -> None:
    """Library code never imports ``gc``: the collector is the application's to set."""
    outside = [m for m in _modules_importing_gc() if not m.startswith(APPLICATION_EDGE)]
    assert outside == []
    assert _modules_importing_gc() == ["app/gcpolicy.py"]


FILES = """\
version: 1
users:
  - userName: u000001@example.com
    displayName: Renamed
  - userName: new@example.com
"""


class _Watched:
    """The real planner, remembering whether the collector was on while it ran."""

    def __init__(self) -> None:
        self.collector_on: list[bool] = []
        self.real = session.plan

    def __call__(self, *args: Any, **kwargs: Any) -> Plan:
        self.collector_on.append(gc.isenabled())
        return self.real(*args, **kwargs)


class _Going:
    """Apply hooks that approve, remembering whether the collector was on for the writes."""

    collector_on_for_writes: bool | None = None

    def planned(self, plan_: Plan, target: Target, approval: Approval | None) -> None:
        pass

    def refused(self, plan_: Plan, target: Target) -> None:
        raise AssertionError("no limit refuses this plan")

    def confirm(self, plan_: Plan, target: Target) -> None:
        raise AssertionError("--auto-approve does not ask")

    def applying(self, total: int) -> AbstractContextManager[ProgressBar]:
        self.collector_on_for_writes = gc.isenabled()
        return Runtime().progress("Applying", total)


def test_a_run_plans_with_the_collector_off_and_writes_with_it_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``plan`` and ``apply`` load, read and plan inside ``gc_policy``; the writes of an
    apply run with the collector on, and it is on after the run."""
    db = tmp_path / "s.db"
    with SandboxStore(db) as store:
        store.seed_users(2, prefix="u", domain="example.com")
    files = tmp_path / "users.yaml"
    files.write_text(FILES, encoding="utf-8")
    watched = _Watched()
    monkeypatch.setattr(session, "plan", watched)
    with collector(enabled=True):
        run_plan((files,), f"sandbox:{db}", Runtime(env={}))
        hooks = _Going()
        request = ApplyRequest(paths=(files,), target=f"sandbox:{db}", auto_approve=True)
        run_apply(request, Runtime(env={}), hooks)
        assert gc.isenabled()
    assert watched.collector_on == [False, False]
    assert hooks.collector_on_for_writes is True


def test_a_paced_read_hands_the_interpreter_over_often_and_gives_the_interval_back() -> None:
    """With a rate, the switch interval is 0.5 ms inside and as it was after, also after
    an error; without one it is never touched."""
    before = sys.getswitchinterval()
    with paced_switching(100.0):
        assert sys.getswitchinterval() == pytest.approx(PACED_SWITCH_INTERVAL)
    assert sys.getswitchinterval() == before
    with pytest.raises(ValueError, match="bad"), paced_switching(100.0):
        raise ValueError("bad")
    assert sys.getswitchinterval() == before
    with paced_switching(None):
        assert sys.getswitchinterval() == before


def _modules_setting_the_switch_interval() -> list[str]:
    return [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if "setswitchinterval" in path.read_text(encoding="utf-8")
    ]


def test_only_the_application_edge_sets_the_switch_interval() -> None:
    assert _modules_setting_the_switch_interval() == ["app/gcpolicy.py"]
