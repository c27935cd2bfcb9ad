"""The plan's *enrich* stage: what an Atlassian organisation will do with the plan's
users, said in the plan before anything is sent.

Three things an Atlassian organisation decides that the directory's own listing does
not show (docs/atlassian.md "The organisation around the directory"):

* **SCIM links.** An email belongs to one account; when that account is linked to a
  SCIM user of another directory, a create (or an email change) with it fails with
  409. The Admin API's links of each email the plan sends become a warning with the
  command that fixes it (``link_warnings``).
* **Managed accounts.** A create whose primary email belongs to an account the
  organisation already manages links to that account (``existing_accounts``): the
  plan names it beside the create.
* **Verified domains.** An account whose email is outside the organisation's verified
  domains is unmanaged: a change of its profile is answered 200 and then unlinks it
  and drops it from its groups, as does an email moved off the verified domains, and
  a create there makes an unmanaged account (``domain_warnings``).

``enrich`` runs after the pure plan (docs/design.md "Data flow") and takes it as it
is: the result is a new plan, or the plan itself when there is nothing to add. The
reads (one request per email; the organisation's accounts and domains, each one paged
read) are done by the caller, ``app.session.enrich``, into an ``Organisation``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field

from reconciler.plan import Action, ActionKind, Change, Plan, PlanWarning, Resource
from reconciler.scim.admin import ScimLink

_UNLINKED = "will be unlinked from its Atlassian account and dropped from its groups"


def _no_email(user_id: str) -> str | None:
    return None


@dataclass(frozen=True)
class Organisation:
    """What the organisation's Admin API said about the plan's users, read by the caller.

    ``links``: the SCIM links of each planned email (``planned_emails``); ``managed``: a
    folded email -> the managed account that holds it; ``verified``: the verified
    domains, lower-cased; ``live_email(id)``: a live user's primary email;
    ``account_paths``: the file attributes that reach the account
    (``Dialect.account_attributes``).
    """

    directory_id: str | None
    links: Mapping[str, list[ScimLink]] = field(default_factory=dict)
    managed: Mapping[str, str] = field(default_factory=dict)
    verified: Collection[str] = ()
    live_email: Callable[[str], str | None] = _no_email
    account_paths: Collection[str] = ()


def enrich(plan: Plan, organisation: Organisation) -> Plan:
    """``plan`` with what the organisation will do said: a warning for each planned email
    linked in another directory and each account outside the verified domains, and the
    managed account each create links to. A new plan, or ``plan`` itself when there is
    nothing to add; its warnings in the planner's order (``planner.plan``)."""
    found = [
        *warnings_for_links(planned_emails(plan), organisation.links, organisation.directory_id),
        *domain_warnings(
            plan, organisation.verified, organisation.live_email, organisation.account_paths
        ),
    ]
    accounts = existing_accounts(plan, organisation.managed, organisation.links)
    if not found and not accounts:
        return plan
    merged = sorted({*plan.warnings, *found}, key=lambda w: (w.key.lower(), w.key, w.message))
    update: dict[str, object] = {"warnings": tuple(merged)}
    if accounts:
        update["existing_accounts"] = accounts
    return plan.model_copy(update=update)


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


def link_warnings(
    plan: Plan, lookup: Callable[[str], list[ScimLink]], directory_id: str | None
) -> tuple[PlanWarning, ...]:
    """Warnings for the planned emails already linked in another directory."""
    emails = planned_emails(plan)
    return warnings_for_links(emails, {email: lookup(email) for email in emails}, directory_id)


def warnings_for_links(
    emails: Mapping[str, str], links: Mapping[str, list[ScimLink]], directory_id: str | None
) -> tuple[PlanWarning, ...]:
    """``link_warnings`` from links already looked up (``planned_emails`` -> links)."""
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


# Managed accounts and verified domains ---------------------------------------------


def profile_changes(plan: Plan) -> bool:
    """Whether any user action changes more than ``active``: the domain checks' subject."""
    return any(
        action.resource is Resource.USER
        and (
            action.action is ActionKind.CREATE
            or any(c.path != "active" for c in action.attribute_changes)
        )
        for action in plan.actions
    )


