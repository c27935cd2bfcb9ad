"""``--metrics-file``: the run's metrics, written at its end whatever the exit code.

The option wraps a command inside ``global_options`` (it gets the run's ``Output``,
and sees an error before ``global_options`` turns it into an exit code), collects
what the command reports through ``observe_plan`` and ``observe_report``, and the
read's counts through the ``Runtime``, and writes ``reconciler.metrics.exposition``
atomically: a scraper reads the last run's file or this one's, never half of one.
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from reconciler.errors import ConfigError, ReconcilerError

if TYPE_CHECKING:
    from reconciler.cli.common import Output
    from reconciler.metrics import RunRecord
    from reconciler.plan import Plan
    from reconciler.report import ApplyReport

F = TypeVar("F", bound=Callable[..., Any])

METRICS_VARIABLE = "RECONCILER_METRICS_FILE"
_META_KEY = "reconciler.metrics"
# Readable by a collector running as another user (node-exporter), as a file written
# by a shell redirection would be; the content is counts, never names.
_MODE = 0o644


def metrics_option(func: F) -> F:
    """``--metrics-file PATH`` (or ``RECONCILER_METRICS_FILE``); below ``global_options``."""

    @click.option(
        "--metrics-file",
        type=click.Path(path_type=Path, dir_okay=False),
        envvar=METRICS_VARIABLE,
        show_envvar=True,
        help="At the end of the run, whatever its exit code, write its metrics here in the "
        "Prometheus text format (node-exporter's textfile collector: a *.prom file in its "
        "directory; or for a Pushgateway).",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, output: Output, metrics_file: Path | None, **kwargs: Any) -> Any:
        if metrics_file is None:
            return func(*args, output=output, **kwargs)
        from reconciler.metrics import RunRecord

        started = time.monotonic()
        record = RunRecord(command=click.get_current_context().info_name or "")
        click.get_current_context().meta[_META_KEY] = record
        output.runtime = replace(output.runtime, read_counts=record.read_counts)
        code = 1
        try:
            func(*args, output=output, **kwargs)
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
            raise
        except ReconcilerError as error:
            code = error.exit_code
            raise
        except KeyboardInterrupt as stop:  # SIGTERM (global_options), else Ctrl-C (Abort)
            code = 128 + stop.signum if hasattr(stop, "signum") else 1
            raise
        finally:
            record.exit_code = code
            record.duration_seconds = round(time.monotonic() - started, 3)
            record.finished_at = round(time.time(), 3)
            _write(metrics_file, record, output, failing=code not in (0, 2))

    return wrapper  # type: ignore[return-value]


def observe_plan(plan: Plan) -> None:
    """The plan this run judged, for the metrics file (when one is asked for)."""
    record = _record()
    if record is not None:
        record.plan(plan)


def observe_report(report: ApplyReport) -> None:
    """What this run's apply did, for the metrics file (when one is asked for)."""
    record = _record()
    if record is not None:
        record.report(report)


def _record() -> RunRecord | None:
    context = click.get_current_context(silent=True)
    return None if context is None else cast("RunRecord | None", context.meta.get(_META_KEY))


def _write(path: Path, record: RunRecord, output: Output, *, failing: bool) -> None:
    """Write the metrics; a failure is said, and fails a run that was going to succeed
    (a scheduled job whose metrics stop is not a success), not one failing already."""
    from reconciler.metrics import exposition

    try:
        write_readable_atomically(path, exposition(record))
    except ConfigError as error:
        if not failing:
            raise
        output.error("error", str(error), record.exit_code)


def write_readable_atomically(path: Path, text: str) -> None:
    """Write ``text`` whole or not at all (a temporary file renamed over ``path``), readable
    by other users, never through a symbolic link; the directory must exist."""
    if path.is_symlink():
        raise ConfigError(f"{path} is a symbolic link; refusing to write the metrics through it")
    tmp: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as handle:
            tmp = Path(handle.name)
            handle.write(text)
            os.fchmod(handle.fileno(), _MODE)
        tmp.replace(path)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write the metrics file {path}: {exc.strerror or exc}") from None
