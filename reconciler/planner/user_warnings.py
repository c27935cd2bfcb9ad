"""What the users stage says of an account: the warnings its decisions carry."""

from __future__ import annotations

from reconciler.desired import UsersPolicy
from reconciler.live import LiveUser
from reconciler.plan import Change, PlanWarning
from reconciler.planner.context import PlanContext
from reconciler.planner.identity import FileUserMatch, Identity
from reconciler.planner.user_decisions import warning


def extension_warning(attribute: str) -> str:
    """What removing a value held only in the read-only enterprise extension does."""
    return (
        f"removes {attribute} from the enterprise extension, the only place it is set, which "
        "Atlassian's API describes as read-only: if refused, this update fails and the "
        "account's other changes are still made"
    )


def identity_changes(
    key: str, changes: list[Change], context: PlanContext
) -> tuple[PlanWarning, ...]:
    """A warning for each change of the userName or emails of an existing account."""
    return tuple(
        warning(key, context.dialect.identity_change_warning(change.path))
        for change in changes
        if change.path in ("userName", "emails")
    )


def identity_warnings(match: FileUserMatch, policy: UsersPolicy) -> tuple[PlanWarning, ...]:
    """Say how an account that the key alone did not find was recognised."""
    account = match.account
    assert account is not None
    if match.identity is Identity.RENAMED:
        message = f"renamed: found by its {match.via}; it is not a new account"
    elif match.identity is not Identity.REKEYED:
        return ()
    elif policy.key == "externalId":
        message = (
            f"re-keyed: no account has externalId {match.key}, but {match.via} is this "
            f"person's account; its externalId changes {account.externalId or '(none)'} -> "
            f"{match.key}"
        )
    else:
        message = (
            f"re-keyed: found by {match.via} under the userName {account.userName}, "
            "which changes; it is not a new account"
        )
    return (warning(match.key, message),)


def describe(account: LiveUser) -> str:
    """An account as a warning names it: userName, externalId, active or not."""
    external = f"externalId {account.externalId}" if account.externalId else "no externalId"
    state = "active" if account.active else "deactivated"
    return f"{account.userName} ({external}, {state})"