def user_creates(plan: Plan) -> list[tuple[Action, str]]:
    """Each user create and the primary email it sends (folded)."""
    found = []
    for action in plan.actions:
        if action.resource is Resource.USER and action.action is ActionKind.CREATE:
            email = _primary(_change(action, "emails"), after=True)
            if email is not None:
                found.append((action, email))
    return found


def existing_accounts(
    plan: Plan, managed: Mapping[str, str], links: Mapping[str, list[ScimLink]]
) -> dict[str, str]:
    """User key -> the id of the managed account its create will link to.

    ``managed`` maps a folded email to the account that holds it in the organisation's
    users listing; ``links`` holds the SCIM links of the plan's emails. An account
    with a link is no account to link to: another directory's link is a 409
    (``link_warnings``), and one of this directory's is a user the plan already has.
    """
    return {
        action.key: managed[email]
        for action, email in user_creates(plan)
        if email in managed and not links.get(email)
    }


def domain_warnings(
    plan: Plan,
    verified: Collection[str],
    live_email: Callable[[str], str | None],
    account_paths: Collection[str],
) -> tuple[PlanWarning, ...]:
    """What Atlassian will do with the plan's users whose accounts it does not manage.

    ``verified`` are the organisation's verified domains, lower-cased (none: nothing to
    say); ``live_email(id)`` is a live user's primary email; ``account_paths`` the file
    attributes that reach the account (``Dialect.account_attributes``).
    """
    if not verified:
        return ()
    return tuple(_domain_warnings(plan, frozenset(verified), live_email, account_paths))


def _domain_warnings(
    plan: Plan,
    verified: frozenset[str],
    live_email: Callable[[str], str | None],
    account_paths: Collection[str],
) -> Iterator[PlanWarning]:
    for action, email in user_creates(plan):
        if _domain(email) not in verified:
            yield PlanWarning(
                key=action.key,
                message=(
                    "will be created with an Atlassian account the organisation does not "
                    f"manage ({_domain(email)} is not one of its verified domains): any later "
                    "change of its profile through SCIM will unlink it and drop it from its "
                    f"groups; verify {_domain(email)} in the organisation to manage it"
                ),
            )
    for action in plan.actions:
        if action.resource is not Resource.USER or action.action is ActionKind.CREATE:
            continue
        old = live_email(action.id) if action.id is not None else None
        if old is None:
            continue
        new = _primary(_change(action, "emails"), after=True) or old.lower()
        profile = new != old.lower() or any(
            c.path in account_paths and c.path != "emails" for c in action.attribute_changes
        )
        if not profile:
            continue
        if _domain(old) not in verified:
            yield PlanWarning(
                key=action.key,
                message=(
                    f"{_UNLINKED}: its email {old} is outside the organisation's verified "
                    "domains, and Atlassian answers a profile change of an unmanaged account "
                    f"with 200, then unlinks it; verify {_domain(old)} first, or leave its "
                    "profile as it is"
                ),
            )
        elif _domain(new) not in verified:
            yield PlanWarning(
                key=action.key,
                message=(
                    f"{_UNLINKED}: its email moves to {new}, and {_domain(new)} is not one of "
                    "the organisation's verified domains (Atlassian answers 200, keeps the "
                    f"old email on the account and unlinks it); verify {_domain(new)} first"
                ),
            )


def _change(action: Action, path: str) -> Change | None:
    return next((c for c in action.attribute_changes if c.path == path), None)


def _primary(change: Change | None, *, after: bool) -> str | None:
    """The primary address of an emails change (after or before), folded."""
    items = (change.after if after else change.before) if change is not None else None
    for item in items or ():
        if isinstance(item, Mapping) and item.get("primary") is True:
            return str(item.get("value")).lower()
    return None


def _domain(email: str) -> str:
    """The domain of an address, lower-cased (after its first ``@``, as Atlassian's
    accounts and the sandbox's ``org.managed`` take it)."""
    return email.partition("@")[2].lower()
