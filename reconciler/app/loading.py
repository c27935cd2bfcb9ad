"""Loading the files a run names: light, so ``validate`` starts fast."""

from __future__ import annotations

from pathlib import Path

from reconciler.app.gcpolicy import gc_policy
from reconciler.desired import DesiredState
from reconciler.errors import ConfigError
from reconciler.files import load_desired


def load_files(paths: tuple[Path, ...], exclude: tuple[str, ...] = ()) -> DesiredState:
    """The desired state in ``paths`` (without what ``exclude`` and each directory's
    ``.reconcilerignore`` leave out); at least one PATH is needed."""
    if not paths:
        raise ConfigError("give at least one PATH: a desired-state file or a directory of them")
    with gc_policy():
        return load_desired(paths, exclude=exclude)
