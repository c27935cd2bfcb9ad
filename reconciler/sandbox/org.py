"""The Atlassian organisation around the sandbox's directory: accounts, SCIM links, names.

docs/atlassian.md "The sandbox's organisation": an organisation holds Atlassian
accounts, each SCIM user of a directory is linked to one, and group names are unique
across the whole organisation. The sandbox's directory (id ``sandbox``) is one
directory of the organisation ``sandbox-org``; everything else in it comes from a
fixture (``reconciler sandbox seed``):

* An **account** is a row of ``accounts``, keyed by its lower-cased email. A user
  of this directory is linked to the account in its ``account_id``; an account of
  the fixture may instead be linked to a SCIM user of another directory
  (``linked_directory``, ``linked_user``), or to none.
* Creating a user whose primary email belongs to an unlinked account links it; an
  email whose account is linked anywhere is a 409, and so is an email change onto
  another account's email. Otherwise a new account is minted. Deleting a user
  leaves its account in the organisation, unlinked, as Atlassian does.
* ``org_groups`` are group names taken outside this directory (other directories,
  product default groups): creating a group of that name is a 409.

The Admin API (``admin``) reads and removes the links through the functions at the
end. Every function here runs inside the caller's ``store.transaction()`` when it
writes.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.sandbox import sql
from reconciler.sandbox.problems import ScimRequestError

if TYPE_CHECKING:
    from reconciler.sandbox.store import SandboxStore

SANDBOX_DIRECTORY_ID = "sandbox"
SANDBOX_ORG_ID = "sandbox-org"


@dataclass(frozen=True, slots=True)
class ScimLink:
    """A SCIM user of some directory of the organisation, and the account it is linked to."""

    account_id: str | None
    directory_id: str
    scim_user_id: str

    def to_json(self) -> dict[str, Any]:
        """The link as the Admin API answers it (Atlassian's published shape)."""
        return {
            "atlassianAccountId": self.account_id,
            "directoryId": self.directory_id,
            "orgId": SANDBOX_ORG_ID,
            "scimUserId": self.scim_user_id,
        }


@dataclass(frozen=True, slots=True)
class OrgAccount:
    """An account of the organisation outside this directory, as a fixture lists it."""

    email: str
    account_id: str | None = None
    linked_to: str | None = None


def new_account_id() -> str:
    """A fresh Atlassian account id (24 hex digits, like classic Atlassian ids)."""
    return secrets.token_hex(12)


def email_taken(email: str) -> ScimRequestError:
    """Atlassian's 409 for an email another account or user holds (docs/atlassian.md)."""
    return ScimRequestError(
        409, f"Resource [USER]: with email[{email}] already exists", "uniqueness"
    )


def group_name_taken(name: str) -> ScimRequestError:
    """Atlassian's 409 for a group name taken anywhere in the organisation."""
    return ScimRequestError(
        409, f"Resource [GROUP]: with displayName[{name}] already exists", "uniqueness"
    )


# The directory's side ---------------------------------------------------------------


def account_for_new_user(store: SandboxStore, email: str) -> str:
    """The account a new user with this primary email is linked to; 409 if it is linked."""
    found = store.rows(sql.ACCOUNT_BY_EMAIL, (email.lower(),))
    if not found:
        account_id = new_account_id()
        store.execute(sql.PUT_ACCOUNT, (account_id, email.lower(), None, None))
        return account_id
    account_id, linked_directory, _ = found[0]
    if linked_directory is not None or store.rows(sql.USER_BY_ACCOUNT, (account_id,)):
        raise email_taken(email)
    return str(account_id)


def move_account_email(store: SandboxStore, account_id: str, email: str) -> None:
    """The user's account takes its new primary email; 409 if another account holds it."""
    found = store.rows(sql.ACCOUNT_BY_EMAIL, (email.lower(),))
    if found and found[0][0] != account_id:
        raise email_taken(email)
    store.execute(sql.PUT_ACCOUNT, (account_id, email.lower(), None, None))


def check_group_name(store: SandboxStore, name: str) -> None:
    """409 when the organisation holds this group name outside the directory."""
    if store.rows(sql.ORG_GROUP, (name.lower(),)):
        raise group_name_taken(name)


def replace_organisation(
    store: SandboxStore, accounts: Sequence[OrgAccount], group_names: Sequence[str]
) -> list[tuple[str, int, str]]:
    """Make the organisation outside the directory exactly this; the conflicts, if any.

    A conflict is ``("accounts" | "groups", index, message)``: an account or name
    that a user or group of this directory already holds. The caller rolls back
    when there are any.
    """
    conflicts: list[tuple[str, int, str]] = []
    store.execute(sql.DELETE_OUTSIDE_ACCOUNTS)
    store.execute("DELETE FROM org_groups")
    for index, account in enumerate(accounts):
        key = account.email.lower()
        if store.rows(sql.ACCOUNT_HELD, (key, account.account_id)):
            conflicts.append(("accounts", index, "is the account of a user of this directory"))
            continue
        linked_user = str(uuid.uuid4()) if account.linked_to is not None else None
        store.execute(
            sql.PUT_ACCOUNT,
            (account.account_id or new_account_id(), key, account.linked_to, linked_user),
        )
    for index, name in enumerate(group_names):
        if store.rows(sql.GROUP_BY_NAME, (name.lower(),)):
            conflicts.append(("groups", index, "is the name of a group of this directory"))
            continue
        store.execute(sql.INSERT_ORG_GROUP, (name.lower(), name))
    return conflicts


# The Admin API's side ---------------------------------------------------------------


def links_of_account(store: SandboxStore, account_id: str) -> list[ScimLink] | None:
    """Every SCIM link of this account (None: the organisation has no such account)."""
    found = store.rows(sql.ACCOUNT_BY_ID, (account_id,))
    return _links(store, *found[0]) if found else None


def links_for_email(store: SandboxStore, email: str) -> list[ScimLink]:
    """Every SCIM link of the account with this email; none when no account has it."""
    found = store.rows(sql.ACCOUNT_BY_EMAIL, (email.lower(),))
    return _links(store, *found[0]) if found else []


def _links(
    store: SandboxStore, account_id: str, linked_directory: str | None, linked_user: str | None
) -> list[ScimLink]:
    links = [
        ScimLink(account_id, SANDBOX_DIRECTORY_ID, str(row[0]))
        for row in store.rows(sql.USER_BY_ACCOUNT, (account_id,))
    ]
    if linked_directory is not None and linked_user is not None:
        links.append(ScimLink(account_id, linked_directory, linked_user))
    return links


def unlink(store: SandboxStore, directory_id: str, scim_user_id: str) -> bool:
    """Detach one SCIM user from its account; False when there is no such link.

    In this directory the SCIM user record goes with the link (Atlassian's email-change
    guide: "the user record is deleted from Atlassian SCIM side"); the account stays,
    unlinked, so a create with its email links to it again.
    """
    with store.transaction():
        if directory_id == SANDBOX_DIRECTORY_ID:
            return store.execute(sql.DELETE_USER, (scim_user_id,)) > 0
        return store.execute(sql.UNLINK_OTHER, (directory_id, scim_user_id)) > 0


def delete_scim_records(store: SandboxStore, account_id: str) -> bool:
    """Delete the account's SCIM users in every directory; False when there is no account.

    ``onlyDeleteUserInDB``: the account itself stays. Memberships go with the user
    and must be provisioned again (docs/atlassian.md "The sandbox's organisation").
    """
    with store.transaction():
        if not store.rows(sql.ACCOUNT_BY_ID, (account_id,)):
            return False
        store.execute(sql.DELETE_ACCOUNT_USER, (account_id,))
        store.execute(sql.UNLINK_ACCOUNT, (account_id,))
        return True
