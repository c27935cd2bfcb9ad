"""A run's metrics in the Prometheus text exposition format, for scheduled jobs.

Written at the end of every ``plan`` and ``apply`` that gets as far as running
(``--metrics-file``; docs/design.md "Metrics"), for node-exporter's textfile collector
or a Pushgateway. Every metric is a gauge of this one run, overwritten by the next:

- ``reconciler_exit_code``, ``reconciler_duration_seconds`` and
  ``reconciler_last_run_timestamp_seconds``: always;
- ``reconciler_planned_actions{action}``: every kind of action, 0 included, once a plan
  was made (after ``apply --only``: the whole plan from the files, so drift shows);
- ``reconciler_sensitive_changes``: of the plan judged (what is sent);
- ``reconciler_applied_actions{outcome}`` (applied, failed, skipped) and
  ``reconciler_left_for_later_actions``: every ``apply`` that made or took a plan
  (zeros when it was refused);
- ``reconciler_read_objects{resource}`` (user, group): once the directory was read whole.

The text is made by ``prometheus_client`` (its exposition writer, ``generate_latest``,
on a private ``CollectorRegistry``), from metric families built here: no metric object
holds state between runs, and the process-wide default registry is never touched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconciler.plan import ActionKind, Plan
from reconciler.report import ApplyReport, Outcome

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric


@dataclass
class RunRecord:
    """What one run did, as it becomes known; ``exposition`` writes it out."""

    command: str
    exit_code: int = 0
    duration_seconds: float = 0.0
    finished_at: float = 0.0  # seconds since the epoch
    planned: dict[str, int] | None = None
    sensitive_changes: int | None = None
    applied: dict[str, int] | None = None
    left_for_later: int | None = None
    read: dict[str, int] = field(default_factory=dict)

    def plan(self, plan: Plan) -> None:
        """The plan this run judged. A plan narrowed by ``apply --only`` still counts the
        whole plan's actions: each action sent or left whole once, a split one once."""
        counts: Counter[str] = Counter(action.action.value for action in plan.actions)
        counts.update(left.action.value for left in plan.left_for_later if not left.split)
        self.planned = {kind.value: counts[kind.value] for kind in ActionKind}
        self.sensitive_changes = plan.sensitive_changes
        if self.command == "apply":
            self.applied = self.applied or dict.fromkeys((o.value for o in Outcome), 0)
            self.left_for_later = len(plan.left_for_later)

    def report(self, report: ApplyReport) -> None:
        """What the apply did (a dry run: what it would have done)."""
        self.applied = {outcome.value: report.count(outcome) for outcome in Outcome}
        self.left_for_later = len(report.left_for_later)

    def read_counts(self, users: int, groups: int) -> None:
        """A whole read of the directory."""
        self.read = {"user": users, "group": groups}


def exposition(record: RunRecord) -> str:
    """The Prometheus text exposition format (version 0.0.4) of one run."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(record))
    return generate_latest(registry).decode("utf-8")


class _Collector:
    """The families of one run (prometheus_client's custom collector protocol)."""

    def __init__(self, record: RunRecord) -> None:
        self.record = record

    def collect(self) -> Iterator[Metric]:
        record = self.record
        yield _gauge(
            "exit_code",
            "Exit code of the last run: 0 ok, 1 error, 2 changes pending (plan "
            "--detailed-exitcode), 3 refused by a safety limit, 4 some actions failed, 130/143 "
            "interrupted.",
            record.exit_code,
        )
        yield _gauge("duration_seconds", "Wall time of the last run.", record.duration_seconds)
        yield _gauge(
            "last_run_timestamp_seconds",
            "When the last run ended, in seconds since the epoch.",
            record.finished_at,
        )
        if record.planned is not None:
            yield _by(
                "planned_actions",
                "Actions the plan from the files holds, by kind (0: the directory matches).",
                "action",
                record.planned,
            )
        if record.sensitive_changes is not None:
            yield _gauge(
                "sensitive_changes",
                "Gains and losses of sensitive groups in the plan judged.",
                record.sensitive_changes,
            )
        if record.applied is not None:
            yield _by(
                "applied_actions", "Actions of the apply by outcome.", "outcome", record.applied
            )
        if record.left_for_later is not None:
            yield _gauge(
                "left_for_later_actions",
                "Actions apply --only left for a later run.",
                record.left_for_later,
            )
        if record.read:
            yield _by("read_objects", "Objects read from the directory.", "resource", record.read)


def _gauge(name: str, text: str, value: float) -> Metric:
    """One gauge ``reconciler_<name>``."""
    from prometheus_client.core import GaugeMetricFamily

    return GaugeMetricFamily(f"reconciler_{name}", text, value=value)


def _by(name: str, text: str, label: str, values: dict[str, int]) -> Metric:
    """A gauge ``reconciler_<name>`` with one sample per ``label`` value."""
    from prometheus_client.core import GaugeMetricFamily

    family = GaugeMetricFamily(f"reconciler_{name}", text, labels=[label])
    for key, value in values.items():
        family.add_metric([key], value)
    return family
