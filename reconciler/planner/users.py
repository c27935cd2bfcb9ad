"""The users stage: from the identity of every user to user actions.

Reads only the identity stage's result and the policy; looks nothing up. Besides
its actions and warnings it hands the groups stage the users whose memberships the
plan may change (``UserPlan.members``) and the live ids it may name.
"""

from __future__ import annotations

from reconciler.attributes import same_value
from reconciler.desired import UserSpec, UsersPolicy, fold_user_key
from reconciler.live import LiveUser
from reconciler.ownership import create_user_attributes
from reconciler.ownership_fast import desired_user_attributes, desired_user_values
from reconciler.plan import Action, ActionKind, Change, PlanWarning, Resource
from reconciler.planner.context import PlanContext
from reconciler.planner.follow import EmailFollower
from reconciler.planner.identity import (
    CLAIMING,
    SHARED_KEY,
    FileUserMatch,
    Identity,
    LiveUserMatch,
    UserMatches,
)
from reconciler.planner.user_decisions import (
    NOTHING,
    Decision,
    FileUsersDecided,
    LeftAloneEntry,
    UserPlan,
    fold,
    warning,
)
from reconciler.planner.user_warnings import (
    describe,
    extension_warning,
    identity_changes,
    identity_warnings,
)
from reconciler.scope import left_alone_reason
from reconciler.wording import plural

__all__ = ["LeftAloneEntry", "UserPlan", "plan_users"]

HOLDS_WANTED_IDENTITY = "holds an identity a user in the files wants (see warnings)"


def plan_users(matches: UserMatches, policy: UsersPolicy, context: PlanContext) -> UserPlan:
    """User actions for every file user and every live user, as the policy says.

    File users are decided first; each live user then knows what they settled.
    """
    follower = EmailFollower(matches, context, enabled=policy.email_follows_username)
    by_file = [_file_user(match, policy, context, follower) for match in matches.files]
    decided = FileUsersDecided.of(by_file)
    key_attribute = matches.key_attribute
    by_live = [_live_user(match, key_attribute, policy, decided) for match in matches.live]
    return fold(by_file + by_live)


def _owned(policy: UsersPolicy, *accounts: str | None) -> str | None:
    """Why the policy keeps its hands off any of these userNames, or None."""
    asked: str | None = None
    for name in accounts:
        if name is not None and name != asked:  # a matched account's name is the file's
            asked = name
            reason = left_alone_reason(name, policy.scope, policy.protect, "users")
            if reason is not None:
                return reason
    return None


def _file_user(
    match: FileUserMatch, policy: UsersPolicy, context: PlanContext, follower: EmailFollower
) -> Decision:
    spec, key, account = match.spec, match.key, match.account
    if match.identity is Identity.AMBIGUOUS:
        if match.via == SHARED_KEY:  # shared live keys are warned once, by key
            return NOTHING
        return Decision((warning(key, f"cannot be matched: {match.via}; nothing is done to it"),))
    reason = _owned(policy, spec.userName, account.userName if account else None)
    if reason is not None:
        tail = "left as it is" if account is not None else "not created"
        return Decision(
            (warning(key, f"listed in the files but {reason}; {tail}"),),
            left_alone=(Resource.USER, reason, key) if account is not None else None,
        )
    folded = fold_user_key(key, policy.key)
    if match.identity is Identity.UNMATCHED:
        return Decision(action=_create(spec, key), manages=(key, folded, None))
    if match.identity is Identity.COLLIDES:
        return _collision(match, policy, context)
    assert account is not None, "a claiming match has an account"
    changes = _changes(spec, account)
    if match.identity is Identity.MATCHED and not changes and spec.active == account.active:
        return Decision(manages=(key, folded, account))  # most users: as the files want them
    recognised = () if match.identity is Identity.MATCHED else identity_warnings(match, policy)
    said, action, deactivates = _update(spec, key, account, context, follower, changes)
    return Decision(recognised + said, action, None, (key, folded, account), deactivates)


