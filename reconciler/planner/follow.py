"""A renamed account's primary email (``policy.users.email_follows_username``).

An account's userName and its primary email often say the same thing
(``ann.archer@example.com`` for both, or ``ann.archer`` and ``ann.archer@example.com``).
When a plan changes the userName of an existing account whose emails the files do not
manage, the primary email would stay the old one without a word, and on Atlassian the
email is how the account is found and linked. So the plan warns that it stays; with
``email_follows_username`` it changes the primary email with the userName instead:
the same address under the new name, every other email as it is.

The new address obeys the identity rules (docs/identity.md, rule 4): where emails are
unique (Atlassian), an address another live account holds, or another file user
wants, is not planned; the plan warns, and the userName changes alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.desired import UserSpec
from reconciler.identifiers import fold_identity
from reconciler.live import LiveUser
from reconciler.plan import Change
from reconciler.planner.context import PlanContext
from reconciler.planner.identity import CLAIMING, UserMatches
from reconciler.planner.user_index import live_emails, wanted_emails

Emails = list[dict[str, Any]]

SETTING = "policy.users.email_follows_username"


def followed_address(old_name: str, new_name: str, primary: str) -> str | None:
    """What ``primary`` becomes when the userName changes from ``old_name`` to
    ``new_name``, or None when it does not follow the userName.

    It follows when it is the old userName, or, for a userName that is no address,
    the old userName at some domain (``ann.archer`` and ``ann.archer@example.com``).
    The new address is the new userName, or, when that is no address, the new
    userName at the same domain.
    """
    local, at, domain = primary.rpartition("@")
    if not at:
        return None
    old = fold_identity(old_name)
    if fold_identity(primary) != old and ("@" in old_name or fold_identity(local) != old):
        return None
    return new_name if "@" in new_name else f"{new_name}@{domain}"


def _plausible(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    return (
        bool(local and at and domain)
        and address.isprintable()
        and not any(c.isspace() for c in address)
    )


def _renamed(spec: UserSpec, account: LiveUser) -> bool:
    """Whether the plan changes the account's userName while the files leave emails be."""
    unmanaged = "emails" not in spec.model_fields_set
    return unmanaged and fold_identity(spec.userName) != fold_identity(account.userName)


def _follows(spec: UserSpec, account: LiveUser, emails: Emails) -> tuple[int, str] | None:
    """Where the primary email is among ``emails`` (the account's) and the address it
    would follow to, when the plan changes the userName and the files leave emails be."""
    if not _renamed(spec, account):
        return None
    primary = next((i for i, item in enumerate(emails) if item.get("primary")), None)
    if primary is None:
        return None
    address = followed_address(account.userName, spec.userName, str(emails[primary]["value"]))
    return None if address is None else (primary, address)


class EmailFollower:
    """What becomes of the primary email of each account whose userName the plan changes."""

    def __init__(self, matches: UserMatches, context: PlanContext, *, enabled: bool) -> None:
        self.enabled = enabled
        self.context = context
        # Where emails are unique: who else has or wants each address an email follows to.
        self._others: dict[str, list[str]] = {}
        if enabled and context.emails_unique:
            self._others = _others(matches)

    def follow(
        self, spec: UserSpec, account: LiveUser, changes: Sequence[Change]
    ) -> tuple[Change | None, str | None]:
        """The emails change to plan beside ``changes`` (the account's), and the warning
        to give; either may be None."""
        if not any(change.path == "userName" for change in changes):
            return None, None
        emails: Emails = account.attributes.get("emails") or []
        found = _follows(spec, account, emails)
        if found is None:
            return None, None
        primary, address = found
        head = f"its primary email stays {emails[primary]['value']} while its userName changes"
        if not self.enabled:
            role = self.context.dialect.email_role
            why = f"; {role}" if role else ""
            return None, (
                f"{head}: the files do not manage its emails{why}. Set {SETTING}: true to "
                f"change it to {address} with the userName, or list the user's emails"
            )
        if not _plausible(address):
            return None, f"{head}: {address!r} is not an email address ({SETTING})"
        others = self._others.get(fold_identity(address))
        if others:
            return None, (
                f"{head}: {address} is {others[0]}, and two accounts cannot share an "
                f"email ({SETTING}); the userName changes alone"
            )
        after = [
            {**item, "value": address} if i == primary else item
            for i, item in enumerate(emails)
            if i == primary or fold_identity(str(item["value"])) != fold_identity(address)
        ]
        return Change(path="emails", before=emails, after=after), None


def _others(matches: UserMatches) -> dict[str, list[str]]:
    """For each address a primary email would follow to: the other live accounts that
    hold it and the other file users that want it, described."""
    wanted: dict[str, str] = {}  # folded address -> the id of the account it follows on
    for match in matches.files:
        account = match.account
        if match.identity in CLAIMING and account is not None and _renamed(match.spec, account):
            found = _follows(match.spec, account, account.attributes.get("emails") or [])
            if found is not None:
                wanted[fold_identity(found[1])] = account.id
    others: dict[str, list[str]] = {}
    if not wanted:
        return others
    for live in matches.live:
        user = live.account
        for address in live_emails(user):
            if wanted.get(address, user.id) != user.id:
                others.setdefault(address, []).append(f"held by the live account {user.userName}")
    for match in matches.files:
        own = match.account.id if match.account is not None else None
        for address in wanted_emails(match.spec):
            if wanted.get(fold_identity(address), own) != own:
                others.setdefault(fold_identity(address), []).append(
                    f"wanted by the file user {match.key}"
                )
    return others
