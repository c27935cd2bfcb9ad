"""The Atlassian organisation around the sandbox's directory: accounts, links, domains, names.

docs/atlassian.md "The sandbox's organisation": an organisation holds Atlassian
accounts, each SCIM user of a directory is linked to one, and group names are unique
across the whole organisation. The sandbox's directory (id ``sandbox``) is one
directory of the organisation ``sandbox-org``; everything else in it comes from a
fixture (``reconciler sandbox seed``):

* An **account** is a row of ``accounts``, keyed by its lower-cased email. A user
  of this directory is linked to the account in its ``account_id`` while ``linked``;
  an account of the fixture may instead be linked to a SCIM user of another directory
  (``linked_directory``, ``linked_user``), or to none.
* Creating a user whose primary email belongs to an unlinked account links it; an
  email whose account is linked anywhere is a 409, and so is an email change onto
  another account's email. Otherwise a new account is minted. Deleting a user
  leaves its account in the organisation, unlinked, as Atlassian does.
* The **verified domains** (``org_domains``) decide which accounts the organisation
  manages: an account whose email is outside them is unmanaged. A change of an
  unmanaged account's profile, or an email moved off the verified domains, is taken
  (200) and then unlinks the SCIM user and drops its memberships (``after_update``).
  With no domains listed, every account is managed.
* ``org_groups`` are group names taken outside this directory (other directories):
  creating a group of that name is a 409. A product's default-access or built-in group
  name (``reserved_group``) is not: Atlassian answers success and never syncs it.
* ``org_caps`` are the organisation's size caps (``caps``), Atlassian's published
  maxima unless a fixture sets others.

The Admin API (``admin``) reads and removes the links through the functions at the
end. Every function here runs inside the caller's ``store.transaction()`` when it
writes.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from reconciler.dialect import ATLASSIAN, ATLASSIAN_CAPS, DirectoryCaps
from reconciler.sandbox import sql
from reconciler.sandbox.problems import ScimRequestError

if TYPE_CHECKING:
    from reconciler.sandbox.store import SandboxStore

SANDBOX_DIRECTORY_ID = "sandbox"
SANDBOX_ORG_ID = "sandbox-org"

# The attributes of a SCIM user that reach its Atlassian account (support KB "Email
# address change via User Provisioning is not reflected on Atlassian": display name,
# which first and last name make, email, organization, job title, timezone,
# department, preferred language). Changing one on an unmanaged account unlinks it.
ACCOUNT_ATTRIBUTES = (
    "displayName",
    "name",
    "title",
    "timezone",
    "department",
    "organization",
    "preferredLanguage",
)


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


def reserved_group(name: str) -> bool:
    """Whether a name is a product's default-access or built-in group name: Atlassian
    answers a create of it with success and never syncs it to the products
    (docs/atlassian.md "Groups"). The names are the dialect's, one list for both the
    plan's prediction and the sandbox's behaviour."""
    return ATLASSIAN.reserved_group(name)


# The directory's side ---------------------------------------------------------------


def domains(store: SandboxStore) -> list[str]:
    """The organisation's verified domains, lower-cased (none: every domain counts)."""
    return [str(row[0]) for row in store.rows(sql.DOMAINS)]


def managed(email: str, verified: Sequence[str]) -> bool:
    """Whether the organisation manages the account of ``email``: its domain is verified,
    or the organisation lists no domains at all."""
    return not verified or email.partition("@")[2].lower() in verified


def caps(store: SandboxStore) -> DirectoryCaps:
    """The organisation's size caps: Atlassian's published maxima (``ATLASSIAN_CAPS``:
    1 million users, 250,000 groups, 290,000 members per group, 8 million memberships),
    or the fixture's."""
    names = {f.name for f in fields(DirectoryCaps)}
    found = {str(name): int(value) for name, value in store.rows(sql.CAPS) if name in names}
    return ATLASSIAN_CAPS.overridden(**found)


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
    # An unlinked SCIM user of this directory may still name the account: it lets go.
    store.execute(
        "UPDATE users SET account_id = ? WHERE account_id = ? AND linked = 0",
        (new_account_id(), account_id),
    )
    return str(account_id)


