"""The identifiers users are matched on: live users by each of them, and the email
addresses of either side, folded as identities compare (``fold_identity``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class UserIndex:
    """Live users by every identifier a file can name, folded (``fold_identity``)."""

    by_name: dict[str, list[LiveUser]]
    by_external_id: dict[str, list[LiveUser]]
    by_email: dict[str, list[LiveUser]]
    # Every live user, by folded userName and then id: the order identities are listed in.
    ordered: tuple[LiveUser, ...] = ()

    @classmethod
    def of(cls, live: Sequence[LiveUser], emails_unique: bool) -> UserIndex:
        by_name: dict[str, list[LiveUser]] = {}
        by_external_id: dict[str, list[LiveUser]] = {}
        names = [fold_identity(user.userName) for user in live]
        for user, name in zip(live, names, strict=True):  # one pass: a directory has millions
            if (same_name := by_name.get(name)) is None:
                by_name[name] = [user]
            else:
                same_name.append(user)
            if external := user.externalId:
                external = fold_identity(external)
                if (same_external := by_external_id.get(external)) is None:
                    by_external_id[external] = [user]
                else:
                    same_external.append(user)
        return cls(
            by_name=by_name,
            by_external_id=by_external_id,
            by_email=_by_email(live) if emails_unique else {},
            ordered=_ordered(live, names),
        )


def _by_email(live: Sequence[LiveUser]) -> dict[str, list[LiveUser]]:
    """Live users by each of their addresses (``live_emails``), each user once per
    address: ``index_by(live, live_emails)`` in one loop, as ``UserIndex.of``."""
    by_email: dict[str, list[LiveUser]] = {}
    for user in live:
        (items,) = user.values_at(_EMAILS)
        if not items:
            continue
        for value, _, _ in items:
            email = fold_identity(value)
            if (same := by_email.get(email)) is None:
                by_email[email] = [user]
            elif same[-1] is not user:  # one address listed twice: the user once
                same.append(user)
    return by_email


def _ordered(live: Sequence[LiveUser], names: list[str]) -> tuple[LiveUser, ...]:
    """``live`` by folded userName (``names``, in the order of ``live``), then id."""
    order = sorted(range(len(live)), key=lambda i: (names[i], live[i].id))
    return tuple(live[i] for i in order)
