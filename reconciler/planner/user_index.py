"""The identifiers users are matched on: live users by each of them, and the email
addresses of either side, folded as identities compare (``fold_identity``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from reconciler.desired import UserSpec
from reconciler.identifiers import fold_identity
from reconciler.live import LiveUser


def live_emails(user: LiveUser) -> list[str]:
    """The email addresses of a live user, folded as identities compare."""
    (items,) = user.values_at(_EMAILS)
    return [fold_identity(value) for value, _, _ in items or ()]


_EMAILS = ("emails",)


def wanted_emails(spec: UserSpec) -> list[str]:
    """The addresses a file user will have: its emails, or its userName on create."""
    if spec.emails is None:
        return [fold_identity(spec.userName)] if "emails" not in spec.model_fields_set else []
    return [fold_identity(email.value) for email in spec.emails]


class Found:
    """Live users by one folded identifier. Nearly every identifier names one user,
    kept as it is; a list only where several share one (a million one-element lists
    would be 64 MB and a million allocations)."""

    __slots__ = ("_by_key",)

    def __init__(self, by_key: dict[str, LiveUser | list[LiveUser]] | None = None) -> None:
        self._by_key: dict[str, LiveUser | list[LiveUser]] = {} if by_key is None else by_key

    def users(self, key: str | None) -> Sequence[LiveUser]:
        """The live users ``key`` names (folded), in the order they were read."""
        found = self._by_key.get(key) if key else None
        if found is None:
            return ()
        return found if isinstance(found, list) else (found,)

    def shared(self) -> list[LiveUser]:
        """The live users that share their identifier with another."""
        return [user for found in self._by_key.values() if type(found) is list for user in found]


def _add(by_key: dict[str, LiveUser | list[LiveUser]], key: str, user: LiveUser) -> None:
    """``user`` under ``key``: once, however often a user lists one address."""
    found = by_key.get(key)
    if found is None:
        by_key[key] = user
    elif isinstance(found, list):
        if found[-1] is not user:
            found.append(user)
    elif found is not user:
        by_key[key] = [found, user]


@dataclass(frozen=True, slots=True)
class UserIndex:
    """Live users by every identifier a file can name, folded (``fold_identity``)."""

    by_name: Found
    by_external_id: Found
    by_email: Found
    # Every live user, by folded userName and then id: the order identities are listed in.
    ordered: tuple[LiveUser, ...] = ()

    @classmethod
    def of(cls, live: Sequence[LiveUser], emails_unique: bool) -> UserIndex:
        by_name: dict[str, LiveUser | list[LiveUser]] = {}
        by_external_id: dict[str, LiveUser | list[LiveUser]] = {}
        names = [fold_identity(user.userName) for user in live]
        for user, name in zip(live, names, strict=True):  # one pass: a directory has millions
            _add(by_name, name, user)
            if external := user.externalId:
                _add(by_external_id, fold_identity(external), user)
        return cls(
            by_name=Found(by_name),
            by_external_id=Found(by_external_id),
            by_email=_by_email(live) if emails_unique else Found(),
            ordered=_ordered(live, names),
        )


def _by_email(live: Sequence[LiveUser]) -> Found:
    """Live users by each of their addresses (``live_emails``), each user once per
    address."""
    by_email: dict[str, LiveUser | list[LiveUser]] = {}
    for user in live:
        for email in live_emails(user):
            _add(by_email, email, user)
    return Found(by_email)


def _ordered(live: Sequence[LiveUser], names: list[str]) -> tuple[LiveUser, ...]:
    """``live`` by folded userName (``names``, in the order of ``live``), then id."""
    ids = [user.id for user in live]
    return tuple(live[i] for _, _, i in sorted(zip(names, ids, range(len(live)), strict=True)))


T = TypeVar("T")


def in_key_order(items: Sequence[T], keys: list[str], folded: Mapping[str, str]) -> list[T]:
    """``items`` by their ``keys`` folded (``folded``: each key's), then as written, else
    as they come (a sort of tuples, with no call per item)."""
    ranked = sorted(zip(map(folded.__getitem__, keys), keys, range(len(items)), strict=True))
    return [items[i] for _, _, i in ranked]
