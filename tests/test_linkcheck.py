"""Plan-time SCIM link checks: a planned email another directory's link will refuse."""

from __future__ import annotations

from reconciler.dialect import ATLASSIAN, GENERIC
from reconciler.executor import conflict_hint
from reconciler.linkcheck import link_warnings, planned_emails
from reconciler.plan import Action, ActionKind, Change, Plan, Resource
from reconciler.scim.admin import ScimLink


def _email(value: str) -> dict[str, object]:
    return {"value": value, "type": "work", "primary": True}


def _plan(*actions: Action) -> Plan:
    return Plan(target="t", dialect="atlassian", actions=actions)


CREATE = Action(
    resource=Resource.USER,
    action=ActionKind.CREATE,
    key="dave@example.com",
    changes=(Change(path="emails", after=[_email("Dave@example.com")]),),
)
EMAIL_CHANGE = Action(
    resource=Resource.USER,
    action=ActionKind.UPDATE,
    key="erin@example.com",
    id="u-1",
    changes=(
        Change(
            path="emails",
            before=[_email("erin@example.com")],
            after=[_email("erin@example.com"), {"value": "e@new.example", "primary": False}],
        ),
    ),
)


def test_only_the_addresses_a_plan_newly_sends_are_looked_up() -> None:
    """A create's emails and an update's added emails, folded; kept addresses are not."""
    assert planned_emails(_plan(CREATE, EMAIL_CHANGE)) == {
        "dave@example.com": "dave@example.com",
        "e@new.example": "erin@example.com",
    }


def test_an_email_linked_in_another_directory_is_a_warning_with_the_fix() -> None:
    """The plan says the create will 409 and names the unlink command; a link in this
    directory (already visible in the live read) is not repeated."""
    links = {
        "dave@example.com": [
            ScimLink("other-dir", "s-9", "aa-1", "org"),
            ScimLink("here", "s-1", "aa-1", "org"),
        ],
        "e@new.example": [],
    }
    (warning,) = link_warnings(_plan(CREATE, EMAIL_CHANGE), links.__getitem__, "here")
    assert warning.key == "dave@example.com"
    assert warning.message == (
        "will fail with 409: dave@example.com belongs to an Atlassian account linked to SCIM "
        "user s-9 of directory other-dir; if that link is stale: reconciler links unlink "
        "dave@example.com --directory other-dir"
    )


def test_a_409_on_atlassian_names_its_likely_cause() -> None:
    """Without an org token the report still says what a 409 most likely is."""
    assert "reconciler links Dave@example.com" in conflict_hint(CREATE, ATLASSIAN)
    group = Action(resource=Resource.GROUP, action=ActionKind.CREATE, key="jira-admins")
    assert "unique across the Atlassian organisation" in conflict_hint(group, ATLASSIAN)


def test_a_409_on_a_generic_server_gets_no_atlassian_hint() -> None:
    """A generic server's 409 is reported as it came: the Atlassian causes are not named."""
    group = Action(resource=Resource.GROUP, action=ActionKind.CREATE, key="jira-admins")
    assert conflict_hint(CREATE, GENERIC) == conflict_hint(group, GENERIC) == ""
