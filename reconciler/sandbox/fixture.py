"""Organisation fixtures: the Atlassian organisation around the sandbox's directory, as a file.

```yaml
version: 1
org:
  accounts:                 # Atlassian accounts in the organisation, outside this directory
    - {email: carol@example.com}                       # no SCIM link: a create links to it
    - {email: dave@example.com, linked_to: other-dir}  # linked to another directory: 409
  groups: [jira-admins, confluence-users]             # names taken in the organisation
```

A file is a fixture when its top level has an ``org`` key; the models are strict
like the desired-state format's (``extra="forbid"``, no coercion), and their
problems are reported the same way, ``file:line:column: path: message``. Several
fixture files add up; an email or a group name listed twice, in any letter case
and in any of them, is a problem at its second listing. ``org`` turns the result
into rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
from reconciler.sandbox.org import SANDBOX_DIRECTORY_ID, OrgAccount


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


def _not_blank(name: str) -> str:
    if not name.strip():
        raise ValueError("a group name must not be blank")
    return name


class OrgSpec(_Strict):
    """What the organisation holds outside this directory."""

    accounts: tuple[AccountSpec, ...] = ()
    groups: tuple[Annotated[str, AfterValidator(_not_blank)], ...] = Field(
        default=(),
        description="Group names taken in the organisation (other directories, products).",
    )


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
    """Every fixture file's accounts and group names, added up, each with its place."""

    accounts: list[tuple[OrgAccount, Listed]]
    groups: list[tuple[str, Listed]]

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


def _seen(
    organisation: Organisation, seen: dict[str, Listed], key: str, listed: Listed, what: str
) -> None:
    first = seen.setdefault(key, listed)
    if first is not listed:
        line = first.doc.position(first.path)
        where = f"{first.doc.file}:{line[0]}" if line else first.doc.file
        organisation.report(listed, f"{excerpt(what)} is listed twice (first at {where})")
