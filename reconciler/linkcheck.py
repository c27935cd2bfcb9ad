"""The plan's *enrich* stage: which planned emails will fail with Atlassian's 409.

An Atlassian email belongs to one account; when that account is linked to a SCIM
user of another directory, a create (or an email change) with it fails with 409.
Given the links the organisation's Admin API reports for each email the plan
sends, ``enrich`` says so in the plan, with the command that fixes it, before
anything is sent. It runs after the pure plan (docs/design.md "Data flow") and takes
it as it is: the result is a new plan, the same but for its warnings, which no digest
covers. The lookups themselves are done by the caller (one request per email).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from reconciler.plan import Action, ActionKind, Plan, PlanWarning, Resource
from reconciler.scim.admin import ScimLink


def planned_emails(plan: Plan) -> dict[str, str]:
    """Email (folded) -> key of the user action that sends it as a new address."""
    found: dict[str, str] = {}
    for action in plan.actions:
        if action.resource is not Resource.USER or action.action in (
            ActionKind.DEACTIVATE,
            ActionKind.REACTIVATE,
        ):
            continue
        for email in _new_emails(action):
            found.setdefault(email, action.key)
    return dict(sorted(found.items()))


def _new_emails(action: Action) -> list[str]:
    for change in action.attribute_changes:
        if change.path == "emails":
            before = {str(e.get("value")).lower() for e in change.before or ()}
            after = [str(e.get("value")).lower() for e in change.after or ()]
            return [e for e in after if e not in before]
    return []


def enrich(plan: Plan, lookup: Callable[[str], list[ScimLink]], directory_id: str | None) -> Plan:
    """``plan`` with a warning for each planned email linked in another directory: a new
    plan (``plan`` itself is returned when there is nothing to add)."""
    found = link_warnings(plan, lookup, directory_id)
    if not found:
        return plan
    # In the order the planner gives its warnings (``planner.plan``).
    merged = sorted({*plan.warnings, *found}, key=lambda w: (w.key.lower(), w.key, w.message))
    return plan.model_copy(update={"warnings": tuple(merged)})


def link_warnings(
    plan: Plan, lookup: Callable[[str], list[ScimLink]], directory_id: str | None
) -> tuple[PlanWarning, ...]:
    """Warnings for the planned emails already linked in another directory."""
    emails = planned_emails(plan)
    return _warnings(emails, {email: lookup(email) for email in emails}, directory_id)


def _warnings(
    emails: Mapping[str, str], links: Mapping[str, list[ScimLink]], directory_id: str | None
) -> tuple[PlanWarning, ...]:
    warnings: list[PlanWarning] = []
    for email, key in emails.items():
        for link in links.get(email, []):
            if link.directory_id == directory_id:
                continue  # a user of this directory: the live read already shows it
            warnings.append(
                PlanWarning(
                    key=key,
                    message=(
                        f"will fail with 409: {email} belongs to an Atlassian account linked "
                        f"to SCIM user {link.scim_user_id} of directory {link.directory_id}; "
                        f"if that link is stale: reconciler links unlink {email} --directory "
                        f"{link.directory_id}"
                    ),
                )
            )
    return tuple(warnings)
