"""``run_validate``: the files checked as ``plan`` checks them, with nothing read or sent.

``plan`` refuses files that manage an attribute its target's API does not have
(``files.dialectcheck``); so does ``validate``, against the target ``plan`` would
use: ``--target``, ``RECONCILER_TARGET``, the files' ``target``, or the embedded
sandbox (which speaks Atlassian). Validating needs no token and no connection, and
often runs where the variables a ``target.url`` names are not set (a pre-commit
hook, a job without the deployment's settings): such a URL is then taken as it is
written, ``${VAR}`` left in place, which is enough to tell its dialect.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.app.loading import load_files
from reconciler.app.runtime import Runtime
from reconciler.desired import DesiredState, TargetSpec
from reconciler.dialect import dialect_named
from reconciler.errors import ConfigError
from reconciler.files.dialectcheck import check_dialect_attributes
from reconciler.target import Target, resolve_target

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Validated:
    """Files that passed every check, and the target they were checked for."""

    desired: DesiredState
    target: Target
    unset: tuple[str, ...] = ()  # variables of the target's URL that are not set


def run_validate(
    paths: tuple[Path, ...],
    cli_target: str | None,
    runtime: Runtime,
    exclude: tuple[str, ...] = (),
) -> Validated:
    """Load the files and check them against the dialect of the target ``plan`` would use.

    Raises ``DesiredStateError`` (every problem, at its place) or ``ConfigError``.
    """
    desired = load_files(paths, exclude)
    target, unset = _target_to_check(cli_target, desired.target, runtime.env)
    check_dialect_attributes(desired, paths, dialect_named(target.dialect), exclude=exclude)
    return Validated(desired, target, unset)


def _target_to_check(
    cli_target: str | None, spec: TargetSpec, env: Mapping[str, str]
) -> tuple[Target, tuple[str, ...]]:
    """The target as ``plan`` resolves it; a URL whose variables are not set, as written."""
    try:
        return resolve_target(cli_target, spec, env), ()
    except ConfigError as unresolved:
        written = (cli_target, env.get("RECONCILER_TARGET"), spec.url)
        unset = sorted({n for raw in written if raw for n in _VAR.findall(raw) if n not in env})
        if not unset:
            raise
        as_written = {**env, **{name: f"${{{name}}}" for name in unset}}
        try:  # the refusals of credentials in the URL still apply
            return resolve_target(cli_target, spec, as_written), tuple(unset)
        except ConfigError:
            raise unresolved from None
