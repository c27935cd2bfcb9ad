"""The users stage: from the identity of every user to user actions.

Reads only the identity stage's result and the policy; looks nothing up. Besides
its actions and warnings it hands the groups stage the users whose memberships the
plan may change (``UserPlan.members``) and the live ids it may name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.attributes import same_value
from reconciler.desired import UserSpec, UsersPolicy, fold_user_key
from reconciler.live import LiveUser
from reconciler.ownership import (
    create_user_attributes,
    desired_user_attributes,
    desired_user_values,
)
from reconciler.plan import Action, ActionKind, Change, PlanWarning, Resource
from reconciler.planner.context import PlanContext
from reconciler.planner.follow import EmailFollower
from reconciler.planner.identity import (
    SHARED_KEY,
    FileUserMatch,
    Identity,
    LiveUserMatch,
    UserMatches,
)
from reconciler.scope import left_alone_reason
from reconciler.wording import plural

HOLDS_WANTED_IDENTITY = "holds an identity a user in the files wants (see warnings)"

LeftAloneEntry = tuple[Resource, str, str]  # (resource, reason, key)


@dataclass(frozen=True, slots=True)
class UserPlan:
    """What the users stage decided, for the plan and for the stages after it."""

    actions: tuple[Action, ...] = ()
    warnings: tuple[PlanWarning, ...] = ()
    left_alone: tuple[LeftAloneEntry, ...] = ()
    # Users whose memberships the plan may change: folded key -> key as shown.
    members: Mapping[str, str] = field(default_factory=dict)
    # Live id -> folded key of the users in ``members`` that exist.
    key_of_id: Mapping[str, str] = field(default_factory=dict)
    # Key as shown -> live id, for the existing users in ``members``.
    ids: Mapping[str, str] = field(default_factory=dict)
    # Accounts the plan deactivates, with their key as shown.
    deactivated: tuple[tuple[LiveUser, str], ...] = ()
    # Live accounts the plan could change (in scope, unprotected, matchable).
    managed: tuple[LiveUser, ...] = ()


@dataclass
class _Outcome:
    """The stage's running result; private to one call of ``plan_users``."""

    actions: list[Action] = field(default_factory=list)
    warnings: list[PlanWarning] = field(default_factory=list)
    left_alone: list[LeftAloneEntry] = field(default_factory=list)
    members: dict[str, str] = field(default_factory=dict)
    key_of_id: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    deactivated: list[tuple[LiveUser, str]] = field(default_factory=list)
    managed: dict[str, LiveUser] = field(default_factory=dict)
    # Live ids whose fate a file user's entry already decided.
    handled: set[str] = field(default_factory=set)
    # Live ids a warning already names (holders of a wanted userName or email).
    named: set[str] = field(default_factory=set)

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(PlanWarning(key=key, message=message))

    def manage(self, key: str, folded: str, account: LiveUser | None) -> None:
        self.members[folded] = key
        if account is not None:
            self.key_of_id[account.id] = folded
            self.ids[key] = account.id
            self.managed[account.id] = account

    def frozen(self) -> UserPlan:
        return UserPlan(
            actions=tuple(self.actions),
            warnings=tuple(self.warnings),
            left_alone=tuple(self.left_alone),
            members=dict(self.members),
            key_of_id=dict(self.key_of_id),
            ids=dict(self.ids),
            deactivated=tuple(self.deactivated),
            managed=tuple(self.managed.values()),
        )


def plan_users(matches: UserMatches, policy: UsersPolicy, context: PlanContext) -> UserPlan:
    """User actions for every file user and every live user, as the policy says."""
    out = _Outcome()
    follower = EmailFollower(matches, context, enabled=policy.email_follows_username)
    for match in matches.files:
        _file_user(match, policy, context, out, follower)
    shared_keys: dict[str, str] = {}
    for live in matches.live:
        _live_user(live, matches.key_attribute, policy, out, shared_keys)
    for key in sorted(set(shared_keys.values())):
        out.warn(key, "several live users share this key; they are left alone")
    return out.frozen()


def _owned(policy: UsersPolicy, *accounts: str | None) -> str | None:
    """Why the policy keeps its hands off any of these userNames, or None."""
    for name in accounts:
        if name is not None:
            reason = left_alone_reason(name, policy.scope, policy.protect, "users")
            if reason is not None:
                return reason
    return None


