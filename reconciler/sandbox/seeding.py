"""``reconciler sandbox seed``: organisation fixtures and desired-state files into a sandbox.

The PATHs may mix both kinds of file (a fixture has a top-level ``org``; ``fixture``)
and directories of them. What is given replaces what the sandbox had of that kind,
in one transaction:

* fixtures replace the organisation outside the directory: the accounts no user of
  the directory is linked to, and the group names taken elsewhere (``org``);
* desired-state files (``users``, ``groups``, as ``reconciler export`` writes them)
  replace the directory: every user, group and membership, loaded in bulk
  (``bulk``). Each user is what a create of it would store: the same
  ``resources`` checks, Atlassian's attribute set (``locale`` and the other
  attributes Atlassian lacks are problems, as the API would refuse them), and a
  link to the organisation's account with its email, or a new account.

Every problem, in any file, is reported at once as ``file:line:column: path:
message`` (a ``DesiredStateError``), and then nothing is changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from reconciler.attributes import user_create_body
from reconciler.desired import DesiredFile, DesiredState
from reconciler.errors import DesiredStateError, Problem
from reconciler.files.loader import merge_documents, read_documents
from reconciler.files.sourcemap import NodePath, ParsedDocument, excerpt
from reconciler.ownership import create_user_attributes
from reconciler.sandbox.bulk import BulkGroup, clear_directory, load_directory
from reconciler.sandbox.fixture import (
    Listed,
    Organisation,
    OrgFixtureFile,
    is_fixture,
    read_fixtures,
)
from reconciler.sandbox.org import replace_organisation
from reconciler.sandbox.problems import ScimRequestError
from reconciler.sandbox.resources import check_user, clean_attributes, primary_email
from reconciler.sandbox.schemas import ENTERPRISE_URN, USER, USER_URN, unsupported
from reconciler.sandbox.store import SandboxStore


@dataclass(frozen=True, slots=True)
class SeedSummary:
    """What a seed loaded; ``None`` for the kind of file it was not given."""

    accounts: int | None = None
    linked_elsewhere: int = 0
    group_names: int = 0
    domains: int = 0
    users: int | None = None
    groups: int = 0
    memberships: int = 0


def seed(store: SandboxStore, paths: Sequence[str | Path]) -> SeedSummary:
    """Load the fixtures and desired-state files in ``paths`` into ``store``.

    Raises ``DesiredStateError`` with every problem found, and changes nothing then.
    """
    problems: list[Problem] = []
    documents = read_documents(paths, problems, schema=_schema_for)
    fixtures = [d for d in documents if is_fixture(d.data)]
    directory = [d for d in documents if not is_fixture(d.data)]
    organisation = read_fixtures(fixtures)
    try:
        desired = merge_documents(directory, problems)
    except DesiredStateError as error:
        raise DesiredStateError([*error.problems, *_problems(fixtures)]) from None
    users = _stored_users(desired, directory)
    groups = _bulk_groups(desired)
    _check_across(organisation, users, groups)
    _raise_if_any(documents)
    with store.transaction():
        if directory:
            clear_directory(store)
        if fixtures:
            _replace_organisation(store, organisation)
        if directory and not _problems(documents):
            for index, message in load_directory(store, [u.attrs for u in users], groups):
                users[index].report(message)
        _raise_if_any(documents)  # inside the transaction: it is rolled back
    return SeedSummary(
        accounts=len(organisation.accounts) if fixtures else None,
        linked_elsewhere=sum(1 for a, _ in organisation.accounts if a.linked_to is not None),
        group_names=len(organisation.groups),
        domains=len(organisation.domains),
        users=len(users) if directory else None,
        groups=len(groups),
        memberships=sum(len(g.members) for g in groups),
    )


def _schema_for(data: Any) -> type[BaseModel]:
    return OrgFixtureFile if is_fixture(data) else DesiredFile


def _problems(documents: Sequence[ParsedDocument]) -> list[Problem]:
    return [problem for doc in documents for problem in doc.problems]


def _raise_if_any(documents: Sequence[ParsedDocument]) -> None:
    problems = _problems(documents)
    if problems:
        raise DesiredStateError(problems)


@dataclass(frozen=True, slots=True)
class _User:
    """A user to load: what a create would store, and where the file lists it."""

    attrs: dict[str, Any]
    listed: Listed

    @property
    def email(self) -> str:
        return primary_email(self.attrs)

    def report(self, message: str) -> None:
        doc, path = self.listed.doc, self.listed.path
        doc.add_problem(doc.position(path), path, message)


def _stored_users(desired: DesiredState, documents: Sequence[ParsedDocument]) -> list[_User]:
    """Each file user as the sandbox would store it; problems go into the documents."""
    places = [
        Listed(doc, ("users", index))
        for doc in documents
        for index in range(len(doc.data.get("users") or ()))
    ]
    assert len(places) == len(desired.users)  # every document validated, in this order
    users: list[_User] = []
    emails: dict[str, _User] = {}
    for spec, listed in zip(desired.users, places, strict=True):
        doc = listed.doc
        found = list(_unsupported(doc.data["users"][listed.path[1]]))
        for below, message in found:
            path = (*listed.path, *below)
            doc.add_problem(doc.key_position(path), path, message)
        if found:
            continue
        try:
            attrs = check_user(
                clean_attributes(user_create_body(create_user_attributes(spec)), USER)
            )
        except ScimRequestError as refused:
            doc.add_problem(doc.position(listed.path), listed.path, refused.detail)
            continue
        user = _User(attrs, listed)
        first = emails.setdefault(user.email.lower(), user)
        if first is not user:
            user.report(
                f"primary email {excerpt(user.email)} is also {excerpt(first.attrs['userName'])}'s;"
                " an email belongs to one Atlassian account"
            )
        users.append(user)
    return users


def _unsupported(raw: Mapping[str, Any]) -> Iterator[tuple[NodePath, str]]:
    """Where a file user gives a value to an attribute Atlassian's schema lacks."""
    for key, value in raw.items():
        if value is not None and unsupported(USER_URN, key):
            yield (key,), f"the Atlassian API has no {key} attribute"
    enterprise = raw.get("enterprise")
    for key, value in (enterprise if isinstance(enterprise, dict) else {}).items():
        if value is not None and unsupported(ENTERPRISE_URN, key):
            yield ("enterprise", key), f"the Atlassian API has no enterprise.{key} attribute"