def _create(spec: UserSpec, key: str) -> Action:
    attrs = create_user_attributes(spec, desired_user_attributes(spec))
    changes = tuple(Change(path=p, before=None, after=v) for p, v in sorted(attrs.items()))
    return Action(resource=Resource.USER, action=ActionKind.CREATE, key=key, changes=changes)


def _changes(spec: UserSpec, account: LiveUser) -> list[Change]:
    """Every attribute the file manages that the account has otherwise (field ownership).

    Most accounts are as the files want them: equal compact values (``ownership``)
    say so at once; only the others are compared attribute by attribute.
    """
    paths, wanted = desired_user_values(spec)
    if account.values_at(paths) == wanted:
        return []
    changes: list[Change] = []
    live = account.attributes
    for path, wanted in desired_user_attributes(spec).items():
        have = live.get(path)
        if not same_value(path, have, wanted):
            changes.append(Change(path=path, before=have, after=wanted))
    return changes


def _update(
    spec: UserSpec,
    key: str,
    account: LiveUser,
    context: PlanContext,
    follower: EmailFollower,
    differences: list[Change],
) -> tuple[tuple[PlanWarning, ...], Action | None, tuple[LiveUser, str] | None]:
    """The warnings, the action and the deactivation that bring an account to its file
    (``differences``: ``_changes(spec, account)``)."""
    changes, warnings = _placed(differences, account, context, key)
    followed, note = follower.follow(spec, account, changes)  # a renamed account's email
    if note is not None:
        warnings += (warning(key, note),)
    if followed is not None:
        changes = sorted([*changes, followed], key=lambda change: change.path)
    if changes:
        warnings += identity_changes(key, changes, context)
    deactivates = None
    if spec.active and not account.active:
        changes.append(Change(path="active", before=False, after=True))
        kind = ActionKind.REACTIVATE
    elif not spec.active and account.active:
        changes.append(Change(path="active", before=True, after=False))
        deactivates = (account, key)
        kind = ActionKind.DEACTIVATE
    elif changes:
        kind = ActionKind.UPDATE
    else:
        return warnings, None, None
    return warnings, _on_account(kind, key, account, changes), deactivates


def _placed(
    changes: list[Change], account: LiveUser, context: PlanContext, key: str
) -> tuple[list[Change], tuple[PlanWarning, ...]]:
    """Removals of what the dialect writes at the top level (Atlassian's department and
    organization) with where the live value sat, so that each goes only there; a value
    only in the extension, which the dialect's API marks read-only, is warned of."""
    top_level = context.dialect.top_level_enterprise
    placed: list[Change] = []
    warnings: tuple[PlanWarning, ...] = ()
    for change in changes:
        bare = change.path.removeprefix("enterprise.")
        if change.after is None and change.path.startswith("enterprise.") and bare in top_level:
            held = account.held_at(bare)
            change = change.model_copy(update={"held": held})
            if held == "extension":
                warnings += (warning(key, extension_warning(bare)),)
        placed.append(change)
    return placed, warnings


def _on_account(kind: ActionKind, key: str, account: LiveUser, changes: list[Change]) -> Action:
    return Action(
        resource=Resource.USER,
        action=kind,
        key=key,
        id=account.id,
        changes=tuple(changes),
        fingerprint=account.fingerprint,
        version=account.version,
    )


def _collision(match: FileUserMatch, policy: UsersPolicy, context: PlanContext) -> Decision:
    holder = match.holder
    assert holder is not None, "a collision names the holder"
    if match.account is not None:
        reason = "its new userName or email is held by another account (see warnings)"
        message = (
            f"its {match.via} is held by the live account {describe(holder)}; its own "
            "account is left as it is until that is resolved"
        )
        return Decision(
            (warning(match.key, message),),
            left_alone=(Resource.USER, reason, match.key),
            settles=match.account.id,
            names=holder.id,
        )
    allowed = policy.adopt == "always" or (policy.adopt == "inactive" and not holder.active)
    holder_reason = _owned(policy, holder.userName)
    if match.adoptable and allowed and holder_reason is None:
        return _adopt(match, holder, policy, context)._replace(names=holder.id)
    if holder_reason is not None:
        why = f"that account is {holder_reason}"
    elif not match.adoptable:
        why = (
            "another file user also claims that account, or it cannot be told apart; "
            "it is not created until that is resolved"
        )
    else:
        why = (
            "set policy.users.adopt to "
            + ("always" if holder.active else "inactive or always")
            + " to take that account over (counted by max_adoptions)"
        )
    message = f"not created: its {match.via} is held by the live account {describe(holder)}; {why}"
    return Decision((warning(match.key, message),), names=holder.id)