def _file_user(
    match: FileUserMatch,
    policy: UsersPolicy,
    context: PlanContext,
    out: _Outcome,
    follower: EmailFollower,
) -> None:
    spec, key, account = match.spec, match.key, match.account
    if match.identity is Identity.AMBIGUOUS:
        if match.via != SHARED_KEY:  # shared live keys are warned once, by key
            out.warn(key, f"cannot be matched: {match.via}; nothing is done to it")
        return
    reason = _owned(policy, spec.userName, account.userName if account else None)
    if reason is not None:
        if account is not None:
            out.left_alone.append((Resource.USER, reason, key))
        out.warn(key, f"listed in the files but {reason}; " + (
            "left as it is" if account is not None else "not created"
        ))  # fmt: skip
        return
    folded = fold_user_key(key, policy.key)
    if match.identity is Identity.UNMATCHED:
        out.manage(key, folded, None)
        out.actions.append(_create(spec, key))
    elif match.identity is Identity.COLLIDES:
        _collision(match, policy, context, out)
    else:
        assert account is not None, "a claiming match has an account"
        out.manage(key, folded, account)
        _identity_warnings(match, policy, out)
        _update(spec, key, account, context, out, follower)


def _create(spec: UserSpec, key: str) -> Action:
    attrs = create_user_attributes(spec)
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
    out: _Outcome,
    follower: EmailFollower,
) -> None:
    changes = _placed(_changes(spec, account), account, context, key, out)
    followed, note = follower.follow(spec, account, changes)  # a renamed account's email
    if note is not None:
        out.warn(key, note)
    if followed is not None:
        changes = sorted([*changes, followed], key=lambda change: change.path)
    for change in changes:
        if change.path in ("userName", "emails"):
            out.warn(key, identity_warning(change.path, context))
    if spec.active and not account.active:
        changes.append(Change(path="active", before=False, after=True))
        kind = ActionKind.REACTIVATE
    elif not spec.active and account.active:
        changes.append(Change(path="active", before=True, after=False))
        out.deactivated.append((account, key))
        kind = ActionKind.DEACTIVATE
    elif changes:
        kind = ActionKind.UPDATE
    else:
        return
    out.actions.append(_on_account(kind, key, account, changes))


def _placed(
    changes: list[Change], account: LiveUser, context: PlanContext, key: str, out: _Outcome
) -> list[Change]:
    """Removals of what the dialect writes at the top level (Atlassian's department and
    organization) with where the live value sat, so that each goes only there; a value
    only in the extension, which the dialect's API marks read-only, is warned of."""
    top_level = context.dialect.top_level_enterprise
    placed = []
    for change in changes:
        bare = change.path.removeprefix("enterprise.")
        if change.after is None and change.path.startswith("enterprise.") and bare in top_level:
            held = account.held_at(bare)
            change = change.model_copy(update={"held": held})
            if held == "extension":
                out.warn(key, extension_warning(bare))
        placed.append(change)
    return placed


def extension_warning(attribute: str) -> str:
    """What removing a value held only in the read-only enterprise extension does."""
    return (
        f"removes {attribute} from the enterprise extension, the only place it is set, which "
        "Atlassian's API describes as read-only: if refused, this update fails and the "
        "account's other changes are still made"
    )


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


def identity_warning(path: str, context: PlanContext) -> str:
    """What a change of an existing account's userName or email does (docs/atlassian.md
    "The organisation around the directory"); where the organisation's domains are known, the
    plan also says which case each email change is (``linkcheck``)."""
    what = "userName" if path == "userName" else "email"
    if context.names_immutable and what == "email":
        where = (
            "Atlassian will unlink the account and drop it from its groups if the new email "
            "is outside the organisation's verified domains"
        )
    else:
        where = f"whatever finds this person by the old {what} will not find it"
    return f"changes the {what} of an existing account: {where}"


def _identity_warnings(match: FileUserMatch, policy: UsersPolicy, out: _Outcome) -> None:
    """Say how an account that the key alone did not find was recognised."""
    account = match.account
    assert account is not None
    if match.identity is Identity.REKEYED:
        if policy.key == "externalId":
            before = account.externalId or "(none)"
            out.warn(
                match.key,
                f"re-keyed: no account has externalId {match.key}, but {match.via} is this "
                f"person's account; its externalId changes {before} -> {match.key}",
            )
        else:
            out.warn(
                match.key,
                f"re-keyed: found by {match.via} under the userName {account.userName}, "
                "which changes; it is not a new account",
            )
    elif match.identity is Identity.RENAMED:
        out.warn(match.key, f"renamed: found by its {match.via}; it is not a new account")