def _bulk_groups(desired: DesiredState) -> list[BulkGroup]:
    """The file groups, members as indexes into ``desired.users``."""
    index = {desired.fold_user_key(desired.user_key(u)): i for i, u in enumerate(desired.users)}
    members = desired.group_members()
    return [
        BulkGroup(
            g.displayName, tuple(sorted(index[k] for k in members[g.displayName] if k in index))
        )
        for g in desired.groups
    ]


def _check_across(
    organisation: Organisation, users: Sequence[_User], groups: Sequence[BulkGroup]
) -> None:
    """Fixture entries that the desired-state files contradict."""
    by_email: dict[str, _User] = {}
    for user in users:
        by_email.setdefault(user.email.lower(), user)
    for account, listed in organisation.accounts:
        holder = by_email.get(account.email.lower())
        if holder is not None and account.linked_to is not None:
            organisation.report(
                listed,
                f"linked to directory {excerpt(account.linked_to)}, but user "
                f"{excerpt(holder.attrs['userName'])} of the desired-state files has this email"
                " (Atlassian would answer 409); leave out linked_to to link that user to it",
            )
    names = {group.display_name.lower() for group in groups}
    for name, listed in organisation.groups:
        if name.lower() in names:
            organisation.report(
                listed,
                f"group {excerpt(name)} is also in the desired-state files;"
                " group names are unique in the organisation",
            )


def _replace_organisation(store: SandboxStore, organisation: Organisation) -> None:
    accounts = [account for account, _ in organisation.accounts]
    names = [name for name, _ in organisation.groups]
    domains = [domain for domain, _ in organisation.domains]
    conflicts = replace_organisation(store, accounts, names, domains, organisation.caps)
    for kind, index, message in conflicts:
        if kind == "accounts":
            account, listed = organisation.accounts[index]
            organisation.report(listed, f"{excerpt(account.email)} {message}")
        else:
            name, listed = organisation.groups[index]
            organisation.report(listed, f"{excerpt(name)} {message}")