def after_update(
    store: SandboxStore,
    user_id: str,
    account_id: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
) -> None:
    """What an accepted update (PUT or PATCH) does to the user's link and account.

    docs/atlassian.md "The organisation around the directory": a change of the profile of an
    account the organisation does not manage, or a primary email moved off its verified
    domains, is answered 200; the SCIM user is then unlinked and dropped from its
    groups, and the account keeps its old email. An unlinked user is linked again by
    an update while its email is on a verified domain. Otherwise the account takes
    the new primary email (409 if another account holds it).
    """
    (seq, linked), verified = store.rows(sql.USER_LINK, (user_id,))[0], domains(store)
    old_email, new_email = _primary(old), _primary(new)
    profile_changed = old_email.lower() != new_email.lower() or any(
        old.get(name) != new.get(name) for name in ACCOUNT_ATTRIBUTES
    )
    if (
        linked
        and profile_changed
        and not (managed(old_email, verified) and managed(new_email, verified))
    ):
        unlink_user(store, user_id, seq)
        return
    if linked or managed(new_email, verified):
        move_account_email(store, account_id, new_email)
        if not linked:
            store.execute(sql.SET_LINKED, (1, user_id))


def move_account_email(store: SandboxStore, account_id: str, email: str) -> None:
    """The user's account takes its new primary email; 409 if another account holds it."""
    found = store.rows(sql.ACCOUNT_BY_EMAIL, (email.lower(),))
    if found and found[0][0] != account_id:
        raise email_taken(email)
    store.execute(sql.PUT_ACCOUNT, (account_id, email.lower(), None, None))


def unlink_user(store: SandboxStore, user_id: str, seq: int) -> None:
    """Unlink a SCIM user of this directory from its account: the record stays, out of
    every group (ACCESS-1737: the account leaves the provisioned groups)."""
    store.execute(sql.SET_LINKED, (0, user_id))
    store.execute(sql.DROP_MEMBERSHIPS, (seq,))


def _primary(attrs: Mapping[str, Any]) -> str:
    for email in attrs.get("emails") or ():
        if email.get("primary") is True:
            return str(email.get("value"))
    return ""


def check_group_name(store: SandboxStore, name: str) -> None:
    """409 when the organisation holds this group name outside the directory.

    A product's default-access or built-in name is no 409: Atlassian answers the create
    with success (and never syncs the group), whatever else holds the name.
    """
    if not reserved_group(name) and store.rows(sql.ORG_GROUP, (name.lower(),)):
        raise group_name_taken(name)


def replace_organisation(
    store: SandboxStore,
    accounts: Sequence[OrgAccount],
    group_names: Sequence[str],
    verified: Sequence[str] = (),
    limits: Mapping[str, int] | None = None,
) -> list[tuple[str, int, str]]:
    """Make the organisation outside the directory exactly this; the conflicts, if any.

    A conflict is ``("accounts" | "groups", index, message)``: an account or name
    that a user or group of this directory already holds. The caller rolls back
    when there are any.
    """
    conflicts: list[tuple[str, int, str]] = []
    store.execute(sql.DELETE_OUTSIDE_ACCOUNTS)
    store.execute("DELETE FROM org_groups")
    store.execute("DELETE FROM org_domains")
    store.execute("DELETE FROM org_caps")
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
    store.execute_many(sql.INSERT_DOMAIN, [(domain.lower(),) for domain in verified])
    store.execute_many(sql.INSERT_CAP, sorted((limits or {}).items()))
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

    Atlassian's API reference: it "unlinks a SCIM user from their Atlassian account
    without deleting the user". In this directory the SCIM record stays, unlinked and
    out of its groups, and its next update links it again (``after_update``); the
    account stays too, so a create with its email, once the record holds another,
    links to it. (The email-change guide says the record is deleted; docs/atlassian.md
    "Unlink and delete" says why the reference wins.)
    """
    with store.transaction():
        if directory_id == SANDBOX_DIRECTORY_ID:
            found = store.rows(sql.USER_LINK, (scim_user_id,))
            if not found or not found[0][1]:
                return False
            unlink_user(store, scim_user_id, int(found[0][0]))
            return True
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