def _describe(account: LiveUser) -> str:
    external = f"externalId {account.externalId}" if account.externalId else "no externalId"
    state = "active" if account.active else "deactivated"
    return f"{account.userName} ({external}, {state})"


def _collision(
    match: FileUserMatch, policy: UsersPolicy, context: PlanContext, out: _Outcome
) -> None:
    holder = match.holder
    assert holder is not None, "a collision names the holder"
    out.named.add(holder.id)
    if match.account is not None:
        out.handled.add(match.account.id)
        reason = "its new userName or email is held by another account (see warnings)"
        out.left_alone.append((Resource.USER, reason, match.key))
        out.warn(
            match.key,
            f"its {match.via} is held by the live account {_describe(holder)}; its own "
            "account is left as it is until that is resolved",
        )
        return
    allowed = policy.adopt == "always" or (policy.adopt == "inactive" and not holder.active)
    holder_reason = _owned(policy, holder.userName)
    if match.adoptable and allowed and holder_reason is None:
        _adopt(match, holder, policy, context, out)
        return
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
    out.warn(
        match.key,
        f"not created: its {match.via} is held by the live account {_describe(holder)}; {why}",
    )


def _adopt(
    match: FileUserMatch,
    holder: LiveUser,
    policy: UsersPolicy,
    context: PlanContext,
    out: _Outcome,
) -> None:
    spec = match.spec
    out.manage(match.key, fold_user_key(match.key, policy.key), holder)
    changes = _changes(spec, holder)
    if spec.active != holder.active:
        changes.append(Change(path="active", before=holder.active, after=spec.active))
        if not spec.active:
            out.deactivated.append((holder, match.key))
    reactivates = "; it is reactivated" if spec.active and not holder.active else ""
    out.warn(
        match.key,
        f"adopts the existing account {_describe(holder)}, which holds its {match.via}: "
        f"{plural(len(changes), 'attribute')} overwritten{reactivates}",
    )
    for change in changes:
        if change.path in ("userName", "emails"):
            out.warn(match.key, identity_warning(change.path, context))
    out.actions.append(_on_account(ActionKind.ADOPT, match.key, holder, changes))


def _live_user(
    match: LiveUserMatch,
    key_attribute: str,
    policy: UsersPolicy,
    out: _Outcome,
    shared_keys: dict[str, str],
) -> None:
    user = match.account
    live_key = user.userName if key_attribute == "userName" else user.externalId
    shown = live_key or user.userName
    if match.identity is Identity.AMBIGUOUS:
        if live_key is not None:
            folded = fold_user_key(live_key, key_attribute)
            shared_keys[folded] = min(shared_keys.get(folded, live_key), live_key)
        return
    if user.id in out.handled:
        return
    if match.identity is Identity.COLLIDES and user.id not in out.key_of_id:
        out.left_alone.append((Resource.USER, HOLDS_WANTED_IDENTITY, shown))
        if user.id not in out.named and match.by is not None:
            out.warn(
                match.by,
                f"the live account {_describe(user)} also answers to one of its identifiers "
                "(userName, externalId or a previous userName) but is another account; "
                "it is left alone",
            )
        return
    if match.identity is not Identity.UNMATCHED:
        return  # claimed: the file user's entry decided
    reason: str | None = _owned(policy, user.userName)
    if reason is None and live_key is None:
        reason = "has no externalId to match on (policy.users.key: externalId)"
    if reason is None:
        out.manage(shown, fold_user_key(shown, key_attribute), user)
        if policy.unmanaged == "deactivate":
            if user.active:
                out.deactivated.append((user, shown))
                out.actions.append(
                    _on_account(
                        ActionKind.DEACTIVATE,
                        shown,
                        user,
                        [Change(path="active", before=True, after=False)],
                    )
                )
            return
        reason = "not in the files (policy.users.unmanaged: ignore)"
    out.left_alone.append((Resource.USER, reason, shown))
