"""The identity stage's results: which live user or group each file entry is.

Every later stage reads the frozen result and never looks anything up itself. For
users the rules are (docs/identity.md explains them with examples):

1. **matched**: the live account found by the policy's key (userName or
   externalId, folded: ``reconciler.identifiers.fold_identity``).
2. **re-keyed**: no account has the key, but the account found by the *other*
   identifier is the same person whose key changed. Under ``key: userName`` an
   account with the file's externalId counts (an HR id is strong evidence); under
   ``key: externalId`` an account with the file's userName counts only when it is
   active and has an externalId that no file claims (a recycled userName of a
   deactivated or never-keyed account is a takeover, not a re-key).
3. **renamed**: found under one of the file's ``previousUserNames``.
4. **collides**: the identity the file wants (its userName; on Atlassian also an
   email) is held by another live account. When that account is claimed by nobody
   else and the file user has no account of its own, the users stage may *adopt*
   it, as ``policy.users.adopt`` says.
5. **ambiguous**: several live accounts (or several file users) fit; nothing is
   done to any of them.
6. **unmatched**: nothing fits: a create (file side) or an unmanaged account (live
   side).

A live account that any identifier of any file user reaches is claimed or
collides; it is never *unmatched*, so never deactivated as unmanaged.
Groups follow the same shape with displayName and ``previousNames``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from reconciler.desired import GroupSpec, UserSpec
from reconciler.live import LiveGroup, LiveUser


class Identity(StrEnum):
    """How one file entry or live object was matched."""

    MATCHED = "matched"
    REKEYED = "re-keyed"
    RENAMED = "renamed"
    COLLIDES = "collides"
    AMBIGUOUS = "ambiguous"
    UNMATCHED = "unmatched"


# Why a file user is ambiguous when its key is shared by live users; the users stage
# warns about shared live keys once per key rather than once per file user.
SHARED_KEY = "several live users share this key"

CLAIMING = frozenset({Identity.MATCHED, Identity.REKEYED, Identity.RENAMED})


class FileUserMatch(NamedTuple):
    """What the identity stage decided for one file user. (A tuple, not a dataclass:
    one is made for every user of a directory, at a third of the cost.)"""

    spec: UserSpec
    key: str  # the file's key for this user (userName or externalId)
    identity: Identity
    # The account this file user *is* (matched, re-keyed, renamed, or a claimed
    # account whose wanted identity collides); None when it has none.
    account: LiveUser | None = None
    # collides: the live account holding the userName or email this user wants.
    holder: LiveUser | None = None
    # collides: whether the holder may be taken over (no other file user wants it).
    adoptable: bool = False
    # Which identifier found it or what it collides on, for a reviewer.
    via: str = ""


class LiveUserMatch(NamedTuple):
    """What the identity stage decided for one live user (a tuple, as ``FileUserMatch``)."""

    account: LiveUser
    identity: Identity
    # The file key of the user that claims this account, or that wants what it holds.
    by: str | None = None


@dataclass(frozen=True, slots=True)
class UserMatches:
    """The identity of every file user and every live user, sorted by key."""

    key_attribute: str
    files: tuple[FileUserMatch, ...]
    live: tuple[LiveUserMatch, ...]
    by_id: Mapping[str, LiveUserMatch] = field(default_factory=dict, compare=False, repr=False)

    def carry_key(self, user_id: str) -> str | None:
        """A key that names this live user alone, or None when it has none."""
        match = self.by_id.get(user_id)
        if match is None or match.identity is Identity.AMBIGUOUS:
            return None
        user = match.account
        if self.key_attribute == "externalId" and user.externalId is not None:
            return user.externalId
        return user.userName


@dataclass(frozen=True, slots=True)
class FileGroupMatch:
    """What the identity stage decided for one file group."""

    spec: GroupSpec
    identity: Identity
    group: LiveGroup | None = None
    # Matched by name while a live group still holds one of its previous names: on a
    # target that renames by create + delete, what is left of an interrupted rename.
    leftovers: tuple[LiveGroup, ...] = ()


@dataclass(frozen=True, slots=True)
class LiveGroupMatch:
    """What the identity stage decided for one live group."""

    group: LiveGroup
    identity: Identity
    by: str | None = None


@dataclass(frozen=True, slots=True)
class GroupMatches:
    """The identity of every file group and every live group, sorted by name."""

    files: tuple[FileGroupMatch, ...]
    live: tuple[LiveGroupMatch, ...]
