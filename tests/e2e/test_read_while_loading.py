"""``reconciler plan`` against the served sandbox (its own process, over loopback), where
the read overlaps the loading of the files: the plan of the sequential reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.app import Runtime
from reconciler.app.pipeline import read_while_loading, sequential
from reconciler.app.session import Session, plan_live
from reconciler.saved import saved_form
from tests.app.test_pipeline import CASES, larger_directory
from tests.e2e.helpers import reconciler, served_sandbox


@pytest.mark.parametrize("case", ["manages-more", "over-a-limit"])
def test_the_plan_command_gives_the_plan_of_the_sequential_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """The CLI's plan (files loaded while the directory is read) is the JSON, digest
    included, of the plan made by loading the files and then reading the directory."""
    monkeypatch.delenv("RECONCILER_TOKEN", raising=False)
    monkeypatch.delenv("RECONCILER_TARGET", raising=False)
    files = tmp_path / "files"
    files.mkdir()
    for name, text in CASES[case].items():
        (files / name).write_text(text, encoding="utf-8")
    db = tmp_path / "served.db"
    larger_directory(db)
    with served_sandbox(db) as url:
        runtime = Runtime(env={})
        with read_while_loading((files,), url, runtime, strategy=sequential) as run:
            session = Session(run.target, run.connection)
            reference = plan_live(session, run.desired, run.live, runtime)
        shown = reconciler("plan", str(files), "--target", url, "--format", "json", "-q")
    assert shown.exit_code == (3 if reference.blocked else 0), shown.stderr
    assert shown.json() == json.loads(saved_form(reference))
    assert shown.json()["digest"] == reference.digest
