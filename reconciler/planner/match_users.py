"""The identity stage for users: every file user and live user, matched once.

The rules are in ``reconciler.planner.identity`` and docs/identity.md. Matching runs
in rounds, each seeing only what earlier rounds left: the policy's key; the other
identifier and previous userNames; then who holds the identity a file user wants.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from operator import attrgetter
from typing import NamedTuple

from reconciler.desired import UserSpec
from reconciler.identifiers import fold_identity
from reconciler.live import LiveUser
from reconciler.planner.identity import (
    CLAIMING,
    SHARED_KEY,
    FileUserMatch,
    Identity,
    LiveUserMatch,
    UserMatches,
)
from reconciler.planner.user_index import UserIndex, in_key_order, wanted_emails


def _external_id(spec: UserSpec) -> str:
    return spec.externalId or ""


def _order(user: LiveUser) -> tuple[str, str]:
    return (fold_identity(user.userName), user.id)


def match_users(
    specs: Sequence[UserSpec],
    live: Sequence[LiveUser],
    key_attribute: str,
    *,
    emails_unique: bool,
) -> UserMatches:
    """Decide the identity of every file user and every live user.

    ``emails_unique``: the target refuses two accounts with one email (Atlassian),
    so an email held by another account is a collision like a held userName.
    """
    index = UserIndex.of(live, emails_unique)
    matcher = _UserMatcher(index, key_attribute)
    keys = [matcher.key(spec) for spec in specs]
    folded = dict(zip(keys, map(fold_identity, keys), strict=True))  # each key folded once
    matched = matcher.run(in_key_order(specs, keys, folded), folded)
    live_matches = _live_user_matches(index.ordered, matched)
    files = matched.files
    return UserMatches(
        key_attribute=key_attribute,
        files=tuple(in_key_order(files, [m.key for m in files], folded)),
        live=live_matches,
        by_id={m.account.id: m for m in live_matches},
    )


class _Round(NamedTuple):
    """What one round of matching decided; the next round sees only ``pending``."""

    done: tuple[FileUserMatch, ...]
    pending: tuple[UserSpec, ...]
    # Live ids this round found cannot be told apart: no later round may claim them.
    ambiguous: frozenset[str]


class _Held(NamedTuple):
    """Round 3 for one file user with no account, and every account holding what it wants."""

    match: FileUserMatch
    holders: tuple[str, ...]


class _Matched(NamedTuple):
    """Every round's result: what the live users' identities are decided from."""

    files: tuple[FileUserMatch, ...]
    ambiguous: frozenset[str]  # live ids that cannot be told apart
    reached: Mapping[str, str]  # live id -> key of the first file user that names it


class _UserMatcher:
    """The rounds of user matching; each round only sees what earlier rounds left."""

    def __init__(self, index: UserIndex, key_attribute: str) -> None:
        self.index = index
        self.key_attribute = key_attribute
        self.key: Callable[[UserSpec], str] = (
            _external_id if key_attribute == "externalId" else attrgetter("userName")
        )
        self.folded: Mapping[str, str] = {}  # each file user's key, folded (``run``)

    def folded_name(self, spec: UserSpec) -> str:
        """The file user's userName, folded (``fold_identity``): its key's, when it is the key."""
        if self.key_attribute == "userName":
            return self.folded.get(spec.userName) or fold_identity(spec.userName)
        return fold_identity(spec.userName)

    def folded_external_id(self, spec: UserSpec) -> str | None:
        """The file user's externalId, folded, or None when it has none."""
        external = spec.externalId
        if not external:
            return None
        if self.key_attribute == "externalId":
            return self.folded.get(external) or fold_identity(external)
        return fold_identity(external)

    def run(self, specs: list[UserSpec], folded: Mapping[str, str]) -> _Matched:
        """The rounds in order, each given what the earlier ones decided.

        The live ids found ambiguous grow round by round; the accounts a file user's
        identifiers reach are recorded before any round, and then the holders round 3
        finds (the first file user to name an account keeps it).
        """
        self.folded = folded
        first = self.primary(specs, self.shared_keys(), folded)
        claimed = {m.account.id for m in first.done if m.account is not None}
        second = self.secondary(first.pending, claimed, first.ambiguous)
        ambiguous = second.ambiguous
        done = [*first.done, *second.done]
        owners = {m.account.id: m.key for m in done if m.account is not None}
        held = [self.holder_match(spec, owners, ambiguous) for spec in second.pending]
        reached = self.reached(specs, owners, ambiguous)
        for outcome in held:
            for user_id in outcome.holders:
                reached.setdefault(user_id, outcome.match.key)
        done += [outcome.match for outcome in held]
        files = self.refuse_shared_holders(self.check_wanted(done, owners))
        return _Matched(tuple(files), ambiguous, reached)

    def shared_keys(self) -> frozenset[str]:
        """Live ids that cannot be told apart from the start: those sharing a key."""
        index = self.index
        primary = index.by_name if self.key_attribute == "userName" else index.by_external_id
        return frozenset(user.id for user in primary.shared())

    def by_key(self, key: str, folded: str) -> Sequence[LiveUser]:
        """The live users the policy's key names: ``key``, folded (``fold_identity``)."""
        if self.key_attribute == "externalId":
            return self.index.by_external_id.users(folded) if key else ()
        return self.index.by_name.users(folded)

    def reached(
        self, specs: list[UserSpec], owners: Mapping[str, str], ambiguous: frozenset[str]
    ) -> dict[str, str]:
        """Every account any identifier of a file user names: never unmatched.

        Only accounts neither claimed (``owners``) nor ambiguous: a live user's identity
        says those before it says reached (``_live_user_matches``). For the same reason
        not by the policy's key, which round 1 made claim or find ambiguous whatever it
        names; so only the other identifiers are looked up."""
        reached: dict[str, str] = {}
        by_name, by_external_id = self.index.by_name, self.index.by_external_id
        by_user_name = self.key_attribute != "userName"
        for spec in specs:
            key = self.key(spec)
            found = [*by_name.users(self.folded_name(spec))] if by_user_name else []
            for name in spec.previousUserNames:
                found += by_name.users(fold_identity(name))
            if not by_user_name:
                found += by_external_id.users(self.folded_external_id(spec))
            for user in found:
                if user.id not in owners and user.id not in ambiguous:
                    reached.setdefault(user.id, key)
        return reached

    def primary(
        self, specs: list[UserSpec], ambiguous: frozenset[str], folded: Mapping[str, str]
    ) -> _Round:
        """Round 1: the policy's key (``folded``: each key, folded)."""
        found_ambiguous = set(ambiguous)
        claimer: dict[str, int] = {}  # account id -> where in done its first claim is
        done: list[FileUserMatch] = []
        pending: list[UserSpec] = []
        matched, several = Identity.MATCHED, "several file users match this account"
        for spec in specs:
            key = self.key(spec)
            found = self.by_key(key, folded[key])
            if len(found) == 1:
                account = found[0]
                first = claimer.setdefault(account.id, len(done))
                if first == len(done):
                    done.append(FileUserMatch(spec, key, matched, account))
                    continue
                found_ambiguous.add(account.id)  # claimed twice: neither file user has it
                done[first] = self.ambiguous_match(done[first].spec, several)
                done.append(self.ambiguous_match(spec, several))
            elif found:
                found_ambiguous.update(u.id for u in found)
                done.append(self.ambiguous_match(spec, SHARED_KEY))
            else:
                pending.append(spec)
        return _Round(tuple(done), tuple(pending), frozenset(found_ambiguous))

    def secondary(
        self, specs: Sequence[UserSpec], claimed: set[str], ambiguous: frozenset[str]
    ) -> _Round:
        """Round 2: the other identifier and previous userNames, among accounts that are
        neither claimed nor ambiguous (including those it finds ambiguous itself)."""
        found_ambiguous = set(ambiguous)
        claims: dict[str, list[tuple[UserSpec, LiveUser, Identity, str]]] = defaultdict(list)
        done: list[FileUserMatch] = []
        pending: list[UserSpec] = []
        for spec in specs:
            found = self.candidates(spec)
            usable = {
                u.id: (u, identity, via)
                for u, identity, via in found
                if u.id not in claimed and u.id not in found_ambiguous
            }
            if len(usable) > 1:
                found_ambiguous.update(usable)
                done.append(self.ambiguous_match(spec, "its identifiers name different accounts"))
            elif usable:
                ((account, identity, via),) = usable.values()
                claims[account.id].append((spec, account, identity, via))
            else:
                pending.append(spec)
        for entries in claims.values():
            for spec, account, identity, via in entries:
                if len(entries) == 1:
                    done.append(FileUserMatch(spec, self.key(spec), identity, account, via=via))
                else:
                    found_ambiguous.add(account.id)
                    done.append(self.ambiguous_match(spec, "several file users name this account"))
        return _Round(tuple(done), tuple(pending), frozenset(found_ambiguous))

    def candidates(self, spec: UserSpec) -> list[tuple[LiveUser, Identity, str]]:
        """Accounts that the file's non-key identifiers name, with how they were found.

        (``reached`` records every one of them as reached.)
        """
        found: list[tuple[LiveUser, Identity, str]] = []
        if self.key_attribute == "userName" and spec.externalId:
            for user in self.index.by_external_id.users(fold_identity(spec.externalId)):
                found.append((user, Identity.REKEYED, f"externalId {spec.externalId}"))
        if self.key_attribute == "externalId":
            for user in self.index.by_name.users(fold_identity(spec.userName)):
                # A recycled userName of a deactivated or never-keyed account is a
                # takeover (collides, maybe adopted), not a re-key of the same person.
                if user.active and user.externalId is not None:
                    found.append((user, Identity.REKEYED, f"userName {user.userName}"))
        for previous in spec.previousUserNames:
            for user in self.index.by_name.users(fold_identity(previous)):
                found.append((user, Identity.RENAMED, f"previous userName {previous}"))
        # One account found two ways is one candidate; an explicit rename wins the label.
        best: dict[str, tuple[LiveUser, Identity, str]] = {}
        for user, identity, via in found:
            if user.id not in best or identity is Identity.RENAMED:
                best[user.id] = (user, identity, via)
        return list(best.values())

    def holders(self, spec: UserSpec, own: LiveUser | None) -> list[tuple[LiveUser, str]]:
        """Other live accounts that hold the userName or an email this file user wants."""
        named = self.index.by_name.users(self.folded_name(spec))
        emails = wanted_emails(spec) if own is None or spec.emails is not None else []
        if not emails and all(user is own for user in named):
            return []  # the common case: an account that keeps its own identity
        held: dict[str, tuple[LiveUser, str]] = {}
        for user in named:
            held.setdefault(user.id, (user, f"userName {user.userName}"))
        for email in emails:
            for user in self.index.by_email.users(email):
                held.setdefault(user.id, (user, f"email {email}"))
        if own is not None:
            held.pop(own.id, None)
        return sorted(held.values(), key=lambda pair: _order(pair[0]))

    def holder_match(
        self, spec: UserSpec, owners: Mapping[str, str], ambiguous: frozenset[str]
    ) -> _Held:
        """Round 3, for a file user with no account: a create, or a collision."""
        key = self.key(spec)
        held = self.holders(spec, None)
        if not held:
            return _Held(FileUserMatch(spec, key, Identity.UNMATCHED), ())
        holder, via = held[0]
        adoptable = len(held) == 1 and holder.id not in owners and holder.id not in ambiguous
        if len(held) > 1:
            via = " and ".join(v for _, v in held[:2]) + " (held by different accounts)"
        match = FileUserMatch(
            spec, key, Identity.COLLIDES, holder=holder, adoptable=adoptable, via=via
        )
        return _Held(match, tuple(user.id for user, _ in held))

    def check_wanted(
        self, matches: list[FileUserMatch], owners: Mapping[str, str]
    ) -> list[FileUserMatch]:
        """Round 4: an account whose new userName or email another account holds collides."""
        checked: list[FileUserMatch] = []
        for match in matches:
            if match.identity in CLAIMING and match.account is not None:
                held = self.holders(match.spec, match.account)
                if held:
                    holder, via = held[0]
                    match = FileUserMatch(
                        match.spec,
                        match.key,
                        Identity.COLLIDES,
                        match.account,
                        holder=holder,
                        via=via,
                    )
            checked.append(match)
        return checked

    def refuse_shared_holders(self, matches: list[FileUserMatch]) -> list[FileUserMatch]:
        """Two file users that want one account: neither may take it over."""
        wanting: dict[str, int] = defaultdict(int)
        for match in matches:
            if match.holder is not None:
                wanting[match.holder.id] += 1
        return [
            FileUserMatch(m.spec, m.key, m.identity, m.account, m.holder, False, m.via)
            if m.adoptable and m.holder is not None and wanting[m.holder.id] > 1
            else m
            for m in matches
        ]

    def ambiguous_match(self, spec: UserSpec, why: str) -> FileUserMatch:
        return FileUserMatch(spec, self.key(spec), Identity.AMBIGUOUS, via=why)


def _live_user_matches(live: Sequence[LiveUser], matched: _Matched) -> tuple[LiveUserMatch, ...]:
    """Each live user's identity, in the order of ``live`` (``UserIndex.ordered``)."""
    files, ambiguous, reached = matched.files, matched.ambiguous, matched.reached
    owner: dict[str, FileUserMatch] = {m.account.id: m for m in files if m.account is not None}
    wanted: dict[str, str] = {m.holder.id: m.key for m in files if m.holder is not None}
    result: list[LiveUserMatch] = []
    for user in live:
        claim = owner.get(user.id)
        if claim is not None:
            result.append(LiveUserMatch(user, claim.identity, claim.key))
        elif user.id in ambiguous:
            result.append(LiveUserMatch(user, Identity.AMBIGUOUS))
        elif user.id in wanted or user.id in reached:
            result.append(
                LiveUserMatch(user, Identity.COLLIDES, wanted.get(user.id) or reached[user.id])
            )
        else:
            result.append(LiveUserMatch(user, Identity.UNMATCHED))
    return tuple(result)
