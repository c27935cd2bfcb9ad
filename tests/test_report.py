"""The apply report as data, and as it leaves the process."""

from __future__ import annotations

from reconciler.plan import Action, ActionKind, Resource
from reconciler.redaction import REDACTED, remember
from reconciler.report import ActionResult, ApplyReport, Outcome

ECHOED = "report-test-echoed-token-5e2a"


def report_for(key: str, live_id: str) -> ApplyReport:
    action = Action(resource=Resource.USER, action=ActionKind.DEACTIVATE, key=key, id=live_id)
    result = ActionResult(action=action, outcome=Outcome.APPLIED, attempts=1)
    return ApplyReport(target="https://scim.example.com/v2", digest="sha256:0", dry_run=False,
                       results=(result,))  # fmt: skip


def test_a_report_leaves_without_the_token_served_back_in_its_data() -> None:
    """A key and an id that hold the token, as a hostile server served them, are cut out of
    the report's output form; the report itself keeps them as they were."""
    remember(ECHOED)
    report = report_for(f"{ECHOED}@example.com", f"id-{ECHOED}")
    (shown,) = report.for_output().to_dict()["results"]
    assert (shown["key"], shown["id"]) == (f"{REDACTED}@example.com", f"id-{REDACTED}")
    assert report.results[0].key == f"{ECHOED}@example.com"


def test_a_report_without_a_secret_leaves_as_it_is() -> None:
    """Nearly every report holds no secret: it is not copied."""
    remember(ECHOED)
    report = report_for("ann@example.com", "u1")
    assert report.for_output() is report
