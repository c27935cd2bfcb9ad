"""Plan-time organisation checks: links another directory holds, managed accounts a create
links to, and accounts outside the verified domains."""

from __future__ import annotations

from reconciler.dialect import ATLASSIAN, GENERIC
from reconciler.executor import conflict_hint
from reconciler.linkcheck import (
    Organisation,
    domain_warnings,
    enrich,
    existing_accounts,
    link_warnings,
    planned_emails,
)
from reconciler.plan import Action, ActionKind, Change, Plan, PlanWarning, Resource
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


def _update(key: str, user_id: str, *changes: Change) -> Action:
    return Action(
        resource=Resource.USER, action=ActionKind.UPDATE, key=key, id=user_id, changes=changes
    )


ACCOUNT_PATHS = ATLASSIAN.account_attributes
LIVE = {"u-ann": "ann@example.com", "u-pat": "pat@partner.net", "u-bo": "Bo@Example.com"}


def _domain_messages(*actions: Action) -> list[tuple[str, str]]:
    found = domain_warnings(_plan(*actions), ["example.com"], LIVE.get, ACCOUNT_PATHS)
    return [(w.key, w.message.split(":")[0]) for w in found]


def test_a_profile_change_of_an_unmanaged_account_will_unlink_it() -> None:
    """docs/atlassian.md "The organisation around the directory": pat is outside the verified
    domains, so a title change will unlink the account; a deactivation alone will not."""
    title = _update("pat", "u-pat", Change(path="title", before=None, after="Vendor"))
    active = _update("pat2", "u-pat", Change(path="active", before=True, after=False))
    assert _domain_messages(title, active) == [
        ("pat", "will be unlinked from its Atlassian account and dropped from its groups")
    ]


def test_an_email_moved_off_the_verified_domains_will_unlink_the_account() -> None:
    """Ann's primary email moves to gmail.test; Bo's moves within example.com (any case)."""
    moved = _update(
        "ann",
        "u-ann",
        Change(path="emails", before=[_email("ann@example.com")], after=[_email("a@gmail.test")]),
    )
    kept = _update(
        "bo",
        "u-bo",
        Change(path="emails", before=[_email("Bo@Example.com")], after=[_email("b@EXAMPLE.com")]),
    )
    (warning,) = domain_warnings(_plan(moved, kept), ["example.com"], LIVE.get, ACCOUNT_PATHS)
    assert warning.key == "ann"
    assert "its email moves to a@gmail.test, and gmail.test is not one of" in warning.message


def test_a_create_outside_the_verified_domains_makes_an_unmanaged_account() -> None:
    """The create is taken, and its account will be one the organisation does not manage."""
    outside = Action(
        resource=Resource.USER,
        action=ActionKind.CREATE,
        key="pat@partner.net",
        changes=(Change(path="emails", after=[_email("pat@partner.net")]),),
    )
    assert _domain_messages(outside, CREATE) == [
        (
            "pat@partner.net",
            "will be created with an Atlassian account the organisation does not manage "
            "(partner.net is not one of its verified domains)",
        )
    ]


def test_without_verified_domains_nothing_is_said() -> None:
    """An organisation that lists no domains gives nothing to go by."""
    title = _update("pat", "u-pat", Change(path="title", before=None, after="Vendor"))
    assert domain_warnings(_plan(title), [], LIVE.get, ACCOUNT_PATHS) == ()


def test_a_create_links_to_a_managed_account_without_a_link() -> None:
    """Dave's email belongs to a managed account that no directory links: his create will
    link to it. An account linked elsewhere (409) or here is none to link to."""
    carol = Action(
        resource=Resource.USER,
        action=ActionKind.CREATE,
        key="carol",
        changes=(Change(path="emails", after=[_email("Carol@example.com")]),),
    )
    managed = {"dave@example.com": "acc-dave", "carol@example.com": "acc-carol"}
    links = {"dave@example.com": [], "carol@example.com": [ScimLink("other", "s", "a", "o")]}
    assert existing_accounts(_plan(CREATE, carol), managed, links) == {
        "dave@example.com": "acc-dave"
    }


def test_enrich_returns_a_new_plan_with_the_link_warnings_in_plan_order() -> None:
    """The enrich stage leaves the pure plan as it was and returns another, its warnings
    merged in the planner's order, its digest unchanged (no digest covers warnings)."""
    pure = _plan(CREATE, EMAIL_CHANGE).model_copy(
        update={
            "warnings": (
                PlanWarning(key="alice@example.com", message="a"),
                PlanWarning(key="Erin@example.com", message="b"),
            )
        }
    )
    links = {"dave@example.com": [ScimLink("other-dir", "s-9", "aa-1", "org")]}
    enriched = enrich(pure, Organisation("here", links=links))
    assert enriched is not pure
    assert [w.key for w in pure.warnings] == ["alice@example.com", "Erin@example.com"]
    assert [w.key for w in enriched.warnings] == [
        "alice@example.com",
        "dave@example.com",
        "Erin@example.com",
    ]
    assert enriched.digest == pure.digest
    assert enriched.actions == pure.actions


def test_enrich_without_links_is_the_plan_itself() -> None:
    """Nothing linked elsewhere: the plan goes on as the planner made it."""
    pure = _plan(CREATE)
    assert enrich(pure, Organisation("here")) is pure