def _adopt(
    match: FileUserMatch, holder: LiveUser, policy: UsersPolicy, context: PlanContext
) -> Decision:
    spec = match.spec
    changes = _changes(spec, holder)
    deactivates = None
    if spec.active != holder.active:
        changes.append(Change(path="active", before=holder.active, after=spec.active))
        if not spec.active:
            deactivates = (holder, match.key)
    reactivates = "; it is reactivated" if spec.active and not holder.active else ""
    adopts = warning(
        match.key,
        f"adopts the existing account {describe(holder)}, which holds its {match.via}: "
        f"{plural(len(changes), 'attribute')} overwritten{reactivates}",
    )
    return Decision(
        (adopts, *identity_changes(match.key, changes, context)),
        _on_account(ActionKind.ADOPT, match.key, holder, changes),
        manages=(match.key, fold_user_key(match.key, policy.key), holder),
        deactivates=deactivates,
    )


def _live_user(
    match: LiveUserMatch, key_attribute: str, policy: UsersPolicy, decided: FileUsersDecided
) -> Decision:
    user = match.account
    if match.identity is Identity.AMBIGUOUS:
        live_key = _live_key(user, key_attribute)
        if live_key is None:
            return NOTHING
        return Decision(shared_key=(fold_user_key(live_key, key_attribute), live_key))
    if match.identity in CLAIMING or user.id in decided.settled:
        return NOTHING  # a file user's entry decided
    if match.identity is Identity.COLLIDES:
        return _holds_wanted(match, key_attribute, decided)
    return _unmanaged(user, key_attribute, policy)  # UNMATCHED: the identities left


def _live_key(user: LiveUser, key_attribute: str) -> str | None:
    return user.userName if key_attribute == "userName" else user.externalId


def _holds_wanted(match: LiveUserMatch, key_attribute: str, decided: FileUsersDecided) -> Decision:
    """A live account that holds what a file user wants, or that its identifiers reach."""
    user = match.account
    if user.id in decided.managed:
        return NOTHING  # adopted: the file user's entry decided
    left_alone = (
        Resource.USER,
        HOLDS_WANTED_IDENTITY,
        _live_key(user, key_attribute) or user.userName,
    )
    if user.id in decided.named or match.by is None:
        return Decision(left_alone=left_alone)
    message = (
        f"the live account {describe(user)} also answers to one of its identifiers "
        "(userName, externalId or a previous userName) but is another account; "
        "it is left alone"
    )
    return Decision((warning(match.by, message),), left_alone=left_alone)


def _unmanaged(user: LiveUser, key_attribute: str, policy: UsersPolicy) -> Decision:
    """A live user that no file user claims or wants: deactivated, or left alone."""
    live_key = _live_key(user, key_attribute)
    shown = live_key or user.userName
    reason = _owned(policy, user.userName)
    if reason is None and live_key is None:
        reason = "has no externalId to match on (policy.users.key: externalId)"
    if reason is not None:
        return Decision(left_alone=(Resource.USER, reason, shown))
    manages = (shown, fold_user_key(shown, key_attribute), user)
    if policy.unmanaged != "deactivate":
        ignored = "not in the files (policy.users.unmanaged: ignore)"
        return Decision(left_alone=(Resource.USER, ignored, shown), manages=manages)
    if not user.active:
        return Decision(manages=manages)
    deactivate = [Change(path="active", before=True, after=False)]
    return Decision(
        action=_on_account(ActionKind.DEACTIVATE, shown, user, deactivate),
        manages=manages,
        deactivates=(user, shown),
    )
