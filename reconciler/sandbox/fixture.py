"""Organisation fixtures: the Atlassian organisation around the sandbox's directory, as a file.

```yaml
version: 1
org:
  domains: [example.com]    # verified: accounts elsewhere are unmanaged (none: all managed)
  accounts:                 # Atlassian accounts in the organisation, outside this directory
    - {email: carol@example.com}                       # no SCIM link: a create links to it
    - {email: dave@example.com, linked_to: other-dir}  # linked to another directory: 409
  groups: [design, platform-team]                     # names other directories hold: 409
  caps: {group_members: 50000}                        # default: Atlassian's maxima
```

A file is a fixture when its top level has an ``org`` key; the models are strict
like the desired-state format's (``extra="forbid"``, no coercion), and their
problems are reported the same way, ``file:line:column: path: message``. Several
fixture files add up; an email or a group name listed twice, in any letter case
and in any of them, is a problem at its second listing. ``org`` turns the result
into rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from reconciler.desired import EmailAddress, FormatVersion
from reconciler.files.sourcemap import NodePath, ParsedDocument, excerpt
from reconciler.files.validation import report_validation_error
from reconciler.sandbox.org import SANDBOX_DIRECTORY_ID, OrgAccount, reserved_group


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class AccountSpec(_Strict):
    """An Atlassian account of the organisation that is not a user of this directory."""

    email: EmailAddress = Field(min_length=3, description="The account's email; unique in the org.")
    account_id: str | None = Field(
        default=None, min_length=1, description="Its Atlassian account id (default: minted)."
    )
    linked_to: str | None = Field(
        default=None,
        min_length=1,
        description="The id of another directory whose SCIM user is linked to the account.",
    )

    @field_validator("linked_to")
    @classmethod
    def _another_directory(cls, value: str | None) -> str | None:
        if value == SANDBOX_DIRECTORY_ID:
            raise ValueError(
                f"{SANDBOX_DIRECTORY_ID!r} is this directory: list its users in a "
                "desired-state file instead"
            )
        return value


def _taken_name(name: str) -> str:
    if not name.strip():
        raise ValueError("a group name must not be blank")
    if reserved_group(name):
        raise ValueError(
            f"{excerpt(name)} is a product's default-access or built-in group name: Atlassian "
            "answers its create with success and never syncs it, which the sandbox does "
            "without a fixture; list names that other directories hold here"
        )
    return name


def _domain(name: str) -> str:
    if not _DOMAIN.fullmatch(name):
        raise ValueError(f"{excerpt(name)} is not a domain name like example.com")
    return name


_DOMAIN = re.compile(r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")


class CapsSpec(_Strict):
    """The organisation's size caps where they are not Atlassian's published maxima (the
    defaults: 1,000,000 users, 250,000 groups, 290,000 members per group, 8,000,000
    memberships; Atlassian raises them on request)."""

    users: int | None = Field(default=None, ge=0, description="Users in the directory.")
    groups: int | None = Field(default=None, ge=0, description="Groups in the directory.")
    group_members: int | None = Field(default=None, ge=0, description="Members of one group.")
    memberships: int | None = Field(
        default=None, ge=0, description="Memberships of all groups together."
    )


class OrgSpec(_Strict):
    """What the organisation holds outside this directory."""

    domains: tuple[Annotated[str, AfterValidator(_domain)], ...] = Field(
        default=(),
        description="Its verified domains; an account elsewhere is unmanaged (none: all managed).",
    )
    accounts: tuple[AccountSpec, ...] = ()
    groups: tuple[Annotated[str, AfterValidator(_taken_name)], ...] = Field(
        default=(),
        description="Group names other directories of the organisation hold (a create: 409).",
    )
    caps: CapsSpec = CapsSpec()


class OrgFixtureFile(_Strict):
    """One organisation fixture file, format version 1."""

    version: FormatVersion
    org: OrgSpec


def is_fixture(data: Any) -> bool:
    """Whether parsed data is an organisation fixture (its top level has ``org``)."""
    return isinstance(data, dict) and "org" in data


@dataclass(frozen=True, slots=True)
class Listed:
    """An entry of a fixture and where it is, to report a problem about it there."""

    doc: ParsedDocument
    path: NodePath


@dataclass
class Organisation:
    """Every fixture file's accounts, group names and domains, added up, each with its
    place, and the caps (the last file that sets one wins)."""

    accounts: list[tuple[OrgAccount, Listed]]
    groups: list[tuple[str, Listed]]
    domains: list[tuple[str, Listed]] = field(default_factory=list)
    caps: dict[str, int] = field(default_factory=dict)

    def report(self, listed: Listed, message: str) -> None:
        """Add a problem about the entry at ``listed``."""
        listed.doc.add_problem(listed.doc.position(listed.path), listed.path, message)


def read_fixtures(documents: Sequence[ParsedDocument]) -> Organisation:
    """Validate fixture documents and add them up; problems go into the documents."""
    organisation = Organisation([], [])
    for doc in documents:
        if not doc.complete:
            continue
        try:
            model = OrgFixtureFile.model_validate(doc.data)
        except ValidationError as exc:
            report_validation_error(exc, doc, OrgFixtureFile)
            continue
        for index, spec in enumerate(model.org.accounts):
            account = OrgAccount(spec.email, spec.account_id, spec.linked_to)
            organisation.accounts.append((account, Listed(doc, ("org", "accounts", index))))
        for index, name in enumerate(model.org.groups):
            organisation.groups.append((name, Listed(doc, ("org", "groups", index))))
        for index, domain in enumerate(model.org.domains):
            organisation.domains.append((domain, Listed(doc, ("org", "domains", index))))
        organisation.caps.update(model.org.caps.model_dump(exclude_none=True))
    _once_each(organisation)
    return organisation


def _once_each(organisation: Organisation) -> None:
    """Report an email, account id or group name listed again, in any letter case."""
    emails: dict[str, Listed] = {}
    ids: dict[str, Listed] = {}
    for account, listed in organisation.accounts:
        _seen(organisation, emails, account.email.lower(), listed, f"email {account.email}")
        if account.account_id is not None:
            _seen(organisation, ids, account.account_id, listed, f"account_id {account.account_id}")
    names: dict[str, Listed] = {}
    for name, listed in organisation.groups:
        _seen(organisation, names, name.lower(), listed, f"group {name}")
    domains: dict[str, Listed] = {}
    for domain, listed in organisation.domains:
        _seen(organisation, domains, domain.lower(), listed, f"domain {domain}")


def _seen(
    organisation: Organisation, seen: dict[str, Listed], key: str, listed: Listed, what: str
) -> None:
    first = seen.setdefault(key, listed)
    if first is not listed:
        line = first.doc.position(first.path)
        where = f"{first.doc.file}:{line[0]}" if line else first.doc.file
        organisation.report(listed, f"{excerpt(what)} is listed twice (first at {where})")
